"""The funding block (项目资金 / 整体支出规模): its rows and their columns."""

from __future__ import annotations

from decimal import Decimal

from ..layout.page import Cell, Row
from .labels import label_key
from .numbers import is_number_or_dash, parse_number
from .templates import VOCAB

FUNDING_COLUMNS = ("initial_budget", "annual_budget", "executed", "weight", "execution_rate", "score")
FUNDING_HEADER_LABELS = VOCAB.funding_columns  # (label, column), longest label first
PROJECT_FUNDING_ROWS = VOCAB.project_rows
DEPARTMENT_FUNDING_ROWS = VOCAB.department_rows


def _funding_columns(header: Row, count: int) -> tuple[str, ...]:
    labels = []
    for c in header.cells:
        k = label_key(c.text)
        for label, name in FUNDING_HEADER_LABELS:
            if k.startswith(label) and name != "reason":
                labels.append(name)
                break
    if len(labels) == count and len(set(labels)) == count:
        return tuple(labels)
    return FUNDING_COLUMNS[:count] if count <= 6 else FUNDING_COLUMNS


def header_fields(header: Row) -> list[str]:
    """The funding columns a header prints, by their labels."""
    out = []
    for c in header.cells:
        k = label_key(c.text)
        name = next((n for label, n in FUNDING_HEADER_LABELS if k.startswith(label)), None)
        if name is not None and name not in out:
            out.append(name)
    return out


def funding_header_columns(header: Row) -> list[tuple[str, float, float]]:
    """(field, x0, x1) of each column label on the funding header that has a box."""
    cols = []
    for c in header.cells:
        k = label_key(c.text)
        name = next((n for label, n in FUNDING_HEADER_LABELS if k.startswith(label)), None)
        if name and c.bbox:
            cols.append((name, c.bbox[0], c.bbox[2]))
            # Two labels in one header cell ("执行率(" and "得分" run together when word
            # alignment found no cut in a wrapped header): the span holds both
            # columns, left to right in the order the labels are read.
            for label, other in sorted(((lbl, n) for lbl, n in FUNDING_HEADER_LABELS if lbl in k[1:]),
                                       key=lambda ln: k.index(ln[0], 1)):
                if other != name:
                    cols.append((other, c.bbox[0], c.bbox[2]))
    return cols


def _funding_by_position(row: Row, cols: list[tuple[str, float, float]], label_idx: int) -> tuple[dict[str, Decimal | None], dict[str, Cell]] | None:
    """Values under the header's column labels, by x — robust to a dash the OCR dropped."""
    if len(cols) < 3 or not all(c.bbox for c in row.cells):
        return None
    values: dict[str, Decimal | None] = {}
    cells: dict[str, Cell] = {}
    for cell in row.cells[label_idx + 1 :]:
        box = cell.text_bbox or cell.bbox
        cx = (box[0] + box[2]) / 2
        for name, x0, x1 in cols:
            # (a 原因 cell merged wider than its header starts under it)
            if (x0 <= cx <= x1 or (name == "reason" and x0 - 1 <= cell.bbox[0] <= x1)) and name not in values:
                if name == "reason":  # (text, as printed)
                    values[name] = cell.text or None
                elif cell.text and not is_number_or_dash(cell.text):
                    return None
                else:
                    values[name] = parse_number(cell.text) if cell.text else None
                if cell.text:
                    cells[name] = cell
                break  # one column per value
    return values, cells


def _funding_by_column(row: Row, header: Row, label_idx: int) -> tuple[dict[str, Decimal | None], dict[str, Cell]] | None:
    """Values under the header's column labels by column index, where the header and the
    row line up (a text export with no boxes): a merged cell written into every column
    it spans (`全年预算数|全年预算数`, `82,368,086.83|82,368,086.83`, as converters do)
    is one value. None where anything does not line up."""
    runs: dict[int, str] = {}  # column → field, over each label's run of columns
    for c in header.cells:
        k = label_key(c.text)
        name = next((n for label, n in FUNDING_HEADER_LABELS if k.startswith(label)), None)
        if name is not None and c.col is not None:
            runs[c.col] = name
    if len(set(runs.values())) < 3:
        return None
    values: dict[str, Decimal | None] = {}
    cells: dict[str, Cell] = {}
    label = row.cells[label_idx].text if label_idx >= 0 else None  # (-1: a row with no label)
    before = label
    for cell in row.cells[label_idx + 1 :]:
        left, before = before, cell.text or before
        if not cell.text or cell.text == label:  # (the row's label, repeated across its merged cell)
            continue
        name = runs.get(cell.col) if cell.col is not None else None
        if name is None and cell.text == left:
            continue  # (the cell to its left repeated past the header's last label: pymupdf4llm's `9.93|9.93` under `得分|`)
        if name == "reason":
            values.setdefault("reason", cell.text)
            cells.setdefault("reason", cell)
            continue
        if name is None or not is_number_or_dash(cell.text):
            return None
        value = parse_number(cell.text)
        if name in values and values[name] != value:
            return None  # two values under one label: the columns do not line up
        values[name] = value
        cells.setdefault(name, cell)
    if not any(name in runs.values() and name in values for name in ("annual_budget", "executed")):
        return None
    return values, cells


def read_funding_row(row: Row, header: Row | None, header_cols: list[tuple[str, float, float]], label_idx: int,
                      kind: str) -> tuple[dict[str, Decimal | None], dict[str, Cell]]:
    if header is not None:
        placed = _funding_by_position(row, header_cols, label_idx) or _funding_by_column(row, header, label_idx)
        if placed is not None:
            return placed
    cells = [c for c in row.cells[label_idx + 1 :] if c.text and is_number_or_dash(c.text)]
    if kind == "department":
        cols: tuple[str, ...] = ("annual_budget", "executed", "execution_rate")[: len(cells)]
    else:
        cols = _funding_columns(header, len(cells)) if header is not None else FUNDING_COLUMNS[: len(cells)]
    values = {name: parse_number(c.text) for name, c in zip(cols, cells)}
    return values, dict(zip(cols, cells))
