"""Drawing what the layout engine saw on a page, for a page it misread: the
rulings it used as edges (red), the cells they make (blue), the words (grey).
As pdfplumber's `debug_tablefinder` draws every stage over the page."""

from __future__ import annotations

import pymupdf

from .page import PageText

EDGE, CELL, WORD = (0.85, 0.1, 0.1), (0.1, 0.3, 0.9), (0.6, 0.6, 0.6)


def draw_layout(page_png: bytes | None, page: PageText, dpi: int = 100) -> bytes:
    """A PNG of the page (its image under the drawing, when given) with the tables'
    edges, their cells and the words drawn over it."""
    out = pymupdf.open()
    try:
        canvas = out.new_page(width=page.width or 595, height=page.height or 842)
        if page_png:
            canvas.insert_image(canvas.rect, stream=page_png)
        for w in page.words:
            canvas.draw_rect(pymupdf.Rect(w.x0, w.y0, w.x1, w.y1), color=WORD, width=0.3)
        for table in page.tables:
            cells = {id(c): c for c in table.owner or []}.values()
            for c in cells:
                canvas.draw_rect(pymupdf.Rect(c.bbox), color=CELL, width=0.6)
            for e in table.edges:
                a, b = ((e.start, e.pos), (e.end, e.pos)) if e.horizontal else ((e.pos, e.start), (e.pos, e.end))
                canvas.draw_line(a, b, color=EDGE, width=1.0)
        return canvas.get_pixmap(dpi=dpi).tobytes("png")
    finally:
        out.close()
