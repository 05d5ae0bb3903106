"""What the LLM engines let through when the model makes the mistakes vision models
make on these tables.

A stand-in OpenAI-compatible server (tests/llm_server.py) answers each form of the
born-digital fixtures (the Shanghai layout, fixtures/pdf) with its gold reading
corrupted by one kind of mistake, the same way on every request (a stubborn model:
the repair request gets the same answer). Each document is extracted with
`--engine llm` and `--engine llm-only`, and every field of the output is compared
with the gold:

    caught        wrong, and an error finding names the field (or its row)
    warning-only  wrong, and only a warning names it
    silent        wrong, and no finding names it

    python eval/llm_standin.py [--json PATH] [--documents N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import Counter
from decimal import Decimal
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "eval")]

from extractor.eval_sets import load_set  # noqa: E402
from extractor.forms.numbers import compact, compact_normal, nfkc, same_value  # noqa: E402
from extractor.llm.config import LLMConfig  # noqa: E402
from extractor.llm.response import as_written  # noqa: E402
from extractor.models import flatten, form_label, printed_data  # noqa: E402
from extractor.pipeline import ExtractOptions, extract_document  # noqa: E402
from llm_server import FakeOpenAI  # noqa: E402

Answer = dict[str, Any]
ENGINES = ("llm", "llm-only")
ROW_FIELDS = ("level1", "level2", "name", "target", "actual", "weight", "score", "deviation_reason", "level1_weight")
TOP_FIELDS = ("project_name", "department", "implementing_unit", "total_score", "total_weight", "grade")


def answer_of(form) -> Answer:
    """The record as a contract dict (what the mistakes edit); `_standin` sends it in
    the shape the schema asks for (rows as arrays)."""
    return printed_data(form, exclude={"findings", "provenance", "notes", "engine", "confidence", "pages", "usage"})


# --- the mistakes ------------------------------------------------------------------------------


def _rows(a: Answer) -> list[dict]:
    return a["indicators"]


def row_shift(a: Answer, rng: random.Random) -> None:
    """Targets and actuals read one row too low from some row on."""
    rows = _rows(a)
    k = rng.randrange(0, max(1, len(rows) - 1))
    for i in range(k, len(rows) - 1):
        rows[i]["target"], rows[i]["actual"] = rows[i + 1]["target"], rows[i + 1]["actual"]


def wrong_label(a: Answer, rng: random.Random) -> None:
    """A row given the level label of a neighbouring group."""
    rows = _rows(a)
    for level in rng.sample(["level2", "level1"], 2):
        labels = [r[level] for r in rows]
        pairs = [(i, j) for i in range(len(rows)) for j in (i - 1, i + 1) if 0 <= j < len(rows) and labels[i] != labels[j]]
        if pairs:
            i, j = rng.choice(pairs)
            rows[i][level] = labels[j]
            return


def invented_dash(a: Answer, rng: random.Random) -> None:
    """A number copied into cells printed '-' (the 年度资金总额 row's weight and score)."""
    total = a["funding"].get("total") or {}
    for name in ("fiscal", "carryover", "other"):
        row = a["funding"].get(name)
        if row is not None:
            for col in ("weight", "score"):
                if row.get(col) is None and total.get(col) is not None:
                    row[col] = total[col]


def consistent_lie(a: Answer, rng: random.Random) -> None:
    """Full marks everywhere, executed = budget, rate 100, total 100: every number printed somewhere."""
    for r in _rows(a):
        r["score"] = r["weight"]
    t = a["funding"].get("total")
    if t:
        t["executed"], t["execution_rate"], t["score"] = t.get("annual_budget"), 100, t.get("weight")
    a["total_score"], a["grade"] = 100, "优"


def _funding_rows(a: Answer) -> list[dict]:
    """The named funding rows (a form's `extra` rows, a list, are left alone)."""
    return [row for row in a["funding"].values() if isinstance(row, dict)]


def _numbers(a: Answer) -> list[tuple[dict, str]]:
    """The figures a mistake can change: not zeros (a shifted decimal point leaves 0.00 itself)."""
    def figure(v: Any) -> bool:
        return v is not None and Decimal(str(v)) != 0

    out = [(r, c) for r in _rows(a) for c in ("weight", "score") if figure(r.get(c))]
    out += [(row, c) for row in _funding_rows(a) for c, v in row.items() if figure(v)]
    return out


def digit(a: Answer, rng: random.Random) -> None:
    obj, col = rng.choice(_numbers(a))
    s = f"{Decimal(str(obj[col])):.2f}"
    i = rng.choice([k for k, ch in enumerate(s) if ch.isdigit()])
    obj[col] = float(s[:i] + str((int(s[i]) + rng.randrange(1, 9)) % 10) + s[i + 1:])


def decimal_point(a: Answer, rng: random.Random) -> None:
    obj, col = rng.choice(_numbers(a))
    obj[col] = float(Decimal(str(obj[col])) * 10)


def neighbour_column(a: Answer, rng: random.Random) -> None:
    rows = [r for r in _rows(a) if compact(r.get("target")) != compact(r.get("actual"))] or _rows(a)
    r = rng.choice(rows)
    r["target"], r["actual"] = r["actual"], r["target"]


def dropped_row(a: Answer, rng: random.Random) -> None:
    del _rows(a)[rng.randrange(len(_rows(a)))]


def duplicated_row(a: Answer, rng: random.Random) -> None:
    i = rng.randrange(len(_rows(a)))
    _rows(a).insert(i + 1, dict(_rows(a)[i]))


def wan_to_yuan(a: Answer, rng: random.Random) -> None:
    for row in _funding_rows(a):
        for col in ("initial_budget", "annual_budget", "executed"):
            if row and row.get(col) is not None:
                row[col] = float(Decimal(str(row[col])) * 10000)


def hallucinated(a: Answer, rng: random.Random) -> None:
    r = rng.choice(_rows(a))
    r["score"] = round(rng.uniform(1, 9), 2)


MISTAKES: dict[str, Callable[[Answer, random.Random], None]] = {
    f.__name__: f for f in (row_shift, wrong_label, invented_dash, consistent_lie, digit, decimal_point,
                            neighbour_column, dropped_row, duplicated_row, wan_to_yuan, hallucinated)
}
# The kinds the checker and page-wide grounding could not see (issue 18's figure).
POSITIONAL = ("row_shift", "wrong_label", "invented_dash", "consistent_lie")


def corrupted(form, mistake: str) -> Answer:
    a = answer_of(form)
    seed = int(hashlib.sha256(f"{mistake}|{form_label(form)}".encode()).hexdigest()[:8], 16)
    MISTAKES[mistake](a, random.Random(seed))
    return a


def _keys(form) -> tuple[str, ...]:
    """What tells a form from the others of its document (two may share a project name)."""
    return (compact(form_label(form)), *(compact(i.name) for i in form.indicators[:1]))


# --- scoring -----------------------------------------------------------------------------------


def _named_by(form, path: str) -> str | None:
    """The strongest severity of a finding that names this field or its row (a finding
    that names no field is about the whole form: `not_extracted`)."""
    best = None
    for f in form.findings:
        if not f.field or f.field == path or path.startswith(f.field + ".") or path.startswith(f.field + "["):
            if f.severity == "error":
                return "error"
            best = best or f.severity
    return best


def _name_key(name: object) -> str:
    return compact_normal(nfkc(str(name)))


def score_form(out, gold) -> Counter:
    """caught / warning_only / silent for every wrong field of `out`."""
    tally: Counter = Counter()

    def one(path: str, ok: bool, named: str | None) -> None:
        if not ok:
            tally["wrong"] += 1
            tally["caught" if named == "error" else "warning_only" if named else "silent"] += 1

    o, g = flatten(out.model_dump(mode="python", include={"funding", *TOP_FIELDS})), flatten(gold.model_dump(mode="python", include={"funding", *TOP_FIELDS}))
    for path in sorted(set(o) | set(g)):
        one(path, same_value(o.get(path), g.get(path)), _named_by(out, path))
    names = SequenceMatcher(a=[compact(i.name) for i in gold.indicators], b=[compact(i.name) for i in out.indicators], autojunk=False)
    matched_g, matched_o = set(), set()
    for block in names.get_matching_blocks():
        for k in range(block.size):
            gi, oi = block.a + k, block.b + k
            matched_g.add(gi)
            matched_o.add(oi)
            for col in ROW_FIELDS:
                if hasattr(gold.indicators[gi], col):
                    path = f"indicators[{oi}].{col}"
                    one(path, same_value(getattr(out.indicators[oi], col, None), getattr(gold.indicators[gi], col)), _named_by(out, path))
    # (a name as the page prints it: its brackets' width may differ from the gold's)
    dropped = {_name_key(f.expected) for f in out.findings if f.code == "dropped_row" and f.severity == "error" and f.expected}
    whole_form = any(f.severity == "error" and not f.field for f in out.findings)  # not_extracted
    for gi, ind in enumerate(gold.indicators):
        if gi not in matched_g:
            one(f"gold indicator {ind.name}", False, "error" if _name_key(ind.name) in dropped or whole_form else None)
    for oi in range(len(out.indicators)):
        if oi not in matched_o:  # an extra row: which of two equal rows is "extra" is moot, either named will do
            twins = [j for j, ind in enumerate(out.indicators) if compact(ind.name) == compact(out.indicators[oi].name)]
            named = [_named_by(out, f"indicators[{j}]") for j in twins]
            one(f"indicators[{oi}]", False, "error" if "error" in named else next((n for n in named if n), None))
    return tally


def run(documents: int | None = None, mistakes: tuple[str, ...] = tuple(MISTAKES), engines: tuple[str, ...] = ENGINES) -> dict:
    docs = [d for d in load_set(str(ROOT / "fixtures" / "pdf" / "manifest.json"))][:documents]
    results: dict = {}
    for mistake in mistakes:
        for engine in engines:
            tally: Counter = Counter()
            for doc in docs:
                answers = [(_keys(g), corrupted(g, mistake)) for g in doc.gold]
                with FakeOpenAI(respond=_standin(answers)) as server:
                    cfg = LLMConfig(base_url=server.url, api_key="sk-standin", model="stand-in", cache_dir=None,
                                    vision=False, backoff_initial=0.01, backoff_max=0.02, timeout_s=10)
                    result = extract_document(doc.path, ExtractOptions(engine=engine, llm=cfg))
                # in order, by name (an answer may have lost its first row: its keys are not the gold's)
                pairs = SequenceMatcher(a=[_keys(g)[0] for g in doc.gold], b=[_keys(f)[0] for f in result.forms], autojunk=False)
                for block in pairs.get_matching_blocks():
                    for k in range(block.size):
                        tally.update(score_form(result.forms[block.b + k], doc.gold[block.a + k]))
                        tally["forms"] += 1
                tally["forms_missing"] += len(doc.gold) - sum(b.size for b in pairs.get_matching_blocks())
            results.setdefault(mistake, {})[engine] = dict(tally)
    return results


def _standin(answers: list[tuple[tuple[str, ...], Answer]]):
    def respond(body: dict) -> dict:
        text = compact(body["messages"][1]["content"])
        found = [(sum(map(len, keys)), a) for keys, a in answers if all(k in text for k in keys)]
        return {"answer": as_written(max(found, key=lambda t: t[0])[1])} if found else {"content": "no form here"}
    return respond


def run_renderings(mistakes: tuple[str, ...] = ("faithful", *MISTAKES), engines: tuple[str, ...] = ("auto", "llm-only"),
                   renderings: tuple[str, ...] | None = None) -> dict:
    """The irregular renderings (eval/renderings.py) of the ruled born-digital fixtures,
    each read with the stand-in answering faithfully or with one kind of mistake:
    forms found, fields right (evaluate's score) and wrong fields caught or silent."""
    import tempfile

    from extractor.eval_sets import EvalDocument
    from extractor.evaluate import evaluate
    from renderings import RENDERINGS, ruled_documents, write_all

    docs = ruled_documents()
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for how in renderings or RENDERINGS:
            texts = [(write_all(d.path, Path(tmp), (how,))[how], d) for d in docs]
            for mistake in mistakes:
                for engine in engines:
                    tally: Counter = Counter()
                    exports = []
                    for path, doc in texts:
                        answers = [(_keys(g), answer_of(g) if mistake == "faithful" else corrupted(g, mistake)) for g in doc.gold]
                        with FakeOpenAI(respond=_standin(answers)) as server:
                            cfg = LLMConfig(base_url=server.url, api_key="sk-standin", model="stand-in", cache_dir=None,
                                            vision=False, backoff_initial=0.01, backoff_max=0.02, timeout_s=10)
                            t = evaluate([EvalDocument(path, how, doc.gold)], engine=engine, llm=cfg)["types"][how]
                        tally["forms"] += t["forms_expected"]
                        tally["found"] += t["forms_found"]
                        right, total = t["fields"]["overall"]
                        tally["fields_right"] += right
                        tally["fields"] += total
                        tally["correct_forms_flagged"] += t["correct_forms_flagged"]
                        tally["silent_forms"] += t["silent_errors"]
                        tally["silent_fields"] += t["silent_fields"]
                        tally["requests"] += t["llm_usage"]["requests"]
                        tally["input_tokens"] += t["llm_usage"]["input_tokens"]
                        exports.append(t)
                    tally_d = dict(tally)
                    tally_d["field_accuracy"] = round(tally["fields_right"] / tally["fields"], 4) if tally["fields"] else None
                    results.setdefault(how, {}).setdefault(mistake, {})[engine] = tally_d
                    print(how, mistake, engine, tally_d, flush=True)
    return results


def _seeing(answers: list[tuple[tuple[str, ...], Answer]]):
    """A stand-in that reads the page as a vision model would: the form whose keys its
    text shows, or, where OCR garbled them, the one whose keys' characters it shows most."""
    def respond(body: dict) -> dict:
        content = body["messages"][1]["content"]
        text = compact(content if isinstance(content, str) else " ".join(p.get("text", "") for p in content))
        found = [(sum(map(len, keys)), a) for keys, a in answers if all(k in text for k in keys)]
        if found:
            return {"answer": as_written(max(found, key=lambda t: t[0])[1])}
        near = max(answers, key=lambda ka: sum(ch in text for ch in set("".join(ka[0]))) / max(1, len(set("".join(ka[0])))))
        return {"answer": as_written(near[1])}
    return respond


def run_routes(engine: str = "auto", types: tuple[str, ...] | None = None, mistake: str = "faithful") -> dict:
    """The default set's other routes (scans, photos, the fax TIFF, Chromium's PDFs, office
    printouts, the provinces) with `--engine auto` and a stand-in that answers faithfully
    or with one kind of mistake (`MISTAKES`): what auto sends, and the silent errors left
    (the rules engine's alone: `extractor eval`)."""
    from extractor.eval_sets import default_set
    from extractor.evaluate import evaluate

    docs = [d for d in default_set() if d.doc_type not in ("text_export", "born_digital", "born_digital_unruled")
            and (types is None or d.doc_type in types)]
    out: dict = {}
    for doc in docs:
        answers = [(_keys(g), answer_of(g) if mistake == "faithful" else corrupted(g, mistake)) for g in doc.gold]
        with FakeOpenAI(respond=_seeing(answers)) as server:
            cfg = LLMConfig(base_url=server.url, api_key="sk-standin", model="stand-in", cache_dir=None,
                            vision=False, backoff_initial=0.01, backoff_max=0.02, timeout_s=30)
            t = evaluate([doc], engine=engine, llm=cfg)["types"][doc.doc_type]
            rules = evaluate([doc], engine="rules")["types"][doc.doc_type]
        row = out.setdefault(doc.doc_type, Counter())
        row["documents"] += 1
        row["forms"] += t["forms_expected"]
        row["found"] += t["forms_found"]
        row["fields_right"] += t["fields"]["overall"][0]
        row["fields"] += t["fields"]["overall"][1]
        row["silent_fields"] += t["silent_fields"]
        row["rules_silent_fields"] += rules["silent_fields"]
        row["rules_fields_right"] += rules["fields"]["overall"][0]
        row["requests"] += t["llm_usage"]["requests"]
        print(doc.path.name, doc.doc_type, dict(row), flush=True)
    return {k: dict(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--documents", type=int, default=None, help="only the first N documents of the set")
    args = parser.parse_args()
    results = run(args.documents)
    print(f"{'mistake':18} {'engine':9} {'forms':>5} {'wrong':>6} {'caught':>7} {'warning-only':>12} {'silent':>7}")
    for mistake, by_engine in results.items():
        for engine, t in by_engine.items():
            print(f"{mistake:18} {engine:9} {t.get('forms', 0):5} {t.get('wrong', 0):6} {t.get('caught', 0):7} {t.get('warning_only', 0):12} {t.get('silent', 0):7}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
