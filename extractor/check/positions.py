"""Position-aware grounding: each value a reading returns is the one its cell prints.

`grounding` asks whether a value is printed *somewhere* on the form's pages; a
model that copies a target from the row above, a weight from the 年度资金总额 row
into a row printed `-`, or the level label of the next group passes that test. Here
every value is compared with the cell the grid puts at its row and column.

The grid is the rules engine's reading of the same rows: it reads each value out
of the cell at its row and column (the merged level-label cells carried down to
every row they span), so its record is the form's cells by position — with each
value the neutral grid places (`cells.with_cells`: the cell under its column's head,
in the row its name labels) replaced by that cell's where the two differ, so that
the rules reading's own slips are not the arbiter. An answer's
indicator row is the grid row whose 三级指标 cell prints its name (the k-th of
equal names for the k-th). Then, per field:

    the cell prints the same value          verified
    the cell prints '-' or nothing          invented_value  (error)
    another cell prints it                  misplaced_value (error, naming that cell)
    the page prints it outside any cell     misplaced_value (error)
    the page does not print it              left to grounding's ungrounded_value
    the answer leaves a printed cell empty  dropped_value   (error)
    a grid row no answer row names          dropped_row     (error)

With no grid (the rules engine read no funding rows and no indicator rows) nothing
can be placed: one position_unverified warning says so, and no value passes as
verified by position.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from ..findings import Code, field_zh
from ..forms.labels import label_key
from ..forms.numbers import DASHES, compact, same_value
from ..models import DepartmentForm, Finding, ProjectForm, flatten, json_value, funding_rows
from .grounding import printed_numbers, printed_text

Form = ProjectForm | DepartmentForm

NUMBERS = ("weight", "score", "level1_weight")
TEXTS = ("target", "actual")
LABELS = ("level1", "level2")
HEADER = ("project_name", "department", "implementing_unit", "total_score", "total_weight", "grade")


def _empty(value: Any) -> bool:
    """Nothing, or a dash: what a cell prints for "not applicable" (numbers.DASHES)."""
    return value is None or (isinstance(value, str) and compact(value) in DASHES)


def _shown(value: Any) -> str:
    return "nothing" if _empty(value) else repr(str(json_value(value)))


def _err(code: Code, path: str, message: str, message_zh: str, expected: Any, found: Any) -> Finding:
    return Finding(code=code, severity="error", message=message, message_zh=message_zh, field=path,
                   expected=expected, found=found)


def match_rows(names: Sequence[str], grid_names: Sequence[str]) -> list[int | None]:
    """For each answer row, the grid row whose name cell prints its name: the k-th
    grid row of that name for the k-th answer row of it, None when there is none."""
    where: dict[str, list[int]] = {}
    for j, name in enumerate(grid_names):
        where.setdefault(compact(name), []).append(j)
    seen: dict[str, int] = {}
    out: list[int | None] = []
    for name in names:
        key = compact(name)
        k = seen.get(key, 0)
        seen[key] = k + 1
        rows = where.get(key, [])
        out.append(rows[k] if k < len(rows) else None)
    return out


class _Grid:
    """The grid's cells by path, and where on it each value is printed."""

    def __init__(self, grid: Form):
        self.form = grid
        self.cells = flatten(grid.model_dump(mode="python", include={"funding", "indicators", *HEADER}))
        self.raw = {path: src.raw for path, src in grid.provenance.items() if src.raw is not None}

    def printed_at(self, value: Any, besides: str) -> str | None:
        """Another cell of the grid printing this value."""
        for path, cell in self.cells.items():
            if path != besides and not _empty(cell) and same_value(cell, value) and not path.endswith(LABELS):
                return path
        return None

    def shown(self, path: str) -> str:
        raw = self.raw.get(path)
        return repr(raw) if raw and _empty(self.cells.get(path)) else _shown(self.cells.get(path))


def _compare(path: str, value: Any, cell_path: str, grid: _Grid, numbers: frozenset[Decimal], text: str) -> Finding | None:
    cell = grid.cells.get(cell_path)
    if same_value(value, cell) or (_empty(value) and _empty(cell)):
        return None
    if _empty(value):
        return _err(Code.DROPPED_VALUE, path, f"{path} is empty, but its cell prints {_shown(cell)}",
                    f"{field_zh(path)}为空，但所在单元格印有 {_shown(cell)}", cell, None)
    if _empty(cell):
        return _err(Code.INVENTED_VALUE, path, f"{path} = {_shown(value)}, but its cell prints {grid.shown(cell_path)}",
                    f"{field_zh(path)} = {_shown(value)}，但所在单元格为 {grid.shown(cell_path)}", None, value)
    elsewhere = grid.printed_at(value, cell_path)
    if elsewhere is None:
        printed = value in numbers if isinstance(value, Decimal) else compact(str(value)) in text
        if not printed and path != "grade":
            return None  # printed nowhere: grounding's ungrounded_value names it (the grade it does not ground)
        if not printed:
            return _err(Code.UNGROUNDED_VALUE, path, f"{path} = {_shown(value)} is not printed on the form's pages; its cell prints {_shown(cell)}",
                        f"{field_zh(path)} = {_shown(value)} 在表格所在页面中找不到，所在单元格为 {_shown(cell)}", cell, value)
        elsewhere = "outside its cell"
    else:
        elsewhere = "in the cell of " + elsewhere
    return _err(Code.MISPLACED_VALUE, path, f"{path} = {_shown(value)} is printed {elsewhere}; its own cell prints {_shown(cell)}",
                f"{field_zh(path)} = {_shown(value)} 印在其他位置（{elsewhere}），所在单元格为 {_shown(cell)}", cell, value)


def _label(path: str, value: str, cell: str) -> Finding | None:
    if label_key(value or "") == label_key(cell or ""):
        return None
    return _err(Code.MISPLACED_VALUE, path, f"{path} = {_shown(value)}, but the merged cell spanning its row prints {_shown(cell)}",
                f"{field_zh(path)} = {_shown(value)}，但该行所在的合并单元格为 {_shown(cell)}", cell, value)


def has_grid(grid: Form) -> bool:
    """The rules engine read rows by position (funding or indicator rows) to place values in."""
    return bool(grid.indicators or funding_rows(grid.funding))


def check_positions(form: Form, grid: Form | None, page_text: str | Sequence[str]) -> list[Finding]:
    """Findings for the values of `form` (an answer) that are not the ones their
    cells print, by the rules engine's reading `grid` of the same rows."""
    if grid is None or not has_grid(grid):
        return [Finding(code=Code.POSITION_UNVERIFIED, severity="warning",
                        message="the form's grid could not be read (no funding or indicator rows by position): "
                                "no value could be checked against its cell",
                        message_zh="未能识别表格结构，数值无法逐格核对，请人工复核")]
    pages = (page_text,) if isinstance(page_text, str) else tuple(page_text)
    numbers = frozenset().union(*map(printed_numbers, pages))
    text = "".join(map(printed_text, pages))
    g = _Grid(grid)
    return list(_findings(form, g, numbers, text))


def _findings(form: Form, g: _Grid, numbers: frozenset[Decimal], text: str) -> Iterator[Finding]:
    answer = flatten(form.model_dump(mode="python", include={"funding", *HEADER}))
    # Funding: every cell of the rows the grid has (an answer's row the grid lacks is
    # grounding's); header values only where the grid read them (a layout without the
    # cell is not evidence that nothing is printed there), but the grade, which
    # grounding cannot check (one character is printed anywhere).
    rows = {p.rsplit(".", 1)[0] for p in g.cells if p.startswith("funding.")}
    paths = sorted({p for p in (*answer, *g.cells) if p.startswith("funding.") and p.rsplit(".", 1)[0] in rows})
    # The grade too where the grid read none: a 评分等级 the form does not print is invented.
    paths += [p for p in HEADER if not _empty(g.cells.get(p)) or p == "grade"]
    for path in paths:
        if (f := _compare(path, answer.get(path), path, g, numbers, text)) is not None:
            yield f
    grid_inds = g.form.indicators
    rows = match_rows([i.name for i in form.indicators], [i.name for i in grid_inds])
    for i, (ind, j) in enumerate(zip(form.indicators, rows)):
        if j is None:
            if grid_inds:
                yield _err(Code.MISPLACED_VALUE, f"indicators[{i}]",
                           f"indicators[{i}] ({ind.name!r}) is not a row of the form: no 三级指标 cell prints its name, so its values cannot be placed",
                           f"第{i + 1}项指标“{ind.name}”在表中找不到对应的行，其数值无法核对", None, ind.name)
            continue
        for col in LABELS:
            if (f := _label(f"indicators[{i}].{col}", getattr(ind, col), getattr(grid_inds[j], col))) is not None:
                yield f
        for col in (*TEXTS, *NUMBERS):
            if not hasattr(ind, col):
                continue
            if (f := _compare(f"indicators[{i}].{col}", getattr(ind, col), f"indicators[{j}].{col}", g, numbers, text)) is not None:
                yield f
    matched = {j for j in rows if j is not None}
    for j, ind in enumerate(grid_inds):
        if j not in matched:
            yield _err(Code.DROPPED_ROW, "indicators",
                       f"the form prints an indicator row {ind.name!r} (row {j + 1} of {len(grid_inds)}) that the reading does not have",
                       f"表中第{j + 1}行指标“{ind.name}”未被读出", ind.name, None)
