"""The indicator table: rows of 一级/二级/三级指标, targets, actuals, weights and scores.

Every indicator row is read from the right: the last two numbers are the weight
and the score, what follows is the deviation reason, and the cells before them
are, right to left, actual, target, name, level 2 and level 1 — as many as the
row has, the rest carried down from the merged cells above. Where the header's
columns have boxes (a PDF page), a row that lines up with them is read by column.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

from ..layout.page import Cell, Row
from .labels import LEVEL1_WORDS, FormReader, is_level_complete, label_key
from .templates import VOCAB
from .numbers import is_number, parse_number


@dataclass
class RawIndicator:
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
    # A target printed in three columns (Sichuan: 指标性质 | 指标值 | 度量单位)
    target_op: str | None = None
    target_value: str | None = None
    target_unit: str | None = None
    # Chongqing: 调整指标值, 得分系数 (as printed: 100%), 是否核心指标
    target_adjusted: str | None = None
    score_rate: str | None = None
    core: str | None = None
    cells: dict[str, Cell] = field(default_factory=dict)
    level1_cut_below: bool = False
    level2_cut_below: bool = False
    assembled: set[str] = field(default_factory=set)  # fields joined from pieces (a page break cut them)
    pieces: list[tuple[str, Cell]] = field(default_factory=list)  # (field, cell) of the pieces joined in
    joined_mid_page: set[str] = field(default_factory=set)  # text fields joined with a row that no page break cut
    repeated_name: bool = False  # its name cell repeated the level label beside it (a converter's merged cell)
    levels_absent: bool = False  # no level labels of its own past a page break, none printed since (carried across it)
    cell_dropped: bool = False  # read by order, one cell short: target or actual not in the text, which not known



_TABLE_ENDS = (*VOCAB.total, *VOCAB.grade, *VOCAB.breakdown)  # rows that end the indicator table
_POINTS = re.compile(r"^(.+?)\((\d+(?:\.\d+)?)分\)$")  # 产出指标(50分): a level-1 cell with its points
_NUMBERED = re.compile(r"^(指标\s*\d{1,3})\s*[:：、.]\s*(?=\S)")  # 指标1:… : a name with its number
# 指标性质 as Sichuan prints it: an operator, or 定性 (a word target: its value alone)
QUALITATIVE = ("定性", "定性指标")
_OPERATOR = re.compile(r"^(?:[=≥≤><≧≦]{1,2}|定量(?:指标)?|(?:不)?(?:大于|小于|等于|低于|高于|少于|超过|多于)(?:或)?(?:等于)?)$")


def is_operator(text: str) -> bool:
    """An 指标性质 cell that is an operator (≥, 大于等于) or 定性: anything else there
    (正向指标) is no part of the target and stays unread."""
    k = label_key(text)
    return bool(_OPERATOR.match(k)) or k in QUALITATIVE


def split_points(key: str) -> tuple[str, Decimal | None]:
    """A level-1 label and the points its cell prints (`产出指标(50分)` → 产出指标, 50)."""
    m = _POINTS.match(key)
    if m and m.group(1).endswith(("指标", "标")) or m and m.group(1) in LEVEL1_WORDS:
        return m.group(1), parse_number(m.group(2))
    return key, None


def split_number(name: str) -> tuple[str | None, str]:
    """A name and the number printed before it (`指标1:案件数` → 指标1, 案件数)."""
    m = _NUMBERED.match(name)
    return (m.group(1).replace(" ", ""), name[m.end():]) if m else (None, name)


def join_target(op: str | None, value: str | None, unit: str | None) -> str | None:
    """The target a three-column template prints, in printed order: `≥` `90` `%` → ≥90%;
    a word target (定性) is its value alone."""
    if not value:
        return None
    if op is None or label_key(op) in QUALITATIVE:
        return value
    return f"{op}{value}{unit or ''}"


@dataclass
class _Column:
    field: str
    col: int | None
    x0: float | None
    x1: float | None


def header_columns(header: Row) -> list[_Column]:
    cols: list[_Column] = []
    for c in header.cells:
        k = label_key(c.text)
        for label, name in VOCAB.indicator_columns:
            if k.startswith(label):
                if name == "weight" and cols and cols[-1].field == "level1":
                    name = "level1_weight"  # 权重 beside 一级指标: the department form's level-1 weight
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
    return _under_heads(row, columns, positioned)


def _one_figure_lost(row: Row, columns: list[_Column]) -> dict[str, Cell] | None:
    """Cells by field on a page whose header has boxes, where the cell under 分值 or the
    one under 得分 is empty and the other holds a figure: the last two figures of the row
    are then another column's and the score (Chongqing's 得分系数 `100%` and `5.00`, a
    150-dpi scan having lost the `5` of its weight), and read by their order the row's
    name went to level 1 and its unit to level 2, silently. Under the heads, the empty
    one is read as printed: nothing (its field named missing). None otherwise."""
    if not columns or not _positioned(columns):
        return None
    out = _under_heads(row, columns, True)
    w, s = (out.get("weight"), out.get("score")) if out is not None else (None, None)
    if w is None or s is None or bool(w.text) == bool(s.text) or not is_number(w.text or s.text):
        return None
    return out


def _under_heads(row: Row, columns: list[_Column], positioned: bool) -> dict[str, Cell] | None:
    """The row's cells by the head they sit under; None where what lands where betrays a
    shifted row."""
    out: dict[str, Cell] = {}
    for cell in row.cells:
        name = _field_of(cell, columns, positioned)
        if name is not None and name not in out:
            out[name] = cell
    # Text exports shift cells; a shifted row betrays itself by what lands where.
    l1 = out.get("level1")
    key = split_points(label_key(l1.text))[0] if l1 is not None and l1.text else ""
    if key and not key.endswith(("指标", "标")) and key not in LEVEL1_WORDS:
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


def _points_of(ind: RawIndicator, cell: Cell, points: Decimal | None) -> None:
    """The level-1 cell's points (`产出指标(50分)`, Anhui) are the level-1 weight, read from
    that cell. Where it prints a figure that is no points (`网总度指标(5`: a scan lost `分)`),
    the weight is not read, and the cell is still where it was printed: its doubt and
    confidence name the weight too (it was missing, silently)."""
    if points is not None:
        ind.level1_weight, ind.cells["level1_weight"] = points, cell
    elif "level1_weight" not in ind.cells and any(ch.isdigit() for ch in cell.text):
        ind.cells["level1_weight"] = cell


LEVEL2_WORDS = frozenset(VOCAB.level2_words) - frozenset(LEVEL1_WORDS)  # (成本指标 is both: a name is never)


def _is_level(cell: Cell, words: Collection[str]) -> bool:
    return label_key(cell.text) in words


def _parse_indicator_row(row: Row, kind: str, columns: list[_Column]) -> RawIndicator | None:
    filled = row.filled
    a = _anchor(filled)
    if a is None:
        return None
    ind = RawIndicator(row=row)
    ind.weight, ind.score = parse_number(filled[a].text), parse_number(filled[a + 1].text)
    ind.cells["weight"], ind.cells["score"] = filled[a], filled[a + 1]
    by_field = _aligned(row, columns, filled[a], filled[a + 1])
    if by_field is None and (by_field := _one_figure_lost(row, columns)) is not None:
        w, s = by_field["weight"], by_field["score"]
        ind.weight, ind.score = (parse_number(c.text) if c.text else None for c in (w, s))
        ind.cells["weight"], ind.cells["score"] = w, s
    if by_field is not None:
        for name, cell in by_field.items():
            if name in ("weight", "score") or not cell.text:
                if not cell.text and cell.cut_below and name in ("level1", "level2"):
                    setattr(ind, f"{name}_cut_below", True)
                continue
            if name == "target_op" and not is_operator(cell.text):
                continue
            ind.cells[name] = cell
            if name == "level1_weight":
                ind.level1_weight = parse_number(cell.text) if is_number(cell.text) else None
            elif name == "deviation_reason":
                ind.reason = cell.text
            elif name == "level1":
                ind.level1, points = split_points(label_key(cell.text))
                _points_of(ind, cell, points)
            else:
                setattr(ind, name, label_key(cell.text) if name == "level2" else cell.text)
        return ind
    if a + 2 < len(filled):
        ind.reason = filled[a + 2].text
        ind.cells["deviation_reason"] = filled[a + 2]
    before = filled[:a]
    leading_empty = bool(row.cells) and not row.cells[0].text
    # The department form prints the level-1 weight right after the level-1 name.
    if kind == "department" and len(before) >= 2 and is_number(before[1].text) and label_key(before[0].text).endswith("指标"):
        ind.level1, ind.level1_weight = label_key(before[0].text), parse_number(before[1].text)
        ind.cells["level1"], ind.cells["level1_weight"] = before[0], before[1]
        before = before[2:]
        names = ("level2", "name", "target", "actual")
    else:
        n = len(before)
        if n >= 5:
            names = ("level1", "level2", "name", "target", "actual")
            before = before[-5:]
        elif n == 4 and _is_level(before[0], LEVEL1_WORDS) and _is_level(before[1], LEVEL2_WORDS) and not leading_empty:
            names, ind.cell_dropped = ("level1", "level2", "name", "target"), True
        elif n == 4 and _is_level(before[0], LEVEL1_WORDS) and not leading_empty:
            names = ("level1", "name", "target", "actual")
        elif n == 4:
            names = ("level2", "name", "target", "actual")
        elif n == 3 and _is_level(before[0], LEVEL2_WORDS):
            # A text that leaves empty cells out (a crawler's `a | b |` rows) and a row
            # that opens a level-2 group: its label, its name, and one of target and
            # actual, which one the text does not say (the row is named).
            names, ind.cell_dropped = ("level2", "name", "target"), True
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
        text = label_key(cell.text) if name in ("level1", "level2") else cell.text
        if name == "level1":
            text, points = split_points(text)
            _points_of(ind, cell, points)
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


def _merge_fragment(prev: RawIndicator, row: Row) -> bool:
    """A row with no numbers inside the indicator table is what a page break left
    of the row above (`满意` / `度指标`, `符合计划安` / `排`). Append each piece to
    the field it continues; return False when nothing fitted."""
    used = False
    by_col = {c.col: name for name, c in prev.cells.items() if c.col is not None}
    for cell in row.filled:
        piece = label_key(cell.text)
        field_name = by_col.get(cell.col)
        if field_name in ("level1", "level2") or _is_level_fragment(piece) or field_name is None:
            # A level fragment goes to the first level name it completes, else nowhere.
            for lv in ("level1", "level2"):
                cur = getattr(prev, lv)
                if cur and not is_level_complete(cur):
                    done = _complete_level(cur, piece)
                    if done:
                        setattr(prev, lv, done)
                        prev.assembled.add(lv)
                        prev.pieces.append((lv, cell))
                        used = True
                    break
            continue
        attr = "reason" if field_name == "deviation_reason" else field_name
        if attr in ("name", "target", "actual", "reason"):
            setattr(prev, attr, (getattr(prev, attr) or "") + piece)
            name = "deviation_reason" if attr == "reason" else attr
            prev.assembled.add(name)
            prev.pieces.append((name, cell))
            if not (row.page_break_before or row.page != prev.row.page):
                prev.joined_mid_page.add(name)  # a line break written as a row, or a row of its own
            used = True
    return used


def fill_levels(raw: list[RawIndicator], reader: FormReader) -> None:
    """Carry merged cells down to every row they span: the level labels, and the
    department form's level-1 weight and merged names."""
    for lv in ("level1", "level2"):
        _carry_level(raw, lv, reader)
    _carry_department_cells(raw)


def _carry_level(raw: list[RawIndicator], lv: str, reader: FormReader) -> None:
    """One level's labels carried down.

    Three page-layout effects are undone here: a level name cut by a page break
    (`满意` on one page, `度指标` on the next) is joined; rows printed above a
    vertically centred label get that label; and rows whose merged cell is empty
    on this page because its label landed on the next page wait for it.
    """
    groups: list[list[int]] = []  # runs of rows sharing one printed label
    values: list[str] = []
    joined: set[int] = set()  # groups whose label was joined from two pieces
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
                joined.add(len(values) - 1)
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
    for g, (idxs, val) in enumerate(zip(groups, values)):
        assembled = g in joined or any(lv in raw[i].assembled for i in idxs)
        for i in idxs:
            setattr(raw[i], lv, val)
            if assembled:
                raw[i].assembled.add(lv)


def _carry_department_cells(raw: list[RawIndicator]) -> None:
    """The department form's level-1 weight (one merged cell per level-1 group)
    and its merged name cell (投入管理 block)."""
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
    below: RawIndicator | None = None
    for r in reversed(raw):
        if r.name:
            below = r if r.target is None and r.actual is None else None
        elif below is not None and r.target is None and r.actual is None and r.level1 == below.level1:
            r.name = below.name


def read_indicators(header: Row, rows: list[Row], reader: FormReader) -> tuple[list[RawIndicator], int]:
    """Indicator rows until the total/grade rows; returns (rows, index after)."""
    raw: list[RawIndicator] = []
    columns = header_columns(header)
    broken = False  # a page break (or a blank line's) since the last row that printed level cells
    page = header.page
    # (a text that writes a blank line after every row, a crawler's cell-a-line rows: no breaks)
    blank_breaks = sum(r.page_break_before for r in rows) <= len(rows) // 2
    i = 0
    while i < len(rows):
        row = rows[i]
        key = label_key(row.joined)
        if key.startswith(_TABLE_ENDS):
            break
        if row.filled and all(is_number(c.text) for c in row.filled) and len(row.filled) == 2:
            break  # the total row without its 总分 label: "100  99.93"
        ind = _parse_indicator_row(row, reader.kind, columns)
        if ind is None:
            if raw and not VOCAB.is_indicator_header(key):  # (a header repeated on the next page)
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
        broken |= row.page_break_before and blank_breaks or row.page != page
        page = row.page
        if {"level1", "level2"} & ind.cells.keys():
            broken = False
        elif broken and (row.line is not None or len(row.cells) < len(header.cells) - 1 and row.cells and row.cells[0].text):
            # Past a page break with no level cell printed since, a row with no level
            # labels of its own: the rows above, before the break, carry theirs down to
            # it, and the merged cell it belongs to may be the next. Where the row has no
            # cells at the level columns at all (a table the break split off), and in a
            # parser's text, which keeps no place of the text it lost (pdfplumber left
            # out a label LibreOffice printed at the top of the page's part of its merged
            # cell, and four rows carried the group's above, silently). Short rows with no
            # break between them and a level cell are a text's that leaves a merged cell
            # out beneath its first row (a crawler's): its label.
            ind.levels_absent = True
        if ind.name and label_key(ind.name) in (ind.level2, ind.level1):
            # The level label's merged cell written into the name's column too (as
            # converters do): no name is printed there (a merged name above may cover it).
            ind.name, ind.repeated_name = "", True
            ind.cells.pop("name", None)
        raw.append(ind)
        i += 1
    return raw, i
