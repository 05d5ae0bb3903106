"""Every printed field accounted for.

A form's family (forms/templates.toml) says which fields its forms print. After the
section readers have run, each of those is read, or its label was found with an empty
cell beside it (`printed_empty`: forms are published partly filled, a reviewer decides),
or it was not found at all (`field_not_found`); both are errors naming the field. The fields printed
outside the table's cells — the year in a title or a line under it, the unit in a
`单位：万元` line — are looked for where forms print them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from difflib import SequenceMatcher
from functools import lru_cache

from decimal import Decimal

from ..findings import FAMILY_ZH, Code, field_zh
from ..layout.page import Cell, Row
from ..models import DepartmentForm, Finding, ProjectForm, funding_rows, get_path
from .labels import ENUMERATED, FormReader, label_key
from .numbers import compact, is_number, is_number_or_dash, parse_number
from .segment import FormRows
from .templates import VOCAB, Family

Form = ProjectForm | DepartmentForm

# What the checker already requires of every record (its missing_field errors).
CHECKED = {"project": {"project_name", "funding.total", "indicators", "total_score"},
           "department": {"department", "indicators", "total_score"}}

# A year as forms print it: (2023年度), 2023年度, 2023年 — in a title, on its own line,
# inside a 填报单位（盖章）：…（2023年度）…单位：万元 line.
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"(?<!\d)(20\d\d)\s*年(度)?(?!\d)")
_UNIT = re.compile(r"单位[:：]?\s*(万元|元)")


def year_in(texts: list[str]) -> tuple[int, int] | None:
    """(the year, which text) of the first text printing one; `年度` beats a bare `年`."""
    best = None
    for i, text in enumerate(texts):
        for m in _YEAR.finditer(text):
            if m.group(2):
                return int(m.group(1)), i
            best = best or (int(m.group(1)), i)
    return best


def find_year(title: str, before: list[Row]) -> tuple[int | None, Row | None]:
    """The form's year from its title or the lines between the title and the table
    (the year line, a 填报单位 line), and the row it was read from (None: the title)."""
    found = year_in([title] + [r.joined for r in before])
    if found is None:
        return None, None
    year, where = found
    return year, (before[where - 1] if where else None)


def unit_line(before: list[Row]) -> tuple[str, Row] | None:
    """The funding unit a `单位：万元` line above the table prints."""
    for r in before:
        m = _UNIT.search(label_key(r.joined))
        if m:
            return m.group(1), r
    return None


def printed_fields(form: Form, family: Family, reader: FormReader) -> Iterator[Finding]:
    """A finding for each field the family prints that came out empty, and each it may
    print whose label this form prints."""
    for path in (*family.prints, *(p for p in family.may_print if p in reader.labelled)):
        if path in CHECKED[form.kind]:
            continue
        value = get_path(form, path)
        if value not in (None, "", []):
            continue
        name = field_zh(path)
        if path in reader.labelled:  # (forms are published partly filled: a reviewer decides)
            yield Finding(code=Code.PRINTED_EMPTY, severity="error", field=path,
                          message=f"{path}: its label is printed, its value cell is empty",
                          message_zh=f"{name}：表中有此栏，但未填写")
        else:
            yield Finding(code=Code.FIELD_NOT_FOUND, severity="error", field=path,
                          message=f"{path}: forms of this layout ({family.name}) print it, and it was not found",
                          message_zh=f"此类表格（{FAMILY_ZH.get(family.name, family.name)}）应有{name}，但未能读取")
    if not form.title and form.year is None and "year" not in family.prints:
        # The year is printed with the title (in it, or on the line under it): both lost
        yield Finding(code=Code.FIELD_NOT_FOUND, severity="error", field="year",
                      message="year: the form's title was not found, and the year forms print with it was lost too",
                      message_zh="未找到表格标题，与标题一同印出的年度也无法读取")


# --- every text accounted for ------------------------------------------------------------

_PAGE_NUMBER = re.compile(r"第?\d{1,4}页?(共\d{1,4}页)?|[-—–]\d{1,4}[-—–]|\d{1,4}/\d{1,4}")
_LABEL_TAIL = re.compile(r"[:：]?(\([^()]{0,10}\)?)?[:：]?")  # a unit or points after a label: (万元), (%), (10分)
_ENUMERATOR = re.compile(r"^(?:\(\d{1,2}\)|\d{1,2}[.、]|[一二三四五六七八九十][、.])")  # (1) 1. 一、


@lru_cache(maxsize=8192)  # (forms print the same labels over and over)
def _is_label(key: str) -> bool:
    """A label the forms print, with a unit or colon after it (`执行率(%)`), or labels
    one after another (`其中:当年财政拨款`, `资金结构:(1)基本支出`)."""
    parts = [p for p in re.split(r"[:：]", key) if p]
    return bool(parts) and all(_one_label(_ENUMERATOR.sub("", p)) for p in parts)


def _one_label(key: str) -> bool:
    labels = VOCAB.labels
    if key in labels:
        return True
    return any(key.startswith(label) and _LABEL_TAIL.fullmatch(key[len(label):]) for label in labels if len(label) < len(key))


@lru_cache(maxsize=8192)
def _is_furniture(key: str) -> bool:
    return (key.startswith(VOCAB.furniture_lines) or is_page_margin(key) or VOCAB.is_prompt(key)
            or _BRACKETS.fullmatch(key) is not None)


def is_page_margin(key: str) -> bool:
    """What a page prints in its margins whatever it holds: a page number, or a
    browser's header or footer line."""
    return _PAGE_NUMBER.fullmatch(key) is not None or _BROWSER_MARGIN.match(key) is not None


# What a browser prints in a page's margins when a web page is saved as PDF with its
# headers and footers on (Chrome's default): the page's address and the page count
# (`file:///…/page.html 3/7`), and the date and time before the page's title
# (`12/3/26, 3:07 PM 部门决算公开`, `2026/12/3 15:07 …`). Keys: no whitespace.
_BROWSER_MARGIN = re.compile(r"(?:https?|file)://[!-~]+$"
                             r"|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4},?(?:上午|下午)?\d{1,2}:\d{2}(?::\d{2})?(?:[AaPp][Mm])?")


_BRACKETS = re.compile(r"[()\[\]【】]+")  # a bracket a label's wrap left alone on a line: `绩效指标(90分` / `)`


def _record_values(form: Form) -> tuple[set[str], set[Decimal]]:
    """The compact text of every text value of the record, and every number (read off
    its fields: this runs for every form)."""
    texts: set[str] = set()
    numbers: set[Decimal] = set()

    def take(value) -> None:
        if isinstance(value, Decimal):
            numbers.add(value)
        elif isinstance(value, str) and value:
            texts.add(compact(value))
            if is_number(value):  # (a text field printing a bare figure: 完成值 98.00)
                numbers.add(parse_number(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            numbers.add(Decimal(value))

    for name in _VALUE_FIELDS:
        take(getattr(form, name, None))
    for _, row in funding_rows(form.funding):
        for col in type(row).model_fields:
            take(getattr(row, col))
    for text in getattr(form, "remarks", {}).values():
        take(text)
    for ind in form.indicators:
        for col in _INDICATOR_FIELDS:
            take(getattr(ind, col, None))
        for part in ind.target_parts or ():  # (a target printed in three cells: 定性 | 符合要求 | )
            take(part)
        if ind.number and ind.name:  # (the cell printed both: 指标1:案件数)
            texts.update(compact(f"{ind.number}{sep}{ind.name}") for sep in (":", "、", "."))
    return texts, numbers


_VALUE_FIELDS = ("year", "project_name", "department", "implementing_unit", "subordinate_units", "funding_unit",
                 "goal_expected", "goal_actual", "total_score", "total_weight", "grade")
_INDICATOR_FIELDS = ("level1", "level2", "name", "target", "actual", "weight", "score", "deviation_reason", "level1_weight",
                     "number", "target_adjusted", "score_rate", "core")


def _accounted(cell: Cell, key: str, texts: set[str], numbers: set[Decimal], reader: FormReader, form: Form) -> bool:
    if is_number_or_dash(cell.text):
        value = parse_number(cell.text)
        return value is None or value in numbers
    if key in texts or _is_label(key) or _is_furniture(key):
        return True
    path = reader.path_of.get(id(cell))
    if path is not None:  # a piece of a value (a cell a page break cut), read into its field
        whole = get_path(form, path) if path in reader.provenance else None
        if isinstance(whole, str) and key in compact(whole):
            return True
        if path == "year" and whole is not None and str(whole) in key and _YEAR.search(key):
            return True  # (2021年度): the year it was read from
    # A label and its value in one cell (`项目名称:军转工作经费`), as crawlers join them
    for label in VOCAB.labels:
        if key.startswith(label) and len(key) > len(label):
            rest = key[len(label):].lstrip(":：")
            return rest in texts or (is_number(rest) and parse_number(rest) in numbers)
    return False


def _region(fr: FormRows, reader: FormReader) -> list[Row]:
    """The rows a form's text is accounted in: those between its title and its table,
    the table's from its anchor to the last row a value was read from, and after it
    any row of two cells or more that prints a number (a table's columns that went on
    another page: a sheet wider than the paper) — not the report's prose."""
    last = max((i for i, r in enumerate(fr.rows) if any(id(c) in reader.path_of for c in r.cells)), default=0)
    after = [r for r in fr.rows[last + 1:] if len(r.filled) >= 2 and any(is_number(c.text) for c in r.filled)]
    return [*fr.before_anchor, *fr.rows[: last + 1], *after]


def _field_of_row(row: Row, reader: FormReader) -> str | None:
    """The field an unread cell's row belongs to: the record row its read cells went to
    (`indicators[3]`, `funding.total`), else the field its label names."""
    paths = [p for c in row.cells if (p := reader.path_of.get(id(c)))]
    if paths:
        p = paths[0]
        if p.startswith("indicators["):
            return p.split("]")[0] + "]"
        if p.startswith("funding."):
            return ".".join(p.split(".")[:2])
        return p
    if remark := _remark_of_row(row):
        return f"remarks.{remark[0]}"
    first = label_key(row.filled[0].text) if row.filled else ""
    for labels, name in ((VOCAB.grade, "grade"), (VOCAB.total, "total_score"), (VOCAB.project_anchor, "project_name"),
                         (VOCAB.department, "department"), (VOCAB.implementing_unit, "implementing_unit"),
                         (VOCAB.goal_expected, "goal_expected")):
        if first.startswith(labels):
            return name
    return None


def _remark_of_row(row: Row) -> tuple[str, bool] | None:
    """The remark a row's label names (after a group label merged down beside it, or a
    row number), and whether it prints it whole — not cut short by its cell
    (`2.项目实施内容及过`, a column too narrow) or misread by a scan
    (`2.项曰实施内容及过和概术`: half its characters in their order; only long labels,
    which no other label resembles so). A row whose label is cut or misread is that
    remark's whatever it was read into: the goals' block above took it, and the remark
    was missing silently."""
    for cell in row.filled[:2]:
        stem = ENUMERATED.sub("", label_key(cell.text))
        if stem in VOCAB.remark_groups or stem.isdigit():  # (or camelot's index of a table's rows)
            continue
        if whole := next((lbl for lbl in VOCAB.remarks if stem.startswith(lbl)), None):
            return whole, True
        if len(stem) >= 4 and (cut := next((lbl for lbl in VOCAB.remarks if lbl.startswith(stem)), None)):
            return cut, False
        if cell.confidence < 1.0 and (misread := next(
                (lbl for lbl in VOCAB.remarks if len(lbl) >= 6 and abs(len(stem) - len(lbl)) <= 2
                 and SequenceMatcher(None, stem, lbl, autojunk=False).ratio() >= 0.5), None)):
            return misread, False
        return None
    return None


def _block_around(region: list[Row], n: int, reader: FormReader, last: bool = False) -> str | None:
    """The block (`funding`, `indicators`) whose rows are read right above and below row
    `n`, none of which was read: a row of that block the reading could not place (its
    label printed clipped, say), so each of the block's values may be missing. With
    `last`, a row of nothing else also goes with the block above it when what follows is
    no block: the end of the block's last row that a page break cut off (converters write
    it as a table of its own, before the total)."""
    def block(rows) -> str | None:
        for r in rows:
            if r.in_table and (f := _field_of_row(r, reader)):
                return f.split(".")[0].split("[")[0]
        return None
    blocks = ("funding", "indicators")
    above, below = block(reversed(region[:n])), block(region[n + 1:])
    return above if above in blocks and (above == below or (last and below not in blocks)) else None


def _value_beside(cell: Cell, row: Row, neighbours: list[Row], reader: FormReader) -> str | None:
    """The field of a read cell right above or below `cell` in its column (on the same
    page): a cell's line that a page break or the grid cut off into a row of its own."""
    x0, x1 = cell.bbox[0], cell.bbox[2]
    for other in neighbours:
        if other.page != row.page:
            continue
        for c in other.cells:
            path = reader.path_of.get(id(c))
            if path and c.bbox is not None and min(x1, c.bbox[2]) - max(x0, c.bbox[0]) > 0.5 * (x1 - x0):
                return path
    return None


_LEVEL_WORDS = frozenset((*VOCAB.level1_words, *VOCAB.level2_words))


def _label_cut_by_page(cell: Cell, key: str, row: Row, above: list[Row]) -> bool:
    """The end of a label whose cell a page break cut (`偏差原因分析` on one page, `及改进措施`
    at the top of the next): with the text of the cell above it in the last table row of
    the page before, it is a label the forms print."""
    if cell.bbox is None:
        return False
    x0, x1 = cell.bbox[0], cell.bbox[2]
    last = next((r for r in reversed(above) if r.in_table and r.page < row.page), None)
    if last is None or any(r.in_table and r.page == row.page for r in above):
        return False  # (only the first table row of a page continues the page before)
    return any(c.bbox is not None and c.text and min(x1, c.bbox[2]) - max(x0, c.bbox[0]) > 0.5 * (x1 - x0)
               and _is_label(label_key(c.text) + key) for c in last.cells)


def unread_under_doubt(fr: FormRows, reader: FormReader) -> Iterator[Finding]:
    """An error for each field with a cell that was read as nothing where its reading is
    in doubt (a seal whitened over it: `优` under the seal's star went whole, and the
    grade's remark was missing silently): the field of the row, else its block; after the
    last row a value was read from, a row whose label names its field (`改进措施` and its
    blank, under the seal). Only a scan's cells are doubted when read as nothing: a text
    layer's forms end here at once."""
    if not any(c.doubt is not None and not c.text for r in (*fr.before_anchor, *fr.rows) for c in r.cells):
        return
    region = _region(fr, reader)
    named = set(reader.doubted)
    end = next((i for i, r in enumerate(fr.rows) if region and r is region[-1]), len(fr.rows))
    after = fr.rows[end + 1:]
    for n, row in enumerate(region + after):
        for cell in row.cells:
            if cell.text or cell.doubt is None:
                continue
            field = _field_of_row(row, reader) or (_block_around(region, n, reader) if n < len(region) else None)
            if field is None or field in named:
                continue
            named.add(field)
            yield Finding(code=Code.ASSEMBLED_VALUE, severity="error", field=field,
                          message=f"page {row.page}: {field} has a cell read as nothing that {cell.doubt.why}",
                          message_zh=f"第{row.page}页：{field_zh(field)}有单元格未读出文字，该单元格{cell.doubt.why_zh}")


def unread_text(form: Form, fr: FormRows, reader: FormReader) -> Iterator[Finding]:
    """An error for each text in the form that is no value of the record, no label and
    no furniture: what the reading passed over (a column it does not know, a row it
    could not place, a year printed where it did not look)."""
    texts, numbers = _record_values(form)
    levels = {compact(getattr(i, lv)) for i in form.indicators for lv in ("level1", "level2")} - {""}
    region = _region(fr, reader)
    for n, row in enumerate(region):
        for cell in row.cells:
            if not cell.text or cell.text.strip() == "":
                continue
            key = label_key(cell.text)
            if not key:
                continue
            # A level label no row carries: its rows went to another group (a page break
            # cut the merged cell, a row above it was lost), so it is no label here
            orphan = key in _LEVEL_WORDS and form.indicators and key not in levels
            if not orphan and _accounted(cell, key, texts, numbers, reader, form):
                continue
            if len(key) <= 4 and any(key in level for level in levels):
                continue  # a piece of a merged level label a page break repeated (`度指标`, `标`)
            if _label_cut_by_page(cell, key, row, region[:n]):
                continue
            # (the field the cell itself was read into, where it was: a row's cells may go to two)
            remark = _remark_of_row(row)
            field = "year" if _YEAR.search(key) and form.year is None else f"remarks.{remark[0]}" if remark and not remark[1] \
                else reader.path_of.get(id(cell)) or _field_of_row(row, reader)
            if field is None and cell.bbox is not None:  # a line of a cell the grid cut off from it
                field = _value_beside(cell, row, region[n - 1: n] + region[n + 1: n + 2], reader)
            if field is None:
                field = _block_around(region, n, reader, last=True)
            elif field == "funding_unit":  # (a column label of the funding header not understood: its column is lost)
                field = "funding"
            if field == "total_score" and form.total_weight is None and (form.total_score is not None or _DIGIT.search(cell.text)):
                # (the total row prints two figures: with the score read, the one not read is
                # the weight, whatever it was read as: a seal's ink over `100` read `_10.00`, `leo`)
                field = "total_weight"
            placed = not row.in_table or any(id(c) in reader.path_of for c in row.cells)
            if not placed and not remark and (block := _block_around(region, n, reader)):
                # (a row of the block not placed at all: the rows around it may be off by one.
                # Not a remark's row: after a page break camelot wrote 评价结论 and its 优 into one
                # cell, amid the indicators' rows, and the remark was missing, named as theirs)
                field = block
            elif orphan:
                # (the rows it heads took another group's label; which rows, the reading cannot
                # say — a merged cell spans them, a scan's grid may have lost rows: the column.
                # The first read row below was named, and a 150-dpi scan carried 质量指标 into
                # two rows further down, silently)
                level = "level1" if key in VOCAB.level1_words and key not in VOCAB.level2_words else "level2"
                field = f"indicators[].{level}"
            yield Finding(code=Code.UNREAD_TEXT, severity="error", field=field, found=cell.text,
                          message=f"page {row.page}: '{cell.text[:60]}' is printed in the form and was read as nothing"
                                  + (f" (in {field})" if field else ""),
                          message_zh=f"第{row.page}页：表中“{cell.text[:60]}”未被读取" + (f"（{field_zh(field)}）" if field else ""))
