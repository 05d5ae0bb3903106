"""Rebuilding table grids from ruling lines, and rows from words.

Pure functions in pipeline order, so each stage can be drawn for debugging:
`rects_to_edges` → `edge_groups` (connected components) → `ruled_tables` →
`table_to_cells` (fine grid, merged where no ruling separates two fine cells) →
`words_to_rows` (words into cells, cells into rows; words outside every table
become plain text lines). Only words (text + box) and edges are used, so words
from OCR work the same as words from a text layer.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import NamedTuple

from .page import BBox, Cell, Row, Word
from .settings import LAYOUT

SNAP, MIN_EDGE, TOUCH = LAYOUT.snap, LAYOUT.min_edge, LAYOUT.touch


class Edge(NamedTuple):  # a tuple: a page has hundreds, built and sorted per page
    horizontal: bool
    pos: float  # y for horizontal, x for vertical
    start: float
    end: float


@dataclass(slots=True)
class GridCell:
    r0: int
    r1: int  # inclusive fine-row range
    c0: int
    c1: int
    bbox: BBox
    words: list[Word]


@dataclass(slots=True)
class Table:
    edges: list[Edge]
    bbox: BBox
    owner: list[GridCell] | None = None  # fine cell (row * columns + col) -> its merged cell


def rects_to_edges(rects: list[BBox], lines: list[tuple[float, float, float, float]]) -> list[Edge]:
    """Rectangles and line segments (x0, y0, x1, y1) to horizontal/vertical edges.

    Collinear pieces that overlap or touch become one edge: a grid drawn cell by
    cell draws each inner border twice and each grid line in as many pieces as it
    has cells (≈350 pieces a page, ≈50 edges). Every later step sees the same lines."""
    across: list[tuple[float, float, float]] = []  # (y, x0, x1) of each horizontal piece
    down: list[tuple[float, float, float]] = []  # (x, y0, y1) of each vertical piece
    for x0, y0, x1, y1 in set(rects):
        if y1 - y0 < MIN_EDGE:
            if x1 - x0 < MIN_EDGE:
                continue
            across.append(((y0 + y1) / 2, x0, x1))  # a filled hairline drawn as a thin rect
        elif x1 - x0 < MIN_EDGE:
            down.append(((x0 + x1) / 2, y0, y1))
        else:
            across += ((y0, x0, x1), (y1, x0, x1))
            down += ((x0, y0, y1), (x1, y0, y1))
    for x0, y0, x1, y1 in lines:
        if abs(y1 - y0) <= SNAP and abs(x1 - x0) >= MIN_EDGE:
            across.append(((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= SNAP and abs(y1 - y0) >= MIN_EDGE:
            down.append(((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
    edges: list[Edge] = []
    new = tuple.__new__
    for horizontal, pieces in ((True, across), (False, down)):
        # Sorted by position, then start: one sweep merges each line's pieces.
        pieces.sort()
        pos = start = end = None
        for p, a, b in pieces:
            if p == pos and a <= end + TOUCH:
                if b > end:
                    end = b
                continue
            if pos is not None:
                edges.append(new(Edge, (horizontal, pos, start, end)))
            pos, start, end = p, a, b
        if pos is not None:
            edges.append(new(Edge, (horizontal, pos, start, end)))
    return edges


def merge_spans(spans: list[tuple[float, float]], gap: float) -> tuple[list[float], list[float]]:
    """Spans merged into disjoint runs, those overlapping or at most `gap` apart joined:
    (starts, ends), both sorted."""
    starts: list[float] = []
    ends: list[float] = []
    for s, t in sorted(spans):
        if ends and s <= ends[-1] + gap:
            if t > ends[-1]:
                ends[-1] = t
        else:
            starts.append(s)
            ends.append(t)
    return starts, ends


def _clusters(edges: list[Edge], along_y: bool) -> list[list[Edge]]:
    """Group edges whose spans on one axis (y if `along_y`, else x) overlap or touch:
    an O(n log n) sweep. (Spans are built inline: this runs on every page.)"""
    if along_y:
        keyed = [(e[1], e[1], e) if e[0] else (e[2], e[3], e) for e in edges]
    else:
        keyed = [(e[2], e[3], e) if e[0] else (e[1], e[1], e) for e in edges]
    keyed.sort(key=itemgetter(0))
    groups: list[list[Edge]] = []
    reach = float("-inf")
    for lo, hi, e in keyed:
        if groups and lo <= reach + SNAP:
            groups[-1].append(e)
            if hi > reach:
                reach = hi
        else:
            groups.append([e])
            reach = hi
    return groups


def _rule_where_they_end(ends: list[tuple[float, float]], farthest) -> Edge | None:
    """A row rule at the farthest of the column rules' ends (x, y), where three or more
    of them end together; None where fewer do."""
    if len(ends) < 3:
        return None
    at = farthest(y for _, y in ends)
    xs = [x for x, y in ends if abs(y - at) <= SNAP]
    return Edge(True, at, min(xs), max(xs)) if len(xs) >= 3 else None


def _open_ends(hs: list[Edge], vs: list[Edge]) -> list[Edge]:
    """The rulings a table cut by a page break lacks: where three or more column rules
    run on past the outermost row rule, to a common end (the paper's margin), a row
    rule there. (A browser prints a row continued on a new page with its column rules
    and no top border: that border was the row above's, on the page before.)"""
    top, bottom = min(e.pos for e in hs), max(e.pos for e in hs)
    rules = (_rule_where_they_end([(e.pos, e.start) for e in vs if e.start < top - SNAP], min),
             _rule_where_they_end([(e.pos, e.end) for e in vs if e.end > bottom + SNAP], max))
    return [r for r in rules if r is not None]


def ruled_tables(groups: list[tuple[list[Edge], list[Edge]]]) -> list[Table]:
    """The edge groups with two or more rulings each way, as tables, top to bottom."""
    tables = []
    for hs, vs in groups:
        if len(hs) < 2 or len(vs) < 2:
            continue
        hs = hs + _open_ends(hs, vs)
        bbox = (min(e.pos for e in vs), min(e.pos for e in hs), max(e.pos for e in vs), max(e.pos for e in hs))
        tables.append(Table(hs + vs, bbox))
    return sorted(tables, key=lambda t: t.bbox[1])


def edge_groups(edges: list[Edge]) -> list[tuple[list[Edge], list[Edge]]]:
    """Horizontal and vertical edges of each group that touches no other group.

    Tables are separated by empty bands: the edges are split by gaps in y, then in x.
    Ruled tables are closed boxes, so a table's edges always overlap along both axes;
    two tables are two groups as soon as a band of the page has no ruling at all."""
    out = []
    for band in _clusters(edges, along_y=True):
        for group in _clusters(band, along_y=False):
            out.append(([e for e in group if e.horizontal], [e for e in group if not e.horizontal]))
    return out


def _snap(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > SNAP:
            out.append(v)
    return out


def _by_line(edges: list[Edge], lines: list[float]) -> dict[int, tuple[list[float], list[float]]]:
    """Per snapped grid line, the spans drawn on it merged into disjoint runs (gaps
    up to SNAP closed): (starts, ends), both sorted."""
    spans: dict[int, list[tuple[float, float]]] = {}
    n = len(lines)
    for _, pos, start, end in edges:
        i = bisect_left(lines, pos - SNAP)
        if i < n and -SNAP <= lines[i] - pos <= SNAP:
            if i in spans:
                spans[i].append((start, end))
            else:
                spans[i] = [(start, end)]
    return {i: merge_spans(line_spans, SNAP) for i, line_spans in spans.items()}


_NO_RUNS: tuple[list[float], list[float]] = ([], [])
_first_column = attrgetter("c0")


def table_to_cells(table: Table) -> tuple[list[float], list[float], list[GridCell]]:
    """Fine grid lines and the merged cells of a table: two neighbouring fine cells
    are one cell where no ruling separates them."""
    hs = [e for e in table.edges if e[0]]
    vs = [e for e in table.edges if not e[0]]
    ys, xs = _snap([e[1] for e in hs]), _snap([e[1] for e in vs])
    parent = _join_unruled(xs, ys, _by_line(vs, xs), _by_line(hs, ys))
    cells, table.owner = _merged_cells(xs, ys, parent)
    return xs, ys, cells


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _join_unruled(xs: list[float], ys: list[float], v_at: dict, h_at: dict) -> list[int]:
    """Union-find over the fine cells (row * columns + col): neighbours with no
    ruling between them are joined.

    Is the border drawn? A run on its line covers it, less SNAP at each end; a run
    may start up to SNAP past that (rulings meet with a pixel or two missing).
    Inlined: it runs for every fine cell border."""
    nr, nc = len(ys) - 1, len(xs) - 1
    parent = list(range(nr * nc))
    for c in range(1, nc):
        starts, ends = v_at.get(c, _NO_RUNS)
        if starts and starts[0] <= ys[0] + 2 * SNAP and ends[0] >= ys[-1] - SNAP:
            continue  # drawn the whole height: it borders every row (most lines of a grid)
        for r in range(nr):
            i = bisect_right(starts, ys[r] + 2 * SNAP) - 1
            if i < 0 or ends[i] < ys[r + 1] - SNAP:
                parent[_find(parent, r * nc + c)] = _find(parent, r * nc + c - 1)
    for r in range(1, nr):
        starts, ends = h_at.get(r, _NO_RUNS)
        if starts and starts[0] <= xs[0] + 2 * SNAP and ends[0] >= xs[-1] - SNAP:
            continue
        for c in range(nc):
            i = bisect_right(starts, xs[c] + 2 * SNAP) - 1
            if i < 0 or ends[i] < xs[c + 1] - SNAP:
                parent[_find(parent, r * nc + c)] = _find(parent, (r - 1) * nc + c)
    return parent


def _merged_cells(xs: list[float], ys: list[float], parent: list[int]) -> tuple[list[GridCell], list[GridCell]]:
    """The merged cells, and each fine cell's owner (row * columns + col → cell)."""
    nr, nc = len(ys) - 1, len(xs) - 1
    cells: list[GridCell] = []
    owner: list[GridCell] = []
    by_root: dict[int, GridCell] = {}
    i = 0
    for r in range(nr):  # row by row, so a cell's first fine cell is its top left
        for c in range(nc):
            root = _find(parent, i) if parent[i] != i else i
            cell = by_root.get(root)
            if cell is None:
                cell = by_root[root] = GridCell(r, r, c, c, (0.0, 0.0, 0.0, 0.0), [])
                cells.append(cell)
            else:
                if r > cell.r1:
                    cell.r1 = r
                if c > cell.c1:
                    cell.c1 = c
                if c < cell.c0:
                    cell.c0 = c
            owner.append(cell)
            i += 1
    for cell in cells:
        cell.bbox = (xs[cell.c0], ys[cell.r0], xs[cell.c1 + 1], ys[cell.r1 + 1])
    return cells, owner


def centre_in(w: Word, bbox: BBox) -> bool:
    """Does the word's centre lie in the box? (Which cell or table a word is in.)"""
    x0, y0, x1, y1 = bbox
    return x0 <= w.cx <= x1 and y0 <= w.cy <= y1


def split_by_box(words: list[Word], bbox: BBox) -> tuple[list[Word], list[Word]]:
    """The words whose centre lies in the box, and the others."""
    x0, y0, x1, y1 = bbox
    inside = [w for w in words if x0 <= w.cx <= x1 and y0 <= w.cy <= y1]
    if not inside:
        return inside, words
    outside = [w for w in words if not (x0 <= w.cx <= x1 and y0 <= w.cy <= y1)]
    return inside, outside


def join_words(words: list[Word]) -> str:
    """Text of a cell: words in lines top to bottom, wrapped lines joined without a gap."""
    if len(words) < 2:
        return words[0].text if words else ""
    lines: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.cy, w.x0)):
        if lines and abs(lines[-1][0].cy - w.cy) <= max(2.0, (w.y1 - w.y0) * 0.45):
            lines[-1].append(w)
        else:
            lines.append([w])
    out = []
    for line in lines:
        line.sort(key=lambda w: w.x0)
        text = line[0].text
        for prev, w in zip(line, line[1:]):
            gap = w.x0 - prev.x1
            text += (" " if gap > (w.y1 - w.y0) * 0.15 else "") + w.text
        out.append(text)
    return "".join(out)


def words_to_rows(words: list[Word], tables: list[Table], page: int) -> list[Row]:
    """Rows of the page in reading order: table rows and free text lines."""
    items: list[tuple[float, Row]] = []
    free = list(words)
    for t_index, table in enumerate(tables):
        xs, ys, cells = table_to_cells(table)
        inside, free = split_by_box(free, table.bbox)
        owner = table.owner
        if not owner:  # rulings too close to make a cell: its words are free text
            free += inside
            continue
        last_r, last_c = len(ys) - 2, len(xs) - 2
        for w in inside:
            r = bisect_right(ys, w.cy) - 1
            c = bisect_right(xs, w.cx) - 1
            owner[(0 if r < 0 else last_r if r > last_r else r) * (last_c + 1) + (0 if c < 0 else last_c if c > last_c else c)].words.append(w)
        is_last = t_index == len(tables) - 1
        by_row: list[list[Cell]] = [[] for _ in range(len(ys) - 1)]
        for cell in sorted(cells, key=_first_column):
            ws = cell.words
            text = join_words(ws)
            # An empty merged cell that runs into the page bottom: its label is on
            # the next page; every row it spans says so.
            cut_below = is_last and cell.r1 == last_r and not text
            by_row[cell.r0].append(Cell(text, cell.bbox, cell.c0, cut_below, _confidence(ws), _bbox(ws) if ws else None))
            for r in range(cell.r0 + 1, cell.r1 + 1):  # rows a merged cell continues into
                by_row[r].append(Cell("", cell.bbox, cell.c0, cut_below))
        for r, row_cells in enumerate(by_row):
            items.append((ys[r], Row(cells=row_cells, page=page, in_table=True)))
    # Free text (titles, year lines, page furniture) as single-cell rows.
    for line in text_lines(free):
        text = join_words(line)
        bbox = _bbox(line)
        items.append((bbox[1], Row(cells=[Cell(text=text, bbox=bbox, confidence=_confidence(line))], page=page, in_table=False)))
    items.sort(key=lambda it: it[0])
    rows = [row for _, row in items]
    if rows:
        rows[0].page_break_before = True
    return rows


def _confidence(words: list[Word]) -> float:
    if len(words) < 2:
        return words[0].confidence if words else 1.0
    return min(w.confidence for w in words)


def _bbox(words: list[Word]) -> BBox:
    if len(words) == 1:
        w = words[0]
        return (w.x0, w.y0, w.x1, w.y1)
    return (min(w.x0 for w in words), min(w.y0 for w in words), max(w.x1 for w in words), max(w.y1 for w in words))


def text_lines(words: list[Word]) -> list[list[Word]]:
    lines: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.cy, w.x0)):
        if lines and abs(lines[-1][-1].cy - w.cy) <= (w.y1 - w.y0) * 0.5:
            lines[-1].append(w)
        else:
            lines.append([w])
    return lines
