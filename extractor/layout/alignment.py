"""Table grids from word alignment, for tables printed without (all) their rulings.

A column boundary is a *river*: an x that falls in the gap between two words in
many rows and inside a word in few. Rows of a table with row rules come from the
rules; rows of a borderless table are rivers too, found the same way on the text
blocks of each column. The result is a set of virtual ruling `Edge`s, drawn only
where no text crosses them, so `grid.table_to_cells` rebuilds merged cells (a
project name across six columns, a level label down five rows) exactly as it
does for a ruled table.

A label centred over the rows it spans may sit inside one of them without
touching the others; `_centred_spans` gives it back the rows above and below it
when the label's centre matches theirs. A label printed at the top of its rows
needs nothing: the mapping fills empty level cells from the row above.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import numpy as np

from .grid import Edge, Table, merge_spans, text_lines, split_by_box
from .page import Word

STEP = 0.25  # points per sample along an axis
MIN_ROWS = 3  # lines with two or more cells that make a borderless table


def _median(values: list[float]) -> float:
    """statistics.median without its overhead (it runs for every band of a table)."""
    values = sorted(values)
    n, m = len(values), len(values) // 2
    return values[m] if n % 2 else (values[m - 1] + values[m]) / 2


def _median_height(words: list[Word]) -> float:
    return _median([w.y1 - w.y0 for w in words]) if words else 8.0


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    padded = np.zeros(len(mask) + 2, np.int8)
    padded[1:-1] = mask
    flips = np.flatnonzero(padded[1:] != padded[:-1]).tolist()  # run starts and ends, alternating
    return list(zip(flips[::2], [j - 1 for j in flips[1::2]]))


def _wide(mask: np.ndarray, width: int) -> np.ndarray:
    """Only the runs of True at least `width` samples long."""
    out = np.zeros_like(mask)
    for i, j in _runs(mask):
        if j - i + 1 >= width:
            out[i:j + 1] = True
    return out


def _rivers(groups: list[list[tuple[float, float]]], lo: float, hi: float, min_gap: float = 0.0,
            spare_dense: bool = False) -> list[float]:
    """Positions between lo and hi that separate intervals in many groups and lie in
    few. `groups` are the (start, end) intervals of one row (or one column) each.
    Within each river a cut goes through the middle of each least covered stretch;
    with `spare_dense`, crossing a group's interval counts as many times as the group
    has intervals: a row boundary may cross a label centred over rows (a column of few
    blocks) but not a wrapped name (a column with a block in every row)."""
    n = int((hi - lo) / STEP) + 1
    if n < 2:
        return []
    # Counts along the axis from difference arrays: each group's intervals become
    # disjoint sample ranges (their union), so one pass counts, at every sample, the
    # groups covering it and the groups it lies inside the extent of.
    starts: list[int] = []
    ends: list[int] = []
    weights: list[int] = []
    firsts: list[int] = []
    lasts: list[int] = []
    for spans in groups:
        if not spans:
            continue
        # sample ranges [a, b); one clamped past either end of the axis is empty
        runs = merge_spans([(max(int((a - lo) / STEP), 0), min(int((b - lo) / STEP) + 1, n)) for a, b in spans], 0)
        w = len(spans) if spare_dense else 1
        for a, b in zip(*runs):
            if a < b:
                starts.append(a), ends.append(b), weights.append(w)
        first, last = runs[0][0], max(runs[1])
        if first < last:
            firsts.append(first), lasts.append(last)
    if not starts:
        return []

    def count(lo_idx: list[int], hi_idx: list[int], w: list[int] | None = None) -> np.ndarray:
        diff = np.bincount(lo_idx, w, minlength=n + 1)[: n + 1] - np.bincount(hi_idx, w, minlength=n + 1)[: n + 1]
        return np.cumsum(diff[:n]).astype(np.int64)

    cover = count(starts, ends)
    weight = count(starts, ends, weights) if spare_dense else cover
    support = count(firsts, lasts) - cover  # inside a group's extent, in none of its intervals
    river = (support >= 2) & (cover * 2 <= support)
    if min_gap:  # a gap no text crosses, wide enough not to be a space between words
        river |= _wide((support >= 1) & (cover == 0), int(min_gap / STEP))
    cuts = []
    for i, j in _runs(river):
        # a cut through the middle of every stretch with the least cover; cuts with
        # nothing between them are pruned below
        least = weight[i:j + 1].min()
        for k, m in _runs(weight[i:j + 1] == least):
            cuts.append((lo + (i + (k + m) / 2) * STEP, int(support[i + k]) - int(cover[i + k])))
    return _drop_empty_between(cuts, groups)


def _drop_empty_between(cuts: list[tuple[float, int]], groups: list[list[tuple[float, float]]]) -> list[float]:
    """Two cuts with nothing wholly between them in any row are one boundary seen
    twice (a column that is empty where it is not crossed): keep the better one."""
    spans = [s for g in groups for s in g]
    cuts = list(cuts)
    i = 0
    while i + 1 < len(cuts):
        (a, sa), (b, sb) = cuts[i], cuts[i + 1]
        if not any(a <= s and e <= b for s, e in spans):
            del cuts[i + 1 if sa >= sb else i]
        else:
            i += 1
    return [c for c, _ in cuts]


def _bands(words: list[Word], gap: float) -> list[list[Word]]:
    """Words grouped into horizontal bands separated by vertical gaps wider than `gap`."""
    bands: list[list[Word]] = []
    bottom = float("-inf")
    for w in sorted(words, key=lambda w: w.y0):
        if bands and w.y0 - bottom <= gap:
            bands[-1].append(w)
            bottom = max(bottom, w.y1)
        else:
            bands.append([w])
            bottom = w.y1
    return bands


def _phrases(words: list[Word]) -> list[Word]:
    """Words of a line joined across spaces (a gap under half a line height), so
    the spaces of a sentence in one cell are not taken for cell boundaries."""
    h = _median_height(words)
    out = []
    for line in text_lines(words):
        line.sort(key=lambda w: w.x0)
        cur = line[0]
        for w in line[1:]:
            if w.x0 - cur.x1 < 0.5 * h:
                cur = Word(cur.text + " " + w.text, cur.x0, min(cur.y0, w.y0), max(cur.x1, w.x1), max(cur.y1, w.y1))
            else:
                out.append(cur)
                cur = w
        out.append(cur)
    return out


def _columns(bands: list[list[Word]], x0: float, x1: float) -> list[float]:
    pad = 0.5
    h = _median_height([w for b in bands for w in b])
    phrases = [_phrases(b) if b else [] for b in bands]
    return _rivers([[(w.x0 - pad, w.x1 + pad) for w in b] for b in phrases], x0, x1, min_gap=h)


def _col_range(w: Word, xs: list[float]) -> tuple[int, int]:
    """First and last column (between boundaries xs) a word's box reaches into."""
    return bisect_right(xs, w.x0 + 0.5) - 1, bisect_right(xs, w.x1 - 0.5) - 1


def _vertical_edges(xs: list[float], ys: list[float], words: list[Word]) -> list[Edge]:
    """Outer sides whole; an inner boundary in each row band no word crosses."""
    bands = []
    bounds = list(xs[1:-1])
    words = sorted(words, key=lambda w: w.cy)
    cys = [w.cy for w in words]
    for r in range(len(ys) - 1):
        band = words[bisect_left(cys, ys[r]):bisect_right(cys, ys[r + 1])]
        bands.append(_phrases(band) if band else [])
        # A wide gap (¾ of a line; phrases already part at ½) no column boundary
        # passes through is a boundary too, in every band it crosses no text in: a
        # table too short for its columns to show (a header row at a page foot), or a
        # label set close beside a paragraph, or centred beside several row labels,
        # shows the gap in its own row only.
        h = _median_height(bands[-1]) if band else 0.0
        for a, b in zip(bands[-1], bands[-1][1:]):
            side_by_side = min(a.y1, b.y1) - max(a.y0, b.y0) >= h / 4  # centred labels sit a little off the line
            if side_by_side and b.x0 - a.x1 >= 0.75 * h and not any(a.x1 <= x <= b.x0 for x in xs):
                bounds.append((a.x1 + b.x0) / 2)
    edges = [Edge(False, xs[0], ys[0], ys[-1]), Edge(False, xs[-1], ys[0], ys[-1])]
    for r, band in enumerate(bands):
        # Does a phrase cross x? Of the phrases starting left of x, the one reaching
        # furthest right tells: left edges sorted, right edges as a running maximum.
        band = sorted(band, key=lambda w: w.x0)
        lefts = [w.x0 for w in band]
        reach, furthest = [], float("-inf")
        for w in band:
            furthest = w.x1 if w.x1 > furthest else furthest
            reach.append(furthest)
        for x in bounds:
            i = bisect_left(lefts, x)
            if i == 0 or reach[i - 1] <= x:
                edges.append(Edge(False, x, ys[r], ys[r + 1]))
    return edges


def rule_only_table(horizontals: list[Edge], words: list[Word]) -> Table | None:
    """A table with row rules and no column rules: columns from the words in it."""
    ys = sorted({round(e.pos, 1) for e in horizontals})
    x0, x1 = min(e.start for e in horizontals), max(e.end for e in horizontals)
    inside = split_by_box(words, (x0, ys[0], x1, ys[-1]))[0]
    if len(ys) < 2 or not inside:
        return None
    bands = [[w for w in inside if ys[r] <= w.cy <= ys[r + 1]] for r in range(len(ys) - 1)]
    xs = [x0, *(x for x in _columns(bands, x0, x1) if x0 + 2 < x < x1 - 2), x1]
    edges = list(horizontals) + _vertical_edges(xs, ys, inside)
    return Table(edges, (x0, ys[0], x1, ys[-1]))


def rule_stacks(horizontals: list[Edge], words: list[Word]) -> list[list[Edge]]:
    """Horizontal rules with no column rules, stacked into tables: two rules in a row
    belong together when the text between them hugs both (cell padding), so the gap
    before a title line or the space between two forms ends a table."""
    if not horizontals:
        return []
    h = _median_height(words)
    by_y: dict[float, list[Edge]] = {}
    for e in horizontals:
        by_y.setdefault(round(e.pos, 1), []).append(e)
    ys = sorted(by_y)
    stacks, current = [], [ys[0]]
    for a, b in zip(ys, ys[1:]):
        between = [w for w in words if a < w.cy < b]
        if between:
            hugs = min(w.y0 for w in between) - a <= 1.2 * h and b - max(w.y1 for w in between) <= 1.2 * h
        else:
            hugs = b - a <= 3 * h
        if hugs:
            current.append(b)
        else:
            stacks.append(current)
            current = [b]
    stacks.append(current)
    return [[e for y in stack for e in by_y[y]] for stack in stacks if len(stack) >= 2]


def _cell_groups(line: list[Word], gap: float) -> int:
    line = sorted(line, key=lambda w: w.x0)
    return 1 + sum(1 for a, b in zip(line, line[1:]) if b.x0 - a.x1 > gap)


def _wraps(line: list[Word], other: list[Word], h: float) -> bool:
    """Is `line` (one cell) a wrapped line of a cell in the neighbouring line `other`?
    Closer than half a line height (rows are further apart: each has its padding)
    and set in the same column: one of `other`'s words starts where it starts, or
    is centred where it is."""
    top, bottom = min(w.y0 for w in line), max(w.y1 for w in line)
    o_top, o_bottom = min(w.y0 for w in other), max(w.y1 for w in other)
    if max(top - o_bottom, o_top - bottom) > 0.5 * h:
        return False
    x0, x1 = min(w.x0 for w in line), max(w.x1 for w in line)
    return any(abs(w.x0 - x0) <= 1.0 or abs((w.x0 + w.x1) - (x0 + x1)) <= 2.0 for w in other)


def borderless_regions(words: list[Word]) -> list[list[Word]]:
    """Runs of text lines that make a table: at least three lines hold two or more
    cells (a form's title and year lines hold one). Lines of one cell between them
    (a wrapped paragraph) belong to the run; a heading (taller text) or an empty
    stretch of three line heights ends it. A one-cell line just above the run or
    just below it belongs to it when it is the wrapped line of a cell there (a cell
    cut by the page break: its first line at the foot of one page, or its last at
    the head of the next)."""
    if not words:
        return []
    h = _median_height(words)
    regions: list[list[Word]] = []
    current: list[list[Word]] = []
    multi, bottom = 0, float("-inf")
    before: list[Word] | None = None  # the one-cell line just above, while no run is open
    lead: list[Word] | None = None  # the one-cell line just above the open run

    def close() -> None:
        nonlocal current, multi, lead
        if multi >= MIN_ROWS:
            last = max(i for i, line in enumerate(current) if _cell_groups(line, h) >= 2)
            kept = current[:last + 1]
            for line in current[last + 1:]:  # one-cell lines after the table end it, but a cell's wrap
                if not any(_wraps(line, other, h) for other in kept[-4:]):
                    break
                kept.append(line)
            if lead is not None and any(_wraps(lead, other, h) for other in kept[:4]):
                kept.insert(0, lead)
            regions.append([w for line in kept for w in line])
        current, multi, lead = [], 0, None

    for line in text_lines(words):
        top = min(w.y0 for w in line)
        heading = _median([w.y1 - w.y0 for w in line]) > 1.25 * h
        if heading or top - bottom > 3 * h:
            close()
            before = None
        bottom = max(w.y1 for w in line)
        if heading:
            continue
        groups = _cell_groups(line, h)
        if groups >= 2 or current:
            if not current:
                lead = before
            current.append(line)
            multi += groups >= 2
        before = line if groups < 2 and not current else None
    close()
    return regions


def borderless_table(words: list[Word]) -> Table:
    """The grid of a table printed with no rulings at all."""
    h = _median_height(words)
    pad = 1.0
    x0, x1 = min(w.x0 for w in words) - pad, max(w.x1 for w in words) + pad
    y0, y1 = min(w.y0 for w in words) - pad, max(w.y1 for w in words) + pad
    xs = [x0, *(x for x in _columns(_bands(words, 0.6 * h), x0, x1) if x0 + 2 < x < x1 - 2), x1]
    ncol = len(xs) - 1
    # Text blocks per column: words of one cell, lines closer than 0.6 line heights.
    blocks: list[list[tuple[float, float]]] = [[] for _ in range(ncol)]
    by_col: list[list[Word]] = [[] for _ in range(ncol)]
    for w in words:
        c0, c1 = _col_range(w, xs)
        for c in range(max(c0, 0), min(c1, ncol - 1) + 1):
            by_col[c].append(w)
    for c, ws in enumerate(by_col):
        blocks[c] = [(min(w.y0 for w in b) - pad, max(w.y1 for w in b) + pad) for b in _bands(ws, 0.6 * h)]
    ys = [y0, *(y for y in _rivers(blocks, y0, y1, spare_dense=True) if y0 + 2 < y < y1 - 2), y1]
    merged = _centred_spans(xs, ys, words, blocks, h)
    edges = [Edge(True, y0, x0, x1), Edge(True, y1, x0, x1)]
    starts = [[a for a, _ in col] for col in blocks]  # a column's blocks are disjoint, top to bottom
    for r, y in enumerate(ys[1:-1], start=1):
        for c in range(ncol):
            i = bisect_left(starts[c], y) - 1  # the last block starting above y
            if (c, r) in merged or (i >= 0 and blocks[c][i][1] > y):
                continue
            edges.append(Edge(True, y, xs[c], xs[c + 1]))
    edges += _vertical_edges(xs, ys, words)
    return Table(edges, (x0, y0, x1, y1))


def _centred_spans(xs: list[float], ys: list[float], words: list[Word], blocks: list[list[tuple[float, float]]], h: float) -> set[tuple[int, int]]:
    """(column, row boundary) pairs to leave open because a label centred over
    several rows sits in only one of them. Only the leading columns are looked at
    (the level labels), before the first column that has text in most rows."""
    nrow, ncol = len(ys) - 1, len(xs) - 1
    def row(y: float) -> int:
        return min(max(bisect_right(ys, y) - 1, 0), nrow - 1)

    filled = [[False] * nrow for _ in range(ncol)]
    single: set[tuple[int, int]] = set()  # cells holding a word of one column only
    for w in words:
        c0, c1 = _col_range(w, xs)
        r = row(w.cy)
        for c in range(max(c0, 0), min(c1, ncol - 1) + 1):
            filled[c][r] = True
        if c0 == c1:
            single.add((c0, r))
    # a label's centre is its text block's, in the row where that centre falls; a
    # wrapped label's block reaches down to the row of its last line
    centre: dict[tuple[int, int], float] = {}
    block_rows: dict[tuple[int, int], range] = {}  # first to last row a label's block reaches
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
        centred: set[tuple[int, int]] = set()  # spans whose centre matched their label's
        guessed: set[tuple[int, int]] = set()  # the last label's rows run on to the next page
        lost = False  # a centred label the walk found no span for
        start = 0
        for r in range(nrow):
            if not filled[c][r] or r < start:  # (rows before start are a label's already)
                continue
            # The span runs from the row after the previous label's; the label may
            # sit in its first row (a tall row of a wrapped name above a short one).
            if (c, r) in single and (c, r) in centre:
                best = None
                for e in range(r, nrow):
                    if e > block_rows[(c, r)][-1] and filled[c][e]:
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
                last = not any(filled[c][k] for k in range(block_rows[(c, r)][-1] + 1, nrow))
                if last and centre[(c, r)] > (ys[start] + ys[nrow]) / 2 + tolerance:
                    guessed.update((c, k) for k in range(start + 1, nrow))
                    break
                lost = True
            start = r + 1
        if lost:
            # Below a span cut by the page break the walk down cannot know where the
            # next span starts; the walk up from the table's foot can. Taken when it
            # accounts for every label and agrees with the spans the walk down found.
            chained = _chain_from_bottom(c, ys, filled[c], single, centre, block_rows, tolerance)
            if chained is not None and centred <= chained:
                open_ |= chained
                continue
        open_ |= centred | guessed
    return open_


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
