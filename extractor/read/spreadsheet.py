"""Workbooks as input (.xlsx; .xls through LibreOffice): every sheet a page, its
cells and merged ranges giving the grid exactly.

A sheet becomes the same page model a PDF page's grid gives: a row per sheet row,
a cell per merged range or single cell, placed at the boxes the column widths and
row heights give it (in points), a merged range's text in its top row and an
empty continuation cell below, as `layout.grid.words_to_rows` makes them. Each
cell knows its reference (`自评表!F12`), which provenance keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from ..errors import CorruptFile
from ..layout.page import Cell, PageText, Row
from .numfmt import Unreadable, format_number

XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
XLS_SUFFIXES = frozenset({".xls"})
_POINTS_PER_WIDTH = 5.6  # an Excel column-width unit (one '0' at the default font), in points
_DEFAULT_WIDTH, _DEFAULT_HEIGHT = 8.43, 15.0


def cell_text(cell) -> str:
    """The cell as the sheet shows it; Unreadable for a number format not understood."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return format_number(value, cell.number_format)
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d")
    return " ".join(str(value).split())


def _sheet_page(ws, number: int) -> tuple[PageText, list[str]]:
    """One sheet as a page, and what was not read as shown (notes): its hidden rows and
    columns (skipped), cells whose number format is not understood (their value is
    shown as `?` and the form gets an unread_text error)."""
    from openpyxl.utils import get_column_letter

    max_row, max_col = ws.max_row, ws.max_column
    xs = [0.0]
    hidden_cols: set[int] = set()
    for c in range(1, max_col + 1):
        dim = ws.column_dimensions.get(get_column_letter(c))
        width = dim.width if dim is not None and dim.width else _DEFAULT_WIDTH
        if dim is not None and dim.hidden:
            hidden_cols.add(c)
        xs.append(xs[-1] + (0.0 if c in hidden_cols else width * _POINTS_PER_WIDTH))
    ys = [0.0]
    hidden_rows: set[int] = set()
    for r in range(1, max_row + 1):
        dim = ws.row_dimensions.get(r)
        height = dim.height if dim is not None and dim.height else _DEFAULT_HEIGHT
        if dim is not None and dim.hidden:
            hidden_rows.add(r)
        ys.append(ys[-1] + (0.0 if r in hidden_rows else height))
    notes = []
    if hidden_rows:
        notes.append(f"sheet {ws.title}: hidden rows {_ranges(hidden_rows)} skipped (not printed)")
    if hidden_cols:
        notes.append(f"sheet {ws.title}: hidden columns {', '.join(get_column_letter(c) for c in sorted(hidden_cols))} skipped (not printed)")
    spans: dict[tuple[int, int], tuple[int, int]] = {}  # top-left → bottom-right
    covered: set[tuple[int, int]] = set()
    for rng in ws.merged_cells.ranges:
        spans[(rng.min_row, rng.min_col)] = (rng.max_row, rng.max_col)
        covered.update((r, c) for r in range(rng.min_row, rng.max_row + 1) for c in range(rng.min_col, rng.max_col + 1))
    by_row: list[list[Cell]] = [[] for _ in range(max_row + 1)]
    for r in range(1, max_row + 1):
        if r in hidden_rows:
            continue
        for c in range(1, max_col + 1):
            if (r, c) in covered and (r, c) not in spans or c in hidden_cols:
                continue  # inside a merged range (its top-left cell speaks for it), or hidden
            r1, c1 = spans.get((r, c), (r, c))
            bbox = (xs[c - 1], ys[r - 1], xs[c1], ys[r1])
            ref = f"{ws.title}!{get_column_letter(c)}{r}"
            cell = ws.cell(row=r, column=c)
            try:
                text = cell_text(cell)
            except Unreadable as exc:
                text = "?"  # (no guess: the form's unread_text error names the cell)
                notes.append(f"{ref}: its number format {cell.number_format!r} is not understood ({exc}); shown as '?'")
            by_row[r].append(Cell(text, bbox, c - 1, text_bbox=bbox, ref=ref))
            for rr in range(r + 1, r1 + 1):  # the rows a merged range continues into
                by_row[rr].append(Cell("", bbox, c - 1, ref=ref))
    rows = []
    for r in range(1, max_row + 1):
        cells = sorted(by_row[r], key=lambda cell: cell.col)
        if any(cell.text for cell in cells):
            rows.append(Row(cells=cells, page=number, in_table=sum(1 for cell in cells if cell.text) > 1))
    if rows:
        rows[0].page_break_before = True
    return PageText(number=number, width=xs[-1], height=ys[-1], rows=rows), notes


def _ranges(numbers: set[int]) -> str:
    out, run = [], []
    for n in sorted(numbers):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(out)


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
        self.notes: list[str] = []  # what was not read as the sheets show it (hidden rows, formats)

    @property
    def page_count(self) -> int:
        return len(self.sheet_names)

    def pages(self) -> Iterator[PageText]:
        for number, name in enumerate(self.sheet_names, start=1):
            page, notes = _sheet_page(self._wb[name], number)
            self.notes += notes
            yield page

    def close(self) -> None:
        self._wb.close()
