"""Text boxes from the table's own cells, so that the detector need not look.

With the page's rulings found, a cell's text lines are where its rows of pixels
hold ink: each run of inked rows is one line, its ink's left and right ends the
box. That is all the recogniser needs, and it costs a fraction of the text
detector's pass over the page. The detector still runs where the cells cannot
say: over the strips of the page outside every table (the title, the year, a
note under the table) and inside a cell whose lines touch (a run of inked rows
taller than two lines). Every cell with ink gets its crop recognised, so a lone
character (the grade 优 in a wide cell) is read as surely as a long line.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BBox = tuple[float, float, float, float]
Detect = Callable[..., list[np.ndarray]]  # ocr._detect: (gray, dpi, page_side=) → text boxes
INSET = 3  # px inside a cell's rulings
INK = 150  # grey level below which a pixel is ink (the page is deskewed, light evened)


def _quad(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def runs(flags: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """(start, end) of each run of True, runs closer than `gap` joined."""
    idx = np.flatnonzero(flags)
    if not len(idx):
        return []
    breaks = np.flatnonzero(np.diff(idx) > gap)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    return list(zip(starts.tolist(), ends.tolist()))


def _without_rulings(ink: np.ndarray) -> np.ndarray:
    """A cell's ink without what is left of its rulings: a row or column of the three
    along each edge of the crop inked over most of its length (a ruling a pixel off
    after deskew)."""
    ink = ink.copy()
    h, w = ink.shape
    for sl in (slice(0, min(3, h)), slice(max(0, h - 3), h)):
        band = ink[sl]
        band[band.mean(axis=1) > 0.6] = False
    for sl in (slice(0, min(3, w)), slice(max(0, w - 3), w)):
        band = ink[:, sl]
        band[:, band.mean(axis=0) > 0.6] = False
    return ink


def cell_lines(gray: np.ndarray, cells_px: list[BBox], usual: float,
               unread: list[BBox] | None = None) -> tuple[list[np.ndarray], list[BBox], list[BBox]]:
    """(text-line quads in pixels, cells whose lines touch and need the detector, cells
    whose text a print clipped). A run of inked rows shorter than a third of the usual
    line height is a mark (a dash: read from its shape elsewhere) or speckle, not a line.

    A print clips a text too long for its cell (a sheet's rows of a fixed height), and
    a scan has no clip paths to say so. Two signs: ink in the two pixel rows along the
    cell's border (three inside its ruling) is text cut by it; and where the clip fell
    between two lines, whole lines fill the cell from its top to its bottom, the last as
    wide as the one above — on a page where another cell's border cut its text, or in a
    row as high as most of the page's (rows of one height, not fitted to their text: a
    cell fitted to its text fills it too, and its last line may be full by chance — 2
    cells of the scanned fixtures, in rows as high as 1 in 5 and 1 in 25 of their
    pages' cells). No cell of the scanned fixtures shows either sign; on the hunt's
    scans of sheets printed with rows of 30 pt, and with columns half as wide, the
    second names the 14 values of 56 forms the first missed.

    `unread`, when given, gets the box (pixels) of each mark in a cell with lines of text
    that is no line's and was not read: a `-` that a narrow column wrapped onto a line of
    its own above its figure (`-100.00(%)` read `100.00(%)`, surely)."""
    boxes: list[np.ndarray] = []
    crowded: list[BBox] = []
    cut: list[BBox] = []
    brim: list[BBox] = []
    for cx0, cy0, cx1, cy1 in cells_px:
        x0, y0, x1, y1 = int(cx0) + INSET, int(cy0) + INSET, int(cx1) - INSET, int(cy1) - INSET
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        ink = _without_rulings(gray[y0:y1, x0:x1] < INK)
        rows = ink.sum(axis=1) >= 2
        if rows[:2].all() or rows[-2:].all():
            cut.append((cx0, cy0, cx1, cy1))
        # (a blank pixel row or two inside a character — 度's strokes on a thin grey
        # scan — is no gap between lines: it cut 度 into halves read as specks)
        last = None  # (bottom row, first and last ink column) of the cell's line above
        lines: list[tuple[int, int, int, int]] = []  # (top, bottom, left, right) of each line in the crop
        marks: list[tuple[int, int]] = []  # short runs of ink that are no wrapped line's mark
        for r0, r1 in runs(rows, gap=max(1, int(usual * 0.2))):
            if r1 - r0 < usual / 3:
                mark = _wrapped_mark(ink, r0, r1, last, usual)
                if mark is not None:
                    boxes.append(_quad(x0 + mark[0], y0 + mark[1], x0 + mark[2], y0 + mark[3]))
                else:
                    marks.append((r0, r1))
                continue
            if r1 - r0 > 1.8 * usual:
                crowded.append((cx0, cy0, cx1, cy1))
                break
            line = _line_box(ink, r0, r1, (x0, y0), (cx0, cy0, cx1, cy1), usual)
            if line is None:
                continue
            boxes.append(line[0])
            last = (r1, *line[1])
            lines.append((r0, r1, *line[1]))
        else:  # (not a crowded cell: the detector reads those)
            # A cell whose only ink is short runs standing a third of a line high together:
            # a thin `1` (its stem a pixel wide, only its serif and foot rows of ink) or an
            # `=` (two bars) at 150 dpi, which were left out unread and the target with them.
            # Read as one; a lone dash (one bar) is read from its shape (`ocr.dashes_in_empty_cells`).
            if not lines and marks and marks[-1][1] - marks[0][0] >= usual / 3:
                line = _line_box(ink, marks[0][0], marks[-1][1], (x0, y0), (cx0, cy0, cx1, cy1), usual)
                if line is not None:
                    boxes.append(line[0])
            elif lines and unread is not None:  # (a mark alone in its cell is a dash's, read from its shape)
                for r0, r1 in marks:
                    cols = runs(ink[r0:r1].any(axis=0), gap=1)
                    if cols and cols[-1][1] - cols[0][0] >= 3 and ink[r0:r1].sum() >= 6:  # (not a speck of dirt)
                        unread.append((x0 + cols[0][0], y0 + r0, x0 + cols[-1][1], y0 + r1))
            if (cx0, cy0, cx1, cy1) not in cut and _filled_to_the_brim(lines, y1 - y0, x1 - x0, usual):
                brim.append((cx0, cy0, cx1, cy1))
    # (cells fitted to their text fill them too: on a page no border cut, only rows of its usual height)
    cut += brim if cut else [c for c in brim if _of_the_usual_height(c[3] - c[1], cells_px)]
    return boxes, crowded, cut


def _line_box(ink: np.ndarray, r0: int, r1: int, origin: tuple[int, int], cell: BBox,
              usual: float) -> tuple[np.ndarray, tuple[int, int]] | None:
    """The quad (page pixels) of the ink in rows r0..r1 of a cell's crop, and its first
    and last ink column in the crop; None where the rows hold no ink. Padded as the
    detector pads its boxes (≈2× the ink's height): the recogniser scales a crop to a
    fixed height, so a tight crop comes out wider and costs more (1.3× on a page), and
    it was trained on padded ones."""
    cols = runs(ink[r0:r1].any(axis=0), gap=max(2, int(usual)))
    if not cols:
        return None
    (x0, y0), (cx0, cy0, cx1, cy1) = origin, cell
    pad = max(2, int(round((r1 - r0) * 0.55)))
    bx0, bx1 = x0 + cols[0][0] - pad, x0 + cols[-1][1] + pad
    return (_quad(max(bx0, cx0), max(y0 + r0 - pad, cy0), min(bx1, cx1), min(y0 + r1 + pad, cy1)),
            (cols[0][0], cols[-1][1]))


def _filled_to_the_brim(lines: list[tuple[int, int, int, int]], height: int, width: int, usual: float) -> bool:
    """Wrapped lines that fill their cell from its top to its bottom, the last as wide as
    the one above (the text did not end there)."""
    if len(lines) < 2:
        return False
    gap = usual * 0.8
    if lines[0][0] > gap or height - lines[-1][1] > gap:
        return False
    slack = 1.5 * usual
    return all(left <= slack and width - right <= slack for _, _, left, right in lines[-2:])


def _of_the_usual_height(height: float, cells_px: list[BBox]) -> bool:
    """Most of the page's cells are as high as this one (within 4%): rows of one fixed
    height, not fitted to their text."""
    same = sum(1 for c in cells_px if abs(c[3] - c[1] - height) <= 0.04 * height)
    return same >= 0.5 * len(cells_px)


def _wrapped_mark(ink: np.ndarray, r0: int, r1: int, last: tuple[int, int, int] | None, usual: float) -> BBox | None:
    """The box (in the cell's crop) of a mark too short to be a line that starts the
    line under the cell's last line of text, or stands in its middle (a cell that centres
    its lines): a wrapped sentence's closing `。` standing alone (the OCR decides what it
    is); None for any other short mark."""
    if last is None or r0 - last[0] > 1.5 * usual:
        return None
    cols = runs(ink[r0:r1].any(axis=0), gap=1)
    if not cols or cols[0][1] - cols[0][0] > usual:
        return None
    if abs(cols[0][0] - last[1]) > usual and abs((cols[0][0] + cols[0][1]) / 2 - (last[1] + last[2]) / 2) > usual:
        return None
    pad = usual / 3
    return (max(0.0, cols[0][0] - pad), max(0.0, r0 - pad), cols[0][1] + pad, r1 + pad)


def usual_line_height(gray: np.ndarray, cells_px: list[BBox]) -> float:
    """The usual height of a text line in the cells (px): the median run of inked rows."""
    heights = []
    for cx0, cy0, cx1, cy1 in cells_px:
        x0, y0, x1, y1 = int(cx0) + INSET, int(cy0) + INSET, int(cx1) - INSET, int(cy1) - INSET
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        rows = _without_rulings(gray[y0:y1, x0:x1] < INK).sum(axis=1) >= 2
        heights += [b - a for a, b in runs(rows, gap=1) if b - a >= 4]
    return float(np.median(heights)) if heights else 0.0


def outside_strips(height: int, tables_px: list[BBox], margin: int = 4) -> list[tuple[int, int]]:
    """Horizontal strips (y0, y1) of the page that no table covers."""
    spans = sorted((max(0, int(t[1]) - margin), min(height, int(t[3]) + margin)) for t in tables_px)
    out, y = [], 0
    for a, b in spans:
        if a - y > 8:
            out.append((y, a))
        y = max(y, b)
    if height - y > 8:
        out.append((y, height))
    return out


def _detect_in(detect: Detect, gray: np.ndarray, dpi: float, box: BBox) -> list[np.ndarray]:
    """The detector over one region of the page (a strip, a cell); boxes in page pixels."""
    x0, y0, x1, y1 = (int(v) for v in box)
    found = detect(gray[y0:y1, x0:x1], dpi, page_side=min(gray.shape[:2]))
    for b in found:
        b[:, 0] += x0
        b[:, 1] += y0
    return found


def cell_boxes(gray: np.ndarray, dpi: float, lines: list, detect: Detect,
               unread: list[BBox] | None = None) -> tuple[list[np.ndarray], list[BBox]] | None:
    """Text boxes from the ruled cells, `detect` (the OCR's text detector) only outside
    the tables and in cells whose lines touch, and the cells (in page points) whose ink
    runs into their border; None where the page has no ruled grid. `lines`: the image's
    rulings in page points; `unread` gets the marks (page points) no line took (`cell_lines`)."""
    from ..layout.grid import edge_groups, rects_to_edges, ruled_tables, table_to_cells

    scale = 72.0 / dpi
    tables = ruled_tables(edge_groups(rects_to_edges([], lines)))
    cells_px = [tuple(v / scale for v in c.bbox) for t in tables for c in table_to_cells(t)[2]]
    if len(cells_px) < 20:
        return None
    usual = usual_line_height(gray, cells_px)
    if usual < 6:
        return None
    marks: list[BBox] = []
    boxes, crowded, cut = cell_lines(gray, cells_px, usual, marks)

    def points(boxes_px: list[BBox]) -> list[BBox]:
        return [(a * scale, b * scale, c * scale, d * scale) for a, b, c, d in boxes_px]

    if unread is not None:
        unread += points(marks)
    for cell in crowded:
        boxes += _detect_in(detect, gray, dpi, cell)
    for y0, y1 in outside_strips(gray.shape[0], [tuple(v / scale for v in t.bbox) for t in tables]):
        boxes += _detect_in(detect, gray, dpi, (0, y0, gray.shape[1], y1))
    return boxes, points(cut)
