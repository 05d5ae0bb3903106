"""A table printed wider than the paper: its right-hand columns on another page.

Spreadsheet programs print a sheet too wide for the paper column band by column
band: the left columns of every row on one page, the right columns on the next,
at the same heights — or, a sheet longer than the paper too, every page of the left
band and then every page of the right (down, then over: Excel's and LibreOffice's
default). Such a continuation page is recognised by its rows — its table rows stand
at the heights of a page before's, on column edges of their own (a page below in the
same columns is the table going on down), and it holds no form's anchor label (the
left columns, 项目名称 among them, stayed behind) — and its cells are joined onto the
rows they continue, to the right (`bands_joined`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..forms.numbers import compact
from .page import CUT_BY_EDGE, Cell, PageText, Row

TOLERANCE = 1.5  # points: the same row printed on two pages stands at the same height
MIN_SHARE = 0.8  # of the continuation's table rows that must stand at a row of the page before


def _top(row: Row) -> float | None:
    """The row's own top: its lowest cell top (a merged cell above reaches higher)."""
    boxes = [c.bbox for c in row.cells if c.bbox]
    return max(b[1] for b in boxes) if boxes else None


def _table_rows(page: PageText) -> list[tuple[float, Row]]:
    return [(top, r) for r in page.rows if r.in_table and (top := _top(r)) is not None]


def _beside(prev: PageText, page: PageText) -> bool:
    """`page`, which holds no form's anchor, is the right-hand part of `prev`'s table."""
    mine, theirs = _table_rows(page), _table_rows(prev)
    if len(mine) < 3 or len(theirs) < 3:
        return False
    if not _headings_continue(prev, page, min(t for t, _ in theirs), min(t for t, _ in mine)):
        return False  # a table of its own, under its own title
    tops = sorted(t for t, _ in theirs)
    matched = sum(1 for t, _ in mine if any(abs(t - u) <= TOLERANCE for u in tops))
    # (rows of one height match at every height: the rows below the page before's, in
    # its columns, are no band beside them)
    return matched >= MIN_SHARE * len(mine) and not _same_columns(mine, theirs)


def _edges(rows: list[tuple[float, Row]]) -> list[float]:
    """The x of every column edge the rows' cells draw, once each."""
    xs = sorted({round(x, 1) for _, r in rows for c in r.cells if c.bbox for x in (c.bbox[0], c.bbox[2])})
    out: list[float] = []
    for x in xs:
        if not out or x - out[-1] > TOLERANCE:
            out.append(x)
    return out


def _same_columns(mine: list[tuple[float, Row]], theirs: list[tuple[float, Row]]) -> bool:
    """The page's table is drawn on the page before's column edges: its rows go on below
    them (a long sheet's next page), not to their right — a band of the sheet's other
    columns has edges of its own, only the paper's margin in common."""
    edges, before = _edges(mine), _edges(theirs)
    if len(edges) < 4:
        return False
    shared = sum(1 for x in edges if any(abs(x - y) <= TOLERANCE for y in before))
    return shared >= MIN_SHARE * len(edges)


def _headings(page: PageText, table_top: float) -> list[tuple[float, Row]]:
    return [(top, r) for r in page.rows if not r.in_table and (top := _top(r)) is not None and top < table_top]


def _headings_continue(prev: PageText, page: PageText, prev_top: float, page_top: float) -> bool:
    """The lines above the page's table are the rest of the lines above the table
    before (a title centred over the whole sheet): where the page before has a line at
    that height, it runs past the paper's edge; a title of the page's own does not."""
    right = max((c.bbox[2] for _, r in _table_rows(prev) for c in r.cells if c.bbox), default=0.0)
    theirs = _headings(prev, prev_top)
    for top, _ in _headings(page, page_top):
        beside = [r for t, r in theirs if abs(t - top) <= TOLERANCE]
        if beside and not any(_cut_heading(r, prev_top, right) for r in beside):
            return False
    return True


def _cut_heading(row: Row, table_top: float, right: float) -> bool:
    """A line above the table that runs past the paper's edge (a title cut off)."""
    top = _top(row)
    return top is not None and top < table_top and not row.in_table and any(c.bbox is not None and c.bbox[2] > right + TOLERANCE for c in row.cells)


def _runs_out(cell: Cell, right: bool) -> bool:
    """Does the cell's text run past its box on that side (clipped by the paper)?"""
    if not cell.text or cell.bbox is None or cell.text_bbox is None:
        return False
    return cell.text_bbox[2] > cell.bbox[2] + TOLERANCE if right else cell.text_bbox[0] < cell.bbox[0] - TOLERANCE


def join(prev: PageText, page: PageText) -> PageText:
    """`prev` with `page`'s table cells appended to the rows at their heights, moved
    right of `prev`'s table (columns numbered on)."""
    theirs = _table_rows(prev)
    right = max(c.bbox[2] for _, r in theirs for c in r.cells if c.bbox)
    left = min(c.bbox[0] for _, r in _table_rows(page) for c in r.cells if c.bbox)
    shift = right - left
    col0 = 1 + max((c.col for _, r in theirs for c in r.cells if c.col is not None), default=-1)

    def moved(c: Cell) -> Cell:
        def box(b):
            return None if b is None else (b[0] + shift, b[1], b[2] + shift, b[3])
        return Cell(c.text, box(c.bbox), None if c.col is None else c.col + col0, c.cut_below, c.confidence, box(c.text_bbox), c.ref,
                    c.doubt)

    for top, row in _table_rows(page):
        target = min(theirs, key=lambda tr: abs(tr[0] - top))
        if abs(target[0] - top) > TOLERANCE:
            continue
        cells = [moved(c) for c in row.cells]
        last = target[1].cells[-1] if target[1].cells else None
        # One cell cut in two by the paper's edge: its text runs past the edge on the
        # page before, or in from it on this page (the program prints each part of a
        # line where the whole line would stand). Neither part is its whole text.
        if last is not None and cells and (_runs_out(last, right=True) or _runs_out(row.cells[0], right=False)):
            last.doubt = cells[0].doubt = CUT_BY_EDGE
        target[1].cells.extend(cells)
    # The title and year, centred over the whole sheet, print where the sheet's middle
    # falls: on this page, and cut off past the paper's edge on the page before.
    first_table = min((t for t, _ in theirs), default=0.0)
    prev.rows[:] = [r for r in prev.rows if r.in_table or not _cut_heading(r, first_table, right)]
    if not _headings(prev, first_table):
        heading = [r for _, r in _headings(page, min((t for t, _ in _table_rows(page)), default=0.0))]
        for r in heading:
            r.page = prev.number
        prev.rows[:0] = heading
    prev.joined_pages.append(page.number)
    return prev


HELD = 6  # pages held for the bands after them (a sheet six pages long, printed down then over)


def bands_joined(pages: Iterable[PageText], anchors: tuple[str, ...]) -> Iterator[PageText]:
    """The pages in order, each band of columns joined onto the page it continues.

    A page that continues a held one is joined to the held page with the fewest bands
    so far (the earliest among equals): bands come in the order of the pages they
    continue, across then down or down then across. A page with a form's anchor starts
    another sheet: what is held is let go. So is the oldest page past `HELD`."""
    held: list[tuple[PageText, list[int]]] = []  # (page, [its bands])
    for page in pages:
        if _has_anchor(page, anchors):  # (no band: a form of its own starts here)
            yield from (h for h, _ in held)
            held = []
        else:
            ahead = [(h, b) for h, b in held if _beside(h, page)]
            if ahead:
                h, bands = min(ahead, key=lambda hb: len(hb[1]))  # (min keeps the earliest of equals)
                join(h, page)
                bands.append(page.number)
                continue
        held.append((page, [page.number]))
        if len(held) > HELD:
            yield held.pop(0)[0]
    yield from (h for h, _ in held)


def _has_anchor(page: PageText, anchors: tuple[str, ...]) -> bool:
    return any(compact(c.text).startswith(anchors) for _, r in _table_rows(page) for c in r.cells)
