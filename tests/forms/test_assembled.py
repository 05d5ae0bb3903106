"""No silent misses: a value joined from pieces, a level label no form uses, a
level label that came out empty — each is a finding that names the field."""

from pathlib import Path

from conftest import ROOT, gold_by_label
from extractor.check import check_form
from extractor.pipeline import ExtractOptions, extract_document

SEED = ROOT / "fixtures" / "text" / "001_4588a3eccc5d7ba5.txt"


def _findings(path: Path, label: str):
    (form,) = [f for f in extract_document(path, ExtractOptions(engine="rules")).forms if f.project_name == label]
    return [f for f in form.findings if f.code == "assembled_value"]


def test_a_label_joined_right_across_a_page_break_is_a_warning_naming_it():
    (f,) = _findings(SEED, "劳动仲裁业务经费")  # 服务对象满意 | 度指标 across the break
    assert (f.severity, f.field, f.found) == ("warning", "indicators[11].level2", "服务对象满意度指标")


def test_a_label_joined_into_no_real_label_is_an_error(tmp_path):
    """The page break's fragment is '指标' instead of '度指标': the join makes
    服务对象满意指标, which no form prints. Before, it passed with no finding."""
    lines = SEED.read_text(encoding="utf-8").split("\n")
    assert lines[399].startswith("度指标")
    lines[399] = lines[399].replace("度指标", "指标", 1)
    cut = tmp_path / "cut.txt"
    cut.write_text("\n".join(lines), encoding="utf-8")
    f, carried = _findings(cut, "劳动仲裁业务经费")
    assert (f.severity, f.field, f.found) == ("error", "indicators[11].level2", "服务对象满意指标")
    # (and the row below, whose merged cell it is: it carries the same label)
    assert (carried.severity, carried.field, carried.found) == ("error", "indicators[12].level2", "服务对象满意指标")


def test_an_unknown_level_label_is_a_warning_and_an_empty_one_an_error():
    form = gold_by_label("宣传工作经费")
    form.indicators[2].level2 = "社会指标"
    form.indicators[4].level1 = ""
    found = {(f.code, f.severity, f.field) for f in check_form(form)}
    assert ("unknown_label", "warning", "indicators[2].level2") in found
    assert ("missing_field", "error", "indicators[4].level1") in found
