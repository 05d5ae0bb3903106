from decimal import Decimal

import pytest

from extractor.forms.numbers import clean_cell, numbers_in, parse_number
from extractor.forms.targets import parse_value, target_met


@pytest.mark.parametrize("text,expected", [
    ("3,013.00", Decimal("3013.00")), ("17,357.00", Decimal("17357")), ("0.00", Decimal(0)),
    ("９９．３４", Decimal("99.34")), ("99.34%", Decimal("99.34")), ("-", None), ("—", None),
])
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["达成指标", "≥95.00(%)", "1.2.3", "12a"])
def test_parse_number_rejects_non_numbers(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_clean_cell_undoes_wraps_but_keeps_latin_spaces():
    assert clean_cell("一级 指标") == "一级指标"
    assert clean_cell("事业单位工作人员考核完成耗时 间") == "事业单位工作人员考核完成耗时间"
    assert clean_cell("<p>1. 全年举行</p> <p>2. 定期</p>") == "1. 全年举行 2. 定期"
    assert clean_cell("420m<sup>2</sup>") == "420m2"


def test_numbers_in_reads_thousands_separators():
    assert numbers_in("全年预算数 4,088.20 执行率 91.59(%)") == [Decimal("4088.20"), Decimal("91.59")]


@pytest.mark.parametrize("text,kind,op,number,unit", [
    ("≥95.00(%)", "quantity", "≥", Decimal("95.00"), "%"),
    ("=100(%)", "quantity", "=", Decimal("100"), "%"),
    ("<1.00(%)", "quantity", "<", Decimal("1.00"), "%"),
    ("≤4(小时)", "quantity", "≤", Decimal("4"), "小时"),
    ("=100%", "quantity", "=", Decimal("100"), "%"),
    ("0.00(次)", "quantity", "=", Decimal("0.00"), "次"),
    ("=100 (%)", "quantity", "=", Decimal("100"), "%"),
    ("≥5000.00(件)", "quantity", "≥", Decimal("5000.00"), "件"),
])
def test_parse_quantities(text, kind, op, number, unit):
    v = parse_value(text)
    assert (v.kind, v.op, v.number, v.unit) == (kind, op, number, unit)


@pytest.mark.parametrize("text", ["-100.00(%)", "(4场招聘，36场面试)", "提升", "符合计划安排", "", None])
def test_unreadable_targets_are_unparsed_not_guessed(text):
    assert parse_value(text).kind == "unparsed"


def test_qualitative_actuals():
    assert parse_value("达成指标").achievement == "achieved"
    assert parse_value("部分达成指标并具有一定效果").achievement == "partial"
    assert parse_value("未达成指标").achievement == "not_achieved"


def test_target_met():
    assert target_met(parse_value("≥95.00(%)"), parse_value("98.00(%)")) is True
    assert target_met(parse_value("≥80.00(人)"), parse_value("79.00(人)")) is False
    assert target_met(parse_value("≤4(小时)"), parse_value("2.00(小时)")) is True
    assert target_met(parse_value("≥95(%)"), parse_value("3.00(人)")) is None  # units differ
    assert target_met(parse_value("-100.00(%)"), parse_value("100.00(%)")) is None


def test_nfkc_of_a_long_text_line_by_line_is_the_whole_texts():
    import unicodedata
    from pathlib import Path

    from extractor.forms.numbers import compact, nfkc

    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "fixtures" / "text").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert len(text) > 256 and nfkc(text) == unicodedata.normalize("NFKC", text)
    # combining marks at line ends and starts, full-width forms, ideographic spaces
    tricky = ("ａ\u0301（３，０１３．００）\u3000" * 40 + "\n") * 3 + "\u0301ｘ\n" + "e\u0301" * 200
    assert nfkc(tricky) == unicodedata.normalize("NFKC", tricky)
    assert compact(tricky) == "".join(unicodedata.normalize("NFKC", tricky).split())


def test_the_fast_number_pattern_reads_what_the_plain_one_reads():
    """The page-number pattern takes the first digit out of its two branches for
    speed; it must find exactly the tokens the plain two-branch pattern finds."""
    import random
    import re
    from pathlib import Path

    from extractor.forms.numbers import _NUMBER_IN_TEXT, nfkc

    plain = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
    root = Path(__file__).resolve().parents[2]
    texts = [nfkc(p.read_text(encoding="utf-8")) for p in sorted((root / "fixtures" / "text").glob("*.txt"))]
    rnd = random.Random(7)
    texts += ["".join(rnd.choice("0123456789,,..  万%\n-") for _ in range(rnd.randint(1, 24))) for _ in range(5000)]
    for text in texts:
        assert _NUMBER_IN_TEXT.findall(text) == plain.findall(text), text
