"""The silent-error hunt: every template family through every route a form reaches
users by, one printed thing changed at a time.

For each family (the national template, two provincial copies, the department form,
the provinces' own templates, and three families of fresh content: `fresh_record`)
seven forms are printed, each with one change to what it prints — none, a digit, a
decimal place, the grade word, a level label, a cell emptied, a row dropped — and the
document goes every route: the workbook itself, the PDF LibreOffice prints of it (as
laid out; with every row a fixed 30 pt, and with every column half as wide: text printed
clipped to its cells), the Word file and its PDF, the web page and Chromium's PDF of it (plain, and as a user's browser saves it:
its headers and footers on), the page's text as crawlers write it
(a cell a line, `a | b |` rows, cells apart by spaces), the printed PDF scanned at 300
dpi in colour, at 200 dpi in grey and as a black-and-white fax TIFF (and the browser's print
at 200 dpi in grey: Chromium's font is not LibreOffice's; and the clipped prints at 200 dpi
in grey: a scan shows no clip; an office scanner's 150-dpi grey scan, the paper a little
turned, grainy, JPEG at 60; a page fed upside down), a searchable scan (its words
laid invisibly under the image, as OCR programs do), a phone photo, and
what pymupdf4llm, pdfplumber (TSV) and camelot (TSV) make of the printed PDF. Each form read
back is compared with what its document prints, field by field: a wrong field is
*silent* unless an error finding names it (`evaluate.named_by_error`). The table is
route × change → silent fields; it must be all zeros.

The documents are made by the fixtures' own generators (fixtures/make_office.py,
make_web.py, make_scans.py): the routes are those the engine was not built on.

    python eval/silent.py                   # every family and route (≈15 min: OCR)
    python eval/silent.py --sample          # what CI runs: one family, the quick routes and two grey scans
    python eval/silent.py --json eval/silent-results.json
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from difflib import SequenceMatcher
from functools import partial
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "fixtures")]

import make_office  # noqa: E402
import make_provinces  # noqa: E402
import make_web  # noqa: E402
from extractor.errors import ExtractorError  # noqa: E402
from extractor.evaluate import TypeScore, compare_form  # noqa: E402
from extractor.forms.numbers import compact  # noqa: E402
from extractor.models import Form as FormType, form_label  # noqa: E402
from extractor.pipeline import ExtractOptions, extract_document  # noqa: E402
from pydantic import TypeAdapter  # noqa: E402

FORM = TypeAdapter(FormType)
SEED = 20261202
CHANGES = ("none", "digit", "decimal", "grade", "label", "emptied", "row_dropped")

# hunt family → (make_office family, the seed forms printed: one per change)
FAMILIES = {
    "national": ("national", [("000_01aad9c628fef0c3", 0), ("000_01aad9c628fef0c3", 1), ("000_01aad9c628fef0c3", 2),
                              ("001_4588a3eccc5d7ba5", 0), ("001_4588a3eccc5d7ba5", 3), ("002_dc4befe519062102", 0),
                              ("003_4494185c10663b20", 1)]),
    "provincial_a": ("provincial_a", [("000_01aad9c628fef0c3", 3), ("000_01aad9c628fef0c3", 4), ("001_4588a3eccc5d7ba5", 5),
                                      ("001_4588a3eccc5d7ba5", 8), ("002_dc4befe519062102", 2), ("002_dc4befe519062102", 3),
                                      ("003_4494185c10663b20", 2)]),
    "provincial_b": ("provincial_b", [("000_01aad9c628fef0c3", 5), ("000_01aad9c628fef0c3", 6), ("001_4588a3eccc5d7ba5", 10),
                                      ("001_4588a3eccc5d7ba5", 12), ("002_dc4befe519062102", 4), ("002_dc4befe519062102", 5),
                                      ("003_4494185c10663b20", 3)]),
    "department": ("department_national", [("004_f03db79725452826", 0)] * len(CHANGES)),
    # The provinces' own templates (fixtures/make_provinces.py): Sichuan's (指标性质, 度量单位,
    # 合计, no grade) and Anhui's copy of the national one (numbered names, points in the
    # level-1 cells). Printed from their workbooks only: no Word file or web page of them.
    "sichuan": ("sichuan", [("000_01aad9c628fef0c3", 1), ("001_4588a3eccc5d7ba5", 6), ("001_4588a3eccc5d7ba5", 9),
                            ("001_4588a3eccc5d7ba5", 15), ("002_dc4befe519062102", 1), ("002_dc4befe519062102", 6),
                            ("003_4494185c10663b20", 5)]),
    "anhui": ("anhui", [("000_01aad9c628fef0c3", 6), ("001_4588a3eccc5d7ba5", 13), ("001_4588a3eccc5d7ba5", 2),
                        ("001_4588a3eccc5d7ba5", 7), ("002_dc4befe519062102", 0), ("003_4494185c10663b20", 6),
                        ("003_4494185c10663b20", 7)]),
    # Chongqing's department form (部门整体绩效自评表: no level labels, 得分系数, 是否核心指标), its
    # two forms from the department seed taken in turn (the index is make_provinces.chongqing_records').
    "chongqing": ("chongqing", [("004_f03db79725452826", k % 2) for k in range(len(CHANGES))]),
    # Content no seed prints (`fresh_record`): the national template, provincial_a's (元,
    # integer weights) and Sichuan's filled with other forms' names and prose, new figures of every size
    # and precision, budget codes in the names. The layout engine was tuned on the seeds'
    # values; these are the values it was not.
    "fresh": ("national", [("000_01aad9c628fef0c3", 0), ("001_4588a3eccc5d7ba5", 3), ("001_4588a3eccc5d7ba5", 11),
                           ("002_dc4befe519062102", 2), ("003_4494185c10663b20", 0), ("003_4494185c10663b20", 4),
                           ("000_01aad9c628fef0c3", 5)]),
    "fresh_a": ("provincial_a", [("001_4588a3eccc5d7ba5", 1), ("002_dc4befe519062102", 5), ("003_4494185c10663b20", 6),
                                 ("000_01aad9c628fef0c3", 2), ("001_4588a3eccc5d7ba5", 14), ("002_dc4befe519062102", 0),
                                 ("003_4494185c10663b20", 2)]),
    "fresh_sichuan": ("sichuan", [("000_01aad9c628fef0c3", 2), ("001_4588a3eccc5d7ba5", 4), ("001_4588a3eccc5d7ba5", 12),
                                  ("002_dc4befe519062102", 3), ("003_4494185c10663b20", 1), ("003_4494185c10663b20", 3),
                                  ("000_01aad9c628fef0c3", 4)]),
}
PROVINCES = {"sichuan", "anhui", "chongqing"}
FRESH = {family for family in FAMILIES if family.startswith("fresh")}
OTHER_LEVEL2 = {"数量指标": "数量目标", "质量指标": "质量目标", "时效指标": "时效目标", "社会效益指标": "社会效果指标",
                "服务对象满意度指标": "服务对象满意程度"}


# --- the changes --------------------------------------------------------------------------------


def _number_paths(form: dict) -> list[str]:
    paths = [f"funding.total.{c}" for c in ("annual_budget", "executed") if (form["funding"].get("total") or {}).get(c)]
    paths += [f"indicators[{i}].score" for i, ind in enumerate(form["indicators"]) if ind.get("score")]
    return paths


def _get(form: dict, path: str):
    obj = form
    for part in path.replace("[", ".").replace("]", "").split("."):
        obj = obj[int(part)] if part.isdigit() else obj[part]
    return obj


def _set(form: dict, path: str, value) -> None:
    *parents, leaf = path.replace("[", ".").replace("]", "").split(".")
    obj = form
    for part in parents:
        obj = obj[int(part)] if part.isdigit() else obj[part]
    obj[leaf] = value


def change(form: dict, kind: str, fam: dict, rng: random.Random) -> str:
    """Apply one printed change to `form` (a printed record); what was changed."""
    if kind == "digit":
        path = rng.choice(_number_paths(form))
        text = f"{float(_get(form, path)):.2f}"
        places = [i for i, ch in enumerate(text) if ch.isdigit() and (i > 0 or len(text) > 4)]
        i = rng.choice(places)
        new = text[:i] + str((int(text[i]) + rng.randint(1, 8)) % 10) + text[i + 1:]
        _set(form, path, float(new))
        return f"{path} {text} -> {new}"
    if kind == "decimal":
        path = rng.choice(_number_paths(form))
        _set(form, path, round(float(_get(form, path)) * 10, 2))
        return f"{path} x10"
    if kind == "grade":
        if not form.get("grade"):
            return "no grade printed"
        labels = [g for g, _ in fam.get("grades", ())] or ["优", "良", "中", "差"]
        others = [g for g in labels if g != form["grade"]]
        form["grade"] = rng.choice(others)
        return f"grade -> {form['grade']}"
    if kind == "label":
        rows = [i for i, ind in enumerate(form["indicators"]) if ind["level2"] in OTHER_LEVEL2]
        if not rows:
            return "no label to change"
        i = rng.choice(rows)
        old = form["indicators"][i]["level2"]
        for ind in form["indicators"]:  # (the merged cell: every row it spans)
            if ind["level2"] == old and ind["level1"] == form["indicators"][i]["level1"]:
                ind["level2"] = OTHER_LEVEL2[old]
        return f"level2 {old} -> {OTHER_LEVEL2[old]}"
    if kind == "emptied":
        i = rng.randrange(len(form["indicators"]))
        form["indicators"][i]["actual"] = None
        return f"indicators[{i}].actual emptied"
    if kind == "row_dropped":
        i = rng.randrange(1, len(form["indicators"]) - 1)
        del form["indicators"][i]
        return f"indicators[{i}] dropped"
    return "none"


# --- fresh content --------------------------------------------------------------------------------

_FIGURE = re.compile(r"\d+(?:\.\d+)?")


def _figure(rng: random.Random) -> str:
    """A figure as forms print them: a count, a share, an amount; 0–2 places, 1–7 digits."""
    digits = rng.choice((1, 1, 2, 2, 3, 4, 5, 7))
    whole = str(rng.randrange(10 ** (digits - 1) if digits > 1 else 0, 10 ** digits))
    places = rng.choice((0, 0, 1, 2, 2))
    return whole + ("." + "".join(str(rng.randrange(10)) for _ in range(places)) if places else "")


def _amount(rng: random.Random) -> Decimal:
    return Decimal(rng.choice(("0", "0", f"{rng.randrange(1, 100)}.{rng.randrange(100):02d}", f"{rng.randrange(100, 10000)}.{rng.randrange(10)}",
                               f"{rng.randrange(10000, 900000)}.{rng.randrange(100):02d}", str(rng.randrange(1, 5000)))))


def fresh_record(seed: dict, pool: list[dict], rng: random.Random) -> dict:
    """`seed`'s shape (its levels, weights and rows) with content from elsewhere: names,
    units and prose of other seed forms, new figures in the targets and actuals, new
    funding amounts (the sub-rows adding up to the total) and scores, and sometimes a
    budget code before the project's name. The record stays arithmetically whole
    (`make_office.printed_record` recomputes rates, the total and the grade), so a value
    read wrong is the engine's to name."""
    f = copy.deepcopy(seed)
    other = [ind for form in pool for ind in form["indicators"]]
    f["project_name"] = (rng.choice(("", "", f"5109{rng.randrange(10**6, 10**7)}T{rng.randrange(10**11, 10**12)}-", f"{f.get('year') or 2023}年第{rng.randrange(1, 9)}批"))
                         + rng.choice(pool)["project_name"])
    donor = rng.choice(pool)
    f["department"], f["implementing_unit"] = donor["department"], donor["implementing_unit"]
    f["goal_expected"], f["goal_actual"] = rng.choice(pool)["goal_expected"], rng.choice(pool)["goal_actual"]
    fund = f["funding"]
    parts = [k for k in ("fiscal", "carryover", "other") if fund.get(k)]
    for col in ("initial_budget", "annual_budget", "executed"):
        values = {k: _amount(rng) for k in parts}
        if col == "executed":  # (an execution within reach of its budget: rates of 0–104%; none without a budget)
            values = {k: (Decimal(str(fund[k]["annual_budget"])) * Decimal(rng.choice((0, 50, 85, 96, 100, 100, 104))) / 100).quantize(Decimal("0.01"))
                      for k in parts}
        for k in parts:
            fund[k][col] = float(values[k])
        fund["total"][col] = float(sum(values.values()))
    if not fund["total"]["annual_budget"]:
        fund["total"]["annual_budget"] = fund[parts[0]]["annual_budget"] = 100.0
    fund["total"]["executed"] = float(sum(Decimal(str(fund[k]["executed"])) for k in parts))
    for ind in f["indicators"]:
        donor = rng.choice(other)
        ind["name"] = donor["name"]
        for key in ("target", "actual"):
            text = rng.choice(other)[key] or ""
            ind[key] = _FIGURE.sub(lambda m: _figure(rng), text, count=1) if _FIGURE.search(text) else text or None
        if ind.get("weight"):
            w = Decimal(str(ind["weight"]))
            ind["score"] = float(rng.choice((w, w, w, (w * Decimal(rng.randrange(0, 100)) / 100).quantize(Decimal("0.01")),
                                             (w * Decimal(rng.randrange(0, 10)) / 10).quantize(Decimal("0.1")))))
        ind["deviation_reason"] = rng.choice((None, None, donor.get("deviation_reason"),
                                              f"完成率{_figure(rng)}%，偏差{_figure(rng)}个百分点"))
    return f


def printed_forms(family: str, rng: random.Random) -> tuple[dict, list[dict], list[str]]:
    """The family's conventions and its seven printed records, each with its change."""
    name, picks = FAMILIES[family]
    if name == "chongqing":
        fam = dict(make_office.FAMILIES["department_national"], province=name, title="部门整体绩效自评表", grades=())
    elif name in PROVINCES:
        fam = dict(make_office.FAMILIES["national"], province=name, title="项目支出绩效自评表")
        record = make_provinces.sichuan_record if name == "sichuan" else make_provinces.anhui_record
    else:
        fam = make_office.FAMILIES[name]
    seeds = {p.stem: json.loads(p.read_text(encoding="utf-8"))["forms"] for p in sorted(make_office.SEED_GOLD.glob("*.json"))}
    fresh = random.Random(f"{SEED}-{family}")  # (its own: the other families' changes stay as they were)
    pool = [g for forms_of in seeds.values() for g in forms_of if g.get("kind", "project") == "project" and g.get("project_name")]
    forms, what = [], []
    for (stem, i), kind in zip(picks, CHANGES):
        if name == "chongqing":  # (i: which of the two forms the department seed gives)
            form = make_provinces.chongqing_records(copy.deepcopy(seeds[stem][0]))[i]
        else:
            seed = fresh_record(seeds[stem][i], pool, fresh) if family in FRESH else copy.deepcopy(seeds[stem][i])
            form = record(seed, None) if name in PROVINCES else make_office.printed_record(seed, fam, None)
        what.append(change(form, kind, fam, rng))
        forms.append(form)
    return fam, forms, what


# --- the routes ---------------------------------------------------------------------------------


def _workbooks(fam: dict, forms: list[dict], work: Path) -> list[Path]:
    if fam.get("province") == "sichuan":
        make_provinces.write_sichuan(work / "forms.xlsx", forms, [None] * len(forms))
        return [work / "forms.xlsx"]
    if fam.get("province") == "chongqing":
        make_provinces.write_chongqing(work / "forms.xlsx", forms)
        return [work / "forms.xlsx"]
    if fam.get("province") == "anhui":  # (the record is the gold; its cells print numbered names and points)
        make_office.write_workbook(work / "forms.xlsx", [make_provinces.anhui_printed(f) for f in forms], fam)
        return [work / "forms.xlsx"]
    if fam.get("department"):  # one workbook a form (the generator writes the department form alone)
        paths = []
        for k, form in enumerate(forms):
            make_office.write_department_workbook(work / f"department{k}.xlsx", form, fam)
            paths.append(work / f"department{k}.xlsx")
        return paths
    make_office.write_workbook(work / "forms.xlsx", forms, fam)
    return [work / "forms.xlsx"]


def _printed(fam, forms, work) -> list[Path]:
    return [make_office.to_pdf(p, work) for p in _workbooks(fam, forms, work)]


def _relaid(change: Callable) -> Callable:
    """A route: the workbooks changed by `change(sheet)`, printed by LibreOffice."""
    def route(fam, forms, work) -> list[Path]:
        import openpyxl

        out = []
        for path in _workbooks(fam, forms, work):
            wb = openpyxl.load_workbook(path)
            for ws in wb.worksheets:
                change(ws)
            wb.save(path)
            out.append(make_office.to_pdf(path, work))
        return out
    return route


def _rows_of_30pt(ws) -> None:
    """Every row a fixed 30 pt (a sheet laid out to one row height): the goals' text is
    longer than its row holds, and is printed clipped to its cell."""
    for r in range(1, ws.max_row + 1):
        ws.row_dimensions[r].height = 30


def _columns_halved(ws) -> None:
    """Every column half as wide (its rows keep their heights): text wraps to more lines
    than its row holds, and is printed clipped to its cell."""
    from openpyxl.utils import get_column_letter

    for c in range(1, ws.max_column + 1):
        dim = ws.column_dimensions[get_column_letter(c)]
        dim.width = max(3.0, (dim.width or 8.43) / 2)


def _docx(fam, forms, work) -> list[Path]:
    if fam.get("department") or fam.get("province"):
        return []
    make_office.write_report(work / "forms.docx", forms, fam)
    return [work / "forms.docx"]


def _docx_printed(fam, forms, work) -> list[Path]:
    """The Word file printed to PDF by LibreOffice (reports are published so as often as
    workbooks are)."""
    return [make_office.to_pdf(p, work) for p in _docx(fam, forms, work)]


def _old_binary(route: Callable, to: str) -> Callable:
    """A route: the files `route` makes saved by LibreOffice in the old binary format
    (Excel 97's .xls, Word 97's .doc), as many departments still attach them."""
    def saved(fam, forms, work) -> list[Path]:
        return [make_office.convert(p, work, to) for p in route(fam, forms, work)]
    return saved


def _html(fam, forms, work) -> list[Path]:
    if fam.get("department") or fam.get("province"):
        return []
    (work / "page.html").write_bytes(make_web.page(forms, fam).encode("gb18030"))
    return [work / "page.html"]


def _chromium(fam, forms, work) -> list[Path]:
    return [make_web.print_pdf(p, work / "page.pdf") for p in _html(fam, forms, work)]


def _browser_saved(fam, forms, work) -> list[Path]:
    """As a user's Ctrl+P saves the page: the browser's headers and footers on."""
    return [make_web.print_pdf(p, work / "page.pdf", margins=True) for p in _html(fam, forms, work)]


def _scan(dpi: int, mode: str, printed: Callable = _printed, turn: float = 0.0, noise: float = 0.0,
          quality: int = 80, sealed: bool = False) -> Callable:
    """The PDFs `printed` makes (LibreOffice's print of the workbook, or a browser's of the
    page: another font), scanned (the paper turned `turn` degrees counter-clockwise, grey
    noise of that spread, JPEG of that quality); `sealed`, with a red official seal
    stamped over the total score and grade before it is scanned (in colour or grey)."""
    def route(fam, forms, work) -> list[Path]:
        import pymupdf

        out = []
        for pdf in printed(fam, forms, work):
            if mode == "bw":
                import make_scans

                out.append(make_scans.fax(pdf, dpi, work / f"{pdf.stem}.tiff"))
                continue
            src, doc = pymupdf.open(pdf), pymupdf.open()
            for page in src:
                pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY if mode == "grey" and not sealed else pymupdf.csRGB)
                new = doc.new_page(width=page.rect.width, height=page.rect.height)
                if sealed:
                    new.insert_image(new.rect, stream=_stamped(page, pix, dpi, mode, turn, noise, quality, SEED + page.number))
                    continue
                if turn or noise:
                    new.insert_image(new.rect, stream=_fed(pix, turn, noise, quality, SEED + page.number))
                    continue
                new.insert_image(new.rect, stream=pix.tobytes("jpg", jpg_quality=quality))
            doc.save(work / f"{pdf.stem}-{dpi}{mode}.pdf")
            out.append(work / f"{pdf.stem}-{dpi}{mode}.pdf")
        return out
    return route


def _fed(pix, turn: float, noise: float, quality: int, seed: int) -> bytes:
    """A page image as a sheet-fed scanner makes it (the fixtures' `make_scans.degrade`):
    turned on the glass (a multiple of 90° as quarter turns), with grain, as JPEG."""
    import cv2
    import make_scans
    import numpy as np

    img = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.h, pix.w, pix.n)
    img = (img[:, :, 0] if pix.n == 1 else img[:, :, 2::-1]).copy()  # (grey, or RGB as OpenCV's BGR)
    quarters = int(-turn // 90) % 4 if turn % 90 == 0 else 0  # (clockwise)
    img = make_scans.degrade(img, 0.0 if quarters else turn, np.random.default_rng(seed), noise=noise, quarters=quarters)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def _stamped(page, pix, dpi: int, mode: str, turn: float, noise: float, quality: int, seed: int) -> bytes:
    """The page printed, a red seal stamped over its total score and grade (ink over
    print: multiplied, the fixtures' `make_scans.seal`), scanned in colour or grey."""
    import cv2
    import make_scans
    import numpy as np

    img = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.h, pix.w, pix.n)[:, :, :3].astype(np.float32)
    img = np.clip(img * make_scans.seal(page, dpi, (0.86, 0.12, 0.12)) / 255.0, 0, 255).astype(np.uint8)
    img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY if mode == "grey" else cv2.COLOR_RGB2BGR)
    img = make_scans.degrade(img, turn, np.random.default_rng(seed), noise=noise)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def _no_tounicode(fam, forms, work) -> list[Path]:
    """The printed PDF with its fonts' ToUnicode maps removed, as some Word and WPS exports
    are made: the text layer gives glyph numbers, and the pages must be read as images
    (the fixtures' `make_scans.without_tounicode`)."""
    import make_scans
    import pymupdf

    out = []
    for pdf in _printed(fam, forms, work):
        pages = list(range(pymupdf.open(pdf).page_count))
        out.append(make_scans.without_tounicode(pdf, pages, work / f"{pdf.stem}-glyphs.pdf"))
    return out


def _searchable(fam, forms, work) -> list[Path]:
    """The printed PDF scanned at 300 dpi, with its words laid invisibly under the image,
    as Acrobat, ABBYY or ocrmypdf make a scan searchable."""
    import pymupdf

    out = []
    for pdf in _printed(fam, forms, work):
        src, doc = pymupdf.open(pdf), pymupdf.open()
        for page in src:
            new = doc.new_page(width=page.rect.width, height=page.rect.height)
            new.insert_image(new.rect, stream=page.get_pixmap(dpi=300).tobytes("jpg", jpg_quality=80))
            for x0, y0, x1, y1, text, *_ in page.get_text("words"):
                new.insert_text((x0, y1 - (y1 - y0) * 0.2), text, fontname="china-s", fontsize=max(1.0, (y1 - y0) * 0.85),
                                render_mode=3)
        doc.save(work / f"{pdf.stem}-searchable.pdf")
        out.append(work / f"{pdf.stem}-searchable.pdf")
    return out


def _photo(fam, forms, work, sealed: bool = False) -> list[Path]:
    """Each printed page photographed by a phone (on a desk, in perspective, a shadow
    across it); `sealed`, with a red seal stamped over its total score and grade first."""
    import numpy as np
    import pymupdf

    import make_scans

    rng = np.random.default_rng(SEED)
    out = []
    for pdf in _printed(fam, forms, work):
        for n, page in enumerate(pymupdf.open(pdf)):
            pix = page.get_pixmap(dpi=150)
            img = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.h, pix.w, pix.n)[:, :, :3].copy()
            if sealed:
                img = np.clip(img.astype(np.float32) * make_scans.seal(page, 150, (0.86, 0.12, 0.12)) / 255.0, 0, 255).astype(np.uint8)
            target = work / f"{pdf.stem}-photo{n}.jpg"
            target.write_bytes(make_scans._jpeg(make_scans._phone(img, rng), 85))
            out.append(target)
    return out


class _PageText(HTMLParser):
    """A web page's text as a crawler keeps it: each table row's cells in source order
    (a merged cell once, where it stands; no placeholders for spans), other text as lines."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag in ("p", "div", "br") and self.row is None:
            self.rows.append([])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append("".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.skip:
            return
        if self.cell is not None:
            self.cell.append(data)
        elif self.row is None and data.strip():
            if not self.rows:
                self.rows.append([])
            self.rows[-1].append(data.strip())


def _crawler(style: str) -> Callable:
    """The web page as crawlers and copy-paste render it: `cells` one cell a line with a
    trailing bar, rows apart by a blank line; `pipes` a row a line, `a | b | c |` with no
    leading bar; `spaces` a row a line, cells apart by runs of spaces."""
    def route(fam, forms, work) -> list[Path]:
        out = []
        for page in _html(fam, forms, work):
            parser = _PageText()
            parser.feed(page.read_bytes().decode("gb18030"))
            lines = []
            for row in parser.rows:
                cells = [c for c in row if c]
                if not cells:
                    continue
                if style == "cells":
                    lines += [f"{c} |" for c in cells] + [""]
                elif style == "pipes":
                    lines.append(" | ".join(cells) + " |")
                else:
                    lines.append("  ".join(cells))
            target = work / f"{page.stem}.{style}.txt"
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
            out.append(target)
        return out
    return route


def _parsed(parser: Callable[[Path, Path], Path], printed: Callable = _printed) -> Callable:
    """A route: what `parser` makes of each PDF `printed` makes (LibreOffice's print of the
    workbook by default; the Word file's, or Chromium's of the web page)."""
    def route(fam, forms, work) -> list[Path]:
        return [parser(pdf, work) for pdf in printed(fam, forms, work)]
    return route


def _pymupdf4llm(pdf: Path, work: Path) -> Path:
    import pymupdf4llm

    if hasattr(pymupdf4llm, "use_layout"):
        pymupdf4llm.use_layout(False)
    (work / f"{pdf.stem}.md").write_text(pymupdf4llm.to_markdown(str(pdf)), encoding="utf-8")
    return work / f"{pdf.stem}.md"


def _pdfplumber(pdf: Path, work: Path) -> Path:
    import pdfplumber

    rows = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            for table in page.extract_tables():
                rows += ["\t".join((c or "").replace("\n", " ") for c in r) for r in table] + [""]
    (work / f"{pdf.stem}.tsv").write_text("\n".join(rows), encoding="utf-8")
    return work / f"{pdf.stem}.tsv"


def _camelot(pdf: Path, work: Path) -> Path:
    import camelot

    tables = camelot.read_pdf(str(pdf), pages="all", flavor="lattice")
    (work / f"{pdf.stem}.camelot.tsv").write_text("\n".join(t.df.to_csv(sep="\t") for t in tables), encoding="utf-8")
    return work / f"{pdf.stem}.camelot.tsv"


ROUTES: dict[str, Callable] = {
    "xlsx": _workbooks, "xls": _old_binary(_workbooks, "xls"), "doc": _old_binary(_docx, "doc"), "libreoffice_pdf": _printed, "libreoffice_pdf_tight_rows": _relaid(_rows_of_30pt),
    "libreoffice_pdf_narrow_columns": _relaid(_columns_halved), "docx": _docx, "docx_pdf": _docx_printed, "html": _html, "chromium_pdf": _chromium,
    "browser_saved_pdf": _browser_saved,
    "scan_300_colour": _scan(300, "colour"), "scan_200_grey": _scan(200, "grey"), "fax_200_bw": _scan(200, "bw"),
    "scan_browser_200_grey": _scan(200, "grey", _browser_saved),
    "scan_tight_rows_200_grey": _scan(200, "grey", _relaid(_rows_of_30pt)),
    "scan_narrow_columns_200_grey": _scan(200, "grey", _relaid(_columns_halved)),
    "scan_office_150_grey": _scan(150, "grey", turn=-0.8, noise=5, quality=60),
    "scan_upside_down_200_grey": _scan(200, "grey", turn=180),
    "scan_sealed_200_colour": _scan(200, "colour", turn=0.4, noise=4, sealed=True),
    "scan_sealed_200_grey": _scan(200, "grey", turn=-0.5, noise=4, sealed=True), "searchable_scan": _searchable, "no_tounicode": _no_tounicode, "photo": _photo, "photo_sealed": partial(_photo, sealed=True), "pymupdf4llm": _parsed(_pymupdf4llm), "pdfplumber": _parsed(_pdfplumber),
    "camelot": _parsed(_camelot),
    **{f"{name}_of_{src}": _parsed(parser, printed) for name, parser in (("pymupdf4llm", _pymupdf4llm), ("pdfplumber", _pdfplumber), ("camelot", _camelot))
       for src, printed in (("docx_pdf", _docx_printed), ("chromium_pdf", _chromium))},
    "crawler_cells": _crawler("cells"), "crawler_pipes": _crawler("pipes"), "crawler_spaces": _crawler("spaces"),
}
SAMPLE = {"families": ("national",), "routes": ("xlsx", "libreoffice_pdf", "libreoffice_pdf_narrow_columns", "docx", "html",
                                                "browser_saved_pdf", "pymupdf4llm", "pdfplumber", "camelot_of_docx_pdf",
                                                "scan_200_grey", "scan_tight_rows_200_grey", "scan_sealed_200_grey")}


# --- reading back ---------------------------------------------------------------------------------


def read_back(paths: list[Path]) -> list:
    forms = []
    for p in paths:
        try:
            forms += extract_document(p, ExtractOptions(engine="rules")).forms
        except ExtractorError as exc:
            forms.append(exc)  # a document that failed says so: loud, not silent
    return forms


def judge(found: list, truth: list) -> list[dict]:
    """Per printed form: its change's verdict — exact, caught (every wrong field named by
    an error) or silent (how many wrong fields nothing names)."""
    failed = [f for f in found if isinstance(f, Exception)]
    found = [f for f in found if not isinstance(f, Exception)]
    names = SequenceMatcher(a=[compact(form_label(t)) for t in truth], b=[compact(form_label(f)) for f in found], autojunk=False)
    pairs: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in names.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            pairs.update(zip(range(i1, i2), range(j1, j2)))
    out = []
    for k, t in enumerate(truth):
        if k not in pairs:
            out.append({"verdict": "caught" if failed else "silent", "silent_fields": 0 if failed else 1, "missing": True})
            continue
        score = TypeScore()
        exact = compare_form(found[pairs[k]], t, score)
        verdict = "exact" if exact else "silent" if score.silent_fields else "caught"
        out.append({"verdict": verdict, "silent_fields": score.silent_fields, "wrong": score.wrong[:1]})
    return out


def run(families: tuple[str, ...], routes: tuple[str, ...]) -> dict:
    rng = random.Random(SEED)
    results: dict = {"changes": list(CHANGES), "routes": {}, "cases": 0, "seconds": {}}
    for family in families:
        fam, forms, what = printed_forms(family, rng)
        truth = [FORM.validate_python(dict(f, kind="department" if fam.get("department") else "project")) for f in forms]
        for route in routes:
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="silent-") as tmp:
                paths = ROUTES[route](fam, forms, Path(tmp))
                if not paths:
                    continue
                verdicts = judge(read_back(paths), truth)
            results["seconds"][f"{family}/{route}"] = round(time.perf_counter() - started, 1)
            row = results["routes"].setdefault(route, {c: {"cases": 0, "silent_fields": 0, "silent_forms": 0, "exact": 0, "caught": 0} for c in CHANGES})
            for kind, v, done in zip(CHANGES, verdicts, what):
                cell = row[kind]
                cell["cases"] += 1
                results["cases"] += 1
                cell["silent_fields"] += v["silent_fields"]
                if v["verdict"] == "silent":
                    cell["silent_forms"] += 1
                    cell.setdefault("examples", []).append({"family": family, "change": done, **{k: v[k] for k in ("wrong", "missing") if k in v}})
                else:
                    cell[v["verdict"]] += 1
            print(f"{family:13} {route:16} {' '.join(v['verdict'][0] for v in verdicts)}  ({results['seconds'][f'{family}/{route}']} s)", file=sys.stderr)
    return results


def table(results: dict) -> str:
    head = "| route | " + " | ".join(results["changes"]) + " |"
    lines = [head, "|---" * (len(results["changes"]) + 1) + "|"]
    for route, row in results["routes"].items():
        lines.append(f"| {route} | " + " | ".join(f"{row[c]['silent_fields']}" + (f" ({row[c]['silent_forms']}/{row[c]['cases']})" if row[c]["silent_forms"] else "")
                                                  for c in results["changes"]) + " |")
    lines.append(f"\n{results['cases']} cases (family × route × change); a cell is the silent fields, (silent forms/cases) where any.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", action="store_true", help="one family, the quick routes and two grey scans (CI)")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--routes", default=",".join(ROUTES))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    families = SAMPLE["families"] if args.sample else tuple(args.families.split(","))
    routes = SAMPLE["routes"] if args.sample else tuple(args.routes.split(","))
    results = run(families, routes)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    silent = sum(c["silent_fields"] for row in results["routes"].values() for c in row.values())
    sys.exit(1 if silent else 0)


if __name__ == "__main__":
    main()
