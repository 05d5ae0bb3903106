"""Reading PDF pages with PyMuPDF: words with boxes and ruling lines.

Pages are read one at a time (`iter_pages`) so a 500-page report is never held
whole. A page whose text layer is missing or unusable is reported as such; the
OCR stage (when installed) supplies its words instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import pymupdf

from .grid import edges_to_tables, rects_to_edges, words_to_rows
from .layout import PageText, Word

MIN_CHARS_FOR_TEXT_LAYER = 20


GAP_SPLIT = 0.25  # a gap wider than this share of the font size ends a word


def page_words(page: pymupdf.Page) -> list[Word]:
    """Words from character boxes, split at spaces and at visible gaps.

    PyMuPDF's own "words" only break at spaces, so text of two table cells that
    nearly touch comes out as one word; the gap between them is what tells them
    apart. `get_texttrace()` is the cheapest source of character boxes.
    """
    words: list[Word] = []
    clip = page.rect
    for span in page.get_texttrace():
        size = span["size"]
        gap = GAP_SPLIT * size
        cur: list[tuple[str, tuple[float, float, float, float]]] = []
        last_x1 = last_y = None
        for code, _glyph, origin, bbox in span["chars"]:
            c = chr(code)
            # A span is one text-showing run and can cross lines: a new baseline,
            # a jump back, or a visible gap ends the word.
            if c.isspace() or (
                last_x1 is not None and (abs(origin[1] - last_y) > size * 0.3 or bbox[0] < last_x1 - 1 or bbox[0] - last_x1 > gap)
            ):
                _flush(cur, words)
                cur = []
            if not c.isspace() and bbox[2] >= clip.x0 and bbox[0] <= clip.x1:
                cur.append((c, bbox))
            last_x1, last_y = bbox[2], origin[1]
        _flush(cur, words)
    return words


def _flush(chars: list[tuple[str, tuple[float, float, float, float]]], out: list[Word]) -> None:
    if chars:
        out.append(Word(
            "".join(c for c, _ in chars),
            min(b[0] for _, b in chars), min(b[1] for _, b in chars),
            max(b[2] for _, b in chars), max(b[3] for _, b in chars),
        ))


def page_rulings(page: pymupdf.Page) -> tuple[list[tuple[float, float, float, float]], list[tuple[float, float, float, float]]]:
    """Rectangles and straight line segments the page draws (table borders)."""
    rects, lines = [], []
    for path in page.get_drawings():
        for item in path["items"]:
            op = item[0]
            if op == "re":
                r = item[1]
                rects.append((r.x0, r.y0, r.x1, r.y1))
            elif op == "l":
                a, b = item[1], item[2]
                lines.append((a.x, a.y, b.x, b.y))
            elif op == "qu":
                q = item[1].rect
                rects.append((q.x0, q.y0, q.x1, q.y1))
    return rects, lines


def has_text_layer(words: list[Word]) -> bool:
    text = "".join(w.text for w in words)
    if len(text) < MIN_CHARS_FOR_TEXT_LAYER:
        return False
    # Garbage layers (wrong encodings) show up as mostly replacement/private-use chars.
    bad = sum(1 for ch in text if ch == "\ufffd" or 0xE000 <= ord(ch) <= 0xF8FF)
    return bad / len(text) < 0.2


def read_page(page: pymupdf.Page, words: list[Word] | None = None) -> PageText:
    """A page's rows. `words` replaces the text layer (OCR) when given."""
    if words is None:
        words = page_words(page)
    rects, lines = page_rulings(page)
    tables = edges_to_tables(rects_to_edges(rects, lines))
    number = page.number + 1
    rows = words_to_rows(words, tables, number, page.rect.height)
    return PageText(number=number, width=page.rect.width, height=page.rect.height, words=words, rows=rows)


def iter_pages(doc: pymupdf.Document) -> Iterator[PageText]:
    for i in range(doc.page_count):
        page = doc.load_page(i)
        yield read_page(page)
