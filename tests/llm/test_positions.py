"""Position-aware grounding and adjudication: each value against the cell at its row
and column, and disagreements between engines that cannot hide."""

import importlib.util
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from extractor.check.positions import check_positions
from extractor.cli import app
from extractor.llm.config import LLMConfig
from extractor.llm.triage import combine
from extractor.pipeline import ExtractOptions, extract_document
from llm_server import FakeOpenAI

PDF = ROOT / "fixtures" / "pdf" / "one_per_page.pdf"


@pytest.fixture(scope="module")
def grid():
    """The rules engine's reading of the first form of a born-digital fixture, and its page text."""
    import pymupdf

    result = extract_document(PDF, ExtractOptions(engine="rules"))
    form = result.forms[0]
    with pymupdf.open(PDF) as doc:
        text = "\n".join(doc[p - 1].get_text() for p in form.pages)
    return form, text


def codes(findings, field=None):
    return {f.code for f in findings if f.severity == "error" and (field is None or f.field == field)}


def test_the_rules_reading_is_verified_against_itself(grid):
    form, text = grid
    assert check_positions(form.model_copy(deep=True), form, text) == []


def test_a_target_from_the_row_below_is_misplaced_and_names_the_cell(grid):
    form, text = grid
    answer = form.model_copy(deep=True)
    answer.indicators[0].target = form.indicators[1].target
    (f,) = check_positions(answer, form, text)
    assert f.code == "misplaced_value" and f.field == "indicators[0].target"
    assert "in the cell of indicators[1].target" in f.message and f.expected == form.indicators[0].target


def test_a_number_in_a_dash_cell_is_invented(grid):
    form, text = grid
    assert form.funding.carryover is not None and form.funding.carryover.weight is None
    answer = form.model_copy(deep=True)
    answer.funding.carryover.weight = form.funding.total.weight  # printed in the 年度资金总额 row
    (f,) = check_positions(answer, form, text)
    assert (f.code, f.field) == ("invented_value", "funding.carryover.weight") and "'-'" in f.message


def test_a_wrong_level_label_a_dropped_row_and_an_emptied_cell(grid):
    form, text = grid
    answer = form.model_copy(deep=True)
    other = next(i.level2 for i in form.indicators if i.level2 != form.indicators[0].level2)
    answer.indicators[0].level2 = other
    answer.indicators[1].actual = None
    dropped = answer.indicators.pop(2)
    found = {(f.code, f.field): f for f in check_positions(answer, form, text)}
    assert ("misplaced_value", "indicators[0].level2") in found
    assert ("dropped_value", "indicators[1].actual") in found
    assert found[("dropped_row", "indicators")].expected == dropped.name


def test_equal_names_are_matched_in_order_and_a_duplicate_is_not_a_row(grid):
    form, text = grid
    answer = form.model_copy(deep=True)
    answer.indicators.insert(1, answer.indicators[0].model_copy())
    (f,) = check_positions(answer, form, text)
    assert (f.code, f.field) == ("misplaced_value", "indicators[1]")


def test_without_a_grid_nothing_passes_as_verified(grid):
    form, text = grid
    empty = type(form)(title=form.title)
    (f,) = check_positions(form, empty, text)
    assert (f.code, f.severity) == ("position_unverified", "warning")
    (f,) = check_positions(form, None, text)
    assert f.code == "position_unverified"


def test_a_disagreement_no_cell_settles_is_an_error_with_both_values(grid):
    form, _ = grid
    rules, llm = form.model_copy(deep=True), form.model_copy(deep=True)
    llm.engine = "llm"
    rules.total_weight, llm.total_weight = None, Decimal("100")  # a cell the rules did not read
    llm.indicators[0].target = " ".join(rules.indicators[0].target)  # equal after normalisation
    merged = combine(rules, llm, prefer="llm")
    (conflict,) = [f for f in merged.findings if f.code == "engines_conflict"]
    assert conflict.severity == "error" and conflict.field == "total_weight"
    assert "nothing" in conflict.message and "'100'" in conflict.message
    (warn,) = [f for f in merged.findings if f.code == "engines_disagree"]
    assert warn.severity == "warning" and warn.field == "indicators[0].target"


def test_a_flagged_value_is_replaced_by_the_other_readings_cell_value(grid):
    form, text = grid
    rules, llm = form.model_copy(deep=True), form.model_copy(deep=True)
    llm.engine = "llm"
    llm.indicators[0].target = rules.indicators[1].target
    llm.findings = check_positions(llm, rules, text)
    # The rules reading carries more errors, so the LLM's record is the base; its
    # misplaced target is still not kept: the rules value is its cell's.
    from extractor.models import Finding

    rules.findings = [Finding(code="ungrounded_value", severity="error", message="x", field="grade"),
                      Finding(code="total_score", severity="error", message="y")]
    merged = combine(rules, llm, prefer="llm", recheck=lambda f: check_positions(f, rules, text))
    assert merged.engine == "llm"
    assert merged.indicators[0].target == form.indicators[0].target
    assert not codes(merged.findings)


def _standin():
    spec = importlib.util.spec_from_file_location("llm_standin", ROOT / "eval" / "llm_standin.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_stand_in_models_mistakes_are_never_silent_or_warning_only():
    """Row shifts, wrong labels, numbers in dash cells, a consistent lie, dropped and
    duplicated rows, on one born-digital document: with --engine llm the rules reading
    settles them (nothing wrong is left), with --engine llm-only every wrong field is
    named by an error."""
    standin = _standin()
    kinds = (*standin.POSITIONAL, "dropped_row", "duplicated_row")
    results = standin.run(documents=1, mistakes=kinds)
    for kind in kinds:
        llm, alone = results[kind]["llm"], results[kind]["llm-only"]
        assert llm.get("silent", 0) == llm.get("warning_only", 0) == 0 and llm.get("forms_missing", 0) == 0, (kind, llm)
        assert alone["wrong"] > 0 and alone["caught"] == alone["wrong"], (kind, alone)


def test_llm_only_without_an_answer_gives_an_empty_form_with_an_error(tmp_path):
    with FakeOpenAI([{"status": 400, "message": "bad request"}]) as server:
        cfg = LLMConfig(base_url=server.url, api_key="sk-x", model="m", cache_dir=None, vision=False,
                        backoff_initial=0.01, backoff_max=0.02, timeout_s=5, max_attempts=1, reasks=0)
        result = extract_document(PDF, ExtractOptions(engine="llm-only", llm=cfg))
    form = result.forms[0]
    assert form.indicators == [] and form.engine == "llm"
    assert [(f.code, f.severity) for f in form.findings] == [("not_extracted", "error")]


def test_eval_accepts_llm_only_and_says_it_needs_an_endpoint():
    r = CliRunner().invoke(app, ["eval", "--engine", "llm-only"])
    assert r.exit_code == 2 and "--engine llm-only needs an endpoint" in r.output
