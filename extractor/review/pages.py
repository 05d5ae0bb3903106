"""The page images a reviewer sees, in the coordinates the values' boxes use.

A page with a text layer is drawn as it is: its boxes are in PDF points. A page
read by OCR was read as the reader prepared it (a photo's paper found and squared,
the page deskewed and turned upright), and its boxes are in that image's points:
the same steps are taken again here (none of them reads text, so this is quick),
from the notes the reader left. Images are cached in OUT/.review/pages.
"""

from __future__ import annotations

import json
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import pymupdf

from ..io.outputs import atomic_path
from ..read.documents import ocr_reason, sha256_of, sniff
from ..read.pdf import page_words, text_layer_problem

DPI = 144  # sharp enough to zoom a cell to twice its size
MAX_PIXELS = 16_000_000  # a page image no larger (a huge page is drawn coarser, not refused)


@dataclass(frozen=True)
class PageImage:
    data: bytes
    media: str  # image/png, or image/jpeg for a scan (a tenth of the size)
    width: float  # the extent of the boxes' coordinates, in points
    height: float


_DIGESTS: dict[tuple[str, int, int], str] = {}  # (path, mtime, size) -> sha256: a source is hashed once while unchanged


def locate_source(recorded: str, sha256: str, out_dir: Path) -> tuple[Path | None, str]:
    """The document a result was read from, found where it was recorded (relative to
    the current folder or to OUT's parent) and with the same sha256: (path, "") or
    (None, why not)."""
    candidates = [Path(recorded)]
    if not Path(recorded).is_absolute():
        candidates += [out_dir.parent / recorded, out_dir / recorded]
    changed = False
    for path in candidates:
        try:
            st = path.stat()
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue  # (a result naming /dev/zero or a FIFO would be hashed forever)
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
        digest = _DIGESTS.get(key) or _DIGESTS.setdefault(key, sha256_of(path))
        if digest == sha256:
            return path, ""
        changed = True
    if changed:
        return None, f"{recorded} has changed since it was extracted (its sha256 differs): its pages are not shown"
    return None, f"{recorded} is not found: its pages cannot be shown"


def _turns(notes: list[str], number: int) -> tuple[float, int]:
    """(degrees deskewed, clockwise quarter turns) the reader noted for a page."""
    skew = re.search(rf"page {number} deskewed by (-?\d+(?:\.\d+)?)°", "\n".join(notes))
    turned = re.search(rf"page {number} was turned (\d+)° clockwise", "\n".join(notes))
    return (float(skew.group(1)) if skew else 0.0), (int(turned.group(1)) // 90 if turned else 0)


def _capped(rect: pymupdf.Rect, dpi: float) -> float:
    """`dpi`, lowered so that the page's image stays within MAX_PIXELS."""
    inches = max(rect.width, 1.0) * max(rect.height, 1.0) / 72.0**2
    return min(dpi, (MAX_PIXELS / inches) ** 0.5)


def _as_read(page: pymupdf.Page, notes: list[str], dpi: int) -> PageImage:
    """A page the reader read by OCR, prepared the way it was read."""
    import numpy as np

    from ..read import raster
    from ..read.prepare import find_page
    from ..read.raster import _cv2
    from ..read.scan import native_dpi

    cv2 = _cv2()
    native = native_dpi(page)
    pix = page.get_pixmap(dpi=max(1, int(_capped(page.rect, native))))
    native = pix.w * 72.0 / max(page.rect.width, 1.0)  # (the resolution it was drawn at)
    img = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.h, pix.w, pix.n)[:, :, :3].copy()
    found = find_page(img)
    if found is not None:
        img, native, _ = found
    skew, quarters = _turns(notes, page.number + 1)
    if skew:
        img = raster.rotate(img, skew)
    if quarters:
        img = raster.rotate_quarter(img, quarters)
    h, w = img.shape[:2]
    k = dpi / native
    if k < 1:
        img = cv2.resize(img, (max(1, int(w * k)), max(1, int(h * k))), interpolation=cv2.INTER_AREA)
    _, jpeg = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return PageImage(jpeg.tobytes(), "image/jpeg", w * 72.0 / native, h * 72.0 / native)


def render(source: Path, number: int, notes: list[str], dpi: int = DPI) -> PageImage | None:
    """Page `number` (1-based) of a PDF or image; None for a text export or workbook."""
    if sniff(source) not in ("pdf", "image"):
        return None
    doc = pymupdf.open(source)
    try:
        if not 1 <= number <= doc.page_count:
            return None
        page = doc.load_page(number - 1)
        if doc.is_pdf and ocr_reason(page, text_layer_problem(page_words(page))) is None:  # (as the reader decides)
            pix = page.get_pixmap(dpi=max(1, int(_capped(page.rect, dpi))))
            return PageImage(pix.tobytes("png"), "image/png", page.rect.width, page.rect.height)
        return _as_read(page, notes, dpi)
    finally:
        doc.close()


def _files(cache_dir: Path, sha256: str, number: int) -> tuple[Path, Path]:
    return cache_dir / f"{sha256[:20]}-p{number}.img", cache_dir / f"{sha256[:20]}-p{number}.json"


def extent(cache_dir: Path, source: Path, sha256: str, number: int, notes: list[str]) -> tuple[float, float] | None:
    """The page's extent in points (for the boxes), from the cache without reading the image."""
    _, meta = _files(cache_dir, sha256, number)
    try:
        m = json.loads(meta.read_text())
        return m["width"], m["height"]
    except (OSError, ValueError, KeyError):
        image = cached(cache_dir, source, sha256, number, notes)
        return None if image is None else (image.width, image.height)


def cached(cache_dir: Path, source: Path, sha256: str, number: int, notes: list[str]) -> PageImage | None:
    """`render`, kept in `cache_dir` by the document's sha256 and the page."""
    data, meta = _files(cache_dir, sha256, number)
    if data.is_file() and meta.is_file():
        try:
            m = json.loads(meta.read_text())
            return PageImage(data.read_bytes(), m["media"], m["width"], m["height"])
        except (OSError, ValueError, KeyError):
            pass
    image = render(source, number, notes)
    if image is not None:
        with atomic_path(data) as tmp:
            tmp.write_bytes(image.data)
        with atomic_path(meta) as tmp:  # (written second: the pair is whole when this is there)
            tmp.write_text(json.dumps({"media": image.media, "width": image.width, "height": image.height}))
    return image


@dataclass(frozen=True)
class SheetCell:
    left: float  # percent of the page's width and height, as the boxes are
    top: float
    width: float
    height: float
    text: str
    ref: str


@dataclass(frozen=True)
class SheetPage:
    """A workbook's sheet or a Word document's page as the reader laid it out (its cells
    in the coordinates the values' boxes use): drawn as a grid where a PDF has an image."""

    width: float
    height: float
    cells: tuple[SheetCell, ...]


_SHEETS: dict[str, dict[int, SheetPage]] = {}  # sha256 -> its pages (none: not a workbook or Word file), read once


def sheet_page(source: Path, sha256: str, number: int) -> SheetPage | None:
    """Page `number` (1-based) of a workbook or Word document, as its cells; None for any
    other kind of file (a PDF or image has a page image instead)."""
    if sha256 not in _SHEETS:
        if len(_SHEETS) > 32:
            _SHEETS.clear()
        _SHEETS[sha256] = _sheet_pages(source) if sniff(source) in ("sheet", "word") else {}
    return _SHEETS[sha256].get(number)


def _sheet_pages(source: Path) -> dict[int, SheetPage]:
    """Every page of a workbook or Word document as its cells, read in one pass."""
    from ..read.documents import open_document

    pages: dict[int, SheetPage] = {}
    doc = open_document(source)
    try:
        for number, page in enumerate(doc.pages(), 1):
            if page.width <= 0 or page.height <= 0:
                continue
            w, h = page.width, page.height
            cells = tuple(SheetCell(100 * c.bbox[0] / w, 100 * c.bbox[1] / h, 100 * (c.bbox[2] - c.bbox[0]) / w,
                                    100 * (c.bbox[3] - c.bbox[1]) / h, c.text, c.ref or "")
                          for row in page.rows for c in row.cells if c.bbox and c.text)
            pages[number] = SheetPage(w, h, cells)
    finally:
        doc.close()
    return pages


@dataclass(frozen=True)
class TextLine:
    number: int  # the line in the export (1-based)
    cells: tuple[tuple[str, str], ...]  # (text, reference "L12C3")


TEXT_CONTEXT = 2  # lines shown before and after a form's first and last value
TEXT_MOST = 400  # lines shown at most (a form spans a few dozen)


def text_lines(source: Path, first: int, last: int) -> list[TextLine] | None:
    """Lines `first`..`last` of a text export as the reader split them into cells (a
    crawler's page, a parser's TSV or Markdown); None for any other kind of file."""
    try:
        st = source.stat()
    except OSError:
        return None
    key = (str(source), st.st_mtime_ns, st.st_size, first, last)
    if key in _TEXTS:  # (a 200 MB export is read from its start to the form: once, not at every view)
        return _TEXTS[key]
    if sniff(source) != "text":
        return None
    from ..read.documents import open_document

    last = min(last, first + TEXT_MOST - 1)
    doc = open_document(source)
    out: list[TextLine] = []
    try:
        for page in doc.pages():
            for row in page.rows:
                if row.line is None or row.prose or row.line < first:
                    continue
                if row.line > last:
                    break
                out.append(TextLine(row.line, tuple((c.text, c.ref or "") for c in row.cells)))
            break
    finally:
        doc.close()
    if len(_TEXTS) > 64:
        _TEXTS.clear()
    _TEXTS[key] = out
    return out


_TEXTS: dict[tuple, list[TextLine]] = {}  # (path, mtime, size, first, last) -> the lines
