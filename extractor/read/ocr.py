"""OCR for pages with no text layer: RapidOCR (PP-OCR models in ONNX) on the CPU.

The models are the ones inside the `rapidocr` wheel, pinned by path, so nothing
is fetched at run time (`pip install '.[ocr]'` installs them). Words come back
with boxes in page points and the recogniser's confidence, the same `Word`s a
text layer gives. Clean-up is narrow and recorded: only inside number-like
tokens, and every change is returned so provenance can show it.
"""

from __future__ import annotations

import os
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import NoTextLayer
from ..layout.page import Word

_NUMBERISH = re.compile(r"^[\d.,，。OolI|≥≤=<>()（）%\-\s]+$")


@dataclass
class OcrPage:
    words: list[Word]
    corrections: list[str] = field(default_factory=list)
    skew: float = 0.0
    quarters: int = 0  # clockwise quarter turns applied before reading
    mean_confidence: float = 0.0
    image: np.ndarray | None = None  # the (turned, deskewed) frame the words are in
    rulings: list | None = None  # the rulings found in `image` (page points), when they were
    cut: list = field(default_factory=list)  # cells (page points) whose ink runs into their border
    lost: list = field(default_factory=list)  # boxes (page points) of ink read with too little confidence to keep


def available() -> bool:
    try:
        import cv2  # noqa: F401
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


def _bundled_model(*prefixes: str) -> str:
    """Path of a model file inside the rapidocr wheel: the first prefix that has one."""
    import rapidocr

    models = Path(rapidocr.__file__).parent / "models"
    for prefix in prefixes:
        found = sorted(models.glob(f"{prefix}*.onnx"))
        if found:
            return str(found[-1])
    raise NoTextLayer(f"the OCR models ({' or '.join(prefixes)}*.onnx) are not inside the rapidocr package")


def _rapidocr(**params):
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise NoTextLayer("the page is an image and OCR is not installed (pip install 'fiscal-form-extractor[ocr]')",
                          zh="页面是图片，但未安装 OCR（pip install 'fiscal-form-extractor[ocr]'）") from exc
    return RapidOCR(params={
        "Global.log_level": "error",
        "Det.model_path": _bundled_model("PP-OCRv6_det", "ch_PP-OCR"),
        "Rec.model_path": _bundled_model("PP-OCRv6_rec", "ch_PP-OCR"),
        **params,
    })


_BATCH = 6  # line images per recogniser call (RapidOCR's default)
_SETTINGS = {
    "Global.use_cls": False,  # its 0/180 classifier flipped numbers; orientation is ours
    # A recogniser batch is padded to at least this width; the default 320 px made
    # every short cell ("0.00", "-") cost as much as a long line: half the time.
    "Rec.rec_img_shape": [3, 48, 48],
    "Rec.rec_batch_num": _BATCH,
}


@lru_cache(maxsize=1)
def _engine():
    # As many threads as the process has cores (ONNX Runtime's default takes the
    # machine's, whatever a scheduler gave this process).
    return _rapidocr(**_SETTINGS, **{"EngineConfig.onnxruntime.intra_op_num_threads": cores()})


@lru_cache(maxsize=1)
def _line_reader():
    """The recogniser the line batches go to: one thread per batch, the batches side by
    side on the cores (one batch at a time on every core left them half idle: ≈11% more
    time on the benchmark's pages, same text)."""
    return _rapidocr(**_SETTINGS, **{"EngineConfig.onnxruntime.intra_op_num_threads": 1,
                                     "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                                     "Global.return_word_box": True})  # (each character's place and confidence: `_unsure`)


@lru_cache(maxsize=1)
def _threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=cores(), thread_name_prefix="ocr-lines")


def cores() -> int:
    """The cores this process may use: OMP_NUM_THREADS where a scheduler set it (a Ray
    worker gets its task's CPUs), else those it may run on."""
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except (KeyError, ValueError):
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@lru_cache(maxsize=1)
def _detector():
    """RapidOCR's text detector (its session and DB post-processing), which it loads
    on its first detection: one over a blank image loads it through the public call."""
    engine = _engine()
    if engine.text_det is None:
        engine(np.full((64, 64, 3), 255, np.uint8), use_cls=False, use_rec=False)
    return engine.text_det


def stock_engine():
    """RapidOCR with its own defaults (its angle classifier on, 320-px batches) and
    the same bundled models: the baseline the benchmark and the comparison time."""
    return _rapidocr(**{"Cls.model_path": _bundled_model("ch_ppocr_mobile", "ch_PP-OCR")})


LONE_DASHES = {"=", "一", "_", "—", "–", "~", "－", "/", "\\", "|", "l", "I"}  # (a lone / is read as l, I or |: no 1)
_CJK_DOT = re.compile(r"(?<=[\u3400-\u9fff])\.(?=[\u3400-\u9fff])")
_CJK_END_DOT = re.compile(r"(?<=[\u3400-\u9fff%)）])\.$")  # a Chinese sentence's end: 。read as '.'
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_UNIT = re.compile(r"\([^()]*[\u3400-\u9fff][^()]*\)$")  # a value's unit, after NFKC: (个月), (%)…


def clean_token(text: str) -> tuple[str, str | None]:
    """NFKC, then the confusions OCR makes inside numbers: O/o→0, l/I/|→1, a comma
    before exactly two final digits → decimal point; in text, a '.' between two
    Chinese characters is a misread comma, and one ending a Chinese sentence a 。. Returns (text, correction note)."""
    t = unicodedata.normalize("NFKC", text).strip()
    if t in LONE_DASHES:  # a table's "-" read as a look-alike
        return "-", f"{t!r} → '-'"
    unit = _UNIT.search(t)
    if unit and unit.start() and not _HAS_CJK.search(t[: unit.start()]):  # "12,00(个月)": the number before its unit
        number, note = clean_token(t[: unit.start()])
        return number + unit.group(0), (f"{t!r} → {number + unit.group(0)!r}" if note else None)
    if _HAS_CJK.search(t):
        fixed = _CJK_END_DOT.sub("。", _CJK_DOT.sub(",", t))
        if fixed != t:
            return fixed, f"{t!r} → {fixed!r}"
    if not t or not any(ch.isdigit() for ch in t) or not _NUMBERISH.match(t):
        return t, None
    if t.endswith("%.") or t.endswith("%。"):  # a sentence's last words, 90%。 (no decimal point follows a %)
        return t[:-1] + "。", (f"{t!r} → {t[:-1] + '。'!r}" if t[-1] == "." else None)
    fixed = t.translate(str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "。": "."}))
    fixed = re.sub(r"(?<=\d),(?=\d{2}(?:\D|$))(?!\d{3})", ".", fixed)
    return fixed, (f"{t!r} → {fixed!r}" if fixed != t else None)


_MIN_SCORE = 0.5  # rapidocr's own text_score: below it a box is noise…
_MIN_LINE_SCORE = 0.3  # …unless it reads as a line of 3 characters or more: text read poorly, kept with its score
_SPECK_MARKS = set("·.,，、。'`\"‘’“”:;：；")  # alone in a box they mean nothing in a form
_SAMPLE = 24  # boxes recognised to choose a page's orientation


DETECT_DPI = 100.0  # the detector finds form text (9–12 pt) as well at this resolution


def _detect(gray: np.ndarray, dpi: float, page_side: int | None = None) -> list[np.ndarray]:
    """Text boxes (4×2 float32 quads, pixels) on the image; no recognition.

    The same detector RapidOCR runs, but only over the ink (a quarter of a scanned
    page is margin), with one float32 normalising pass, and on the page shrunk to
    DETECT_DPI (at most by half): RapidOCR detects at the scan's own resolution,
    which costs 2.25× more at 150 dpi and found no more cells on our pages. Its own
    call would also crop every box, which we do again."""
    import cv2
    from rapidocr.utils.process_img import resize_image_within_bounds

    from . import raster

    engine = _engine()
    det = _detector()
    img, ratio_h, ratio_w = resize_image_within_bounds(gray, engine.min_side_len, engine.max_side_len)
    box = raster.ink_box(img)
    if box is None:
        return []
    x0, y0, x1, y1 = box
    # Shrunk towards DETECT_DPI, but never below det.limit_side_len px on the page's
    # small side, the least RapidOCR gives its detector (judged on the page, not on
    # the crop). Sides are stretched to multiples of 32, as RapidOCR does.
    # (`page_side`: the page's small side when `gray` is a strip or a cell of it)
    up = max(det.limit_side_len / (page_side or min(img.shape[:2])), min(1.0, max(0.5, DETECT_DPI / dpi)))
    h, w = y1 - y0, x1 - x0
    size = (max(32, round(w * up / 32) * 32), max(32, round(h * up / 32) * 32))
    sized = cv2.resize(img[y0:y1, x0:x1], size)
    x = sized.astype(np.float32) * np.float32(2 / 255) - np.float32(1)  # (v/255 − 0.5)/0.5
    x = np.ascontiguousarray(np.broadcast_to(x[None, None], (1, 3, *x.shape)))
    boxes, _ = det.postprocess_op(det.session(x), (h, w))  # boxes in the crop's pixels
    if len(boxes) == 0:
        return []
    boxes = det.sorted_boxes(boxes).astype(np.float32)
    boxes[..., 0] = np.clip((boxes[..., 0] + x0) * ratio_w, 0, gray.shape[1])
    boxes[..., 1] = np.clip((boxes[..., 1] + y0) * ratio_h, 0, gray.shape[0])
    return list(boxes)


_WIDTH_SLACK = 1.1  # a batch holds lines within 10% of each other's width


_UNSURE_SCORE = 0.6  # a line `_unsure` names: kept, its value named as unsure (under pipeline.LOW_OCR_CONFIDENCE)
_UNSURE_CHAR = 0.5  # a prose character read with less confidence than this…
_PROSE = 8  # …in a line of this many Chinese characters or more (no arithmetic checks prose)
# A Chinese character read with less confidence than this, in a line of fewer Chinese
# characters than `_LONG`: the recogniser reads 门 as 内 or 門 in Noto Sans CJK SC
# (Chromium's font) at 0.38–0.78 with the rest of the line sure, a line mean of
# 0.85–0.96 (scans of browser-printed forms: names, titles, a narrow cell's lines).
# A long line of prose has its own floor and its re-read (`_read_prose_again`): at 0.8
# it named a correct 28-character line of a photo's goal (职 at 0.54).
_UNSURE_HANZI = 0.8
_LONG = 16
_LEAD = 1.4  # ink this many characters' widths before the first character read is a mark left unread
_FULL_WIDTH = re.compile(r"[\u3400-\u9fff，。、；：“”‘’（）《》〈〉〔〕【】！？]")


def _lead(img: np.ndarray, info) -> float:
    """How far, in characters' widths, the line's ink starts before its first character
    read (the recogniser's frames mapped onto the image; 0 where it cannot say)."""
    chars = [ch for word in info.words for ch in word]
    cols = [c for word in info.word_cols for c in word]
    full = [c for ch, c in zip(chars, cols) if _FULL_WIDTH.match(ch)]
    if len(full) < 3 or not info.line_txt_len or full[-1] == full[0]:
        return 0.0
    marks, _ = _ink_marks(img)
    if not marks:
        return 0.0
    frame = img.shape[1] / info.line_txt_len
    pitch = (full[-1] - full[0]) * frame / (len(full) - 1)
    return ((cols[0] + 0.5) * frame - marks[0][1]) / pitch


_WIDE_INK = 1.6  # a short line's ink this many characters wide for each character read: one was dropped
_PITCH = 0.52  # a Chinese character's advance, in the line image's text height (median of the scans' lines, 0.49–0.66)


def _ink_per_character(img: np.ndarray, info) -> float:
    """For a line read as one or two Chinese characters, how many characters' widths of
    ink it holds for each (0 for any other line): the recogniser drops a thin character
    at a short line's start with the rest sure (`个月` read `月` at 0.96 on a 200-dpi scan:
    a unit, silently). Its pitch from the line's height: too few characters to measure."""
    chars = [ch for word in info.words for ch in word]
    if not 0 < len(chars) <= 2 or not all("\u3400" <= ch <= "\u9fff" for ch in chars):
        return 0.0
    marks, core = _ink_marks(img)
    if not marks:
        return 0.0
    return (marks[-1][1] - marks[0][0]) / (_PITCH * core) / len(chars)


def _ink_marks(img: np.ndarray) -> tuple[list[tuple[int, int]], float]:
    """The line image's runs of ink columns across the middle of its text (not a ruling's
    sliver at an edge), and the text's height in px; no runs where the image holds no
    print (paper and ink less than 60 levels apart)."""
    from .cells import runs

    gray = img if img.ndim == 2 else img[:, :, 0]
    height, width = gray.shape
    core = height / (1 + 2 * _MARGIN)  # the line image before its margin: the text is its middle
    band = gray[int((height - core) / 2 + 0.2 * core):int((height - core) / 2 + 0.8 * core)]
    paper, darkest = float(np.median(band)), float(band.min())
    if paper - darkest < 60:
        return [], core
    ink = band < (paper + darkest) / 2
    return [(a, b) for a, b in runs(ink.any(axis=0), gap=1)
            if ink[:, a:b].sum() >= 3 and not (a == 0 and b <= 2) and not (b >= width - 1 and a >= width - 3)], core


def _unsure(img: np.ndarray, text: str, info) -> str | None:
    """Why a line read with a high mean confidence cannot be vouched for, or None: ink
    before its first character (the recogniser drops a wrapped sentence's leading `、`
    with confidence), or a character of prose it was unsure of (a mean over 40
    characters hides one misread bracket). Found on the silent-error hunt's scans."""
    if not text or info is None or not getattr(info, "words", None):
        return None
    k = _weakest_char(text, info)
    if k is not None and info.confs[k] < _UNSURE_CHAR:
        return f"{text[k]!r} in {text[max(0, k - 6):k + 7]!r} read with confidence {info.confs[k]:.2f}"
    confs = getattr(info, "confs", None) or []
    hanzi = [i for i, ch in enumerate(text) if "\u3400" <= ch <= "\u9fff"]
    if len(confs) == len(text) and len(hanzi) < _LONG:
        k = min(hanzi, key=confs.__getitem__, default=None)
        if k is not None and confs[k] < _UNSURE_HANZI:
            return f"{text[k]!r} in {text[max(0, k - 6):k + 7]!r} read with confidence {confs[k]:.2f}"
    if _lead(img, info) > _LEAD:
        return f"a mark before {text[:8]!r} was not read"
    if (wide := _ink_per_character(img, info)) > _WIDE_INK:
        return f"{text!r} read from ink {wide:.1f} characters wide a character"
    if (m := _DASH_IN_PROSE.search(text)) is not None:
        return f"{m.group()!r}: a hyphen between two Chinese characters is no character of prose (a misread 。 or 一)"
    return _room_for_a_character(info)


# The forms' prose joins Chinese characters with no hyphen (a range is of figures, a dash
# is ——): one between two is the recogniser's reading of 。 or 一 (就业。开展 read 就业-开展
# with the line at 0.98 on a 150-dpi scan, silently)
_DASH_IN_PROSE = re.compile(r"[\u3400-\u9fff][-‐‑_~][\u3400-\u9fff]")


_ROOM = 1.8  # frames between two Chinese characters, in their usual pitch, that leave room for one unread


def _room_for_a_character(info) -> str | None:
    """Where the recogniser's frames leave room for a character it did not read between two
    Chinese characters (they stand one em apart; punctuation's ink sits to one side of
    its em: `》《` are two ems apart): the thin `一` of 统一部署 dropped at 150 dpi, with
    the rest of the line sure. None where the line has too few such neighbours to know
    their pitch."""
    chars = [ch for word in info.words for ch in word]
    cols = [c for word in info.word_cols for c in word]
    if len(chars) != len(cols):
        return None
    gaps = [(cols[i + 1] - cols[i], i) for i in range(len(chars) - 1)
            if "\u3400" <= chars[i] <= "\u9fff" and "\u3400" <= chars[i + 1] <= "\u9fff"]
    if len(gaps) < 4:
        return None
    # (the mean of the usual gaps: a frame is a third of a character at 150 dpi, and
    # gaps of 2 and 3 frames make a pitch of 2.5, not the median's 3)
    median = sorted(g for g, _ in gaps)[len(gaps) // 2]
    usual = [g for g, _ in gaps if g <= 1.5 * median]
    pitch = sum(usual) / len(usual)
    wide = next((i for g, i in gaps if g >= _ROOM * pitch), None)  # (frames rise: every gap ≥ 1)
    if wide is None:
        return None
    return f"room for a character not read between {chars[wide]!r} and {chars[wide + 1]!r}"


def _weakest_char(text: str, info) -> int | None:
    """Where in a prose line its least sure character is; None for a line of figures or
    labels (whose values the arithmetic and the templates check) or without confidences."""
    confs = (getattr(info, "confs", None) or []) if info is not None else []
    if len(confs) != len(text) or len(_HAS_CJK.findall(text)) < _PROSE:
        return None
    return min(range(len(confs)), key=confs.__getitem__)


def _weakest(text: str, info) -> float:
    """The confidence of a prose line's least sure character (1.0 for any other line)."""
    k = _weakest_char(text, info)
    return 1.0 if k is None else float(info.confs[k])


def _recognise(crops: list[np.ndarray], weakest: list[float] | None = None) -> tuple[list[tuple[str, float]], list[str | None]]:
    """Text and confidence of each line image, and for each why `_unsure` names it (its
    confidence then lowered to name its value) or None; `weakest`, when given, gets each
    line's `_weakest`. A batch is padded to its widest line
    and the recogniser's time is linear in width, so batches hold lines of nearly
    the same width (RapidOCR batches any six in width order: ≈8% of a page's
    columns were padding); ≈10% less time, same cells on our pages."""
    if not crops:
        return [], []
    engine = _line_reader()
    crops = [_margined(c) for c in crops]
    ratio = [max(1.0, c.shape[1] / max(c.shape[0], 1)) for c in crops]
    out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
    batches: list[list[int]] = []
    for i in sorted(range(len(crops)), key=ratio.__getitem__):
        if batches and len(batches[-1]) < _BATCH and ratio[i] <= _WIDTH_SLACK * ratio[batches[-1][0]]:
            batches[-1].append(i)
        else:
            batches.append([i])
    def read(batch: list[int]):
        return batch, engine.recognize_txt([_bgr(crops[i]) for i in batch])

    unsure: list[str | None] = [None] * len(crops)
    if weakest is not None:
        weakest[:] = [1.0] * len(crops)
    for batch, rec in _threads().map(read, batches):
        for i, text, score, info in zip(batch, rec.txts, rec.scores, rec.word_results or [None] * len(batch)):
            out[i] = (text, float(score))
            if weakest is not None:
                weakest[i] = _weakest(text, info)
            unsure[i] = _unsure(crops[i], text, info) if score >= _UNSURE_SCORE else None
            if unsure[i]:
                out[i] = (text, _UNSURE_SCORE)
    return out, unsure


def _unsure_notes(read: list[tuple[str, float]], unsure: list[str | None]) -> list[str]:
    return [f"{text!r} named as unsure: {why}" for (text, _), why in zip(read, unsure) if why]


_STRETCH = 1.6  # a line with figures is read again this much wider
_FIGURES = re.compile(r"\d")
_DIGITS = re.compile(r"\d+")
_OPS = re.compile("[=＝≥≤<>]")


def _read_lines(crops: list[np.ndarray]) -> tuple[list[tuple[str, float]], list[str]]:
    """Each line read, and a line with figures read again stretched wider: the
    recogniser (CTC) merges a character repeated in fewer steps than it needs, so a
    narrow `10000.00` comes out `1000.00` with confidence (a stretched copy reads it
    whole). Where the two readings' figures differ the stretched one is kept when it is
    at least as sure; else the first, its confidence halved (a value named as unsure).
    Then a prose line with an unsure character is read again too (`_read_prose_again`)."""
    import cv2

    weakest: list[float] = []
    read, unsure = _recognise(crops, weakest)
    again = [i for i, (text, _) in enumerate(read) if _FIGURES.search(text)]
    notes = []
    if again:
        wide, wide_unsure = _recognise([cv2.resize(crops[i], None, fx=_STRETCH, fy=1.0, interpolation=cv2.INTER_CUBIC)
                                        for i in again])
        for i, (text, score), why in zip(again, wide, wide_unsure):
            first, first_score = read[i]
            if _DIGITS.findall(text) == _DIGITS.findall(first):
                # The same figures, a symbol read two ways: the surer reading's (`>≥7000.00` at
                # 0.83, stretched `≥7000.00` at 1.00, a slanted ⩾ on a page read as an image;
                # `12,00` and `12.00`). On the scanned fixtures 6 of 7 such lines read right
                # stretched and surer; the seventh (`0` at 0.65, `0O` at 0.49) right first.
                # A Chinese character read two ways, or in one reading only, is neither's to
                # keep: the line is named (`≥30 (门)` read `≥30 ()` stretched and surer, in
                # Chromium's font, whose 门 the recogniser doubts).
                # So is an operator in one reading only (`=100(%)`, stretched `100 (%)` surer:
                # the = was lost, silently, from Sichuan's target at 150 dpi): the one with it is kept.
                op_wide, op_first = bool(_OPS.search(text)), bool(_OPS.search(first))
                if _HAS_CJK.findall(text) != _HAS_CJK.findall(first) or op_wide != op_first:
                    if unsure[i] is None:
                        unsure[i] = f"read {first!r} and, stretched, {text!r}"
                        read[i] = (text if op_wide and not op_first else first, min(first_score, _UNSURE_SCORE))
                elif score > first_score and "".join(text.split()) != "".join(first.split()):
                    read[i], unsure[i] = (text, score), why
                    notes.append(f"{first!r} read again wider: {text!r}")
                continue
            if score >= first_score:
                read[i], unsure[i] = (text, score), why  # (what is said of a line is said of the reading kept)
                notes.append(f"{first!r} read again wider: {text!r}")
            else:
                read[i] = (first, min(first_score, score) / 2)
    _read_prose_again(crops, read, unsure, weakest)
    return read, _unsure_notes(read, unsure) + notes


_DOUBT_CHAR = 0.75  # a prose line with a character read under this is read a second time…
_PROSE_STRETCH = 1.25  # …this much wider


def _read_prose_again(crops: list[np.ndarray], read: list[tuple[str, float]], unsure: list[str | None],
                      weakest: list[float]) -> None:
    """A prose line with a character the recogniser was not sure of is read again,
    stretched: where the two readings differ (beyond the width of punctuation and
    spaces) the line is named as unsure, both readings in the note. No reading is
    chosen: a phone photo's `主旅律` (0.53) for 主旋律 reads `主旋律` stretched, a correct
    line can read otherwise stretched; either way the value is one to look at. Nothing
    checks prose but this (the arithmetic checks figures); a floor on the character's
    confidence alone would name 1.3% of correct prose lines on the hunt's scans."""
    import cv2

    from ..forms.numbers import compact

    doubt = [i for i, w in enumerate(weakest) if w < _DOUBT_CHAR and unsure[i] is None and read[i][1] >= _UNSURE_SCORE]
    if not doubt:
        return
    again, _ = _recognise([cv2.resize(crops[i], None, fx=_PROSE_STRETCH, fy=1.0, interpolation=cv2.INTER_CUBIC)
                           for i in doubt])
    for i, (text, _score) in zip(doubt, again):
        first = read[i][0]
        if compact(text) != compact(first):
            read[i] = (first, min(read[i][1], _UNSURE_SCORE))
            unsure[i] = f"read {first!r} and, stretched, {text!r}"


_MARGIN = 0.1  # paper added above and below a line image, a share of its height


def _margined(img: np.ndarray) -> np.ndarray:
    """A line image with a margin of paper above and below. The recogniser scales
    every line to 48 px high, and its time is linear in the width that gives: a
    detector's box, tight on the text, made the text fill the frame. With a tenth
    of its height above and below (the text shrunk by a sixth), the same lines read
    the same (after NFKC) on the benchmark's dense page, in ≈18% less time; a fifth
    misread a number."""
    import cv2

    pad = int(round(img.shape[0] * _MARGIN))
    if not pad:
        return img
    paper = float(np.median(img))  # (a line is mostly paper: grey paper stays grey, no edge drawn)
    return cv2.copyMakeBorder(img, pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=(paper,) * (img.shape[2] if img.ndim == 3 else 1))


def _bgr(img: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img


def _crop(gray: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The box's pixels straightened, as rapidocr crops them (tall crops turned)."""
    from rapidocr.utils.process_img import get_rotate_crop_image

    return get_rotate_crop_image(gray, box.copy())


def _plain_crop(gray: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The box's bounding rectangle, not turned: turning it by q quarters shows how
    the text would look on the page turned by q quarters."""
    x0, y0 = np.floor(box.min(axis=0)).astype(int)
    x1, y1 = np.ceil(box.max(axis=0)).astype(int)
    return gray[max(y0, 0):y1, max(x0, 0):x1]


def _usual(heights: list[float]) -> float:
    """A page's usual text height: the upper middle of its boxes' heights (0 for none)."""
    return sorted(heights)[len(heights) // 2] if heights else 0.0


def _beside_text(box: np.ndarray, texts: list[tuple[np.ndarray, str]], line: float) -> bool:
    """Another box of text on the same line (its middle within the mark's rows),
    starting or ending within a character's width of the mark."""
    (x0, y0), (x1, y1) = box.min(axis=0), box.max(axis=0)
    for other, text in texts:
        if other is box or set(text.strip()) <= _SPECK_MARKS:
            continue
        (ox0, oy0), (ox1, oy1) = other.min(axis=0), other.max(axis=0)
        same_line = oy0 - line / 2 <= (y0 + y1) / 2 <= oy1 + line / 2
        if same_line and (0 <= ox0 - x1 <= 1.5 * line or 0 <= x0 - ox1 <= 1.5 * line):
            return True
    return False


_BARLESS = frozenset({">", "<"})
_ROUND = set("Oo0°。.〇口")  # a lone small round mark: a full stop, however the recogniser names it


def _wrapped_end(box: np.ndarray, texts: list[tuple[np.ndarray, str]], line: float) -> str | None:
    """The text of the line a small mark starts the next line under, when it does: a
    spreadsheet wraps a cell's sentence anywhere, so its closing `。` can stand alone at
    the start of the cell's last line (read `O` or `0`, it looked like scanner dirt), or
    in its middle where the cell centres its lines."""
    (x0, y0), (x1, y1) = box.min(axis=0), box.max(axis=0)
    for other, text in texts:
        if other is box or not _HAS_CJK.search(text[-1:]):
            continue
        (ox0, oy0), (ox1, oy1) = other.min(axis=0), other.max(axis=0)
        below = 0.3 * line <= (y0 + y1) / 2 - (oy0 + oy1) / 2 <= 1.2 * line
        if below and (abs(x0 - ox0) <= 0.6 * line or abs((x0 + x1) / 2 - (ox0 + ox1) / 2) <= 0.6 * line):
            return text
    return None


def _words(boxes: list[np.ndarray], read: list[tuple[str, float]], scale: float,
           lost: list[tuple[float, float, float, float]] | None = None) -> tuple[list[Word], list[str], float]:
    """The words of boxes read (page points), the notes on what was changed or dropped,
    and the mean confidence; `lost`, when given, gets the boxes read too poorly to keep
    (a lone `1` or `=` at 150 dpi: the cell they stand in is then in doubt, `scan.py`)."""
    words, notes, scores, specks = [], [], [], []
    line = _usual([float(np.ptp(b[:, 1])) for b, (_, sc) in zip(boxes, read) if sc >= _MIN_SCORE])
    texts = [(box, text) for box, (text, score) in zip(boxes, read) if score >= _MIN_SCORE and text.strip()]
    for box, (text, score) in zip(boxes, read):
        # (a lone mark's score says little: where it stands says what it is. Read as no
        # round mark, or as one with next to no confidence — `0` at 0.19 —, it is kept as
        # the `。` it most likely is, its value named as unsure)
        mark = len(text.strip()) <= 1 and np.ptp(box[:, 1]) < line / 2
        above = _wrapped_end(box, texts, line) if mark else None
        if above and not (text.strip() in _ROUND and score >= _MIN_LINE_SCORE):
            score = min(score, _UNSURE_SCORE)
            notes.append(f"a lone mark read {text.strip()!r} under {above[-8:]!r}, where a sentence's closing '。' stands, "
                         "named as unsure")
        if score < _MIN_SCORE and not above and (score < _MIN_LINE_SCORE or len(text.strip()) < 3):
            if lost is not None:  # (a line read poorly is kept: its value is then named as unsure, not lost unnamed)
                (x0, y0), (x1, y1) = box.min(axis=0), box.max(axis=0)
                lost.append((float(x0) * scale, float(y0) * scale, float(x1) * scale, float(y1) * scale))
            continue
        fixed, note = clean_token(text) if text.strip() or not above else ("。", None)
        if not fixed:
            continue
        if above:
            notes.append(f"a lone {fixed!r} under {above[-8:]!r} read as the sentence's closing '。'")
            fixed = "。"
        # Scanner dirt: a lone '·' or '、' (not '%)', the end of a wrapped header), or
        # a mark under half the usual text height read as '1' (a dash is short by
        # nature and means "no value" anyway). A '、' or '·' that opens or closes a line
        # of text beside it (a wrapped sentence's first mark) is punctuation.
        # (Not characters of text, though half high: a merged cell's label the page's top
        # edge cut in half, `服务对家两息度指你` at 0.36, was dropped so and its rows carried the
        # label above, silently. Kept, its low confidence names it.)
        if fixed != "-" and not above and ((set(fixed) <= _SPECK_MARKS and not _beside_text(box, texts, line))
                             or np.ptp(box[:, 1]) < line / 2 and not set(fixed) <= _SPECK_MARKS
                             and len(_HAS_CJK.findall(fixed)) < 2):
            specks.append(fixed)
            continue
        if note:
            notes.append(note)
        scores.append(score)
        if fixed in _BARLESS and score > _UNSURE_SCORE:
            # A lone `>` is what the recogniser makes of a `≥` whose bar the scan thinned
            # (Sichuan's 指标性质 column at 150 dpi, at 0.9): it cannot tell them apart alone
            score = _UNSURE_SCORE
            notes.append(f"a lone {fixed!r} named as unsure: a '≥' or '≤' whose bar was lost reads so")
        (x0, y0), (x1, y1) = box.min(axis=0), box.max(axis=0)
        words.append(Word(fixed, float(x0) * scale, float(y0) * scale, float(x1) * scale, float(y1) * scale, confidence=score))
    if specks:
        notes.append(f"{len(specks)} speck(s) dropped: {' '.join(map(repr, specks[:5]))}")
    return words, notes, (sum(scores) / len(scores) if scores else 0.0)


def split_at_rulings(gray: np.ndarray, words: list[Word], verticals: list[tuple[float, float, float, float]],
                     scale: float) -> tuple[list[Word], list[str]]:
    """A text box the detector drew across a column ruling holds the ends of two
    cells (a wrapped label and its neighbour's text, run together): read each side
    of the ruling again on its own. `verticals` are (x, y0, x, y1) in page points."""
    out, notes = [], []
    for w in words:
        # A column ruling runs past the box at both ends; a stroke of a large
        # character (which the line finder can also report) stays inside it.
        cuts = sorted(x for x, y0, _, y1 in verticals if y0 <= w.y0 and y1 >= w.y1 and w.x0 + 2 < x < w.x1 - 2)
        if not cuts:
            out.append(w)
            continue
        edges = [w.x0, *cuts, w.x1]
        spans = [(a, b) for a, b in zip(edges, edges[1:]) if b - a > 2]
        y0, y1 = int(w.y0 / scale), int(np.ceil(w.y1 / scale))
        crops = [gray[y0:y1, int(a / scale) + 2:int(np.ceil(b / scale)) - 2] for a, b in spans]
        keep = [(span, crop) for span, crop in zip(spans, crops) if crop.size and crop.min() < 160]  # ink in it
        read, unsure = _recognise([c for _, c in keep])
        parts, _, _ = _words(
            [np.array([[a, w.y0], [b, w.y0], [b, w.y1], [a, w.y1]], dtype=np.float32) / scale for (a, b), _ in keep],
            read, scale)
        notes += _unsure_notes(read, unsure)
        if not parts:
            out.append(w)
            continue
        out.extend(parts)
        if len(parts) > 1:
            notes.append(f"{w.text!r} crossed a column ruling; read as {' | '.join(p.text for p in parts)}")
    return out, notes


def dashes_in_empty_cells(gray: np.ndarray, words: list[Word], cells: list[tuple[float, float, float, float]],
                          scale: float) -> list[Word]:
    """A lone '-' is too small for the text detector (it missed all 48 on our
    pages), yet it is what a form prints for "no value". In a ruled cell with no
    words, one short flat mark and nothing else is read as '-'. Cells are page
    points; the mark's size is judged against the page's usual word box height."""
    import cv2

    if not words:
        return []
    line = _usual([w.y1 - w.y0 for w in words]) / scale  # px
    inset = 4  # px: clear of the rulings
    found = []
    cx = np.array([w.cx for w in words])
    cy = np.array([w.cy for w in words])
    for cell in cells:
        if np.any((cx >= cell[0]) & (cx <= cell[2]) & (cy >= cell[1]) & (cy <= cell[3])):  # (centre_in, for all words at once)
            continue
        x0, y0 = int(cell[0] / scale) + inset, int(cell[1] / scale) + inset
        x1, y1 = int(cell[2] / scale) - inset, int(cell[3] / scale) - inset
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        ink = (gray[y0:y1, x0:x1] < 160).astype(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        # Marks touching the crop's edge are the ends of rulings, not text.
        marks = [st for st in stats[1:] if st[cv2.CC_STAT_AREA] >= 3 and st[0] > 0 and st[1] > 0
                 and st[0] + st[2] < x1 - x0 and st[1] + st[3] < y1 - y0]
        if len(marks) != 1:
            continue
        mx, my, mw, mh = (int(v) for v in marks[0][:4])
        middle = abs(my + mh / 2 - (y1 - y0) / 2) <= (y1 - y0) / 4  # cells centre their text
        if middle and max(3.0, 0.1 * line) <= mw <= 1.2 * line and mh <= 0.25 * line and mw >= 1.5 * mh:
            found.append(Word("-", (x0 + mx) * scale, (y0 + my) * scale, (x0 + mx + mw) * scale, (y0 + my + mh) * scale,
                              confidence=0.9))
    return found


def read_image(img: np.ndarray, scale: float) -> tuple[list[Word], list[str], float]:
    """OCR an upright gray image; boxes scaled to page points (`scale` = 72 / dpi)."""
    boxes = _detect(img, 72.0 / scale)
    read, again = _read_lines([_crop(img, b) for b in boxes])
    words, notes, mean = _words(boxes, read, scale)
    return words, again + notes, mean


def _is_tall(box: np.ndarray) -> bool:
    (x0, y0), (x1, y1) = box.min(axis=0), box.max(axis=0)
    return (y1 - y0) > (x1 - x0)


def _best_turn(gray: np.ndarray, boxes: list[np.ndarray], candidates: tuple[int, ...]) -> int:
    """Which quarter turn reads best, judged by the recogniser's confidence on the
    largest boxes only (recognising a sample costs a fraction of a page)."""
    from . import raster

    sample = sorted(boxes, key=lambda b: -float(np.prod(b.max(axis=0) - b.min(axis=0))))[:_SAMPLE]
    crops = [c for c in (_plain_crop(gray, b) for b in sample) if c.size]
    best, best_mean = candidates[0], -1.0
    for q in candidates:
        read, _ = _recognise([raster.rotate_quarter(c, q) for c in crops])
        mean = sum(sc for _, sc in read) / len(read) if read else 0.0
        if mean > best_mean:
            best, best_mean = q, mean
    return best


def ocr_page(img: np.ndarray, dpi: float) -> OcrPage:
    """Deskew, find the text boxes once and read them. A page whose boxes stand on
    end (turned 90°/270°), or that reads poorly (maybe upside down), is turned by
    the quarter whose sample of boxes reads best, then read again."""
    from . import raster

    scale = 72.0 / dpi
    gray = raster.to_gray(img)
    skew = raster.skew_angle(gray)  # table rulings are near-horizontal in any quarter turn
    if abs(skew) > 0.1:
        gray = raster.rotate(gray, skew)
    # An upright ruled page is read cell by cell (no detector over the table); a page
    # that reads poorly that way (turned, or no grid) goes the detector's way.
    lines, by_cells = _read_by_cells(gray, dpi, scale, skew, 0)
    if by_cells is not None:
        return by_cells
    boxes = _detect(gray, dpi)
    quarters, words, notes, mean = 0, [], [], 0.0
    if boxes and sum(map(_is_tall, boxes)) > len(boxes) / 2:
        quarters = _best_turn(gray, boxes, (1, 3))
    else:
        read, again = _read_lines([_crop(gray, b) for b in boxes])
        words, notes, mean = _words(boxes, read, scale)
        notes = again + notes
        if boxes and mean < 0.8:
            quarters = _best_turn(gray, boxes, (0, 2))
    if quarters:
        # Turned upright, a ruled page is read cell by cell as an upright one is (the
        # detector's boxes are tight on the text: an upside-down scan's `、` and `，` were
        # dropped from 1 in 2 of the hunt's forms' goals)
        gray = raster.rotate_quarter(gray, quarters)
        lines, by_cells = _read_by_cells(gray, dpi, scale, skew, quarters)
        if by_cells is not None:
            return by_cells
        words, notes, mean = read_image(gray, scale)
        lines = None  # (found on the page before it was turned)
    return OcrPage(words=words, corrections=notes, skew=skew, quarters=quarters, mean_confidence=mean, image=gray, rulings=lines)


def _read_by_cells(gray: np.ndarray, dpi: float, scale: float, skew: float, quarters: int) -> tuple[list, OcrPage | None]:
    """The image's rulings (page points), and the page read cell by cell — None where it
    has no ruled grid, or reads poorly that way (turned, mostly standing boxes, or a mean
    under 0.85). (`skew` and `quarters`: how the image was set upright, for the record.)"""
    from . import cells, raster

    lines, text = raster.rulings_and_text(gray, scale)  # (found once: the layout gets them too)
    lost: list[tuple[float, float, float, float]] = []  # (marks no line took, then boxes read too poorly)
    boxes, cut = cells.cell_boxes(gray, dpi, lines, _detect, lost) or ([], [])
    if not boxes:
        return lines, None
    read, again = _read_lines([_crop(text, b) for b in boxes])
    words, notes, mean = _words(boxes, read, scale, lost)
    if mean < 0.85 or sum(map(_is_tall, boxes)) >= len(boxes) / 2:
        return lines, None
    return lines, OcrPage(words=words, corrections=again + notes, skew=skew, quarters=quarters, mean_confidence=mean,
                          image=gray, rulings=lines, cut=cut, lost=lost)
