"""Forms as government sites publish them: a saved page (GBK, navigation, the form a
Word-pasted table with rowspan/colspan) and Chromium's PDF of it."""

import json
import shutil
import sys

import pytest

from conftest import ROOT
from extractor.eval_sets import load_manifest
from extractor.evaluate import evaluate
from extractor.read.text_export import read_text_export

WEB = ROOT / "fixtures" / "web"


def test_a_saved_page_reads_exactly_and_its_pdf_never_silently_wrong():
    report = evaluate(load_manifest(WEB / "manifest.json"))["types"]
    html, pdf = report["web_html"], report["web_chromium_pdf"]
    assert html["forms_found"] == html["forms_expected"] == html["forms_exact"] == 5
    assert pdf["forms_found"] == pdf["forms_expected"] and pdf["silent_errors"] == 0
    # Every row, the ones Chromium carries to a new page with no top border among them
    assert pdf["forms_exact"] == 5 and pdf["rows"]["missing"] == 0


def test_a_page_saved_with_the_browsers_headers_and_footers_flags_only_what_it_prints():
    """Chrome's Ctrl+P prints the date and the page's title above each page and its
    address and page count below, inside the form's region where a table runs across
    pages: furniture, neither text left unread, nor a line of the cell above it, nor a
    goal. In landscape a goal's tall row breaks across two pages: its two parts are one
    goal."""
    from extractor.forms.numbers import compact
    from extractor.pipeline import extract_document

    manifest = json.loads((WEB / "manifest.json").read_text(encoding="utf-8"))
    saved = [d for d in manifest["documents"] if d["doc_type"] == "web_browser_saved_pdf"]
    assert len(saved) == 4
    for doc in saved:
        gold = json.loads((ROOT / doc["gold"][0]["file"]).read_text(encoding="utf-8"))
        result = extract_document(ROOT / doc["document"])
        assert len(result.forms) == len(gold["forms"])
        for form, expected, error in zip(result.forms, gold["forms"], gold["printed_errors"]):
            codes = {f.code for f in form.findings if f.severity == "error"}
            assert codes == ({error} if error else set()), (doc["document"], form.title, codes)
            assert [compact(form.goal_expected), compact(form.goal_actual)] == [compact(expected["goal_expected"]),
                                                                                compact(expected["goal_actual"])]


def test_spans_are_laid_out_as_merged_ranges():
    """A rowspan's text in its first row, empty cells under it; a colspan's in its first column."""
    page = read_text_export(
        "<table><tr><td rowspan=3>产出指标</td><td rowspan=2>数量指标</td><td>a</td><td>1</td></tr>"
        "<tr><td>b</td><td>2</td></tr><tr><td colspan=2>质量指标 c</td><td>3</td></tr></table><p>页脚</p>")
    assert [[c.text for c in r.cells] for r in page.rows] == [
        ["产出指标", "数量指标", "a", "1"], ["", "", "b", "2"], ["", "质量指标 c", "", "3"], ["页脚"]]


def test_a_page_laid_out_in_a_table_reads_its_text_as_lines_and_the_table_inside_as_cells():
    """Old sites put the article in one cell of a layout table, the navigation in another:
    the form's title and year are lines of their own, not a cell beside 栏目导航 (the
    title was lost, the navigation read as text of the form)."""
    page = read_text_export(
        "<table><tr><td>栏目导航</td><td><div><p>项目支出绩效自评表</p><p>（2023年度）</p>"
        "<table><tr><td>项目名称</td><td>宣传工作经费</td></tr><tr><td>主管部门</td><td>某局</td></tr></table>"
        "</div></td></tr></table><p>页脚</p>")
    assert [[c.text for c in r.cells] for r in page.rows] == [
        ["栏目导航"], ["项目支出绩效自评表"], ["（2023年度）"], ["项目名称", "宣传工作经费"], ["主管部门", "某局"], ["页脚"]]


@pytest.mark.slow
def test_freshly_printed_pages_read_like_the_committed_ones(tmp_path):
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed: bash .ci/system-deps installs it")
    sys.path.insert(0, str(ROOT / "fixtures"))
    import make_web

    make_web.main(tmp_path / "web", tmp_path / "gold")
    fresh = evaluate(load_manifest(tmp_path / "web" / "manifest.json"))["types"]
    committed = evaluate(load_manifest(WEB / "manifest.json"))["types"]
    for name, t in committed.items():
        assert (fresh[name]["forms_found"], fresh[name]["silent_errors"]) == (t["forms_found"], 0), name
