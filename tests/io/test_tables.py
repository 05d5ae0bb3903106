"""The batch tables: one documented schema whatever the batch, and answers to an
analyst's questions in one query in each tool they open them with (pandas, DuckDB,
sqlite3, openpyxl) — each checked against the result JSON files, read here on their own."""

import csv
import json
import sqlite3
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.io.schema import TABLES, dictionary_markdown
from folders import ROOT

pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed (pip install -e '.[parquet]')")

runner = CliRunner()
# The same report as a PDF and as its workbook (counted once), a Shanghai batch, a
# department form in 元, a Sichuan form.
BATCH = [ROOT / "fixtures" / "office" / "national_xlsx.pdf", ROOT / "fixtures" / "office" / "national_xlsx.xlsx",
         ROOT / "fixtures" / "pdf" / "run_on.pdf", ROOT / "fixtures" / "text" / "004_f03db79725452826.txt",
         ROOT / "fixtures" / "provinces" / "sichuan_xlsx.pdf"]
FORMATS = "json,csv,xlsx,sqlite,parquet"
WAN = {"万元": Decimal(1), "元": Decimal("0.0001")}


def extract(files, out):
    r = runner.invoke(app, ["extract", *map(str, files), "-o", str(out), "--engine", "rules", "--format", FORMATS])
    assert r.exit_code in (0, 1), r.output
    return out


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    return extract(BATCH, tmp_path_factory.mktemp("tables"))


def results(out):
    """(document, form number, form) of every result file: the ground truth here."""
    for path in sorted(out.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        if "source" in doc:
            for i, form in enumerate(doc["forms"], 1):
                yield path.stem, i, form


def headline(form):
    funding = form["funding"]
    return funding.get("total") or (funding.get("fiscal") if form["kind"] == "department" else None) or {}


def test_docs_tables_md_is_the_schema():
    assert (ROOT / "docs" / "tables.md").read_text(encoding="utf-8") == dictionary_markdown()


def _shape(out):
    headers = {}
    for name in TABLES:
        with open(out / f"{name}.csv", encoding="utf-8-sig", newline="") as fh:
            headers[name] = next(csv.reader(fh))
    arrow = {name: [(f.name, str(f.type)) for f in pq.read_schema(out / f"{name}.parquet")] for name in TABLES}
    con = sqlite3.connect(out / "forms.sqlite")
    typed = {name: [(c[1], c[2]) for c in con.execute(f"PRAGMA table_info([{name}])")] for name in TABLES}
    return headers, arrow, typed


def test_every_batch_has_the_same_columns_of_the_same_types(batch, tmp_path):
    scans = extract([ROOT / "fixtures" / "scanned" / "department_200dpi_blurred.pdf"], tmp_path / "scans")
    (tmp_path / "none.txt").write_text("决算报告\n本报告无绩效自评表。\n", encoding="utf-8")
    empty = extract([tmp_path / "none.txt"], tmp_path / "empty")
    shapes = [_shape(out) for out in (batch, scans, empty)]
    assert shapes[0] == shapes[1] == shapes[2]
    headers, arrow, typed = shapes[0]
    for name, table in TABLES.items():
        assert headers[name] == table.names and all("." not in c for c in table.names)
        kinds = {"text": ("string", "TEXT"), "integer": ("int64", "INTEGER"), "real": ("double", "REAL")}
        assert arrow[name] == [(c.name, kinds[c.type][0]) for c in table.columns]
        assert typed[name] == [(c.name, kinds[c.type][1]) for c in table.columns]
    # the empty batch still says what became of its one file
    rows = list(csv.DictReader(open(empty / "documents.csv", encoding="utf-8-sig")))
    assert [(r["status"], r["forms"]) for r in rows] == [("no_form", "0")]


def test_sqlite_keys_indexes_and_views(batch):
    con = sqlite3.connect(batch / "forms.sqlite")
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    refs = {(t, r[3], r[2], r[4]) for t in TABLES for r in con.execute(f"PRAGMA foreign_key_list([{t}])")}
    assert refs == {("forms", "document", "documents", "document"), ("funding", "form_id", "forms", "form_id"),
                    ("indicators", "form_id", "forms", "form_id"), ("findings", "form_id", "forms", "form_id")}
    pk = {t: [r[1] for r in sorted(con.execute(f"PRAGMA table_info([{t}])"), key=lambda r: r[5]) if r[5]] for t in TABLES}
    assert pk == {t: list(table.key) for t, table in TABLES.items()}
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"forms_department", "forms_year", "findings_code", "indicators_form_id"} <= indexes
    metadata = json.loads((batch / "metadata.json").read_text(encoding="utf-8"))
    assert "万元" in metadata["databases"]["forms"]["tables"]["forms"]["columns"]["executed_wan"]
    # every row knows its file; every finding of a PDF its page
    for t in TABLES:
        assert con.execute(f"SELECT count(*) FROM [{t}] WHERE source_path IS NULL OR source_path = ''").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM findings WHERE page IS NULL AND source_path LIKE '%.pdf'").fetchone() == (0,)


def test_three_questions_in_one_query_each_in_four_tools(batch):
    """Forms with an execution rate below 90%; every error finding with project, field,
    expected, found and page; the amount executed per department in 万元 — a report
    published as a PDF and as a workbook counted once."""
    import duckdb
    import pandas as pd
    from openpyxl import load_workbook

    forms = list(results(batch))
    # 1. below 90%: by document and form
    low = {(d, i) for d, i, f in forms if headline(f).get("execution_rate") is not None
           and headline(f)["execution_rate"] < 90}
    assert low  # (the batch has some)
    con = sqlite3.connect(batch / "forms.sqlite")
    assert set(con.execute("SELECT document, form FROM forms WHERE execution_rate < 90").fetchall()) == low
    df = pd.read_csv(batch / "forms.csv", encoding="utf-8-sig")
    assert set(map(tuple, df.loc[df.execution_rate < 90, ["document", "form"]].values.tolist())) == low
    assert set(duckdb.sql(f"SELECT document, form FROM '{batch / 'forms.parquet'}' WHERE execution_rate < 90").fetchall()) == low
    sheet = list(load_workbook(batch / "forms.xlsx", read_only=True)["forms"].iter_rows(values_only=True))
    names = sheet[1]
    at = {n: names.index(n) for n in ("document", "form", "execution_rate")}
    assert {(r[at["document"]], r[at["form"]]) for r in sheet[2:]
            if r[at["execution_rate"]] is not None and r[at["execution_rate"]] < 90} == low

    # 2. every error finding, with the project, field, expected, found and page
    errors = sorted((d, i, x["code"], x.get("field") or "") for d, i, f in forms for x in f["findings"] if x["severity"] == "error")
    got = con.execute("SELECT document, form_id, code, field, project_name, expected, found, page FROM flagged_findings "
                      "WHERE severity = 'error'").fetchall()
    assert sorted((d, int(fid.rsplit("#", 1)[1]), code, field or "") for d, fid, code, field, *_ in got) == errors
    assert all(page is not None for *_, page in got)
    findings = pd.read_parquet(batch / "findings.parquet")
    assert len(findings[findings.severity == "error"]) == len(errors)

    # 3. executed per department in 万元, each form once however often it was published
    seen, expected = set(), {}
    for _, _, f in forms:
        row = headline(f)
        key = (f["kind"], f.get("year"), f.get("department"), f.get("project_name"))
        if key in seen or row.get("executed") is None:
            continue
        seen.add(key)
        expected[f.get("department")] = expected.get(f.get("department"), 0) + float(row["executed"] * WAN[f["funding_unit"]])
    assert len(seen) < len(forms)  # (the workbook copy's forms were there twice)
    by_sql = dict(con.execute("SELECT department, executed_wan FROM forms_by_department").fetchall())
    by_duck = dict(duckdb.sql(f"SELECT department, sum(executed_wan) FROM (SELECT DISTINCT ON (form_key) * FROM "
                              f"read_csv_auto('{batch / 'forms.csv'}')) GROUP BY department").fetchall())
    by_pandas = df.drop_duplicates("form_key").groupby("department")["executed_wan"].sum().to_dict()
    for answer in (by_sql, by_duck, by_pandas):
        assert {k: round(v, 4) for k, v in answer.items() if v} == {k: round(v, 4) for k, v in expected.items()}
    # a department form printed in 元 is summed in 万元
    yuan = [f for _, _, f in forms if f["funding_unit"] == "元"]
    assert yuan and by_sql[yuan[0]["department"]] < float(headline(yuan[0])["executed"])


def test_workbook_for_a_reviewer(batch):
    from openpyxl import load_workbook

    wb = load_workbook(batch / "forms.xlsx")
    assert wb.sheetnames == ["汇总", *TABLES, "说明", "未读取"]
    dictionary = list(wb["说明"].iter_rows(min_row=2, values_only=True))
    assert [(t, c) for t, c, *_ in dictionary] == [(t.name, c.name) for t in TABLES.values() for c in t.columns]
    forms, findings = wb["forms"], wb["findings"]
    assert [c.value for c in forms[1]][:2] == ["表编号", "结果文件"] and forms.freeze_panes == "B3"
    assert forms.auto_filter.ref.startswith("A2:") and forms[1][0].font.b
    head = [c.value for c in forms[2]]
    from openpyxl.utils import get_column_letter

    name = get_column_letter(head.index("project_name") + 1)
    assert forms.column_dimensions[name].width >= 30  # a Chinese project name is not cut
    executed = forms.cell(row=3, column=head.index("executed") + 1)
    assert isinstance(executed.value, float) and executed.number_format == "#,##0.00"
    # a finding links to its form's row
    link = findings.cell(row=3, column=1).hyperlink
    target = int(link.location.split("!A")[1])
    assert forms.cell(row=target, column=1).value == findings.cell(row=3, column=1).value
    summary = [r for r in wb["汇总"].iter_rows(values_only=True)]
    assert ("合计 total", sum(1 for _ in results(batch))) in [tuple(r[:2]) for r in summary]


def test_summary_json_and_report_html_count_what_the_tables_hold(batch):
    summary = json.loads((batch / "summary.json").read_text(encoding="utf-8"))
    forms = list(results(batch))
    assert summary["forms"]["total"] == len(forms)
    assert summary["forms"]["distinct"] < len(forms)  # (the workbook copy)
    errors = sum(x["severity"] == "error" for _, _, f in forms for x in f["findings"])
    assert sum(f["count"] for f in summary["findings"] if f["severity"] == "error") == errors
    flagged = sum(1 for _, _, f in forms if any(x["severity"] in ("error", "warning") for x in f["findings"]))
    assert len(summary["flagged_forms"]) == flagged == summary["forms"]["flagged"] + summary["forms"]["read_poorly"]
    assert summary["run"]["documents"] == len(BATCH) and len(summary["run"]["timings"]) == len(BATCH)
    page = (batch / "report.html").read_text(encoding="utf-8")
    assert all(f["department"] in page for f in summary["by_department"] if f["department"])


def test_report_escapes_document_text(tmp_path):
    from extractor.io.report import report_html

    hostile = '<script>alert(1)</script>'
    summary = {"documents": {"read": 1, "no_form": 0, "failed": 1, "skipped": 0},
               "forms": {"total": 1, "distinct": 1, "ok": 0, "flagged": 1, "read_poorly": 0},
               "findings": [], "by_department": [{"department": hostile, "year": 2023, "forms": 1, "flagged": 1,
                                                  "annual_budget_wan": 1.0, "executed_wan": 1.0}],
               "flagged_forms": [{"form_id": "a#1", "document": '"><script>', "form": 1, "page": 1, "status": "flagged",
                                  "project_name": hostile, "department": None, "year": 2023, "errors": 1, "warnings": 0,
                                  "source_path": hostile}],
               "not_read": [{"document": "b", "source_path": "b.pdf", "status": "failed", "error": hostile}],
               "run": {"line": hostile}}
    (tmp_path / "review" / '"><script>').mkdir(parents=True)
    (tmp_path / "review" / '"><script>' / "index.html").write_text("x")
    page = report_html(summary, tmp_path)
    assert "<script>" not in page and page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 5
    assert 'href="review/&quot;&gt;&lt;script&gt;/index.html#form-1"' in page


def test_summary_as_json_on_stdout(tmp_path):
    r = runner.invoke(app, ["extract", str(BATCH[2]), "-o", str(tmp_path), "--engine", "rules", "--output-format", "json"])
    assert r.exit_code == 0, r.output
    run = json.loads(r.stdout)
    assert run["forms"] == 12 and run["statuses"] == {"ok": 1}
    assert run == json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["run"]


def test_every_finding_code_is_explained_in_both_languages():
    import re

    from extractor.explain import EXPLANATIONS
    from extractor.findings import Code

    assert set(EXPLANATIONS) == set(Code)
    for code, e in EXPLANATIONS.items():
        assert re.search(r"[\u4e00-\u9fff]", e.zh) and re.search(r"[\u4e00-\u9fff]", e.do_zh), code
        prose = re.sub(r"extractor review|--[a-z-]+", "", e.zh)  # (a command or option is named as typed)
        assert not re.search(r"[A-Za-z]{4,}", prose), code  # Chinese, not English
    r = runner.invoke(app, ["explain", "EXECUTION_RATE", "--lang", "zh"])
    assert r.exit_code == 0 and "执行率" in r.stdout and "What to do" not in r.stdout
    r = runner.invoke(app, ["explain", "no_such_code"])
    assert r.exit_code == 2 and "execution_rate" in r.output


def test_check_never_puts_an_old_value_back_over_a_cell_a_person_changed(tmp_path):
    """forms.csv or forms.xlsx corrected where users correct: check refuses in one line
    naming the cells (nothing written), until they are moved or --overwrite-tables; a
    workbook opened and saved unchanged is no change."""
    from openpyxl import load_workbook

    out = extract([BATCH[2]], tmp_path / "out")
    rows = list(csv.DictReader(open(out / "forms.csv", encoding="utf-8-sig", newline="")))
    assert rows[0]["total_score"] == "98.05"
    rows[0]["total_score"] = "97.05"
    with open(out / "forms.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    edited = (out / "forms.csv").read_bytes()
    r = runner.invoke(app, ["check", str(out)])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1, r.output
    assert "forms.csv run_on#1 total_score: 98.05 → 97.05" in r.output and "--overwrite-tables" in r.output
    assert (out / "forms.csv").read_bytes() == edited
    # a workbook opened and saved as it is: no cell changed, check goes on
    (out / "forms.csv").unlink()
    wb = load_workbook(out / "forms.xlsx")
    wb.save(out / "forms.xlsx")
    assert runner.invoke(app, ["check", str(out)]).exit_code == 0
    # a value typed in the workbook
    wb = load_workbook(out / "forms.xlsx")
    sheet = wb["forms"]
    names = [c.value for c in sheet[2]]
    sheet.cell(row=3, column=names.index("project_name") + 1).value = "更正后的名称"
    wb.save(out / "forms.xlsx")
    r = runner.invoke(app, ["check", str(out)])
    assert r.exit_code == 2 and "forms.xlsx[forms] run_on#1 project_name" in r.output and "更正后的名称" in r.output
    assert runner.invoke(app, ["check", str(out), "--overwrite-tables"]).exit_code == 0
    assert load_workbook(out / "forms.xlsx")["forms"].cell(row=3, column=names.index("project_name") + 1).value != "更正后的名称"


def test_check_on_an_unchanged_folder_writes_the_tables_extract_wrote(tmp_path):
    """The same rows in the same order, whatever order the documents were given in."""
    files = [BATCH[4], BATCH[2], BATCH[3]]  # (not in the order of their names)
    out = extract(files, tmp_path / "out")
    before = {name: (out / f"{name}.csv").read_bytes() for name in TABLES}
    assert runner.invoke(app, ["check", str(out)]).exit_code == 0
    assert {name: (out / f"{name}.csv").read_bytes() for name in TABLES} == before
    documents = [r["document"] for r in csv.DictReader(open(out / "forms.csv", encoding="utf-8-sig", newline=""))]
    assert documents == sorted(documents)
