"""What the parsers people use make of the born-digital fixtures (eval/parsers.py):
pymupdf4llm's Markdown, pdfplumber's tables as TSV, camelot's `to_csv(sep="\\t")` and
`to_html()`. Every form is found, and a wrong value is named by an error."""

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "eval"))


def test_a_page_break_inside_a_merged_level_cell_is_named(tmp_path):
    """pdfplumber prints a level cell split by a page break on its second page only: the
    rows above the break are carried into the group before (产出指标 / 时效指标). The
    level-1 weights the department form prints disagree with the sums, and that error
    names the rows' groups; nothing else of the form is silently wrong."""
    pytest.importorskip("pdfplumber")
    import parsers

    from extractor.eval_sets import EvalDocument, load_manifest
    from extractor.evaluate import evaluate

    (doc,) = [d for d in load_manifest(ROOT / "fixtures" / "pdf" / "manifest.json") if d.path.name == "department_and_project.pdf"]
    tsv = parsers.pdfplumber_tsv(doc.path, tmp_path)
    t = evaluate([EvalDocument(tsv, "pdfplumber", doc.gold)])["types"]["pdfplumber"]
    assert t["forms_found"] == t["forms_expected"] == 2
    assert t["silent_errors"] == 0
    wrong = {d["field"] for w in t["wrong"] for d in w["diffs"]}
    assert "indicators[30].level1" in wrong  # (the page break's rows: read wrong, and named)


@pytest.mark.parametrize("parser", ["pymupdf4llm_md", "pdfplumber_tsv"])
def test_chongqings_department_form_through_the_parsers(tmp_path, parser):
    """Chongqing's form as pymupdf4llm writes it (a merged cell in every column it spans,
    部门预算执行情况 repeated before the figures, the last figure once more past the header's
    last label) is read exactly; as pdfplumber writes it (its tables, not the title above
    them) every form is found, the title and year named as not found and the rest exact.
    Before: pymupdf4llm's funding block not read, pdfplumber's document no form."""
    pytest.importorskip("pymupdf4llm" if parser.startswith("pymupdf4llm") else "pdfplumber")
    import parsers

    from extractor.eval_sets import EvalDocument, load_manifest
    from extractor.evaluate import evaluate

    (doc,) = [d for d in load_manifest(ROOT / "fixtures" / "provinces" / "manifest.json") if d.doc_type == "chongqing_pdf"]
    t = evaluate([EvalDocument(getattr(parsers, parser)(doc.path, tmp_path), parser, doc.gold)])["types"][parser]
    assert t["forms_found"] == t["forms_expected"] == 2 and t["silent_errors"] == 0
    wrong = {d["field"] for w in t["wrong"] for d in w["diffs"]}
    assert wrong == (set() if parser == "pymupdf4llm_md" else {"title", "year"})


@pytest.mark.slow
def test_every_parser_export_finds_every_form():
    pytest.importorskip("pymupdf4llm")
    pytest.importorskip("camelot")
    import parsers

    types = parsers.run()
    for name, t in types.items():
        assert t["forms_found"] == t["forms_expected"] == 48, name
        assert t["field_accuracy"]["overall"] >= 0.94, name
    for name in ("pymupdf4llm", "pdfplumber_tsv"):
        assert types[name]["silent_errors"] == 0, name
    # camelot writes the first line of a wrapped cell into the cell before it (盲人按摩管理工作:
    # `医疗按摩实训基地建设扶持 有效提高盲人医` | `疗按摩人员专业\n技术水平`): both cells named
    for name in ("camelot_tsv", "camelot_html"):
        assert types[name]["silent_errors"] == 0, name


def test_cells_whose_lines_a_converter_interleaved_are_doubted_with_the_cells_they_traded_with():
    """camelot writes a line holding the end of one row's wrapped name and the start of
    the next row's into one cell (`"性 结\\n结对帮扶工作开展规范"`), or the first line of a
    wrapped cell into the cell beside it: each such cell, and the cells it may have
    traded characters with, carry a doubt (an error on the field read from them).
    A spaced label on one line beside cells of one line is no sign."""
    from extractor.layout.page import BESIDE_INTERLEAVED, INTERLEAVED, INTERLEAVED_ACROSS
    from extractor.read.text_export import export_rows

    lines = ["13\t\t质量指标\t帮困对象准确性\t准确",
             '14\t\t\t"性 结', '结对帮扶工作开展规范"\t规范',
             '15\t\t时效指标\t"对帮扶经费支出规范', '性"\t规范',
             '16\t\t\t医疗按摩实训基地建设扶持 有效提高盲人医\t"疗按摩人员专业', '技术水平"',
             "17\t\t\t合 计\t100"]
    doubts = {c.text: c.doubt for row in export_rows(lines) for c in row.cells if c.text}
    assert doubts["性结结对帮扶工作开展规范"] is INTERLEAVED
    assert doubts["帮困对象准确性"] is doubts["对帮扶经费支出规范性"] is BESIDE_INTERLEAVED  # above and below
    assert doubts["医疗按摩实训基地建设扶持有效提高盲人医"] is INTERLEAVED_ACROSS
    assert doubts["疗按摩人员专业技术水平"] is BESIDE_INTERLEAVED
    assert doubts["合计"] is doubts["100"] is doubts["准确"] is doubts["质量指标"] is None
