"""Forms the rules cut no table out of (a crawler's one-line form, one cell per line,
cells split by spaces) are found by their titles: read by the LLM and verified by
alignment with the text, or reported read poorly — never "no form found"."""

import sys
from decimal import Decimal

import pytest

from conftest import ROOT
from extractor.check.alignment import check_alignment
from extractor.llm.config import LLMConfig
from extractor.llm.triage import combine, needs_llm
from extractor.forms.numbers import compact_normal, nfkc
from extractor.models import flatten
from extractor.pipeline import DocumentStats, ExtractOptions, extract_document
from llm_server import FakeOpenAI

sys.path.insert(0, str(ROOT / "eval"))
pytest.importorskip("pdfplumber")
from renderings import render, ruled_documents  # noqa: E402

EXCLUDE = {"findings", "provenance", "notes", "engine", "confidence", "pages", "usage"}


@pytest.fixture(scope="module")
def run_on():
    """The fixture `run_on.pdf` (12 project forms), its gold and its renderings."""
    doc = next(d for d in ruled_documents() if d.path.name == "run_on.pdf")
    return doc, {how: render(doc.path, how) for how in ("one_line", "cell_lines", "spaced")}


def _standin(gold):
    answers = [((_key(g.project_name), _key(g.indicators[0].name)), g.model_dump(mode="json", exclude=EXCLUDE)) for g in gold]

    def respond(body: dict) -> dict:
        text = body["messages"][1]["content"]
        text = _key(text if isinstance(text, str) else text[0]["text"])
        hits = [a for keys, a in answers if all(k in text for k in keys)]
        return {"answer": hits[0]} if len(hits) == 1 else {"content": "no single form here"}
    return respond


def _key(text: str) -> str:
    return compact_normal(nfkc(text))


def _cfg(server, tmp_path):
    return LLMConfig(base_url=server.url, api_key="sk-x", model="m", cache_dir=None, vision=False,
                     backoff_initial=0.01, backoff_max=0.02, timeout_s=10)


def _values(form) -> dict:
    return flatten(form.model_dump(mode="python", include={"project_name", "funding", "indicators", "total_score", "grade"}))


@pytest.mark.parametrize("how", ["one_line", "cell_lines", "spaced"])
def test_without_an_endpoint_every_form_is_there_read_poorly(run_on, how, tmp_path):
    doc, texts = run_on
    path = tmp_path / f"report.{how}.txt"
    path.write_text(texts[how], encoding="utf-8")
    result = extract_document(path, ExtractOptions(engine="rules"))
    assert len(result.forms) == len(doc.gold)
    for form in result.forms:
        assert any(f.code == "read_poorly" for f in form.findings) or any(f.severity == "error" for f in form.findings)


@pytest.mark.parametrize("how", ["one_line", "cell_lines", "spaced"])
def test_auto_sends_each_titled_form_and_a_faithful_answer_passes_unflagged(run_on, how, tmp_path):
    doc, texts = run_on
    path = tmp_path / f"report.{how}.txt"
    path.write_text(texts[how], encoding="utf-8")
    with FakeOpenAI(respond=_standin(doc.gold)) as server:
        result = extract_document(path, ExtractOptions(engine="auto", llm=_cfg(server, tmp_path)))
    assert [f.project_name for f in result.forms] == [g.project_name for g in doc.gold]
    for form, gold in zip(result.forms, doc.gold):
        assert _values(form) == _values(gold)
        wrongly = [f for f in form.findings if f.severity == "error" and f.code in ("misplaced_value", "dropped_row", "ungrounded_value")]
        assert not wrongly, wrongly[:3]
        assert form.notes[0].startswith("sent to the LLM: ")
    stats = DocumentStats.of(result)
    assert sum(stats.sent.values()) == len(doc.gold)


def _piece(texts: dict, gold, how: str = "spaced") -> str:
    text = texts[how]
    start = text.index(gold.project_name)
    nxt = text.find("财政项目支出绩效自评表", start)
    return text[max(0, start - 40): nxt if nxt > 0 else len(text)]


@pytest.mark.parametrize("how", ["one_line", "spaced", "cell_lines"])
def test_alignment_passes_the_gold_and_names_each_kind_of_mistake(run_on, how):
    doc, texts = run_on
    gold = next(g for g in doc.gold if len(g.indicators) >= 6
                and len({i.target for i in g.indicators[:4]} | {i.actual for i in g.indicators[:4]}) >= 4
                and g.indicators[1].target != g.indicators[1].actual)
    piece = _piece(texts, gold, how)
    assert check_alignment(gold.model_copy(deep=True), piece) == []

    swapped = gold.model_copy(deep=True)
    row = swapped.indicators[1]
    row.target, row.actual = row.actual, row.target
    assert any(f.field in ("indicators[1]", "indicators[1].target", "indicators[1].actual")
               for f in check_alignment(swapped, piece))

    shifted = gold.model_copy(deep=True)
    shifted.indicators[2].target = gold.indicators[3].target
    assert any(f.field in ("indicators[2]", "indicators[2].target") for f in check_alignment(shifted, piece))

    dropped = gold.model_copy(deep=True)
    del dropped.indicators[2]
    assert any(f.code == "dropped_row" and f.field == "indicators[1]" for f in check_alignment(dropped, piece))

    relabelled = gold.model_copy(deep=True)
    last = relabelled.indicators[-1]
    other = next(i.level1 for i in gold.indicators if i.level1 != last.level1)
    last.level1 = other
    assert any(f.field == f"indicators[{len(gold.indicators) - 1}].level1" for f in check_alignment(relabelled, piece))


def test_a_score_equal_to_its_weight_needs_the_figure_printed_twice(run_on):
    doc, texts = run_on
    gold, i = next((g, k) for g in doc.gold for k, ind in enumerate(g.indicators) if ind.score != ind.weight)
    lie = gold.model_copy(deep=True)
    lie.indicators[i].score = lie.indicators[i].weight
    assert any(f.field == f"indicators[{i}].score" for f in check_alignment(lie, _piece(texts, gold)))


def test_a_form_read_by_ocr_is_always_read_twice_and_no_difference_is_settled(run_on):
    doc, _ = run_on
    rules = doc.gold[0].model_copy(deep=True)
    rules.engine = "ocr+rules"
    assert needs_llm(rules) is not None and "OCR" in needs_llm(rules)
    llm = rules.model_copy(deep=True)
    llm.engine = "llm"
    llm.indicators[0].weight = rules.indicators[0].weight + Decimal("1")
    merged = combine(rules, llm)
    (conflict,) = [f for f in merged.findings if f.code == "engines_conflict"]
    assert conflict.severity == "error" and conflict.field == "indicators[0].weight"


def test_an_empty_value_is_not_kept_silently_when_the_only_value_read_is_flagged(run_on):
    from extractor.models import Finding

    doc, _ = run_on
    rules = doc.gold[0].model_copy(deep=True)
    rules.funding.total.initial_budget = None  # the rules missed it, and said nothing
    llm = doc.gold[0].model_copy(deep=True)
    llm.engine = "llm"
    llm.funding.total.initial_budget = doc.gold[0].funding.total.initial_budget * 10000  # 元 for 万元
    llm.findings = [Finding(code="ungrounded_value", severity="error", message="not printed",
                            field="funding.total.initial_budget")]
    merged = combine(rules, llm)
    assert merged.funding.total.initial_budget is None
    assert any(f.code == "engines_conflict" and f.field == "funding.total.initial_budget" for f in merged.findings)
    # a value whose cell prints '-' is settled by the cell: no conflict for the empty one kept
    llm.findings = [Finding(code="invented_value", severity="error", message="cell prints -",
                            field="funding.total.initial_budget")]
    merged = combine(rules, llm)
    assert not any(f.code == "engines_conflict" for f in merged.findings)


def test_a_level_pair_that_disagrees_names_the_row():
    from extractor.check import check_form
    from extractor.models import Indicator, ProjectForm

    form = ProjectForm(project_name="x", indicators=[
        Indicator(level1="成本指标", level2="时效指标", name="发放及时率", weight=Decimal("5"), score=Decimal("5"))])
    (f,) = [f for f in check_form(form) if f.code == "level_mismatch"]
    assert f.field == "indicators[0]"  # (which of the two labels is wrong is not known)


def test_chongqings_department_form_through_the_llm_keeps_its_own_fields():
    """The LLM's department schema carries what Chongqing's form prints beyond the national
    one (部门预算执行情况 as funding.total with its weight and score, 调整指标值, 得分系数,
    是否核心指标): a faithful answer is read whole, with no silent field."""
    from extractor.eval_sets import default_set
    from extractor.evaluate import evaluate

    (doc,) = [d for d in default_set(include_scanned=False) if d.doc_type == "chongqing_pdf"]
    gold = doc.gold
    answers = [((_key(g.department), _key(g.indicators[0].name)), g.model_dump(mode="json", exclude=EXCLUDE)) for g in gold]

    def respond(body: dict) -> dict:
        content = body["messages"][1]["content"]
        text = _key(content if isinstance(content, str) else content[0]["text"])
        hits = [a for keys, a in answers if all(k in text for k in keys)]
        return {"answer": hits[0]} if hits else {"content": "no form here"}

    with FakeOpenAI(respond=respond) as server:
        t = evaluate([doc], engine="llm-only", llm=_cfg(server, None))["types"]["chongqing_pdf"]
    assert t["forms_found"] == len(gold) and t["silent_fields"] == 0
    assert t["field_accuracy"]["overall"] == 1.0, t["wrong"][:2]
