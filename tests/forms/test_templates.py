"""The vocabulary is data: every family's labels come from templates.toml."""

from extractor.forms.templates import VOCAB, vocabulary


def test_the_vocabulary_holds_every_familys_labels():
    v = vocabulary()
    assert ("财政拨款", "fiscal") in v.project_rows and ("当年财政拨款", "fiscal") in v.project_rows
    assert ("资金总额", "total") in v.project_rows
    assert {"权重", "分数", "分值"} <= {label for label, name in v.funding_columns if name == "weight"}
    assert {"评分等级", "评价等级", "自评等级"} <= set(v.grade)
    labels = [label for label, _ in v.funding_columns]
    assert labels.index("自评得分") < labels.index("得分")  # the longer label is tried first


def test_the_indicator_header_with_or_without_a_block_column():
    assert VOCAB.is_indicator_header("一级指标二级指标三级指标")
    assert VOCAB.is_indicator_header("绩效指标一级指标二级指标三级指标")
    assert not VOCAB.is_indicator_header("年度总体目标预期目标")
