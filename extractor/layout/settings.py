"""The layout engine's tolerances, in one validated place (as pdfplumber's
`TableSettings`). The modules read theirs from `LAYOUT` once, at import: they
run in hot loops, where a setting looked up per call would cost. Points are PDF
points (1/72 inch); OCR words are in the same units."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class LayoutSettings:
    # Rulings (grid.py)
    snap: float = 1.5  # rulings closer than this are the same line
    min_edge: float = 2.0  # a ruling shorter than this is no edge
    touch: float = 0.5  # collinear pieces this close are one edge (less than snap: no later step sees it)
    # Word alignment (alignment.py)
    step: float = 0.25  # points per sample along an axis when looking for rivers
    min_rows: int = 3  # lines with two or more cells that make a borderless table
    # Words from a text layer (read/pdf.py)
    gap_split: float = 0.25  # a gap wider than this share of the font size ends a word
    ascent: float = 0.8  # a word's box top, in font sizes above the baseline
    min_chars_for_text_layer: int = 20  # fewer characters on a page: no usable text layer

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"layout setting {f.name} must be a positive number, not {value!r}")
        if self.touch >= self.snap:
            raise ValueError("layout setting touch must be less than snap")


LAYOUT = LayoutSettings()
