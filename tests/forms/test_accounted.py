"""Every printed field accounted for: read, printed empty, or an error naming it; every
text in a form a value, a label or furniture; the year wherever forms print it; the
grade judged on the form's own scale."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from conftest import ROOT
from extractor.pipeline import extract_document

SEED = (ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt").read_text(encoding="utf-8")
FORM = SEED[SEED.index("# 财政项目支出绩效自评表\n\n(2023年度)\n\n项目名称\t\t宣传工作经费"):SEED.index("# 财政项目支出绩效自评表\n\n(2023年度)\n\n项目名称\t退役军人服务保障体系建设")]


def read(tmp_path: Path, text: str):
    path = tmp_path / "form.txt"
    path.write_text(text, encoding="utf-8")
    (form,) = extract_document(path).forms
    return form


def errors(form) -> dict[str, set[str | None]]:
    out: dict[str, set[str | None]] = {}
    for f in form.findings:
        if f.severity == "error":
            out.setdefault(f.code, set()).add(f.field)
    return out


def test_the_seed_form_is_read_whole(tmp_path):
    form = read(tmp_path, FORM)
    assert form.template == "shanghai" and form.year == 2023 and errors(form) == {}


@pytest.mark.parametrize("header", ["指标方向", "指标性质"])
def test_a_column_the_engine_does_not_know_is_an_error_on_its_rows(tmp_path, header):
    """A column inserted before 年度指标值: its words are no value (and, when the engine
    does not know its header, no label). 指标性质 is Sichuan's operator column (≥ 90 %):
    正向指标 there is no operator and is not made part of the target."""
    lines = FORM.split("\n")
    out = []
    for line in lines:
        cells = line.split("\t")
        if line.startswith("一级指标"):
            cells.insert(3, header)
        elif len(cells) >= 7 and any(c.endswith("(%)") or c in ("及时", "提升") for c in cells[3:4]):
            cells.insert(3, "正向指标")
        out.append("\t".join(cells))
    form = read(tmp_path, "\n".join(out))
    unread = {(f.found, f.field) for f in form.findings if f.code == "unread_text" and f.severity == "error"}
    known = header == "指标性质"
    assert unread == {(header, None)} - {("指标性质", None)} | {("正向指标", f"indicators[{i}]") for i in (0, 2, 3, 4, 5, 6)}
    if known:
        assert form.indicators[0].target == "=100.00(%)"


def test_a_row_joined_to_the_one_above_on_the_same_page_is_an_error(tmp_path):
    """A row with no weight and score mid-page: a line break written as a row, or a row
    of its own the reader could not place. Joined to the row above, as a page break's
    piece is, but named by an error (a piece after a page break stays a warning)."""
    text = FORM.replace("总分\t\t\t\t\t100\t96.88", "\t\t新媒体平台建设进度\t按计划\t已完成\t\t\t\n总分\t\t\t\t\t100\t96.88")
    form = read(tmp_path, text)
    assert errors(form) == {"assembled_value": {"indicators[6].name", "indicators[6].target", "indicators[6].actual"}}


def test_a_row_not_placed_at_all_names_the_block_it_was_printed_in(tmp_path):
    """A row of the indicator table of which only its level-2 label and its score were
    read (a 150-dpi scan lost its name, target, actual and weight) is placed nowhere: the
    rows around it may be off by one (on the hunt's 150-dpi scans a department form's
    next row was compared with it, its score `2.4` for the printed `3`, silently). Its
    text names the block, not the row below (`indicators[2].level2` before: another row)."""
    text = FORM.replace("\t质量指标\t信息发布准确率\t=100.00(%)\t100.00(%)\t20.00\t19.00\t爆款文章少，需进一步加强\t",
                        "\t质量指标\t\t\t\t\t19.00\t\t")
    form = read(tmp_path, text)
    assert [i.name for i in form.indicators][1:3] == ["计划培训人数", "信息发布及时率"]
    assert errors(form)["unread_text"] == {"indicators"}


@pytest.mark.parametrize("title, between, year", [
    ("# 财政项目支出绩效自评表(2022年度)", "", 2022),  # the year inside the title
    ("# 财政项目支出绩效自评表", "填报单位（盖章）：上海市退役军人事务局　　（2021年度）　　单位：万元", 2021),
    ("# 财政项目支出绩效自评表", "2024年度", 2024),
])
def test_the_year_is_read_where_forms_print_it(tmp_path, title, between, year):
    body = FORM.split("\n", 4)[4]  # from the 项目名称 row on
    form = read(tmp_path, f"{title}\n\n{between}\n\n{body}")
    assert form.year == year and "unread_text" not in errors(form)
    # Where it was read is kept with it, wherever the reading found it, as the title's is
    assert form.provenance["title"].raw.startswith(title.lstrip("# "))
    if "填报单位" in between:  # (found outside the table, after the form's values were assembled)
        assert str(year) in form.provenance["year"].raw


def test_a_national_form_with_no_year_says_so(tmp_path):
    body = FORM.split("\n", 4)[4]
    national = body.replace("评分等级", "评价等级")
    form = read(tmp_path, f"# 项目支出绩效自评表\n\n{national}")
    assert form.template == "national" and errors(form) == {"field_not_found": {"year"}}
    shanghai = read(tmp_path, f"# 财政项目支出绩效自评表\n\n{body}")  # some Shanghai forms print none
    assert shanghai.year is None and errors(shanghai) == {}


def test_a_grade_printed_empty_or_not_found(tmp_path):
    empty = read(tmp_path, FORM.replace("评分等级\t\t优", "评分等级\t\t"))
    assert empty.grade is None and {(f.code, f.severity) for f in empty.findings if f.field == "grade"} == {("printed_empty", "error")}
    gone = read(tmp_path, FORM.replace("评分等级\t\t优", ""))
    assert errors(gone) == {"field_not_found": {"grade"}}


def test_a_grade_two_scales_share_is_judged_on_the_forms_own(tmp_path):
    """合格 at 96.88: on the provinces' scales 合格 is 60–80 (pass/fail is no family's)."""
    form = read(tmp_path, FORM.replace("评分等级\t\t优", "评分等级\t\t合格"))
    assert errors(form) == {"grade": {"grade"}}
    unknown = read(tmp_path, FORM.replace("评分等级\t\t优", "评分等级\t\t甲等"))
    assert errors(unknown) == {"unknown_grade": {"grade"}}


def test_a_form_is_told_by_its_shape_not_by_a_word_in_it(tmp_path):
    """A project named 专家评审工作经费 holds 专家评审 (another table's title word): the
    label/value row is no title, so the form is read, not skipped."""
    form = read(tmp_path, FORM.replace("宣传工作经费", "专家评审工作经费"))
    assert form.project_name == "专家评审工作经费"


def test_a_blank_template_and_untitled_look_alikes_are_listed_not_read(tmp_path):
    def blanked(line: str) -> str:  # the template: its labels, no project, no figure
        cells = line.split("\t")
        if line.startswith(("项目名称", "主管部门")):
            return "\t".join(c if c in ("项目名称", "主管部门", "实施单位") else "" for c in cells)
        return "\t".join("" if any(ch.isdigit() for ch in c) else c for c in cells)

    blank = "\n".join(blanked(line) for line in FORM.split("\n"))
    system_sheet = "项目基本信息\n\n项目名称\t某信息系统建设\n主管部门\t上海市某局\t实施单位\t某中心\n立项依据\t根据有关文件\n"
    score_table = ("项目名称\t某项目\n一级指标\t二级指标\t三级指标\t分值\t得分\n决策\t项目立项\t立项依据充分性\t5\t5\n"
                   "过程\t资金管理\t资金到位率\t5\t4\n")
    path = tmp_path / "compiled.txt"
    path.write_text(blank + "\n\n" + system_sheet + "\n\n" + score_table + "\n\n" + FORM, encoding="utf-8")
    result = extract_document(path)
    assert [f.project_name for f in result.forms] == ["宣传工作经费"]
    assert [s.reason for s in result.skipped] == ["blank template", "no self-evaluation title", "no self-evaluation title"]


@pytest.mark.parametrize("line, furniture", [
    ("file:///home/u/下载/page.html 3/7", False),  # (an address with Hanzi is no browser's ASCII line)
    ("https://www.example.gov.cn/zwgk/2024/t2024_123.html 1/5", True),
    ("12/3/26, 3:07 PM 部门决算公开 - 绩效自评结果", True),
    ("2026/12/3 15:07 绩效自评结果", True),
    ("2026/12/3 下午3:07 绩效自评结果", True),
    ("2023/12/31 前完成", False),  # a date with no time: a value's words, not a browser's header
    ("详见 https://www.example.gov.cn/a.html", False),
])
def test_a_browsers_header_and_footer_lines_are_furniture_and_nothing_else(line, furniture):
    from extractor.forms.accounted import _is_furniture
    from extractor.forms.labels import label_key

    assert _is_furniture(label_key(line)) is furniture


def test_a_scanned_title_misread_is_still_the_forms_title_and_is_named():
    """At 200 dpi in Chromium's font the recogniser reads 项目支出绩效自评表 as `项支比绩效评表`:
    no title marker is left in it, and a form with no title whose parts were not all read
    was skipped as no form at all. A title row read by OCR that is most of a template
    title, in order, is the form's title — named as unverified; from a text layer, or
    nothing like a template title, it is not."""
    from extractor.forms.segment import misread_title, title_kind
    from extractor.layout.page import Cell, Row

    def row(text: str, confidence: float) -> Row:
        return Row(cells=[Cell(text=text, bbox=(0, 0, 100, 10), confidence=confidence)], page=1, in_table=False)

    scanned = row("项支比绩效评表", 0.93)
    assert title_kind(scanned, scanned.filled) == "form"
    assert misread_title("项支比绩效评表", scanned.filled) == "项目支出绩效自评表"
    printed = row("项支比绩效评表", 1.0)
    assert title_kind(printed, printed.filled) is None
    other = row("会议签到表", 0.93)
    assert title_kind(other, other.filled) is None


@pytest.mark.parametrize("weight", ["100", "_10.00", "1OO保障", "leo"])
def test_the_total_rows_figure_not_read_names_the_total_weight(tmp_path, weight):
    """The total row prints the weight and the score; a weight read as no number (a seal's
    ink over it: `_10.00`, `1OO保障`, `leo`) is the weight missed, not the score: the score
    was read. Before, only a bare number named the weight and the others named the score,
    so a grey scan's missing 100 passed silently."""
    form = read(tmp_path, FORM.replace("总分\t\t\t\t\t100\t96.88", f"总分\t\t\t\t\t{weight}\t96.88"))
    if weight == "100":
        assert form.total_weight == 100 and "unread_text" not in errors(form)
        return
    assert form.total_weight is None and form.total_score == Decimal("96.88")
    assert errors(form)["unread_text"] == {"total_weight"}


@pytest.mark.parametrize("cut", [["度\t%)"], ["", "度\t%)", ""]])
def test_the_end_of_the_last_indicator_row_cut_off_before_the_total_names_the_indicators(tmp_path, cut):
    """A page break cut the last indicator row, and a converter wrote its end as a table of
    its own before the total (camelot of a Word file's PDF: `培训满意` | `≥90.00(`, then
    `度` | `%)`): the end is named in the indicators' block. Before, it was named in no
    field, and the name and target it was cut from passed silently."""
    lines = FORM.split("\n")
    total = next(k for k, line in enumerate(lines) if line.startswith("总分"))
    form = read(tmp_path, "\n".join(lines[:total] + cut + lines[total:]))
    assert errors(form)["unread_text"] == {"indicators"}


@pytest.mark.parametrize("text,number", [("100 98.44", False), ("12 3", False), ("1 000.00", True), ("10 000 000.00", True),
                                         ("3, 013.00", True), ("98. 80", True)])
def test_two_numbers_in_one_cell_are_no_number(text, number):
    """Digits apart by a space are one number only where the space groups thousands:
    camelot wrote the total's weight and score as one cell (`100\\n98.44`), read as 10098.44."""
    from extractor.forms.numbers import is_number

    assert is_number(text) is number


def test_an_untitled_table_with_funds_levels_and_a_total_whose_indicator_head_was_lost_is_a_form(tmp_path):
    """camelot ran a Chromium print's indicator head together (`一级三级指 二级指标年度指标`)
    and keeps no title: no indicator was read, and the form was skipped as a look-alike
    (`no self-evaluation title`), silently. Funds, level labels and a total make it a form:
    it is read, and its indicators named as missing."""
    body = FORM[FORM.index("项目名称"):].replace("一级指标\t二级指标\t三级指标\t年度指标值\t实际完成值\t分值\t得分\t偏差原因分析及改进措施",
                                            "一级三级指 二级指标年度指标\t\t\t\t偏差原因分析及实际完成值分值")
    path = tmp_path / "camelot.txt"
    path.write_text(body, encoding="utf-8")
    result = extract_document(path)
    (form,) = result.forms
    assert form.project_name == "宣传工作经费" and result.skipped == []
    assert "indicators" in errors(form)["missing_field"]


def test_an_indicator_head_whose_block_label_lost_its_closing_bracket_is_the_head():
    """A scan reads Sichuan's merged `绩效指标(90分)` as `绩效指标(90分`: the row is still the
    indicators' head (before, no indicator was read and every row went to the goals)."""
    from extractor.forms.labels import label_key
    from extractor.forms.templates import VOCAB

    head = "一级指标二级指标三级指标指标性质指标值度量单位完成值权重得分未完成原因分析"
    assert VOCAB.is_indicator_header(label_key("绩效指标(90分)" + head))
    assert VOCAB.is_indicator_header(label_key("绩效指标(90分" + head))
    assert not VOCAB.is_indicator_header(label_key("绩效指标(90" + "项目基本情况"))


def test_a_target_named_names_its_printed_parts():
    """`target_parts` are the target's own cells (Sichuan: 指标性质 | 指标值 | 度量单位), a
    `number` is read from its name's cell (Anhui): an error on the target or the name
    names them, an error on another field does not."""
    from extractor.evaluate import named_by_error
    from extractor.models import Finding, ProjectForm

    form = ProjectForm(project_name="x", findings=[Finding(code="assembled_value", severity="error", field="indicators[9].target", message="cut")])
    assert named_by_error(form, "indicators[9].target_parts") and named_by_error(form, "indicators[9].target")
    assert not named_by_error(form, "indicators[8].target_parts") and not named_by_error(form, "indicators[9].actual")
    form.findings = [form.findings[0].model_copy(update={"field": "indicators[9].name"})]  # (Anhui's `指标7:` before the name)
    assert named_by_error(form, "indicators[9].number") and not named_by_error(form, "indicators[9].target_parts")


def test_the_remark_a_rows_label_names():
    """A remark's row is known by its label after a group label merged down beside it or
    a row number (camelot's index: `2 | 评价结论优`, amid the indicators' rows after a page
    break), whole, cut short by its cell, or misread by a scan — only a scan's reading
    (confidence under 1) is matched loosely, and only to a long label."""
    from extractor.forms.accounted import _remark_of_row
    from extractor.layout.page import Cell, Row

    def row(*texts, confidence=1.0):
        return Row(cells=[Cell(t, confidence=confidence) for t in texts], page=1)

    assert _remark_of_row(row("2", "评价结论优")) == ("评价结论", True)
    assert _remark_of_row(row("项目基本情况", "2.项目实施内容及过程概述", "按计划")) == ("项目实施内容及过程概述", True)
    assert _remark_of_row(row("", "2.项目实施内容及过", "按计划")) == ("项目实施内容及过程概述", False)
    assert _remark_of_row(row("2.项曰实施内容及过和概术", "按计划", confidence=0.6)) == ("项目实施内容及过程概述", False)
    assert _remark_of_row(row("2.项曰实施内容及过和概术", "按计划")) is None  # (printed so: no scan misread it)
    assert _remark_of_row(row("评价内容", "优", confidence=0.6)) is None  # (short labels: never loosely)
    assert _remark_of_row(row("产出指标", "评价结论")) is None  # (a remark's label is the row's first)
