"""OCR for pages with no text layer: RapidOCR (PP-OCR models in ONNX) on the CPU.

The models are the ones inside the `rapidocr` wheel, pinned by path, so nothing
is fetched at run time (`pip install '.[ocr]'` installs them). Words come back
with boxes in page points and the recogniser's confidence, the same `Word`s a
text layer gives. Clean-up is narrow and recorded: only inside number-like
tokens, and every change is returned so provenance can show it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import NoTextLayer
from .layout import Word

_NUMBERISH = re.compile(r"^[\d.,，。OolI|≥≤=<>()（）%\-\s]+$")


@dataclass
class OcrPage:
    words: list[Word]
    corrections: list[str] = field(default_factory=list)
    skew: float = 0.0
    quarters: int = 0  # clockwise quarter turns applied before reading
    mean_confidence: float = 0.0
    image: np.ndarray | None = None  # the (turned, deskewed) frame the words are in


def available() -> bool:
    try:
        import cv2  # noqa: F401
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _engine():
    try:
        import rapidocr
        from rapidocr import RapidOCR
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise NoTextLayer("the page is an image and OCR is not installed (pip install 'fiscal-form-extractor[ocr]')") from exc
    models = Path(rapidocr.__file__).parent / "models"

    def pick(prefix: str) -> str:
        found = sorted(models.glob(f"{prefix}*.onnx"))
        if not found:
            raise NoTextLayer(f"the OCR models ({prefix}*.onnx) are not inside the rapidocr package")
        return str(found[-1])

    return RapidOCR(params={
        "Global.log_level": "error",
        "Global.use_cls": False,  # its 0/180 classifier flipped numbers; orientation is ours
        "Det.model_path": pick("PP-OCRv6_det") if list(models.glob("PP-OCRv6_det*")) else pick("ch_PP-OCR"),
        "Rec.model_path": pick("PP-OCRv6_rec") if list(models.glob("PP-OCRv6_rec*")) else pick("ch_PP-OCR"),
    })


LONE_DASHES = {"=", "一", "_", "—", "–", "~", "－"}
_CJK_DOT = re.compile(r"(?<=[\u3400-\u9fff])\.(?=[\u3400-\u9fff])")


def clean_token(text: str) -> tuple[str, str | None]:
    """NFKC, then the confusions OCR makes inside numbers: O/o→0, l/I/|→1, a comma
    before exactly two final digits → decimal point; in text, a '.' between two
    Chinese characters is a misread comma. Returns (text, correction note)."""
    t = unicodedata.normalize("NFKC", text).strip()
    if t in LONE_DASHES:  # a table's "-" read as a look-alike
        return "-", f"{t!r} → '-'"
    if t and _CJK_DOT.search(t):
        fixed = _CJK_DOT.sub(",", t)
        return fixed, f"{t!r} → {fixed!r}"
    if not t or not any(ch.isdigit() for ch in t) or not _NUMBERISH.match(t):
        return t, None
    fixed = t.translate(str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "。": "."}))
    fixed = re.sub(r"(?<=\d),(?=\d{2}(?:\D|$))(?!\d{3})", ".", fixed)
    return fixed, (f"{t!r} → {fixed!r}" if fixed != t else None)


def read_image(img: np.ndarray, scale: float) -> tuple[list[Word], list[str], float]:
    """OCR an RGB/gray image; boxes scaled to page points."""
    result = _engine()(img)
    words, notes, scores = [], [], []
    boxes = result.boxes if result.boxes is not None else []
    texts = result.txts if result.txts is not None else []
    confs = result.scores if result.scores is not None else []
    for box, text, score in zip(boxes, texts, confs):
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        fixed, note = clean_token(text)
        if not fixed:
            continue
        if note:
            notes.append(note)
        scores.append(float(score))
        words.append(Word(fixed, min(xs) * scale, min(ys) * scale, max(xs) * scale, max(ys) * scale, confidence=float(score)))
    return words, notes, (sum(scores) / len(scores) if scores else 0.0)


def _text_is_upright(words: list[Word]) -> bool:
    """Most text boxes are wider than tall on an upright (or upside-down) page."""
    if not words:
        return True
    wide = sum(1 for w in words if (w.x1 - w.x0) >= (w.y1 - w.y0))
    return wide >= len(words) / 2


def ocr_page(img: np.ndarray, dpi: float) -> OcrPage:
    """Deskew, read, and turn by quarters if the text is not upright. `img` is RGB at `dpi`."""
    from . import raster

    scale = 72.0 / dpi
    gray = raster.to_gray(img)
    skew = raster.skew_angle(gray)  # table rulings are near-horizontal in any quarter turn
    if abs(skew) > 0.1:
        gray = raster.rotate(gray, skew)
    words, notes, mean = read_image(gray, scale)
    quarters = 0
    # A page turned by 90° reads as tall boxes; one turned by 180° reads with low confidence.
    if not _text_is_upright(words) or mean < 0.8:
        best = (mean if _text_is_upright(words) else -1.0, 0, words, notes)
        for q in ((1, 3) if not _text_is_upright(words) else (2,)):
            w2, n2, m2 = read_image(raster.rotate_quarter(gray, q), scale)
            if _text_is_upright(w2) and m2 > best[0]:
                best = (m2, q, w2, n2)
        mean, quarters, words, notes = best
        if quarters:
            gray = raster.rotate_quarter(gray, quarters)
    return OcrPage(words=words, corrections=notes, skew=skew, quarters=quarters, mean_confidence=mean, image=gray)
