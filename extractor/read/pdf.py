"""Reading PDF pages with PyMuPDF: words with boxes and ruling lines.

Pages are read one at a time (`documents.OpenedDocument.pages`) so a 500-page
report is never held whole. A page whose text layer is missing or unusable is reported as such; the
OCR stage (when installed) supplies its words instead.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator

import pymupdf

from ..layout.page import PageText, Word
from ..layout.settings import LAYOUT
from ..layout.grid import rects_to_edges
from ..layout.tables import rows_from
from .clips import SPACES, Box, cell_clips, doubt_cells_cut, invisible, shown_trace

MIN_CHARS_FOR_TEXT_LAYER = LAYOUT.min_chars_for_text_layer


GAP_SPLIT, ASCENT = LAYOUT.gap_split, LAYOUT.ascent


def page_words(page: pymupdf.Page, spans: list[dict] | None = None) -> list[Word]:
    """Words from character boxes, split at spaces and at visible gaps.

    PyMuPDF's own "words" only break at spaces, so text of two table cells that
    nearly touch comes out as one word; the gap between them is what tells them
    apart. `get_texttrace()` is the cheapest source of character boxes.

    A word's box is one font size high, its top 0.8 of a size above the baseline,
    whatever the font says: the font's own ascender moves it by a few hundredths of
    a size, and PyMuPDF only reports it when no other module has switched its quad
    corrections off (pymupdf4llm does as it is imported). Fixed, the boxes are the
    same in every process.

    Text drawn invisibly (render mode 3, or fully transparent) is not printed, and is
    not read: it is what another program's OCR lays under a scan to make it searchable
    (the scan is then read by ours, its rulings with it), or text hidden from a reader.
    `spans` are the page's text trace when the caller has it (`clips.shown_trace`
    leaves out what clip paths hide).
    """
    words: list[Word] = []
    clip = page.rect  # (a property that asks MuPDF each time: ≈15 µs)
    clip_x0, clip_x1 = clip.x0, clip.x1
    spaces = SPACES
    for span in page.get_texttrace() if spans is None else spans:
        if invisible(span):
            continue
        size = span["size"]
        gap, drift = GAP_SPLIT * size, size * 0.3
        asc, desc = span["ascender"], span["descender"]
        # Down by this much, each box's top is 0.8 size above the baseline (its bottom
        # follows: the box is a size high either way). Horizontal text only.
        shift = size * (asc / (asc - desc) - ASCENT) if span["dir"] == (1.0, 0.0) and asc > desc else 0.0
        text: list[str] = []
        x0 = y0 = x1 = y1 = 0.0
        last_x1 = last_y = 0.0
        # (comparisons, not abs/min/max calls: this loop runs per character)
        for code, _glyph, (_, oy), (bx0, by0, bx1, by1) in span["chars"]:
            space = code in spaces
            # A span is one text-showing run and can cross lines: a new baseline,
            # a jump back, or a visible gap ends the word.
            if text and (space or not -drift <= oy - last_y <= drift or bx0 < last_x1 - 1 or bx0 - last_x1 > gap):
                words.append(Word("".join(text), x0, y0 + shift, x1, y1 + shift))
                text = []
            if not space and bx1 >= clip_x0 and bx0 <= clip_x1:
                if text:
                    if bx1 > x1:
                        x1 = bx1
                    if by0 < y0:
                        y0 = by0
                    if by1 > y1:
                        y1 = by1
                else:
                    x0, y0, x1, y1 = bx0, by0, bx1, by1
                text.append(chr(code))
            last_x1, last_y = bx1, oy
        if text:
            words.append(Word("".join(text), x0, y0 + shift, x1, y1 + shift))
    return words


def hidden_chars(page: pymupdf.Page, spans: list[dict] | None = None) -> int:
    """How many characters the page draws invisibly (`page_words` leaves them out);
    `spans`, the page's text trace when the caller has it."""
    return sum(len(s["chars"]) for s in (page.get_texttrace() if spans is None else spans) if invisible(s))


def page_rulings(page: pymupdf.Page) -> tuple[list[Box], list[Box], list[Box]]:
    """Rectangles and straight line segments the page draws (table borders), and the
    clip rectangles smaller than the page (what they cut off is not printed: `clips`).
    `get_cdrawings()` is the raw (tuple) form of `get_drawings()`, about a third cheaper;
    `extended` adds the clips at no measurable cost."""
    rects: list[Box] = []
    lines: list[Box] = []
    clips: list[Box] = []
    page_box = page.rect
    for path in page.get_cdrawings(extended=True):
        if path["type"] == "clip":
            x0, y0, x1, y1 = path["scissor"]
            if x0 > page_box.x0 + 1 or y0 > page_box.y0 + 1 or x1 < page_box.x1 - 1 or y1 < page_box.y1 - 1:
                clips.append((x0, y0, x1, y1))
            continue
        if "items" not in path:  # (a group: transparency, no drawing of its own)
            continue
        for item in path["items"]:
            op = item[0]
            if op == "re":
                rects.append(tuple(item[1]))
            elif op == "l":
                (ax, ay), (bx, by) = item[1], item[2]
                lines.append((ax, ay, bx, by))
            elif op == "qu":
                xs = [pt[0] for pt in item[1]]
                ys = [pt[1] for pt in item[1]]
                rects.append((min(xs), min(ys), max(xs), max(ys)))
    return rects, lines, clips


_GARBAGE = re.compile("[\ufffd\ue000-\uf8ff\x00-\x08\x0b\x0c\x0e-\x1f]")  # replacement, private-use, control


_PLAIN: dict[int, None] = {}


def _plain() -> dict[int, None]:
    """The characters real text of these forms is made of, as a table that deletes
    them: ASCII and a few symbols, CJK punctuation, full-width forms, and GB2312's
    level-1 Hanzi (the 3,755 that make up nearly all of any mainland Chinese text:
    names, labels and reasons included). Built on the first page, not at import; a
    constant of the process, not a cache of what was read."""
    if not _PLAIN:
        _PLAIN.update(_plain_table())
    return _PLAIN


def _plain_table() -> dict[int, None]:
    chars = [chr(c) for c in range(0x80)] + list("≥≤×÷°·—–‘’“”…")
    chars += [chr(c) for c in (*range(0x3000, 0x3040), *range(0xFF00, 0xFFEF))]
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return dict.fromkeys(map(ord, chars))


NO_TEXT = "no text"


def text_layer_problem(words: list[Word]) -> str | None:
    """Why a page's text layer cannot be read, or None when it can.

    A font without a ToUnicode map gives glyph numbers as characters: control
    characters for the digits, and for the rest characters scattered over the whole
    of Unicode, most of them rare Hanzi or other scripts. Real text of these forms is
    nearly all common Hanzi, ASCII and punctuation. (Counted by `str.translate`: this
    runs on every page, and a loop over the characters cost 3% of a page's time.)"""
    text = "".join(w.text for w in words)
    if len(text) < MIN_CHARS_FOR_TEXT_LAYER:
        return NO_TEXT
    if len(_GARBAGE.findall(text)) / len(text) >= 0.05:
        return "replacement, private-use or control characters: glyph numbers without a ToUnicode map"
    plain = len(text) - len(text.translate(_plain()))
    if len(text) >= 50 and plain / len(text) < 0.6:
        return f"{100 - round(100 * plain / len(text))}% of its characters are rare or of other scripts: glyph numbers, not text"
    return None


def draws_outlined_text(page: pymupdf.Page) -> bool:
    """Text drawn as outlines (curves), with no text layer: many curve segments."""
    curves = 0
    for path in page.get_cdrawings():
        curves += sum(1 for item in path["items"] if item[0] == "c")
        if curves > 400:
            return True
    return False


def read_page(page: pymupdf.Page, words: list[Word] | None = None, spans: list[dict] | None = None) -> PageText:
    """A page's rows from its text layer (or `words` given instead, read from the text
    trace `spans`) and vector rulings.

    On a page with clips smaller than the page, what they hide is not read, and a cell
    whose text its clip cut short is doubted (`clips`)."""
    rects, lines, clips = page_rulings(page)
    cut: list[Box] = []
    edges = None
    if clips:
        edges = rects_to_edges(rects, lines)
        shown, cut = shown_trace(page, cell_clips(clips, edges), spans)
        if shown is not None:
            words = page_words(page, shown)
    if words is None:
        words = page_words(page)
    rect = page.rect
    text = rows_from(words, rects, lines, page.number + 1, rect.width, rect.height, edges)
    doubt_cells_cut(text.rows, cut)
    return text


_FLATE = frozenset({"/FlateDecode", "/Fl"})


def _inflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Deflated data inflated a megabyte at a time (what it would hold at once is
    the point: it may be gigabytes)."""
    inflater = zlib.decompressobj()
    for data in chunks:
        while data and not inflater.eof:
            out = inflater.decompress(data, 1 << 20)
            if out:
                yield out
            data = inflater.unconsumed_tail


def decodes_past(doc: pymupdf.Document, xref: int, limit: int) -> bool:
    """Does stream `xref` decode to more than `limit` bytes? Counted as it is inflated,
    for a chain of Flate filters: a bomb's kind (each layer multiplies by up to 1,000,
    so two make a 26 KB file a 16 GiB page). Other filters are left to the batch's
    time and memory budgets."""
    kind, value = doc.xref_get_key(xref, "Filter")
    filters = re.findall(r"/\w+", value) if kind in ("name", "array") else []  # ("[/FlateDecode/FlateDecode]")
    if not filters or not _FLATE.issuperset(filters):
        return False
    raw = doc.xref_stream_raw(xref) or b""
    if len(filters) == 1 and len(raw) * 1100 < limit:  # one layer cannot get there
        return False
    stream: Iterable[bytes] = (raw,)
    for _ in filters:
        stream = _inflate(stream)
    total = 0
    try:
        for piece in stream:
            total += len(piece)
            if total > limit:
                return True
    except zlib.error:
        pass  # damaged: MuPDF says so when it reads the page
    return False


def content_past(page: pymupdf.Page, limit: int) -> bool:
    """Does the page's content (its streams and the forms it draws) decode to more
    than `limit` bytes?"""
    doc = page.parent
    try:
        xrefs = [*page.get_contents(), *(x[0] for x in page.get_xobjects())]
        return any(decodes_past(doc, x, limit) for x in xrefs)
    except (RuntimeError, ValueError):  # a broken object: reading the page says what is damaged
        return False
