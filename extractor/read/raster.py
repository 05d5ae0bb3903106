"""Scanned pages: orientation, deskew, and the ruling lines of the table in the image.

The lines come out as the same (x0, y0, x1, y1) segments a PDF's vector drawings
give, so `grid.py` rebuilds the table — merged cells included — the same way.
Needs OpenCV (the `ocr` extra).
"""

from __future__ import annotations

import math

import numpy as np

Segment = tuple[float, float, float, float]


def _cv2():
    import cv2

    return cv2


def to_gray(img: np.ndarray) -> np.ndarray:
    cv2 = _cv2()
    if img.ndim == 2:
        return img
    return cv2.cvtColor(img[:, :, :3], cv2.COLOR_RGB2GRAY)


def _line_masks(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cv2 = _cv2()
    binary = cv2.adaptiveThreshold(255 - gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, -2)
    h, w = binary.shape
    horiz = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(w // 40, 10), 1)))
    vert = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(h // 60, 10))))
    return horiz, vert


def skew_angle(gray: np.ndarray) -> float:
    """Degrees the page is turned, from its long near-horizontal rulings (0 if none).

    The morphological line mask keeps rulings tilted by a few degrees; a straight
    line fitted to each long one gives its angle. Cheaper than a Hough transform."""
    cv2 = _cv2()
    horiz, _ = _line_masks(gray)
    w = gray.shape[1]
    angles, weights = [], []
    contours, _ = cv2.findContours(horiz, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    for c in contours:
        x, y, cw, ch = cv2.boundingRect(c)
        if cw < w // 5:
            continue
        vx, vy, _, _ = cv2.fitLine(c, cv2.DIST_L2, 0, 0.01, 0.01).reshape(-1)
        a = math.degrees(math.atan2(float(vy), float(vx)))
        if a > 90:
            a -= 180
        elif a < -90:
            a += 180
        if abs(a) < 5:
            angles.append(a)
            weights.append(cw)
    if not angles:
        return 0.0
    return float(np.average(angles, weights=weights))


def rotate(img: np.ndarray, degrees: float) -> np.ndarray:
    """Turn by `degrees` (counter-clockwise positive, as OpenCV), padding with white."""
    cv2 = _cv2()
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))


def ink_box(gray: np.ndarray, margin: int = 16) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) around the page's ink, `margin` px wider; None for a blank page.
    Ink is judged per 4×4 block: a block holds ink when at least 2 of its 16 pixels
    are dark (a thin stroke crosses 4 or more; scanner speckle is a lone pixel), and
    a row or column of blocks when two of its blocks do."""
    cv2 = _cv2()
    h, w = gray.shape[:2]
    dark = (gray < 160).astype(np.uint8) * 16
    blocks = cv2.resize(dark, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA) >= 2
    rows, cols = np.flatnonzero(blocks.sum(axis=1) >= 2), np.flatnonzero(blocks.sum(axis=0) >= 2)
    if not len(rows) or not len(cols):
        return None
    return (max(0, int(cols[0]) * 4 - margin), max(0, int(rows[0]) * 4 - margin),
            min(w, int(cols[-1]) * 4 + 4 + margin), min(h, int(rows[-1]) * 4 + 4 + margin))


def rotate_quarter(img: np.ndarray, quarters: int) -> np.ndarray:
    """Turn by 90° × quarters, clockwise."""
    return np.ascontiguousarray(np.rot90(img, k=-quarters % 4))


def rulings(gray: np.ndarray, scale: float) -> list[Segment]:
    """Horizontal and vertical ruling segments in page points (pixels × scale)."""
    return _segments(*_line_masks(gray), scale)


def rulings_and_text(gray: np.ndarray, scale: float) -> tuple[list[Segment], np.ndarray]:
    """The rulings (as `rulings`) and the page with them painted over in paper's
    grey: the text alone. A cell's line image cut from the page holds a sliver of
    the cell's ruling at its edge, and beside it the recogniser drops a mark that
    opens or closes the line (a wrapped sentence's leading `、`, a closing `。`)."""
    cv2 = _cv2()
    horiz, vert = _line_masks(gray)
    ruled = cv2.dilate(cv2.bitwise_or(horiz, vert), np.ones((3, 3), np.uint8)) > 0
    text = gray.copy()
    text[ruled] = int(np.median(gray[::8, ::8]))  # (a page is mostly paper)
    return _segments(horiz, vert, scale), text


def _segments(horiz: np.ndarray, vert: np.ndarray, scale: float) -> list[Segment]:
    cv2 = _cv2()
    out: list[Segment] = []
    for mask, horizontal in ((horiz, True), (vert, False)):
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            x, y, w, h = cv2.boundingRect(c)
            if horizontal and w >= 12:
                yc = (y + h / 2) * scale
                out.append((x * scale, yc, (x + w) * scale, yc))
            elif not horizontal and h >= 12:
                xc = (x + w / 2) * scale
                out.append((xc, y * scale, xc, (y + h) * scale))
    return _extend_to_meet(out, tolerance=6 * scale)


def _extend_to_meet(segments: list[Segment], tolerance: float) -> list[Segment]:
    """Stretch each segment's ends to the perpendicular ruling they nearly touch:
    thresholding eats a pixel or two where lines meet."""
    hs = [(y, x0, x1) for x0, y, x1, y1 in segments if y == y1]
    vs = [(x, y0, y1) for x, y0, x1, y1 in segments if x == x1]
    return ([(x0, y, x1, y) for y, x0, x1 in _stretch(hs, vs, tolerance)]
            + [(x, y0, x, y1) for x, y0, y1 in _stretch(vs, hs, tolerance)])


def _stretch(lines: list[tuple[float, float, float]], across: list[tuple[float, float, float]],
             tolerance: float) -> list[tuple[float, float, float]]:
    """(position, start, end) of each line, its ends moved onto a perpendicular line
    (same form) that passes within `tolerance` of them."""
    out = []
    for pos, lo, hi in lines:
        for at, a0, a1 in across:
            if a0 - tolerance <= pos <= a1 + tolerance:
                if abs(at - lo) <= tolerance:
                    lo = min(lo, at)
                if abs(at - hi) <= tolerance:
                    hi = max(hi, at)
        out.append((pos, lo, hi))
    return out
