"""Labels centred over the rows they span, in a table printed without rulings.

A level label (一级指标, 二级指标) is one merged cell over several indicator rows;
without rulings its text sits in one of those rows only, vertically centred on
the whole span. `centred_spans` says which row boundaries such a label's span
covers, so the grid leaves them open and the label names every row of its span.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from .page import Word


def col_range(w: Word, xs: list[float]) -> tuple[int, int]:
    """First and last column (between boundaries xs) a word's box reaches into."""
    return bisect_right(xs, w.x0 + 0.5) - 1, bisect_right(xs, w.x1 - 0.5) - 1


@dataclass
class _Column:
    """What the walks need to know of one column's text, row by row."""

    ys: list[float]  # row boundaries of the table
    filled: list[bool]  # the column has text in this row
    single: set[tuple[int, int]]  # (column, row) cells holding a word of one column only
    centre: dict[tuple[int, int], float]  # a label's centre, at the row where it falls
    block_rows: dict[tuple[int, int], range]  # first to last row a label's block reaches
    tolerance: float


def centred_spans(xs: list[float], ys: list[float], words: list[Word], blocks: list[list[tuple[float, float]]], h: float) -> set[tuple[int, int]]:
    """(column, row boundary) pairs to leave open because a label centred over
    several rows sits in only one of them. Only the leading columns are looked at
    (the level labels), before the first column that has text in most rows."""
    nrow, ncol = len(ys) - 1, len(xs) - 1

    def row(y: float) -> int:
        return min(max(bisect_right(ys, y) - 1, 0), nrow - 1)

    filled = [[False] * nrow for _ in range(ncol)]
    single: set[tuple[int, int]] = set()
    for w in words:
        c0, c1 = col_range(w, xs)
        r = row(w.cy)
        for c in range(max(c0, 0), min(c1, ncol - 1) + 1):
            filled[c][r] = True
        if c0 == c1:
            single.add((c0, r))
    # a label's centre is its text block's, in the row where that centre falls; a
    # wrapped label's block reaches down to the row of its last line
    centre: dict[tuple[int, int], float] = {}
    block_rows: dict[tuple[int, int], range] = {}
    for c in range(ncol):
        for a, b in blocks[c]:
            key = (c, row((a + b) / 2))
            centre[key] = (a + b) / 2
            block_rows[key] = range(min(key[1], row(a + 1 + h / 2)), max(key[1], row(b - 1 - h / 2)) + 1)
    busy = [sum(filled[c][r] for c in range(ncol)) >= max(2, ncol / 2) for r in range(nrow)]
    dense = next((c for c in range(ncol) if sum(filled[c][r] for r in range(nrow) if busy[r]) >= 0.8 * max(sum(busy), 1)), ncol)
    open_: set[tuple[int, int]] = set()
    tolerance = max(1.5, 0.3 * h)
    for c in range(dense):
        open_ |= _column_spans(c, _Column(ys, filled[c], single, centre, block_rows, tolerance))
    return open_


def _column_spans(c: int, col: _Column) -> set[tuple[int, int]]:
    """One column's open boundaries: walked down from the top, else up from the foot."""
    ys, filled, centre, block_rows, tolerance = col.ys, col.filled, col.centre, col.block_rows, col.tolerance
    nrow = len(ys) - 1
    centred: set[tuple[int, int]] = set()  # spans whose centre matched their label's
    guessed: set[tuple[int, int]] = set()  # the last label's rows run on to the next page
    lost = False  # a centred label the walk found no span for
    start = 0
    for r in range(nrow):
        if not filled[r] or r < start:  # (rows before start are a label's already)
            continue
        # The span runs from the row after the previous label's; the label may
        # sit in its first row (a tall row of a wrapped name above a short one).
        if (c, r) in col.single and (c, r) in centre:
            best = None
            for e in range(r, nrow):
                if e > block_rows[(c, r)][-1] and filled[e]:
                    break
                off = abs((ys[start] + ys[e + 1]) / 2 - centre[(c, r)])
                if best is None or off < best[0]:
                    best = (off, e)
            if best and best[0] <= tolerance:
                centred.update((c, k) for k in range(start + 1, best[1] + 1))
                start = best[1] + 1
                continue
            # The last label of the column, below the middle of every span it could
            # have here: its rows run on to the next page (a merged cell cut by the
            # page break, its text centred on the whole). It holds the rest.
            last = not any(filled[k] for k in range(block_rows[(c, r)][-1] + 1, nrow))
            if last and centre[(c, r)] > (ys[start] + ys[nrow]) / 2 + tolerance:
                guessed.update((c, k) for k in range(start + 1, nrow))
                break
            lost = True
        start = r + 1
    if lost:
        # Below a span cut by the page break the walk down cannot know where the
        # next span starts; the walk up from the table's foot can. Taken when it
        # accounts for every label and agrees with the spans the walk down found.
        chained = _chain_from_bottom(c, ys, filled, col.single, centre, block_rows, tolerance)
        if chained is not None and centred <= chained:
            return chained
    return centred | guessed


def _chain_from_bottom(c: int, ys: list[float], filled: list[bool], single: set[tuple[int, int]],
                       centre: dict[tuple[int, int], float], block_rows: dict[tuple[int, int], range],
                       tolerance: float) -> set[tuple[int, int]] | None:
    """The spans of a column whose labels are all centred, found from the bottom up.

    A label centred over its span has the span's top as far above its centre as the
    bottom is below, and that top is the bottom of the span above. The last span ends
    at the table's foot (or above a total row with no label in this column); going up,
    every top must fall on a row boundary, and the first label's may fall above the
    table (its span began on the page before). This finds the spans the top-down walk
    cannot: labels below one whose span was cut by the page break, where no row tells
    where their spans start. None when the column is not like that (a label at the top
    of its rows, text in the column that is no label's)."""
    nrow = len(ys) - 1
    labels = [r for r in range(nrow) if (c, r) in centre and filled[r]]
    if len(labels) < 2 or any((c, r) not in single for r in labels):
        return None
    taken = set()
    for r in labels:
        taken.update(block_rows[(c, r)])
    if any(filled[r] and r not in taken for r in range(nrow)):
        return None  # text in the column that is no label's: not a column of merged labels
    # The lowest end for which every label's span falls on row boundaries.
    for end in range(nrow, block_rows[(c, labels[-1])][-1], -1):
        spans = _spans_up(c, ys, labels, end, centre, block_rows, tolerance)
        if spans is not None:
            return spans
    return None


def _spans_up(c: int, ys: list[float], labels: list[int], end: int, centre: dict[tuple[int, int], float],
              block_rows: dict[tuple[int, int], range], tolerance: float) -> set[tuple[int, int]] | None:
    """The row boundaries to open when the last span ends at ys[end]; None when a
    span's top falls off the row boundaries or outside its label's reach."""
    out: set[tuple[int, int]] = set()
    bottom = end  # index into ys of the current span's lower boundary
    for i in range(len(labels) - 1, -1, -1):
        r = labels[i]
        top_y = 2 * centre[(c, r)] - ys[bottom]
        if i == 0 and top_y < ys[0] - tolerance:
            top = 0  # the span runs on from the page before
        else:
            top = min(range(bottom), key=lambda k: abs(ys[k] - top_y))
            if abs(ys[top] - top_y) > tolerance:
                return None
        # The span holds its label's whole block and none of the label above.
        if top > block_rows[(c, r)][0] or (i and block_rows[(c, labels[i - 1])][-1] >= top):
            return None
        out.update((c, k) for k in range(top + 1, bottom))
        bottom = top
    return out
