"""Conventions other publishers print: rates at one decimal, integer scores, other
grade words. Checked at the precision printed, never looser than it."""

from decimal import Decimal

import pytest

from conftest import gold_by_label
from extractor.check import check_form
from extractor.models import FieldSource


@pytest.fixture
def form():
    return gold_by_label("宣传工作经费")  # 115.11 / 116.40 = 98.8917%, weight 10, score 9.88


def codes(form):
    return {f.code for f in check_form(form) if f.severity == "error"}


def _printed(form, path, raw):
    form.provenance[path] = FieldSource(engine="rules", raw=raw)


def _rate(form, printed):
    """The total and fiscal rows (the same amounts) print this rate."""
    for row in ("total", "fiscal"):
        getattr(form.funding, row).execution_rate = Decimal(printed)
        _printed(form, f"funding.{row}.execution_rate", printed + "%")


def test_a_rate_printed_with_one_decimal_is_checked_to_one(form):
    _rate(form, "98.8")  # truncated to one decimal
    assert "execution_rate" not in codes(form)
    _rate(form, "98.9")  # rounded
    assert "execution_rate" not in codes(form)
    _rate(form, "98.7")  # wrong at its own precision
    assert "execution_rate" in codes(form)


def test_printed_precision_comes_from_the_page_not_the_json_number(form):
    """98.80 printed, stored as 98.8 in JSON: still checked to two decimals (98.89)."""
    _rate(form, "98.8")
    _printed(form, "funding.total.execution_rate", "98.80(%)")
    assert "execution_rate" in codes(form)


def test_an_integer_budget_score_is_checked_at_its_precision(form):
    t = form.funding.total
    t.score = Decimal("10")
    _printed(form, "funding.total.score", "10")
    form.total_score = form.total_score - Decimal("9.88") + 10
    assert "budget_score" not in codes(form)
    t.score = Decimal("9")  # 9.889 truncated: passes, as 9.88 does at two decimals
    _printed(form, "funding.total.score", "9")
    form.total_score -= 1
    assert "budget_score" not in codes(form)
    t.score = Decimal("8")
    _printed(form, "funding.total.score", "8")
    form.total_score -= 1
    assert "budget_score" in codes(form)


@pytest.mark.parametrize("grade, total, error", [
    ("优秀", "96.88", False), ("良好", "96.88", True), ("良好", "85", False), ("合格", "79", False),
    ("良好", "79", True), ("不合格", "59", False), ("优", "96.88", False), ("良", "85", False),
])
def test_provincial_grade_words_are_checked_against_their_scale(form, grade, total, error):
    form.grade, form.total_score = grade, Decimal(total)
    found = {f.code: f for f in check_form(form)}
    assert ("grade" in found) == error
    assert "unknown_grade" not in found


def test_an_unknown_grade_word_is_an_error_where_the_total_gives_the_grade(form):
    form.grade = "甲等"
    (f,) = [f for f in check_form(form) if f.code in ("grade", "unknown_grade")]
    assert (f.code, f.severity, f.expected) == ("unknown_grade", "error", "优")
    form.total_score = None  # no total to tell the grade by: a warning
    (f,) = [f for f in check_form(form) if f.code in ("grade", "unknown_grade")]
    assert (f.code, f.severity) == ("unknown_grade", "warning")


def test_a_rate_indicator_at_two_decimals_agrees_with_a_block_rate_at_one():
    form = gold_by_label("劳动监察业务经费")
    form.funding.total.execution_rate = Decimal("90.0")
    _printed(form, "funding.total.execution_rate", "90.0%")
    form.funding.total.executed = form.funding.total.annual_budget * Decimal("0.9")
    assert "rate_indicator_mismatch" not in codes(form)
