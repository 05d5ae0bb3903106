"""Compare the OCR engines we could ship, on our own pages, cell by cell.

Each candidate reads the same born-digital fixture pages rasterised at 150 dpi
(grey, light noise, no skew, so the page coordinates line up). The truth is the
text of every table cell our grid finds in the text layer; a candidate's words
are put into the cell holding their centre and compared after NFKC and without
spaces. Candidates that are not installed are reported as such:

    rapidocr 3.10 (ours)        pip install '.[ocr]'
    rapidocr-onnxruntime 1.4.4  pip install rapidocr-onnxruntime
    Tesseract chi_sim, PyMuPDF's OCR hook
                                apt-get install tesseract-ocr tesseract-ocr-chi-sim

    python eval/ocr_candidates.py [--pages N] [--only NAME] [--json eval/ocr-candidates.json]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pymupdf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.read.pdf import read_page  # noqa: E402

DPI = 150
SCALE = 72.0 / DPI
# One page of each born-digital layout (name, page index).
PAGES = [("one_per_page.pdf", 1), ("run_on.pdf", 0), ("landscape.pdf", 0), ("narrow_columns_mixed_fonts.pdf", 0),
         ("self_evaluation_no_total_label.pdf", 1), ("department_and_project.pdf", 0)]
NUMBERISH = re.compile(r"\d")
KEYS = ("cells", "cells_ok", "number_cells", "number_ok", "cjk_cells", "cjk_ok", "dash_cells", "dash_ok")
CJK = re.compile(r"[\u3400-\u9fff]")

Box = tuple[str, float, float, float, float]  # text, x0, y0, x1, y1 in page points
Reader = Callable[[np.ndarray], list[Box]]


@dataclass
class Page:
    name: str
    gray: np.ndarray
    cells: list[tuple[str, tuple[float, float, float, float]]]


def norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def load_pages(n: int) -> list[Page]:
    rng = np.random.default_rng(20261123)
    out = []
    for name, index in PAGES[:n]:
        page = pymupdf.open(ROOT / "fixtures" / "pdf" / name)[index]
        cells = [(c.text, c.bbox) for r in read_page(page).rows for c in r.cells if c.text.strip() and c.bbox]
        pix = page.get_pixmap(dpi=DPI, colorspace=pymupdf.csGRAY)
        gray = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w).astype(np.int16)
        gray = np.clip(gray + rng.normal(0, 12, gray.shape), 0, 255).astype(np.uint8)
        out.append(Page(f"{name}#{index + 1}", gray, cells))
    return out


def score(page: Page, boxes: list[Box]) -> dict[str, int]:
    got: dict[int, list[Box]] = {}
    for b in boxes:
        cx, cy = (b[1] + b[3]) / 2, (b[2] + b[4]) / 2
        for i, (_, (x0, y0, x1, y1)) in enumerate(page.cells):
            if x0 <= cx <= x1 and y0 <= cy <= y1:
                got.setdefault(i, []).append(b)
                break
    tally = dict.fromkeys(KEYS, 0)
    for i, (truth, _) in enumerate(page.cells):
        words = sorted(got.get(i, []), key=lambda b: (round(b[2] / 4), b[1]))
        ok = norm("".join(w[0] for w in words)) == norm(truth)
        tally["cells"] += 1
        tally["cells_ok"] += ok
        if NUMBERISH.search(truth) and not CJK.search(truth):
            tally["number_cells"] += 1
            tally["number_ok"] += ok
        if CJK.search(truth):
            tally["cjk_cells"] += 1
            tally["cjk_ok"] += ok
        if norm(truth) == "-":
            tally["dash_cells"] += 1
            tally["dash_ok"] += ok
    return tally


def _quads(boxes, texts) -> list[Box]:
    out = []
    for box, text in zip(boxes, texts):
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        out.append((text, min(xs) * SCALE, min(ys) * SCALE, max(xs) * SCALE, max(ys) * SCALE))
    return out


def ours() -> Reader | None:
    from extractor.read import ocr

    if not ocr.available():
        return None
    from extractor.read.scan import read_scan

    # The shipped path: OCR, then the split at column rulings and the '-' found by shape.
    return lambda gray: [(w.text, w.x0, w.y0, w.x1, w.y1) for w in read_scan(gray, DPI, 1)[0].words]


def rapidocr_stock() -> Reader | None:
    from extractor.read import ocr

    if not ocr.available():
        return None
    engine = ocr.stock_engine()

    def read(gray):
        r = engine(gray)
        return _quads(r.boxes if r.boxes is not None else [], r.txts or [])
    return read


def rapidocr_onnxruntime(use_cls: bool) -> Reader | None:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    engine = RapidOCR()

    def read(gray):
        result, _ = engine(gray, use_cls=use_cls)
        return _quads([r[0] for r in result or []], [r[1] for r in result or []])
    return read


def tesseract() -> Reader | None:
    if not shutil.which("tesseract") or "chi_sim" not in _tesseract_langs():
        return None
    import cv2

    def read(gray):
        ok, png = cv2.imencode(".png", gray)
        out = subprocess.run(["tesseract", "stdin", "stdout", "-l", "chi_sim+eng", "--dpi", str(DPI), "tsv"],
                             input=png.tobytes(), capture_output=True, check=True).stdout.decode("utf-8")
        boxes = []
        for row in csv.DictReader(io.StringIO(out), delimiter="\t", quoting=csv.QUOTE_NONE):
            text = (row.get("text") or "").strip()
            if row["level"] == "5" and text:
                x, y, w, h = (int(row[k]) for k in ("left", "top", "width", "height"))
                boxes.append((text, x * SCALE, y * SCALE, (x + w) * SCALE, (y + h) * SCALE))
        return boxes
    return read


def pymupdf_hook() -> Reader | None:
    """PyMuPDF's OCR text page (Tesseract underneath) over an image-only PDF page."""
    if not shutil.which("tesseract") or "chi_sim" not in _tesseract_langs():
        return None
    tessdata = _tessdata()

    def read(gray):
        doc = pymupdf.open()
        h, w = gray.shape
        page = doc.new_page(width=w * SCALE, height=h * SCALE)
        page.insert_image(page.rect, pixmap=pymupdf.Pixmap(pymupdf.csGRAY, w, h, gray.tobytes(), False))
        tp = page.get_textpage_ocr(language="chi_sim+eng", dpi=DPI, full=True, tessdata=tessdata)
        return [(w_[4], *w_[:4]) for w_ in page.get_text("words", textpage=tp)]
    return read


def _tesseract_langs() -> str:
    try:
        return subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout
    except OSError:
        return ""


def _tessdata() -> str | None:
    for p in sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata")):
        return str(p)
    return None


CANDIDATES: dict[str, Callable[[], Reader | None]] = {
    "rapidocr 3.10, PP-OCRv6 small, our settings (shipped)": ours,
    "rapidocr 3.10, PP-OCRv6 small, stock settings (cls on, 320-px batches)": rapidocr_stock,
    "rapidocr-onnxruntime 1.4.4, PP-OCRv4 mobile, cls on": lambda: rapidocr_onnxruntime(True),
    "rapidocr-onnxruntime 1.4.4, PP-OCRv4 mobile, cls off": lambda: rapidocr_onnxruntime(False),
    "Tesseract chi_sim+eng (Debian), CLI tsv": tesseract,
    "PyMuPDF get_textpage_ocr (Tesseract chi_sim+eng)": pymupdf_hook,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=len(PAGES))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--only", default="", help="Run only the candidates whose name contains this.")
    args = ap.parse_args()
    pages = load_pages(args.pages)
    report = {"dpi": DPI, "pages": [p.name for p in pages], "cells": sum(len(p.cells) for p in pages), "candidates": {}}
    print(f"{len(pages)} pages at {DPI} dpi, {report['cells']} table cells\n")
    print("| engine | cells exact | numbers exact | Chinese cells exact | lone '-' cells | s/page |\n|---|---|---|---|---|---|")
    for name, make in CANDIDATES.items():
        if args.only not in name:
            continue
        reader = make()
        if reader is None:
            report["candidates"][name] = None
            print(f"| {name} | not installed | | | | |")
            continue
        reader(pages[0].gray)  # load models outside the timing
        total = dict.fromkeys(KEYS, 0)
        t = time.perf_counter()
        for p in pages:
            for k, v in score(p, reader(p.gray)).items():
                total[k] += v
        total["seconds_per_page"] = (time.perf_counter() - t) / len(pages)
        report["candidates"][name] = total
        print(f"| {name} | {total['cells_ok'] / total['cells']:.1%} | {total['number_ok'] / total['number_cells']:.1%} "
              f"({total['number_cells']}) | {total['cjk_ok'] / total['cjk_cells']:.1%} ({total['cjk_cells']}) | "
              f"{total['dash_ok']}/{total['dash_cells']} | {total['seconds_per_page']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
