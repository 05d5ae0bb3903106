"""Cutting a document's rows into forms.

A form is anchored by its first label row (项目名称, or 部门(单位)名称 for the
whole-department form). The title and year rows printed before the anchor
belong to it; a title with no anchor after it (a leftover heading) holds no
form. A form ends where the next one's title or anchor begins, so a form can
run on across pages and a page can hold the end of one and the start of the next.

Only self-evaluation forms are forms: the title of another table that shares
their labels (a 绩效目标申报表, a 监控表, a 决算 table) ends the form before it, and
its rows, anchors included, are skipped until the next form's title; each such
table is listed (`SkippedTable`).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..layout.page import Cell, Row
from ..models import SkippedTable
from .numbers import compact
from .templates import VOCAB

TITLE_MARKERS = VOCAB.form_titles
DEPARTMENT_MARKERS = VOCAB.department_titles
PROJECT_ANCHOR = VOCAB.project_anchor
DEPARTMENT_ANCHOR = VOCAB.department_anchor
_FUNDING_BLOCK = VOCAB.funding_block
_FORM_ENDS = (*VOCAB.total, *VOCAB.grade)
_YEAR = re.compile(r"^[(（]?\s*(\d{4})\s*年度?\s*[)）]?$")


@dataclass
class FormRows:
    kind: str  # "project" | "department"
    title: str
    year: int | None
    rows: list[Row] = field(default_factory=list)
    before_anchor: list[Row] = field(default_factory=list)  # rows between title and anchor
    narrative: int = 0  # lines of prose after its rows, kept out of it (text_export.Prose)
    title_row: Row | None = None  # where the title is printed (its provenance: page, box, how sure a scan's reading is)

    @property
    def pages(self) -> list[int]:
        return sorted({r.page for r in self.rows} | {r.page for r in self.before_anchor})


_TITLE_END = re.compile(r"(表|报告|意见|申报书|评价|自评|自评价|自我评价)$")
_LABELS_THAT_OPEN_ROWS = (*PROJECT_ANCHOR, *DEPARTMENT_ANCHOR, *VOCAB.department, *VOCAB.implementing_unit)


def title_kind(row: Row, filled: list[Cell]) -> str | None:
    """'form' for a self-evaluation form's title, 'other' for another table's, else None.
    By its shape, not a word in it: a title is a row of one cell (or a title and its
    year), no label opening it, that ends as a title does (…表, …自评价) — a label/value
    row never is one (a project named 专家评审工作经费 is no 专家评审 table)."""
    filled = distinct(filled)
    if len(filled) > 2:
        return None
    first = compact(filled[0].text) if filled else ""
    if first.startswith(_LABELS_THAT_OPEN_ROWS):
        return None
    text = compact("".join(c.text for c in filled))
    if len(text) > 40:
        return None
    bare, _ = _title_year(text.strip("《》")) if any(ch.isdigit() for ch in text) else (text.strip("《》"), None)
    bare = re.sub(r"[(（]?\d{4}年度?[)）]?$", "", bare)  # (an other table's year after its title)
    if len(filled) == 2 and not (compact(filled[1].text) in text[-12:] and _YEAR_ONLY.fullmatch(compact(filled[1].text))):
        return None  # two cells: a title and its year only
    if any(m in bare for m in TITLE_MARKERS):
        return "form"
    if any(m in bare for m in VOCAB.other_tables) and _TITLE_END.search(bare):
        return "other"
    if misread_title(bare, filled) is not None:
        return "form"
    return None


_FULL_TITLES = tuple(sorted({t for f in VOCAB.families for t in f.titles if len(t) >= 6}))


def misread_title(text: str, filled: list[Cell]) -> str | None:
    """The template title a scan's reading of a title row stands for, where the reader
    dropped or changed a character of it (`项支比绩效评表` for 项目支出绩效自评表, at 200 dpi
    in Chromium's font): read by OCR, ending as a title does, most of a template title's
    characters in order. None for text from a text layer, or nothing like one."""
    if not filled or all(c.confidence >= 1.0 for c in filled) or len(text) < 6 or not _TITLE_END.search(text):
        return None
    ratio, best = max(((SequenceMatcher(None, text, t, autojunk=False).ratio(), t) for t in _FULL_TITLES), key=lambda rt: rt[0])
    return best if ratio >= 0.7 else None


_YEAR_ONLY = re.compile(r"[(（]?\d{4}年度?[)）]?")


_YEAR_IN_TITLE = re.compile(r"[(（]?\s*(20\d\d)\s*年度?\s*[)）]?")


def _title_year(title: str) -> tuple[str, int | None]:
    """A title with the year printed in it (`…自评表(2023年度)`): the title, the year."""
    m = _YEAR_IN_TITLE.search(title)
    if m is None or not any(t in title[: m.start()] + title[m.end():] for t in TITLE_MARKERS):
        return title, None
    return (title[: m.start()] + title[m.end():]).strip(), int(m.group(1))


def distinct(filled: list[Cell]) -> list[Cell]:
    """A row's cells with a merged cell written into every column it spans (as
    converters write it: `title|title|title`) counted once."""
    return [c for i, c in enumerate(filled) if i == 0 or c.text != filled[i - 1].text]


def year_of(filled: list[Cell]) -> int | None:
    filled = distinct(filled)
    if len(filled) != 1:
        return None
    m = _YEAR.match(compact(filled[0].text))
    return int(m.group(1)) if m else None


def anchor_kind(filled: list[Cell]) -> str | None:
    first = compact(filled[0].text) if filled else ""
    if first.startswith(PROJECT_ANCHOR):
        return "project"
    if first.startswith(DEPARTMENT_ANCHOR):
        return "department"
    return None


def _opens_with_department(filled: list[Cell], title: str, current: FormRows | None) -> str | None:
    """'department' for a department form's head row that opens with 主管部门 (Chongqing's):
    after a department title, or — no title kept (pdfplumber's tables) — where the row
    prints, in a cell of its own, a label only a department head prints (财政处室, 自评总分)
    and no project form is open (whose own 主管部门 row it would cut). Not a label run into
    its neighbour's cell (camelot's `…中心\n财政处室`): such a table is read too poorly
    to guess at — its remarks and a row shifted, silently — and stays no form."""
    if not compact(filled[0].text).startswith(VOCAB.department):
        return None
    if current is None and any(m in title for m in DEPARTMENT_MARKERS):
        return "department"
    if not title and (current is None or current.kind == "department") \
            and any(compact(c.text).startswith(VOCAB.department_head) for c in filled[1:]):
        return "department"
    return None


def iter_form_rows(rows: Iterable[Row], skipped: list[SkippedTable] | None = None) -> Iterator[FormRows]:
    """Forms in document order, each yielded as soon as the next one begins (or the
    rows end), so a long document is cut into forms without holding all its rows.
    Other tables' titles are appended to `skipped`."""
    title, year, pending = "", None, []  # what precedes the next anchor
    title_row: Row | None = None
    current: FormRows | None = None
    skipping = False  # inside another kind of table
    ended = False  # the current form's total or grade row has been read
    for row in rows:
        filled = row.filled  # (once: a list built from the cells)
        if row.prose:  # (a long run of prose lines: no title, year, label or value in it)
            if current is not None:
                current.narrative += row.prose
            continue
        if not filled:
            continue
        heading = title_kind(row, filled)
        if heading is not None:
            if current is not None:
                yield current
            title, title_row = compact("".join(c.text for c in distinct(filled))).strip("《》"), row
            if heading == "form":  # the year printed inside the title is the year's, not the title's
                title, year_in_title = _title_year(title)
            year, pending, current = (year_in_title if heading == "form" else None), [], None
            skipping = heading == "other"
            if skipping and skipped is not None:
                skipped.append(SkippedTable(title=title, page=row.page))
            continue
        if skipping:
            continue
        y = year_of(filled)
        if y is not None and current is None:
            year = y
            continue
        kind = anchor_kind(filled) or _opens_with_department(filled, title, current)
        if kind is not None:
            if current is not None:
                yield current
            if any(m in title for m in DEPARTMENT_MARKERS):
                kind = "department"
            current = FormRows(kind=kind, title=title, year=year, rows=[row], before_anchor=pending,
                               title_row=title_row if title else None)
            title, title_row, year, pending, ended = "", None, None, [], False
            continue
        first = compact(filled[0].text)
        if current is not None and ended and current.kind == "project" and first.startswith(_FUNDING_BLOCK):
            # A funding block after the form's total: the next form, its title and
            # head lost (a parser dropped them). Read as a form with no head (its
            # missing fields are errors), never as more of this one.
            yield current
            current = FormRows(kind="project", title="", year=None, rows=[row], before_anchor=[])
            ended = False
            continue
        if current is not None:
            current.rows.append(row)
            if first.startswith(_FORM_ENDS):
                ended = True
        else:
            pending.append(row)
    if current is not None:
        yield current

