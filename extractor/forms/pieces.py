"""Forms whose title is printed where the rules found no table: the pieces of text an
LLM can read, or that are reported as read poorly — never "no form found".

A crawler's one-line form, a form printed one cell per line, figures run together:
the rules cut no form out of them, but the self-evaluation title is there. The watch
sees every row as it streams past, notes each title printed in it (several in one
row when a whole report is one line), and when the rules yield a form, the titles in
the gap before it that no form covers become pieces: the text from the title to the
next title or form. Rows of a finished form are dropped, so a long report is held
no longer than the rules hold it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..layout.page import Row
from .templates import VOCAB

# A title counts as covered by a form whose rows begin within this many rows after it
# (its year line, a 填报单位 line and a unit line come between).
_TITLE_LEAD = 6
_MIN_FIGURES = 6  # fewer in a piece is a mention in prose ("附件：项目支出绩效自评表"), not a form
_MAX_CHARS = 60_000  # the longest piece kept (a form is a few thousand characters)
_KEEP_CHARS = 4_000_000  # text held between two forms at most

_TITLES = sorted({*VOCAB.form_titles, *VOCAB.department_titles, *(t for f in VOCAB.families for t in f.titles)},
                 key=len, reverse=True)
_FORM_TITLE = re.compile("|".join(r"\s*".join(map(re.escape, t)) for t in _TITLES if any(m in t for m in VOCAB.form_titles)))
_HEAD = re.compile(r"(?:部门\s*[(（]\s*单位\s*[)）]|部门|单位|[\u4e00-\u9fff]{0,8}(?:区|市|省|县|局|委|厅))?\s*$")
_FIGURE = re.compile(r"\d+\.\d+|\d{2,}")
_YEAR = re.compile(r"(20\d\d)\s*年")
# A form prints some of these near its title; a mention of the title in prose (a
# README, a notice) mostly does not, and prose in another language is no form.
_FORM_WORDS = ("资金", "预算", "执行", "指标", "分值", "得分", "目标")
_LATIN = re.compile(r"[A-Za-z]")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _chinese(text: str) -> bool:
    """Chinese rather than another language's prose: no more Latin letters than Han characters."""
    return len(_LATIN.findall(text)) <= len(_CJK.findall(text))


@dataclass
class Piece:
    """A form's title and the text after it that the rules could not cut into a table."""

    kind: str  # "project" | "department"
    title: str
    year: int | None
    pages: list[int]
    text: str

    @property
    def figures(self) -> int:
        return len(_FIGURE.findall(self.text))

    def like_a_form(self) -> bool:
        """Figures, the form's words soon after the title, and Chinese rather than
        another language's prose: a form in a layout the rules cannot read, not a
        mention of one."""
        head = self.text[:3000]
        return (self.figures >= _MIN_FIGURES and sum(w in head for w in _FORM_WORDS) >= 4
                and _chinese(head))


@dataclass
class _Seen:
    order: int
    page: int
    text: str
    titles: list[int] = field(default_factory=list)  # offsets of the titles printed in the row


def _row_text(row: Row) -> str:
    return "\t".join(c.text for c in row.cells if c.text)


def title_starts(text: str) -> list[int]:
    """Where each self-evaluation title printed in `text` begins (a department's
    `部门(单位)` before 整体支出绩效自评表 included)."""
    out = []
    for m in _FORM_TITLE.finditer(text):
        head = _HEAD.search(text, max(0, m.start() - 12), m.start())
        start = head.start() if head and head.end() == m.start() else m.start()
        out.append(start)
    return out


def _headline(text: str, start: int) -> bool:
    """A title that heads its line (after at most an 附件2 or a number), in Chinese: not
    one mentioned in a sentence or in another language's prose."""
    after = _FORM_TITLE.match(text, start)
    return (len(re.sub(r"[\s*#>|:：、.\d]|附件|附表|年度?", "", text[:start])) <= 2
            and not (after and re.match(r"\s*[。，,；;！？]", text[after.end():]))
            and _chinese(text))


class TitleWatch:
    """Titles of forms the rules did not find, as the rows stream past."""

    def __init__(self) -> None:
        self.rows: list[_Seen] = []
        self.kept = 0
        self.first: tuple[int, str] | None = None  # (page, text) of the first title anywhere

    def see(self, row: Row) -> None:
        text = _row_text(row)
        starts = title_starts(text) if "评" in text else []
        if starts and self.first is None and _headline(text, starts[0]):
            self.first = (row.page, text[starts[0]: starts[0] + 40])
        if self.kept + len(text) > _KEEP_CHARS:
            return  # (a gap this long holds no form an LLM could read whole: its titles are still counted)
        self.rows.append(_Seen(row.order, row.page, text, starts))
        self.kept += len(text)

    def form(self, rows: list[Row]) -> list[Piece]:
        """A form the rules cut out of `rows` (before its anchor too): the pieces in the
        gap before it; its rows are dropped."""
        orders = [r.order for r in rows]
        if not orders:
            return []
        first, last = min(orders), max(orders)
        gap = [s for s in self.rows if s.order < first]
        pieces = _pieces(gap, first - _TITLE_LEAD)
        self.rows = [s for s in self.rows if s.order > last]
        self.kept = sum(len(s.text) for s in self.rows)
        return pieces

    def finish(self) -> list[Piece]:
        pieces = _pieces(self.rows, None)
        self.rows, self.kept = [], 0
        return pieces


def piece_at(text: str, pages: list[int]) -> Piece:
    """The piece of text that opens with a form's title: its kind, title and year."""
    m = _FORM_TITLE.search(text)
    title = re.sub(r"\s+", "", text[: m.end()]) if m else ""
    year = _YEAR.search(text[:80])
    kind = "department" if any(d in title for d in VOCAB.department_titles) else "project"
    return Piece(kind=kind, title=title, year=int(year.group(1)) if year else None, pages=pages, text=text)


def _pieces(rows: list[_Seen], lead_from: int | None) -> list[Piece]:
    """The pieces of a gap's rows: from each title to the next; a title within the
    lead of the form after the gap is that form's own."""
    starts = [(i, off) for i, s in enumerate(rows) for off in s.titles]  # (every title ends the piece before it)
    out = []
    for k, (i, off) in enumerate(starts):
        if lead_from is not None and rows[i].order >= lead_from:
            break
        j, end_off = starts[k + 1] if k + 1 < len(starts) else (len(rows), 0)
        parts, pages = [], []
        for n in range(i, min(j + 1, len(rows))):
            text = rows[n].text
            a = off if n == i else 0
            b = end_off if n == j else len(text)
            if b > a:
                parts.append(text[a:b])
                pages.append(rows[n].page)
            if sum(map(len, parts)) > _MAX_CHARS:
                break
        piece = piece_at("\n".join(parts)[:_MAX_CHARS], sorted(set(pages)))
        if piece.like_a_form():
            out.append(piece)
    return out


def piece_of_rows(kind: str, title: str, year: int | None, rows: list[Row]) -> Piece | None:
    """Rows the rules cut out as a form and read nothing of (no figure, no name), though
    they print figures: a form in a layout the rules cannot read (cells split by spaces),
    not a blank template. None when they print too few figures to be one."""
    text = "\n".join(_row_text(r) for r in rows)
    piece = Piece(kind=kind, title=title, year=year, pages=sorted({r.page for r in rows}), text=f"{title}\n{f'({year}年度)' if year else ''}\n{text}"[:_MAX_CHARS])
    return piece if piece.like_a_form() else None
