"""Grids from word alignment: tables with row rules only, and borderless ones."""

from extractor.layout.alignment import borderless_regions
from extractor.layout.tables import tables_on_page
from extractor.layout.grid import Edge, words_to_rows
from extractor.layout.page import Word

H = 8.0


def word(text: str, x: float, y: float) -> Word:
    return Word(text, x, y, x + H * len(text), y + H)


def rows_of(words, edges=()):
    return [[c.text for c in r.cells] for r in words_to_rows(words, tables_on_page(list(edges), words), 1)]


def test_borderless_columns_rows_and_a_centred_merged_label():
    # Three indicator rows; the level label is centred over all three (it sits in
    # the middle row), the name of the second row wraps onto two lines.
    words = [word("一级", 40, 100), word("三级", 100, 100), word("分值", 200, 100), word("得分", 260, 100)]
    words += [word("甲", 100, 120), word("5.00", 200, 120), word("4.00", 260, 120)]
    words += [word("产出", 40, 140), word("乙乙", 100, 136), word("丙", 100, 146), word("5.00", 200, 141), word("5.00", 260, 141)]
    words += [word("丁", 100, 162), word("5.00", 200, 162), word("5.00", 260, 162)]
    words.insert(0, Word("财政项目支出绩效自评表", 60, 60, 60 + 13 * 11, 73))  # a heading: not in the table
    rows = rows_of(words)
    assert rows[0] == ["财政项目支出绩效自评表"]
    table = rows[1:]
    assert table[0] == ["一级", "三级", "分值", "得分"]
    # the merged label takes its first row; the rows below it are "merged from above"
    assert table[1] == ["产出", "甲", "5.00", "4.00"]
    assert table[2] == ["", "乙乙丙", "5.00", "5.00"]
    assert table[3] == ["", "丁", "5.00", "5.00"]


def test_row_rules_without_column_rules():
    ys = (100, 114, 128, 142)
    edges = [Edge(True, y, 30, 320) for y in ys]
    words = [word("项目", 40, 103), word("年初", 120, 103), word("全年", 200, 103),
             word("总额", 40, 117), word("82.00", 115, 117), word("66.02", 195, 117),
             word("其他", 40, 131), word("0.00", 120, 131), word("0.00", 200, 131)]
    assert rows_of(words, edges) == [["项目", "年初", "全年"], ["总额", "82.00", "66.02"], ["其他", "0.00", "0.00"]]


def test_a_single_cell_text_is_no_table():
    lines = [word("第一段文字", 40, 100 + 12 * i) for i in range(5)]
    assert borderless_regions(lines) == []
    assert all(len(r) == 1 for r in rows_of(lines))


def test_a_label_close_beside_a_paragraph_stays_its_own_cell():
    """A level label only 0.75 line heights from a wrapped paragraph, in a block
    too short to show that column boundary in many rows: the gap still parts them."""
    words = [word("分值", 120, 100), word("得分", 260, 100)]
    x_par = 40 + 2 * H + 0.8 * H
    words += [word("甲甲甲甲甲甲甲甲甲甲甲", x_par, 114), word("乙乙乙乙乙乙乙", 260, 114)]
    words += [word("目标", 40, 124), word("甲甲甲甲甲甲甲甲甲甲甲", x_par, 124), word("乙乙乙乙乙乙乙", 260, 124)]
    words += [word("甲甲甲", x_par, 134), word("乙乙", 260, 134)]
    cells = [c for r in rows_of(words) for c in r]
    assert "目标" in cells
    assert not any("目标" in c and "甲" in c for c in cells)


def test_a_label_centred_beside_row_labels_keeps_its_column():
    """Row rules only, the merged cell drawn without rules inside, its label centred a
    little off the lines beside four row labels: each row keeps its own label. (The
    fixture case this guards, where no column shows in the rows above, is measured by
    the born_digital_unruled floors in test_eval.)"""
    ys = (72, 86, 100, 114, 128, 142, 156)
    edges = [Edge(True, y, 30, 320) for y in ys[:3]] + [Edge(True, 156, 30, 320)]
    edges += [Edge(True, y, 72, 320) for y in ys[3:-1]]  # the merged cell has no rules inside
    words = [word("项目名称甲乙", 36, 75), word("宣传", 200, 75), word("主管部门丙丁", 36, 89), word("某局", 200, 89)]
    words += [word("资金", 36, 120)]  # centred over the rows, a little below a row label
    for i, (label, value) in enumerate((("总额", "82.00"), ("财政", "82.00"), ("结转", "0.00"), ("其他", "0.00"))):
        words += [word(label, 92, ys[i + 2] + 3), word(value, 200, ys[i + 2] + 3)]
    rows = rows_of(words, edges)
    assert [[c for c in r if c][-2:] for r in rows[2:]] == [["总额", "82.00"], ["财政", "82.00"], ["结转", "0.00"], ["其他", "0.00"]]
    assert not any("资金" in c and "总额" in c for r in rows for c in r)


def test_words_inside_rulings_too_close_to_make_a_cell_stay_free_text():
    """Two rules 1 pt apart snap to one line: the 'table' has no cell, and the word
    between them must come out as text, not vanish."""
    from extractor.layout.grid import edge_groups, rects_to_edges, ruled_tables

    edges = rects_to_edges([], [(0, 100, 200, 100), (0, 101, 200, 101), (0, 99, 0, 102), (200, 99, 200, 102)])
    tables = ruled_tables(edge_groups(edges))
    assert len(tables) == 1
    rows = words_to_rows([Word("标题", 50, 96, 80, 104), Word("正文", 50, 120, 80, 128)], tables, 1)
    assert [r.texts for r in rows] == [["标题"], ["正文"]]


def test_a_grid_drawn_cell_by_cell_merges_cells_no_ruling_separates():
    """Each cell drawn as its own rectangle (every inner border twice), and one cell
    spanning two rows: the duplicate borders must not split it."""
    from extractor.layout.grid import edge_groups, rects_to_edges, ruled_tables, table_to_cells

    rects = [(0, 0, 50, 40), (50, 0, 100, 20), (50, 20, 100, 40), (0, 40, 50, 60), (50, 40, 100, 60)]
    (table,) = ruled_tables(edge_groups(rects_to_edges(rects, [])))
    xs, ys, cells = table_to_cells(table)
    assert xs == [0, 50, 100] and ys == [0, 20, 40, 60]
    assert sorted((c.r0, c.r1, c.c0, c.c1) for c in cells) == [(0, 0, 1, 1), (0, 1, 0, 0), (1, 1, 1, 1), (2, 2, 0, 0), (2, 2, 1, 1)]
    rows = words_to_rows([Word("一级指标", 5, 25, 45, 33), Word("10.00", 60, 5, 90, 13)], [table], 1)
    assert [r.texts for r in rows] == [["一级指标", "10.00"], ["", ""], ["", ""]]


def test_a_row_carried_to_a_new_page_without_its_top_border_is_a_row():
    """A browser prints a table row carried to the next page with its column rules from
    the paper's margin down and no top border (that border was the row above's, on the
    page before): the row is closed at the rules' common top, and its words are its
    cells — not text outside the table. One column rule running past is no such row."""
    from extractor.layout.grid import edge_groups, rects_to_edges, ruled_tables

    columns = [(x, 28, x, 130) for x in (0, 50, 100, 150)]
    rows = [(0, y, 150, y) for y in (85, 130)]
    (table,) = ruled_tables(edge_groups(rects_to_edges([], columns + rows)))
    words = [Word("课题成果", 5, 40, 45, 50), Word("有效", 60, 40, 90, 50), Word("10", 110, 40, 130, 50),
             Word("获奖数", 5, 100, 45, 110), Word("=1", 60, 100, 90, 110), Word("10", 110, 100, 130, 110)]
    assert [r.texts for r in words_to_rows(words, [table], 6)] == [["课题成果", "有效", "10"], ["获奖数", "=1", "10"]]
    # a lone rule above the table (a margin mark, one column drawn long) closes nothing
    (table,) = ruled_tables(edge_groups(rects_to_edges([], [(0, 28, 0, 130)] + [(x, 85, x, 130) for x in (50, 100, 150)] + rows)))
    assert min(e.pos for e in table.edges if e.horizontal) == 85


def test_collinear_pieces_of_a_ruling_are_one_edge_and_a_gap_keeps_two():
    from extractor.layout.grid import Edge, rects_to_edges

    cells = [(x, y, x + 50, y + 20) for x in (0, 50, 100) for y in (0, 20)]  # 3 × 2, cell by cell
    edges = sorted(rects_to_edges(cells, []))
    assert edges == sorted([Edge(True, y, 0, 150) for y in (0, 20, 40)] + [Edge(False, x, 0, 40) for x in (0, 50, 100, 150)])
    # a rule broken by a visible gap (2 pt) stays two edges; pieces 0.2 pt apart are one
    edges = rects_to_edges([], [(0, 5, 40, 5), (42, 5, 80, 5), (80.2, 5, 120, 5)])
    assert sorted(edges) == [Edge(True, 5, 0, 40), Edge(True, 5, 42, 120)]


def test_a_label_centred_over_a_tall_row_and_the_next_takes_both():
    """A level label centred over two rows whose first holds a wrapped name: the
    centre of the two falls inside the first row, where the label is. The label
    below it, centred over three rows, must then still find its own three."""
    words = [word("二级", 40, 100), word("三级", 100, 100), word("分值", 200, 100), word("得分", 260, 100)]
    words += [word("甲甲甲甲甲", 100, 120), word("甲", 100, 130), word("5.00", 200, 125), word("5.00", 260, 125)]
    words += [word("质量", 40, 133)]
    words += [word("乙", 100, 146), word("5.00", 200, 146), word("5.00", 260, 146)]
    for name, y in (("丙", 166), ("丁", 182), ("戊", 198)):
        words += [word(name, 100, y), word("5.00", 200, y), word("5.00", 260, y)]
    words += [word("时效", 40, 179.5)]  # centred over the three rows
    rows = [[c for c in r] for r in rows_of(words)]
    assert rows[0] == ["二级", "三级", "分值", "得分"]
    assert [r[:2] for r in rows[1:]] == [["质量", "甲甲甲甲甲甲"], ["", "乙"], ["时效", "丙"], ["", "丁"], ["", "戊"]]


def test_a_row_boundary_passes_beside_a_wrapped_name_not_through_it(root):
    """The borderless fixture's first page: a wrapped name (上海与云南…劳务 / 协作关系)
    ends just as a two-line label centred over the rows below begins. The gap under
    the name and the gap before the label cross one text block each; the boundary
    must cross the label (a column with few blocks), not the name."""
    import pymupdf

    from extractor.read.pdf import read_page

    page = pymupdf.open(root / "fixtures" / "pdf" / "borderless.pdf")[0]
    cells = [c.text for r in read_page(page).rows for c in r.cells]
    assert "上海与云南对口地区劳务协作关系" in cells
    assert "对区级失业情况的掌握度" in cells


def test_a_wrapped_label_centred_over_rows_takes_them_all():
    """A level label wrapped onto a second line that falls in the next row, centred
    over four rows: it is one label over the four, not two labels."""
    words = [word("一级", 40, 95), word("三级", 100, 95), word("分值", 200, 95), word("得分", 260, 95)]
    for name, y in (("甲", 112), ("乙", 128), ("丙", 144), ("丁", 160)):
        words += [word(name, 100, y), word("5.00", 200, y), word("5.00", 260, y)]
    words += [Word("投入管", 40, 129.05, 64, 137.05), Word("理", 48, 139.45, 56, 147.45)]
    rows = rows_of(words)
    assert [r[:2] for r in rows[1:]] == [["投入管理", "甲"], ["", "乙"], ["", "丙"], ["", "丁"]]


def test_the_last_label_below_the_middle_of_its_rows_runs_on_to_the_next_page():
    """A level label centred over rows that continue on the next page sits below the
    middle of its rows on this page: it holds every row from the previous label's end
    to the table's, not only its own (the rows above it are not the previous label's)."""
    words = [word("一级", 40, 95), word("三级", 100, 95), word("分值", 200, 95), word("得分", 260, 95)]
    for name, y in (("甲", 112), ("乙", 128), ("丙", 144), ("丁", 160), ("戊", 176), ("己", 192)):
        words += [word(name, 100, y), word("5.00", 200, y), word("5.00", 260, y)]
    words += [word("投入", 40, 119.75), word("产出", 40, 180)]  # 投入 centred over 甲乙; 产出 low
    rows = rows_of(words)
    assert [r[:2] for r in rows[1:]] == [["投入", "甲"], ["", "乙"], ["产出", "丙"], ["", "丁"], ["", "戊"], ["", "己"]]


def test_a_cells_lines_cut_by_the_page_break_stay_in_the_table():
    """A borderless continuation page (no header): the first name's first line sits
    alone above its row's values (its second line below them), and the last name's
    second line alone at the page foot. Both are the cell's, not free text; a note set
    a padded row's distance under the table is not."""
    words = [word("社保达标", 100, 91), word("=100", 200, 97), word("1.00", 260, 97), word("率", 100, 102)]
    for i, name in enumerate(("甲甲", "乙乙", "丙丙")):
        y = 120 + 16 * i
        words += [word(name, 100, y), word("=100", 200, y), word("1.00", 260, y)]
    words += [word("设施合格", 100, 170), word("=100", 200, 175), word("1.00", 260, 175), word("率", 100, 181)]
    words += [word("注释说明", 100, 198)]  # 9 points under the last line: after the table
    rows = rows_of(words)
    names = [r[0] for r in rows]
    assert names[0] == "社保达标率" and "设施合格率" in names
    assert names[-1] == "注释说明" and len(rows[-1]) == 1  # free text, its own line
    assert not any(r == ["率"] or r == ["社保达标"] for r in rows)


def test_labels_centred_below_a_span_cut_by_the_page_break(root):
    """The borderless fixture's department form, its second page: the 质量指标 span
    began on the page before, so walking down no row says where the next span starts;
    walking up from the foot every label's span falls on row boundaries, and each
    label lands in its span's first row."""
    import pymupdf

    from extractor.read.pdf import read_page

    page = pymupdf.open(root / "fixtures" / "pdf" / "borderless.pdf")[6]
    rows = [[c.text for c in r.cells] for r in read_page(page).rows]

    def row_of(name):
        return next(r for r in rows if name in r)

    assert "时效指标" in row_of("补贴资金发放及时性")
    assert "社会效益指标" in row_of("新增就业人口指标达标率") and "效益指标" in row_of("新增就业人口指标达标率")
    assert "35" in row_of("新增就业人口指标达标率")
    assert "满意度指标" in row_of("部门满意度") and "服务对象满意度指标" in row_of("部门满意度")
    assert "可持续影响指标" in row_of("长效管理机制健全性")
