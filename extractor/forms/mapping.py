"""Mapping a form's rows to the contract, by labels rather than positions.

Columns shift, labels break (`一级 指标`), the 总分 label may be missing and the
project name may sit above its label, so every section is found by its label.
Each row goes to the first section reader in `SECTIONS` whose test it passes;
a reader stores what it read in the `_Mapping` and returns how many of the rows
after this one it used too (the indicator table reads its rows itself).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from ..layout.page import WITH_ITS_LABEL, Cell, Row
from ..findings import FIELD_ZH, Code, field_zh
from ..models import (
    Finding,
    DepartmentForm,
    DepartmentFunding,
    DepartmentFundingRow,
    DepartmentIndicator,
    Funding,
    FundingRow,
    Indicator,
    LabeledFundingRow,
    ProjectForm,
    funding_rows,
)
from .accounted import find_year, is_page_margin, printed_fields, unit_line, unread_text, unread_under_doubt
from .funding import DEPARTMENT_FUNDING_ROWS, PROJECT_FUNDING_ROWS, funding_header_columns, header_fields, read_funding_row
from .indicators import RawIndicator, fill_levels, join_target, read_indicators, split_number
from .labels import ENUMERATED, FormReader, has_label, label_key, value_after
from .numbers import is_number, is_number_or_dash, parse_number
from .segment import DEPARTMENT_ANCHOR, FormRows, misread_title
from .templates import VOCAB

GOAL_LABELS = VOCAB.goal_expected
GOAL_SKIP = VOCAB.goal_labels
GOAL_MIN_IN_HEADER = 20  # characters: shorter text on the goal header row is a label
# The amount columns' labels: two of them (or one and 执行率) make a row the funding header.
FUNDING_COLUMN_LABELS = tuple(lbl for lbl, name in VOCAB.funding_columns if name in ("initial_budget", "annual_budget", "executed"))
_UNIT_IN_LABEL = re.compile(r"\((万元|元)\)")
EXTRA_FUNDING_ROWS = tuple((lbl, "extra") for lbl in VOCAB.extra_rows)


@dataclass
class _Line:
    """One row with its label keys, computed once for every reader's test."""

    row: Row
    keys: list[str]
    key: str  # of the whole row
    first: str  # key of the first non-empty cell

    @classmethod
    def of(cls, row: Row) -> _Line:
        keys = [label_key(c.text) for c in row.cells]
        return cls(row, keys, label_key(row.joined), next((k for c, k in zip(row.cells, keys) if c.text), ""))


@dataclass
class _Mapping:
    """What the section readers have read of one form so far."""

    fr: FormRows
    reader: FormReader
    section: str = "head"  # head → funding → goal → (pre-indicators) → tail
    head: dict[str, str | None] = field(default_factory=dict)
    funding: dict[str, dict[str, Decimal | None]] = field(default_factory=dict)
    extra: list[tuple[str, dict[str, Decimal | str | None]]] = field(default_factory=list)  # (label, values)
    funding_header: Row | None = None
    funding_cols: list[tuple[str, float, float]] = field(default_factory=list)
    goals: list[str] = field(default_factory=list)
    goal_split: int | None = None  # the column the 实际完成情况 header starts at
    goal_split_x: float | None = None  # …and where it starts on its page (a page's columns are its own)
    goal_page: int | None = None  # the page the goals' cells were read on
    goal_remarks: dict[int, str] = field(default_factory=dict)  # a goal column that is a remark's (全年(调整)绩效目标)
    unplaced: list[str] = field(default_factory=list)  # funding fields whose column the header prints and the row lacks
    raw: list[RawIndicator] = field(default_factory=list)
    total: Decimal | None = None
    total_weight: Decimal | None = None
    grade: str | None = None
    remarks: dict[str, str] = field(default_factory=dict)

    @property
    def funding_rows(self) -> tuple[tuple[str, str], ...]:
        return (*PROJECT_FUNDING_ROWS, *EXTRA_FUNDING_ROWS) if self.fr.kind == "project" else DEPARTMENT_FUNDING_ROWS


# --- section readers: a test and a reader each ------------------------------------------


def _is_project_name(ln: _Line, m: _Mapping) -> bool:
    return ln.first.startswith(VOCAB.project_anchor)


def _read_project_name(ln: _Line, m: _Mapping) -> int:
    label = next(lbl for lbl in VOCAB.project_anchor if ln.first.startswith(lbl))
    m.reader.labelled.add("project_name")
    c = value_after(ln.row, ln.keys, label)
    if c is None:
        above = [r for r in m.fr.before_anchor if len(r.filled) == 1]  # the name printed above its label row
        if above:
            c = above[-1].filled[0]
            m.reader.note("project name read from the line above its label")
            m.reader.source("project_name", above[-1], c)
    else:
        m.reader.source("project_name", ln.row, c)
    m.head["project_name"] = c.text if c else None
    return 0


def _is_department_head(ln: _Line, m: _Mapping) -> bool:
    return ln.first.startswith(DEPARTMENT_ANCHOR) or (
        m.fr.kind == "department" and ln.first.startswith(VOCAB.department) and "department" not in m.head)


def _read_department_head(ln: _Line, m: _Mapping) -> int:
    m.reader.labelled.add("department")
    if has_label(ln.keys, *VOCAB.subordinate_units):
        m.reader.labelled.add("subordinate_units")
    c = value_after(ln.row, ln.keys, ln.first[:4], stop=VOCAB.subordinate_units)
    m.head["department"] = c.text if c else None
    if c:
        m.reader.source("department", ln.row, c)
    c2 = next((v for lbl in VOCAB.subordinate_units if (v := value_after(ln.row, ln.keys, lbl))), None)
    m.head["subordinate_units"] = c2.text if c2 else None
    if c2:
        m.reader.source("subordinate_units", ln.row, c2)
    _read_row_remarks(ln, m)
    # The total printed in the head row (Chongqing: 主管部门 | … | 自评总分(分) | 97.6)
    label = next((lbl for lbl in VOCAB.total for k in ln.keys[1:] if k.startswith(lbl)), None)
    if label is not None:
        m.reader.labelled.add("total_score")
        c3 = value_after(ln.row, ln.keys, label)
        if c3 is not None and is_number(c3.text):
            m.total = parse_number(c3.text)
            m.reader.source("total_score", ln.row, c3)
    return 0


def _read_row_remarks(ln: _Line, m: _Mapping) -> None:
    """Every `label | value` pair of a row whose label is a remark's (财政处室, 联系电话)."""
    for i, (c, k) in enumerate(zip(ln.row.cells, ln.keys)):
        label = next((lbl for lbl in VOCAB.remarks if ENUMERATED.sub("", k) == lbl), None) if c.text else None
        if label is None or label in m.remarks:
            continue
        m.reader.labelled.add(f"remarks.{label}")
        v = next((v for v, kv in zip(ln.row.cells[i + 1:], ln.keys[i + 1:]) if v.text and kv != k), None)
        if v is not None and not any(ENUMERATED.sub("", label_key(v.text)) == lbl for lbl in VOCAB.remarks):
            m.remarks[label] = v.text
            m.reader.source(f"remarks.{label}", ln.row, v)


def _is_units(ln: _Line, m: _Mapping) -> bool:
    return has_label(ln.keys, *VOCAB.department, *VOCAB.implementing_unit)


def _read_units(ln: _Line, m: _Mapping) -> int:
    for labels, name, stop in ((VOCAB.department, "department", VOCAB.implementing_unit), (VOCAB.implementing_unit, "implementing_unit", ())):
        if has_label(ln.keys, *labels):
            m.reader.labelled.add(name)
        for label in labels:
            c = value_after(ln.row, ln.keys, label, stop=stop)
            if c:
                m.head[name] = c.text
                m.reader.source(name, ln.row, c)
                break
    return 0


def _is_funding_row(ln: _Line, m: _Mapping) -> bool:
    rows = m.funding_rows
    return (m.section in ("head", "funding") and any(lbl in ln.key for lbl, _ in rows)  # (the row first: cheap)
            and any(lbl in k and len(k) < 20 for k in ln.keys for lbl, _ in rows)
            and sum(is_number_or_dash(c.text) for c in ln.row.filled) >= 3)


def _read_funding(ln: _Line, m: _Mapping) -> int:
    for label, name in m.funding_rows:
        idx = next((j for j, k in enumerate(ln.keys) if label in k), None)
        if idx is not None and (name == "extra" or name not in m.funding):
            values, cells = read_funding_row(ln.row, m.funding_header, m.funding_cols, idx, m.fr.kind)
            if name == "extra":  # a row beyond the contract's four, kept with its label
                name = f"extra[{len(m.extra)}]"
                m.extra.append((label, values))
            else:
                m.funding[name] = values
            m.reader.labelled.add(f"funding.{name}")
            for col, cell in cells.items():
                m.reader.source(f"funding.{name}.{col}", ln.row, cell)
            if m.funding_header is not None:
                # A column the header prints with no cell of this row under it (a parser
                # dropped the column, a sheet's columns went to another page): not read,
                # and nothing says it is empty either (a sub-row's 分值/得分 print `-`;
                # a 原因 is blank where there is none)
                wanted = [col for col in header_fields(m.funding_header) if col != "reason"
                          and (name == "total" or m.fr.kind == "department" or col not in ("weight", "score"))]
                m.unplaced += [f"funding.{name}.{col}" for col in wanted if col not in values]
            break
    return 0


def _is_funding_row_label(ln: _Line, m: _Mapping) -> bool:
    """A funding row's label with fewer than three figures beside it: the row is printed
    and its values are not (cut off with a sheet's columns, dropped by a parser)."""
    return m.section in ("head", "funding") and bool(ln.first) and any(
        ln.first.endswith(lbl) or ln.first.startswith(lbl) for lbl, _ in m.funding_rows) and len(ln.first) < 20


def _read_funding_row_label(ln: _Line, m: _Mapping) -> int:
    name = next(n for lbl, n in m.funding_rows if ln.first.endswith(lbl) or ln.first.startswith(lbl))
    if name not in m.funding:
        m.reader.labelled.add(f"funding.{name}")
    return 0


def _is_unlabelled_total(ln: _Line, m: _Mapping) -> bool:
    """A department form's one row of figures under its funding header, with no label
    (Chongqing: 部门预算执行情况 merged down beside it): the whole budget."""
    if m.fr.kind != "department" or m.section != "funding" or m.funding_header is None or m.funding:
        return False  # (first: this is tried on every row of every form)
    filled = ln.row.filled[1:] if _repeats_block_label(ln, m) else ln.row.filled
    return len(filled) >= 3 and all(is_number_or_dash(c.text) for c in filled)


def _repeats_block_label(ln: _Line, m: _Mapping) -> bool:
    """The row's first cell repeats the funding header's first (部门预算执行情况 merged down
    beside the figures, written into each row it spans, as pymupdf4llm writes a merged cell)."""
    head = next((c.text for c in m.funding_header.cells if c.text), None) if m.funding_header is not None else None
    return bool(ln.first) and head is not None and ln.first == label_key(head)


def _read_unlabelled_total(ln: _Line, m: _Mapping) -> int:
    idx = next((j for j, c in enumerate(ln.row.cells) if c.text), 0) - 1  # (the cell before the figures: their label's place)
    if _repeats_block_label(ln, m):
        idx += 1
    values, cells = read_funding_row(ln.row, m.funding_header, m.funding_cols, idx, "project")
    m.funding["total"] = {k: v for k, v in values.items() if k != "reason"}
    m.reader.labelled.add("funding.total")
    for col, cell in cells.items():
        m.reader.source(f"funding.total.{col}", ln.row, cell)
    return 0


def _is_funding_header(ln: _Line, m: _Mapping) -> bool:
    return has_label(ln.keys, *VOCAB.funding_block) or sum(has_label(ln.keys, lbl) for lbl in FUNDING_COLUMN_LABELS) >= 2


def _read_funding_header(ln: _Line, m: _Mapping) -> int:
    m.section = "funding"
    if sum(has_label(ln.keys, lbl) for lbl in (*FUNDING_COLUMN_LABELS, "执行率")) >= 2:
        m.funding_header, m.funding_cols = ln.row, funding_header_columns(ln.row)
        m.reader.labelled.update(f"funding.total.{col}" for col in header_fields(ln.row))
    return 0


def _remark_label(ln: _Line) -> str | None:
    """The text field a row's first cell labels (`2.项目实施内容及过程概述`, `评价结论`)."""
    return _remark_cell(ln)[1]


def _remark_cell(ln: _Line) -> tuple[int, str | None]:
    """(the cell's index, the remark it labels) of a row's label: its first filled cell, or
    the next where the first is the group label merged down beside it (`项目基本情况`:
    a converter writes a merged cell into every row it spans)."""
    filled = [j for j, c in enumerate(ln.row.cells) if c.text]
    for n, j in enumerate(filled[:2]):
        key = ENUMERATED.sub("", ln.keys[j])
        # (or the label and its value in the row's one cell, as camelot writes `改进措施\n…`)
        label = next((lbl for lbl in VOCAB.remarks if key.startswith(lbl) and (len(key) <= len(lbl) + 6 or len(filled) == 1)), None)
        if label is not None:
            return j, label
        if n == 0 and ln.keys[j] not in VOCAB.remark_groups:
            break
    return -1, None


def _is_remark(ln: _Line, m: _Mapping) -> bool:
    return bool(ln.first) and _remark_label(ln) is not None


def _read_remark(ln: _Line, m: _Mapping) -> int:
    i, label = _remark_cell(ln)
    assert label is not None
    m.reader.labelled.add(f"remarks.{label}")
    c = next((c for c, k in zip(ln.row.cells[i + 1:], ln.keys[i + 1:]) if c.text and k != ln.keys[i]), None)
    if c is not None:
        m.remarks[label] = c.text
        m.reader.source(f"remarks.{label}", ln.row, c)
    elif rest := ENUMERATED.sub("", ln.keys[i])[len(label):]:  # (the value in the label's cell: camelot's `评价结论\n优`)
        m.remarks[label] = rest
        m.reader.source(f"remarks.{label}", ln.row, ln.row.cells[i])
        m.reader.doubted.setdefault(f"remarks.{label}", WITH_ITS_LABEL)
    _read_row_remarks(ln, m)  # (部门联系人 | 张敏 | 联系电话 | 023-…)
    return 0


def _is_breakdown(ln: _Line, m: _Mapping) -> bool:
    return has_label(ln.keys, *VOCAB.breakdown)


def _read_breakdown(ln: _Line, m: _Mapping) -> int:
    m.section = "pre-indicators"
    return 0


def _is_goal(ln: _Line, m: _Mapping) -> bool:
    return has_label(ln.keys, *GOAL_LABELS) or (m.section == "goal" and not VOCAB.is_indicator_header(ln.key))


def _read_goal(ln: _Line, m: _Mapping) -> int:
    m.section = "goal"
    header = has_label(ln.keys, *GOAL_LABELS)
    if header:
        m.reader.labelled.update(("goal_expected", "goal_actual"))
        m.goal_split, m.goal_split_x = next(((c.col, c.bbox[0] if c.bbox else None) for c, k in zip(ln.row.cells, ln.keys)
                                             if k.startswith(VOCAB.goal_actual)), (None, None))
        m.goal_remarks = {c.col: k for c, k in zip(ln.row.cells, ln.keys) if k in VOCAB.remarks and c.col is not None}
        m.reader.labelled.update(f"remarks.{k}" for k in m.goal_remarks.values())
    if not header and (all(is_page_margin(label_key(c.text)) for c in ln.row.filled) or _continues_the_goals(ln, m)):
        return 0  # (a page's number, or a browser's margin line, between a goal cell's two pages: no goal)
    previous: Cell | None = None
    for c in ln.row.filled:
        if not header and c.col in m.goal_remarks:  # (the adjusted goal: a remark, by its column)
            m.remarks.setdefault(m.goal_remarks[c.col], c.text)
            m.reader.source(f"remarks.{m.goal_remarks[c.col]}", ln.row, c)
            continue
        # On the header row only a paragraph is a value: a goal cell that reaches
        # up beside its header (rows cut by word alignment) starts there.
        if label_key(c.text) in GOAL_SKIP or (header and len(label_key(c.text)) < GOAL_MIN_IN_HEADER):
            continue
        side = _goal_side(m, c)
        # A merged goal cell written into every column it spans: the same text in the
        # next column, under the same header
        repeat = (previous is not None and previous.text == c.text and c.col is not None and previous.col is not None
                  and c.col == previous.col + 1 and _goal_side(m, previous) == side)
        previous = c
        if repeat:
            continue  # a merged goal cell written into every column it spans
        if side == "actual" and not m.goals:
            m.goals.append("")  # (no expected goal printed: the actual is still the second)
        m.goals.append(c.text)
        m.goal_page = ln.row.page
        if len(m.goals) <= 2:
            m.reader.source(f"goal_{'expected' if len(m.goals) == 1 else 'actual'}", ln.row, c)
        else:  # (a third goal cell is no value: its text is named as unread, under its own side)
            m.reader.path_of.setdefault(id(c), f"goal_{_side_by_box(m, c)}")
    return 0


def _side_by_box(m: _Mapping, c: Cell) -> str:
    """Under which goal header a cell beyond the two goals sits, by its place on the page:
    it is no value, and its text is named as unread under that goal."""
    if m.goal_split_x is None or c.bbox is None:
        return "actual"
    return "expected" if (c.bbox[0] + c.bbox[2]) / 2 < m.goal_split_x else "actual"


def _continues_the_goals(ln: _Line, m: _Mapping) -> bool:
    """A row on the page after the goals' cells, every cell under one of the two goal
    headers: the rest of those cells, which a page break cut (a browser, or Word, breaks
    a tall row across pages). Its text is joined to the goal above it."""
    if len(m.goals) != 2 or m.goal_page is None or ln.row.page == m.goal_page or m.goal_split_x is None:
        return False
    cells = ln.row.filled
    if not cells or any(c.bbox is None for c in cells):
        return False
    sides = [_side_by_box(m, c) for c in cells]
    if len(set(sides)) != len(sides):
        return False  # (two cells on one side: not the two goal cells)
    for c, side in zip(cells, sides):
        m.goals[0 if side == "expected" else 1] += c.text
        m.reader.path_of.setdefault(id(c), f"goal_{side}")
    m.goal_page = ln.row.page
    return True


def _goal_side(m: _Mapping, c: Cell) -> str | None:
    """Under which goal header a cell sits, where the header's columns are known."""
    if m.goal_split is None or c.col is None:
        return None
    return "expected" if c.col < m.goal_split else "actual"


def _is_indicator_header(ln: _Line, m: _Mapping) -> bool:
    return VOCAB.is_indicator_header(ln.key)


def _is_total(ln: _Line, m: _Mapping) -> bool:
    return m.section == "tail" and (ln.key.startswith(VOCAB.total) or (bool(ln.row.filled) and all(is_number(c.text) for c in ln.row.filled)))


def _read_total(ln: _Line, m: _Mapping) -> int:
    m.reader.labelled.add("total_score")
    nums = [c for c in ln.row.filled if is_number(c.text)]
    if nums:
        m.total = parse_number(nums[-1].text)
        m.reader.source("total_score", ln.row, nums[-1])
        if len(nums) >= 2:
            m.total_weight = parse_number(nums[-2].text)
            m.reader.source("total_weight", ln.row, nums[-2])
    return 0


def _is_grade(ln: _Line, m: _Mapping) -> bool:
    return ln.key.startswith(VOCAB.grade)


def _read_grade(ln: _Line, m: _Mapping) -> int:
    m.reader.labelled.add("grade")
    label = next(lbl for lbl in VOCAB.grade if ln.key.startswith(lbl))
    c = value_after(ln.row, ln.keys, label)
    m.grade = c.text if c else None
    if c:
        m.reader.source("grade", ln.row, c)
    elif len(ln.first) > len(label) and ln.first.startswith(label):
        # the label and its value in one cell (camelot's "评分等级\n优", a crawler's 评分等级:优)
        m.grade = ln.first[len(label):].lstrip(":：") or None
        cell = next(c for c, k in zip(ln.row.cells, ln.keys) if k == ln.first)
        m.reader.source("grade", ln.row, cell)
    return 0


Test = Callable[[_Line, _Mapping], bool]
Read = Callable[[_Line, _Mapping], int]
# In order: the first whose test a row passes reads it. The indicator table's reader
# is bound per form (it needs the rows after the header).
SECTIONS: tuple[tuple[Test, Read | None], ...] = (
    (_is_project_name, _read_project_name),
    (_is_department_head, _read_department_head),
    (_is_units, _read_units),
    (_is_funding_row, _read_funding),
    (_is_unlabelled_total, _read_unlabelled_total),  # (before the header's test: its label may be repeated in it)
    (_is_funding_header, _read_funding_header),
    (_is_funding_row_label, _read_funding_row_label),
    (_is_breakdown, _read_breakdown),
    (_is_remark, _read_remark),
    (_is_goal, _read_goal),
    (_is_indicator_header, None),
    (_is_total, _read_total),
    (_is_grade, _read_grade),
)


def _funding_unit(rows: list[Row], reader: FormReader) -> str | None:
    """The unit in the merged 项目资金 cell, wherever a page break put it."""
    for r in rows:
        cells = [c for c in r.cells if label_key(c.text).startswith(VOCAB.funding_block)]
        if not cells:
            continue
        # the block's label, or a header cell beside it (Sichuan: 年度预算数(万元))
        for cell in [*cells, *(c for c in r.cells if _UNIT_IN_LABEL.search(label_key(c.text)))]:
            k = label_key(cell.text)
            unit = "万元" if "万元" in k else ("元" if "元" in k else None)
            if unit:
                reader.labelled.add("funding_unit")
                reader.source("funding_unit", r, cell)
                return unit
        return None
    return None


def map_form(fr: FormRows, engine: str = "rules") -> ProjectForm | DepartmentForm:
    m = _Mapping(fr, FormReader(kind=fr.kind, engine=engine))
    rows = fr.rows
    i = 0
    while i < len(rows):
        ln = _Line.of(rows[i])
        for test, read in SECTIONS:
            if test(ln, m):
                if read is None:  # the indicator table: its header, then its rows
                    m.reader.labelled.add("indicators")
                    m.raw, used = read_indicators(ln.row, rows[i + 1 :], m.reader)
                    m.section = "tail"
                    i += used
                else:
                    i += read(ln, m)
                break
        i += 1
    fill_levels(m.raw, m.reader)
    if len(m.goals) > 2:
        m.reader.note(f"{len(m.goals)} goal cells; kept the first two", 0.05)
    form = _form(m, engine, _funding_unit(rows, m.reader))
    _outside_the_table(form, fr, m.reader)
    form.provenance = m.reader.sources()  # (every value's source noted: the year and unit outside the table too)
    if fr.narrative:  # (said, as each line read as a row was an ignored row)
        m.reader.note(f"{fr.narrative} lines of narrative after its rows, kept out of it")
    resembled = _title_resembled(fr)
    family = VOCAB.family_for(fr.kind, resembled or fr.title, _printed_labels(fr))
    form.template = family.name
    prompts = list(_template_prompts(form))
    form.findings = [*form.findings, *prompts, *printed_fields(form, family, m.reader), *unread_text(form, fr, m.reader),
                     *unread_under_doubt(fr, m.reader),
                     *_unplaced(m.unplaced)]
    if resembled is not None:
        form.findings.append(Finding(
            code=Code.UNVERIFIED_READING, severity="error", field="title", expected=resembled, found=form.title,
            message=f"title: read by OCR as '{form.title}', which is the template's '{resembled}' misread or another title: check it on the page",
            message_zh=f"标题：OCR 识别为“{form.title}”，与模板标题“{resembled}”相近但不同，可能识别有误，请核对原件"))
    return form


def _title_resembled(fr: FormRows) -> str | None:
    """The template title a scanned title stands for where the reading is none of them."""
    if fr.title_row is None or any(m in fr.title for m in VOCAB.form_titles + VOCAB.department_titles):
        return None
    return misread_title(fr.title, fr.title_row.filled)


def _template_prompts(form: ProjectForm | DepartmentForm) -> Iterator[Finding]:
    """A template's instructions left in a value cell (a form published partly filled)
    are no value: the field is emptied and a warning names it and quotes the prompt."""
    texts: list[tuple[str, object, str]] = [(f"funding.{n}", row, "reason") for n, row in funding_rows(form.funding)
                                            if getattr(row, "reason", None)]
    texts += [(f"indicators[{i}]", ind, col) for i, ind in enumerate(form.indicators)
              for col in ("target", "actual", "deviation_reason") if getattr(ind, col)]
    texts += [("", form, col) for col in ("goal_expected", "goal_actual") if getattr(form, col)]
    for where, obj, col in texts:
        text = getattr(obj, col)
        if VOCAB.is_prompt(label_key(text)):
            setattr(obj, col, None)
            path = f"{where}.{col}" if where else col
            yield Finding(code=Code.TEMPLATE_PROMPT, severity="warning", field=path, found=text,
                          message=f"{path}: the cell holds the template's instructions ('{text[:40]}'), not a value",
                          message_zh=f"{field_zh(path)}：单元格内为表格模板的填写说明，并非填报内容")


def _unplaced(paths: list[str]) -> Iterator[Finding]:
    for path in paths:
        yield Finding(code=Code.FIELD_NOT_FOUND, severity="error", field=path,
                      message=f"{path}: the funding block's header prints this column, and the row has no cell under it",
                      message_zh=f"{field_zh(path)}：资金表头有此栏，但该行没有对应数值")


def _printed_labels(fr: FormRows) -> set[str]:
    """The short cells' keys: the labels a family's marks are looked for in."""
    return {k for r in fr.rows for c in r.cells if c.text and len(k := label_key(c.text)) <= 14}


def _outside_the_table(form, fr: FormRows, reader: FormReader) -> None:
    """The title's place, and the year and the unit where forms print them outside the
    table's cells."""
    if form.title and fr.title_row is not None and fr.title_row.filled:
        cells = fr.title_row.filled  # (a scan's reading of it as sure as its least sure cell)
        reader.source("title", fr.title_row, min(cells, key=lambda c: c.confidence))
    if form.year is None:
        year, row = find_year(fr.title, fr.before_anchor)
        if year is not None:
            form.year = year
            if row is not None:
                reader.source("year", row, next((c for c in row.cells if str(year) in c.text), None))
    if form.funding_unit is None:
        found = unit_line(fr.before_anchor)
        if found is not None:
            form.funding_unit = found[0]
            reader.labelled.add("funding_unit")
            reader.source("funding_unit", found[1], next((c for c in found[1].cells if "单位" in c.text), None))


def _pages(fr: FormRows, reader: FormReader) -> list[int]:
    """The pages the form is printed on: its title's and anchor's, and every page a
    value was read from — not a page of text or of another table after it."""
    pages = {r.page for r in fr.before_anchor} | {fr.rows[0].page}
    pages.update(src["page"] for src in reader.provenance.values() if src["page"] is not None)
    return sorted(pages)


def _form(m: _Mapping, engine: str, funding_unit: str | None) -> ProjectForm | DepartmentForm:
    """The contract record of what was read."""
    fr, reader = m.fr, m.reader
    indicators = []
    for n, r in enumerate(m.raw):
        parts = _target_parts(r)
        further = list(r.pieces)  # (the value's provenance stays its first cell's)
        for name, cell in r.cells.items():
            if name in ("target_op", "target_value", "target_unit"):
                # the target's three printed cells: the value's is its provenance
                name = "target"
                if cell is not r.cells.get("target_value"):
                    further.append((name, cell))
                    continue
            reader.source(f"indicators[{n}].{name}", r.row, cell)
        for name, cell in further:
            reader.also(f"indicators[{n}].{name}", cell)
        number, name = split_number(r.name)
        common = dict(
            level1=r.level1, level2=r.level2, name=name, actual=r.actual,
            target=(join_target(*parts) if "target_value" in r.cells or r.target_value is not None else r.target) if parts else r.target,
            target_parts=list(p or "" for p in parts) if parts else None,
            weight=r.weight, score=r.score, deviation_reason=r.reason, level1_weight=r.level1_weight, number=number,
            target_adjusted=r.target_adjusted or None, core=r.core or None,
            score_rate=parse_number(r.score_rate) if r.score_rate and is_number(r.score_rate) else None,
        )
        indicators.append(DepartmentIndicator(**common) if fr.kind == "department" else Indicator(**common))
    base = dict(
        title=fr.title, year=fr.year,
        goal_expected=m.goals[0] or None if m.goals else None, goal_actual=m.goals[1] if len(m.goals) > 1 else None,
        total_score=m.total, total_weight=m.total_weight, grade=m.grade,
        pages=_pages(fr, reader), engine=engine, funding_unit=funding_unit,
    )
    form: ProjectForm | DepartmentForm
    if fr.kind == "department":
        form = DepartmentForm(
            **base, department=m.head.get("department"), subordinate_units=m.head.get("subordinate_units"), remarks=m.remarks,
            funding=DepartmentFunding(**{k: DepartmentFundingRow(**v) for k, v in m.funding.items()}),
            indicators=indicators,
        )
    else:
        form = ProjectForm(
            **base, project_name=m.head.get("project_name"), department=m.head.get("department"),
            implementing_unit=m.head.get("implementing_unit"), remarks=m.remarks,
            funding=Funding(**{k: FundingRow(**v) for k, v in m.funding.items()},
                            extra=[LabeledFundingRow(label=label, **v) for label, v in m.extra]),
            indicators=indicators,
        )
    for required, value in (("indicators", indicators), ("total_score", m.total), ("funding", m.funding or m.extra)):
        if not value:
            reader.note(f"no {required} found", 0.3)
    form.notes = reader.notes
    form.confidence = round(reader.confidence, 3)
    form.findings = [*_assembled_findings(m.raw), *_doubt_findings(reader), *_repeated_names(m.raw), *_levels_absent(m.raw),
                     *_cells_dropped(m.raw)]
    return form


def _target_parts(r: RawIndicator) -> tuple[str | None, str | None, str | None] | None:
    """A target printed in three columns, as (operator, value, unit); None for one column."""
    parts = (r.target_op, r.target_value, r.target_unit)
    if "target_value" not in r.cells and r.target_value is None and r.target is not None:
        # the target is one cell (年度指标值, 年初指标值); an operator or unit printed apart
        # beside it (Chongqing: 计量单位 | 指标性质) is kept with it, not joined into it
        return (r.target_op, r.target, r.target_unit) if r.target_op or r.target_unit else None
    return parts if any(p is not None for p in parts) or {"target_op", "target_value"} & r.cells.keys() else None


def _repeated_names(raw: list[RawIndicator]) -> Iterator[Finding]:
    """A name cell that only repeated the level label beside it, with no merged name
    above to cover the row: the name is not printed."""
    for n, r in enumerate(raw):
        if r.repeated_name and not r.name:
            yield Finding(code=Code.PRINTED_EMPTY, severity="error", field=f"indicators[{n}].name",
                          message=f"indicator {n + 1}: its name cell repeats the level label beside it; no name is printed",
                          message_zh=f"第{n + 1}项指标的三级指标栏只重复了旁边的指标类别，未填写指标名称")


def _cells_dropped(raw: list[RawIndicator]) -> Iterator[Finding]:
    """A row one cell short of its level label, name, target and actual, in a text that
    leaves empty cells out: the value read is the target's or the actual's, not known."""
    for n, r in enumerate(raw):
        if r.cell_dropped:
            yield Finding(code=Code.MISSING_FIELD, severity="error", field=f"indicators[{n}]", found=r.target,
                          message=f"indicator {n + 1}: its row is one cell short (the text leaves empty cells out): "
                                  f"'{r.target}' was read as its target, and may be its actual value",
                          message_zh=f"第{n + 1}项指标所在行少一个单元格（文本略去了空单元格）：“{r.target}”读作指标值，也可能是实际完成值")


def _levels_absent(raw: list[RawIndicator]) -> Iterator[Finding]:
    """A row past a page break with no level labels of its own (a table the break split,
    its first rows drawn apart; a parser's text that lost the label): the labels it got
    were carried from the rows above the break, and the merged cell it belongs to may
    be the next. Both labels are named."""
    for n, r in enumerate(raw):
        if r.levels_absent:
            for level in ("level1", "level2"):
                yield Finding(code=Code.ASSEMBLED_VALUE, severity="error", field=f"indicators[{n}].{level}", found=getattr(r, level),
                              message=f"indicator {n + 1}: its row prints no level labels past a page break; "
                                      f"'{r.level1} / {r.level2}' were carried from the rows above and may belong below",
                              message_zh=f"第{n + 1}项指标所在行在分页之后没有一、二级指标，其指标类别系从上方沿用，可能有误")


def _doubt_findings(reader: FormReader) -> Iterator[Finding]:
    """A value read from a cell whose text may not be the whole of what it prints (cut
    by the paper's edge; lines interleaved with a neighbouring row's by a converter)."""
    for path, doubt in reader.doubted.items():
        yield Finding(code=Code.ASSEMBLED_VALUE, severity="error", field=path,
                      message=f"{path} {doubt.why}", message_zh=f"{field_zh(path)}{doubt.why_zh}")


def _assembled_findings(raw: list[RawIndicator]) -> Iterator[Finding]:
    """A value the reader joined from pieces (a cell cut by a page break) is named,
    once per distinct value: an error where a joined level label is no label the
    forms use (the pieces did not make a real one), or where the piece came on the
    same page (a line break written as a row, or a row of its own the reader could
    not place: which, nothing tells), else a warning to look at."""
    seen: set[tuple[str, str]] = set()
    for n, r in enumerate(raw):
        for name in sorted(r.assembled):
            value = getattr(r, "reason" if name == "deviation_reason" else name) or ""
            if (name, value) in seen:
                continue
            seen.add((name, value))
            known = VOCAB.level1_words if name == "level1" else VOCAB.level2_words if name == "level2" else None
            wrong = (known is not None and value not in known) or name in r.joined_mid_page
            yield Finding(
                code=Code.ASSEMBLED_VALUE, severity="error" if wrong else "warning", field=f"indicators[{n}].{name}",
                found=value,
                message=f"indicator {n + 1}: {name} '{value}' was joined from pieces a page break cut"
                + ("; it is no label the forms use, so a piece is missing or misplaced" if wrong else ""),
                message_zh=f"第{n + 1}项指标的{FIELD_ZH.get(name, name)}“{value}”由跨页断开的片段拼合" + ("，且不是规范的指标名称，可能缺失或错位" if wrong else "，请复核"),
            )
