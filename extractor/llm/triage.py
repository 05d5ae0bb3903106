"""Which forms the model should see, and how two engines' readings are combined.

Pure functions on contract records (no client import), so the rules path can
triage forms without loading the LLM stack.
"""

from __future__ import annotations


from ..forms.numbers import same_value as same
from ..findings import PRINTED, Code
from ..models import DepartmentForm, FieldSource, Finding, ProjectForm, flatten, json_value

Form = ProjectForm | DepartmentForm
LOW_CONFIDENCE = 0.85


def errors(form: Form) -> list[Finding]:
    return [f for f in form.findings if f.severity == "error"]


def rank(form: Form) -> tuple[int, int]:
    """Lower is better: ungrounded values first, then error findings."""
    errs = errors(form)
    return (sum(f.code == Code.UNGROUNDED_VALUE for f in errs), len(errs))


def needs_llm(form: Form) -> str | None:
    """Why `--engine auto` should send this rules-engine form to the model, or None."""
    if form.confidence < LOW_CONFIDENCE:
        return f"low confidence ({form.confidence:.2f})"
    codes = {f.code for f in errors(form)}
    if Code.MISSING_FIELD in codes:
        missing = sorted({f.field.split("[")[0] for f in errors(form) if f.code == Code.MISSING_FIELD and f.field})
        return "missing parts: " + ", ".join(missing) if missing else "missing parts"
    if isinstance(form, ProjectForm):
        t = form.funding.total
        if t is None or t.score is None or t.execution_rate is None:
            return "funding row incomplete"
    reading = codes - PRINTED
    if reading:
        return "error findings that may be misreadings: " + ", ".join(sorted(reading))
    return None


def _flat(form: Form) -> dict[str, object]:
    return flatten(form.model_dump(mode="python", include={"project_name", "department", "implementing_unit", "total_score", "grade", "funding", "indicators", "total_weight"}))


def combine(rules: Form, llm: Form, prefer: str = "rules") -> Form:
    """Keep the candidate the checker and grounding prefer (`prefer` on a tie);
    record agreement, and both values wherever they disagree."""
    first, second = (llm, rules) if prefer == "llm" else (rules, llm)
    chosen, other = (second, first) if rank(second) < rank(first) else (first, second)
    a, b = _flat(chosen), _flat(other)
    differ = sorted(k for k in set(a) | set(b) if not same(a.get(k), b.get(k)))
    for path in set(a) - set(differ):
        src = chosen.provenance.get(path) or FieldSource(engine=chosen.engine)
        chosen.provenance[path] = src.model_copy(update={"engine": "rules+llm"})
    for path in differ:
        src = chosen.provenance.get(path) or FieldSource(engine=chosen.engine)
        chosen.provenance[path] = src.model_copy(update={"alternatives": {chosen.engine: json_value(a.get(path)), other.engine: json_value(b.get(path))}})
    chosen.usage = llm.usage
    chosen.notes = list(rules.notes) + list(llm.notes) + [f"kept the {chosen.engine} engine's reading ({len(differ)} field(s) differ)"]
    if differ:
        chosen.findings = list(chosen.findings) + [Finding(
            code=Code.ENGINES_DISAGREE,
            severity="warning",
            message=f"rules and LLM engines read {len(differ)} field(s) differently: {', '.join(differ[:6])}",
            message_zh=f"规则引擎与大模型读出的{len(differ)}个字段不一致，请复核",
            field=differ[0],
            expected=json_value(b.get(differ[0])),
            found=json_value(a.get(differ[0])),
        )]
    return chosen
