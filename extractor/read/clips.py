"""What of a page's text is not seen: text drawn invisibly, and what clip paths hide.

Text drawn in render mode 3 (neither filled nor stroked) or fully transparent is not
printed: another program's OCR lays it under a scan to make it searchable.

A cell too small for its text (a spreadsheet row of fixed height, a column too narrow)
is printed clipped: the program writes the whole text, running over the cells around
it, and a clip path on the cell shows only the part inside. The text trace has every
character, so without this the hidden lines join the neighbours' text (a header lost,
a name cut in two and its end given to the row below) and what the cell shows is read
as if it were all of it.

Which clip a character is drawn in is known exactly: a device run over the page keeps
the clip in force at each text-drawing call, numbered as the text trace numbers its
spans (`seqno`). A character shows when its centre is inside its clip; a clip that
hid characters cut its text short. (A scan of such a print has no clips: there a cell
whose ink runs into its border is the sign, `cells.cell_lines`.)
"""

from __future__ import annotations

import pymupdf

from ..layout.grid import Edge
from ..layout.page import CLIPPED, Row, doubt_cells

mupdf = pymupdf.mupdf

Box = tuple[float, float, float, float]
SPACES = frozenset((32, 9, 10, 13, 0x3000, 0xA0))


def invisible(span: dict) -> bool:
    """A text-trace span drawn in render mode 3 (neither filled nor stroked), or fully transparent."""
    return span["type"] == 3 or span["opacity"] == 0


class _ClipTrace(mupdf.FzDevice2):
    """Counts the drawing calls as `Page.get_texttrace` numbers them, and keeps for each
    text call drawn inside a clip that clip's box (all the clips in force, intersected).
    (A device in Python: ≈1 ms a page of 200 calls; only pages with clips run it.)"""

    def __init__(self) -> None:
        super().__init__()
        for name in ("fill_path", "stroke_path", "fill_shade", "fill_image", "fill_image_mask",
                     "fill_text", "stroke_text", "ignore_text",
                     "clip_path", "clip_stroke_path", "clip_text", "clip_stroke_text", "clip_image_mask",
                     "begin_mask", "pop_clip"):
            getattr(self, "use_virtual_" + name)()
        self.seqno = 0
        self.stack: list[Box] = []
        self.clip_of: dict[int, Box] = {}  # seqno of a text call → the clip it was drawn in

    def _count(self, *_args) -> None:
        self.seqno += 1

    fill_path = stroke_path = fill_shade = fill_image = fill_image_mask = _count

    def _text(self, *_args) -> None:
        if self.stack:
            self.clip_of[self.seqno] = self.stack[-1]
        self.seqno += 1

    fill_text = stroke_text = ignore_text = _text

    def _push(self, r) -> None:
        box = (r.x0, r.y0, r.x1, r.y1)
        if self.stack:
            t = self.stack[-1]
            box = (max(box[0], t[0]), max(box[1], t[1]), min(box[2], t[2]), min(box[3], t[3]))
        self.stack.append(box)

    def clip_path(self, _ctx, _path, _even_odd, _ctm, scissor) -> None:
        self._push(scissor)

    def clip_stroke_path(self, _ctx, _path, _stroke, _ctm, scissor) -> None:
        self._push(scissor)

    def clip_text(self, _ctx, _text, _ctm, scissor) -> None:
        self._push(scissor)

    def clip_stroke_text(self, _ctx, _text, _stroke, _ctm, scissor) -> None:
        self._push(scissor)

    def clip_image_mask(self, _ctx, _image, _ctm, scissor) -> None:
        self._push(scissor)

    def begin_mask(self, _ctx, area, *_args) -> None:  # (a soft mask: popped by pop_clip)
        self._push(area)

    def pop_clip(self, _ctx) -> None:
        if self.stack:
            self.stack.pop()


def _same(a: Box, b: Box) -> bool:
    return abs(a[0] - b[0]) <= 1 and abs(a[1] - b[1]) <= 1 and abs(a[2] - b[2]) <= 1 and abs(a[3] - b[3]) <= 1


def clips_of_text(page: pymupdf.Page) -> dict[int, Box]:
    """The clip each text-drawing call of the page is drawn in, by its trace `seqno`
    (calls drawn in no clip are not in it)."""
    dev = _ClipTrace()
    mupdf.fz_run_page(page.this, dev, mupdf.FzMatrix(), mupdf.FzCookie())
    mupdf.fz_close_device(dev)
    return dev.clip_of


def cell_clips(clips: list[Box], edges: list[Edge]) -> list[Box]:
    """The clips drawn on one cell's box: no ruling runs through them. (A program also
    clips to the part of the table a page holds — a band of a sheet wider than the
    paper, a merged cell's label drawn across a page break: such a clip holds several
    cells, and what it hides is read as before, by the bands' joining and the labels'
    carrying.)"""
    out = []
    for x0, y0, x1, y1 in clips:
        if not any((x0 + 2 < e.pos < x1 - 2 and e.start < y1 - 2 and e.end > y0 + 2) if not e.horizontal
                   else (y0 + 2 < e.pos < y1 - 2 and e.start < x1 - 2 and e.end > x0 + 2) for e in edges):
            out.append((x0, y0, x1, y1))
    return out


def _middle_y(char: tuple, lift: float | None) -> float:
    """A character's middle, up the page: 0.3 of the font size above its baseline on a
    line written across (the middle of an em box from 0.2 below the baseline to 0.8
    above, MuPDF's default metrics) — not its box's: PyMuPDF sizes the box by the
    font's declared ascender and descender in some versions (1.24: 1.81 and −1.05 for
    Noto Sans CJK, a box 1.1 pt lower at 6.8 pt) and by fixed metrics in others, and
    whether a line cut near its middle shows must not depend on the version."""
    if lift is None:
        return (char[3][1] + char[3][3]) / 2
    return char[2][1] - lift


def shown_trace(page: pymupdf.Page, cells: list[Box], spans: list[dict] | None = None) -> tuple[list[dict] | None, list[Box]]:
    """The page's text trace (`spans` when the caller has it) with the characters its
    clips hide taken out (None when they hide none), and the clips of `cells` that hid
    some. A character whose centre is outside its clip is hidden (a line of which a
    sliver shows is not read; one cut through below its middle is read whole, as its
    text is printed) — outside a clip that holds several cells, only when it is above
    or below it: a page of a sheet's band shows the text running past its side in
    part, and the bands are joined by what runs past (`layout.across`)."""
    clip_of = clips_of_text(page)
    if spans is None:
        spans = page.get_texttrace()
    cut: set[Box] = set()
    hid = False
    for span in spans:
        clip = clip_of.get(span["seqno"])
        if clip is None or invisible(span):
            continue
        cx0, cy0, cx1, cy1 = clip
        own = any(_same(clip, b) for b in cells)
        if not own:
            cx0, cx1 = float("-inf"), float("inf")
        lift = 0.3 * span["size"] if span["dir"] == (1.0, 0.0) else None
        kept = [c for c in span["chars"]
                if c[0] in SPACES or (cx0 <= (c[3][0] + c[3][2]) / 2 <= cx1 and cy0 <= _middle_y(c, lift) <= cy1)]
        if len(kept) < len(span["chars"]):
            span["chars"], hid = kept, True
            if own:
                cut.add(clip)
    return (spans if hid else None), sorted(cut)


def doubt_cells_cut(rows: list[Row], cut: list[Box]) -> None:
    """Doubt the cells whose text was cut short: the cell (or the line of free text)
    under each box of `cut` (a clip that hid text; on a scan, a cell whose ink runs
    into its border)."""
    if not cut:
        return

    def centre_in_a_cut(b: Box) -> bool:
        x, y = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        return any(c[0] <= x <= c[2] and c[1] <= y <= c[3] for c in cut)

    doubt_cells(rows, CLIPPED, centre_in_a_cut)
