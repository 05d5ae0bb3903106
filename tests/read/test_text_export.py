"""The quirks of real text exports, each on the seed row that shows it."""

from extractor.forms.mapping import map_form
from extractor.forms.segment import iter_form_rows
from extractor.read.text_export import _pipe_rule, html_tables_to_tsv, pipe_cells, read_text_export
from folders import ROOT


def forms_of(root, stem):
    text = (root / "fixtures" / "text" / f"{stem}.txt").read_text(encoding="utf-8")
    return [map_form(fr) for fr in iter_form_rows(read_text_export(text).rows)]


def by_name(forms, name):
    return next(f for f in forms if (getattr(f, "project_name", None) or f.department) == name)


def test_project_name_printed_above_its_label(root):
    f = by_name(forms_of(root, "002_dc4befe519062102"), "教育培经费")
    assert f.project_name == "教育培经费"
    assert any("above its label" in n for n in f.notes)


def test_repeated_row_is_dropped_once(root):
    f = by_name(forms_of(root, "001_4588a3eccc5d7ba5"), "“靠谱职”就业服务信息化平台")
    assert len(f.indicators) == 10
    assert sum(i.weight for i in f.indicators) == 90


def test_row_cut_across_pages_is_joined(root):
    f = by_name(forms_of(root, "001_4588a3eccc5d7ba5"), "普陀区职业技能培训综合监管一件事运营平台建设项目")
    row = next(i for i in f.indicators if i.name == "平台上线应用时间")
    assert (row.level2, row.target) == ("时效指标", "符合计划安排")


def test_level_cut_by_page_break_is_joined(root):
    f = by_name(forms_of(root, "001_4588a3eccc5d7ba5"), "劳动仲裁业务经费")
    assert f.indicators[-1].level2 == "服务对象满意度指标"
    assert f.indicators[-1].level1 == "满意度指标"


def test_shifted_row_and_fragment_do_not_leak_into_names(root):
    f = by_name(forms_of(root, "001_4588a3eccc5d7ba5"), "新疆支青稳定专项经费")
    assert f.indicators[-1].name == "新疆支青、异退人员满意度"
    assert f.indicators[-1].level2 == "服务对象满意度指标"


def test_level1_label_printed_mid_run_covers_the_run(root):
    f = by_name(forms_of(root, "003_4494185c10663b20"), "残疾人就业支持服务")
    assert {i.level1 for i in f.indicators[:17]} == {"产出指标"}


def test_total_row_without_label(root):
    f = by_name(forms_of(root, "002_dc4befe519062102"), "课题（规划）等研究经费")
    assert str(f.total_score) == "99" and f.total_weight == 100


def test_department_form(root):
    (f,) = forms_of(root, "004_f03db79725452826")
    assert f.kind == "department" and f.funding_unit == "元"
    weights = {i.level1: i.level1_weight for i in f.indicators}
    assert weights == {"投入管理指标": 30, "产出指标": 25, "效益指标": 35, "满意度指标": 10}
    assert str(f.funding.fiscal.annual_budget) == "82368086.83"
    assert f.indicators[1].name == f.indicators[0].name  # merged 三级指标 cell carried


def test_missing_funding_score_column_is_left_empty(root):
    f = by_name(forms_of(root, "001_4588a3eccc5d7ba5"), "普陀区劳动关系信息管理平台建设项目")
    assert str(f.funding.total.execution_rate) == "94.46" and f.funding.total.score is None


def test_html_table_export():
    html = "<h1>财政项目支出绩效自评表</h1><table><tr><td>项目名称</td><td>测试项目</td></tr></table>"
    rows = read_text_export(html_tables_to_tsv(html)).rows
    assert any(r.texts[:2] == ["项目名称", "测试项目"] for r in rows)


def test_a_merged_name_centred_over_its_block_names_the_rows_above_it(root):
    """The 投入管理 block's one name over all its rows, printed in its middle row (a
    borderless table has no rules to put it in the block's first row): every row of
    the block takes it, the rows above the name as well as those below."""
    text = (root / "fixtures" / "text" / "004_f03db79725452826.txt").read_text(encoding="utf-8")
    name = "根据沪财绩【2022】13号文的规定要求设置三级指标和指标值"
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if "预算编审管理" in line)
    assert name in lines[first] and "预算绩效管理" in lines[first + 2]
    lines[first] = lines[first].replace(name, "")
    lines[first + 2] = lines[first + 2].replace("预算绩效管理\t", "预算绩效管理\t" + name, 1)
    forms = [map_form(fr) for fr in iter_form_rows(read_text_export("\n".join(lines)).rows)]
    block = [i for f in forms for i in f.indicators if i.level1 == "投入管理指标"]
    assert len(block) == 7
    assert [i.name for i in block] == [name] * 7


def _as_markdown(text: str) -> str:
    """A tab-separated export rewritten as a PDF-to-markdown converter writes tables:
    `| a | b |` rows, a `|---|` rule under each table's first row, bars escaped."""
    out, in_table = [], False
    for line in text.split("\n"):
        if "\t" in line:
            cells = [c.replace("|", "\\|") for c in line.split("\t")]
            out.append("| " + " | ".join(cells) + " |")
            if not in_table:
                out.append("|" + ":---|" * len(cells))
            in_table = True
        else:
            out.append(line)
            in_table = False
    return "\n".join(out)


def test_markdown_pipe_tables_read_like_the_tab_separated_export(root):
    for path in sorted((root / "fixtures" / "text").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        tsv = [map_form(fr).model_dump(exclude={"provenance"}) for fr in iter_form_rows(read_text_export(text).rows)]
        md = [map_form(fr).model_dump(exclude={"provenance"}) for fr in iter_form_rows(read_text_export(_as_markdown(text)).rows)]
        assert md == tsv and tsv, path.name


def test_pipe_rows_and_rules():
    assert pipe_cells("| 项目名称 | a \\| b |  |") == ["项目名称", "a | b", ""]
    assert pipe_cells("年度 | 2023") is None  # not bordered: plain text
    assert _pipe_rule("| --- | :--: |") and _pipe_rule("|---|---")
    assert not _pipe_rule("| - | - |")  # a row of empty values, not a rule


def test_an_export_read_in_pieces_gives_the_rows_of_the_whole(root):
    """A large export is read a megabyte at a time: cut into pieces of any size, a TSV
    export, a markdown one and an HTML one with comments and scripts crossing the cuts
    give the rows they give whole."""
    from extractor.read.text_export import export_lines, export_rows

    tsv = (root / "fixtures" / "text" / "001_4588a3eccc5d7ba5.txt").read_text(encoding="utf-8").replace("\n", "\r\n")
    rows = [line.split("\t") for line in tsv.split("\r\n")]
    html = ("<html><!-- a comment <tr><td>项目名称</td><td>hidden</td></tr> that runs on -->\n<table>"
            + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + ("</tr>" if i % 3 else "") + (
                "<script>\n<tr><td>项目名称</td><td>injected</td></tr>\n</script>" if i % 50 == 7 else "")
                for i, r in enumerate(rows)) + "</table></html>")
    markdown = "\n".join("| " + " | ".join(r) + " |" for r in rows)
    for text in (tsv, html, markdown):
        whole = [(r.texts, r.line, r.in_table, r.page_break_before) for r in read_text_export(text).rows]
        assert len(whole) > 40 and not any("injected" in t or "hidden" in t for r in whole for t in r[0])
        for size in (1, 7, 100, 4096):
            pieces = [text[i: i + size] for i in range(0, len(text), size)]
            cut = [(r.texts, r.line, r.in_table, r.page_break_before) for r in export_rows(export_lines(pieces))]
            assert cut == whole, (size, text[:20])


def test_an_export_with_no_cut_for_long_is_read_whole_from_there(root, monkeypatch):
    """A script left open near the top leaves no place to cut: past `_HOLD` characters
    the rest is taken whole (trying again at every piece rescanned the buffer each
    time: 20 MB took 9.3 s, now 1.4 s), with the rows the whole text gives."""
    from extractor.read import text_export
    from extractor.read.text_export import export_lines, export_rows

    monkeypatch.setattr(text_export, "_HOLD", 300)
    rows = (root / "fixtures" / "text" / "001_4588a3eccc5d7ba5.txt").read_text(encoding="utf-8").splitlines()
    table = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r.split("\t")) + "</tr>" for r in rows)
    for text in ("<table>" + table[:2000] + "<script>" + table[2000:4000] + "</script>" + table[4000:] + "</table>",
                 "<html><script>" + table + "</table>"):
        whole = [(r.texts, r.line) for r in read_text_export(text).rows]
        pieces = [text[i: i + 50] for i in range(0, len(text), 50)]
        assert [(r.texts, r.line) for r in export_rows(export_lines(pieces))] == whole


def test_text_as_crawlers_write_it_keeps_its_rows_and_cells():
    """A cell a line with a trailing bar (a row's run up to a blank line), `a | b | c |`
    with no leading bar, cells apart by runs of spaces."""
    from extractor.read.text_export import read_text_export

    text = ("财政项目支出绩效自评表\n\n项目名称 |\n军转工作经费 |\n\n主管部门 | 上海市退役军人事务局 | 实施单位 | 上海市退役军人服务中心 |\n"
            "年度资金总额  889.25  889.25  883.43  10.00  99.34  9.93\n首页 | 政务公开\n")
    assert [[c.text for c in r.cells] for r in read_text_export(text).rows] == [
        ["财政项目支出绩效自评表"], ["项目名称", "军转工作经费"], ["主管部门", "上海市退役军人事务局", "实施单位", "上海市退役军人服务中心"],
        ["年度资金总额", "889.25", "889.25", "883.43", "10.00", "99.34", "9.93"], ["首页 | 政务公开"]]


def test_a_form_on_one_line_is_found_by_its_title_and_read_poorly(tmp_path):
    """A crawler's rendering with no table left (figures run together): never 'no form
    found' when a form's title is printed."""
    from extractor.pipeline import extract_document

    path = tmp_path / "one-line.txt"
    path.write_text("部门预算项目支出绩效自评表(2022年度)项目名称某某项目主管部门某局年度资金总额:202010100.00%10一级指标产出指标\n",
                    encoding="utf-8")
    (form,) = extract_document(path).forms
    assert (form.title, form.year) == ("部门预算项目支出绩效自评表", 2022)
    assert any(f.code == "read_poorly" and f.severity == "error" for f in form.findings)


def test_a_long_line_of_spaces_or_bars_costs_what_its_length_costs():
    """A 30,000-character line of spaces (with a bar, a rule, a cell) under a form: two
    patterns backtracked over it for seconds (a line of 4,000 spaces took 20 s). Timed
    against the same export without the line, in this run: not a wall-clock bound."""
    import time

    from extractor.read.text_export import export_rows

    text = (ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt").read_text(encoding="utf-8")

    def seconds(extra: str) -> float:
        # (the least of five: a load spike on a shared machine lengthens one pass, not all five)
        lines = (text + "\n" + extra + "\n").splitlines()
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            list(export_rows(lines))
            best = min(best, time.perf_counter() - started)
        return best

    base = seconds("")
    for tail in (" " * 30000, " " * 30000 + "|", "|" + " " * 30000 + "---|", "a" + " " * 30000 + "b |", "| - " * 7500):
        assert seconds(tail) < 20 * base + 0.05, repr(tail[:12])


PROSE = "本年度我单位认真贯彻落实各项工作部署，持续推进预算绩效管理。"


def _rows_of(text: str):
    from extractor.read.text_export import export_lines, export_rows

    return list(export_rows(export_lines([text])))


def test_a_long_run_of_prose_is_one_row_and_the_lines_after_it_keep_their_numbers():
    """The middle of 1,000 lines of prose is one row (not a row each: a 200 MB export
    of filler read at a row's cost per line); the run's first and last lines are rows
    of their own, and every row after it has the line number it has in the file."""
    seed = (ROOT / "fixtures" / "text" / "004_f03db79725452826.txt").read_text(encoding="utf-8")
    text = seed + "\n" + (PROSE + "\n") * 1000 + seed
    rows = _rows_of(text)
    prose = [r for r in rows if r.prose]
    assert len(prose) == 1 and prose[0].cells[0].text.count("\n") == 1000 - 2 * 8 - 1
    lines = text.split("\n")
    for r in rows:
        if not r.prose:
            assert lines[r.line - 1].strip().startswith(r.cells[0].text.strip()[:4] or "") or not r.cells[0].text, r.line
    assert [r.line for r in rows if not r.prose][-1] == max(i for i, line in enumerate(lines, 1) if line.strip())


def test_prose_is_read_as_it_was_and_breaks_at_a_title_a_digit_or_a_cell(tmp_path, monkeypatch):
    """Forms around, inside and after runs of prose are read as when each line was a row
    (the same forms, values, findings and confidence): a title (…绩效自评表) in the middle
    of a run, a long label row as its last line; the document says how many lines it
    kept out of the forms. Digits, cells and markup end a run."""
    import re

    from extractor.pipeline import extract_document
    from extractor.read import text_export

    block = (PROSE + "\n") * 100
    cases = []
    for stem in ("000_01aad9c628fef0c3", "004_f03db79725452826"):
        seed = (ROOT / "fixtures" / "text" / f"{stem}.txt").read_text(encoding="utf-8")
        cases += [seed + block + seed, block + seed + block, seed + block + "《项目支出绩效自评表》\n" + block + seed,
                  seed + block + "项目名称：上海市闵行区浦锦街道社区事务受理服务中心所属各单位的公共服务运行保障经费\n" + seed]
    for i, text in enumerate(cases):
        path = tmp_path / f"{i}.txt"
        path.write_text(text, encoding="utf-8")
        with_runs = extract_document(path)
        with monkeypatch.context() as m:
            m.setattr(text_export, "_PROSE", re.compile("(?!)"))  # (never matches: every line a row, as before)
            line_by_line = extract_document(path)
        # The same forms, values and findings; where the prose followed a form's rows (no
        # blank line between) each line read alone was an `ignored row` of its table,
        # now the form says it once, and no line of prose lowers its confidence.
        # (and the confidence a read_poorly finding quotes)
        same = {"provenance", "notes", "confidence", "findings"}
        assert with_runs.forms and [f.model_dump(exclude=same) for f in with_runs.forms] == \
            [f.model_dump(exclude=same) for f in line_by_line.forms], i
        for a, b in zip(with_runs.forms, line_by_line.forms):
            assert [(x.code, x.severity, x.field) for x in a.findings] == [(x.code, x.severity, x.field) for x in b.findings], i
            assert a.confidence >= b.confidence
            assert {n for n in a.notes if "lines of narrative" not in n} <= set(b.notes), i
        assert sum(1 for f in with_runs.forms for n in f.notes if "lines of narrative after its rows" in n) >= 1, i
        assert any(re.match(r"\d+ lines of narrative", n) for n in with_runs.notes) and not line_by_line.notes, i
    for breaker in ("2023年度工作总结如下所述的各项内容均已经完成并且通过了验收。", "项目名称\t经费", "一|二|三|四|五|六|七|八|九|十|十一|十二|十三|十四|十五|十六|十七|十八|十九|二十|二十一|二十二",
                    "本单位年度项目支出绩效自评情况良好，各项指标均达到预期目标要求。", "## 本年度我单位认真贯彻落实各项工作部署，持续推进预算绩效管理。"):
        text = (PROSE + "\n") * 60 + breaker + "\n" + (PROSE + "\n") * 60
        assert not any(r.prose for r in _rows_of(text)), breaker  # (60 lines on each side: each too short a run; 121 would be one)
    assert any(r.prose for r in _rows_of((PROSE + "\n") * 121))


def test_columns_a_converter_split_in_two_are_read_as_one_up_to_the_next_form():
    """pymupdf4llm on a table continued after a page break: each column a merged cell's
    ruling crosses comes out twice, the first row naming the twin `ColN`; the rows are
    read with one of each pair, and the cells keep their place in the line. The rows of
    the next form in the same markdown table (not so split) are left as they are, and two
    columns that merely agree under real heads are never taken for twins."""
    from extractor.read.text_export import export_rows

    lines = [
        "|效益指标|35|社会效益指标|Col4|劳动争议先行调解率|Col6|=100.00(%)|Col8|2.00|Col10|Col11|",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        "|效益指标|35|社会效益指标|社会效益指标|失业人口指标控制率|失业人口指标控制率|≤100.00(%)|≤100.00(%)|2.00|2.00||",
        "|效益指标|35|社会效益指标|社会效益指标|窗口受理事件有效处置率|窗口受理事件有效处置率|=100.00(%)|=100.00(%)|2.00|2.00||",
        "|项目名称|项目名称|普陀区劳动关系信息管理平台建设项目|普陀区劳动关系信息管理平台建设项目|x|y|||||",
    ]
    rows = list(export_rows(lines))
    assert [c.text for c in rows[1].cells] == ["效益指标", "35", "社会效益指标", "失业人口指标控制率", "≤100.00(%)", "2.00"]
    assert [c.ref for c in rows[1].cells] == ["L3C1", "L3C2", "L3C3", "L3C5", "L3C7", "L3C9"]
    assert [c.col for c in rows[1].cells] == [0, 1, 2, 3, 4, 5]
    assert [c.text for c in rows[0].cells][:4] == ["效益指标", "35", "社会效益指标", "劳动争议先行调解率"]
    assert len(rows[3].cells) == 6  # (the next form's row: as printed)
    agree = ["|指标|分值|得分|", "|---|---|---|", "|a|2.00|2.00|", "|b|3.00|3.00|", "|c|5.00|5.00|"]
    assert [[c.text for c in r.cells] for r in export_rows(agree)][1:] == [["a", "2.00", "2.00"], ["b", "3.00", "3.00"],
                                                                         ["c", "5.00", "5.00"]]


def test_a_page_a_converter_split_column_by_column_is_read_from_its_twinned_heads():
    """pymupdf4llm on a page of merged cells: every column twice, the head row printing
    each column head twice side by side (no ColN to mark it). From that head down, one
    of each pair is read; the rows above it (identity cells merged over several columns)
    and a table whose equal neighbours nothing marks as twins are left as printed."""
    from extractor.read.text_export import export_rows

    lines = [
        "|主管部门|主管部门|主管部门|上海市某局|上海市某局|上海市某局|上海市某局|",
        "|项目资金|||年初预算数|年初预算数|全年预算数|全年预算数|全年执行数|全年执行数|得分|得分|",
        "|项目资金|年度资金总额|年度资金总额|86.52|86.52|86.52|86.52|81.73|81.73|9.45|9.45|",
        "|一级指标|二级指标|二级指标|三级指标|三级指标|年度指标值|年度指标值|实际完成值|实际完成值|分值|分值|",
        "|成本指标|经济成本指标|经济成本指标|预算执行率|预算执行率|≥90.00(%)|≥90.00(%)|100.00(%)|100.00(%)|10.00|10.00|",
    ]
    rows = [[c.text for c in r.cells] for r in export_rows(lines)]
    assert rows[0] == ["主管部门", "主管部门", "主管部门", "上海市某局", "上海市某局", "上海市某局", "上海市某局"]
    assert rows[2] == ["项目资金", "年度资金总额", "86.52", "86.52", "81.73", "9.45"]
    assert rows[4] == ["成本指标", "经济成本指标", "预算执行率", "≥90.00(%)", "100.00(%)", "10.00"]
    # budgets that agree, in a table no converter marked: as printed
    plain = ["|项目|年初预算数|全年预算数|全年执行数|执行率|", "|---|---|---|---|---|",
             "|(1)财政拨款|76,648,854.61|76,648,854.61|76,094,848.04|99.27|",
             "|(2)项目支出|5.00|5.00|5.00|100.00|", "|(3)其他资金|0.00|0.00|0.00|0.00|"]
    assert [len(r.cells) for r in export_rows(plain)] == [5, 5, 5, 5]


def test_a_frame_of_two_columns_has_its_header_of_indices_left_out():
    """camelot writes a table of two columns (a row's end a page break cut off) with the
    header `<corner> 0 1`: it is no row of the form (its 0 and 1 had been read as the
    total's weight and score). Without the empty corner, two cells `0 1` may be a row."""
    from extractor.read.text_export import _is_frame_header

    assert _is_frame_header(["", "0", "1"]) and _is_frame_header(["", "0", "1", "2"]) and _is_frame_header(["0", "1", "2"])
    assert not _is_frame_header(["0", "1"]) and not _is_frame_header(["", "0"]) and not _is_frame_header(["", "1", "2"])


def test_short_rows_beneath_a_level_cell_carry_it_and_only_a_break_puts_it_in_doubt():
    """A crawler leaves a merged cell out beneath its first row: the short rows after a
    row that prints its level cells carry them, unnamed (every row of every crawled form
    was named, `a page break split the table`). Past a page break (a blank line in a
    parser's TSV) with no level cell printed since, the carried labels may be the next
    group's: named."""
    head = ("项目支出绩效自评表\n项目名称 | 工作经费 |\n"
            "一级指标 | 二级指标 | 三级指标 | 年度指标值 | 实际完成值 | 分值 | 得分 | 偏差原因分析及改进措施 |\n"
            "产出指标 | 数量指标 | 招聘会场数 | ≥20(场) | 20(场) | 10 | 10 |\n"
            "培训人次 | ≥90(人次) | 95(人次) | 10 | 10 |\n")
    tail = "满意度 | ≥90(%) | 95(%) | 10 | 10 |\n总分 | 100 | 99 |\n"
    for text, named in ((head + tail, set()), (head + "\n\n" + tail, {"indicators[2].level1", "indicators[2].level2"})):
        (form,) = [map_form(fr) for fr in iter_form_rows(read_text_export(text).rows)]
        assert [(i.level1, i.level2, i.name) for i in form.indicators] == [("产出指标", "数量指标", n) for n in ("招聘会场数", "培训人次", "满意度")]
        assert {f.field for f in form.findings if f.code == "assembled_value"} == named, text
