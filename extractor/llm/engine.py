"""One form in, one checked candidate out — and the choice between engines.

    read_form: messages → cache or endpoint → contract record → checker + grounding
               → (arithmetic errors?) one repair request quoting the findings
               → keep the candidate that is grounded and consistent
    needs_llm: which rules-engine forms `--engine auto` sends
    combine:   rules vs LLM, field by field; disagreements stay in provenance
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..check import check_form
from ..evaluate import same
from ..models import DepartmentForm, FieldSource, Finding, ProjectForm, Usage
from ..settings import CheckSettings
from .cache import AnswerCache, cache_key
from .config import LLMConfig
from .prompting import EXTRACT, REPAIR, extraction_messages, load_prompt, repair_message
from .response import response_model_for, to_contract
from .transport import Counters, LLMError, Transport

Form = ProjectForm | DepartmentForm
# Disagreements a model will read the same way: the document prints them.
PRINTED_LEVEL = {"rate_indicator_mismatch", "grade"}
ARITHMETIC = {"funding_sum", "execution_rate", "budget_score", "weights_sum", "score_range", "total_score", "level1_weight", "funding_structure_sum"}
LOW_CONFIDENCE = 0.85


@dataclass
class LLMRead:
    form: Form | None
    usage: Usage = field(default_factory=Usage)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    from_cache: bool = False


def _errors(form: Form) -> list[Finding]:
    return [f for f in form.findings if f.severity == "error"]


def _rank(form: Form) -> tuple[int, int]:
    errs = _errors(form)
    return (sum(f.code == "ungrounded_value" for f in errs), len(errs))


class LLMEngine:
    def __init__(self, config: LLMConfig, settings: CheckSettings | None = None, counters: Counters | None = None):
        self.config = config
        self.settings = settings or CheckSettings()
        self.transport = Transport(config, counters)
        self.cache = AnswerCache(config.cache_dir)
        self.prompt_versions = [load_prompt(EXTRACT).version, load_prompt(REPAIR).version]

    @property
    def counters(self) -> Counters:
        return self.transport.counters

    def _ask(self, messages: list[dict], kind: str, read: LLMRead):
        model = response_model_for(kind)
        key = cache_key(self.config.model or "", self.prompt_versions, self.config.mode, messages, kind)
        hit = self.cache.get(key)
        if hit is not None:
            read.from_cache = True
            return model.model_validate(hit["answer"])
        answer, usage = self.transport.structured(messages, model)
        read.usage.requests += usage.requests
        read.usage.input_tokens += usage.input_tokens
        read.usage.output_tokens += usage.output_tokens
        self.cache.put(key, {"answer": answer.model_dump(mode="json"), "model": self.config.model, "prompts": self.prompt_versions})
        return answer

    def read_form(self, kind: str, text: str, images: list[bytes], pages: list[int], page_text: str) -> LLMRead:
        read = LLMRead(form=None)
        messages = extraction_messages(text, images if self.config.vision else [], pages)
        try:
            answer = self._ask(messages, kind, read)
        except LLMError as exc:
            read.error = str(exc)
            return read
        form = to_contract(answer, pages)
        form.findings = check_form(form, self.settings, page_text=page_text)
        arithmetic = [f for f in _errors(form) if f.code in ARITHMETIC]
        if self.config.repair and arithmetic:
            repair = messages + [
                {"role": "assistant", "content": answer.model_dump_json()},
                repair_message([f.message for f in arithmetic]),
            ]
            try:
                second = to_contract(self._ask(repair, kind, read), pages)
                second.findings = check_form(second, self.settings, page_text=page_text)
                if _rank(second) < _rank(form):
                    read.notes.append(f"repair pass fixed {len(arithmetic)} arithmetic finding(s)")
                    form = second
                else:
                    read.notes.append("repair pass did not improve the answer; kept the first")
            except LLMError as exc:
                read.notes.append(f"repair request failed: {exc}")
        form.usage = read.usage
        form.notes = read.notes + (["answer from cache"] if read.from_cache else [])
        read.form = form
        return read


def needs_llm(form: Form) -> str | None:
    """Why `--engine auto` should send this rules-engine form to the model, or None."""
    if form.confidence < LOW_CONFIDENCE:
        return f"low confidence ({form.confidence:.2f})"
    codes = {f.code for f in _errors(form)}
    if "missing_field" in codes:
        return "missing parts"
    if isinstance(form, ProjectForm):
        t = form.funding.total
        if t is None or t.score is None or t.execution_rate is None:
            return "funding row incomplete"
    reading = codes - PRINTED_LEVEL
    if reading:
        return "error findings that may be misreadings: " + ", ".join(sorted(reading))
    return None


def _flat(form: Form) -> dict[str, object]:
    d = form.model_dump(mode="python", include={"project_name", "department", "implementing_unit", "total_score", "grade", "funding", "indicators", "total_weight"})
    out: dict[str, object] = {}

    def walk(prefix: str, v) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(f"{prefix}.{k}" if prefix else k, x)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(f"{prefix}[{i}]", x)
        else:
            out[prefix] = v

    walk("", d)
    return out


def combine(rules: Form, llm: Form, prefer: str = "rules") -> Form:
    """Keep the candidate the checker and grounding prefer (`prefer` on a tie);
    record agreement, and both values wherever they disagree."""
    first, second = (llm, rules) if prefer == "llm" else (rules, llm)
    chosen, other = (second, first) if _rank(second) < _rank(first) else (first, second)
    a, b = _flat(chosen), _flat(other)
    differ = sorted(k for k in set(a) | set(b) if not same(a.get(k), b.get(k)))
    for path in set(a) - set(differ):
        src = chosen.provenance.get(path) or FieldSource(engine=chosen.engine)
        chosen.provenance[path] = src.model_copy(update={"engine": "rules+llm"})
    for path in differ:
        src = chosen.provenance.get(path) or FieldSource(engine=chosen.engine)
        chosen.provenance[path] = src.model_copy(update={"alternatives": {chosen.engine: _j(a.get(path)), other.engine: _j(b.get(path))}})
    chosen.usage = llm.usage
    chosen.notes = list(rules.notes) + list(llm.notes) + [f"kept the {chosen.engine} engine's reading ({len(differ)} field(s) differ)"]
    if differ:
        chosen.findings = list(chosen.findings) + [Finding(
            code="engines_disagree",
            severity="warning",
            message=f"rules and LLM engines read {len(differ)} field(s) differently: {', '.join(differ[:6])}",
            message_zh=f"规则引擎与大模型读出的{len(differ)}个字段不一致，请复核",
            field=differ[0],
            expected=_j(b.get(differ[0])),
            found=_j(a.get(differ[0])),
        )]
    return chosen


def _j(v):
    from decimal import Decimal

    return float(v) if isinstance(v, Decimal) else v
