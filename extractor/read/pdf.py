"""Reading PDF pages with PyMuPDF: words with boxes and ruling lines.

Pages are read one at a time (`documents.OpenedDocument.pages`) so a 500-page
report is never held whole. A page whose text layer is missing or unusable is reported as such; the
OCR stage (when installed) supplies its words instead.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache

import pymupdf

from ..layout.page import CLIPPED, PageText, Row, Word
from ..layout.settings import LAYOUT
from ..layout.grid import Edge, rects_to_edges
from ..layout.tables import rows_from

MIN_CHARS_FOR_TEXT_LAYER = LAYOUT.min_chars_for_text_layer


GAP_SPLIT, ASCENT = LAYOUT.gap_split, LAYOUT.ascent
_SPACES = frozenset((32, 9, 10, 13, 0x3000, 0xA0))


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
    `spans` are the page's text trace when the caller has it (`clipped` leaves out
    what a clip path hides).
    """
    words: list[Word] = []
    clip = page.rect  # (a property that asks MuPDF each time: ≈15 µs)
    clip_x0, clip_x1 = clip.x0, clip.x1
    spaces = _SPACES
    for span in page.get_texttrace() if spans is None else spans:
        if _invisible(span):
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


def _invisible(span: dict) -> bool:
    """Drawn in render mode 3 (neither filled nor stroked), or fully transparent."""
    return span["type"] == 3 or span["opacity"] == 0


def hidden_chars(page: pymupdf.Page) -> int:
    """How many characters the page draws invisibly (`page_words` leaves them out)."""
    return sum(len(s["chars"]) for s in page.get_texttrace() if _invisible(s))


Box = tuple[float, float, float, float]


def page_rulings(page: pymupdf.Page) -> tuple[list[Box], list[Box], list[Box]]:
    """Rectangles and straight line segments the page draws (table borders), and the
    clip rectangles smaller than the page (what they cut off is not printed: `clipped`).
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


@lru_cache(maxsize=1)
def _plain() -> dict[int, None]:
    """The characters real text of these forms is made of, as a table that deletes
    them: ASCII and a few symbols, CJK punctuation, full-width forms, and GB2312's
    level-1 Hanzi (the 3,755 that make up nearly all of any mainland Chinese text:
    names, labels and reasons included). Built on the first page, not at import."""
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


def read_page(page: pymupdf.Page, words: list[Word] | None = None) -> PageText:
    """A page's rows from its text layer (or `words` given instead) and vector rulings.

    A cell too small for its text (a spreadsheet row of fixed height, a column too
    narrow) is printed clipped: the program writes the whole text, running over the
    cells around it, and a clip path shows only the part inside. The hidden part is
    not read — it would join the neighbours' text (a header lost, a goal garbled) —
    and the cell it was cut from is doubted: what it shows is not the whole of it."""
    rects, lines, clips = page_rulings(page)
    cutting: list[Box] = []
    spans = None
    if clips:
        spans, cutting = clipped(page, clips, _cell_boxes(clips, rects_to_edges(rects, lines)))
    if spans is not None or words is None:
        words = page_words(page, spans)
    rect = page.rect
    text = rows_from(words, rects, lines, page.number + 1, rect.width, rect.height)
    if cutting:
        _doubt_cells_cut(text.rows, cutting)
    return text


def _cell_boxes(clips: list[Box], edges: list[Edge]) -> list[Box]:
    """The clips drawn on one cell's box: no ruling runs through them. (A program also
    clips to the part of the table a page holds, to draw a merged cell's label cut by
    a page break: such a clip holds several cells.)"""
    out = []
    for x0, y0, x1, y1 in clips:
        if not any((x0 + 2 < e.pos < x1 - 2 and e.start < y1 - 2 and e.end > y0 + 2) if not e.horizontal
                   else (y0 + 2 < e.pos < y1 - 2 and e.start < x1 - 2 and e.end > x0 + 2) for e in edges):
            out.append((x0, y0, x1, y1))
    return out


def clipped(page: pymupdf.Page, clips: list[Box], cells: list[Box]) -> tuple[list[dict] | None, list[Box]]:
    """The page's text trace with the characters its clip paths hide taken out (None
    when they hide none), and the clips of `cells` (a cell's own box) that hid some.

    Hidden: what MuPDF's text extraction with TEXT_CLIP leaves out (`_shown`), each
    from the cell `_cut_from` says, if any. Kept, but only a sliver of it shows
    (hidden too): a character cut through by the edge of a clip that hid characters
    drawn around it (the lines of one cell's text are drawn one after another, so
    within two of the first and last it hid). (Only on pages with clips smaller than
    the page: a second pass over the page's text.)"""
    flags = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_PRESERVE_LIGATURES
    if page.get_text("words", flags=flags | pymupdf.TEXT_CLIP) == page.get_text("words", flags=flags):
        return None, []  # (the common case, told apart cheaply: the clips hide nothing)
    spans = page.get_texttrace()
    shown = _shown(page, spans)
    drawn: dict[Box, tuple[int, int]] = {}  # a clip that hid text → the first and last text it hid (seqno)
    hid = False
    for span, kept in zip(spans, shown):
        if len(kept) == len(span["chars"]):
            continue
        hid = True
        for c in span["chars"]:
            if c not in kept:
                clip = _cut_from(c[3], cells, kept)
                if clip is not None:
                    first, last = drawn.get(clip, (span["seqno"], span["seqno"]))
                    drawn[clip] = (min(first, span["seqno"]), max(last, span["seqno"]))
    for span, kept in zip(spans, shown):
        near = [b for b, (first, last) in drawn.items() if first - 2 <= span["seqno"] <= last + 2]
        if near:
            kept = [c for c in kept if _shows(c[3], near)]
        if len(kept) < len(span["chars"]):
            span["chars"], hid = kept, True
    return (spans if hid else None), sorted(drawn)


def _cut_from(box: Box, cells: list[Box], line: list[tuple]) -> Box | None:
    """The cell a hidden character was cut from: one whose edge cuts through it; else,
    below or above it in its column, the nearest (wrapped lines run out of the cell's
    top and bottom); else, in its row, one that shows a character of its own line (a
    line runs out of the cell's side). None when it is no cell's on this page (a
    clip holding several cells hid it: a merged cell's label, a band of a sheet)."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    for b in cells:
        if _meets(b, x0, y0, x1, y1) and not (b[0] <= x0 and b[1] <= y0 and x1 <= b[2] and y1 <= b[3]):
            return b
    column = [b for b in cells if b[0] <= cx <= b[2] and not b[1] <= cy <= b[3]]
    if column:
        return min(column, key=lambda b: min(abs(cy - b[1]), abs(cy - b[3])))
    for b in cells:
        if b[1] <= cy <= b[3] and any(_holds(b, (c[3][0] + c[3][2]) / 2, (c[3][1] + c[3][3]) / 2) for c in line):
            return b
    return None


def _shown(page: pymupdf.Page, spans: list[dict]) -> list[list[tuple]]:
    """Of each span of the trace, the characters MuPDF's text extraction with TEXT_CLIP
    keeps: those whose glyph's ink meets its clip (so a comma on a line a clip's edge
    cuts through may go while the line's other characters stay). A character of the
    trace is matched to one the extraction has at its origin: of its code first, then
    of any (the extraction writes some characters otherwise: Kangxi radicals as the
    common Hanzi), each used once (two texts may print a character at one place)."""
    exact: Counter[tuple[int, float, float]] = Counter()
    at: Counter[tuple[float, float]] = Counter()
    flags = pymupdf.TEXT_CLIP | pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_PRESERVE_LIGATURES
    for block in page.get_text("rawdict", flags=flags)["blocks"]:
        for line in block.get("lines", ()):
            for span in line["spans"]:
                for ch in span["chars"]:
                    ox, oy = round(ch["origin"][0], 1), round(ch["origin"][1], 1)
                    exact[ord(ch["c"]), ox, oy] += 1
                    at[ox, oy] += 1
    keys = [[(c[0], round(c[2][0], 1), round(c[2][1], 1)) for c in span["chars"]] for span in spans]
    found = [[False] * len(k) for k in keys]
    for span_keys, hits in zip(keys, found):
        for i, key in enumerate(span_keys):
            if key[0] in _SPACES or exact[key] > 0:
                exact[key] -= 1
                at[key[1:]] -= 1
                hits[i] = True
    for span_keys, hits in zip(keys, found):
        for i, key in enumerate(span_keys):
            if not hits[i] and at[key[1:]] > 0:
                at[key[1:]] -= 1
                hits[i] = True
    return [[c for c, hit in zip(span["chars"], hits) if hit] for span, hits in zip(spans, found)]


def _holds(b: Box, x: float, y: float) -> bool:
    return b[0] <= x <= b[2] and b[1] <= y <= b[3]


def _meets(b: Box, x0: float, y0: float, x1: float, y1: float) -> bool:
    return x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1


def _shows(box: Box, near: list[Box]) -> bool:
    """Does a character the extraction kept show whole enough to read? Not when its
    box meets (or comes within a point of: the extraction's boxes are taller) a clip
    of `near` (one that hid text drawn around it) that does not hold its centre.
    (A merged cell's label drawn across a page break shows in halves on both pages,
    neither of them in a clip that hid text: it is read, as before.)"""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return not any(_meets(b, x0 - 1, y0 - 1, x1 + 1, y1 + 1) and not _holds(b, cx, cy) for b in near)


def _doubt_cells_cut(rows: list[Row], cutting: list[Box]) -> None:
    """The cells whose text a clip cut (a clip drawn on the cell's own box) are doubted.
    A clip of a wider region (the part of a merged cell a page holds) cut no cell's
    text short: the text it hid is printed whole where the cell's middle falls."""
    for row in rows:
        if not row.in_table:
            continue
        for cell in row.cells:
            b = cell.bbox
            if cell.text and b and any(abs(b[0] - c[0]) <= 2 and abs(b[1] - c[1]) <= 2 and abs(b[2] - c[2]) <= 2
                                       and abs(b[3] - c[3]) <= 2 for c in cutting):
                cell.doubt = cell.doubt or CLIPPED


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
