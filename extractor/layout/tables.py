"""The layout engine's entry: a page's words and rulings → its tables → its rows.

    rulings → edges (grid.rects_to_edges) → ruled tables (grid.ruled_tables)
            → tables with row rules only, and borderless ones (alignment)
            → rows of cells (grid.words_to_rows)

The tables are kept on the page (`PageText.tables`) so that review and debugging
can draw them over the page.
"""

from __future__ import annotations

from .alignment import rule_stacks, borderless_regions, borderless_table, rule_only_table
from .grid import Edge, Table, edge_groups, rects_to_edges, ruled_tables, split_by_box, words_to_rows
from .page import PageText, Word


def tables_on_page(edges: list[Edge], words: list[Word]) -> list[Table]:
    """Ruled tables, tables with row rules only, and borderless tables, top to bottom."""
    groups = edge_groups(edges)
    tables = ruled_tables(groups)
    loose = [e for hs, vs in groups if len(vs) < 2 for e in hs]
    for stack in rule_stacks(loose, words):
        table = rule_only_table(stack, words)
        if table is not None:
            tables.append(table)
    free = words
    for t in tables:
        free = split_by_box(free, t.bbox)[1]
    tables += [borderless_table(region) for region in borderless_regions(free)]
    return sorted(tables, key=lambda t: t.bbox[1])


def rows_from(words: list[Word], rects, lines, number: int, width: float, height: float,
              edges: list[Edge] | None = None) -> PageText:
    """A page's tables and rows from its words and its rulings (PyMuPDF rects and lines,
    or segments found in a scan's image; `edges`, when the caller has found them)."""
    if edges is None:
        edges = rects_to_edges(rects, lines)
    tables = tables_on_page(edges, words)
    rows = words_to_rows(words, tables, number)
    return PageText(number=number, width=width, height=height, words=words, rows=rows, tables=tables)
