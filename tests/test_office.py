"""Documents made the way offices make them: Excel workbooks printed to PDF by
LibreOffice, in the national template and two provincial copies."""

import json
import shutil
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from extractor.eval_sets import load_manifest
from extractor.evaluate import evaluate
from extractor.pipeline import ExtractOptions, extract_document

OFFICE = ROOT / "fixtures" / "office"


def _printed_errors():
    for gold in sorted((ROOT / "eval" / "gold" / "office").glob("*.json")):
        raw = json.loads(gold.read_text(encoding="utf-8"))
        yield raw["document"], raw["printed_errors"]


def test_every_family_is_read_right_or_flagged_never_silently_wrong():
    report = evaluate(load_manifest(OFFICE / "manifest.json"))
    assert set(report["types"]) == {"office_national", "office_provincial_a", "office_provincial_b", "office_department_national",
                                    "office_xlsx", "office_docx"}
    for name, t in report["types"].items():
        assert t["forms_found"] == t["forms_expected"] > 0, name
        assert t["field_accuracy"]["overall"] >= 0.995, name
        assert t["silent_errors"] == 0, name


@pytest.mark.parametrize("document, printed", [d for d in _printed_errors() if "_wide" not in d[0]])
def test_clean_forms_get_no_error_and_printed_errors_the_check_that_names_them(document, printed):
    forms = extract_document(ROOT / document, ExtractOptions(engine="rules")).forms
    assert len(forms) == len(printed)
    for form, error in zip(forms, printed):
        errors = {f.code for f in form.findings if f.severity == "error"}
        if error is None:
            assert not errors, (form.project_name, errors)
        else:
            assert error in errors, (form.project_name, error, errors)


@pytest.mark.slow
def test_freshly_printed_workbooks_read_like_the_committed_ones(tmp_path):
    """LibreOffice prints the generator's workbooks again (CI installs it: .ci/system-deps);
    the new PDFs read exactly to the same gold."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: bash .ci/system-deps installs it")
    sys.path.insert(0, str(ROOT / "fixtures"))
    import make_office

    make_office.main(tmp_path / "office", tmp_path / "gold")
    for committed in sorted((ROOT / "eval" / "gold" / "office").glob("*.json")):
        fresh = json.loads((tmp_path / "gold" / committed.name).read_text(encoding="utf-8"))
        assert fresh["forms"] == json.loads(committed.read_text(encoding="utf-8"))["forms"]
    fresh = evaluate(load_manifest(tmp_path / "office" / "manifest.json"))["types"]
    committed = evaluate(load_manifest(OFFICE / "manifest.json"))["types"]
    for name, t in committed.items():
        assert (fresh[name]["forms_exact"], fresh[name]["field_accuracy"], fresh[name]["silent_errors"]) == \
            (t["forms_exact"], t["field_accuracy"], t["silent_errors"]), name


def test_other_tables_are_skipped_and_listed_not_read_as_forms():
    """A project system's workbook: a 绩效目标申报表 and a 监控表 (项目名称, 主管部门,
    项目资金, 一级指标 … like a form) before the one self-evaluation form."""
    r = extract_document(OFFICE / "national_system_workbook.pdf", ExtractOptions(engine="rules"))
    assert [(s.title, s.page) for s in r.skipped] == [("项目支出绩效目标申报表", 1), ("项目支出绩效目标执行监控表", 2)]
    (form,) = r.forms
    assert form.project_name == "普陀区事业单位人事管理信息系统等保测评购买服务项目" and form.pages == [3]


def test_a_forms_pages_are_where_it_is_printed_not_the_tables_after_it():
    """A Word report: the last form is followed by two 决算 tables on pages 5 and 6."""
    r = extract_document(OFFICE / "national_docx_report.pdf", ExtractOptions(engine="rules"))
    assert [f.pages for f in r.forms] == [[2, 3], [4]]
    assert [s.title for s in r.skipped] == ["收入支出决算总表", "财政拨款收入支出决算总表"]


def test_a_document_of_other_tables_only_says_so(tmp_path):
    import pymupdf

    from extractor.errors import NoFormsFound

    doc = pymupdf.open(OFFICE / "national_system_workbook.pdf")
    doc.select([0, 1])
    doc.save(tmp_path / "declarations.pdf")
    with pytest.raises(NoFormsFound, match="only other tables: 项目支出绩效目标申报表"):
        extract_document(tmp_path / "declarations.pdf", ExtractOptions(engine="rules"))


def test_a_sheet_wider_than_the_paper_is_joined_and_its_cut_cells_flagged():
    """The sheet's columns print in three bands on three pages: the bands are joined
    row by row, the title cut off on page 1 is taken from page 2, and the goal cells
    the paper's edge cut in two (each page holds part of every line) are errors that
    name them — the values read whole are exact."""
    (form,) = extract_document(OFFICE / "national_xlsx_wide.pdf", ExtractOptions(engine="rules")).forms
    gold = json.loads((ROOT / "eval" / "gold" / "office" / "national_xlsx_wide.json").read_text(encoding="utf-8"))["forms"][0]
    assert form.pages == [1, 2, 3] and (form.title, form.year) == (gold["title"], gold["year"])
    assert float(form.total_score) == pytest.approx(gold["total_score"]) and len(form.indicators) == len(gold["indicators"])
    assert [float(i.score) for i in form.indicators] == [pytest.approx(i["score"]) for i in gold["indicators"]]
    cut = {f.field for f in form.findings if f.code == "assembled_value" and f.severity == "error"}
    assert cut == {"goal_expected", "goal_actual"}


def _national_printed(tmp_path, name: str, change) -> Path:
    """The national workbook with `change(sheet)` made to each sheet, printed by
    LibreOffice: the PDF."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: bash .ci/system-deps installs it")
    openpyxl = pytest.importorskip("openpyxl")
    sys.path.insert(0, str(ROOT / "fixtures"))
    from make_office import to_pdf

    wb = openpyxl.load_workbook(OFFICE / "national_xlsx.xlsx")
    for ws in wb.worksheets:
        change(ws)
    wb.save(tmp_path / f"{name}.xlsx")
    return to_pdf(tmp_path / f"{name}.xlsx", tmp_path)


def _printed_with_print_titles(tmp_path, name: str, fit_width: bool, height: float, from_header: bool):
    """The national workbook's sheets with their indicator header repeated atop every
    printed page and rows `height` points high (from the header down, or all of them),
    fitted to the paper's width or not, printed by LibreOffice: the pages as read, and
    the PDF."""
    from extractor.read.documents import open_document

    def change(ws) -> None:
        header = next(c.row for row in ws.iter_rows() for c in row if c.value and "一级指标" in str(c.value))
        ws.print_title_rows = f"{header}:{header}"
        ws.sheet_properties.pageSetUpPr.fitToPage = fit_width
        if fit_width:
            ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        for r in range(header + 1 if from_header else 1, ws.max_row + 1):
            ws.row_dimensions[r].height = height

    pdf = _national_printed(tmp_path, name, change)
    doc = open_document(pdf)
    pages = list(doc.pages())
    doc.close()
    return pages, pdf


def test_a_long_sheet_of_even_rows_printed_down_the_pages_is_not_read_as_its_own_right_hand_columns(tmp_path):
    """Rows of one height stand at the same heights on every page, so a long sheet's
    next page looked like its right-hand columns (≥ 80% of its rows at the page before's
    heights): page 6 of the six forms below was joined beside page 5, 10 rows lost, 2
    forms silently wrong. A page drawn on the page before's column edges goes on below
    it. And the header row the sheet repeats atop each page (print titles) is no part
    of the row above it, with the block label's text printed in it twice."""
    pages, pdf = _printed_with_print_titles(tmp_path, "tall", fit_width=True, height=45, from_header=False)
    assert len(pages) > 6 and not any(p.joined_pages for p in pages)
    forms = extract_document(pdf, ExtractOptions(engine="rules")).forms
    assert len(forms) == 6
    texts = [t for f in forms for i in f.indicators for t in (i.target, i.actual) if t]
    assert not [t for t in texts if "年度指标值" in t or "实际完成值" in t]
    # Rows 45 pt high are too small for the goals' text: it is printed clipped (below)
    assert _silent_and_clipped(pdf) == (0, {("宣传工作经费", "goal_actual"), (JOBS, "goal_expected"), (JOBS, "goal_actual")})


JOBS = "就业创业主题活动、促进就业工作专项"


def _silent_and_clipped(pdf):
    """The silent errors of the national workbook's forms printed as `pdf`, and the
    (project, field) pairs named as read from a clipped cell."""
    from extractor.layout.page import CLIPPED

    (gold,) = [d for d in load_manifest(OFFICE / "manifest.json") if d.path.name == "national_xlsx.pdf"]
    gold.path = pdf
    report = evaluate([gold])["types"][gold.doc_type]
    forms = extract_document(pdf, ExtractOptions(engine="rules")).forms
    clipped = {(f.project_name, x.field) for f in forms for x in f.findings
               if x.severity == "error" and x.message.endswith(CLIPPED.why)}
    return report["silent_errors"], clipped


def test_a_cell_too_small_for_its_text_is_read_as_printed_and_named(tmp_path):
    """Rows of a fixed 30 pt: a goal's text is longer than its row holds, and LibreOffice
    writes it whole with a clip on the cell (the page shows only the part inside).
    Before, the hidden lines were read into the cells around (a header garbled, the
    indicator columns lost: 1 form silently wrong in 6; at 45 pt 2, at 60 pt 2). Now
    the hidden text is not read, and a value read from a clipped cell is an error
    that names it; a line the clip's edge cuts below its middle is read whole (a
    goal so cut is exact, and not named)."""
    _pages, pdf = _printed_with_print_titles(tmp_path, "rows30", fit_width=True, height=30, from_header=False)
    assert _silent_and_clipped(pdf) == (0, {("宣传工作经费", "goal_actual"), (JOBS, "goal_expected"), (JOBS, "goal_actual")})


def test_columns_too_narrow_for_their_text_are_read_as_printed_and_named(tmp_path):
    """The indicators' name, target and actual columns narrowed to 5 characters: each
    cell's text wraps to more lines than its row holds and is printed clipped. Before,
    the hidden end of a name went to the row below (`医疗保险参保`, and `率体检规` for
    the next): 2 forms in 6 silently wrong, 15 fields (with the amounts as numbers,
    5 forms, 24 fields). Now no field is silent, and the names read from clipped cells
    are errors."""
    def narrow(ws) -> None:
        for col in "DEF":
            ws.column_dimensions[col].width = 5

    silent, clipped = _silent_and_clipped(_national_printed(tmp_path, "narrow", narrow))
    assert silent == 0
    assert {("军转工作经费", "indicators[0].name"), ("宣传工作经费", "indicators[0].name")} <= clipped
def test_a_sheet_wider_and_longer_than_the_paper_is_joined_band_by_band(tmp_path):
    """Printed down, then over (the default): every page of the left columns, then every
    page of the right. Each right-hand page is joined to the left-hand page it continues,
    in order — before, none was (the first form's right-hand pages stood alone): 26.6% of
    the fields, 6 of 6 forms silently wrong; now every wrong field is named."""
    pages, pdf = _printed_with_print_titles(tmp_path, "wide_and_long", fit_width=False, height=70, from_header=True)
    joined = [(p.number, p.joined_pages) for p in pages]
    assert sum(bool(j) for _, j in joined) >= 6  # (every form has right-hand pages: LibreOffice pages 1+3, 2+4, 5+7 …)
    assert all(n < b for n, j in joined for b in j)
    (gold,) = [d for d in load_manifest(OFFICE / "manifest.json") if d.path.name == "national_xlsx.pdf"]
    gold.path = pdf
    report = evaluate([gold])["types"][gold.doc_type]
    assert report["forms_found"] == 6 and report["silent_errors"] == 0
