"""Mapping a form's rows to the contract, by labels rather than positions.

Columns shift, labels break (`一级 指标`), the 总分 label may be missing and the
project name may sit above its label, so every section is found by its label
and every indicator row is read from the right: the last two numbers are the
weight and the score, what follows is the deviation reason, and the cells
before them are, right to left, actual, target, name, level 2 and level 1 —
as many as the row has, the rest carried down from the merged cells above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from ..layout.page import Cell, Row
from ..models import (
    DepartmentForm,
    DepartmentFunding,
    DepartmentFundingRow,
    DepartmentIndicator,
    FieldSource,
    Funding,
    FundingRow,
    Indicator,
    ProjectForm,
)
from .numbers import compact, is_number, is_number_or_dash, parse_number
from .segment import DEPARTMENT_ANCHOR, FormRows

LEVEL1_WORDS = ("产出指标", "效益指标", "满意度指标", "成本指标", "投入管理指标", "决策指标", "过程指标", "投入指标")
FUNDING_COLUMNS = ("initial_budget", "annual_budget", "executed", "weight", "execution_rate", "score")
FUNDING_HEADER_LABELS = {
    "年初预算数": "initial_budget",
    "全年预算数": "annual_budget",
    "全年执行数": "executed",
    "分数": "weight",
    "分值": "weight",
    "执行率": "execution_rate",
    "得分": "score",
}
PROJECT_FUNDING_ROWS = (("年度资金总额", "total"), ("当年财政拨款", "fiscal"), ("上年结转", "carryover"), ("其他资金", "other"))
DEPARTMENT_FUNDING_ROWS = (("财政拨款", "fiscal"), ("其他资金", "other"), ("基本支出", "basic"), ("项目支出", "project"))
GOAL_LABELS = ("预期目标", "年初设定目标")
GOAL_SKIP = {"年度总体目标", "预期目标", "实际完成情况", "年初设定目标", "全年完成情况"}
GOAL_MIN_IN_HEADER = 20  # characters: shorter text on the goal header row is a label


@lru_cache(maxsize=65536)
def _key(text: str) -> str:
    return compact(text).replace("（", "(").replace("）", ")")


def is_level_complete(text: str) -> bool:
    return not text or text.endswith("指标") or text.endswith("管理") or len(text) > 12


@dataclass
class _Reader:
    kind: str
    engine: str
    provenance: dict[str, FieldSource] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    confidence: float = 1.0

    def note(self, text: str, penalty: float = 0.0) -> None:
        self.notes.append(text)
        self.confidence = max(0.0, self.confidence - penalty)

    def source(self, path: str, row: Row, cell: Cell | None = None) -> None:
        bbox = cell.bbox if cell is not None and cell.bbox else row.bbox
        raw = cell.text if cell is not None else None
        conf = cell.confidence if cell is not None and cell.confidence < 1.0 else None
        self.provenance[path] = FieldSource.read(self.engine, row.page, bbox, raw, conf)


def _label_index(keys: list[str], label: str) -> int | None:
    """Index of the cell that is this label (a short cell starting with it), given
    the row's cell keys (`_key` of each cell's text)."""
    for i, k in enumerate(keys):
        if k.startswith(label) and len(k) <= len(label) + 10:
            return i
    return None


def _has_label(keys: list[str], *labels: str) -> bool:
    return any(_label_index(keys, label) is not None for label in labels)


def _value_after(row: Row, keys: list[str], label: str, stop: tuple[str, ...] = ()) -> Cell | None:
    i = _label_index(keys, label)
    if i is None:
        return None
    for c, k in zip(row.cells[i + 1 :], keys[i + 1 :]):
        if not c.text:
            continue
        if any(k.startswith(s) for s in stop):
            return None
        return c
    return None


# --- indicators -----------------------------------------------------------------


@dataclass
class _RawIndicator:
    row: Row
    level1: str = ""
    level2: str = ""
    name: str = ""
    target: str | None = None
    actual: str | None = None
    weight: Decimal | None = None
    score: Decimal | None = None
    reason: str | None = None
    level1_weight: Decimal | None = None
    cells: dict[str, Cell] = field(default_factory=dict)
    level1_cut_below: bool = False
    level2_cut_below: bool = False


HEADER_FIELDS = (
    ("一级指标", "level1"), ("权重", "level1_weight"), ("二级指标", "level2"), ("三级指标", "name"),
    ("年度指标值", "target"), ("实际完成值", "actual"), ("全年完成值", "actual"), ("分值", "weight"),
    ("得分", "score"), ("偏差", "deviation_reason"),
)


@dataclass
class _Column:
    field: str
    col: int | None
    x0: float | None
    x1: float | None


def header_columns(header: Row) -> list[_Column]:
    cols = []
    for c in header.cells:
        k = _key(c.text)
        for label, name in HEADER_FIELDS:
            if k.startswith(label):
                x0, x1 = (c.bbox[0], c.bbox[2]) if c.bbox else (None, None)
                cols.append(_Column(name, c.col, x0, x1))
                break
    return cols


def _positioned(columns: list[_Column]) -> bool:
    """Do the header's columns have boxes (a PDF page; a text export has none)?"""
    return all(c.x0 is not None for c in columns)


def _field_of(cell: Cell, columns: list[_Column], positioned: bool) -> str | None:
    if cell.bbox is not None and positioned:
        box = cell.text_bbox or cell.bbox
        cx = (box[0] + box[2]) / 2
        for c in columns:
            if c.x0 <= cx <= c.x1:  # type: ignore[operator]
                return c.field
        return None
    for c in columns:
        if c.col is not None and c.col == cell.col:
            return c.field
    return None


def _aligned(row: Row, columns: list[_Column], weight: Cell, score: Cell) -> dict[str, Cell] | None:
    """Cells by field when the row lines up with the header (its weight and score
    sit under 分值 and 得分); None when it does not."""
    positioned = _positioned(columns)
    if not columns or _field_of(weight, columns, positioned) != "weight" or _field_of(score, columns, positioned) != "score":
        return None
    out: dict[str, Cell] = {}
    for cell in row.cells:
        name = _field_of(cell, columns, positioned)
        if name is not None and name not in out:
            out[name] = cell
    # Text exports shift cells; a shifted row betrays itself by what lands where.
    l1 = out.get("level1")
    if l1 is not None and l1.text and not _key(l1.text).endswith(("指标", "标")) and _key(l1.text) not in LEVEL1_WORDS:
        return None
    w = out.get("level1_weight")
    if w is not None and w.text and not is_number(w.text):
        return None
    return out


def _anchor(cells: list[Cell]) -> int | None:
    """Index (in `cells`, the non-empty cells) of the weight; the score follows it."""
    n = len(cells)
    for i in (n - 2, n - 3):
        if i >= 0 and is_number(cells[i].text) and is_number(cells[i + 1].text):
            return i
    return None


def _parse_indicator_row(row: Row, kind: str, columns: list[_Column]) -> _RawIndicator | None:
    filled = row.filled
    a = _anchor(filled)
    if a is None:
        return None
    ind = _RawIndicator(row=row)
    ind.weight, ind.score = parse_number(filled[a].text), parse_number(filled[a + 1].text)
    ind.cells["weight"], ind.cells["score"] = filled[a], filled[a + 1]
    by_field = _aligned(row, columns, filled[a], filled[a + 1])
    if by_field is not None:
        for name, cell in by_field.items():
            if name in ("weight", "score") or not cell.text:
                if not cell.text and cell.cut_below and name in ("level1", "level2"):
                    setattr(ind, f"{name}_cut_below", True)
                continue
            ind.cells[name] = cell
            if name == "level1_weight":
                ind.level1_weight = parse_number(cell.text) if is_number(cell.text) else None
            elif name == "deviation_reason":
                ind.reason = cell.text
            else:
                setattr(ind, name, _key(cell.text) if name in ("level1", "level2") else cell.text)
        return ind
    if a + 2 < len(filled):
        ind.reason = filled[a + 2].text
        ind.cells["deviation_reason"] = filled[a + 2]
    before = filled[:a]
    leading_empty = bool(row.cells) and not row.cells[0].text
    # The department form prints the level-1 weight right after the level-1 name.
    if kind == "department" and len(before) >= 2 and is_number(before[1].text) and _key(before[0].text).endswith("指标"):
        ind.level1, ind.level1_weight = _key(before[0].text), parse_number(before[1].text)
        ind.cells["level1"], ind.cells["level1_weight"] = before[0], before[1]
        before = before[2:]
        names = ("level2", "name", "target", "actual")
    else:
        n = len(before)
        if n >= 5:
            names = ("level1", "level2", "name", "target", "actual")
            before = before[-5:]
        elif n == 4 and _key(before[0].text) in LEVEL1_WORDS and not leading_empty:
            names = ("level1", "name", "target", "actual")
        elif n == 4:
            names = ("level2", "name", "target", "actual")
        elif n == 3:
            names = ("name", "target", "actual")
        elif n == 2 and kind == "department":
            names = ("level2", "name")
        elif n == 2:
            names = ("target", "actual")
        elif n == 1 and kind == "department":
            names = ("level2",)
        else:
            names = ("name",)[:n]
    if kind == "department" and len(before) < len(names):
        names = names[: len(before)]
    for name, cell in zip(names, before):
        text = _key(cell.text) if name in ("level1", "level2") else cell.text
        setattr(ind, name, text)
        ind.cells[name] = cell
    return ind


def _complete_level(cur: str, piece: str) -> str | None:
    """`cur` + the shortest prefix of `piece` that ends the level name in 指标."""
    for cut in range(1, len(piece) + 1):
        if (cur + piece[:cut]).endswith("指标"):
            return cur + piece[:cut]
    return None


def _is_level_fragment(piece: str) -> bool:
    return len(piece) <= 6 and piece.endswith("标")


def _merge_fragment(prev: _RawIndicator, row: Row) -> bool:
    """A row with no numbers inside the indicator table is what a page break left
    of the row above (`满意` / `度指标`, `符合计划安` / `排`). Append each piece to
    the field it continues; return False when nothing fitted."""
    used = False
    by_col = {c.col: name for name, c in prev.cells.items() if c.col is not None}
    for cell in row.filled:
        piece = _key(cell.text)
        field_name = by_col.get(cell.col)
        if field_name in ("level1", "level2") or _is_level_fragment(piece) or field_name is None:
            # A level fragment goes to the first level name it completes, else nowhere.
            for lv in ("level1", "level2"):
                cur = getattr(prev, lv)
                if cur and not is_level_complete(cur):
                    done = _complete_level(cur, piece)
                    if done:
                        setattr(prev, lv, done)
                        used = True
                    break
            continue
        attr = "reason" if field_name == "deviation_reason" else field_name
        if attr in ("name", "target", "actual", "reason"):
            setattr(prev, attr, (getattr(prev, attr) or "") + piece)
            used = True
    return used


def _fill_levels(raw: list[_RawIndicator], reader: _Reader) -> None:
    """Carry merged level cells down to every row they span.

    Three page-layout effects are undone here: a level name cut by a page break
    (`满意` on one page, `度指标` on the next) is joined; rows printed above a
    vertically centred label get that label; and rows whose merged cell is empty
    on this page because its label landed on the next page wait for it.
    """
    for lv in ("level1", "level2"):
        groups: list[list[int]] = []  # runs of rows sharing one printed label
        values: list[str] = []
        pending: list[int] = []  # rows before any label, or in a cell cut below
        for i, r in enumerate(raw):
            val = getattr(r, lv)
            if val:
                prev = values[-1] if values else ""
                if prev and not is_level_complete(prev) and val.startswith(prev):
                    values[-1] = val  # the full name printed again below its cut start
                    groups[-1].extend(pending + [i])
                elif (
                    prev
                    and not is_level_complete(prev)
                    and len(val) <= 5
                    and (prev + val).endswith("指标")
                    and (r.row.page_break_before or (i > 0 and r.row.page != raw[i - 1].row.page))
                ):
                    reader.note(f"joined {lv} cut by a page break: {prev}+{val}")
                    values[-1] = prev + val
                    groups[-1].extend(pending + [i])
                else:
                    groups.append(pending + [i])
                    values.append(val)
                pending = []
            elif getattr(r, f"{lv}_cut_below") or not groups:
                pending.append(i)
            else:
                groups[-1].append(i)
        if pending and groups:
            groups[-1].extend(pending)
        for idxs, val in zip(groups, values):
            for i in idxs:
                setattr(raw[i], lv, val)
    # The department form's level-1 weight (one merged cell per level-1 group)
    # and its merged name cell (投入管理 block).
    weights: dict[str, Decimal] = {}
    for r in raw:
        if r.level1_weight is not None:
            weights.setdefault(r.level1, r.level1_weight)
    last_name = ""
    for r in raw:
        if r.level1_weight is None:
            r.level1_weight = weights.get(r.level1)
        if r.name:
            last_name = r.name
        elif r.target is None and r.actual is None:
            r.name = last_name
    # A merged name centred over its block (no rules to put it in the block's first
    # row) leaves the rows above it empty: they take it from below, within the group.
    below: _RawIndicator | None = None
    for r in reversed(raw):
        if r.name:
            below = r if r.target is None and r.actual is None else None
        elif below is not None and r.target is None and r.actual is None and r.level1 == below.level1:
            r.name = below.name


def _read_indicators(header: Row, rows: list[Row], reader: _Reader) -> tuple[list[_RawIndicator], int]:
    """Indicator rows until the total/grade rows; returns (rows, index after)."""
    raw: list[_RawIndicator] = []
    columns = header_columns(header)
    i = 0
    while i < len(rows):
        row = rows[i]
        key = _key(row.joined)
        if key.startswith("总分") or key.startswith("评分等级") or key.startswith("分解目标"):
            break
        if row.filled and all(is_number(c.text) for c in row.filled) and len(row.filled) == 2:
            break  # the total row without its 总分 label: "100  99.93"
        ind = _parse_indicator_row(row, reader.kind, columns)
        if ind is None:
            if raw and not (len(row.filled) >= 1 and _key(row.filled[0].text).startswith("一级指标")):
                if not _merge_fragment(raw[-1], row):
                    reader.note(f"ignored row in indicator table: {row.joined[:40]}", 0.02)
            i += 1
            continue
        if (
            raw
            and not ind.name
            and (ind.actual, ind.weight, ind.score) == (raw[-1].actual, raw[-1].weight, raw[-1].score)
        ):
            reader.note(f"dropped a repeated row: {row.joined[:40]}", 0.0)
            i += 1
            continue
        raw.append(ind)
        i += 1
    return raw, i


# --- sections --------------------------------------------------------------------


def _funding_columns(header: Row, count: int) -> tuple[str, ...]:
    labels = []
    for c in header.cells:
        k = _key(c.text)
        for label, name in FUNDING_HEADER_LABELS.items():
            if k.startswith(label):
                labels.append(name)
                break
    if len(labels) == count and len(set(labels)) == count:
        return tuple(labels)
    return FUNDING_COLUMNS[:count] if count <= 6 else FUNDING_COLUMNS


def _funding_header_columns(header: Row) -> list[tuple[str, float, float]]:
    """(field, x0, x1) of each column label on the funding header that has a box."""
    cols = []
    for c in header.cells:
        k = _key(c.text)
        name = next((n for label, n in FUNDING_HEADER_LABELS.items() if k.startswith(label)), None)
        if name and c.bbox:
            cols.append((name, c.bbox[0], c.bbox[2]))
            # Two labels in one header cell ("执行率(" and "得分" run together when word
            # alignment found no cut in a wrapped header): the span holds both
            # columns, left to right in the order the labels are read.
            for label, other in sorted(((lbl, n) for lbl, n in FUNDING_HEADER_LABELS.items() if lbl in k[1:]),
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
            if x0 <= cx <= x1 and name not in values:
                if cell.text and not is_number_or_dash(cell.text):
                    return None
                values[name] = parse_number(cell.text) if cell.text else None
                if cell.text:
                    cells[name] = cell
                break  # one column per value
    return values, cells


def _read_funding_row(row: Row, header: Row | None, header_cols: list[tuple[str, float, float]], label_idx: int,
                      kind: str) -> tuple[dict[str, Decimal | None], dict[str, Cell]]:
    if header is not None:
        placed = _funding_by_position(row, header_cols, label_idx)
        if placed is not None:
            return placed
    cells = [c for c in row.cells[label_idx + 1 :] if c.text and is_number_or_dash(c.text)]
    if kind == "department":
        cols: tuple[str, ...] = ("annual_budget", "executed", "execution_rate")[: len(cells)]
    else:
        cols = _funding_columns(header, len(cells)) if header is not None else FUNDING_COLUMNS[: len(cells)]
    values = {name: parse_number(c.text) for name, c in zip(cols, cells)}
    return values, dict(zip(cols, cells))


def map_form(fr: FormRows, engine: str = "rules") -> ProjectForm | DepartmentForm:
    reader = _Reader(kind=fr.kind, engine=engine)
    rows = fr.rows
    head: dict[str, str | None] = {}
    funding: dict[str, dict[str, Decimal | None]] = {}
    funding_unit: str | None = None
    funding_header: Row | None = None
    funding_cols: list[tuple[str, float, float]] = []
    goals: list[str] = []
    raw: list[_RawIndicator] = []
    total_weight = total = None
    grade: str | None = None
    rowmap = PROJECT_FUNDING_ROWS if fr.kind == "project" else DEPARTMENT_FUNDING_ROWS
    section = "head"
    for r in rows:  # the unit sits in the merged 项目资金 cell, wherever a page break put it
        unit_cell = next((c for c in r.cells if _key(c.text).startswith(("项目资金", "整体支出规模"))), None)
        if unit_cell is not None:
            k = _key(unit_cell.text)
            funding_unit = "万元" if "万元" in k else ("元" if "元" in k else None)
            break
    i = 0
    while i < len(rows):
        row = rows[i]
        key = _key(row.joined)
        keys = [_key(c.text) for c in row.cells]
        first = next((k for c, k in zip(row.cells, keys) if c.text), "")
        if first.startswith("项目名称"):
            c = _value_after(row, keys, "项目名称")
            if c is None:
                # The name printed above its label row.
                above = [r for r in fr.before_anchor if len(r.filled) == 1]
                if above:
                    c = above[-1].filled[0]
                    reader.note("project name read from the line above its label")
                    reader.source("project_name", above[-1], c)
            else:
                reader.source("project_name", row, c)
            head["project_name"] = c.text if c else None
        elif first.startswith(DEPARTMENT_ANCHOR):
            c = _value_after(row, keys, first[:4], stop=("下属单位",))
            head["department"] = c.text if c else None
            if c:
                reader.source("department", row, c)
            c2 = _value_after(row, keys, "下属单位")
            head["subordinate_units"] = c2.text if c2 else None
        elif _has_label(keys, "主管部门", "实施单位"):
            c = _value_after(row, keys, "主管部门", stop=("实施单位",))
            if c:
                head["department"] = c.text
                reader.source("department", row, c)
            c = _value_after(row, keys, "实施单位")
            if c:
                head["implementing_unit"] = c.text
                reader.source("implementing_unit", row, c)
        elif (section in ("head", "funding") and any(lbl in key for lbl, _ in rowmap)  # (the row first: cheap)
              and any(lbl in k and len(k) < 20 for k in keys for lbl, _ in rowmap)
              and sum(is_number_or_dash(c.text) for c in row.filled) >= 3):
            for label, name in rowmap:
                idx = next((j for j, k in enumerate(keys) if label in k), None)
                if idx is not None and name not in funding:
                    values, cells = _read_funding_row(row, funding_header, funding_cols, idx, fr.kind)
                    funding[name] = values
                    for col, cell in cells.items():
                        reader.source(f"funding.{name}.{col}", row, cell)
                    break
        elif _has_label(keys, "项目资金", "整体支出规模") or sum(_has_label(keys, lbl) for lbl in ("年初预算数", "全年预算数", "全年执行数")) >= 2:
            section = "funding"
            if sum(_has_label(keys, lbl) for lbl in ("年初预算数", "全年预算数", "全年执行数", "执行率")) >= 2:
                funding_header, funding_cols = row, _funding_header_columns(row)
        elif _has_label(keys, "分解目标"):
            section = "pre-indicators"
        elif (header := _has_label(keys, *GOAL_LABELS)) or (section == "goal" and not key.startswith("一级指标")):
            section = "goal"
            for c in row.filled:
                # On the header row only a paragraph is a value: a goal cell that reaches
                # up beside its header (rows cut by word alignment) starts there.
                if _key(c.text) not in GOAL_SKIP and (not header or len(_key(c.text)) >= GOAL_MIN_IN_HEADER):
                    goals.append(c.text)
                    reader.source(f"goal_{'expected' if len(goals) == 1 else 'actual'}", row, c)
        elif key.startswith("一级指标"):
            raw, consumed = _read_indicators(row, rows[i + 1 :], reader)
            i += 1 + consumed
            section = "tail"
            continue
        elif section == "tail" and (key.startswith("总分") or (row.filled and all(is_number(c.text) for c in row.filled))):
            nums = [c for c in row.filled if is_number(c.text)]
            if nums:
                total = parse_number(nums[-1].text)
                reader.source("total_score", row, nums[-1])
                if len(nums) >= 2:
                    total_weight = parse_number(nums[-2].text)
        elif key.startswith("评分等级"):
            c = _value_after(row, keys, "评分等级")
            grade = c.text if c else None
            if c:
                reader.source("grade", row, c)
        i += 1

    _fill_levels(raw, reader)
    if len(goals) > 2:
        reader.note(f"{len(goals)} goal cells; kept the first two", 0.05)

    indicators = []
    for n, r in enumerate(raw):
        for name, cell in r.cells.items():
            reader.source(f"indicators[{n}].{name}", r.row, cell)
        common = dict(
            level1=r.level1, level2=r.level2, name=r.name, target=r.target, actual=r.actual,
            weight=r.weight, score=r.score, deviation_reason=r.reason,
        )
        if fr.kind == "department":
            indicators.append(DepartmentIndicator(**common, level1_weight=r.level1_weight))
        else:
            indicators.append(Indicator(**common))

    base = dict(
        title=fr.title,
        year=fr.year,
        goal_expected=goals[0] if goals else None,
        goal_actual=goals[1] if len(goals) > 1 else None,
        total_score=total,
        total_weight=total_weight,
        grade=grade,
        pages=fr.pages,
        engine=engine,
        funding_unit=funding_unit,
    )
    if fr.kind == "department":
        form: ProjectForm | DepartmentForm = DepartmentForm(
            **base,
            department=head.get("department"),
            subordinate_units=head.get("subordinate_units"),
            funding=DepartmentFunding(**{k: DepartmentFundingRow(**v) for k, v in funding.items()}),
            indicators=indicators,
        )
    else:
        form = ProjectForm(
            **base,
            project_name=head.get("project_name"),
            department=head.get("department"),
            implementing_unit=head.get("implementing_unit"),
            funding=Funding(**{k: FundingRow(**v) for k, v in funding.items()}),
            indicators=indicators,
        )
    for required, value in (("indicators", indicators), ("total_score", total), ("funding", funding)):
        if not value:
            reader.note(f"no {required} found", 0.3)
    form.notes = reader.notes
    form.confidence = round(reader.confidence, 3)
    form.provenance = reader.provenance
    return form
