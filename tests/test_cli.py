"""The command line as a user drives it: outputs, resuming, bad input, re-checking."""

import json
import os
import re
import sqlite3
import subprocess
import sys

import pymupdf
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from extractor.cli import app

runner = CliRunner()


@pytest.fixture
def sample(root):
    return root / "fixtures" / "pdf" / "run_on.pdf"


def test_extract_writes_contract_json_and_tables(tmp_path, sample, root):
    text = root / "fixtures" / "text" / "004_f03db79725452826.txt"
    r = runner.invoke(app, ["extract", str(sample), str(text), "-o", str(tmp_path)])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "run_on.json").read_text(encoding="utf-8"))
    assert doc["source"]["page_count"] == 8 and len(doc["source"]["sha256"]) == 64
    first = doc["forms"][0]
    assert first["kind"] == "project" and first["project_name"] == "普陀区构建和谐劳动关系经费"
    assert isinstance(first["funding"]["total"]["executed"], float)
    assert first["pages"] == [1] and first["provenance"]["total_score"]["page"] == 1
    assert "12 forms" in r.output or "13 forms" in r.output
    # Tables: Chinese intact, numbers as numbers.
    forms_csv = (tmp_path / "forms.csv").read_text(encoding="utf-8-sig")
    assert "普陀区构建和谐劳动关系经费" in forms_csv
    wb = load_workbook(tmp_path / "forms.xlsx")
    assert {"forms", "indicators", "findings"} <= set(wb.sheetnames)
    assert [c.value for c in wb["forms"][1]][:3] == ["表编号", "结果文件", "文件SHA-256"]  # Chinese over the names
    header = [c.value for c in wb["forms"][2]]
    row = next([c.value for c in r] for r in wb["forms"].iter_rows(min_row=3) if r[0].value == "run_on#1")
    assert row[header.index("total_score")] == pytest.approx(98.05)
    con = sqlite3.connect(tmp_path / "forms.sqlite")
    assert con.execute("select count(*) from forms").fetchone()[0] == 13
    assert con.execute("select count(*) from indicators where document='run_on'").fetchone()[0] == sum(len(f["indicators"]) for f in doc["forms"])


def test_second_run_skips_unchanged_and_force_redoes(tmp_path, sample):
    assert runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path)]).exit_code == 0
    r = runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path)])
    assert "1 unchanged, skipped" in r.output
    # the skipped document's forms are still in the batch tables, decimals as printed
    forms_csv = (tmp_path / "forms.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(forms_csv) == 1 + 12
    header = forms_csv[0].split(",")
    assert forms_csv[1].split(",")[header.index("annual_budget")] == "82.00"
    r = runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path), "--force"])
    assert "0 unchanged" in r.output
    # nothing of the staging is left behind
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_run_with_other_settings_reads_the_document_again_and_says_why(tmp_path, sample):
    """Resuming skips a document only when this run would make the result already there:
    a stricter --config (or another engine, version, prompts or model) reads it again."""
    assert runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path)]).exit_code == 0
    recorded = json.loads((tmp_path / "run_on.json").read_text(encoding="utf-8"))["fingerprint"]
    assert recorded["engine"] == "rules" and recorded["sha256"] and recorded["settings"]
    fresh = runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path / "fresh"), "--config", str(_strict(tmp_path))])
    again = runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path), "--config", str(_strict(tmp_path))])
    assert "0 unchanged" in again.output and "read again: 1 (the checker settings changed)" in again.output
    errors = lambda out: re.search(r"(\d+) forms? with error findings", out).group(1)  # noqa: E731
    assert errors(again.output) == errors(fresh.output)
    same = runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path), "--config", str(_strict(tmp_path))])
    assert "1 unchanged, skipped" in same.output and "read again" not in same.output


def _strict(tmp_path):
    path = tmp_path / "strict.toml"
    path.write_text('rounding = ["round"]\nbudget_weight = 20\n', encoding="utf-8")
    return path


def test_a_later_run_into_the_folder_keeps_the_earlier_documents_rows(tmp_path, sample, root):
    """The tables are of every document in OUT: one more report extracted into it adds
    its rows to the others' (its JSON files stay either way)."""
    text = root / "fixtures" / "text" / "004_f03db79725452826.txt"
    (tmp_path / "in").mkdir()
    sample = tmp_path / "in" / "run_on.pdf"
    sample.write_bytes((root / "fixtures" / "pdf" / "run_on.pdf").read_bytes())
    assert runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path)]).exit_code == 0
    r = runner.invoke(app, ["extract", str(text), "-o", str(tmp_path)])
    assert r.exit_code == 0 and "the tables also hold 1 document already in the output folder" in r.output
    con = sqlite3.connect(tmp_path / "forms.sqlite")
    counts = dict(con.execute("select document, count(*) from forms group by document"))
    assert counts == {"004_f03db79725452826": 1, "run_on": 12}
    forms_csv = (tmp_path / "forms.csv").read_text(encoding="utf-8-sig")
    assert "run_on" in forms_csv and "004_f03db79725452826" in forms_csv
    # A document read again (the same file, changed) and failing this time is not
    # carried over from its old JSON.
    sample.write_bytes(b"")
    r = runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path)])
    assert r.exit_code == 1
    counts = dict(sqlite3.connect(tmp_path / "forms.sqlite").execute("select document, count(*) from forms group by document"))
    assert counts == {"004_f03db79725452826": 1}
    assert (tmp_path / "run_on.json").exists()  # nothing already written is deleted


def test_workers_fill_the_tables_in_the_order_of_the_documents_names(tmp_path, root):
    """Whichever worker finishes first (and as check writes them again)."""
    pdfs = [root / "fixtures" / "pdf" / n for n in ("landscape.pdf", "run_on.pdf", "department_and_project.pdf")]
    r = runner.invoke(app, ["extract", *map(str, pdfs), "-o", str(tmp_path), "--workers", "2", "--format", "json,sqlite"])
    assert r.exit_code == 0, r.output
    con = sqlite3.connect(tmp_path / "forms.sqlite")
    docs = [d for (d,) in con.execute("select document from forms order by rowid")]
    assert list(dict.fromkeys(docs)) == ["department_and_project", "landscape", "run_on"]
    for name in ("landscape", "run_on", "department_and_project"):
        doc = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        assert docs.count(name) == len(doc["forms"])
        n_ind = con.execute("select count(*) from indicators where document=?", (name,)).fetchone()[0]
        assert n_ind == sum(len(f["indicators"]) for f in doc["forms"])


def test_bad_inputs_fail_alone_with_one_line_each(tmp_path, sample):
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "empty.pdf").write_bytes(b"")
    (bad / "notes.pdf").write_text("just some words", encoding="utf-8")
    (bad / "garbage.bin").write_bytes(bytes(range(256)) * 4)
    (bad / "truncated.pdf").write_bytes(sample.read_bytes()[:1500])
    enc = pymupdf.open(sample)
    enc.save(bad / "locked.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    blank = pymupdf.open()
    blank.new_page()
    blank.save(bad / "blank.pdf")
    big = pymupdf.open()
    for _ in range(30):
        big.new_page()
    big.save(bad / "big.pdf")
    inputs = [str(bad / n) for n in ("empty.pdf", "notes.pdf", "garbage.bin", "truncated.pdf", "locked.pdf", "blank.pdf", "big.pdf")]
    out = tmp_path / "out"
    r = runner.invoke(app, ["extract", *inputs, str(sample), "-o", str(out), "--max-pages", "20"])
    assert r.exit_code == 1
    errors = {e["document"]: e for e in json.loads((out / "errors.json").read_text(encoding="utf-8"))}
    assert set(errors) == {"empty", "notes", "garbage", "truncated", "locked", "blank", "big"}
    assert errors["empty"]["type"] == "EmptyFile"
    assert errors["locked"]["type"] == "EncryptedFile"
    assert errors["big"]["type"] == "TooLarge" and "30 pages" in errors["big"]["error"]
    assert errors["blank"]["type"] == "NoFormsFound"
    assert errors["garbage"]["type"] == "UnsupportedFile"
    assert all("\n" not in e["error"] and "Traceback" not in e["error"] for e in errors.values())
    assert (out / "run_on.json").exists()  # the good document still came out


def test_a_damaged_pdf_is_one_line_not_mupdfs_messages(tmp_path, sample):
    """MuPDF prints every error it recovers from to stdout — a truncated PDF gives
    dozens of lines. The command keeps them and says what happened once, per file."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "cut.pdf").write_bytes(sample.read_bytes()[:3000])  # opens (repaired), reads nothing
    (tmp_path / "in" / "good.pdf").write_bytes(sample.read_bytes())
    out = tmp_path / "out"
    for workers in ("1", "2"):
        r = subprocess.run([sys.executable, "-m", "extractor.cli", "extract", str(tmp_path / "in"), "-o", str(out), "--force",
                            "--workers", workers, "--format", "json"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 1
        said = r.stdout + r.stderr
        assert "MuPDF" not in said.replace("(MuPDF:", ""), said
        lines = [ln for ln in said.splitlines() if "cut.pdf" in ln]
        assert len(lines) == 1 and "damaged" in lines[0] and "cannot find startxref" in lines[0]
        error = json.loads((out / "errors.json").read_text(encoding="utf-8"))[0]
        assert error["type"] == "NoFormsFound" and "the PDF is damaged" in error["error"]
        assert len(json.loads((out / "good.json").read_text(encoding="utf-8"))["forms"]) == 12


def test_forms_read_past_a_broken_page_say_so(tmp_path, sample):
    """A page MuPDF cannot read is skipped and the rest read; the form whose pages it
    was among carries a damaged_pages finding, the forms read from sound pages do not."""
    from extractor.pipeline import extract_document

    doc = pymupdf.open(sample)
    xref = doc[4].get_contents()[0]
    doc.update_stream(xref, b"\x78\x9c" + b"not deflate data" * 20, compress=False)
    doc.xref_set_key(xref, "Filter", "/FlateDecode")
    doc.save(tmp_path / "broken_page5.pdf")
    forms = extract_document(tmp_path / "broken_page5.pdf").forms
    noted = [f.pages for f in forms if any(x.code == "damaged_pages" and "the PDF is damaged" in x.message for x in f.findings)]
    assert noted == [[4, 6]]
    assert len(forms) == 10  # of 12: page 5 held the rest of one form and the start of another


def test_mupdf_warnings_alone_are_no_damage(sample):
    from extractor.read.documents import open_document

    doc = open_document(sample)
    try:
        pymupdf.mupdf.fz_warn("substituting font for 'SimSun'")  # what a sound file can say
        assert doc.damage() is None
        pymupdf.mupdf.fz_warn("format error: object is not a stream")
        assert doc.damage() == "the PDF is damaged (MuPDF: object is not a stream; 1 more message)"
        assert doc.damage(new_only=True) is None  # nothing said since
    finally:
        doc.close()


def test_text_exports_in_gbk_and_utf16_read_like_utf8(tmp_path, root):
    """Chinese Windows saves text as GBK (GB18030) or, as "Unicode", UTF-16: the same
    export in either gives the same forms; a UTF-8 file with a stray bad byte stays
    UTF-8 (GB18030 would read it all as other characters); binary stays refused."""
    from extractor.read.documents import text_encoding, text_pieces
    from extractor.pipeline import extract_document

    seed = root / "fixtures" / "text" / "001_4588a3eccc5d7ba5.txt"
    text = seed.read_text(encoding="utf-8")
    cut = text.index("\n", 2000)
    versions = {"gbk.txt": text.encode("gb18030"), "utf16.txt": text.encode("utf-16")}
    expected = [f.model_dump(exclude={"provenance"}) for f in extract_document(seed).forms]
    assert len(expected) >= 5
    for name, data in versions.items():
        (tmp_path / name).write_bytes(data)
        forms = extract_document(tmp_path / name).forms
        assert [f.model_dump(exclude={"provenance"}) for f in forms] == expected, name
    stray = text[:cut].encode() + b"\xff" + text[cut:].encode()
    (tmp_path / "stray.txt").write_bytes(stray)
    assert "".join(text_pieces(tmp_path / "stray.txt", text_encoding(stray))) == text[:cut] + "\ufffd" + text[cut:]
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01binary" * 50)
    r = runner.invoke(app, ["extract", str(tmp_path / "blob.txt"), "-o", str(tmp_path / "out")])
    assert r.exit_code == 1 and "binary content" in r.output


def test_check_rewrites_findings_and_strict_exit(tmp_path, root):
    text = root / "fixtures" / "text" / "000_01aad9c628fef0c3.txt"
    assert runner.invoke(app, ["extract", str(text), "-o", str(tmp_path)]).exit_code == 0
    path = tmp_path / "000_01aad9c628fef0c3.json"
    assert runner.invoke(app, ["check", str(path), "--strict"]).exit_code == 0
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["forms"][0]["total_score"] = 98.0  # a person "corrects" the total wrongly
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = runner.invoke(app, ["check", str(path), "--strict"])
    assert r.exit_code == 1
    after = json.loads(path.read_text(encoding="utf-8"))
    assert any(f["code"] == "total_score" for f in after["forms"][0]["findings"])
    # The folder's tables follow the corrected file: its value and its new finding.
    con = sqlite3.connect(tmp_path / "forms.sqlite")
    assert con.execute("select total_score from forms where form = 1").fetchone()[0] == 98.0
    assert con.execute("select count(*) from findings where form = 1 and code = 'total_score'").fetchone()[0] == 1
    assert "98" in (tmp_path / "forms.csv").read_text(encoding="utf-8-sig").splitlines()[1]
    assert "tables rewritten" in r.output


def test_check_keeps_the_findings_it_does_not_compute(tmp_path, root):
    """`check` recomputes the checker's findings only: triage's read_poorly, the
    pipeline's not_extracted, grounding's ungrounded_value stay (seed 001 has two
    forms the rules read poorly)."""
    text = root / "fixtures" / "text" / "001_4588a3eccc5d7ba5.txt"
    r = runner.invoke(app, ["extract", str(text), "-o", str(tmp_path)])
    assert "2 read poorly" in r.output
    path = tmp_path / "001_4588a3eccc5d7ba5.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    others = [{"code": "not_extracted", "severity": "warning", "message": "the LLM did not answer"},
              {"code": "engines_disagree", "severity": "warning", "message": "rules and LLM differ"},
              {"code": "ungrounded_value", "severity": "error", "message": "not printed", "field": "total_score"}]
    doc["forms"][1]["findings"] += others
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    before = [sorted(f["code"] for f in form["findings"]) for form in doc["forms"]]
    assert runner.invoke(app, ["check", str(path)]).exit_code == 0
    after = [sorted(f["code"] for f in form["findings"]) for form in json.loads(path.read_text(encoding="utf-8"))["forms"]]
    assert after == before and sum("read_poorly" in codes for codes in after) == 2


def test_a_folder_finds_every_suffix_a_file_given_by_name_is_read_with(tmp_path, root):
    """One suffix list: .tsv and .markdown in a folder are found, as they are read
    when named directly."""
    from extractor.batch import collect_inputs

    seed = (root / "fixtures" / "text" / "004_f03db79725452826.txt").read_bytes()
    (tmp_path / "in").mkdir()
    for i, name in enumerate(("a.tsv", "b.markdown", "c.txt", "d.md", "skip.pptx")):
        (tmp_path / "in" / name).write_bytes(seed + b"\n" * i)  # (other bytes: four documents, not one read once)
    assert sorted(p.name for p in collect_inputs([tmp_path / "in"])) == ["a.tsv", "b.markdown", "c.txt", "d.md"]
    r = runner.invoke(app, ["extract", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.json") if p.stem not in ("errors", "metadata", "summary")) == ["a", "b", "c", "d"]


@pytest.mark.parametrize("content, says", [
    ("tolerance = [", "not TOML"),
    ("no_such_setting = 1", "no_such_setting: Extra inputs are not permitted"),
    (None, "No such file"),
])
def test_a_bad_config_is_one_line_in_check_and_extract(tmp_path, sample, content, says):
    config = tmp_path / "bad.toml"
    if content is not None:
        config.write_text(content, encoding="utf-8")
    for args in (["check", str(tmp_path)], ["extract", str(sample), "-o", str(tmp_path / "o")]):
        r = runner.invoke(app, [*args, "--config", str(config)])
        assert r.exit_code == 2 and (r.exception is None or isinstance(r.exception, SystemExit)), r.output
        lines = r.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], r.output


def test_max_bytes_is_an_option_and_its_message_names_it(tmp_path, sample):
    r = runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path), "--max-bytes", "1000"])
    assert r.exit_code == 1
    errors = json.loads((tmp_path / "errors.json").read_text(encoding="utf-8"))
    assert errors[0]["type"] == "TooLarge" and "--max-bytes" in errors[0]["error"]


def test_schema_describes_the_contract():
    r = runner.invoke(app, ["schema"])
    schema = json.loads(r.output)
    props = schema["$defs"]["ProjectForm"]["properties"]
    for key in ("kind", "title", "year", "project_name", "department", "implementing_unit", "funding_unit",
                "funding", "goal_expected", "goal_actual", "indicators", "total_score", "grade", "pages", "findings"):
        assert key in props


def test_unknown_engine_and_format_are_refused(tmp_path, sample):
    assert runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path), "--engine", "magic"]).exit_code == 2
    assert runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path), "--format", "json,pdf"]).exit_code == 2


@pytest.mark.parametrize("command", ["extract", "check", "eval", "schema", "review serve", "review export-gold"])
def test_every_command_has_help_with_an_example(command):
    r = runner.invoke(app, [*command.split(), "--help"])
    assert r.exit_code == 0 and "Example:" in r.output


def test_streamed_json_is_the_same_document_as_extract_document(tmp_path, root):
    """`extractor extract` writes each form as it is finished (bounded memory); the
    file must be the very document `extract_document` returns."""
    from extractor.io.outputs import load_document_json
    from extractor.pipeline import ExtractOptions, extract_document, extract_to_json

    for path in (root / "fixtures" / "pdf" / "run_on.pdf", root / "fixtures" / "pdf" / "department_and_project.pdf"):
        target = tmp_path / f"{path.stem}.json"
        seen = []
        stats = extract_to_json(path, target, ExtractOptions(engine="rules"), on_form=seen.append)
        streamed, whole = load_document_json(target), extract_document(path, ExtractOptions(engine="rules"))
        assert streamed.forms == whole.forms and streamed.source == whole.source and len(seen) == stats.forms == len(whole.forms)
        assert stats.forms_with_errors == sum(any(f.severity == "error" for f in x.findings) for x in whole.forms)


def test_a_later_input_of_the_same_name_never_replaces_another_documents_result(tmp_path, root):
    """a/report.txt, then in a later run b/report.txt (other bytes): both results stay,
    the second named apart and said so; the same bytes by another path are the same
    document (skipped as unchanged); an input named errors.txt keeps its rows."""
    texts = sorted((root / "fixtures" / "text").glob("*.txt"))[:2]
    for folder, text in zip("ab", texts):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "report.txt").write_bytes(text.read_bytes())
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "report.txt").write_bytes(texts[0].read_bytes())
    (tmp_path / "errors.txt").write_bytes(sorted((root / "fixtures" / "text").glob("*.txt"))[2].read_bytes())
    out = tmp_path / "out"
    assert runner.invoke(app, ["extract", str(tmp_path / "a" / "report.txt"), "-o", str(out)]).exit_code == 0
    r = runner.invoke(app, ["extract", str(tmp_path / "b" / "report.txt"), "-o", str(out)])
    assert r.exit_code == 0 and "named apart from another document in the output folder" in r.output
    results = sorted(p.name for p in out.glob("*report.json"))
    assert results == ["b_report.json", "report.json"]  # (named by its folder, readably)
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["source"]["path"].endswith("a/report.txt")
    r = runner.invoke(app, ["extract", str(tmp_path / "c" / "report.txt"), "-o", str(out)])
    assert "1 unchanged, skipped" in r.output
    assert runner.invoke(app, ["extract", str(tmp_path / "errors.txt"), "-o", str(out)]).exit_code == 0
    assert runner.invoke(app, ["extract", str(tmp_path / "a" / "report.txt"), "-o", str(out)]).exit_code == 0
    con = sqlite3.connect(out / "forms.sqlite")
    documents = {d for (d,) in con.execute("select distinct document from forms")}
    assert len(documents) == 3 and "report" in documents and any(d.endswith("_errors") for d in documents)


def test_a_document_is_its_content_whatever_path_or_run_reached_it(tmp_path, root):
    """extract years/2023, then extract years (where 2024 holds another file of the same
    name): the 2023 file keeps its result, the 2024 one is named by its folder, and the
    forms are counted once each; a copy of a file under another name is read once and
    listed with it."""
    texts = sorted((root / "fixtures" / "text").glob("*.txt"))
    for year, text in (("2023", texts[0]), ("2024", texts[1])):
        (tmp_path / "years" / year).mkdir(parents=True)
        (tmp_path / "years" / year / "自评表.txt").write_bytes(text.read_bytes())
    (tmp_path / "years" / "backup").mkdir()
    (tmp_path / "years" / "backup" / "自评表.txt").write_bytes(texts[1].read_bytes())
    out = tmp_path / "out"
    assert runner.invoke(app, ["extract", str(tmp_path / "years" / "2023"), "-o", str(out)]).exit_code == 0
    r = runner.invoke(app, ["extract", str(tmp_path / "years"), "-o", str(out)])
    assert r.exit_code == 0 and "1 file with the same bytes as another input, read once" in r.output
    assert sorted(p.stem for p in out.glob("*自评表.json")) == ["2024_自评表", "自评表"]
    con = sqlite3.connect(out / "forms.sqlite")
    per_document = dict(con.execute("select document, count(*) from forms group by document"))
    assert set(per_document) == {"自评表", "2024_自评表"}
    assert sum(per_document.values()) == con.execute("select count(distinct form_key) from forms").fetchone()[0]
    (other,) = con.execute("select other_paths from documents where document = '2024_自评表'").fetchone()
    assert json.loads(other) == [str(tmp_path / "years" / "backup" / "自评表.txt")]
    assert "1 unchanged" in r.output  # (the 2023 file, reached through the wider folder)
    (copy,) = [line for line in r.output.splitlines() if line.startswith("COPY")]
    assert "backup" in copy and "the same bytes as" in copy and "2024_自评表" in copy


def test_a_document_with_no_form_is_listed_and_sets_the_exit_status(tmp_path, sample):
    """A 决算 report or a README in the folder is read whole and holds no form: one
    NO FORM line, counted on the summary line, listed in errors.json, and the exit
    status is 1, as for any file the batch gave no form of; --no-form-ok leaves it 0
    for a batch of whole disclosures, where most documents are such."""
    notes = tmp_path / "notes.txt"
    notes.write_text("本单位2023年度决算说明。\n一、收入支出决算总体情况\n", encoding="utf-8")
    r = runner.invoke(app, ["extract", str(sample), str(notes), "-o", str(tmp_path / "out")])
    assert r.exit_code == 1, r.output
    (line,) = [ln for ln in r.output.splitlines() if "notes.txt" in ln]
    assert line.startswith("NO FORM") and "no self-evaluation form" in line
    assert "2 documents (0 unchanged, skipped; 0 failed; 1 with no self-evaluation form)" in r.output
    listed = json.loads((tmp_path / "out" / "errors.json").read_text(encoding="utf-8"))
    assert [(e["document"], e["type"]) for e in listed] == [("notes", "NoFormsFound")]
    ok = runner.invoke(app, ["extract", str(sample), str(notes), "-o", str(tmp_path / "out2"), "--no-form-ok"])
    assert ok.exit_code == 0, ok.output
    assert "1 with no self-evaluation form" in ok.output
    alone = runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path / "out3")])
    assert alone.exit_code == 0, alone.output


def test_version_short_help_an_empty_check_and_auto_without_an_endpoint_say_so(tmp_path, sample, monkeypatch):
    from extractor import __version__

    assert runner.invoke(app, ["--version"]).output.strip() == f"extractor {__version__}"
    assert "Usage" in runner.invoke(app, ["-h"]).output and "Usage" in runner.invoke(app, ["extract", "-h"]).output
    (tmp_path / "empty").mkdir()
    r = runner.invoke(app, ["check", str(tmp_path / "empty")])
    assert r.exit_code == 2 and r.output.startswith("error: no result files to check")
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "EXTRACTOR_MODEL"):
        monkeypatch.delenv(var, raising=False)
    r = runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path / "out")])
    assert "note: no LLM endpoint is configured" in r.output
    assert r.output.strip().splitlines()[-1].startswith("1 document ")  # (the summary stays the last line)
    r = runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path / "out2"), "--engine", "rules"])
    assert "note: no LLM endpoint" not in r.output


def test_a_folder_says_what_it_passes_over_by_type(tmp_path, root):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "report.txt").write_bytes((root / "fixtures" / "text" / "004_f03db79725452826.txt").read_bytes())
    for name in ("scan.bmp", "a.zip", "b.zip", "notes"):
        (folder / name).write_bytes(b"x")
    r = runner.invoke(app, ["extract", str(folder), "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "4 files in the folders of types not read (2 .zip, " in r.output and "1 .bmp" in r.output and "1 (no suffix)" in r.output


def test_help_fits_a_screen_in_panels_and_every_command_has_an_example():
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    ran = subprocess.run([sys.executable, "-m", "extractor.cli", "extract", "--help"], capture_output=True, text=True, env=env)
    lines = ran.stdout.splitlines()
    assert ran.returncode == 0 and len(lines) < 60, len(lines)
    text = ran.stdout
    assert all(panel in text for panel in ("Input and output", "Engine and LLM", "Budgets", "Cluster"))
    assert "[default: 512 MiB]" in text and "zh|en" in text
    for command in ("extract", "check", "review", "review serve", "review export-gold", "schema", "explain", "eval", "layout", "version", ""):
        out = subprocess.run([sys.executable, "-m", "extractor.cli", *command.split(), "--help"], capture_output=True, text=True, env=env).stdout
        assert "Example: extractor " in out or not command, command
        assert not re.search(r"<(bool|int|float|str|path|list)", out, re.I), (command, out)  # (no Python types as labels)


def test_quiet_keeps_failures_and_the_summary_and_the_log_has_every_line(tmp_path, sample):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    log = tmp_path / "run.log"
    r = runner.invoke(app, ["extract", str(sample), str(bad), "-o", str(tmp_path / "out"), "-q", "--log", str(log), "--engine", "rules"])
    assert r.exit_code == 1
    lines = r.output.strip().splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["FAILED"] and lines[-1].startswith("2 documents")
    logged = log.read_text(encoding="utf-8").splitlines()
    assert logged[0].startswith("ok") and "run_on.pdf" in logged[0] and any(x.startswith("FAILED") for x in logged)
    assert logged[-1] == lines[-1]


def test_layout_and_review_say_in_one_line_what_they_cannot_do(tmp_path, root):
    r = runner.invoke(app, ["layout", str(root / "fixtures" / "office" / "national_xlsx.xlsx"), "-o", str(tmp_path / "x.png")])
    assert r.exit_code == 1 and "read by its cells" in r.output and not (tmp_path / "x.png").exists()
    r = runner.invoke(app, ["layout", str(root / "fixtures" / "pdf" / "run_on.pdf"), "-o", str(tmp_path / "no" / "x.png")])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and "not a folder" in r.output
    (tmp_path / "plain").mkdir()
    r = runner.invoke(app, ["review", "serve", str(tmp_path / "plain")])
    assert r.exit_code == 2 and "holds no result" in r.output
    assert list((tmp_path / "plain").iterdir()) == []  # (no review.sqlite written into it)


def test_verbose_names_each_flagged_form_and_what_was_found(tmp_path, sample):
    r = runner.invoke(app, ["extract", str(sample), "-o", str(tmp_path / "out"), "-v", "--engine", "rules"])
    assert r.exit_code == 0, r.output
    forms = json.loads((tmp_path / "out" / "run_on.json").read_text(encoding="utf-8"))["forms"]
    flagged = [(i, f) for i, f in enumerate(forms, 1) if any(x["severity"] in ("error", "warning") for x in f["findings"])]
    lines = [line.strip() for line in r.output.splitlines() if line.startswith("        form ")]
    assert len(lines) == len(flagged) > 0
    for line, (i, f) in zip(lines, flagged):
        assert line.startswith(f"form {i} {f['project_name']}: ")
        assert all(x["code"] in line for x in f["findings"] if x["severity"] in ("error", "warning"))


def _mixed_folder(tmp_path, root):
    """A folder with a form, a file with no form, an empty PDF and an encrypted one."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.pdf").write_bytes((root / "fixtures" / "pdf" / "landscape.pdf").read_bytes())
    (folder / "b.txt").write_text("会议纪要：今年的工作安排如下。", encoding="utf-8")
    (folder / "c.pdf").write_bytes(b"")
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    doc.save(folder / "d.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u")
    return folder


@pytest.mark.parametrize("how", ["option", "option before the command", "locale", "EXTRACTOR_LANG"])
def test_messages_in_chinese_when_asked_the_files_in_english(tmp_path, root, monkeypatch, how):
    """--lang zh (or a Chinese locale) puts every line of a batch in Chinese, a worker
    process's errors too (their Chinese crosses the process boundary); errors.json and
    summary.json keep English whoever ran the batch."""
    folder = _mixed_folder(tmp_path, root)
    args = ["extract", str(folder), "-o", str(tmp_path / "out"), "--workers", "2"]
    if how == "option":
        args += ["--lang", "zh"]
    elif how == "option before the command":
        args = ["--lang", "zh", *args]
    elif how == "locale":
        monkeypatch.delenv("EXTRACTOR_LANG")
        monkeypatch.delenv("LC_ALL", raising=False)
        monkeypatch.delenv("LC_MESSAGES", raising=False)
        monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    else:
        monkeypatch.setenv("EXTRACTOR_LANG", "zh")
        monkeypatch.setenv("LANG", "en_US.UTF-8")
    r = runner.invoke(app, args)
    assert r.exit_code == 1, r.output
    lines = r.output.splitlines()
    assert f"完成 {folder / 'a.pdf'}: 7 张表（" in r.output
    assert f"无自评表 {folder / 'b.txt'}: 未找到绩效自评表" in lines
    assert f"失败 {folder / 'c.pdf'}: 文件是空的" in lines
    assert f"失败 {folder / 'd.pdf'}: PDF 设有密码加密" in lines
    assert lines[-1].startswith("4 份文件（0 份未变、跳过；2 份失败；1 份无自评表），")
    assert "7 张表" in lines[-1] and "秒" in lines[-1]
    assert not re.search(r"\b(forms?|documents?|failed|error)\b", r.output), r.output  # nothing left in English
    errors = json.loads((tmp_path / "out" / "errors.json").read_text(encoding="utf-8"))
    assert {e["error"] for e in errors if e["status"] == "failed"} == {"the file is empty", "the PDF is encrypted with a password"}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["line"].startswith("4 documents (0 unchanged, skipped; 2 failed; 1 with no self-evaluation form)")


def test_english_wins_over_a_chinese_locale_when_asked(tmp_path, root, monkeypatch):
    monkeypatch.delenv("EXTRACTOR_LANG")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    r = runner.invoke(app, ["extract", str(_mixed_folder(tmp_path, root)), "-o", str(tmp_path / "out"), "--lang", "en"])
    assert "FAILED " in r.output and "the file is empty" in r.output and "4 documents (" in r.output
    r = runner.invoke(app, ["check", str(tmp_path / "out" / "gone.json")])
    assert r.exit_code == 1 and "错误：" in r.output and "文件不存在" in r.output  # (the locale, without --lang)


def test_an_output_folder_inside_the_folder_given_is_not_read(tmp_path, root):
    """`extract reports -o reports/out`, then `extract reports -o out2`: reports/out is
    the tool's own output (its CSVs would be read as text exports); it is left out, and
    the summary says so."""
    folder = _mixed_folder(tmp_path, root)
    assert runner.invoke(app, ["extract", str(folder), "-o", str(folder / "out")]).exit_code == 1
    r = runner.invoke(app, ["extract", str(folder), "-o", str(tmp_path / "out2")])
    assert "4 documents (" in r.output, r.output
    assert f"left out 1 output folder of extractor's ({folder / 'out'})" in r.output
    summary = json.loads((tmp_path / "out2" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["output_folders_left_out"] == [str(folder / "out")] and summary["run"]["passed_over"] == {}
    r = runner.invoke(app, ["extract", str(folder / "out"), "-o", str(tmp_path / "out3")])
    assert r.exit_code == 2 and "no input files found" in r.output and "an output folder of extractor's" in r.output
