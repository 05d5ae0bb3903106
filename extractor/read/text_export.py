"""Reading the text that another parser made of a report.

The format of the seeds: one table row a line, cells separated by tabs,
markdown headings (`# 财政项目…`), cell text sometimes wrapped in `<p>` tags,
blank lines where the original had a page break. HTML tables (`<tr>/<td>`) are
turned into the same shape first; markdown pipe tables (`| a | b |`, what most
PDF-to-markdown converters write) are read row by row the same way.
"""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Iterable, Iterator

from ..layout.page import BESIDE_INTERLEAVED, INTERLEAVED, INTERLEAVED_ACROSS, Cell, Doubt, PageText, Row
from ..forms.numbers import clean_cell

_ROW_START = re.compile(r"<tr\b[^>]*>", re.I)
_ROW_END = re.compile(r"</tr\s*>|</t(?:able|body|head|foot)\s*>", re.I)
_CELL_START = re.compile(r"<t[dh]\b[^>]*>", re.I)
_CELL_END = re.compile(r"</t[dh]\s*>", re.I)
_TAGS = re.compile(r"<(?!/?p>|/?sup>)[^>]+>")
_PIPE = re.compile(r"(?<!\\)\|")  # a cell border in a markdown table; `\|` is a literal bar
# The rule under a markdown table's header: |---|:--|--:|. Three dashes or a colon, so
# a row of "-" cells (no value) is not taken for one. Matched on the line without its
# white space (`_pipe_rule`): with `\s*` around each cell the pattern backtracked for
# seconds over a long run of spaces.
_RULE_CELL = r"(?:-{3,}|:-+|-+:|:-+:)"
_PIPE_RULE = re.compile(rf"\|?(?:{_RULE_CELL}\|)+(?:{_RULE_CELL})?")
_WHITE = re.compile(r"\s+")


def _pipe_rule(line: str) -> bool:
    return "-" in line and _PIPE_RULE.fullmatch(_WHITE.sub("", line)) is not None


def pipe_cells(line: str) -> list[str] | None:
    """The cells of a table row drawn with bars: `| a | b |` (markdown), or as crawlers
    and copy-paste write it, `a | b | c |` or `a | b | c` (two bars at least); None for
    any other line."""
    t = line.strip()
    if len(t) < 2 or "|" not in t:
        return None
    if t.startswith("|") and t.endswith("|") and not t.endswith("\\|"):
        return [c.strip().replace("\\|", "|") for c in _PIPE.split(t[1:-1])]
    bars = len(_PIPE.findall(t))
    if bars < 2 and not (bars == 1 and t.endswith("|")):
        return None
    parts = [c.strip().replace("\\|", "|") for c in _PIPE.split(t)]
    if parts and parts[0] == "" and t.startswith("|"):
        parts = parts[1:]
    if parts and parts[-1] == "" and t.endswith("|"):
        parts = parts[:-1]
    return parts


def _one_cell(line: str) -> str | None:
    """`项目名称 |`: a cell a line, as a crawler writes a row (its text; None for any other
    line). No regular expression: one backtracked over a line of 4,000 spaces for 20 s."""
    t = line.strip()
    if not t.endswith("|") or t.count("|") != 1 or "\t" in t:
        return None
    return t[:-1].strip() or None


_SPACED = re.compile(r"[ \u3000]{2,}")  # cells apart by runs of spaces (a page copied as text)


def _cell_runs(numbered: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """A run of one-cell lines (`cell |`), up to a blank line or another kind of line,
    as the row it is: one line `a | b | c |`."""
    run: list[tuple[int, str]] = []
    for lineno, line in numbered:
        cell = None if isinstance(line, Prose) else _one_cell(line)
        if cell is not None:
            run.append((lineno, cell))
            continue
        if run:
            yield run[0][0], " | ".join(c for _, c in run) + " |"
            run = []
        yield lineno, line
    if run:
        yield run[0][0], " | ".join(c for _, c in run) + " |"


_NOT_CONTENT = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style|template)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.I | re.S)


class Spans:
    """The cells a table's `rowspan`s carry into the rows below, across the pieces an
    export is read in: a merged cell's text in its first row and column, empty cells
    for the rest of its range — as a workbook's merged ranges are read."""

    def __init__(self) -> None:
        self.below: dict[int, int] = {}  # column → rows still covered by a cell above

    def lay_out(self, cells: list[tuple[str, int, int]]) -> list[str]:
        """A row's cells (text, colspan, rowspan) in the table's columns."""
        out: list[str] = []
        col = 0

        def skip_covered() -> None:
            nonlocal col
            while self.below.get(col, 0) > 0:
                out.append("")
                self.below[col] -= 1
                col += 1

        for text, colspan, rowspan in cells:
            skip_covered()
            for k in range(colspan):
                out.append(text if k == 0 else "")
                if rowspan > 1:
                    self.below[col] = rowspan - 1
                col += 1
        last = max((c for c, n in self.below.items() if n > 0), default=-1)
        while col <= last:  # columns covered from above past the row's own cells
            if self.below.get(col, 0) > 0:
                self.below[col] -= 1
            out.append("")
            col += 1
        return out


_TABLE_EDGE = re.compile(r"<(?:/\s*)?table\b", re.I)
_TABLE_START = re.compile(r"<table\b", re.I)
_CELL_EDGE = re.compile(r"</?t[dh]\b[^>]*>", re.I)
_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|div|h[1-6]|li|section|article|header|footer|nav)\s*>", re.I)
_ANY_TAG = re.compile(r"<[^>]+>")
_SPAN_ATTR = re.compile(r"""(colspan|rowspan)\s*=\s*["']?\s*(\d+)""", re.I)


def html_tables_to_tsv(text: str, tables: bool | None = None, spans: Spans | None = None) -> str:
    """Turn `<tr><td>` tables into tab-separated lines, their spans laid out as merged
    ranges (`Spans`); the text around the tables as lines, its tags dropped.
    Scripts, styles and comments are not the document's content: dropped first.
    `tables`: does the export have HTML rows (None: those of `text`)? `spans`: the
    table's open rowspans, kept across the pieces of one export."""
    if "<" in text:
        text = _NOT_CONTENT.sub("", text)
    if not (tables if tables is not None else "<tr" in text.lower()):
        return text
    spans = spans or Spans()
    # One pass, splitting at each row's start: a row ends at </tr> or where its table
    # or section does, as HTML's implied end tags have it. (A lazy match from every
    # <tr> to its </tr> took quadratic time on rows left unclosed: 60,000 of them hung.)
    pieces = _ROW_START.split(text)
    out = [_between(pieces[0], spans)]
    for piece in pieces[1:]:
        end = _ROW_END.search(piece)
        row, rest = (piece, "") if end is None else (piece[: end.start()], piece[end.end():] if end.group(0).lower().startswith("</tr") else piece[end.start():])
        if _TABLE_START.search(row):
            # A row whose cell holds a table: a page laid out in a table (old sites put
            # the article in one cell, navigation in another) — its text is lines, and
            # the table inside it the data
            out.append(_between(_CELL_EDGE.sub("<br>", row) + "<br>", spans) + _between(rest, spans))
            continue
        out.append("\t".join(spans.lay_out(_cells(row))) + "\n" + _between(rest, spans))
    # Entities stay as they are: each cell is unescaped once, after the line is split
    # into cells (export_rows), so an escaped tab (`&#9;`) cannot split a cell and an
    # escaped entity (`&amp;lt;`) is not unescaped twice.
    return "".join(out)


def _between(text: str, spans: Spans) -> str:
    """The text between rows: a table's edge ends its spans; block ends are line ends,
    other tags are dropped (a page's title, its navigation, its footer)."""
    if _TABLE_EDGE.search(text):
        spans.below.clear()
    text = _ANY_TAG.sub("", _BLOCK_END.sub("\n", text))
    # Whitespace between a table's tags is formatting, not a blank line (a text export's
    # blank line is a page break, where a cut label's pieces join)
    return "" if not text.strip() else text


def _cells(row: str) -> list[tuple[str, int, int]]:
    """A row's cells (text, colspan, rowspan), each to its </td> or to the next cell's
    start (left unclosed)."""
    cells = []
    starts = list(_CELL_START.finditer(row))
    for i, start in enumerate(starts):
        part = row[start.end(): starts[i + 1].start() if i + 1 < len(starts) else len(row)]
        end = _CELL_END.search(part)
        body = part if end is None else part[: end.start()]
        attrs = {k.lower(): min(int(v), 1000) for k, v in _SPAN_ATTR.findall(start.group(0))}
        text = _TAGS.sub("", _BLOCK_END.sub("<br>", body)).replace("\t", " ").replace("\n", " ")
        cells.append((text, max(1, attrs.get("colspan", 1)), max(1, attrs.get("rowspan", 1))))
    return cells


def read_text_export(text: str) -> PageText:
    """All rows of a text export as one pseudo-page (exports have no page geometry)."""
    return PageText(number=1, width=0, height=0, rows=list(export_rows(export_lines([text]))))


_HOLD = 4 << 20  # characters held uncut before the rest of an export is read whole (an unclosed script)


def export_lines(pieces: Iterable[str]) -> Iterator[str]:
    """The lines of a text export given in pieces (a file read a megabyte at a time),
    its HTML tables turned into tab-separated lines: each piece is cut where nothing
    spans the cut (before a `<tr>` once the export has HTML rows, else after a
    newline; never inside a comment or script) and converted alone, so a 200 MB
    export is never held whole. One piece is converted as the whole text; so is any
    export whose HTML rows, if it has them, start in its first megabyte. Where no cut
    comes for `_HOLD` characters (a script left open at the top), the rest is
    converted whole, as the whole text was: in one pass, not one per piece."""
    buffer, partial, rows_seen = "", "", False
    spans = Spans()
    pieces = iter(pieces)
    piece = next(pieces, None)
    while piece is not None:
        following = next(pieces, None)
        buffer += piece
        rows_seen = rows_seen or "<tr" in buffer[-len(piece) - 3:].lower()
        if following is None:
            cut = len(buffer)
        else:  # (past _HOLD with no cut, the rest is taken whole: each try rescans the buffer)
            cut = _cut(buffer, rows_seen) if len(buffer) <= _HOLD else 0
        piece = following
        if cut <= 0:
            continue
        head, buffer = buffer[:cut], buffer[cut:]
        text = partial + html_tables_to_tsv(head.replace("\r\n", "\n"), tables=rows_seen, spans=spans)
        end = text.rfind("\n") + 1
        partial = text[end:]
        yield from _lines_and_prose(text[:end])
    if partial:
        yield partial


class Prose(str):
    """The middle of a long run of lines of prose (a report's narrative, filler between
    forms) taken as one piece: `lines` lines joined by newlines. Each of them read alone
    would be a row of one cell that is no title, label, year or value; reading them one
    by one cost a row's machinery per line (issue 31: a 200 MB export of one form and
    filler must read at 50 MB/s)."""

    lines: int


# A line of prose: 24 characters at least, none of them a cell border (tab, bar, comma,
# a space: runs of spaces part cells), a digit (a year, an amount), a quote or markup
# (tags, entities, markdown's headings and emphasis, pandas' `\n`), nor 评 (every form
# title's mark: a title is never taken in), not ending as another table's title does
# (…表, …报告, …意见, …申报书, …评价). Too long for a short label cell (the template
# families' marks). A run is taken from _PROSE_RUN lines on, less _PROSE_EDGE lines at
# each end, which are read as lines: a form's label rows (a long project name) can only
# stand at a run's end, as digits follow a form's head within a few lines.
_NOT_PROSE = '\\n\\r\\t|",<>&#*_\\\\\\d０-９ \\u3000\\xa0评'
_PROSE_LINE = rf"[^{_NOT_PROSE}]{{23,}}[^{_NOT_PROSE}表告见书价]\n"
_PROSE_RUN, _PROSE_EDGE = 64, 8
_PROSE = re.compile(rf"^(?:{_PROSE_LINE}){{{_PROSE_RUN},}}", re.M)
_PROSE_PIECE = 1 << 20  # characters of a Prose at most (a longer run is several)


def _lines_and_prose(text: str) -> Iterator[str]:
    """The lines of `text` (which ends with a newline, or is empty), the middle of a long
    run of prose lines as Prose pieces of at most _PROSE_PIECE characters."""
    at = 0
    for m in _PROSE.finditer(text):
        start, end = m.start(), m.end()
        for _ in range(_PROSE_EDGE):  # (the run's first and last lines stay lines)
            start = text.index("\n", start) + 1
            end = text.rindex("\n", 0, end - 1) + 1
        if start > at:
            yield from text[at: start - 1].split("\n")
        while start < end:
            cut = end if end - start <= _PROSE_PIECE else text.rindex("\n", start, start + _PROSE_PIECE) + 1
            piece = Prose(text[start: cut - 1])
            piece.lines = piece.count("\n") + 1
            yield piece
            start = cut
        at = end
    if at < len(text):
        yield from text[at: len(text) - 1].split("\n")


def _cut(buffer: str, rows_seen: bool) -> int:
    """Where `buffer` can be cut with nothing spanning the cut (0: not yet)."""
    if rows_seen:
        low = buffer.lower()
        cut = low.rfind("<tr")
        while cut > 0 and low[cut + 3: cut + 4].isalnum():  # (<track>)
            cut = low.rfind("<tr", 0, cut)
    else:
        cut = buffer.rfind("\n") + 1
    if cut <= 0 or buffer[cut - 1] == "\r":
        return 0
    last = None
    for last in _NOT_CONTENT.finditer(buffer, 0, cut):
        pass
    if last is not None and last.end() == cut and not re.search(r"(?:-->|</(?:script|style|template)\s*>)$", last.group(0), re.I):
        return 0  # inside a comment or script that closes later
    return cut


_PLACEHOLDER = re.compile(r"\s*Col\d+\s*")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")  # markdown bold, as converters mark titles


def _cell_text(raw: str) -> str:
    """A cell as printed: its wraps and tags undone, then its entities unescaped, once
    (an escaped `&lt;p&gt;` stays the text `<p>`, an escaped tab a space). A quoted
    cell (CSV's quoting) is unquoted; a `\\n` pandas wrote for a line break is one."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1].replace('""', '"')
    raw = raw.replace("\\n", "\n")
    text = html.unescape(clean_cell(_EMPHASIS.sub(r"\2", raw)))
    return " ".join(text.split()) if any(ch in text for ch in "\t\n\r\xa0") else text


_QUOTED_LINES = 50  # a quoted cell holds at most this many lines (a stray quote opens none)


def _quoted_lines(lines: Iterable[str], sep: str = "\t") -> Iterator[tuple[int, str]]:
    """(line number, line), a line that ends inside a quoted cell (CSV's way of holding
    a line break in a cell: camelot, pandas) joined with the lines up to its close."""
    held: list[str] = []
    start = lineno = 0
    for raw in lines:
        lineno += 1
        if isinstance(raw, Prose):  # (no quote in it: nothing held goes on inside it)
            if held:
                yield from ((start + i, h) for i, h in enumerate(held))
                held = []
            yield lineno, raw
            lineno += raw.lines - 1
            continue
        line = raw.rstrip("\n")
        if held:
            held.append(line)
            if not _inside_quote("\n".join(held), sep):
                yield start, "\n".join(held)
                held = []
            elif len(held) > _QUOTED_LINES:  # a stray quote: the lines as they are
                yield from ((start + i, h) for i, h in enumerate(held))
                held = []
            continue
        if '"' in line and _inside_quote(line, sep):
            held, start = [line], lineno
            continue
        yield lineno, line
    if held:
        yield from ((start + i, h) for i, h in enumerate(held))


def _inside_quote(text: str, sep: str) -> bool:
    """Does `text` end inside a quoted cell (a quote opens only at a cell's start; `""`
    inside one is a quote)?"""
    inside, at_start, i, n = False, True, 0, len(text)
    while i < n:
        ch = text[i]
        if inside:
            if ch == '"':
                if i + 1 < n and text[i + 1] == '"':
                    i += 1
                else:
                    inside = False
        elif ch == '"' and at_start:
            inside = True
        at_start = not inside and ch in (sep, "\n")
        i += 1
    return inside


def _split(line: str, comma: bool) -> list[str]:
    """A line's cells: tab-separated, or comma-separated where the export is CSV; a
    quoted cell keeps its separators."""
    if '"' not in line and not comma:
        return line.split("\t")
    return next(csv.reader([line], delimiter="," if comma else "\t"), [])


def _is_frame_header(cells: list[str]) -> bool:
    """pandas' header row of a frame with no column names: `0 1 2 …`, after the index's
    empty corner (camelot's to_csv and to_html write it). Two columns only after the
    corner: camelot writes a table of two (a row's end a page break cut off, continued
    on the next page) so, and its `0 1` had been read as the total's weight and score."""
    corner = bool(cells) and cells[0] == ""
    body = cells[1:] if corner else cells
    return len(body) >= (2 if corner else 3) and body == [str(i) for i in range(len(body))]


# A markdown table is read whole before its rows are given out (to see its doubled
# columns) up to this many lines; a longer one is given out as it comes.
_TABLE_LOOKAHEAD = 2000


# Column heads these forms print (the project, department and provinces' tables): a row
# holding three of them twice each, side by side, is the head of a table a converter
# split column by column (a merged head is never two of its own columns' heads).
_HEADS = ("年初预算", "全年预算", "全年执行", "预算数", "执行数", "分值", "分数", "权重", "得分", "执行率",
          "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "指标值", "偏差原因")


def _twins_of(row: list[str], placeholders: bool) -> set[int]:
    """Evidence of split columns in one row: with `placeholders` (a table's first row),
    its `ColN` cells; else the second of each column head printed twice side by side,
    when three heads are."""
    if placeholders:
        return {j for j in range(1, len(row)) if _PLACEHOLDER.fullmatch(row[j])}
    twins = {j for j in range(1, len(row)) if row[j] and row[j] == row[j - 1] and row[j].startswith(_HEADS)}
    return twins if len(twins) >= 3 else set()


def _doubled_columns(table: list[list[str]]) -> list[tuple[int, int, frozenset[int]]]:
    """The runs of a markdown table's rows that a converter split column by column, as
    (first row, last row, the second column of each pair). pymupdf4llm, on a table
    continued after a page break or a page of merged cells, splits each column a merged
    cell's ruling crosses in two and repeats the text in both. The evidence is a row the
    converter marked: a first row whose twins are `ColN` placeholders, or a head row that
    prints three column heads twice each. From it the run goes on while every row holds,
    in each twin column, nothing or its left neighbour's text; a twin column is left out
    where two rows or more repeat the text in it (two columns that merely agree, as a
    weight and a full score do, are never taken for twins: nothing marks them). Other
    columns repeating their left neighbour in every row of the run go with them."""
    rows = [[c.strip() for c in r] for r in table]
    cell = lambda r, j: r[j] if j < len(r) else ""  # noqa: E731
    fits = lambda r, cols: all(not cell(r, j) or _PLACEHOLDER.fullmatch(cell(r, j)) or cell(r, j) == cell(r, j - 1)  # noqa: E731
                               for j in cols)
    regions: list[tuple[int, int, frozenset[int]]] = []
    i = 0
    while i < len(rows):
        evidence = _twins_of(rows[i], placeholders=i == 0)
        if not evidence:
            i += 1
            continue
        last = i
        while last + 1 < len(rows) and fits(rows[last + 1], evidence):
            last += 1
        run = rows[i:last + 1]
        same = lambda j: sum(1 for r in run if cell(r, j) and not _PLACEHOLDER.fullmatch(cell(r, j))  # noqa: E731
                             and cell(r, j) == cell(r, j - 1))
        doubled: set[int] = set()
        for j in sorted(evidence):
            holes = sum(1 for r in run[1:] if cell(r, j - 1) and not cell(r, j))
            if j - 1 not in doubled and same(j) >= 2 and holes * 4 <= same(j):
                doubled.add(j)
        if doubled:
            width = max(map(len, run))
            for j in range(1, width):  # (the twin of a column whose head is empty: the row labels')
                if not {j - 1, j, j + 1} & doubled and all(fits(r, (j,)) for r in run) and same(j) >= 2:
                    doubled.add(j)
        if doubled and len(run) >= 3:
            regions.append((i, last, frozenset(doubled)))
        i = last + 1
    return regions


def _with_doubled_columns(numbered: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str, list[str] | None, frozenset[int]]]:
    """Each line with its cells where it is a row of a markdown table (parsed once, here;
    None for any other line) and the columns of that table to leave out (`_doubled_columns`)."""
    none: frozenset[int] = frozenset()
    table: list[tuple[int, str, list[str] | None]] = []  # (line number, line, its cells; None: the rule)

    def flush() -> Iterator[tuple[int, str, list[str] | None, frozenset[int]]]:
        rows = [(lineno, cells) for lineno, _, cells in table if cells is not None]
        drop: dict[int, frozenset[int]] = {}
        if len(rows) >= 3 and len(table) <= _TABLE_LOOKAHEAD:
            for first, last, doubled in _doubled_columns([c for _, c in rows]):
                drop.update((rows[k][0], doubled) for k in range(first, last + 1))
        for lineno, line, cells in table:
            yield lineno, line, cells, drop.get(lineno, none)
        table.clear()

    for lineno, line in numbered:
        if not isinstance(line, Prose) and line.lstrip().startswith("|"):
            rule = _pipe_rule(line)
            cells = None if rule else pipe_cells(line)
            if rule or cells is not None:
                table.append((lineno, line, cells))
                if len(table) > _TABLE_LOOKAHEAD:
                    yield from flush()
                continue
        if table:
            yield from flush()
        yield lineno, line, None, none
    if table:
        yield from flush()


# A line of a cell holding two runs of characters side by side, where a converter wrote
# one cell's line beside another's: the end of one row's wrapped text and the start of
# the next row's (camelot: `"性 结\n结对帮扶工作开展规范"`), or the first line of the wrapped
# cell beside it (`医疗按摩实训基地建设扶持 有效提高盲人医` | `"疗按摩人员专业\n技术水平"`).
_TWO_CELLS_LINE = re.compile(r"[\u3400-\u9fff]+[ \u3000]+[\u3400-\u9fff]+")


def _lines(raw: str) -> list[str]:
    return raw.strip('"').replace("\\n", "\n").split("\n") if "\n" in raw or "\\n" in raw else [raw]


def _interleaved_cells(parts: list[str]) -> list[Doubt | None]:
    """Each cell's doubt: a line of two runs side by side in a cell of several lines
    (rows interleaved: the rows above and below are doubted by `export_rows`), or in a
    cell beside one of several lines (that cell lost its first line: doubted here)."""
    doubts: list[Doubt | None] = [None] * len(parts)
    if not any(" " in p or "\u3000" in p for p in parts):  # (every table row passes here: the usual row has no sign)
        return doubts
    lines = [_lines(p) for p in parts]
    for k, cell in enumerate(lines):
        if not any(_TWO_CELLS_LINE.fullmatch(line.strip()) for line in cell):
            continue
        wrapped = [j for j in (k - 1, k + 1) if 0 <= j < len(lines) and len(lines[j]) > 1]
        if len(cell) > 1:
            doubts[k] = INTERLEAVED
        elif wrapped:
            doubts[k] = INTERLEAVED_ACROSS
            for j in wrapped:
                doubts[j] = doubts[j] or BESIDE_INTERLEAVED
    return doubts


def export_rows(lines: Iterable[str], comma: bool = False) -> Iterator[Row]:
    """A text export's rows, one a line (lines of the converted text, numbered from 1).
    `comma`: the export is comma-separated (a .csv file). A cell whose lines a converter
    interleaved with a neighbouring row's is doubted, and so are the cells above and
    below it in its column (which of them lost or took characters, nothing tells)."""
    held: Row | None = None
    for row in _export_rows(lines, comma):
        if held is not None and held.in_table and row.in_table and not row.page_break_before:
            _doubt_beside(held, row)
            _doubt_beside(row, held)
        if held is not None:
            yield held
        held = row
    if held is not None:
        yield held


def _doubt_beside(row: Row, other: Row) -> None:
    """The cells of `other` in the columns where `row` has an interleaved cell."""
    for cell in row.cells:
        if cell.doubt is INTERLEAVED and cell.col is not None and cell.col < len(other.cells):
            beside = other.cells[cell.col]
            if beside.doubt is None:
                beside.doubt = BESIDE_INTERLEAVED


def _export_rows(lines: Iterable[str], comma: bool) -> Iterator[Row]:
    blank_run = False
    index: int | None = None  # a pandas frame's next row number, while its rows are read
    for lineno, line, piped, doubled in _with_doubled_columns(_cell_runs(_quoted_lines(lines, "," if comma else "\t"))):
        if isinstance(line, Prose):  # one row of one cell, as printed
            yield Row(cells=[Cell(text=line, col=0)], page=1, in_table=False, line=lineno, page_break_before=blank_run,
                      prose=line.lines)
            blank_run, index = False, None
            continue
        if not line.strip():
            blank_run = True
            continue
        if _pipe_rule(line):  # the rule under a markdown table's header row
            continue
        parts = piped if piped is not None else pipe_cells(line)
        if parts is None:
            line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line) if not line.startswith("\t") else line
            parts = _split(line, comma)
            if len(parts) == 1 and _SPACED.search(line.strip()):
                parts = _SPACED.split(line.strip())
        else:  # a converter's placeholder header (`Col1`, `Col2`: pymupdf) is no text
            parts = ["" if _PLACEHOLDER.fullmatch(p) else p for p in parts]
        stripped = [p.strip() for p in parts]
        if _is_frame_header(stripped):  # pandas' column numbers, and a row-number column below
            index = 0
            continue
        if index is not None and stripped and stripped[0] == str(index):
            parts, index = parts[1:], index + 1
        elif index is not None:
            index = None
        # (line, cell: where a value was read; a doubled column's twin left out, the cells
        # after it keep the place they have in the line)
        kept = [(i, p) for i, p in enumerate(parts) if i not in doubled]  # (only a markdown row has any)
        doubts = _interleaved_cells([p for _, p in kept])
        cells = [Cell(text=_cell_text(p), col=k, ref=f"L{lineno}C{i + 1}", doubt=doubts[k]) for k, (i, p) in enumerate(kept)]
        while cells and not cells[-1].text:
            cells.pop()
        yield Row(cells=cells, page=1, in_table=len(kept) > 1, line=lineno, page_break_before=blank_run)
        blank_run = False
