"""Word documents as input (.docx, read from its XML; .doc and .wps through LibreOffice).

The body is read in order: a paragraph is a line of text (a row of one cell, as a PDF's
free text is), a table is a grid — one cell per `w:tc`, a cell spanning grid columns
(`gridSpan`) one cell from its first column, a cell merged down (`vMerge`) its text in
its first row and an empty continuation cell below, as a workbook's merged ranges are
read. Boxes come from the grid's column widths (and the rows' heights where set), so
the mapping can read by position. A page break (or a section's) starts a page. Each
cell knows its reference, `表3!R5C2` (the third table, its fifth row, second column),
which provenance keeps.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from ..errors import CorruptFile, TooLarge
from ..forms.numbers import clean_cell
from ..layout.page import Cell, PageText, Row

DOCX_SUFFIXES = frozenset({".docx", ".docm"})
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MAX_XML = 256 << 20  # the body's XML, inflated (a zip bomb is refused before it is)
_ROW_HEIGHT = 20.0  # points, where a row sets none
_PAGE_WIDTH = 595.0


@dataclass
class _Page:
    rows: list[Row] = field(default_factory=list)
    width: float = _PAGE_WIDTH
    height: float = 0.0


def _text(el: ET.Element) -> str:
    """A paragraph's (or a cell's) text: its runs' text, tabs as spaces, line breaks as
    line breaks, paragraphs apart."""
    parts: list[str] = []
    for node in el.iter():
        tag = node.tag
        if tag == W + "t" and node.text:
            parts.append(node.text)
        elif tag == W + "tab":
            parts.append(" ")
        elif tag == W + "br" and node.get(W + "type") != "page":
            parts.append("\n")
        elif tag == W + "p" and parts:
            parts.append("\n")
    return clean_cell("".join(parts))


def _breaks_page(el: ET.Element) -> bool:
    """A paragraph that starts a new page after it (a page break or a section's end)."""
    for node in el.iter():
        if node.tag == W + "br" and node.get(W + "type") == "page":
            return True
        if node.tag == W + "sectPr":
            return True
    return False


def _starts_page(el: ET.Element) -> bool:
    ppr = el.find(W + "pPr")
    return ppr is not None and ppr.find(W + "pageBreakBefore") is not None


def _int(el: ET.Element | None, attr: str, default: int) -> int:
    if el is None:
        return default
    try:
        return int(el.get(W + attr, default))
    except ValueError:
        return default


class WordDocument:
    """An open .docx: its body as pages of rows, one at a time."""

    def __init__(self, path: Path):
        try:
            with zipfile.ZipFile(path) as z:
                info = z.getinfo("word/document.xml")
                if info.file_size > _MAX_XML:
                    raise TooLarge(f"the document's text inflates to {info.file_size >> 20} MiB (a zip bomb?)")
                body = ET.fromstring(z.read(info)).find(W + "body")
        except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError) as exc:
            raise CorruptFile(f"cannot be read as a Word document: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")) from exc
        if body is None:
            raise CorruptFile("cannot be read as a Word document: no body")
        self._pages = list(self._read(body))

    @property
    def page_count(self) -> int:
        return len(self._pages)

    def pages(self) -> Iterator[PageText]:
        for number, page in enumerate(self._pages, start=1):
            for row in page.rows:
                row.page = number
            if page.rows:
                page.rows[0].page_break_before = True
            yield PageText(number=number, width=page.width, height=page.height, rows=page.rows)

    def close(self) -> None:
        self._pages = []

    def _read(self, body: ET.Element) -> Iterator[_Page]:
        page = _Page()
        tables = 0
        for el in body:
            if el.tag == W + "p":
                if _starts_page(el) and page.rows:
                    yield page
                    page = _Page()
                text = _text(el)
                if text:
                    page.rows.append(Row(cells=[Cell(text, (0.0, page.height, page.width, page.height + _ROW_HEIGHT), 0)],
                                         page=0, in_table=False))
                    page.height += _ROW_HEIGHT
                if _breaks_page(el) and page.rows:
                    yield page
                    page = _Page()
            elif el.tag == W + "tbl":
                tables += 1
                page.rows.extend(self._table(el, tables, page))
        if page.rows:
            yield page

    def _table(self, tbl: ET.Element, number: int, page: _Page) -> list[Row]:
        """A table's rows: cells by grid column, merged ranges as a workbook's."""
        widths = [_int(col, "w", 1000) / 20 for col in tbl.iter(W + "gridCol")] or [_PAGE_WIDTH / 8] * 8
        xs = [0.0]
        for w in widths:
            xs.append(xs[-1] + w)
        page.width = max(page.width, xs[-1])
        # First pass: each row's cells as (grid column, span, vMerge state, text)
        grid: list[list[tuple[int, int, str | None, str]]] = []
        heights: list[float] = []
        for tr in tbl.findall(W + "tr"):
            trpr = tr.find(W + "trPr")
            col = _int(trpr.find(W + "gridBefore") if trpr is not None else None, "val", 0)
            height = trpr.find(W + "trHeight") if trpr is not None else None
            heights.append(max(_ROW_HEIGHT, _int(height, "val", 0) / 20))
            cells = []
            for tc in tr.findall(W + "tc"):
                tcpr = tc.find(W + "tcPr")
                span = max(1, _int(tcpr.find(W + "gridSpan") if tcpr is not None else None, "val", 1))
                vm = tcpr.find(W + "vMerge") if tcpr is not None else None
                state = None if vm is None else (vm.get(W + "val") or "continue")
                cells.append((col, span, state, "" if state == "continue" else _text(tc)))
                col += span
            grid.append(cells)
        ys = [page.height]
        for h in heights:
            ys.append(ys[-1] + h)
        page.height = ys[-1]
        rows = []
        for r, cells in enumerate(grid):
            out = []
            for col, span, state, text in cells:
                bottom = r + 1
                if state == "restart":  # down through the rows that continue it
                    while bottom < len(grid) and any(c == col and s == "continue" for c, _, s, _ in grid[bottom]):
                        bottom += 1
                x0, x1 = xs[min(col, len(xs) - 1)], xs[min(col + span, len(xs) - 1)]
                bbox = (x0, ys[r], x1, ys[bottom])
                out.append(Cell(text, bbox, col, text_bbox=bbox if text else None, ref=f"表{number}!R{r + 1}C{col + 1}"))
            if any(c.text for c in out):
                rows.append(Row(cells=out, page=0, in_table=sum(1 for c in out if c.text) > 1))
        return rows
