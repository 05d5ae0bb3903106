"""Accuracy evaluation: run an engine over documents with gold records and score it.

An evaluation set is a list of documents, each with a doc type and its gold
forms in order. The default set is the repository's fixtures: the seed text
exports (gold in `eval/gold/text/`) and the born-digital PDFs printed from the
same gold (`fixtures/pdf/manifest.json`).

Scores per document type: field accuracy (overall and per field group), indicator
rows matched/missing/extra, forms found vs expected, exact forms, seconds per page,
and silent errors — forms extracted wrong where a wrong field is named by no error
finding (its own, its row's or block's, a column's across the rows, or the whole
form's).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from .check import check_form
from .errors import ExtractorError
from .eval_sets import EvalDocument, default_set, load_set  # noqa: F401  (re-exported: the set and its scoring)
from .models import form_label, json_value
from .forms.numbers import compact, same_value as same
from .pipeline import ExtractOptions, extract_document


GROUPS = {
    "identity": ("title", "year", "project_name", "department", "implementing_unit", "subordinate_units", "funding_unit"),
    "goals": ("goal_expected", "goal_actual"),  # (and each remark: `remarks.存在问题`)
    "totals": ("total_score", "total_weight", "grade"),
}
INDICATOR_TEXT = ("level1", "level2", "name", "target", "actual", "deviation_reason", "target_parts", "number",
                  "target_adjusted", "core")
INDICATOR_NUMBERS = ("weight", "score", "level1_weight", "score_rate")
OPTIONAL = ("level1_weight", "target_parts", "number", "target_adjusted", "core", "score_rate")  # compared where the gold has them (some templates print them)


# --- comparing ------------------------------------------------------------------------------


def _fields(form) -> dict[str, dict[str, object]]:
    """Field group -> {path: value} for the non-indicator fields."""
    d = form.model_dump(mode="python")
    out: dict[str, dict[str, object]] = {g: {} for g in GROUPS}
    for group, keys in GROUPS.items():
        for k in keys:
            if k in d:
                out[group][k] = d[k]
    for label, text in (d.get("remarks") or {}).items():  # each its own field, as findings name them
        out["goals"][f"remarks.{label}"] = text
    out["funding"] = {}
    for row, vals in _funding(d["funding"]):
        if vals is None:
            continue
        for col, v in vals.items():
            out["funding"][f"funding.{row}.{col}"] = v
    return out


def _funding(funding: dict) -> list[tuple[str, dict]]:
    """A dumped funding block's rows, the extra ones as `extra[i]`."""
    rows = [(k, v) for k, v in funding.items() if k != "extra"]
    return rows + [(f"extra[{i}]", v) for i, v in enumerate(funding.get("extra") or [])]


def _key(ind) -> str:
    return compact(ind.name) + "|" + compact(ind.target or "")


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.right += ok

    @property
    def rate(self) -> float | None:
        return self.right / self.total if self.total else None


@dataclass
class TypeScore:
    documents: int = 0
    pages: int = 0
    seconds: float = 0.0
    forms_expected: int = 0
    forms_found: int = 0
    forms_matched: int = 0
    forms_exact: int = 0
    wrong_forms: int = 0
    wrong_flagged: int = 0
    silent_errors: int = 0  # wrong forms with a wrong field no error names
    silent_fields: int = 0
    correct_flagged: int = 0  # exact forms with an error the gold does not have
    rows_matched: int = 0
    rows_missing: int = 0
    rows_extra: int = 0
    failed_documents: int = 0
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    groups: dict[str, Tally] = field(default_factory=dict)
    wrong: list[dict] = field(default_factory=list)

    def tally(self, group: str) -> Tally:
        return self.groups.setdefault(group, Tally())


_ROW_ONLY = re.compile(r"indicators\[\d+\]")
# Errors about a whole form (no field): they name every field of it.
_GROUP = re.compile(r"indicators\[level1=(.+)\]\.level1_weight")
_ROW_LEVEL = re.compile(r"indicators\[(\d+)\]\.(?:level1|level2|level1_weight)")
# Errors of the whole form: nothing of it was read (the LLM did not answer; a form's title
# printed in text the rules found no table in — the only read_poorly that is an error).
WHOLE_FORM = frozenset({"not_extracted", "read_poorly"})


# Fields read from another field's cells: a target's printed parts (Sichuan: 指标性质 |
# 指标值 | 度量单位), a name's number (Anhui: `指标1:` before the name in its cell)
_SAME_CELLS = {"target_parts": "target", "number": "name"}


def named_by_error(found, path: str | None, printed: str | None = None) -> bool:
    """An error finding names this field of `found`: the field itself, its row or block
    (`indicators[3]` for `indicators[3].score`, `funding.total` for its amounts; a target
    its printed parts and a name its number, read from the same cells), a
    list-wide field (`indicators[].weight` for every row's weight), or the whole form.
    `path` None: a row the form lacks, named by any error on its indicators, or by an
    unread_text error quoting its name (`printed`). An error on a level-1 group
    (`indicators[level1=产出指标].level1_weight`: its weight is not its rows' sum) names the
    group's rows' level labels: a row carried into the wrong group is what it says."""
    head, _, leaf = (path or "").rpartition(".")
    twin = f"{head}.{_SAME_CELLS[leaf]}" if leaf in _SAME_CELLS else None
    for f in found.findings:
        if f.severity != "error":
            continue
        if printed and f.code == "unread_text" and f.found and compact(f.found) == compact(printed):
            return True
        if f.field is None:
            if f.code in WHOLE_FORM:
                return True
            continue
        if path and (m := _GROUP.fullmatch(f.field)) and (row := _ROW_LEVEL.fullmatch(path)):
            i = int(row.group(1))
            if i < len(found.indicators) and compact(found.indicators[i].level1 or "") == compact(m.group(1)):
                return True
        if path is None or _ROW_ONLY.fullmatch(path):  # a row missing, or one the document does not print
            if f.field.startswith("indicators"):
                return True
            if path is None:
                continue
        if f.field == path or path.startswith(f.field + ".") or path.startswith(f.field + "["):
            return True
        if f.field == twin:  # (read from that field's cells)
            return True
        if "[]" in f.field or "[level1=" in f.field:  # a column across the rows
            head, _, leaf = f.field.partition("]")
            if path.startswith(head.split("[")[0] + "[") and path.endswith(leaf):
                return True
    return False


def compare_form(found, gold, score: TypeScore) -> bool:
    """Tally one aligned pair; True when every field matches. Each wrong field is silent
    unless an error finding of `found` names it (`named_by_error`)."""
    exact = True
    diffs = []
    if found.kind != gold.kind:
        exact = False
    f_fields, g_fields = _fields(found), _fields(gold)
    for k in f_fields["goals"].keys() - g_fields["goals"].keys():  # a remark read that the form does not print
        g_fields["goals"][k] = None
    for group, gvals in g_fields.items():
        fvals = f_fields.get(group, {})
        for k, gv in gvals.items():
            ok = same(fvals.get(k), gv)
            score.tally(group).add(ok)
            score.tally("overall").add(ok)
            if not ok:
                exact = False
                diffs.append({"field": k, "gold": json_value(gv), "found": json_value(fvals.get(k)),
                              "silent": not named_by_error(found, k)})
    # Indicator rows, aligned by name and target.
    fk, gk = [_key(i) for i in found.indicators], [_key(i) for i in gold.indicators]
    pairs = []
    sm = SequenceMatcher(a=gk, b=fk, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            pairs += list(zip(range(i1, i2), range(j1, j2)))
        else:
            if tag in ("replace", "delete"):
                score.rows_missing += i2 - i1
                exact = False
                for gi in range(i1, i2):
                    for attr in INDICATOR_TEXT + INDICATOR_NUMBERS:
                        if attr in OPTIONAL and getattr(gold.indicators[gi], attr, None) is None:
                            continue
                        if attr in INDICATOR_NUMBERS and getattr(gold.indicators[gi], attr, None) is None:
                            continue
                        score.tally("indicator_text" if attr in INDICATOR_TEXT else "indicator_numbers").add(False)
                        score.tally("overall").add(False)
                    diffs.append({"field": f"indicators[{gi}]", "gold": gold.indicators[gi].name, "found": None,
                                  "silent": not named_by_error(found, None, gold.indicators[gi].name)})
            if tag in ("replace", "insert"):
                score.rows_extra += j2 - j1
                exact = False
                for fi in range(j1, j2):
                    diffs.append({"field": f"extra indicators[{fi}]", "gold": None, "found": found.indicators[fi].name,
                                  "silent": not named_by_error(found, f"indicators[{fi}]")})
    for gi, fi in pairs:
        score.rows_matched += 1
        g_ind, f_ind = gold.indicators[gi], found.indicators[fi]
        for attr in INDICATOR_TEXT + INDICATOR_NUMBERS:
            if not hasattr(g_ind, attr):
                continue
            gv = getattr(g_ind, attr)
            if attr in OPTIONAL and gv is None:
                continue
            ok = same(getattr(f_ind, attr, None), gv)
            group = "indicator_text" if attr in INDICATOR_TEXT else "indicator_numbers"
            score.tally(group).add(ok)
            score.tally("overall").add(ok)
            if not ok:
                exact = False
                diffs.append({"field": f"indicators[{gi}].{attr}", "gold": json_value(gv), "found": json_value(getattr(f_ind, attr, None)),
                              "silent": not named_by_error(found, f"indicators[{fi}].{attr}")})
    if not exact:
        silent = [d for d in diffs if d["silent"]]
        score.silent_fields += len(silent)
        score.wrong.append({"form": form_label(gold), "diffs": (silent + [d for d in diffs if not d["silent"]])[:8],
                            "silent_fields": len(silent)})
    return exact


def _name(form) -> str:
    return compact(form_label(form))


def evaluate(docs: list[EvalDocument], engine: str = "rules", progress=None, llm=None) -> dict:
    by_type: dict[str, TypeScore] = {}
    options = ExtractOptions(engine=engine) if llm is None else ExtractOptions(engine=engine, llm=llm)
    for doc in docs:
        score = by_type.setdefault(doc.doc_type, TypeScore())
        score.documents += 1
        score.forms_expected += len(doc.gold)
        started = time.perf_counter()
        try:
            result = extract_document(doc.path, options)
        except ExtractorError as exc:
            score.failed_documents += 1
            score.wrong.append({"document": str(doc.path), "error": str(exc)})
            for g in doc.gold:
                compare_form(type(g)(kind=g.kind), g, score)
            continue
        score.seconds += time.perf_counter() - started
        score.pages += result.source.page_count
        score.requests += result.usage.requests
        score.input_tokens += result.usage.input_tokens
        score.output_tokens += result.usage.output_tokens
        score.forms_found += len(result.forms)
        sm = SequenceMatcher(a=[_name(g) for g in doc.gold], b=[_name(f) for f in result.forms], autojunk=False)
        matched_gold = set()
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for gi, fi in zip(range(i1, i2), range(j1, j2)):
                    matched_gold.add(gi)
                    gold, found = doc.gold[gi], result.forms[fi]
                    score.forms_matched += 1
                    exact = compare_form(found, gold, score)
                    errors = {f.code for f in found.findings if f.severity == "error"}
                    gold_errors = {f.code for f in check_form(gold) if f.severity == "error"}
                    if exact:
                        score.forms_exact += 1
                        if errors - gold_errors - {"ungrounded_value"}:
                            score.correct_flagged += 1
                    else:
                        score.wrong_forms += 1
                        if score.wrong[-1]["silent_fields"]:
                            score.silent_errors += 1
                            score.wrong[-1]["silent"] = True
                        else:
                            score.wrong_flagged += 1
        for gi, g in enumerate(doc.gold):
            if gi not in matched_gold:
                compare_form(type(g)(kind=g.kind), g, score)  # every field of a missed form is wrong
                score.wrong[-1]["missing"] = True
        if progress:
            progress(doc)
    return {"engine": engine, "types": {t: _summarise(s) for t, s in by_type.items()}}


def _summarise(s: TypeScore) -> dict:
    return {
        "documents": s.documents,
        "failed_documents": s.failed_documents,
        "pages": s.pages,
        "seconds_per_page": round(s.seconds / s.pages, 4) if s.pages else None,
        "forms_expected": s.forms_expected,
        "forms_found": s.forms_found,
        "forms_matched": s.forms_matched,
        "forms_exact": s.forms_exact,
        "exact_rate": round(s.forms_exact / s.forms_expected, 4) if s.forms_expected else None,
        "field_accuracy": {g: round(t.rate, 4) for g, t in s.groups.items() if t.rate is not None},
        "fields": {g: [t.right, t.total] for g, t in s.groups.items()},
        "rows": {"matched": s.rows_matched, "missing": s.rows_missing, "extra": s.rows_extra},
        "wrong_forms": s.wrong_forms,
        "wrong_forms_flagged": s.wrong_flagged,
        "silent_errors": s.silent_errors,
        "silent_fields": s.silent_fields,
        "correct_forms_flagged": s.correct_flagged,
        "llm_usage": {
            "requests": s.requests, "input_tokens": s.input_tokens, "output_tokens": s.output_tokens,
            "tokens_per_form": round((s.input_tokens + s.output_tokens) / s.forms_found, 1) if s.forms_found else None,
        },
        "wrong": s.wrong[:50],
    }


COLUMNS = [
    ("forms found/expected", lambda t: f"{t['forms_found']}/{t['forms_expected']}"),
    ("exact forms", lambda t: _pct(t["exact_rate"])),
    ("field acc.", lambda t: _pct(t["field_accuracy"].get("overall"))),
    ("identity", lambda t: _pct(t["field_accuracy"].get("identity"))),
    ("goals", lambda t: _pct(t["field_accuracy"].get("goals"))),
    ("funding", lambda t: _pct(t["field_accuracy"].get("funding"))),
    ("ind. text", lambda t: _pct(t["field_accuracy"].get("indicator_text"))),
    ("ind. numbers", lambda t: _pct(t["field_accuracy"].get("indicator_numbers"))),
    ("totals", lambda t: _pct(t["field_accuracy"].get("totals"))),
    ("rows m/miss/extra", lambda t: f"{t['rows']['matched']}/{t['rows']['missing']}/{t['rows']['extra']}"),
    ("wrong (flagged)", lambda t: f"{t['wrong_forms']} ({t['wrong_forms_flagged']})"),
    ("silent errors", lambda t: str(t["silent_errors"])),
    ("s/page", lambda t: f"{t['seconds_per_page']:.3f}" if t["seconds_per_page"] is not None else "-"),
    ("LLM req / tokens per form", lambda t: f"{t['llm_usage']['requests']} / {t['llm_usage']['tokens_per_form'] or 0:g}"),
]


def _pct(v) -> str:
    return "-" if v is None else f"{v * 100:.2f}%"


def markdown(report: dict) -> str:
    head = "| doc type | " + " | ".join(c for c, _ in COLUMNS) + " |"
    sep = "|---" * (len(COLUMNS) + 1) + "|"
    lines = [f"Engine: `{report['engine']}`", "", head, sep]
    for name, t in report["types"].items():
        lines.append(f"| {name} | " + " | ".join(f(t) for _, f in COLUMNS) + " |")
    return "\n".join(lines)


def compare(previous: dict, current: dict) -> list[str]:
    """What got better or worse, metric by metric."""
    out = []
    for name, cur in current["types"].items():
        prev = previous.get("types", {}).get(name)
        if prev is None:
            out.append(f"{name}: new document type")
            continue
        for key in ("exact_rate", "silent_errors", "seconds_per_page", "forms_found"):
            a, b = prev.get(key), cur.get(key)
            if a != b and a is not None and b is not None:
                better = (b > a) if key in ("exact_rate", "forms_found") else (b < a)
                out.append(f"{name} {key}: {a} -> {b} ({'better' if better else 'worse'})")
        for g, b in cur["field_accuracy"].items():
            a = prev.get("field_accuracy", {}).get(g)
            if a is not None and a != b:
                out.append(f"{name} field_accuracy.{g}: {a:.4f} -> {b:.4f} ({'better' if b > a else 'worse'})")
    return out or ["no change"]
