"""Decisions: logged, applied, re-checked, kept across re-extraction and `check`."""

import csv
import json
import sqlite3
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.io.outputs import load_document_json
from extractor.review.decisions import apply, extracted_values
from extractor.review.store import ReviewLog
from extractor.review.workspace import DecisionError, Workspace

runner = CliRunner()
DOC = "one_per_page"


def flagged(ws: Workspace):
    """The first form with an error and its first error finding."""
    item = next(q for q in ws.queue() if q.errors)
    form = ws.result(item.document).forms[item.form - 1]
    return item, next(f for f in form.findings if f.severity == "error")


def corrected(out):
    """The first flagged form's disputed rate corrected: (its queue item, the finding,
    the result as it stands, the log's decisions on the document)."""
    ws = Workspace(out)
    item, finding = flagged(ws)
    ws.decide(item.document, item.form, finding.field, finding.code, "correct", "94.46%")
    result = load_document_json(out / f"{DOC}.json")
    return item, finding, result, ReviewLog(out).for_document(result.source.sha256)


def test_the_queue_lists_flagged_forms_errors_first(out):
    items = Workspace(out).queue()
    assert items and all(q.state == "undecided" for q in items)
    errors = [q.errors > 0 for q in items]
    assert errors == sorted(errors, reverse=True) and errors[0]
    result = load_document_json(out / f"{DOC}.json")
    needs = {i for i, f in enumerate(result.forms, 1) if any(x.severity in ("error", "warning") for x in f.findings)}
    assert {q.form for q in items} == needs


def test_a_correction_replaces_the_value_rechecks_and_keeps_the_extracted_one(out):
    ws = Workspace(out)
    item, finding = flagged(ws)
    assert finding.code == "rate_indicator_mismatch"
    printed = str(finding.expected) + "%"  # the reviewer reads the page: it prints the rate
    form = ws.decide(item.document, item.form, finding.field, finding.code, "correct", printed, reviewer="ann")
    assert form.review.state == "decided" and form.review.corrected == [finding.field]
    assert not [f for f in form.findings if f.code == finding.code]
    on_disk = load_document_json(out / f"{DOC}.json").forms[item.form - 1]
    assert on_disk.indicators[0].actual == printed
    src = on_disk.provenance[finding.field]
    assert src.reviewed.extracted == "100.00(%)" and src.reviewed.reviewer == "ann" and src.bbox  # the box is still there
    row = sqlite3.connect(out / "review.sqlite").execute("SELECT field, action, extracted, decided, reviewer FROM decisions").fetchall()
    assert row == [(finding.field, "correct", '"100.00(%)"', json.dumps(printed), "ann")]


def test_confirm_and_dismiss_attach_to_the_finding_and_a_reason_is_required(out):
    ws = Workspace(out)
    item, finding = flagged(ws)
    with pytest.raises(DecisionError, match="reason"):
        ws.decide(item.document, item.form, finding.field, finding.code, "dismiss", comment="  ")
    form = ws.decide(item.document, item.form, finding.field, finding.code, "confirm", comment="the form prints 100%")
    kept = next(f for f in form.findings if f.code == finding.code)
    assert (kept.decision, kept.comment) == ("confirm", "the form prints 100%")
    assert form.review.state == "decided" and form.review.open == 0
    # Reopening undoes it (appended, not deleted): the finding is open again.
    form = ws.decide(item.document, item.form, finding.field, finding.code, "reopen")
    assert next(f for f in form.findings if f.code == finding.code).decision is None
    assert form.review.state == "undecided"
    assert [a for (a,) in sqlite3.connect(out / "review.sqlite").execute("SELECT action FROM decisions ORDER BY id")] == ["confirm", "reopen"]


def test_a_value_of_the_wrong_type_or_a_missing_field_is_refused(out):
    ws = Workspace(out)
    item, _ = flagged(ws)
    with pytest.raises(DecisionError, match="not a number"):
        ws.decide(item.document, item.form, "funding.total.executed", "", "correct", "eighty")
    with pytest.raises(DecisionError, match="no field"):
        ws.decide(item.document, item.form, "indicators[99].score", "", "correct", "1")
    with pytest.raises(KeyError):
        ws.decide("../" + DOC, item.form, "title", "", "correct", "x")
    assert not ReviewLog(out).for_document(load_document_json(out / f"{DOC}.json").source.sha256)


def test_a_correction_that_breaks_the_arithmetic_raises_the_checker_findings(out):
    ws = Workspace(out)
    item, _ = flagged(ws)
    form = ws.decide(item.document, item.form, "funding.total.executed", "", "correct", "1,000.5")
    assert form.funding.total.executed == Decimal("1000.5")
    codes = {f.code for f in form.findings if f.severity == "error"}
    assert "execution_rate" in codes and form.review.state == "in_progress"


def test_the_tables_carry_the_review_state_decided_values_and_decisions(out):
    ws = Workspace(out, tables_delay=0)
    item, finding = flagged(ws)
    ws.decide(item.document, item.form, finding.field, finding.code, "correct", "94.46%")
    ws.close()  # (the tables follow decisions a moment later; closing writes them now)
    rows = {(r["document"], r["form"]): r for r in csv.DictReader(open(out / "forms.csv", encoding="utf-8-sig"))}
    row = rows[(item.document, str(item.form))]
    assert row["review"] == "decided" and row["corrected"] == finding.field
    con = sqlite3.connect(out / "forms.sqlite")
    assert con.execute("SELECT actual FROM indicators WHERE document=? AND form=? AND row=1", (item.document, item.form)).fetchone() == ("94.46%",)
    assert {r["review"] for r in rows.values()} >= {"decided", "undecided"}


def test_extract_force_reapplies_decisions_by_sha256(out, tmp_path):
    ws = Workspace(out)
    item, finding = flagged(ws)
    ws.decide(item.document, item.form, finding.field, finding.code, "correct", "94.46%")
    other = next(q for q in ws.queue() if q.errors and q.form != item.form)
    other_finding = next(f for f in ws.result(other.document).forms[other.form - 1].findings if f.severity == "error")
    ws.decide(other.document, other.form, other_finding.field, other_finding.code, "dismiss", comment="rate is of the year")
    ws.close()
    source = load_document_json(out / f"{DOC}.json").source.path
    r = runner.invoke(app, ["extract", source, "-o", str(out), "--force", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert "reviewers' decisions applied again to 2 forms, 0 conflicts" in r.output
    again = load_document_json(out / f"{DOC}.json")
    assert again.forms[item.form - 1].indicators[0].actual == "94.46%"
    assert again.forms[item.form - 1].review.state == "decided"
    dismissed = [f for f in again.forms[other.form - 1].findings if f.code == other_finding.code]
    assert dismissed and dismissed[0].decision == "dismiss" and dismissed[0].comment == "rate is of the year"


def test_a_decision_on_a_value_that_now_reads_differently_is_a_conflict_not_applied(out):
    item, finding, result, decisions = corrected(out)
    # An improved engine reads the cell differently next time.
    reread = extracted_values(result.forms[item.form - 1])
    reread.indicators[0].actual = "99.00(%)"
    form = apply(reread, decisions)
    assert form.indicators[0].actual == "99.00(%)"  # not overwritten
    (c,) = form.review.conflicts
    assert (c["field"], c["extracted_then"], c["extracted_now"], c["decided"]) == (finding.field, "100.00(%)", "99.00(%)", "94.46%")
    assert form.review.state != "decided"


def test_a_decision_keeps_the_reading_it_was_made_on_and_a_conflict_says_what_changed_since(out):
    """fingerprint.py is the review's staleness rule too: the log keeps the result's
    fingerprint with each decision; one not applied on a later reading names what
    changed between the two readings (here the engine: an LLM read it again)."""
    item, finding, result, decisions = corrected(out)
    assert result.fingerprint is not None and decisions[-1].reading == result.fingerprint.reading()
    reread = extracted_values(result.forms[item.form - 1])
    reread.indicators[0].actual = "99.00(%)"
    by_llm = result.fingerprint.model_copy(update={"engine": "llm", "model": "m", "server": "http://127.0.0.1:1/v1",
                                                    "prompts": ("extract_form.v9",)})
    (c,) = apply(reread, decisions, reading=by_llm).review.conflicts
    assert c["read_again"] == "the engine, the prompts, the model, the LLM server changed"
    (c,) = apply(reread, decisions, reading=result.fingerprint).review.conflicts  # the same reading: nothing to say
    assert "read_again" not in c
    # (a decision from before readings were kept says nothing either, rather than guess)
    import dataclasses
    (c,) = apply(reread, [dataclasses.replace(d, reading="") for d in decisions], reading=by_llm).review.conflicts
    assert "read_again" not in c


def test_a_review_log_from_before_readings_were_kept_is_opened_and_extended(tmp_path):
    con = sqlite3.connect(tmp_path / "review.sqlite")
    con.executescript("""CREATE TABLE decisions (id INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT NOT NULL,
        document TEXT NOT NULL, form INTEGER NOT NULL, field TEXT NOT NULL, code TEXT NOT NULL, action TEXT NOT NULL,
        extracted TEXT, decided TEXT, comment TEXT NOT NULL DEFAULT '', reviewer TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL, label TEXT NOT NULL DEFAULT '');
        INSERT INTO decisions (sha256, document, form, field, code, action, at) VALUES ('a', 'd', 1, 'year', 'x', 'confirm', 't');""")
    con.commit()
    con.close()
    log = ReviewLog(tmp_path)
    with log.transaction() as c:
        log.append(c, sha256="a", document="d", form=1, field="year", code="y", action="dismiss", reading='{"engine": "rules"}')
    old, new = log.for_document("a")
    assert (old.code, old.reading) == ("x", "") and (new.code, new.reading) == ("y", '{"engine": "rules"}')
    log.close()


def test_check_keeps_the_decisions_on_findings_still_there(out):
    ws = Workspace(out)
    item, finding = flagged(ws)
    ws.decide(item.document, item.form, finding.field, finding.code, "confirm", comment="printed")
    r = runner.invoke(app, ["check", str(out)])
    assert r.exit_code == 0, r.output
    form = load_document_json(out / f"{DOC}.json").forms[item.form - 1]
    assert next(f for f in form.findings if f.code == finding.code).decision == "confirm"
    assert form.review.state == "decided"


def test_a_file_behind_the_log_is_derived_again_when_read(out):
    """The server killed between the log's commit and the file's rename: the log wins."""
    ws = Workspace(out)
    item, finding = flagged(ws)
    before = (out / f"{DOC}.json").read_bytes()
    ws.decide(item.document, item.form, finding.field, finding.code, "confirm", comment="printed")
    (out / f"{DOC}.json").write_bytes(before)  # as if the rename never happened
    fresh = Workspace(out)
    form = fresh.result(DOC).forms[item.form - 1]
    assert next(f for f in form.findings if f.code == finding.code).decision == "confirm"
    assert load_document_json(out / f"{DOC}.json").forms[item.form - 1].review.state == "decided"


def test_two_reviewers_on_one_folder_lose_nothing(out):
    """Two servers (two workspaces, two connections to the log) deciding at once on
    the same document: every decision is in the log and in the result file."""
    import threading

    first, second = Workspace(out), Workspace(out)
    errors = []

    def work(ws, form, n):
        try:
            for i in range(n):
                ws.decide(DOC, form, "title", "", "correct", f"form {form} title {i}", reviewer=f"reviewer {form}")
        except Exception as exc:  # (a lost race would show as an exception or a missing row)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ws, form, 15)) for ws, form in ((first, 1), (second, 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    log = ReviewLog(out).history(1000)
    assert sorted(d.reviewer for d in log) == ["reviewer 1"] * 15 + ["reviewer 2"] * 15
    result = load_document_json(out / f"{DOC}.json")
    assert (result.forms[0].title, result.forms[1].title) == ("form 1 title 14", "form 2 title 14")


def test_a_finding_on_a_whole_column_can_be_confirmed(out):
    """weights_sum names "indicators[].weight": no one value to correct, but a decision all the same."""
    from extractor.io.outputs import write_document_json

    result = load_document_json(out / f"{DOC}.json")
    result.forms[0].indicators[0].weight += 1
    from extractor.review.decisions import recheck

    recheck(result.forms[0])
    write_document_json(result, out / f"{DOC}.json")
    finding = next(f for f in result.forms[0].findings if f.code == "weights_sum")
    assert finding.field == "indicators[].weight"
    form = Workspace(out).decide(DOC, 1, finding.field, finding.code, "confirm", comment="the form's weights sum to 101")
    assert next(f for f in form.findings if f.code == "weights_sum").decision == "confirm"


def test_a_decision_on_the_form_that_stood_at_this_place_is_not_applied_to_another(out):
    """A re-extraction that finds the forms in another order: the decision keeps its form."""
    item, finding, result, decisions = corrected(out)
    other = next(f for i, f in enumerate(result.forms, 1) if i != item.form and f.project_name != result.forms[item.form - 1].project_name)
    form = apply(extracted_values(other), decisions)  # another form now at the decided place
    assert form.indicators[0].actual == other.indicators[0].actual and not form.review.corrected
    (c,) = form.review.conflicts
    assert c["form_then"] == result.forms[item.form - 1].project_name and c["form_now"] == other.project_name


def test_a_table_of_rows_is_not_offered_for_correction_and_a_typed_value_is_refused(out):
    """`missing_field indicators` offered Correct prefilled `[]`; typing text was a 500."""
    from extractor.models import Finding
    from extractor.review.view import form_view
    from extractor.review.workspace import DecisionError, Workspace

    ws = Workspace(out)
    name = ws.names()[0]
    result = ws.result(name)
    form = result.forms[0]
    form.findings = [*form.findings, Finding(code="missing_field", severity="error", message="no indicator rows",
                                             field="indicators")]
    view = form_view(result, 1, lambda page: None)
    (row,) = [x for x in view["findings"] if x["f"].field == "indicators"]
    assert not row["correctable"]
    with pytest.raises(DecisionError, match="table of rows"):
        ws.decide(name, 1, "indicators", "missing_field", "correct", value="abc", reviewer="t")


def test_decisions_on_a_source_replaced_by_another_version_are_carried_over_to_confirm_again(tmp_path, root):
    """A source changed by a byte (pages identical) and read again: its forms keep their
    earlier decisions as conflicts marked carried over (to confirm again), not dropped;
    deciding again clears each; the gold export leaves the form out until then."""
    import shutil

    from extractor.review.gold import export_gold

    source = tmp_path / "in" / f"{DOC}.pdf"
    source.parent.mkdir()
    shutil.copy(root / "fixtures" / "pdf" / f"{DOC}.pdf", source)
    out = tmp_path / "out"
    assert runner.invoke(app, ["extract", str(source), "-o", str(out), "--format", "json"]).exit_code == 0
    ws = Workspace(out)
    item, finding = flagged(ws)
    ws.decide(item.document, item.form, finding.field, finding.code, "confirm", comment="printed so")
    for x in ws.result(item.document).forms[item.form - 1].findings:
        if x.severity in ("error", "warning") and x.decision is None:
            ws.decide(item.document, item.form, x.field or "", x.code, "dismiss", comment="checked")
    assert ws.result(item.document).forms[item.form - 1].review.state == "decided"
    ws.close()
    assert export_gold(out, tmp_path / "gold").forms == 1
    with open(source, "ab") as fh:  # (another version: one byte more, the same pages)
        fh.write(b"\n")
    r = runner.invoke(app, ["extract", str(source), "-o", str(out), "--format", "json"])
    assert r.exit_code == 0 and "conflicts" in r.output, r.output
    again = load_document_json(out / f"{DOC}.json")
    form = again.forms[item.form - 1]
    assert form.review is not None and form.review.state != "decided"
    carried = [c for c in form.review.conflicts if c.get("carried_from")]
    assert (finding.field, finding.code) in {(c["field"], c["code"]) for c in carried}
    assert export_gold(out, tmp_path / "gold2").forms == 0  # (not verified on this version)
    ws = Workspace(out)
    assert any(q.form == item.form and q.document == DOC for q in ws.queue())
    html_conflicts = ws.result(DOC).forms[item.form - 1].review.conflicts
    assert html_conflicts and all(c.get("carried_from") for c in html_conflicts)
    from starlette.testclient import TestClient

    from extractor.review.app import Settings, create_app

    queue = TestClient(create_app(ws, Settings(reviewer="t")), base_url="http://127.0.0.1").get("/").text
    assert f'{len(html_conflicts)} conflict' in queue and 'id="conflicts"' in queue  # (the progress counts them)
    for c in html_conflicts:  # decided again on this version
        ws.decide(DOC, item.form, c["field"], c["code"], c["action"], comment="still printed so")
    form = ws.result(DOC).forms[item.form - 1]
    assert form.review.state == "decided" and not form.review.conflicts
    ws.close()
    assert export_gold(out, tmp_path / "gold3").forms == 1


def test_the_tables_are_written_by_a_child_and_never_over_a_persons_edits(out, capsys):
    """The workbench writes the tables after decisions in a child process (seconds of
    Python that held every request up); a person's edit to forms.csv is kept, and said
    once on stderr, however many decisions come."""
    assert runner.invoke(app, ["check", str(out)]).exit_code == 0  # (the tables and their record)
    forms_csv = out / "forms.csv"
    text = forms_csv.read_text(encoding="utf-8-sig")
    last = text.splitlines()[-1]
    edited = text.replace(last, last + "x", 1)  # (a cell changed by hand)
    forms_csv.write_text(edited, encoding="utf-8-sig")
    ws = Workspace(out, tables_delay=0)
    item, finding = flagged(ws)
    ws.decide(item.document, item.form, finding.field, finding.code, "confirm", comment="so printed")
    ws.flush()
    other = next(q for q in ws.queue() if (q.document, q.form) != (item.document, item.form))
    o = next(f for f in ws.result(other.document).forms[other.form - 1].findings if f.severity in ("error", "warning"))
    ws.decide(other.document, other.form, o.field, o.code, "confirm", comment="so printed")
    ws.close()
    assert forms_csv.read_text(encoding="utf-8-sig") == edited
    assert capsys.readouterr().err.count("the tables were not written again") == 1
