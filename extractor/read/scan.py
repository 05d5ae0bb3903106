"""Reading a scanned page or photo: render, OCR, find the rulings in the image,
and hand the words and rulings to the same layout engine as a text layer."""

from __future__ import annotations

import pymupdf

from ..layout.grid import edge_groups, rects_to_edges, ruled_tables, table_to_cells
from ..layout.page import PageText
from ..layout.tables import rows_from
from .clips import doubt_cells_cut


def native_dpi(page: pymupdf.Page, default: float = 200.0) -> float:
    """The resolution of the page's largest image (a scan), clamped to 100–300."""
    best = None
    for info in page.get_image_info():
        x0, y0, x1, y1 = info["bbox"]
        if x1 - x0 > 1 and (best is None or (x1 - x0) * (y1 - y0) > best[0]):
            best = ((x1 - x0) * (y1 - y0), info["width"] / ((x1 - x0) / 72.0))
    dpi = best[1] if best else default
    return float(round(min(max(dpi, 100.0), 300.0)))


def ocr_read_page(page: pymupdf.Page) -> tuple[PageText, list[str]]:
    """A scanned page: render at its native resolution and read the image."""
    import numpy as np

    dpi = native_dpi(page)
    pix = page.get_pixmap(dpi=int(dpi))
    img = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.h, pix.w, pix.n)[:, :, :3]
    return read_scan(img, dpi, page.number + 1)


def read_scan(img, dpi: float, number: int) -> tuple[PageText, list[str]]:
    """OCR words and the rulings found in the image, into the same page model a text
    layer gives; the notes say what was turned, deskewed, corrected or inferred."""
    from . import ocr, raster
    from .prepare import prepare

    gray, dpi, prepared, covered = prepare(img, dpi)  # a photo's page found, the light evened, a seal dropped
    read = ocr.ocr_page(gray, dpi)
    scale = 72.0 / dpi
    h, w = read.image.shape[:2]
    lines = read.rulings if read.rulings is not None else raster.rulings(read.image, scale)
    words, read_notes = ocr.split_at_rulings(read.image, read.words, [s for s in lines if s[0] == s[2]], scale)
    cells = [c.bbox for t in ruled_tables(edge_groups(rects_to_edges([], lines))) for c in table_to_cells(t)[2]]
    dashes = ocr.dashes_in_empty_cells(read.image, words, cells, scale)
    words += dashes
    if dashes:
        read_notes.append(f"{len(dashes)} '-' read from the shape of a lone mark in an empty cell")
    text = rows_from(words, [], lines, number, w * scale, h * scale)
    doubt_cells_cut(text.rows, read.cut)
    _doubt_under(text.rows, [_in_frame(d, gray.shape, read.skew, read.quarters, scale) for d in covered])
    _doubt_ink_not_read(text.rows, read.lost)  # (after the seal's: under a seal, that is the reason)
    notes = [f"page {number}: {n}" for n in prepared]
    if read.quarters:
        notes.append(f"page {number} was turned {90 * read.quarters}° clockwise to read it")
    if abs(read.skew) > 0.1:
        notes.append(f"page {number} deskewed by {read.skew:.2f}°")
    notes += [f"page {number} OCR correction {c}" for c in read.corrections]
    notes += [f"page {number} OCR: {c}" for c in read_notes]
    return text, notes


def _in_frame(disc: tuple[float, float, float], shape: tuple[int, ...], skew: float, quarters: int,
              scale: float) -> tuple[float, float, float]:
    """A disc of the prepared image (px) in the frame the words were read in (page
    points): deskewed by `skew` about the image's centre, turned `quarters` clockwise,
    as `ocr.ocr_page` turns the image."""
    import math

    x, y, r = disc
    h, w = shape[:2]
    if abs(skew) > 0.1:  # (`raster.rotate`: OpenCV's counter-clockwise turn, y down)
        a = math.radians(skew)
        dx, dy = x - w / 2, y - h / 2
        x, y = w / 2 + dx * math.cos(a) + dy * math.sin(a), h / 2 - dx * math.sin(a) + dy * math.cos(a)
    for _ in range(quarters % 4):
        x, y, w, h = h - 1 - y, x, h, w
    return x * scale, y * scale, r * scale


def _doubt_under(rows, discs: list[tuple[float, float, float]]) -> None:
    """Doubt each cell whose box a disc (a seal whitened from the print's grey) reaches
    into: one read as nothing too (`优` under a seal's star was whitened whole)."""
    from ..layout.page import UNDER_SEAL, doubt_cells

    def reached(b) -> bool:  # (the box's point nearest a disc's centre is inside it)
        return any((min(max(cx, b[0]), b[2]) - cx) ** 2 + (min(max(cy, b[1]), b[3]) - cy) ** 2 <= r * r for cx, cy, r in discs)

    if discs:
        doubt_cells(rows, UNDER_SEAL, reached, empty=True)


def _doubt_ink_not_read(rows, lost: list[tuple[float, float, float, float]]) -> None:
    """Doubt each cell, read as something or as nothing, that holds the middle of ink the
    recogniser read too poorly to keep (a lone `=` and `1` of a target at 150 dpi: the
    target was missing, with nothing said)."""
    from ..layout.page import INK_NOT_READ, doubt_cells

    middles = [((x0 + x1) / 2, (y0 + y1) / 2) for x0, y0, x1, y1 in lost]
    if middles:
        doubt_cells(rows, INK_NOT_READ, lambda b: any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for x, y in middles), empty=True)
