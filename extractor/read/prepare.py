"""An image made ready for OCR the way offices' scans and photos need it.

    find the page   a phone photo: the paper on a desk, in perspective → the page
                    alone, squared (the paper's edge is not a ruling)
    even the light  a shadow or a lamp across the page → paper white everywhere
    drop the seal   a red official seal (公章) → read the red channel, where red ink
                    is as light as the paper and black print stays black; a grey
                    seal (a grayscale scan) → the ring found, its lighter ink inside
                    it whitened, the darker print kept

Each step runs only where it is needed and says what it did in a note. Scans as
the fixtures make them (white paper, black print, no seal) pass through unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from .raster import _cv2  # (OpenCV imported when a page is read, not with the package)

A4 = (8.27, 11.69)  # inches: the paper a photographed form is printed on


Disc = tuple[float, float, float]  # (centre x, centre y, radius) in pixels


def prepare(img: np.ndarray, dpi: float) -> tuple[np.ndarray, float, list[str], list[Disc]]:
    """(gray image, its dpi, notes, discs) for OCR; the discs are where a seal was
    whitened from the print's own grey (its strokes there may have lost ink)."""
    cv2 = _cv2()
    notes: list[str] = []
    photo = False
    colour = img.ndim == 3 and img.shape[2] >= 3
    if colour:
        rgb = img[:, :, :3]
        found = find_page(rgb)
        if found is not None:
            rgb, dpi, note = found
            notes.append(note)
            photo = True
        red = _red_share(rgb)
        if red > 0.002:
            gray = np.ascontiguousarray(rgb[:, :, 0])
            notes.append(f"red ink on {red:.1%} of the page (a seal) dropped: read in the red channel")
        else:
            gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    else:
        gray = img
    flat = even_light(gray)
    if flat is not None:
        gray = flat
        notes.append("uneven light (a shadow or a lamp) evened out")
    if photo:
        # The paper's edge (and a sliver of desk: the corners are found on a small copy)
        # is no table ruling. A printed page keeps a blank margin of 1.5 cm or more (7%
        # of A4's width): half that is painted paper-white, after the light is evened.
        edge = max(2, int(0.035 * gray.shape[1]))
        gray[:edge], gray[-edge:], gray[:, :edge], gray[:, -edge:] = 255, 255, 255, 255
    grayscale = not colour or _is_grey(img)
    sealed = drop_grey_seal(gray, dpi) if grayscale else None  # (in colour, a seal is red)
    covered: list[Disc] = []
    if sealed is not None:
        gray, note, disc = sealed
        notes.append(note)
        covered += [disc] if disc else []
    smooth = smooth_bilevel(gray, dpi)
    if smooth is not None:
        up = smooth[1] / dpi
        gray, dpi = smooth
        covered = [(x * up, y * up, r * up) for x, y, r in covered]
        notes.append(f"a black-and-white (1-bit) scan: read at {dpi:.0f} dpi, its edges smoothed to grey")
    return gray, dpi, notes, covered


BILEVEL_DPI = 300.0  # what a 1-bit page is read at: the recogniser was trained on grey print


def smooth_bilevel(gray: np.ndarray, dpi: float) -> tuple[np.ndarray, float] | None:
    """A fax-like page (black and white only, no grey): scaled up to 300 dpi and its
    stair-stepped edges smoothed, so thin strokes (、, the 度 of a wrapped line) keep
    their shape; None for any other page."""
    cv2 = _cv2()
    if len(np.unique(gray[::4, ::4])) > 2:
        return None  # grey levels: not a 1-bit scan
    scale = max(1.0, BILEVEL_DPI / dpi)
    up = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR) if scale > 1.01 else gray
    return cv2.GaussianBlur(up, (3, 3), 0), dpi * scale


def _is_grey(img: np.ndarray) -> bool:
    """A grayscale scan stored as colour: its channels agree."""
    small = img[::8, ::8, :3].astype(np.int16)
    return bool(np.abs(small[:, :, 0] - small[:, :, 1]).max() <= 12 and np.abs(small[:, :, 1] - small[:, :, 2]).max() <= 12)


def _red_share(rgb: np.ndarray) -> float:
    """Share of the pixels that are red ink (a seal): red well above green and blue."""
    small = rgb[::4, ::4].astype(np.int16)
    r, g, b = small[:, :, 0], small[:, :, 1], small[:, :, 2]
    return float(np.mean((r > 110) & (r - g > 60) & (r - b > 50)))


def find_page(rgb: np.ndarray) -> tuple[np.ndarray, float, str] | None:
    """The paper in a photo, squared: (page image, its dpi as A4, note), or None when
    the paper fills the frame (a scan) or no four-cornered page stands out."""
    cv2 = _cv2()
    h, w = rgb.shape[:2]
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    border = np.concatenate([gray[: h // 40].ravel(), gray[-h // 40:].ravel(), gray[:, : w // 40].ravel(), gray[:, -w // 40:].ravel()])
    centre = gray[h // 3: 2 * h // 3, w // 3: 2 * w // 3]
    if np.median(border) > np.median(centre) - 40:  # paper to the edges: a scan
        return None
    k = 800.0 / max(h, w)
    small = cv2.resize(gray, (max(1, int(w * k)), max(1, int(h * k))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    # Paper is what is lighter than the desk, shadowed paper included (a threshold
    # between paper and desk found by Otsu falls inside a shadow and cuts the page).
    _, mask = cv2.threshold(small, float(np.median(border)) + 25, 255, cv2.THRESH_BINARY)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    paper = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(paper) / (small.shape[0] * small.shape[1])
    if not 0.2 < area < 0.97:
        return None
    quad = cv2.approxPolyDP(cv2.convexHull(paper), 0.02 * cv2.arcLength(paper, True), True)
    if len(quad) != 4:
        return None
    corners = _ordered(quad.reshape(4, 2).astype(np.float32) / k)
    tl, tr, br, bl = corners
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    inches = A4 if height >= width else A4[::-1]
    out_w = int(round(width))
    out_h = int(round(out_w * inches[1] / inches[0]))  # the paper's own proportions, not the photo's foreshortening
    target = np.float32([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]])
    m = cv2.getPerspectiveTransform(corners, target)
    page = cv2.warpPerspective(rgb, m, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    dpi = out_w / inches[0]
    return page, dpi, f"the page found in the photo ({area:.0%} of it) and squared from its four corners ({dpi:.0f} dpi as A4)"


def _ordered(pts: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.float32([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]])


def even_light(gray: np.ndarray) -> np.ndarray | None:
    """The page divided by its own background (print removed by a wide closing), or
    None when the paper is evenly lit already."""
    cv2 = _cv2()
    h, w = gray.shape[:2]
    k = max(15, (min(h, w) // 40) | 1)
    small = cv2.resize(gray, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k // 4 | 1, k // 4 | 1)))
    background = cv2.medianBlur(background, 21)
    lo, hi = np.percentile(background, (5, 95))
    if hi - lo < 40:
        return None
    background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    out = np.clip(gray.astype(np.float32) / np.maximum(background, 1) * 255.0, 0, 255)
    return out.astype(np.uint8)


def drop_grey_seal(gray: np.ndarray, dpi: float) -> tuple[np.ndarray, str, Disc | None] | None:
    """A seal in a grayscale scan: its ring found (a circle of a seal's size whose
    whole circumference is inked), and inside it the ink lighter than the print
    whitened. None when there is no such ring, or its ink is not lighter than print.
    The disc is given where the whitening took the print's grey edges too."""
    cv2 = _cv2()
    radius = 0.83 * dpi  # a 4.2 cm seal
    scale = 400.0 / max(dpi, 1)
    small = cv2.resize(gray, None, fx=scale / 4, fy=scale / 4, interpolation=cv2.INTER_AREA)  # ≈100 dpi
    r_small = radius * scale / 4
    circles = cv2.HoughCircles(cv2.medianBlur(small, 3), cv2.HOUGH_GRADIENT, dp=1, minDist=r_small,
                               param1=80, param2=40, minRadius=int(r_small * 0.7), maxRadius=int(r_small * 1.3))
    if circles is None:
        return None
    for cx, cy, r in circles[0] / (scale / 4):
        ring, ring_ink = _ring(gray, cx, cy, r)
        if ring < 0.85:
            continue
        h, w = gray.shape
        yy, xx = np.ogrid[:h, :w]
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= (r * 1.06) ** 2
        ink = gray[inside & (gray < 200)]
        if ink.size < 100:
            continue
        t, _ = cv2.threshold(ink.reshape(-1, 1).astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        dark, light = ink[ink <= t], ink[ink > t]
        where = f"ring of {2 * r / dpi * 2.54:.1f} cm at {cx:.0f},{cy:.0f} px"
        if not len(dark) or not len(light) or float(np.median(light)) - float(np.median(dark)) < 40 or ring_ink <= t:
            # one kind of ink inside the ring, or a ring as dark as most of it: a seal as
            # dark as the print's grey edges (a red seal scanned grey), or no seal
            beside = _beside_the_print(gray, inside, ring_ink, dpi)
            if beside is None:
                continue
            out, t = beside
            return (out, f"a grey seal ({where}) whitened: its ink lighter than {t:.0f} inside the ring, but for the print's edges",
                    (float(cx), float(cy), float(r) * 1.06))
        out = gray.copy()
        out[inside & (gray > t)] = 255
        return out, f"a grey seal ({where}) whitened: its ink lighter than {t:.0f} inside the ring", None
    return None


def _beside_the_print(gray: np.ndarray, inside: np.ndarray, ring_ink: float, dpi: float) -> tuple[np.ndarray, float] | None:
    """A red seal scanned grey: its ink (≈80 of 255) as dark as the grey edges of the
    print's strokes, lighter than their cores (≈30), so no level inside the ring parts
    seal from print. Ink lighter than halfway between the print's cores (outside the
    ring) and the ring is whitened where it is no stroke's edge (not beside a core) and no
    ruling. None where the ring is not that much lighter than the print's cores."""
    cv2 = _cv2()
    outside = gray[~inside & (gray < 200)]
    if outside.size < 1000:
        return None
    cores = float(np.percentile(outside, 10))
    if ring_ink - cores < 40:
        return None  # the seal as dark as the print: nothing tells them apart
    t = (cores + ring_ink) / 2
    keep = cv2.dilate((gray <= t).astype(np.uint8), np.ones((3, 3), np.uint8))
    # and the rulings, grey and thin (lighter than a text stroke's core): ink running straight
    # for a fifth of an inch or more, but not ink thick every way (the seal's ring, 3 pt
    # wide, runs straight for half an inch at its top and sides; its filled star). Where a
    # ruling crosses the seal's ink it is darker than either (a core).
    ink = (gray < 180).astype(np.uint8)
    run, solid = max(9, int(dpi / 5)), max(3, int(dpi / 25))
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    lines |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8))
    thick = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((solid, solid), np.uint8))
    lines &= ~cv2.dilate(thick, np.ones((3, 3), np.uint8))  # (and its edge: a pixel the squares miss)
    out = gray.copy()
    out[inside & (gray > t) & ~(keep | lines).astype(bool)] = 255
    return out, t


def _ring(gray: np.ndarray, cx: float, cy: float, r: float) -> tuple[float, float]:
    """(share of 180 points around the circle that lie on ink, the ring's usual ink
    level). A seal's ring is one continuous stroke: the radius where it is darkest is
    searched in a band of ±3% and must then be inked nearly all the way round. (Each
    point's level is the darkest within 2 px: an erosion of the ring's square.)"""
    cv2 = _cv2()
    h, w = gray.shape
    x0, y0 = max(0, int(cx - 1.1 * r)), max(0, int(cy - 1.1 * r))
    x1, y1 = min(w, int(cx + 1.1 * r) + 1), min(h, int(cy + 1.1 * r) + 1)
    darkest = cv2.erode(gray[y0:y1, x0:x1], np.ones((5, 5), np.uint8))
    angles = np.linspace(0, 2 * math.pi, 180, endpoint=False)
    best = (0.0, 255.0)
    for rr in r + np.linspace(-0.03, 0.03, 7) * r:
        xs = (cx + rr * np.cos(angles)).astype(int) - x0
        ys = (cy + rr * np.sin(angles)).astype(int) - y0
        ok = (xs >= 0) & (xs < darkest.shape[1]) & (ys >= 0) & (ys < darkest.shape[0])
        levels = darkest[ys[ok], xs[ok]]
        inked = levels[levels < 180]
        cover = len(inked) / 180
        if cover > best[0]:
            best = (cover, float(np.median(inked)) if len(inked) else 255.0)
    return best
