"""Irregular text renderings of the born-digital fixtures: what crawlers and copy-paste
make of a form, with its table structure lost in the ways the rules cannot undo.

The cells come from pdfplumber (`find_tables`, not the tool's own layout engine), the
text around the tables from pdfplumber's text lines, page by page in reading order:

    cell_lines   every cell on a line of its own (a crawler printing each <td>)
    spaced       a row's cells joined by one space (copied out of a PDF viewer)
    pipes        a row's cells between pipes, with no Markdown header rule
    one_line     the whole document's cells and lines run together with no separator
                 (a crawler that dropped the markup: `年度资金总额:202010100.00%10`)

    python eval/renderings.py OUT_DIR        # writes <stem>.<rendering>.txt for each document
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RENDERINGS = ("cell_lines", "spaced", "pipes", "one_line")


def _page_pieces(page) -> list[tuple[str, list[list[str]] | str]]:
    """("text", line) and ("table", rows of cells) in reading order."""
    tables = sorted(page.find_tables(), key=lambda t: t.bbox[1])
    pieces: list[tuple[str, object]] = []
    top = 0.0
    for t in tables:
        x0, t_top, x1, t_bottom = t.bbox
        if t_top > top + 1:
            above = page.crop((0, top, page.width, t_top)).extract_text() or ""
            pieces += [("text", line) for line in above.splitlines() if line.strip()]
        rows = [[(c or "").replace("\n", "") for c in row if c is not None] for row in t.extract()]
        pieces.append(("table", [r for r in rows if any(c.strip() for c in r)]))
        top = t_bottom
    if top < page.height - 1:
        below = page.crop((0, top, page.width, page.height)).extract_text() or ""
        pieces += [("text", line) for line in below.splitlines() if line.strip()]
    return pieces


def render(pdf: Path, how: str) -> str:
    import pdfplumber

    lines: list[str] = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            for kind, piece in _page_pieces(page):
                if kind == "text":
                    lines.append(piece)  # type: ignore[arg-type]
                    continue
                for row in piece:  # type: ignore[union-attr]
                    cells = [c for c in row if c.strip()]
                    if how == "cell_lines" or how == "one_line":
                        lines += cells
                    elif how == "spaced":
                        lines.append(" ".join(cells))
                    elif how == "pipes":
                        lines.append("| " + " | ".join(cells) + " |")
                    else:
                        raise ValueError(f"unknown rendering {how!r}")
    if how == "one_line":
        return "".join(line.strip() for line in lines) + "\n"
    return "\n".join(lines) + "\n"


def write_all(pdf: Path, out: Path, renderings: tuple[str, ...] = RENDERINGS) -> dict[str, Path]:
    paths = {}
    for how in renderings:
        target = out / f"{pdf.stem}.{how}.txt"
        target.write_text(render(pdf, how), encoding="utf-8")
        paths[how] = target
    return paths


def ruled_documents():
    """The born-digital fixtures pdfplumber finds ruled tables in."""
    sys.path.insert(0, str(ROOT))
    from extractor.eval_sets import load_manifest

    return [d for d in load_manifest(ROOT / "fixtures" / "pdf" / "manifest.json") if d.doc_type == "born_digital"]


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for d in ruled_documents():
        for how, path in write_all(d.path, out).items():
            print(path)
