"""Rebuilding table grids from ruling lines, and rows from words.

Pure functions in pipeline order, so each stage can be drawn for debugging:
`rects_to_edges` → `edges_to_tables` (connected components) →
`table_to_cells` (fine grid, merged where no ruling separates two fine cells) →
`words_to_rows` (words into cells, cells into rows; words outside every table
become plain text lines). Only words (text + box) and edges are used, so words
from OCR work the same as words from a text layer.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from .layout import BBox, Cell, Row, Word

SNAP = 1.5  # points: rulings closer than this are the same line
MIN_EDGE = 2.0


@dataclass(frozen=True, slots=True)
class Edge:
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
    owner: dict[tuple[int, int], GridCell] | None = None  # fine (row, col) -> merged cell


def rects_to_edges(rects: list[BBox], lines: list[tuple[float, float, float, float]]) -> list[Edge]:
    """Rectangles and line segments (x0, y0, x1, y1) to horizontal/vertical edges."""
    edges = []
    for x0, y0, x1, y1 in rects:
        if x1 - x0 < MIN_EDGE and y1 - y0 < MIN_EDGE:
            continue
        if y1 - y0 < MIN_EDGE:  # a filled hairline drawn as a thin rect
            edges.append(Edge(True, (y0 + y1) / 2, x0, x1))
        elif x1 - x0 < MIN_EDGE:
            edges.append(Edge(False, (x0 + x1) / 2, y0, y1))
        else:
            edges += [Edge(True, y0, x0, x1), Edge(True, y1, x0, x1), Edge(False, x0, y0, y1), Edge(False, x1, y0, y1)]
    for x0, y0, x1, y1 in lines:
        if abs(y1 - y0) <= SNAP and abs(x1 - x0) >= MIN_EDGE:
            edges.append(Edge(True, (y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= SNAP and abs(y1 - y0) >= MIN_EDGE:
            edges.append(Edge(False, (x0 + x1) / 2, min(y0, y1), max(y0, y1)))
    return edges


def _clusters(edges: list[Edge], span) -> list[list[Edge]]:
    """Group edges whose spans (on one axis) overlap or touch: an O(n log n) sweep."""
    groups: list[list[Edge]] = []
    reach = float("-inf")
    for lo, hi, e in sorted([(*span(e), e) for e in edges], key=lambda t: t[0]):
        if groups and lo <= reach + SNAP:
            groups[-1].append(e)
            if hi > reach:
                reach = hi
        else:
            groups.append([e])
            reach = hi
    return groups


def _y_span(e: Edge) -> tuple[float, float]:
    return (e.pos, e.pos) if e.horizontal else (e.start, e.end)


def _x_span(e: Edge) -> tuple[float, float]:
    return (e.start, e.end) if e.horizontal else (e.pos, e.pos)


def edges_to_tables(edges: list[Edge]) -> list[Table]:
    """Tables are separated by empty bands: split the edges by gaps in y, then in x.

    Ruled tables are closed boxes, so a table's edges always overlap along both axes;
    two tables are two groups as soon as a band of the page has no ruling at all.
    """
    return ruled_tables(edge_groups(edges))


def ruled_tables(groups: list[tuple[list[Edge], list[Edge]]]) -> list[Table]:
    """The edge groups with two or more rulings each way, as tables, top to bottom."""
    tables = []
    for hs, vs in groups:
        if len(hs) < 2 or len(vs) < 2:
            continue
        bbox = (min(e.pos for e in vs), min(e.pos for e in hs), max(e.pos for e in vs), max(e.pos for e in hs))
        tables.append(Table(hs + vs, bbox))
    return sorted(tables, key=lambda t: t.bbox[1])


def edge_groups(edges: list[Edge]) -> list[tuple[list[Edge], list[Edge]]]:
    """Horizontal and vertical edges of each group that touches no other group."""
    out = []
    for band in _clusters(edges, _y_span):
        for group in _clusters(band, _x_span):
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
    for e in edges:
        i = bisect_left(lines, e.pos - SNAP)
        if i < len(lines) and abs(lines[i] - e.pos) <= SNAP:
            spans.setdefault(i, []).append((e.start, e.end))
    out: dict[int, tuple[list[float], list[float]]] = {}
    for i, line_spans in spans.items():
        starts: list[float] = []
        ends: list[float] = []
        for s, t in sorted(line_spans):
            if ends and s <= ends[-1] + SNAP:
                if t > ends[-1]:
                    ends[-1] = t
            else:
                starts.append(s)
                ends.append(t)
        out[i] = (starts, ends)
    return out


_NO_RUNS: tuple[list[float], list[float]] = ([], [])


def _covered(runs: tuple[list[float], list[float]], a: float, b: float) -> bool:
    """Is the segment a..b (less SNAP at each end) drawn by the line's runs? A run
    may start up to SNAP past that (rulings meet with a pixel or two missing)."""
    starts, ends = runs
    i = bisect_right(starts, a + 2 * SNAP) - 1
    return i >= 0 and ends[i] >= b - SNAP


def table_to_cells(table: Table) -> tuple[list[float], list[float], list[GridCell]]:
    """Fine grid lines and the merged cells of a table."""
    hs = [e for e in table.edges if e.horizontal]
    vs = [e for e in table.edges if not e.horizontal]
    ys, xs = _snap([e.pos for e in hs]), _snap([e.pos for e in vs])
    nr, nc = len(ys) - 1, len(xs) - 1
    parent = list(range(nr * nc))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    v_at, h_at = _by_line(vs, xs), _by_line(hs, ys)
    for r in range(nr):
        for c in range(nc):
            if c + 1 < nc and not _covered(v_at.get(c + 1, _NO_RUNS), ys[r], ys[r + 1]):
                parent[find(r * nc + c + 1)] = find(r * nc + c)
            if r + 1 < nr and not _covered(h_at.get(r + 1, _NO_RUNS), xs[c], xs[c + 1]):
                parent[find((r + 1) * nc + c)] = find(r * nc + c)
    members: dict[int, list[tuple[int, int]]] = {}
    for r in range(nr):
        for c in range(nc):
            members.setdefault(find(r * nc + c), []).append((r, c))
    cells = []
    owner: dict[tuple[int, int], GridCell] = {}
    for cellset in members.values():
        r0, r1 = cellset[0][0], cellset[-1][0]  # members were listed row by row
        cols = [c for _, c in cellset]
        c0, c1 = min(cols), max(cols)
        cell = GridCell(r0, r1, c0, c1, (xs[c0], ys[r0], xs[c1 + 1], ys[r1 + 1]), [])
        cells.append(cell)
        for rc in cellset:
            owner[rc] = cell
    table.owner = owner
    return xs, ys, cells


def centre_in(w: Word, bbox: BBox) -> bool:
    """Does the word's centre lie in the box? (Which cell or table a word is in.)"""
    x0, y0, x1, y1 = bbox
    return x0 <= w.cx <= x1 and y0 <= w.cy <= y1


def join_words(words: list[Word]) -> str:
    """Text of a cell: words in lines top to bottom, wrapped lines joined without a gap."""
    if not words:
        return ""
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
        inside, outside = [], []
        for w in free:
            (inside if centre_in(w, table.bbox) else outside).append(w)
        free = outside
        owner = table.owner or {}
        last_r, last_c = len(ys) - 2, len(xs) - 2
        for w in inside:
            r = bisect_right(ys, w.cy) - 1
            c = bisect_right(xs, w.cx) - 1
            cell = owner.get((0 if r < 0 else last_r if r > last_r else r, 0 if c < 0 else last_c if c > last_c else c))
            if cell is not None:
                cell.words.append(w)
        last_row = len(ys) - 2
        is_last = t_index == len(tables) - 1
        by_row: list[list[GridCell]] = [[] for _ in range(len(ys) - 1)]
        for cell in sorted(cells, key=lambda c: c.c0):
            for r in range(cell.r0, cell.r1 + 1):
                by_row[r].append(cell)
        for r in range(len(ys) - 1):
            row_cells = []
            for cell in by_row[r]:
                text = join_words(cell.words)
                # An empty merged cell that runs into the page bottom: its label is
                # on the next page; every row it spans says so.
                cut_below = is_last and cell.r1 == last_row and not text
                if cell.r0 == r:
                    conf = min((w.confidence for w in cell.words), default=1.0)
                    tb = _bbox(cell.words) if cell.words else None
                    row_cells.append(Cell(
                        text=text, bbox=cell.bbox, col=cell.c0, confidence=conf,
                        cut_below=cut_below, text_bbox=tb,
                    ))
                else:
                    row_cells.append(Cell(text="", bbox=cell.bbox, col=cell.c0, cut_below=cut_below))  # merged from above
            items.append((ys[r], Row(cells=row_cells, page=page, in_table=True)))
    # Free text (titles, year lines, page furniture) as single-cell rows.
    for line in _lines(free):
        text = join_words(line)
        bbox = _bbox(line)
        items.append((bbox[1], Row(cells=[Cell(text=text, bbox=bbox, confidence=min(w.confidence for w in line))], page=page, in_table=False)))
    items.sort(key=lambda it: it[0])
    rows = [row for _, row in items]
    if rows:
        rows[0].page_break_before = True
    return rows


def _bbox(words: list[Word]) -> BBox:
    if len(words) == 1:
        w = words[0]
        return (w.x0, w.y0, w.x1, w.y1)
    return (min(w.x0 for w in words), min(w.y0 for w in words), max(w.x1 for w in words), max(w.y1 for w in words))


def _lines(words: list[Word]) -> list[list[Word]]:
    lines: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.cy, w.x0)):
        if lines and abs(lines[-1][-1].cy - w.cy) <= (w.y1 - w.y0) * 0.5:
            lines[-1].append(w)
        else:
            lines.append([w])
    return lines
