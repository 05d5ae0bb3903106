"""Which forms the model should see, and how two engines' readings are combined.

Pure functions on contract records (no client import), so the rules path can
triage forms without loading the LLM stack.
"""

from __future__ import annotations


from collections.abc import Callable

from ..findings import MISPLACED, PRINTED, Code, Owner, field_zh, owner_of
from ..forms.numbers import DASHES
from ..forms.numbers import compact, same_value as same
from ..models import DepartmentForm, FieldSource, Finding, ProjectForm, flatten, json_value, set_path

Form = ProjectForm | DepartmentForm
LOW_CONFIDENCE = 0.85


def errors(form: Form) -> list[Finding]:
    return [f for f in form.findings if f.severity == "error"]


# What a reading failed to read (not what the form prints wrong): the more of these,
# the less of the form the reading holds.
# (A label printed over an empty cell is what the form prints: no gap, though a reading
# with many of them holds less of the form — rank counts them.)
GAPS = frozenset({Code.MISSING_FIELD, Code.FIELD_NOT_FOUND, Code.UNREAD_TEXT, Code.READ_POORLY})


def rank(form: Form) -> tuple[int, int, int]:
    """Lower is better: values not their cells' (or printed nowhere) first, then what
    the reading missed, then error findings."""
    errs = errors(form)
    return (sum(f.code in MISPLACED for f in errs), sum(f.code in GAPS or f.code == Code.PRINTED_EMPTY for f in errs),
            len(errs))


def read_by_ocr(form: Form) -> bool:
    return form.engine.startswith("ocr")


def why_zh(why: str) -> str:
    """`needs_llm`'s reason as a reader of Chinese messages reads it."""
    if why.startswith("read by OCR"):
        return "扫描件经OCR识别，每个值需再读一次"
    if why.startswith("low confidence"):
        return "置信度低" + why[len("low confidence"):].replace("(", "（").replace(")", "）")
    if why.startswith("missing parts"):
        parts = why.partition(": ")[2]
        return "缺少" + ("：" + "、".join(field_zh(p) for p in parts.split(", ")) if parts else "部分内容")
    if why == "funding row incomplete":
        return "资金行不完整"
    if why.startswith("error findings that may be misreadings"):
        return "有可能由识别错误引起的错误发现：" + why.partition(": ")[2]
    return why


def needs_llm(form: Form) -> str | None:
    """Why `--engine auto` should send this rules-engine form to the model, or None."""
    if read_by_ocr(form):  # (a misread digit keeps the arithmetic whole: no finding can be waited for)
        return "read by OCR: every value is read a second time"
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
    return flatten(form.model_dump(mode="python", include=_COMPARED))


# Every field both readings hold: the goals and the year too (an OCR'd goal that lost a
# 、 is a difference like any other)
_COMPARED = {"year", "project_name", "department", "implementing_unit", "subordinate_units", "goal_expected", "goal_actual",
             "total_score", "grade", "funding", "indicators", "total_weight"}


def _flagged(form: Form, path: str) -> bool:
    """Whether an error says this value is not the one its cell prints (or is printed nowhere)."""
    return any(f.severity == "error" and f.code in MISPLACED and f.field
               and (f.field == path or path.startswith(f.field + ".") or path.startswith(f.field + "["))
               for f in form.findings)


def _names(form: Form) -> list[str]:
    return [compact(i.name) for i in form.indicators]


Recheck = Callable[[Form], list[Finding]]


def combine(rules: Form, llm: Form, prefer: str = "rules", recheck: Recheck | None = None) -> Form:
    """Adjudicate two readings field by field.

    The reading the checker and grounding prefer is the base (`prefer` on a tie).
    Where the readings differ, the value whose cell prints it wins: a base value
    flagged as not its cell's is replaced by the other reading's unflagged one
    (indicator values only where both readings have the same rows); where neither
    or both are flagged, the form gets an `engines_conflict` error naming the field
    with both values. Values equal after normalisation but printed differently are
    an `engines_disagree` warning. `recheck` recomputes the checker's and
    grounding's findings of the merged record (needed when it is not the rules
    engine's own)."""
    first, second = (llm, rules) if prefer == "llm" else (rules, llm)
    chosen, other = (second, first) if rank(second) < rank(first) else (first, second)
    base_is_rules = chosen is rules
    if base_is_rules:
        chosen = rules.model_copy(deep=True)  # the rules reading is the grid the merged record is checked against
    a, b = _flat(chosen), _flat(other)
    aligned = _names(chosen) == _names(other)
    paths = sorted(set(a) | set(b))
    differ = [k for k in paths if not same(a.get(k), b.get(k))]
    printed_differently = [k for k in paths if k not in differ and a.get(k) != b.get(k) and a.get(k) not in (None, "")]
    # A row's number (`指标1:`) is a label the schema does not ask for: the reading that has
    # it gives it, and a model that leaves it off has not misread it
    numbers = [k for k in differ if aligned and k.endswith(".number") and (_empty(a.get(k)) or _empty(b.get(k)))]
    for k in numbers:
        if _empty(a.get(k)):
            set_path(chosen, k, b.get(k))
    differ = [k for k in differ if k not in numbers]
    taken, conflicts = [], []
    ocr = read_by_ocr(rules)  # on a page read by OCR no difference is settled for either side
    for path in differ:
        bad_chosen, bad_other = _flagged(chosen, path), _flagged(other, path)
        mine, theirs = _empty(a.get(path)), _empty(b.get(path))
        if ocr:
            conflicts.append(path)
        elif mine and not theirs and not bad_other and gap(chosen, path) and (aligned or not path.startswith("indicators")):
            set_path(chosen, path, b.get(path))  # (a value one reading says it missed, the other read)
            if path in other.provenance:
                chosen.provenance[path] = other.provenance[path]
            taken.append(path)
        elif theirs and not mine and not bad_chosen and gap(other, path):
            pass  # (the other reading says it missed it; this one read it)
        elif bad_chosen and not bad_other and (aligned or not path.startswith("indicators")) \
                and (not theirs or _invented(chosen, path)):
            set_path(chosen, path, b.get(path))
            if path in other.provenance:
                chosen.provenance[path] = other.provenance[path]
            taken.append(path)
        elif bad_chosen == bad_other:
            conflicts.append(path)
        elif (mine and bad_other and not _invented(other, path)) or (theirs and bad_chosen and not _invented(chosen, path)):
            # An empty value kept because the only value read is flagged: the cell prints
            # something neither reading has (an invented value is the one case the empty
            # cell settles)
            conflicts.append(path)
    for path in set(paths) - set(differ):
        src = chosen.provenance.get(path) or FieldSource(engine=chosen.engine)
        chosen.provenance[path] = src.model_copy(update={"engine": "rules+llm"})
    for path in differ:
        src = chosen.provenance.get(path) or FieldSource(engine=chosen.engine)
        chosen.provenance[path] = src.model_copy(update={"alternatives": {chosen.engine: json_value(a.get(path)), other.engine: json_value(b.get(path))}})
    if recheck is not None and (taken or not base_is_rules):
        kept = [f for f in chosen.findings if owner_of(f.code) not in (Owner.CHECKER, Owner.GROUNDING)]
        if not base_is_rules:  # what happened to the document (a damaged page, an unsure OCR) stays with the form
            kept += [f for f in rules.findings if owner_of(f.code) == Owner.PIPELINE
                     or (owner_of(f.code) == Owner.READING and f.code not in GAPS)]
        chosen.findings = kept + recheck(chosen)
    # A label printed over an empty cell, said by a reading that missed the value the
    # merged record now holds, is no longer so
    merged = _flat(chosen)
    chosen.findings = [f for f in chosen.findings
                       if not (f.code == Code.PRINTED_EMPTY and f.field and _holds(merged, f.field))]
    chosen.usage = llm.usage
    settled = len(differ) - len(conflicts)
    chosen.notes = list(rules.notes) + list(llm.notes) + [
        f"kept the {chosen.engine} engine's reading ({len(differ)} field(s) differ"
        + (f"; {settled} settled by their cells" if settled else "")
        + (f"; {len(taken)} taken from the {other.engine} engine's reading: {', '.join(taken[:6])}" if taken else "") + ")"]
    chosen.findings.extend(_disagreements(conflicts, printed_differently, (a, b) if base_is_rules else (b, a), a, b))
    return chosen


def _disagreements(conflicts: list[str], printed_differently: list[str], readings: tuple[dict, dict],
                   chosen: dict, other: dict) -> list[Finding]:
    """An error per field no cell settles, with both values; one warning for the equal
    values printed differently. `readings` is (rules, llm) flattened."""
    by_rules, by_llm = readings
    out = []
    for path in conflicts:
        r, m = _show(by_rules.get(path)), _show(by_llm.get(path))
        out.append(Finding(
            code=Code.ENGINES_CONFLICT, severity="error",
            message=f"{path}: the rules engine reads {r}, the LLM {m}; neither is settled by the cell at its row and column",
            message_zh=f"{field_zh(path)}：规则引擎读为 {r}，大模型读为 {m}，无法由单元格确认，请复核",
            field=path, expected=other.get(path), found=chosen.get(path),
        ))
    if printed_differently:
        first = printed_differently[0]
        out.append(Finding(
            code=Code.ENGINES_DISAGREE, severity="warning",
            message=f"rules and LLM engines print {len(printed_differently)} equal value(s) differently: {', '.join(printed_differently[:6])}",
            message_zh=f"规则引擎与大模型读出的{len(printed_differently)}个字段数值相同而写法不同",
            field=first, expected=other.get(first), found=chosen.get(first),
        ))
    return out


def _holds(flat: dict[str, object], path: str) -> bool:
    """A flattened record holds a value at `path` or under it (a row's values)."""
    return any(not _empty(v) for k, v in flat.items() if k == path or k.startswith(path + ".") or k.startswith(path + "["))


def _invented(form: Form, path: str) -> bool:
    """An error says this value's cell prints '-' or nothing."""
    return any(f.severity == "error" and f.code == Code.INVENTED_VALUE and f.field == path for f in form.findings)


def gap(form: Form, path: str, whole_form: bool = True) -> bool:
    """The reading says it missed this value: a gap finding names it, its row or block,
    or (with `whole_form`) the whole form (read poorly, text no field is named for)."""
    return any(f.severity == "error" and f.code in GAPS
               and ((not f.field and whole_form) or (f.field and (f.field == path or path.startswith(f.field + ".")
                                                                   or path.startswith(f.field + "["))))
               for f in form.findings)


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in DASHES)


def _show(value: object) -> str:
    return "nothing" if value in (None, "") else repr(str(json_value(value)))
