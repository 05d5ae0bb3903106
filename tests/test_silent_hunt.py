"""The silent-error hunt (eval/silent.py), a sample of it: the national template's forms,
each with one printed change, through the workbook, LibreOffice's PDF (as laid out, and
with its columns too narrow: text printed clipped), the Word file,
the web page and the browser's save of it as PDF, pymupdf4llm and pdfplumber of the PDF,
camelot of the Word file's PDF, and 200-dpi grey scans of the PDF, of its print with rows
of a fixed 30 pt (text clipped between its lines) and of its print under a red seal.
Every change is read exactly or named by an error on its field."""

import shutil
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "eval"))


@pytest.mark.slow
def test_no_printed_change_passes_silently_on_the_sampled_routes():
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: bash .ci/system-deps installs it")
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed: bash .ci/system-deps installs it")
    pytest.importorskip("pymupdf4llm")
    pytest.importorskip("cv2")
    import silent

    results = silent.run(silent.SAMPLE["families"], silent.SAMPLE["routes"])
    assert set(results["routes"]) == set(silent.SAMPLE["routes"])
    assert results["cases"] == len(silent.SAMPLE["routes"]) * len(silent.CHANGES)
    cells = {(route, change): cell for route, row in results["routes"].items() for change, cell in row.items()}
    assert {k: c["silent_fields"] for k, c in cells.items() if c["silent_fields"]} == {}
    # and the hunt is no formality: most changes are read exactly, the rest named (on the
    # routes that print every cell whole: the narrow columns' and short rows' prints clip
    # them, a seal covers some; camelot loses the title and splits rows at page breaks)
    whole = {k: c for k, c in cells.items() if k[0] not in ("libreoffice_pdf_narrow_columns", "scan_tight_rows_200_grey",
                                                            "scan_sealed_200_grey", "camelot_of_docx_pdf")}
    assert sum(c["exact"] for c in whole.values()) >= 0.8 * sum(c["cases"] for c in whole.values())


def test_each_change_changes_what_the_form_prints():
    import random

    import silent

    fam, forms, what = silent.printed_forms("national", random.Random(silent.SEED))
    assert len(forms) == len(silent.CHANGES) and what[0] == "none"
    for kind, done in zip(silent.CHANGES[1:], what[1:]):
        assert not done.startswith("no "), (kind, done)  # every change applied to its form


@pytest.mark.slow
def test_the_provinces_templates_pass_no_printed_change_silently_on_the_parsers_and_narrow_prints():
    """Sichuan's template through pymupdf4llm (a merged 项目基本情况 written before the
    remark's label, `<u>` around the title, a page's last row a column short) and printed
    with columns too narrow (the remark's label cut short, its 指标值 clipped): 14 of 14
    forms had fields passing silently before; Anhui's beside it."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: bash .ci/system-deps installs it")
    pytest.importorskip("pymupdf4llm")
    import silent

    results = silent.run(("sichuan", "anhui"), ("pymupdf4llm", "libreoffice_pdf_narrow_columns"))
    silent_fields = {(route, change): c["silent_fields"] for route, row in results["routes"].items()
                     for change, c in row.items() if c["silent_fields"]}
    assert results["cases"] == 2 * 2 * len(silent.CHANGES) and silent_fields == {}
    assert sum(c["exact"] for c in results["routes"]["pymupdf4llm"].values()) >= 8


@pytest.mark.slow
def test_a_remark_written_in_its_labels_cell_is_read_and_named(tmp_path):
    """camelot writes Sichuan's `评价结论 | 优` as one cell (`评价结论\\n优`): the value is
    what follows the label, read and named (it came from the label's cell). Before, the
    three remarks after the total were missing from 7 of 7 forms, silently."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: bash .ci/system-deps installs it")
    pytest.importorskip("camelot")
    import random

    import silent
    from extractor.pipeline import extract_document

    fam, forms, _ = silent.printed_forms("sichuan", random.Random(silent.SEED))
    (path,) = silent.ROUTES["camelot"](fam, forms[:1], tmp_path)
    (form,) = extract_document(path).forms
    assert form.remarks == forms[0]["remarks"]
    named = {f.field for f in form.findings if f.code == "assembled_value"}
    assert {"remarks.评价结论", "remarks.存在问题", "remarks.改进措施"} <= named


def test_fresh_content_through_the_crawlers_texts_passes_nothing_silently(tmp_path):
    """Forms filled with content no seed prints (eval/silent.py's `fresh` families) as
    crawlers write their web pages (a cell a line, `a | b |` rows, cells apart by spaces:
    empty cells left out). A row that opens a level-2 group and whose actual value is
    empty (`时效指标 | name | =92(%) | 5 | 5 |`) was read by order as name, target and
    actual — the label as its name, its name as its target, its target as its actual —
    and only the carried level-2 label was named: 2 of 2 such forms silent on 3 fields."""
    import random

    import silent
    from extractor.pipeline import extract_document

    routes = ("crawler_cells", "crawler_pipes", "crawler_spaces")
    results = silent.run(("fresh", "fresh_a"), routes)
    assert results["cases"] == 2 * len(routes) * len(silent.CHANGES)
    assert {(r, c): cell["silent_fields"] for r, row in results["routes"].items() for c, cell in row.items()
            if cell["silent_fields"]} == {}
    fam, forms, what = silent.printed_forms("fresh", random.Random(silent.SEED))
    k = silent.CHANGES.index("emptied")
    i = int(what[k].split("[")[1].split("]")[0])
    printed = forms[k]["indicators"][i]
    (path,) = silent.ROUTES["crawler_pipes"](fam, forms[k:k + 1], tmp_path)
    (form,) = [f for f in extract_document(path).forms if f.indicators]
    got = form.indicators[i]
    assert (got.level2, got.name, got.target, got.actual) == (printed["level2"], printed["name"], printed["target"], None)
    assert f"indicators[{i}]" in {f.field for f in form.findings if f.severity == "error"}
