"""Text from documents is data in every output: no formula runs in a spreadsheet, no
script in an HTML export becomes a form, no input's name takes the batch's own files."""

import csv
import json
import zipfile

from typer.testing import CliRunner

from conftest import ROOT
from extractor.cli import app

runner = CliRunner()
SEED = ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt"
PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)"]


def test_no_text_becomes_a_formula_in_csv_or_excel(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    for payload, name in zip(PAYLOADS, ("军转工作经费", "宣传工作经费", "教育培训工作经费", "服务大厅工作经费")):
        assert name in text
        text = text.replace(name, payload, 1)
    (tmp_path / "in.txt").write_text(text, encoding="utf-8")
    r = runner.invoke(app, ["extract", str(tmp_path / "in.txt"), "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    # Excel: every cell that holds such text is a text cell, never <f>; the printed
    # targets ("=100(%)") too, which before were written as 125 formulas
    with zipfile.ZipFile(tmp_path / "out" / "forms.xlsx") as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s for s in sheets)
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "out" / "forms.xlsx")

    def column(sheet: str, name: str) -> list:
        rows = list(wb[sheet].iter_rows(values_only=True))
        return [r[rows[0].index(name)] for r in rows[1:]]

    assert set(PAYLOADS) <= set(column("forms", "project_name"))  # the text kept exactly, as text
    assert "=100.00(%)" in column("indicators", "target")
    # CSV: a leading apostrophe, as OWASP advises, on exactly those cells
    with open(tmp_path / "out" / "forms.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {"'" + p for p in PAYLOADS} <= {r["project_name"] for r in rows}
    assert all(not v.startswith(("=", "+", "@")) for r in rows for v in r.values() if v)
    # JSON and SQLite keep the text as it is
    doc = json.loads((tmp_path / "out" / "in.json").read_text(encoding="utf-8"))
    assert set(PAYLOADS) <= {f["project_name"] for f in doc["forms"]}


def test_script_style_and_comments_in_an_html_export_are_not_content(tmp_path):
    injected = ("<script type='text/template'>\n<tr><td>项目名称</td><td>injected</td></tr>\n</script>\n"
                "<!--\n<tr><td>项目名称</td><td>hidden</td></tr>\n-->\n<style>td{}</style>\n")
    text = "<html><body>" + injected + "<table>" + "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in line.split("\t")) + "</tr>"
        for line in (ROOT / "fixtures" / "text" / "004_f03db79725452826.txt").read_text(encoding="utf-8").splitlines()
    ) + "</table></body></html>"
    (tmp_path / "x.html").write_text(text, encoding="utf-8")
    from extractor.pipeline import ExtractOptions, extract_document

    forms = extract_document(tmp_path / "x.html", ExtractOptions(engine="rules")).forms
    assert len(forms) == 1 and forms[0].kind == "department"


def test_an_input_named_like_the_batchs_own_file_does_not_take_it(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "errors.txt").write_bytes(SEED.read_bytes())
    (tmp_path / "in" / "bad.pdf").write_bytes(b"%PDF-1.4 broken")
    r = runner.invoke(app, ["extract", str(tmp_path / "in"), "-o", str(tmp_path / "out")])
    assert r.exit_code == 1
    errors = json.loads((tmp_path / "out" / "errors.json").read_text(encoding="utf-8"))
    assert [e["document"] for e in errors] == ["bad"]
    (result,) = [p for p in (tmp_path / "out").glob("errors-*.json")]
    assert len(json.loads(result.read_text(encoding="utf-8"))["forms"]) == 7
