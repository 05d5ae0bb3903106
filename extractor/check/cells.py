"""The neutral grid: a form's cells by row and column, and where each field is printed.

The rules engine's record is one reading of a form's cells; an LLM's answer is
another. Neither may be the arbiter of the other. This module places fields from
the cells alone — the column under the header label that names the field, the row
whose label cell (三级指标, or a funding row's 年度资金总额 …) prints the row's name —
so that both readings are held to the same cells:

    Cells.of(rows, kind)  the cells under the heads, by row (before any field is assigned)
    placed(form, cells)   {path: the cell that prints it}
    check_cells           an error for each value of a reading that its cell does not print
    with_cells            the rules reading with its values replaced by their cells' where
                          they differ: the grid another reading is checked against

Only by position, never by counting: a cell is under a head when its centre lies
within the head's span (boxes, on a PDF or an OCR'd page) or in the head's column
(a workbook or a text export that keeps columns), and a row is placed only where its
weight and score are figures under 分值 and 得分 (a shifted row is not). Where a head, a row or a cell
cannot be found, the field is not placed and the verdict falls back to grounding
and the checker. A target printed in three columns (性质, 值, 单位) is not placed
(its value is the three joined), nor are the merged level-label cells (carried
down to the rows they span, not printed in them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from ..findings import Code, field_zh
from ..forms.funding import funding_header_columns
from ..forms.indicators import header_columns
from ..forms.labels import label_key
from ..forms.numbers import DASHES, compact, is_number, is_number_or_dash, parse_number, same_value
from ..forms.templates import VOCAB
from ..layout.page import BBox, Cell, Row
from ..models import DepartmentForm, Finding, ProjectForm, funding_rows, json_value, path_parts, set_path
from .positions import match_rows

Form = ProjectForm | DepartmentForm

# The indicator columns placed: a value in each row's own cell (not a merged label)
INDICATOR_FIELDS = ("target", "actual", "weight", "score", "deviation_reason")
TEXTS = ("target", "actual", "deviation_reason")
WRAPS = (*TEXTS, "level1", "level2")
FUNDING_FIELDS = ("initial_budget", "annual_budget", "executed", "weight", "execution_rate", "score")


@dataclass(slots=True)  # (a value, never changed: `replace` makes another; not frozen, built ≈5× faster)
class GridCell:
    text: str
    row: int  # the row's place among the form's rows
    col: int  # the cell's place in its row
    page: int
    box: BBox | None


@dataclass(frozen=True, slots=True)
class _Head:
    field: str
    col: int | None
    x0: float | None
    x1: float | None

    def over(self, cell: Cell) -> bool:
        """The cell sits under this head: by box where both have one, else by column."""
        if self.x0 is not None and cell.bbox is not None:
            box = cell.text_bbox or cell.bbox
            return self.x0 <= (box[0] + box[2]) / 2 <= self.x1  # type: ignore[operator]
        return self.col is not None and cell.col == self.col


# What a header row's text holds, to pass over the other rows cheaply
_NAME_LABELS = tuple(label for label, n in VOCAB.indicator_columns if n == "name")
_SCORE_LABELS = tuple(label for label, n in VOCAB.indicator_columns if n == "score")
_FUNDING_LABELS = tuple(label for label, _ in VOCAB.funding_columns)


def _indicator_heads(row: Row, key: str) -> list[_Head] | None:
    if not (any(lbl in key for lbl in _NAME_LABELS) and any(lbl in key for lbl in _SCORE_LABELS)):
        return None
    heads = [_Head(c.field, c.col, c.x0, c.x1) for c in header_columns(row)]
    fields = [h.field for h in heads]
    if "name" not in fields or "score" not in fields or len(fields) != len(set(fields)):
        return None  # not an indicator header (or one whose labels repeat: no column is sure)
    if not all(h.x0 is not None or h.col is not None for h in heads):
        return None
    if "target_value" in fields or "target_op" in fields:  # (the target in three columns)
        heads = [h for h in heads if h.field not in ("target", "target_op", "target_value", "target_unit")]
    return heads


def _funding_heads(row: Row, key: str) -> list[_Head] | None:
    if sum(lbl in key for lbl in _FUNDING_LABELS) < 3:
        return None
    spans = funding_header_columns(row)
    names = [n for n, _, _ in spans]
    if len(set(names)) < 3 or len(names) != len(set(names)):
        return None
    return [_Head(n, None, x0, x1) for n, x0, x1 in spans]


def _under(row: Row, heads: list[_Head], at: int) -> dict[str, GridCell]:
    """{field: the one cell of the row under its head} (none where no cell or more than
    one is under it). (`_Head.over`, inlined: this runs for every cell of every row.)"""
    found: dict[str, tuple[int, Cell] | None] = {}  # None: more than one cell under it
    for j, c in enumerate(row.cells):
        box = c.text_bbox or c.bbox
        if box is not None:
            cx = (box[0] + box[2]) / 2
            for h in heads:
                if (h.x0 <= cx <= h.x1) if h.x0 is not None else (h.col is not None and c.col == h.col):
                    found[h.field] = (j, c) if h.field not in found else None
        else:
            for h in heads:
                if h.col is not None and c.col == h.col:
                    found[h.field] = (j, c) if h.field not in found else None
    page = row.page
    return {k: GridCell(c.text, at, c.col if c.col is not None else j, page, c.bbox)
            for k, jc in found.items() if jc is not None for j, c in (jc,)}


def _wrapped_line(cell: Cell, heads: list[_Head]) -> bool:
    """The cell is under a head of text and under no other: a line of that column's cell
    (not a line across the page, a browser's footer with the page's address, whose
    middle happens to fall under one)."""
    if not any(h.field in WRAPS and h.over(cell) for h in heads):
        return False
    box = cell.text_bbox or cell.bbox
    if box is None:
        return True
    return sum(1 for h in heads if h.x0 is not None and box[0] < (h.x0 + h.x1) / 2 < box[2]) <= 1  # type: ignore[operator]


def _figures_in_place(under: dict[str, GridCell]) -> bool:
    """The row's weight and score are figures under 分值 and 得分: a row a converter
    shifted (a merged cell dropped, its cells moved a column left) betrays itself by what
    lands there, and is not placed."""
    return all((c := under.get(k)) is not None and is_number_or_dash(c.text) for k in ("weight", "score"))


@dataclass
class Cells:
    """A form's rows as the layout stage yields them, before any field is assigned:
    indicator rows by the name their 三级指标 cell prints, funding rows by their label,
    each with its cells under the heads that name a field."""

    indicators: list[tuple[str, dict[str, GridCell]]]
    funding: dict[str, dict[str, GridCell]]

    @classmethod
    def of(cls, rows: Sequence[Row], kind: str) -> Cells:
        indicators: list[tuple[str, dict[str, GridCell]]] = []
        funding: dict[str, dict[str, GridCell]] = {}
        ind_heads: list[_Head] | None = None
        fund_heads: list[_Head] | None = None
        labels = VOCAB.project_rows if kind == "project" else VOCAB.department_rows
        for at, row in enumerate(rows):
            key = label_key(row.joined)
            if (h := _indicator_heads(row, key)) is not None:
                ind_heads, fund_heads = h, None
                continue
            if ind_heads is None and (h := _funding_heads(row, key)) is not None:
                fund_heads = h  # (the funding block is above the indicators)
                continue
            first = label_key(next((c.text for c in row.cells if c.text), ""))
            if ind_heads is not None and first.startswith((*VOCAB.total, *VOCAB.grade)):
                ind_heads = None  # (the table's total and grade: no indicator rows after them)
            elif ind_heads is not None:
                under = _under(row, ind_heads, at)
                if (name := under.get("name")) is not None and name.text:
                    if _figures_in_place(under):
                        indicators.append((name.text, {k: v for k, v in under.items() if k in INDICATOR_FIELDS}))
                elif indicators and all(_wrapped_line(c, ind_heads) for c in row.filled):
                    # A row with no name whose text is all under the heads of text (the
                    # level labels, target, actual, reason): lines of the row above's
                    # cells that a converter wrote as a row
                    last = indicators[-1][1]
                    for k in TEXTS:
                        if k in under and under[k].text and k in last:
                            last[k] = replace(last[k], text=last[k].text + under[k].text)
            elif fund_heads is not None:
                which = next((n for label, n in labels if label in first and len(first) < 20), None)
                if which is not None and which not in funding and which != "extra":
                    funding[which] = {k: c for k, c in _under(row, fund_heads, at).items() if k in FUNDING_FIELDS}
        return cls(indicators, funding)


def placed(form: Form, cells: Cells) -> dict[str, GridCell]:
    """{path of `form`: the cell that prints it} for every field the cells place: an
    indicator row by the k-th grid row printing its name, a funding row by its label."""
    out: dict[str, GridCell] = {}
    names, grid_names = [i.name for i in form.indicators], [name for name, _ in cells.indicators]
    counts, grid_counts = Counter(map(compact, names)), Counter(map(compact, grid_names))
    for i, j in enumerate(match_rows(names, grid_names)):
        # (a name the reading has as often as the cells print it: a name carried down a
        # merged cell is one cell for several rows, and no row of them is placed)
        if j is not None and counts[compact(names[i])] == grid_counts[compact(names[i])]:
            out.update({f"indicators[{i}].{k}": v for k, v in cells.indicators[j][1].items()})
    for name, _ in funding_rows(form.funding):
        for k, v in cells.funding.get(name, {}).items():
            out[f"funding.{name}.{k}"] = v
    return out


def _value(path: str, text: str) -> object:
    """A cell's text as the field holds it: a number where the field is one (text that
    is not a number kept as text, to compare unequal)."""
    if compact(text) in DASHES:
        return None
    if path.rsplit(".", 1)[1] in TEXTS:
        return text
    return parse_number(text) if is_number(text) else text


def _agrees(value: object, path: str, text: str) -> bool:
    if value == text or (isinstance(value, Decimal) and str(value) == text):
        return True  # (as printed: most values)
    cell = _value(path, text)
    empty = value is None or (isinstance(value, str) and compact(value) in DASHES)
    return (empty and cell is None) or same_value(value, cell)


def _held(form: Form, path: str) -> object:
    """The value at a path `placed` names (`indicators[2].target`, `funding.total.score`)."""
    parts = path_parts(path)
    if parts[0] == "indicators":
        return getattr(form.indicators[int(parts[1])], parts[2], None)
    row = form.funding.extra[int(parts[2])] if parts[1] == "extra" else getattr(form.funding, parts[1])
    return getattr(row, parts[-1], None)


def disagreeing(form: Form, cells: Cells) -> dict[str, tuple[GridCell, object]]:
    """{path: (its cell, the value held)} for each value of `form` that is not the one
    its cell prints."""
    out = {}
    for path, cell in placed(form, cells).items():
        value = _held(form, path)
        if not _agrees(value, path, cell.text):
            out[path] = (cell, value)
    return out


def check_cells(form: Form, cells: Cells) -> list[Finding]:
    """An error for each value a reading holds that the cell under its head, in its
    row, does not print (the reading's own mapping is not the arbiter of itself)."""
    out = []
    for path, (cell, held) in disagreeing(form, cells).items():
        shown = repr(cell.text) if compact(cell.text) not in DASHES else "nothing"
        value = json_value(held)
        out.append(Finding(code=Code.MISPLACED_VALUE, severity="error", field=path, expected=cell.text or None, found=value,
                           message=f"{path} = {value!r}, but the cell under its column's head in its row "
                                   f"(page {cell.page}, column {cell.col + 1}) prints {shown}",
                           message_zh=f"{field_zh(path)} = {value!r}，但第{cell.page}页其所在行、所在列（第{cell.col + 1}列）的单元格为 {shown}"))
    return out


def with_cells(grid: Form, cells: Cells) -> Form:
    """The rules reading as a grid to check another reading against: each value the
    cells place replaced by its cell's where the two differ."""
    wrong = disagreeing(grid, cells)
    if not wrong:
        return grid
    out = grid.model_copy(deep=True)
    for path, (cell, _) in wrong.items():
        set_path(out, path, _value(path, cell.text))
    return out
