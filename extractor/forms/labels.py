"""Finding a form's parts by their printed labels.

Labels break (`一级 指标`), mix full- and half-width brackets and carry units, so
every comparison is on a label key: the text with whitespace removed and brackets
made half-width. `FormReader` collects what a reading has to say besides the
values: where each was read, what was guessed, how sure it is.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import TypeAdapter

from ..layout.page import Cell, Doubt, Row
from ..models import FieldSource
from .numbers import compact
from .templates import VOCAB

LEVEL1_WORDS = VOCAB.level1_words


# A label's number before it: `2.`, `(1)`, `一、`, `(一)` (2.项目实施内容及过程概述)
ENUMERATED = re.compile(r"^(?:\d{1,2}[.、]|\(\d{1,2}\)|[一二三四五六七八九十][、.]|\([一二三四五六七八九十]\))")


@lru_cache(maxsize=65536)
def label_key(text: str) -> str:
    return compact(text).replace("（", "(").replace("）", ")")


def is_level_complete(text: str) -> bool:
    return not text or text.endswith("指标") or text.endswith("管理") or len(text) > 12


@dataclass
class FormReader:
    """What one form's reading notes besides its values."""

    kind: str
    engine: str
    # Where each value was read, as FieldSource's fields: validated once, with the form
    # (`sources`), not value by value (≈100 a form; a model built for each was 3% of a page).
    provenance: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    confidence: float = 1.0
    doubted: dict[str, Doubt] = field(default_factory=dict)  # fields read from a cell whose text may not be its own
    labelled: set[str] = field(default_factory=set)  # fields whose label the reading found (their value may be empty)
    path_of: dict[int, str] = field(default_factory=dict)  # a cell read as a value (its id) → the field it went to

    def note(self, text: str, penalty: float = 0.0) -> None:
        self.notes.append(text)
        self.confidence = max(0.0, self.confidence - penalty)

    def source(self, path: str, row: Row, cell: Cell | None = None) -> None:
        bbox = cell.bbox if cell is not None and cell.bbox else row.bbox
        raw = cell.text if cell is not None else None
        conf = cell.confidence if cell is not None and cell.confidence < 1.0 else None
        ref = cell.ref if cell is not None else None
        if cell is not None:
            self._claim(path, cell)
        self.provenance[path] = {"engine": self.engine, "page": row.page, "bbox": bbox, "raw": raw, "confidence": conf, "cell": ref}

    def also(self, path: str, cell: Cell) -> None:
        """A further cell of a value printed in several (a target's operator and unit
        beside its figure, a cell's pieces across a page break): its doubt and its
        reading's confidence are the value's too — the least sure part is how sure the
        value is (an operator cell's `≥` read `>` at 0.55 beside a figure read at 0.99)."""
        self._claim(path, cell)
        src = self.provenance.get(path)
        if src is not None and cell.confidence < 1.0 and (src["confidence"] is None or cell.confidence < src["confidence"]):
            src["confidence"] = cell.confidence

    def _claim(self, path: str, cell: Cell) -> None:
        """The cell was read into `path` (its first field keeps it): a doubt on it is the value's."""
        self.path_of.setdefault(id(cell), path)
        if cell.doubt is not None:
            self.doubted.setdefault(path, cell.doubt)

    def sources(self) -> dict[str, FieldSource]:
        """The provenance as the record keeps it."""
        return _SOURCES.validate_python(self.provenance)


_SOURCES = TypeAdapter(dict[str, FieldSource])


def label_index(keys: list[str], label: str) -> int | None:
    """Index of the cell that is this label (a short cell starting with it), given
    the row's cell keys (`_key` of each cell's text)."""
    for i, k in enumerate(keys):
        if k.startswith(label) and len(k) <= len(label) + 10:
            return i
    return None


def has_label(keys: list[str], *labels: str) -> bool:
    return any(label_index(keys, label) is not None for label in labels)


def value_after(row: Row, keys: list[str], label: str, stop: tuple[str, ...] = ()) -> Cell | None:
    """The first cell after the label's with text — not one that repeats the label (a
    merged label cell written into every column it spans, as converters do)."""
    i = label_index(keys, label)
    if i is None:
        return None
    for c, k in zip(row.cells[i + 1 :], keys[i + 1 :]):
        if not c.text or k == keys[i]:
            continue
        if any(k.startswith(s) for s in stop):
            return None
        return c
    return None
