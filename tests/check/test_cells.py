"""The neutral grid (issue 29 item 2): fields placed from the cells alone."""

from decimal import Decimal

from extractor.check.cells import Cells, check_cells, placed, with_cells
from extractor.layout.page import Cell, Row
from extractor.models import Indicator, ProjectForm


def _row(*texts: str) -> Row:
    """A row of a text export: cells in columns, no boxes."""
    return Row(cells=[Cell(t, col=j) for j, t in enumerate(texts)], page=1)


ROWS = [
    _row("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"),
    _row("产出指标", "数量指标", "功能模块建设数量", "=6.00(项)", "6.00(项)", "25.00", "25.00"),
    _row("", "时效", "平台上线应用时间", "符合计划安", "达成指标", "20.00", "20.00"),
    _row("", "指标", "", "排"),  # the wrapped lines of the row above, written as a row
    _row("总分", "", "", "100.00", "99.16"),  # the table's end: not the row above's lines
]


def _form(target: str = "符合计划安排", actual: str = "达成指标", weight: str = "20.00") -> ProjectForm:
    return ProjectForm(indicators=[
        Indicator(level1="产出指标", level2="数量指标", name="功能模块建设数量", target="=6.00(项)", actual="6.00(项)",
                  weight=Decimal("25.00"), score=Decimal("25.00")),
        Indicator(level1="产出指标", level2="时效指标", name="平台上线应用时间", target=target, actual=actual,
                  weight=Decimal(weight), score=Decimal("20.00"))])


def test_cells_are_placed_by_head_and_row_name_with_wrapped_lines_joined_and_the_total_left_out():
    cells = Cells.of(ROWS, "project")
    where = placed(_form(), cells)
    assert where["indicators[1].target"].text == "符合计划安排"  # (not "…安排100.00": the total row ends the table)
    assert where["indicators[1].actual"].text == "达成指标" and where["indicators[0].weight"].text == "25.00"
    assert (where["indicators[1].weight"].row, where["indicators[1].weight"].col) == (2, 5)
    assert check_cells(_form(), cells) == []


def test_a_value_its_cell_does_not_print_is_named_and_the_grid_holds_the_cells():
    cells = Cells.of(ROWS, "project")
    slipped = _form(actual="符合计划安排", weight="25.00")  # the target's text in the actual; the row above's weight
    found = {f.field: (f.code, f.expected) for f in check_cells(slipped, cells)}
    assert found == {"indicators[1].actual": ("misplaced_value", "达成指标"), "indicators[1].weight": ("misplaced_value", "20.00")}
    grid = with_cells(slipped, cells)
    assert grid.indicators[1].actual == "达成指标" and grid.indicators[1].weight == Decimal("20.00")
    assert slipped.indicators[1].actual == "符合计划安排"  # (a copy: the reading stays as read)


def test_a_name_carried_down_a_merged_cell_places_no_row():
    """One 三级指标 cell spanning rows (the department form): the reading repeats the name
    on each row, the cells print it once — no row of it is placed, none is guessed."""
    rows = [ROWS[0], _row("产出指标", "数量指标", "共同指标", "=1(项)", "1(项)", "5.00", "5.00"),
            _row("", "质量指标", "", "=2(项)", "2(项)", "5.00", "5.00")]
    form = ProjectForm(indicators=[Indicator(name="共同指标", target="=1(项)", actual="1(项)", weight=Decimal("5.00"), score=Decimal("5.00")),
                                   Indicator(name="共同指标", target="=2(项)", actual="2(项)", weight=Decimal("5.00"), score=Decimal("5.00"))])
    assert placed(form, Cells.of(rows, "project")) == {}


def test_a_row_a_converter_shifted_is_not_placed():
    """A crawler's pipes row that lost its merged 一级指标 cell: every cell a column left,
    the score under 分值 and nothing under 得分. Placed by column it would name the right
    reading's target and actual wrong (found in eval/renderings' pipes); it is not placed."""
    rows = [ROWS[0], _row("质量指标", "完成等保测评", "完成等保测评", "达成指标", "20.00", "20.00")]
    form = ProjectForm(indicators=[Indicator(level2="质量指标", name="完成等保测评", target="完成等保测评", actual="达成指标",
                                             weight=Decimal("20.00"), score=Decimal("20.00"))])
    assert placed(form, Cells.of(rows, "project")) == {} and check_cells(form, Cells.of(rows, "project")) == []
