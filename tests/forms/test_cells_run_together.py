"""What the parsers' exports do to a form's cells, on the seed form as a text export:
each either read right or an error naming the field (never silently wrong)."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT
from extractor.pipeline import extract_document

SEED = (ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt").read_text(encoding="utf-8")
FORM = SEED[SEED.index("# 财政项目支出绩效自评表\n\n(2023年度)\n\n项目名称\t\t宣传工作经费"):SEED.index("# 财政项目支出绩效自评表\n\n(2023年度)\n\n项目名称\t退役军人服务保障体系建设")]


def read(tmp_path: Path, text: str) -> list:
    path = tmp_path / "form.txt"
    path.write_text(text, encoding="utf-8")
    return extract_document(path).forms


def errors(form) -> set[tuple[str, str | None]]:
    return {(f.code, f.field) for f in form.findings if f.severity == "error"}


def test_the_seed_form_reads_clean(tmp_path):
    (form,) = read(tmp_path, FORM)
    assert errors(form) == set() and form.grade == "优" and form.total_weight == 100


def test_a_title_written_into_every_column_of_its_merge_is_one_title(tmp_path):
    """pymupdf4llm writes a merged title cell once per column it spans, its year with it."""
    title = "|".join(["财政项目支出绩效自评表<br>(2023年度)"] * 8)
    (form,) = read(tmp_path, FORM.replace("# 财政项目支出绩效自评表\n\n(2023年度)\n", f"|{title}|\n"))
    assert (form.title, form.year) == ("财政项目支出绩效自评表", 2023)


def test_a_grade_in_its_labels_cell_is_read(tmp_path):
    (form,) = read(tmp_path, FORM.replace("评分等级\t\t优", "评分等级优"))
    assert form.grade == "优" and not errors(form)


def test_a_garbled_total_weight_is_named(tmp_path):
    (form,) = read(tmp_path, FORM.replace("总分\t\t\t\t\t100\t96.88", "总分\t\t\t\t\t0\t96.88"))
    assert ("weights_sum", "total_weight") in errors(form)


def test_cells_run_together_are_named(tmp_path):
    """A name that holds the level labels beside it, or the target after it (camelot joins
    a merged range's cells): an error on the row, not a new name."""
    text = FORM.replace("\t\t计划培训人数\t=60.00(人)", "\t\t计划培训人数 =60.00(人)\t")
    text = text.replace("社会效益指标\t社会知晓率\t", "社会效益指标\t社会知晓率效益指标社会效益指标\t")
    (form,) = read(tmp_path, text)
    assert {("merged_labels", "indicators[1]"), ("merged_labels", "indicators[5]")} <= errors(form)


def test_a_funding_block_after_a_forms_total_is_another_form(tmp_path):
    """A parser dropped the second form's title and head: its figures are a form of their
    own (with its name missing, an error), never written over the first form's."""
    head_end = FORM.index("项目资金")
    second = FORM[head_end:].replace("116.40", "216.40").replace("115.11", "215.11")
    first, headless = read(tmp_path, FORM + "\n" + second)
    assert str(first.funding.total.annual_budget) == "116.40" and errors(first) == set()
    assert str(headless.funding.total.annual_budget) == "216.40"
    assert ("missing_field", "project_name") in errors(headless)


def test_a_level_label_no_row_carries_is_named(tmp_path):
    """A 数量指标 cell printed above rows that were read into another group (a page break
    lost the row it headed): unread, naming the level-2 column (which rows it heads the
    reading cannot say: it named the first row below, and a scan's rows further down
    carried the wrong label silently)."""
    lines = [("\t数量指标" if ln.startswith("产出指标\t数量指标\t信息发布完成率") else ln) for ln in FORM.split("\n")]
    text = "\n".join(lines).replace("\t\t计划培训人数", "产出指标\t质量指标\t计划培训人数")
    (form,) = read(tmp_path, text)
    assert ("unread_text", "indicators[].level2") in errors(form)
    assert form.indicators[0].level2 == "质量指标"  # (read wrong, and named)
