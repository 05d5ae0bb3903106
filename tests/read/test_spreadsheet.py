"""Workbooks as input: every sheet a page, merged ranges the grid, numbers as printed."""

import shutil
import subprocess

import pytest

from conftest import ROOT
from extractor.errors import CorruptFile
from extractor.pipeline import ExtractOptions, extract_document
from extractor.read.documents import open_document, sniff
from extractor.read.numfmt import Unreadable, format_number

OFFICE = ROOT / "fixtures" / "office"


@pytest.mark.parametrize("value, fmt, printed", [
    (889.25, "0.00", "889.25"), (10, "General", "10"), (0.9934, "0.00%", "99.34%"), (0.975, "0.0%", "97.5%"),
    (1234.5, "#,##0.00", "1,234.50"), (98.7, "General", "98.7"), (20, "0", "20"),
])
def test_numbers_print_as_their_format_shows_them(value, fmt, printed):
    assert format_number(value, fmt) == printed


# Where the grammar and LibreOffice part: `!` escapes the next character (ECMA-376; Excel),
# LibreOffice prints it; 1.005 as a percent is 100.5% in the stored double's decimal
# value, rounded half up to 101% (LibreOffice multiplies in binary: 100.4999… → 100%).
LIBREOFFICE_READS_OTHERWISE = {("0!.00", v) for v in (2.675, 1234567.891, 0.98889, -1234.5, 0, 99.3455, 1.005, 12345678, 0.5)} | {("0%", 1.005)}


def test_34_number_formats_show_as_libreoffice_shows_them():
    """The table LibreOffice printed (soffice --convert-to csv, cell contents as shown) of
    nine values under 34 formats: 2.675 under 0.00 is 2.68, 0\\.0000 shows 元 as 万元
    (26750 → 2.6750), #,##0, divides by 1,000, a zero section prints "-"."""
    import json

    table = json.loads((ROOT / "tests" / "read" / "data" / "libreoffice_formats.json").read_text(encoding="utf-8"))
    checked = 0
    for row in table["formats"]:
        for value, shown in zip(table["values"], row["shown"]):
            if (row["format"], value) in LIBREOFFICE_READS_OTHERWISE:
                continue
            assert format_number(value, row["format"]) == shown, (row["format"], value)
            checked += 1
    assert len(table["formats"]) >= 30 and checked >= 290


@pytest.mark.parametrize("fmt", ["[>100]0.00;0.0", "yyyy-mm-dd", "# ?/?"])
def test_a_format_not_understood_is_said_not_guessed(fmt):
    with pytest.raises(Unreadable):
        format_number(12.5, fmt)


@pytest.mark.slow
def test_the_format_table_is_libreoffices_own(tmp_path):
    """The committed table, printed again by LibreOffice from a workbook of its formats."""
    import csv
    import json

    from openpyxl import Workbook

    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: bash .ci/system-deps installs it")
    table = json.loads((ROOT / "tests" / "read" / "data" / "libreoffice_formats.json").read_text(encoding="utf-8"))
    wb = Workbook()
    ws = wb.active
    for i, row in enumerate(table["formats"], 1):
        ws.cell(row=i, column=1, value=row["format"])
        for j, v in enumerate(table["values"], 2):
            ws.cell(row=i, column=j, value=v).number_format = row["format"]
    wb.save(tmp_path / "formats.xlsx")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true", "--outdir", str(tmp_path),
                    str(tmp_path / "formats.xlsx")], check=True, capture_output=True, timeout=300)
    with open(tmp_path / "formats.csv", encoding="utf-8") as fh:
        assert [{"format": r[0], "shown": r[1:]} for r in csv.reader(fh)] == table["formats"]


def test_hidden_rows_and_columns_are_not_read_and_a_document_says_so(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "表1"
    ws["A1"], ws["B1"], ws["C1"] = "全年预算数", "草稿", "全年执行数"
    ws["A2"], ws["B2"], ws["C2"] = 116.4, 999.0, 115.11
    ws["A3"] = "内部备注"
    ws.column_dimensions["B"].hidden = True
    ws.row_dimensions[3].hidden = True
    wb.save(tmp_path / "t.xlsx")
    doc = open_document(tmp_path / "t.xlsx")
    (page,) = list(doc.pages())
    assert [[c.text for c in r.cells] for r in page.rows] == [["全年预算数", "全年执行数"], ["116.4", "115.11"]]
    assert doc._book.notes == ["sheet 表1: hidden rows 3 skipped (not printed)", "sheet 表1: hidden columns B skipped (not printed)"]


def test_typed_numbers_and_merged_ranges_read_like_a_printed_grid(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "表1"
    ws["A1"], ws["B1"], ws["C1"] = "项目资金（万元）", "全年预算数", "执行率"
    ws.merge_cells("A1:A2")
    ws["B2"], ws["C2"] = 889.25, 0.9934
    ws["B2"].number_format, ws["C2"].number_format = "#,##0.00", "0.00%"
    wb.save(tmp_path / "t.xlsx")
    doc = open_document(tmp_path / "t.xlsx")
    (page,) = list(doc.pages())
    doc.close()
    assert [[c.text for c in r.cells] for r in page.rows] == [["项目资金(万元)", "全年预算数", "执行率"], ["", "889.25", "99.34%"]]  # (canonical: NFKC)
    merged = page.rows[0].cells[0]
    assert merged.ref == "表1!A1" and merged.bbox[3] == page.rows[1].cells[0].bbox[3]  # one box over both rows


def test_a_workbook_reads_every_form_with_its_cell_and_skips_other_sheets():
    r = extract_document(OFFICE / "national_system_workbook.xlsx", ExtractOptions(engine="rules"))
    assert r.source.doc_type == "spreadsheet" and r.source.page_count == 3
    assert [s.title for s in r.skipped] == ["项目支出绩效目标申报表", "项目支出绩效目标执行监控表"]
    (form,) = r.forms
    assert form.pages == [3] and form.provenance["total_score"].cell == "自评表1!H18"
    assert form.provenance["funding.total.executed"].cell.startswith("自评表1!")


def test_a_broken_workbook_is_one_line(tmp_path):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes((OFFICE / "national_xlsx.xlsx").read_bytes()[:3000])
    assert sniff(bad) == "sheet"
    with pytest.raises(CorruptFile, match="cannot be read as a workbook"):
        open_document(bad)


@pytest.mark.slow
def test_an_old_xls_workbook_is_read_through_libreoffice(tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: bash .ci/system-deps installs it")
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "xls",
                    "--outdir", str(tmp_path), str(OFFICE / "provincial_b_xlsx.xlsx")], check=True, capture_output=True, timeout=300)
    xls = tmp_path / "provincial_b_xlsx.xls"
    assert sniff(xls) == "sheet"
    from_xls = extract_document(xls, ExtractOptions(engine="rules")).forms
    from_xlsx = extract_document(OFFICE / "provincial_b_xlsx.xlsx", ExtractOptions(engine="rules")).forms
    assert [f.model_dump(exclude={"provenance"}) for f in from_xls] == [f.model_dump(exclude={"provenance"}) for f in from_xlsx]
