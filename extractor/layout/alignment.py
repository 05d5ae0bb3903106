"""Table grids from word alignment, for tables printed without (all) their rulings.

A column boundary is a *river*: an x that falls in the gap between two words in
many rows and inside a word in few. Rows of a table with row rules come from the
rules; rows of a borderless table are rivers too, found the same way on the text
blocks of each column. The result is a set of virtual ruling `Edge`s, drawn only
where no text crosses them, so `grid.table_to_cells` rebuilds merged cells (a
project name across six columns, a level label down five rows) exactly as it
does for a ruled table.

A label centred over the rows it spans may sit inside one of them without
touching the others; `centred.centred_spans` gives it back the rows above and below it
when the label's centre matches theirs. A label printed at the top of its rows
needs nothing: the mapping fills empty level cells from the row above.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import numpy as np

from .grid import Edge, Table, merge_spans, text_lines, split_by_box
from .centred import col_range, centred_spans
from .page import Word
from .settings import LAYOUT

STEP, MIN_ROWS = LAYOUT.step, LAYOUT.min_rows


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
        c0, c1 = col_range(w, xs)
        for c in range(max(c0, 0), min(c1, ncol - 1) + 1):
            by_col[c].append(w)
    for c, ws in enumerate(by_col):
        blocks[c] = [(min(w.y0 for w in b) - pad, max(w.y1 for w in b) + pad) for b in _bands(ws, 0.6 * h)]
    ys = [y0, *(y for y in _rivers(blocks, y0, y1, spare_dense=True) if y0 + 2 < y < y1 - 2), y1]
    merged = centred_spans(xs, ys, words, blocks, h)
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
