"""The provinces' own templates (fixtures/provinces, made by fixtures/make_provinces.py
with openpyxl and printed by LibreOffice): Sichuan's 部门预算项目支出绩效自评表, Anhui's
copy of the national template and Chongqing's department form 部门整体绩效自评表. Read exactly as sheets and as PDFs; what they print
beyond the contract is kept; a changed figure in what they add is an error."""

from pathlib import Path

import pytest

from conftest import ROOT
from extractor.eval_sets import load_manifest
from extractor.evaluate import evaluate
from extractor.pipeline import ExtractOptions, extract_document

PROVINCES = ROOT / "fixtures" / "provinces"


@pytest.fixture(scope="module")
def report():
    return evaluate(load_manifest(PROVINCES / "manifest.json"))["types"]


@pytest.mark.parametrize("doc_type", ["sichuan_xlsx", "sichuan_pdf", "anhui_xlsx", "anhui_pdf", "chongqing_xlsx", "chongqing_pdf"])
def test_every_form_reads_exactly(report, doc_type):
    t = report[doc_type]
    assert t["forms_found"] == t["forms_expected"] == t["forms_exact"] > 0
    assert t["silent_errors"] == 0


def _forms(path: Path):
    return extract_document(path, ExtractOptions()).forms


def _edit(src: Path, dst: Path, change) -> Path:
    from openpyxl import load_workbook

    wb = load_workbook(src)
    change(wb)
    wb.save(dst)
    return dst


def _find(ws, text: str):
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == text:
                return cell
    raise AssertionError(text)


def test_sichuan_keeps_what_it_prints_beyond_the_contract():
    forms = _forms(PROVINCES / "sichuan_xlsx.xlsx")
    f = forms[0]
    assert f.year == 2023 and f.template == "sichuan"
    assert [x.label for x in f.funding.extra] == ["财政专户管理资金", "单位资金"]
    assert set(f.remarks) == {"项目实施内容及过程概述", "评价结论", "存在问题", "改进措施"}
    ind = f.indicators[0]
    assert ind.target_parts == ["=", "100.00", "%"] and ind.target == "=100.00%"
    # The template's own prompt left in a 原因 cell is no reason, and says so.
    prompt = forms[1]
    assert prompt.funding.total.reason is None
    assert [(x.code, x.field) for x in prompt.findings if x.code == "template_prompt"] == [("template_prompt", "funding.total.reason")]
    # A 完成值 left empty is named.
    assert ("empty_value", "indicators[1].actual") in {(x.code, x.field) for x in forms[2].findings}


def test_sichuan_an_extra_source_that_breaks_the_total_is_an_error(tmp_path):
    def change(wb):
        ws = wb.worksheets[0]
        label = _find(ws, "单位资金")
        ws.cell(row=label.row, column=5, value="5.00")  # 预算执行数 of 单位资金

    f = _forms(_edit(PROVINCES / "sichuan_xlsx.xlsx", tmp_path / "s.xlsx", change))[0]
    errors = [x for x in f.findings if x.severity == "error" and x.field == "funding.total.executed"]
    assert errors and "单位资金" in errors[0].message


def test_anhui_numbers_and_level1_points(tmp_path):
    f = _forms(PROVINCES / "anhui_xlsx.xlsx")[0]
    assert [i.number for i in f.indicators] == [f"指标{k}" for k in range(1, 6)]
    assert f.indicators[0].name == "专场招聘2-3场,创业沙龙活动4场"  # (canonical text: NFKC)
    assert [i.level1_weight for i in f.indicators][:4] == [60, 60, 60, 15]
    assert not [x for x in f.findings if x.severity == "error"]

    def change(wb):
        ws = wb.worksheets[0]
        _find(ws, "产出指标(60分)").value = "产出指标(50分)"

    f = _forms(_edit(PROVINCES / "anhui_xlsx.xlsx", tmp_path / "a.xlsx", change))[0]
    assert [x.field for x in f.findings if x.code == "level1_weight"] == ["indicators[level1=产出指标].level1_weight"]


def _errors(form) -> set[tuple[str, str | None]]:
    return {(x.code, x.field) for x in form.findings if x.severity == "error"}


@pytest.mark.parametrize("suffix", ["xlsx", "pdf"])
def test_chongqing_reads_its_own_columns_and_flags_its_printed_error(suffix):
    first, second = _forms(PROVINCES / f"chongqing_xlsx.{suffix}")
    assert first.template == "chongqing" and first.kind == "department" and first.year == 2023
    t = first.funding.total
    assert [str(v) for v in (t.initial_budget, t.annual_budget, t.executed, t.execution_rate, t.weight, t.score)] == [
        "8000.00", "8236.81", "8177.49", "99.28", "10", "9.93"]
    assert first.total_score == t.score + sum(i.score for i in first.indicators)
    assert set(first.remarks) == {"财政处室", "部门联系人", "联系电话", "全年(调整)绩效目标"}
    ind = second.indicators[0]
    assert (ind.target, ind.target_adjusted, ind.target_parts, ind.score_rate, ind.core) == ("39", "40", ["定量指标", "39", "项"], 100, "是")
    assert _errors(first) == set()  # (no levels printed, none asked for)
    assert _errors(second) == {("indicator_score", "indicators[2].score")}  # 5.00 printed for 5 × 90%


@pytest.mark.parametrize("cell, value, finding", [
    ("J6", "8.93", ("budget_score", "funding.total.score")),          # 执行率得分
    ("J3", "98.93", ("total_score", "total_score")),                  # 自评总分
    ("J10", "9.00", ("indicator_score", "indicators[0].score")),      # 指标得分 beside 10 × 100%
])
def test_chongqing_a_changed_figure_is_an_error(tmp_path, cell, value, finding):
    def change(wb):
        wb.worksheets[0][cell].value = value

    first = _forms(_edit(PROVINCES / "chongqing_xlsx.xlsx", tmp_path / "c.xlsx", change))[0]
    assert finding in _errors(first)


def _read_changed(monkeypatch, path: Path, change):
    """The document's forms, each page's rows changed by `change` before they are mapped
    (what a scan's reading leaves in cells: a confidence, a doubt, a cell read as nothing)."""
    from extractor.read.documents import OpenedDocument

    pages = OpenedDocument.pages

    def changed(self):
        for page in pages(self):
            change(page.rows)
            yield page

    monkeypatch.setattr(OpenedDocument, "pages", changed)
    return _forms(path)


def test_sichuan_a_target_is_as_sure_as_its_least_sure_printed_part(monkeypatch):
    """Sichuan prints a target in three cells (指标性质 | 指标值 | 度量单位). A scan reads the
    lone `≥` of the operator's cell `>` at 0.55 beside the figure read at 0.99: the target
    as unsure as that cell, and a doubt on the unit's cell is the target's. Before, the
    figure's cell alone was the target's provenance, and `>90.00%` passed silently."""
    def unsure_operator(rows):
        for row in rows:
            for cell in row.cells:
                if cell.text == "≥":
                    cell.confidence = 0.55
                elif cell.text == "%":
                    cell.doubt = UNDER_SEAL

    from extractor.layout.page import UNDER_SEAL

    clean = _forms(PROVINCES / "sichuan_xlsx.pdf")
    forms = _read_changed(monkeypatch, PROVINCES / "sichuan_xlsx.pdf", unsure_operator)
    for before, after in zip(clean, forms):
        for i, ind in enumerate(after.indicators):
            parts = ind.target_parts or ["", "", ""]
            named = _errors(after)
            # (the confidence a scanned form's values are named by, under 0.8: `pipeline._ocr_trust`)
            assert after.provenance[f"indicators[{i}].target"].confidence == (0.55 if parts[0] == "≥" else None), i
            assert (("assembled_value", f"indicators[{i}].target") in named) == (parts[2] == "%")
            assert after.provenance[f"indicators[{i}].target"].raw == before.provenance[f"indicators[{i}].target"].raw
    assert any(p[0] == "≥" for f in forms for p in (i.target_parts or [""] for i in f.indicators))


def test_sichuan_a_remark_read_as_nothing_under_a_seal_is_named(monkeypatch):
    """A seal over 评价结论's value whitened `优` whole: the cell read as nothing, under the
    seal, names the remark (also when it is the form's last row, after the last value read);
    the evaluator compares remarks one by one, so it counts that remark as named. Before,
    the remark was missing and nothing said so."""
    from extractor.evaluate import named_by_error
    from extractor.layout.page import UNDER_SEAL

    def whitened(rows):
        for row in rows:
            if row.cells and row.cells[0].text in ("评价结论", "改进措施") and len(row.cells) > 1:
                for cell in row.cells[1:]:
                    cell.text, cell.doubt = "", UNDER_SEAL

    forms = _read_changed(monkeypatch, PROVINCES / "sichuan_xlsx.pdf", whitened)
    for form in forms:
        assert "评价结论" not in form.remarks and "改进措施" not in form.remarks
        assert {("assembled_value", "remarks.评价结论"), ("assembled_value", "remarks.改进措施")} <= _errors(form)
        assert named_by_error(form, "remarks.评价结论") and not named_by_error(form, "remarks.存在问题")


def test_sichuan_a_remark_whose_label_a_scan_misread_is_named_as_that_remark(monkeypatch):
    """A narrow column's scan reads 2.项目实施内容及过程概述 `2.项曰实施内容及过和概术` at
    0.60: the row is no remark the reading knows, and the goals above took it. Its text,
    read as nothing, names that remark (half the label's characters in their order), not
    the goals — the remark was missing silently before. A row read exactly is untouched."""
    def misread(rows):
        for row in rows:
            for cell in row.cells:
                if cell.text.startswith("2.项目实施内容及过程"):
                    cell.text, cell.confidence = "2.项曰实施内容及过和概术", 0.6

    clean = _forms(PROVINCES / "sichuan_xlsx.pdf")
    assert not any(f.field and f.field.startswith("remarks") for form in clean for f in form.findings)
    forms = _read_changed(monkeypatch, PROVINCES / "sichuan_xlsx.pdf", misread)
    for form in forms:
        assert "项目实施内容及过程概述" not in form.remarks
        assert ("unread_text", "remarks.项目实施内容及过程概述") in _errors(form), _errors(form)


def test_sichuan_remarks_not_on_the_page_read_are_not_found(monkeypatch):
    """Sichuan's template prints four remarks under its total. A phone photo of the form's
    first page alone (the remarks on the next page's photo), or a page break a converter
    wrote apart, leaves them unread: each is named as printed by the layout and not
    found. Before, the form came out without them and nothing said so."""
    def page_cut(rows):
        rows[:] = [r for r in rows if not (r.cells and r.cells[0].text in ("评价结论", "存在问题", "改进措施"))]

    forms = _read_changed(monkeypatch, PROVINCES / "sichuan_xlsx.pdf", page_cut)
    for form in forms:
        assert set(form.remarks) == {"项目实施内容及过程概述"}
        assert {f for c, f in _errors(form) if c == "field_not_found"} == {"remarks.评价结论", "remarks.存在问题", "remarks.改进措施"}


def test_anhui_a_level1_cell_whose_points_a_scan_lost_names_the_weight(monkeypatch):
    """Anhui prints the level-1 weight in the level-1 cell (`效益指标(15分)`). A narrow
    column's scan read it `效益指标(15` at 0.50: no points, so no weight — and the cell's
    reading, which names the level-1 label, names the weight too (it was missing, silently)."""
    def lost(rows):
        for row in rows:
            for cell in row.cells:
                if cell.text == "效益指标(15分)":
                    cell.text, cell.confidence = "效益指标(15", 0.5

    forms = _read_changed(monkeypatch, PROVINCES / "anhui_xlsx.pdf", lost)
    rows = [(f, i) for f in forms for i, ind in enumerate(f.indicators) if "indicators[%d].level1" % i in f.provenance
            and f.provenance["indicators[%d].level1" % i].raw == "效益指标(15"]
    assert rows
    for f, i in rows:
        assert f.indicators[i].level1_weight is None
        assert f.provenance[f"indicators[{i}].level1_weight"].confidence == 0.5


def test_chongqing_a_table_whose_title_a_parser_dropped_is_still_its_form(monkeypatch):
    """pdfplumber keeps a page's tables and not the title above them: Chongqing's form
    opens with 主管部门 | … | 财政处室 | … | 自评总分, no 部门名称 anchor. Read as its
    department form, the missing title and year named; before, the document had no form."""
    def untitled(rows):
        rows[:] = [r for r in rows if not any(t in r.joined for t in ("部门整体绩效自评表", "2023年度"))]

    first, second = _read_changed(monkeypatch, PROVINCES / "chongqing_xlsx.pdf", untitled)
    assert (first.kind, first.template, second.template) == ("department", "chongqing", "chongqing")
    assert str(first.funding.total.executed) == "8177.49" and len(first.indicators) == len(second.indicators) == 11
    assert ("field_not_found", "title") in _errors(first)


def test_a_project_forms_head_row_with_a_department_label_does_not_open_a_form():
    """The rule above opens a form only where no project form is open: a project form's
    主管部门 row stays in it, whatever its cells print."""
    from extractor.forms.segment import iter_form_rows
    from extractor.layout.page import Cell, Row

    def row(*texts):
        return Row(cells=[Cell(t) for t in texts], page=1)

    forms = list(iter_form_rows([row("项目支出绩效自评表"), row("项目名称", "某项目"),
                                 row("主管部门", "某局", "财政处室", "社会保障处"), row("年度资金总额", "100")]))
    assert [(f.kind, len(f.rows)) for f in forms] == [("project", 3)]


def test_chongqing_remarks_a_reading_lost_are_named(tmp_path):
    """Chongqing's head and goals print four remarks (财政处室, 部门联系人, 联系电话,
    全年(调整)绩效目标): a row of them lost is named, not passed."""
    def no_contact_row(wb):
        for ws in wb.worksheets:
            ws.delete_rows(4)  # 部门联系人 | … | 联系电话 | …

    first = _forms(_edit(PROVINCES / "chongqing_xlsx.xlsx", tmp_path / "c.xlsx", no_contact_row))[0]
    assert {f for c, f in _errors(first) if c == "field_not_found"} >= {"remarks.部门联系人", "remarks.联系电话"}


def test_chongqing_a_figure_lost_from_a_weight_cell_keeps_the_row_under_its_heads(monkeypatch):
    """A 150-dpi scan lost the lone `5` of a row's 指标权重: the row's last two figures were
    then 得分系数's `100%` and the score, the row did not line up under its heads, and read
    by order its name went to level 1 and its unit to level 2 — and on to every row, as a
    merged label is carried. Read under its heads, the weight is missing and named."""
    def weight_lost(rows):
        for row in rows:
            texts = [c.text for c in row.cells]
            if "社保中心运营保障完成情况" in texts:
                row.cells[texts.index("5.00") - 1].text = ""  # (the weight's cell, before the score's)

    form = _read_changed(monkeypatch, PROVINCES / "chongqing_xlsx.pdf", weight_lost)[0]
    k = next(i for i, ind in enumerate(form.indicators) if ind.name == "社保中心运营保障完成情况")
    assert all(not ind.level1 and not ind.level2 for ind in form.indicators)
    ind = form.indicators[k]
    assert (ind.weight, str(ind.score), ind.target_parts) == (None, "5.00", ["定量指标", "12", "个月"])
    assert ("missing_field", f"indicators[{k}]") in _errors(form)


def test_chongqing_a_level_label_read_where_none_is_printed_names_its_row():
    """Chongqing's template prints no level labels: one read is a row whose cells went to
    other fields than theirs, named whatever else the reading did."""
    from extractor.check.arithmetic import check_form

    form = _forms(PROVINCES / "chongqing_xlsx.pdf")[0]
    assert not any(f.code == "level_mismatch" for f in check_form(form))
    form.indicators[3].level1 = "社保中心运营保障完成情况"
    assert [(f.code, f.field) for f in check_form(form) if f.code == "level_mismatch"] == [("level_mismatch", "indicators[3]")]
