"""Workbooks as input (.xlsx; .xls through LibreOffice): every sheet a page, its
cells and merged ranges giving the grid exactly.

A sheet becomes the same page model a PDF page's grid gives: a row per sheet row,
a cell per merged range or single cell, placed at the boxes the column widths and
row heights give it (in points), a merged range's text in its top row and an
empty continuation cell below, as `layout.grid.words_to_rows` makes them. Each
cell knows its reference (`自评表!F12`), which provenance keeps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from ..errors import CorruptFile
from ..layout.page import Cell, PageText, Row

XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
XLS_SUFFIXES = frozenset({".xls"})
_POINTS_PER_WIDTH = 5.6  # an Excel column-width unit (one '0' at the default font), in points
_DEFAULT_WIDTH, _DEFAULT_HEIGHT = 8.43, 15.0
_DECIMALS = re.compile(r"0\.(0+)")


def number_text(value: float | int, fmt: str) -> str:
    """A number as the sheet prints it: the decimals and percent of its number format
    ('0.00', '#,##0.00', '0.0%'), the shortest exact form for 'General'."""
    fmt = (fmt or "General").split(";")[0]
    m = _DECIMALS.search(fmt)
    places = len(m.group(1)) if m else (0 if "0" in fmt and fmt != "General" else None)
    if "%" in fmt:
        value = value * 100
    if places is None:  # General: what Excel shows for a typed number
        text = f"{value:.10g}" if isinstance(value, float) else str(value)
    else:
        text = f"{value:,.{places}f}" if "," in fmt else f"{value:.{places}f}"
    return text + ("%" if "%" in fmt else "")


def cell_text(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return number_text(value, cell.number_format)
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d")
    return " ".join(str(value).split())


def _sheet_page(ws, number: int) -> PageText:
    """One sheet as a page."""
    from openpyxl.utils import get_column_letter

    max_row, max_col = ws.max_row, ws.max_column
    xs = [0.0]
    for c in range(1, max_col + 1):
        dim = ws.column_dimensions.get(get_column_letter(c))
        width = dim.width if dim is not None and dim.width else _DEFAULT_WIDTH
        xs.append(xs[-1] + (0.0 if dim is not None and dim.hidden else width * _POINTS_PER_WIDTH))
    ys = [0.0]
    for r in range(1, max_row + 1):
        dim = ws.row_dimensions.get(r)
        height = dim.height if dim is not None and dim.height else _DEFAULT_HEIGHT
        ys.append(ys[-1] + (0.0 if dim is not None and dim.hidden else height))
    spans: dict[tuple[int, int], tuple[int, int]] = {}  # top-left → bottom-right
    covered: set[tuple[int, int]] = set()
    for rng in ws.merged_cells.ranges:
        spans[(rng.min_row, rng.min_col)] = (rng.max_row, rng.max_col)
        covered.update((r, c) for r in range(rng.min_row, rng.max_row + 1) for c in range(rng.min_col, rng.max_col + 1))
    by_row: list[list[Cell]] = [[] for _ in range(max_row + 1)]
    for r in range(1, max_row + 1):
        for c in range(1, max_col + 1):
            if (r, c) in covered and (r, c) not in spans:
                continue  # inside a merged range: its top-left cell speaks for it
            r1, c1 = spans.get((r, c), (r, c))
            bbox = (xs[c - 1], ys[r - 1], xs[c1], ys[r1])
            ref = f"{ws.title}!{get_column_letter(c)}{r}"
            cell = ws.cell(row=r, column=c)
            by_row[r].append(Cell(cell_text(cell), bbox, c - 1, text_bbox=bbox, ref=ref))
            for rr in range(r + 1, r1 + 1):  # the rows a merged range continues into
                by_row[rr].append(Cell("", bbox, c - 1, ref=ref))
    rows = []
    for r in range(1, max_row + 1):
        cells = sorted(by_row[r], key=lambda cell: cell.col)
        if any(cell.text for cell in cells):
            rows.append(Row(cells=cells, page=number, in_table=sum(1 for cell in cells if cell.text) > 1))
    if rows:
        rows[0].page_break_before = True
    return PageText(number=number, width=xs[-1], height=ys[-1], rows=rows)


class Workbook:
    """An open workbook: its sheets as pages, one at a time."""

    def __init__(self, path: Path):
        from openpyxl import load_workbook

        try:
            # data_only: a formula's value as last computed (what the sheet shows)
            self._wb = load_workbook(path, read_only=False, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, openpyxl's InvalidFileException …
            raise CorruptFile(f"cannot be read as a workbook: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")) from exc
        self.sheet_names = [ws.title for ws in self._wb.worksheets if ws.sheet_state == "visible"]

    @property
    def page_count(self) -> int:
        return len(self.sheet_names)

    def pages(self) -> Iterator[PageText]:
        for number, name in enumerate(self.sheet_names, start=1):
            yield _sheet_page(self._wb[name], number)

    def close(self) -> None:
        self._wb.close()
