"""Each rule fires on the disagreement it names, and stays quiet on the gold."""

import sys
from decimal import Decimal

import pytest

from conftest import ROOT, gold_by_label
from extractor.check import check_form
from extractor.settings import CheckSettings, GradeBand

sys.path.insert(0, str(ROOT / "eval"))
import mutation  # noqa: E402


def codes(form, **kw):
    return {f.code for f in check_form(form, **kw) if f.severity == "error"}


def warnings(form):
    return {f.code for f in check_form(form) if f.severity == "warning"}


@pytest.fixture
def form():
    return gold_by_label("宣传工作经费")  # 116.40 / 115.11 = 98.89% → 9.88 (truncated)


def test_gold_form_is_clean(form):
    assert codes(form) == set()


def test_funding_rows_must_add_up(form):
    form.funding.fiscal.executed = Decimal("115.10")
    assert "funding_sum" in codes(form)


def test_execution_rate_recomputed(form):
    form.funding.total.execution_rate = Decimal("98.95")
    assert "execution_rate" in codes(form)


def test_either_rounding_of_the_rate_passes(form):
    form.funding.total.execution_rate = Decimal("98.89")  # 98.8917 truncated and rounded
    form.funding.fiscal.execution_rate = Decimal("98.89")
    assert "execution_rate" not in codes(form)


def test_budget_score_truncated_or_rounded_but_not_more(form):
    form.funding.total.score = Decimal("9.89")  # 10 × 98.89% = 9.889 → 9.88 or 9.89
    form.total_score = Decimal("96.89")
    assert "budget_score" not in codes(form)
    form.funding.total.score = Decimal("9.91")
    form.total_score = Decimal("96.91")
    assert "budget_score" in codes(form)
    form.funding.total.score = Decimal("9.90")  # one unit past both 9.88 and 9.89
    form.total_score = Decimal("96.90")
    assert "budget_score" in codes(form)


def test_a_rate_one_unit_off_in_its_last_digit_fails(form):
    """115.11 / 116.40 = 98.8917%: 98.89 (either rounding) but not 98.90 or 98.88."""
    for rate, wrong in (("98.89", False), ("98.90", True), ("98.88", True)):
        form.funding.total.execution_rate = form.funding.fiscal.execution_rate = Decimal(rate)
        assert ("execution_rate" in codes(form)) is wrong, rate


def test_a_rate_printed_with_four_decimals_is_held_to_four(form):
    form.funding.total.execution_rate = form.funding.fiscal.execution_rate = Decimal("98.8917")
    assert "execution_rate" not in codes(form)
    form.funding.total.execution_rate = form.funding.fiscal.execution_rate = Decimal("98.9017")  # 100 units off
    assert "execution_rate" in codes(form)


def test_a_funding_sum_is_held_to_the_printed_precision(form):
    f = form.funding
    f.total.annual_budget, f.fiscal.annual_budget = Decimal("116.4040"), Decimal("116.4000")
    f.total.initial_budget, f.fiscal.initial_budget = Decimal("116.4000"), Decimal("116.4000")
    assert "funding_sum" in codes(form)
    f.total.annual_budget = Decimal("116.4000")
    assert "funding_sum" not in codes(form)


def test_total_is_exact(form):
    form.total_score = Decimal("96.87")
    assert "total_score" in codes(form)


def test_weights_and_score_range(form):
    form.indicators[0].weight = Decimal("11")
    assert "weights_sum" in codes(form)
    form = gold_by_label("宣传工作经费")
    form.indicators[0].score = Decimal("11")
    form.total_score += 1
    assert "score_range" in codes(form)


def test_grade_and_configurable_scale(form):
    form.grade = "良"
    assert "grade" in codes(form)
    form.grade = "优秀"  # another scale the family uses: checked against that scale
    assert codes(form) == set()
    form.grade = "合格"  # 60–80 on the provinces' scales (pass/fail is no family's)
    assert "grade" in codes(form)
    pass_fail = CheckSettings(grades=[GradeBand(label="合格", min=Decimal(60)), GradeBand(label="不合格", min=Decimal(0))])
    assert "grade" not in {f.code for f in check_form(form, pass_fail)}  # your publishers' own scale comes first
    form.grade = "不合格"
    assert "grade" in codes(form)
    strict = CheckSettings(grades=[GradeBand(label="优", min=Decimal(97)), GradeBand(label="良", min=Decimal(0))])
    form.grade = "优"
    assert "grade" in {f.code for f in check_form(form, strict)}


def test_missing_parts_are_errors(form):
    form.project_name = None
    form.indicators = []
    assert "missing_field" in codes(form)


def test_real_discrepancy_found():
    form = gold_by_label("劳动监察业务经费")
    (f,) = [f for f in check_form(form) if f.severity == "error"]
    assert (f.code, f.expected, f.found) == ("rate_indicator_mismatch", 0, 90)
    assert f.message and f.message_zh


def test_department_level1_weights():
    form = gold_by_label("上海市闵行区浦锦街道社区事务受理服务中心")
    assert codes(form) == set()
    form.indicators[3].level1_weight = Decimal("31")
    assert "level1_weight" in codes(form)


def test_grounding_flags_a_value_no_page_prints(form):
    from extractor.check.grounding import text_fields

    text = "116.40 115.11 10.00 98.89 9.88 96.88 100 " + " ".join(
        f"{i.weight} {i.score}" for i in form.indicators
    ) + " 0.00 " + " ".join(v for _, v in text_fields(form))
    assert codes(form, page_text=text) == set()
    form.indicators[0].score = Decimal("9.50")
    form.total_score = Decimal("96.38")
    assert "ungrounded_value" in codes(form, page_text=text)


def test_grounding_flags_what_an_llm_gets_wrong_beyond_the_numbers(form):
    """The year one off, 元 for 万元, a reason of its own, a grade of its own: each
    printed nowhere on the form's page, each an error naming it."""
    text = (ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt").read_text(encoding="utf-8")
    assert codes(form, page_text=text) == set()
    form.year -= 1
    form.funding_unit = "元"
    form.indicators[1].deviation_reason = "受疫情影响，培训延期"
    form.grade = "良"
    found = {f.field for f in check_form(form, page_text=text) if f.code == "ungrounded_value"}
    assert {"year", "funding_unit", "indicators[1].deviation_reason", "grade"} <= found


def test_grounding_flags_an_invented_name(form):
    text = (ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt").read_text(encoding="utf-8")
    assert codes(form, page_text=text) == set()
    form.indicators[2].name = "信息发布覆盖率"  # plausible, and printed nowhere
    found = [f for f in check_form(form, page_text=text) if f.code == "ungrounded_value"]
    assert [f.field for f in found] == ["indicators[2].name"]


def test_scoring_practice_warnings():
    form = gold_by_label("机关事业单位运行保障经费")  # 员工满意度 ≥95% → 99%, 9/10, no reason
    w = warnings(form)
    assert {"met_but_deducted", "score_without_reason"} <= w
    form.indicators[0].actual = "80.00(件)"  # target ≥84 missed with full marks
    assert "missed_full_marks" in warnings(form)
    form.indicators[0].actual = "达成指标"
    form.indicators[0].target = "及时"
    form.indicators[0].score = Decimal("5")  # 50% for 达成: below its band
    assert "qualitative_band" in warnings(form)


@pytest.mark.slow
def test_mutation_catch_rates():
    """Every identity field is caught 100% with grounding; the arithmetic alone
    misses only ±0.01 on a rate or on the budget score, which the two accepted
    conventions allow (98.48% of 10 prints 9.85 rounded and 9.84 truncated)."""
    stats = mutation.run()
    for kind, s in stats.items():
        assert s["caught_with_grounding"] == s["mutations"], kind
        if kind.endswith("execution_rate") or kind == "funding.total.score":
            assert set(s["missed_deltas"]) <= {"0.01", "-0.01"}, kind
        else:
            assert s["caught_arithmetic"] == s["mutations"], kind


def test_level_labels_run_together_are_an_error(form):
    assert not [f for f in check_form(form) if f.code == "merged_labels"]
    for ind in form.indicators[:3]:
        ind.level2 = "质量指标时效指标社会效益指标"
    found = [f for f in check_form(form) if f.code == "merged_labels"]  # every row that carries it: its level and name are wrong
    assert [(f.severity, f.field) for f in found] == [("error", f"indicators[{i}]") for i in range(3)]


def test_grounding_page_by_page_is_grounding_the_pages_joined():
    """The pipeline grounds a form in its pages' texts one by one (each page read once
    for every form on it); a value cut across the page break still counts as printed."""
    from extractor.check.grounding import check_grounding
    from extractor.models import Indicator, ProjectForm

    page1 = "项目名称\t乙项目\n三级指标\t年度指标值\n验收合格\t符合计划安"
    page2 = "排\t3,013.00\t5.00\n总分\t90"
    form = ProjectForm(project_name="乙项目", indicators=[
        Indicator(level1="产出指标", level2="质量指标", name="验收合格", target="符合计划安排", weight=Decimal("5"), score=Decimal("3013")),
        Indicator(level1="产出指标", level2="质量指标", name="不在页上", target="x", weight=Decimal("7"), score=Decimal("1")),
    ])
    joined = [(f.field, f.found) for f in check_grounding(form, page1 + "\n" + page2)]
    by_page = [(f.field, f.found) for f in check_grounding(form, (page1, page2))]
    assert by_page == joined
    assert ("indicators[0].target", "符合计划安排") not in by_page  # cut by the break, still printed
    assert {"indicators[1].name", "indicators[1].weight", "indicators[1].score"} <= {f for f, _ in by_page}


def _levelled(levels, printed):
    """A form of indicators with these (level1, level2), the level-1 label printed (with
    its provenance) on the rows in `printed` and carried down to the others."""
    from extractor.models import FieldSource, Indicator, ProjectForm

    form = ProjectForm(project_name="x", indicators=[
        Indicator(level1=a, level2=b, name=f"指标{i}", weight=Decimal("5"), score=Decimal("5")) for i, (a, b) in enumerate(levels)])
    form.provenance = {f"indicators[{i}].level1": FieldSource(engine="rules", raw=levels[i][0]) for i in printed}
    return form


def test_the_rows_a_level_label_was_carried_to_before_a_mismatch_are_named():
    """pdfplumber lost a page's merged 产出指标 / 数量指标: the rows after the page break
    carried 成本指标 / 经济成本指标 from the last row that printed them (a consistent pair,
    silent) until a row's 质量指标 showed the carry wrong. Where the merged cell ended is
    not known: every row it was carried to, up to the mismatch, is named; rows before
    the printing row, and forms with no mismatch, are not. A level 2 one character off
    a known label (时效目标) is judged by that label's parent."""
    levels = [("产出指标", "数量指标"), ("成本指标", "经济成本指标"), ("成本指标", "经济成本指标"), ("成本指标", "经济成本指标"),
              ("成本指标", "质量指标"), ("成本指标", "时效目标"), ("效益指标", "社会效益指标")]
    named = {f.field for f in check_form(_levelled(levels, printed=[0, 1, 6])) if f.code == "level_mismatch"}
    assert named == {"indicators[2]", "indicators[3]", "indicators[4]", "indicators[5]"}
    consistent = [("产出指标", "数量指标"), ("成本指标", "经济成本指标"), ("成本指标", "经济成本指标"), ("效益指标", "社会效益指标")]
    assert not [f for f in check_form(_levelled(consistent, printed=[0, 1, 3])) if f.code == "level_mismatch"]


def test_a_row_with_no_level_label_where_the_document_writes_one_in_every_row_is_named():
    """pymupdf4llm writes a merged level label into every row it spans; at a page break it
    left one row's level cells empty, and the row carried 效益指标 from above, silently.
    In a document that writes labels row by row (two rows in a row print the same one), a
    row with none of its own is named; where merged cells print once (a PDF), not."""
    levels = [("产出指标", "数量指标"), ("产出指标", "数量指标"), ("效益指标", "社会效益指标"), ("效益指标", "社会效益指标")]
    form = _levelled(levels, printed=[0, 1, 2])
    for i in (0, 1, 2):
        form.provenance[f"indicators[{i}].level2"] = form.provenance[f"indicators[{i}].level1"].model_copy(update={"raw": levels[i][1]})
    named = {f.field for f in check_form(form) if f.code == "level_mismatch"}
    assert named == {"indicators[3].level1", "indicators[3].level2"}
    once = _levelled(levels, printed=[0, 2])  # (a merged cell's label printed once)
    assert not [f for f in check_form(once) if f.code == "level_mismatch"]


def test_a_name_that_is_an_indicators_nature_names_the_row():
    """Sichuan's 指标性质 (定性, ≥) read as a name: the row's cells moved by a column."""
    levels = [("产出指标", "数量指标"), ("产出指标", "质量指标")]
    form = _levelled(levels, printed=[0, 1])
    form.indicators[1].name = "定性"
    assert [(f.code, f.field) for f in check_form(form) if f.code == "merged_labels"] == [("merged_labels", "indicators[1]")]


def test_a_name_target_or_actual_that_is_a_level_label_names_the_row():
    """`时效指标` read as a name (a text that leaves empty cells out, read by order): the
    row's cells moved by a column. No name of the gold set is a level label."""
    levels = [("产出指标", "数量指标"), ("产出指标", "质量指标"), ("产出指标", "时效指标")]
    form = _levelled(levels, printed=[0, 1, 2])
    assert not [f for f in check_form(form) if f.code == "merged_labels"]
    form.indicators[2].name = "时效指标"
    form.indicators[1].actual = "社会效益指标"
    named = [(f.code, f.field) for f in check_form(form) if f.code == "merged_labels"]
    assert named == [("merged_labels", "indicators[1]"), ("merged_labels", "indicators[2]")]


def test_a_target_whose_figure_or_unit_was_not_read_is_named():
    """Sichuan's target in three cells on a 150-dpi scan: `≥ | | %` (the `1` lost) and
    `| Z3 | %` (`=8` read as Z); an actual `9924355.12(96)` (`%` read as 96). Chongqing's
    `定量指标 | 100% | %` and a word target under 定性 are whole."""
    levels = [("产出指标", "数量指标")] * 6
    form = _levelled(levels, printed=[0])
    parts = [(">", "", "%"), ("", "Z3", "%"), ("定量指标", "100%", "%"), ("定性", "提升", ""), ("≥", "1,000.5", "人")]
    for ind, p in zip(form.indicators, parts):
        ind.target_parts, ind.target = p, "".join(p)
    form.indicators[5].actual = "9924355.12(96)"
    form.indicators[4].actual = "172363.9(1%)"  # (a clipped cell's borders read as 1s)
    form.indicators[3].actual = "(4场招聘，36场面试)"  # (the department seed's: a remark, no figure's unit)
    named = [(f.code, f.field) for f in check_form(form) if f.code == "missing_field" and f.field.startswith("indicators")]
    assert named == [("missing_field", "indicators[0].target"), ("missing_field", "indicators[1].target"),
                     ("missing_field", "indicators[4].actual"), ("missing_field", "indicators[5].actual")]


def test_inline_marks_of_a_converter_are_no_text():
    from extractor.forms.numbers import clean_cell

    assert clean_cell("<u>部门预算项目支出绩效自评表(2023年度)</u>") == "部门预算项目支出绩效自评表(2023年度)"
    assert clean_cell("<b>合计</b> <i>100</i>") == "合计 100"
