"""The checker: recompute every identity a form must satisfy and report each
disagreement as a `Finding`. It never raises and never edits values; it runs the
same on records from any engine or on JSON a person corrected.

Error codes (the numbers disagree, or a required part is missing):
  missing_field, funding_sum, execution_rate, budget_score, weights_sum,
  score_range, total_score, grade, rate_indicator_mismatch, level1_weight,
  funding_structure_sum, ungrounded_value, merged_labels, level_mismatch,
  unknown_grade (where the total gives the grade)
Warning codes (scoring practice, national guidance):
  score_without_reason, met_but_deducted, missed_full_marks, qualitative_band
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_UP, Context, Decimal
from functools import lru_cache

from ..findings import FIELD_ZH, field_zh
from ..models import DepartmentForm, Finding, FundingRow, ProjectForm, funding_rows, json_value
from ..settings import CheckSettings
from ..forms.targets import parse_value, target_met
from ..forms.templates import VOCAB
from .columns import empty_values
from .precision import Mode, Span, places_of, printed, rounds_to

Form = ProjectForm | DepartmentForm
HUNDRED = Decimal(100)
RATE_INDICATOR = re.compile("预算执行率|预算执行利率|资金执行率")


def _err(code: str, en: str, zh: str, field: str | None = None, expected=None, found=None, severity="error") -> Finding:
    return Finding(code=code, severity=severity, message=en, message_zh=zh, field=field, expected=expected, found=found)


def printed_places(form: Form, path: str, value: Decimal) -> int:
    """How many decimals the form prints this value with: from the text it was read
    from (provenance), else from the value itself (an LLM's, or a corrected file's)."""
    src = form.provenance.get(path)
    return places_of(src.raw if src is not None else None, value)


def _figure(form: Form, path: str, value: Decimal, mode: Mode) -> Span:
    """A computed figure (a rate, the budget score, the total): the values that print
    as it does."""
    return printed(value, printed_places(form, path, value), mode)


def _prints_as(settings: CheckSettings, value: Decimal, places: int, exact: Decimal) -> bool:
    """`exact` prints as `value` with `places` decimals under one of the conventions: by
    rounding it (the common case), else by the span of what prints as `value` (a value
    with more digits than its printed places: a corrected one)."""

    modes = _modes(settings)  # (`_agrees`'s order, written out: this runs for every rate)
    for mode in modes:
        if rounds_to(value, places, exact, mode):
            return True
    exponent = value.as_tuple().exponent  # (no more digits than printed: rounding said all)
    if isinstance(exponent, int) and exponent >= -places:
        return False
    return any(printed(value, places, mode).meets(Span.exact(exact)) for mode in modes)


_ROUND_FIRST: dict[tuple[str, ...], tuple[str, ...]] = {}


def _agrees(settings: CheckSettings, *tests: Callable[[Mode], bool]) -> bool:
    """The identity holds under one of the conventions a publisher may print with. Each
    test says it holds under a convention; each is tried under every convention before
    the next (cheap ones first: a form that truncates is settled by rounding its figure,
    not by the spans rounding would need), rounding first (most print so). Any order
    gives the same answer."""
    modes = _modes(settings)
    for test in tests:
        for mode in modes:
            if test(mode):
                return True
    return False


def _modes(settings: CheckSettings) -> tuple[str, ...]:
    """The settings' rounding conventions, rounding first."""
    key = tuple(settings.rounding)
    modes = _ROUND_FIRST.get(key)
    if modes is None:
        modes = _ROUND_FIRST[key] = tuple(sorted(key, key=lambda m: m != "round"))
    return modes


def _zh(value: object) -> object:
    """A value in a Chinese message: an empty one said so."""
    return "（空）" if value is None else value


def _shown(exact: Decimal, places: int) -> Decimal:
    """A recomputed value as the form would print it (for messages)."""
    return exact.quantize(Decimal(1).scaleb(-min(max(places, 2), 8)), rounding=ROUND_HALF_UP, context=_WIDE)


_WIDE = Context(prec=1000, Emax=MAX_EMAX, Emin=MIN_EMIN)
# A rate's quotient: the product with 100 keeps the default 28 digits, so a quotient to
# 1,000 digits (a fifth of a form's checking time) gave nothing 60 do not
_QUOTIENT = Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN)


# --- project form -------------------------------------------------------------------


def _check_required(form: ProjectForm) -> Iterator[Finding]:
    if not form.project_name:
        yield _err("missing_field", "project name not found", "未找到项目名称", "project_name")
    if form.funding.total is None:
        yield _err("missing_field", "funding row 年度资金总额 not found", "未找到年度资金总额行", "funding.total")
    if not form.indicators:
        yield _err("missing_field", "no indicator rows found", "未找到绩效指标", "indicators")
    if form.total_score is None:
        yield _err("missing_field", "total score not found", "未找到总分", "total_score")
        if form.total_weight is None:  # (printed beside it, on the row that was not found)
            yield _err("missing_field", "total weight (the 100 beside the total) not found with it", "未找到总分行的分值", "total_weight")


def _check_funding_sums(form: ProjectForm, settings: CheckSettings) -> Iterator[Finding]:
    f = form.funding
    if f.total is None:
        return
    parts = [p for p in (f.fiscal, f.carryover, f.other, *f.extra) if p is not None]
    if not parts:
        return
    for col in ("initial_budget", "annual_budget", "executed"):
        total = getattr(f.total, col)
        values = [getattr(p, col) for p in parts]
        if total is None or any(v is None for v in values):
            continue
        s = sum(values, Decimal(0))
        if s != total:  # amounts are the data: a total is the sum of its printed parts
            yield _err(
                "funding_sum",
                f"funding {col}: total {total} ≠ the sum of its printed sources (fiscal, carryover, other"
                f"{''.join(', ' + x.label for x in f.extra)}) = {s}",
                f"{FIELD_ZH.get(col, col)}：年度资金总额 {total} ≠ 各来源之和 {s}",
                f"funding.total.{col}", s, total,
            )


def _check_rate(form: Form, row, path: str, settings: CheckSettings) -> Iterator[Finding]:
    if row is None or row.execution_rate is None or row.annual_budget is None or row.executed is None:
        return
    if row.annual_budget == 0:
        if row.execution_rate != 0:
            yield _err("execution_rate", f"{path}: budget is 0 but rate is {row.execution_rate}", f"{field_zh(path)}：预算数为0，执行率却为{row.execution_rate}", f"{path}.execution_rate", 0, row.execution_rate)
        return
    exact = _QUOTIENT.divide(row.executed, row.annual_budget) * HUNDRED
    places = printed_places(form, f"{path}.execution_rate", row.execution_rate)

    # The amounts are the data (exact as printed); the rate is computed from them.
    if not _prints_as(settings, row.execution_rate, places, exact):
        shown = _shown(exact, places)
        yield _err(
            "execution_rate",
            f"{path}: execution rate {row.execution_rate} ≠ executed/annual budget = {shown}",
            f"{field_zh(path)}：执行率 {row.execution_rate} ≠ 全年执行数/全年预算数 = {shown}",
            f"{path}.execution_rate", shown, row.execution_rate,
        )


def _check_same_amounts_same_rate(form: ProjectForm, rows: list[tuple[str, FundingRow]]) -> Iterator[Finding]:
    """Rows with the same budget and execution print the same rate (one computation)."""
    t = form.funding.total
    if t is None or t.execution_rate is None:
        return
    for name, r in rows:
        if name == "total" or r.execution_rate is None:
            continue
        if (r.annual_budget, r.executed) == (t.annual_budget, t.executed) and r.execution_rate != t.execution_rate:
            yield _err(
                "execution_rate",
                f"funding.{name}: same amounts as the total but rate {r.execution_rate} ≠ {t.execution_rate}",
                f"{field_zh('funding.' + name)}行金额与合计相同，执行率却不同（{r.execution_rate} ≠ {t.execution_rate}）",
                f"funding.{name}.execution_rate", t.execution_rate, r.execution_rate,
            )


def _check_budget_score(form: ProjectForm, settings: CheckSettings) -> Iterator[Finding]:
    t = form.funding.total
    if t is None or t.score is None or t.execution_rate is None:
        return
    weight = t.weight if t.weight is not None else settings.budget_weight  # declared: exact
    rate = min(t.execution_rate, HUNDRED)
    exact = weight * rate / HUNDRED

    score_places = printed_places(form, "funding.total.score", t.score)

    def from_the_rates_span(mode: Mode) -> bool:
        share = _figure(form, "funding.total.execution_rate", t.execution_rate, mode).at_most(HUNDRED)
        return (share * (weight / HUNDRED)).meets(_figure(form, "funding.total.score", t.score, mode))

    # (from the rate as printed: the common case)
    if not _agrees(settings, lambda mode: rounds_to(t.score, score_places, exact, mode), from_the_rates_span):
        shown = _shown(exact, printed_places(form, "funding.total.score", t.score))
        yield _err(
            "budget_score",
            f"budget score {t.score} ≠ weight {weight} × rate {rate}% = {shown}",
            f"预算执行得分 {_zh(t.score)} ≠ 分值 {weight} × 执行率 {rate}% = {shown}",
            "funding.total.score", shown, t.score,
        )


def _check_score_rates(form: Form, settings: CheckSettings) -> Iterator[Finding]:
    """Where a template prints the share of the weight scored (Chongqing's 得分系数):
    score = weight × rate / 100, to the score's printed places."""
    for i, ind in enumerate(form.indicators):
        rate = getattr(ind, "score_rate", None)
        if rate is None or ind.weight is None or ind.score is None:
            continue
        exact = ind.weight * rate / HUNDRED
        places = printed_places(form, f"indicators[{i}].score", ind.score)
        if not _agrees(settings, lambda mode: rounds_to(ind.score, places, exact, mode)):
            shown = _shown(exact, places)
            yield _err("indicator_score", f"indicator {i + 1} ({ind.name}): score {ind.score} ≠ weight {ind.weight} × {rate}% = {shown}",
                       f"第{i + 1}项指标（{ind.name}）：得分 {ind.score} ≠ 指标权重 {ind.weight} × 得分系数 {rate}% = {shown}",
                       f"indicators[{i}].score", shown, ind.score)


def _check_indicator_scores(indicators, prefix: str = "indicators") -> Iterator[Finding]:
    for i, ind in enumerate(indicators):
        name = ind.name
        if not name or name.isspace():
            # (the row: with its name missing, its other cells may have moved over by one)
            yield _err("missing_field", f"indicator {i + 1} has no name (三级指标): its cells may be misplaced",
                       f"第{i + 1}项指标缺少三级指标名称，其他栏目可能错位", f"{prefix}[{i}]")
        score, weight = ind.score, ind.weight
        if score is not None and weight is not None and not score.is_signed() and score <= weight:
            continue
        if ind.score is None or ind.weight is None:
            yield _err("missing_field", f"indicator {i + 1} ({ind.name}) has no weight or score", f"第{i + 1}项指标（{ind.name}）缺少分值或得分", f"{prefix}[{i}]")
            continue
        if ind.score < 0 or ind.score > ind.weight:
            yield _err(
                "score_range",
                f"indicator {i + 1} ({ind.name}): score {ind.score} outside 0..{ind.weight}",
                f"第{i + 1}项指标（{ind.name}）：得分 {ind.score} 超出 0～{ind.weight}",
                f"{prefix}[{i}].score", f"0..{json_value(ind.weight)}", ind.score,
            )


def _sum(values) -> Decimal:
    total = Decimal(0)
    for v in values:
        if v is not None:
            total += v
    return total


def _check_project_totals(form: ProjectForm, settings: CheckSettings) -> Iterator[Finding]:
    t = form.funding.total
    budget_weight = t.weight if t is not None and t.weight is not None else settings.budget_weight
    weights = _sum(i.weight for i in form.indicators) + budget_weight
    expected_weight = form.total_weight if form.total_weight is not None else settings.total_weight
    if form.indicators and form.total_weight is not None and form.total_weight != settings.total_weight:
        # A printed total weight other than the usual 100 (misread, garbled, or printed
        # wrong): named itself; the weights are held to the usual total
        yield _err("weights_sum", f"total weight {form.total_weight} is not {settings.total_weight} (the weights sum to {weights})",
                   f"总分值 {form.total_weight} 不是 {settings.total_weight}（各项分值之和为 {weights}）",
                   "total_weight", settings.total_weight, form.total_weight)
        expected_weight = settings.total_weight
    if form.indicators and weights != expected_weight:
        yield _err(
            "weights_sum",
            f"indicator weights + budget weight = {weights}, expected {expected_weight}",
            f"指标分值之和加预算执行分值 = {weights}，应为 {expected_weight}",
            "indicators[].weight", expected_weight, weights,
        )
    budget_score = t.score if t is not None else None
    if form.total_score is not None and form.indicators:
        scores = _sum(i.score for i in form.indicators)  # declared: exact
        recomputed = scores + (budget_score or 0)

        def holds(mode: Mode) -> bool:
            parts = Span.exact(scores)
            if budget_score is not None:
                parts = parts + _figure(form, "funding.total.score", budget_score, mode)
            return parts.meets(_figure(form, "total_score", form.total_score, mode))

        if recomputed != form.total_score and not _agrees(settings, holds):  # (equal: the printed sum)
            yield _err(
                "total_score",
                f"total {form.total_score} ≠ budget score {budget_score} + indicator scores = {recomputed}",
                f"总分 {form.total_score} ≠ 预算执行得分 {_zh(budget_score)} + 各指标得分 = {recomputed}",
                "total_score", recomputed, form.total_score,
            )


def _check_rate_indicator(form: ProjectForm, settings: CheckSettings) -> Iterator[Finding]:
    t = form.funding.total
    if t is None or t.execution_rate is None or not RATE_INDICATOR.search("\n".join(i.name for i in form.indicators)):
        return  # (one search of all the names: most forms have no such row)
    for i, ind in enumerate(form.indicators):
        if not RATE_INDICATOR.search(ind.name):
            continue
        v = parse_value(ind.actual)
        if v.kind != "quantity" or v.unit != "%" or v.number is None:
            continue
        # Two printings of one rate (99.34% against a block's 99.3%): they share a value
        ind_places = places_of(None, v.number)

        block_places = printed_places(form, "funding.total.execution_rate", t.execution_rate)

        def rounded(mode: Mode) -> bool:  # (the same rate, or the finer printing rounding to the coarser)
            return v.number == t.execution_rate or (ind_places > block_places and rounds_to(t.execution_rate, block_places, v.number, mode)) \
                or (block_places > ind_places and rounds_to(v.number, ind_places, t.execution_rate, mode))

        def spans_meet(mode: Mode) -> bool:
            return printed(v.number, ind_places, mode).meets(_figure(form, "funding.total.execution_rate", t.execution_rate, mode))

        if not _agrees(settings, rounded, spans_meet):
            yield _err(
                "rate_indicator_mismatch",
                f"indicator '{ind.name}' reports {v.number}% but the funding block's rate is {t.execution_rate}%",
                f"指标“{ind.name}”实际完成值 {v.number}% 与资金执行率 {t.execution_rate}% 不一致",
                f"indicators[{i}].actual", t.execution_rate, v.number,
            )


def _grade_for(total: Decimal, bands) -> str:
    for band in sorted(bands, key=lambda b: b.min, reverse=True):
        if total >= band.min:
            return band.label
    return bands[-1].label


@lru_cache(maxsize=256)
def _family(template: str, kind: str, title: str):
    return VOCAB.family(template) or VOCAB.family_for(kind, title, set())


def grade_scales(form: Form, settings: CheckSettings) -> list:
    """The scales a form's grade is judged on, in order: the configured scale, the
    family's (by the form's template, else the one its kind and title point to), the
    configured alternatives."""
    family = _family(form.template, form.kind, form.title or "")
    scales = [settings.scales[n] for n in family.grades if n in settings.scales]
    return ([settings.grades] if settings.grades else []) + scales + list(settings.alternative_grades)


def _check_grade(form: Form, settings: CheckSettings) -> Iterator[Finding]:
    if form.grade is None or not form.grade.strip():
        return
    grade = "".join(form.grade.split())
    scales = grade_scales(form, settings)
    scale = next((s for s in scales if any(b.label == grade for b in s)), None)
    if scale is None:
        # A word on none of them: an error where the total gives the grade it should be
        if form.total_score is None:
            yield _err("unknown_grade", f"grade '{form.grade}' is on no scale this form's family uses", f"评分等级“{form.grade}”不在该类表格的等级中", "grade", None, form.grade, "warning")
        else:
            expected = _grade_for(form.total_score, scales[0]) if scales else None
            yield _err("unknown_grade", f"grade '{form.grade}' is on no scale this form's family uses; total {form.total_score} is {expected}",
                       f"评分等级“{form.grade}”不在该类表格的等级中；总分 {form.total_score} 应为“{expected}”", "grade", expected, form.grade)
        return
    if form.total_score is None:
        return
    expected = _grade_for(form.total_score, scale)  # (a word two scales share: the form's own first)
    if expected != grade:
        yield _err("grade", f"grade {form.grade} does not match total {form.total_score} (expected {expected})", f"评分等级 {form.grade} 与总分 {form.total_score} 不符（应为 {expected}）", "grade", expected, form.grade)


def _check_practice(indicators, settings: CheckSettings) -> Iterator[Finding]:
    for i, ind in enumerate(indicators):
        if ind.score is None or ind.weight is None or ind.weight == 0:
            continue
        deducted = ind.score < ind.weight
        path = f"indicators[{i}].score"
        if deducted and not (ind.deviation_reason or "").strip():
            yield _err("score_without_reason", f"'{ind.name}': {ind.score}/{ind.weight} with no deviation reason", f"“{ind.name}”扣分（{ind.score}/{ind.weight}）但未填写偏差原因", path, None, ind.score, "warning")
        target, actual = parse_value(ind.target), parse_value(ind.actual)
        met = target_met(target, actual)
        if met is True and deducted:
            yield _err("met_but_deducted", f"'{ind.name}': target {ind.target} met ({ind.actual}) but scored {ind.score}/{ind.weight}", f"“{ind.name}”已达到指标值 {ind.target}（{ind.actual}）却扣分", path, ind.weight, ind.score, "warning")
        elif met is False and not deducted:
            yield _err("missed_full_marks", f"'{ind.name}': target {ind.target} missed ({ind.actual}) but full marks", f"“{ind.name}”未达到指标值 {ind.target}（{ind.actual}）却得满分", path, None, ind.score, "warning")
        if actual.kind == "qualitative":
            share = ind.score / ind.weight
            lo, hi = {
                "achieved": (settings.achieved_min_share, Decimal(1)),
                "partial": (settings.partial_min_share, settings.achieved_min_share),
                "not_achieved": (Decimal(0), settings.partial_min_share),
            }[actual.achievement]
            if not (lo <= share <= hi) or (actual.achievement == "not_achieved" and share >= hi):
                yield _err("qualitative_band", f"'{ind.name}': {ind.actual} scores {lo:.0%}–{hi:.0%} of the weight, got {share:.0%}", f"“{ind.name}”{ind.actual}应得分值的{lo:.0%}～{hi:.0%}，实得{share:.0%}", path, None, ind.score, "warning")


def _check_level1_weights(form: Form) -> Iterator[Finding]:
    """A level-1 weight a form prints (the department form's 权重 beside 一级指标, a
    `产出指标(50分)` cell) equals its indicators' weights."""
    if all(i.level1_weight is None for i in form.indicators):  # (most forms print none)
        return
    groups: dict[str, list] = {}
    for ind in form.indicators:
        groups.setdefault(ind.level1, []).append(ind)
    for level1, inds in groups.items():
        s = _sum(i.weight for i in inds)
        # The weight is one merged cell; every row carries it and each must agree.
        for declared in sorted({i.level1_weight for i in inds if i.level1_weight is not None}):
            if declared != s:
                yield _err("level1_weight", f"{level1}: weight {declared} ≠ sum of its indicators {s}", f"{level1}：权重 {declared} ≠ 其指标分值之和 {s}",
                           f"indicators[level1={level1}].level1_weight", s, declared)


def check_project(form: ProjectForm, settings: CheckSettings, practice: bool = True) -> list[Finding]:
    out: list[Finding] = []
    out.extend(_check_required(form))
    out.extend(_check_funding_sums(form, settings))
    rows = funding_rows(form.funding)
    for name, row in rows:
        out.extend(_check_rate(form, row, f"funding.{name}", settings))
    out.extend(_check_same_amounts_same_rate(form, rows))
    out.extend(_check_budget_score(form, settings))
    out.extend(_check_indicator_scores(form.indicators))
    out.extend(_check_level1_weights(form))
    out.extend(_check_project_totals(form, settings))
    out.extend(_check_rate_indicator(form, settings))
    out.extend(_check_grade(form, settings))
    if practice:
        out.extend(_check_practice(form.indicators, settings))
    return out


# --- department form ------------------------------------------------------------------


def check_department(form: DepartmentForm, settings: CheckSettings, practice: bool = True) -> list[Finding]:
    out: list[Finding] = []
    if not form.department:
        out.append(_err("missing_field", "department name not found", "未找到部门(单位)名称", "department"))
    if not form.indicators:
        out.append(_err("missing_field", "no indicator rows found", "未找到绩效指标", "indicators"))
    if form.total_score is None:
        out.append(_err("missing_field", "total score not found", "未找到总分", "total_score"))
        if form.total_weight is None:  # (printed beside it, on the row that was not found)
            out.append(_err("missing_field", "total weight (the 100 beside the total) not found with it", "未找到总分行的分值", "total_weight"))
    f = form.funding
    for name in ("total", "fiscal", "other", "basic", "project"):
        out.extend(_check_rate(form, getattr(f, name), f"funding.{name}", settings))
    budget_weight = budget_score = None
    if f.total is not None and f.total.weight is not None:  # the budget's execution scored (Chongqing)
        budget_weight, budget_score = f.total.weight, f.total.score
        out.extend(_check_budget_score(form, settings))
    if all(getattr(f, n) is not None for n in ("fiscal", "other", "basic", "project")):
        for col in ("annual_budget", "executed"):
            src = _sum(getattr(getattr(f, n), col) for n in ("fiscal", "other"))
            struct = _sum(getattr(getattr(f, n), col) for n in ("basic", "project"))

            if src != struct:  # (amounts: exact as printed)
                out.append(_err("funding_structure_sum", f"{col}: by source {src} ≠ by structure {struct}", f"{FIELD_ZH.get(col, col)}：按来源合计 {src} ≠ 按结构合计 {struct}", f"funding.{col}", src, struct))
    out.extend(_check_indicator_scores(form.indicators))
    out.extend(_check_score_rates(form, settings))
    out.extend(_check_level1_weights(form))
    weights = _sum(i.weight for i in form.indicators)
    expected_weight = form.total_weight if form.total_weight is not None else settings.total_weight
    if budget_weight is not None:
        expected_weight -= budget_weight
    if form.indicators and form.total_weight is not None and form.total_weight != settings.total_weight:
        out.append(_err("weights_sum", f"total weight {form.total_weight} is not {settings.total_weight}",
                        f"总分值 {form.total_weight} 不是 {settings.total_weight}", "total_weight", settings.total_weight, form.total_weight))
        expected_weight = settings.total_weight - (budget_weight or 0)
    if form.indicators and weights != expected_weight:
        out.append(_err("weights_sum", f"indicator weights sum to {weights}, expected {expected_weight}", f"指标分值之和 {weights}，应为 {expected_weight}",
                        "indicators[].weight", expected_weight, weights))
    if form.total_score is not None and form.indicators:
        recomputed = _sum(i.score for i in form.indicators)  # declared: exact
        if budget_score is not None:
            recomputed += budget_score
        places = printed_places(form, "total_score", form.total_score)
        if not _prints_as(settings, form.total_score, places, recomputed):
            also = f" + budget score {budget_score}" if budget_score is not None else ""
            out.append(_err("total_score", f"total {form.total_score} ≠ sum of indicator scores{also} {recomputed}",
                            f"总分 {form.total_score} ≠ 各指标得分之和{'（含预算执行得分）' if also else ''} {recomputed}", "total_score", recomputed, form.total_score))
    out.extend(_check_grade(form, settings))
    if practice:
        out.extend(_check_practice(form.indicators, settings))
    return out


def check_arithmetic(form: Form, settings: CheckSettings) -> list[Finding]:
    """The error rules only: identities, ranges, grades, required parts."""
    if isinstance(form, DepartmentForm):
        return check_department(form, settings, practice=False)
    return check_project(form, settings, practice=False)


def check_form(form: Form, settings: CheckSettings | None = None, page_text: str | Sequence[str] | None = None) -> list[Finding]:
    """All findings for one form; grounding too when the pages' text is given (one
    string, or one per page)."""
    settings = settings or CheckSettings()
    findings = check_department(form, settings) if isinstance(form, DepartmentForm) else check_project(form, settings)
    findings.extend(_merged_labels(form))
    findings.extend(_names_with_figures(form))
    findings.extend(_names_of_a_nature(form))
    family = VOCAB.family(form.template) if form.template else None
    if family is None or family.levels:  # (Chongqing's department form prints no levels)
        findings.extend(_level_labels(form))
        findings.extend(_level_mismatch(form))
        findings.extend(_carried_where_repeated(form))
    else:
        findings.extend(_levels_not_printed(form))
    findings.extend(_names_with_labels(form))
    findings.extend(_figures_unread(form))
    findings.extend(empty_values(form))
    if page_text is not None:
        from .grounding import check_grounding

        findings.extend(check_grounding(form, page_text))
    return findings


_QUANTITATIVE = frozenset({"≥", "≤", "=", ">", "<", "≧", "≦", "定量", "定量指标"})
_FIGURE_VALUE = re.compile(r"[\d.,]+\s*(.*)")  # a figure, and what follows it (a unit, or nothing)
# A figure's unit with a digit in it: `(96)` (`%` read as 96), `(1%)` (a cell's border read as 1)
_FIGURE_UNIT = re.compile(r"(?<=\d)\s*[(（][^()（）]{0,3}\d[^()（）]{0,3}[)）]$")


def _figures_unread(form: Form) -> Iterator[Finding]:
    """A target printed in parts (Sichuan's 指标性质 | 指标值 | 度量单位) whose operator or
    unit says it is a figure, and whose 指标值 is empty or no figure (`≥ | | %`, `| Z3 | %`:
    a scan lost the `1`, read `=8` as `Z`); a target or actual whose unit is a figure
    (`9924355.12(96)`: `%` read as 96; `172363.9(1%)`: the borders of a clipped cell read
    as 1s). No value of the gold set is either."""
    for i, ind in enumerate(form.indicators):
        if ind.target_parts:
            op, value, unit = ind.target_parts
            value = (value or "").strip()
            figure = _FIGURE_VALUE.fullmatch(value)
            if (unit or op in _QUANTITATIVE) and not (figure and figure.group(1) in ("", "%", unit)):
                yield _err("missing_field", f"indicator {i + 1}: its target's operator or unit ('{op or ''}', '{unit or ''}') is printed, "
                           f"its figure {'is not read' if not value else repr(value) + ' is no figure'}",
                           f"第{i + 1}项指标的指标值印有性质或单位（“{op or ''}”“{unit or ''}”），数值{'未读出' if not value else '“' + value + '”不是数字'}",
                           f"indicators[{i}].target", None, value or None)
        for col in ("target", "actual"):
            text = (getattr(ind, col) or "").strip()
            if _FIGURE_UNIT.search(text):
                yield _err("missing_field", f"indicator {i + 1}: its {col} '{text}' ends in a unit that is a figure: its unit is not read",
                           f"第{i + 1}项指标的{_COL_ZH[col]}“{text}”的单位是数字，单位未读出", f"indicators[{i}].{col}", None, text)


def _levels_not_printed(form: Form) -> Iterator[Finding]:
    """A level label read on a form whose template prints none (Chongqing's): the row's
    cells were read into the wrong fields (a shifted row: its name read as level 1)."""
    for i, ind in enumerate(form.indicators):
        for level in ("level1", "level2"):
            if getattr(ind, level):
                yield _err("level_mismatch", f"indicator {i + 1}: {level} '{getattr(ind, level)}' read, where the template prints "
                           "no level labels: the row's cells were read into other fields than theirs",
                           f"第{i + 1}项指标读出了{'一' if level == 'level1' else '二'}级指标“{getattr(ind, level)}”，"
                           "而该表样不印指标层级：该行单元格读入了错误的字段", f"indicators[{i}]", None, getattr(ind, level))
                break


def _merged_labels(form: Form) -> Iterator[Finding]:
    """A level label that holds several labels run together ("质量指标时效指标…"): the
    rows of a merged cell were read as one. No real label names 指标 twice. Every row
    that carries it is named (its level and name are not what the form prints)."""
    for i, ind in enumerate(form.indicators):
        for level in ("level1", "level2"):
            label = "".join((getattr(ind, level) or "").split())
            if label.count("指标") >= 2:
                yield _err("merged_labels", f"indicator {i + 1}: {level} '{label}' is several labels run together",
                           f"第{i + 1}项指标的{'一' if level == 'level1' else '二'}级指标“{label}”由多个指标名称连在一起，读取有误",
                           f"indicators[{i}]", None, label)


def _names_with_labels(form: Form) -> Iterator[Finding]:
    """An indicator's name, target or actual that holds a level label
    (`经济效益指标残保金政策宣传覆盖率`, `社会知晓率效益指标社会效益指标提升`): the label's cell
    and the value's ran together (a converter joined the cells of a merged range), so
    the row's cells are not what the form prints in them. No value of the gold set's
    2,370 holds a …指标 label. One that is a label and nothing else: the row's cells moved
    by a column (a text that leaves empty cells out, `时效指标 | name | target |`, read by
    order as name, target, actual)."""
    words = _LABEL_WORDS
    for i, ind in enumerate(form.indicators):
        for col in ("name", "target", "actual"):
            text = "".join((getattr(ind, col) or "").split())
            if text in _LABEL_SET:
                yield _err("merged_labels", f"indicator {i + 1}: its {col} '{text}' is a level label: the row's cells moved by a column",
                           f"第{i + 1}项指标的{_COL_ZH[col]}“{text}”是指标类别，该行单元格错位", f"indicators[{i}]", None, text)
                continue
            label = next((w for w in words if w in text and len(text) > len(w) + 1), None)
            if label is None:
                continue
            where = "opens with" if text.startswith(label) else "holds"
            yield _err("merged_labels", f"indicator {i + 1}: its {col} '{text}' {where} the label '{label}': cells run together",
                       f"第{i + 1}项指标的{_COL_ZH[col]}“{text}”含有指标类别“{label}”，单元格的文字连在了一起",
                       f"indicators[{i}]" if col == "name" else f"indicators[{i}].{col}", None, text)


_NATURE = frozenset({"定性", "定量", "正向", "反向", "正向指标", "反向指标", "=", "≥", "≤", ">", "<"})


def _names_of_a_nature(form: Form) -> Iterator[Finding]:
    """A name that is an indicator's nature or operator (Sichuan's 指标性质: 定性, ≥): the
    row's cells moved over by a column (pymupdf4llm wrote a page's last row as a table of
    its own, a column short: its name went to the level column, 定性 to the name)."""
    for i, ind in enumerate(form.indicators):
        name = "".join((ind.name or "").split())
        if name in _NATURE:
            yield _err("merged_labels", f"indicator {i + 1}: its name '{name}' is an indicator's nature or operator: its cells moved by a column",
                       f"第{i + 1}项指标的名称“{name}”是指标性质，该行单元格错位", f"indicators[{i}]", None, name)


def _names_with_figures(form: Form) -> Iterator[Finding]:
    """A name that ends in a target or a figure (`…覆盖率 ≥10000.00(家)`): the cell beside
    it ran into the name (no name of the gold set ends so)."""
    for i, ind in enumerate(form.indicators):
        name = (ind.name or "").strip()
        m = _TRAILING_FIGURE.search(name)
        if m and m.start() > 0:
            yield _err("merged_labels", f"indicator {i + 1}: its name '{name}' ends in the figure '{m.group().strip()}': cells run together",
                       f"第{i + 1}项指标名称“{name}”以数值“{m.group().strip()}”结尾，单元格的文字连在了一起", f"indicators[{i}]", None, name)


_TRAILING_FIGURE = re.compile(r"\s*(?:[≥≤=<>]\s*\d+(?:\.\d+)?(?:\([^()]*\))?|\d+\.\d+\s*\([^()]*\))$")
_LABEL_WORDS = sorted({w for w in (*VOCAB.level1_words, *VOCAB.level2_words) if w.endswith("指标")}, key=len, reverse=True)
_LABEL_SET = frozenset(_LABEL_WORDS)
_COL_ZH = {"name": "名称", "target": "指标值", "actual": "完成值"}


def _level_mismatch(form: Form) -> Iterator[Finding]:
    """A level-2 label that belongs under another level 1 than the row's: the level-1
    label was carried down past the end of its merged cell (a cell a page break or a
    parser lost), so the row's level 1 is not what the form prints — or its level 2 was
    (which of the two is not known: the row is named)."""
    named: set[int] = set()
    for i, ind in enumerate(form.indicators):
        level1, level2 = "".join(ind.level1.split()), "".join(ind.level2.split())
        parent = VOCAB.level_parent.get(level2)
        if parent is None and (near := _near_label(level2, VOCAB.level2_words)) is not None:
            parent = VOCAB.level_parent.get(near)  # (时效目标, one character off 时效指标: under 产出指标 as it is)
        if parent is None or not level1 or level1 == parent:
            continue
        named.add(i)
        yield _err("level_mismatch", f"indicator {i + 1}: level 2 '{level2}' belongs under '{parent}', not '{level1}'",
                   f"第{i + 1}项指标的二级指标“{level2}”应属于“{parent}”，而非“{level1}”", f"indicators[{i}]", parent, level1)
        # The rows the label was carried to on its way, from the row that prints it: where
        # its merged cell ended, nothing says (pdfplumber lost a page's 产出指标 / 数量指标, and
        # the rows above the mismatch carried 成本指标 / 经济成本指标, consistent and silent)
        j = i
        while j > 0 and f"indicators[{j}].level1" not in form.provenance and form.indicators[j - 1].level1 == ind.level1:
            j -= 1
        for k in range(j + 1, i):
            if k not in named:
                named.add(k)
                yield _err("level_mismatch", f"indicator {k + 1}: its level 1 '{level1}' was carried down from indicator {j + 1} "
                           f"to indicator {i + 1}, whose level 2 belongs under '{parent}': where its merged cell ended is not known",
                           f"第{k + 1}项指标的一级指标“{level1}”系从第{j + 1}项沿用至第{i + 1}项，而后者的二级指标应属于“{parent}”：该合并单元格止于何处无法确定",
                           f"indicators[{k}]", None, level1)


def _carried_where_repeated(form: Form) -> Iterator[Finding]:
    """A row with no level label of its own, in a document that writes a merged label into
    every row it spans (two rows in a row print the same label: pymupdf4llm, camelot,
    crawlers): its label was carried from the row above, and the cell that held its own
    lost (pymupdf4llm left the level cells of 满意度指标's first row empty at a page break,
    and the row took 效益指标 from above, silently)."""
    n = len(form.indicators)
    for level in ("level1", "level2"):
        printed = [f"indicators[{i}].{level}" in form.provenance for i in range(n)]
        labels = ["".join((getattr(ind, level) or "").split()) for ind in form.indicators]
        if not any(printed[i] and printed[i + 1] and labels[i] and labels[i] == labels[i + 1] for i in range(n - 1)):
            continue
        for i in range(1, n):
            if not printed[i] and labels[i]:
                yield _err("level_mismatch", f"indicator {i + 1}: no {level} label of its own, where the document writes one in every "
                           f"row of a merged cell; '{labels[i]}' was carried from the row above",
                           f"第{i + 1}项指标本行没有{'一' if level == 'level1' else '二'}级指标（该文档在合并单元格的每一行都写出指标名称），"
                           f"“{labels[i]}”系沿用上一行", f"indicators[{i}].{level}", None, labels[i])


def _near_label(label: str, words) -> str | None:
    """The known label `label` is one character off (same length, one differs)."""
    for w in words:
        if len(w) == len(label) and sum(a != b for a, b in zip(w, label)) == 1:
            return w
    return None


def _level_labels(form: Form) -> Iterator[Finding]:
    """Every indicator names its level-1 and level-2 labels (merged cells carried
    down): an empty one was not read (error); one the forms do not use is worth a
    look (warning), once per label."""
    seen: set[str] = set()
    for i, ind in enumerate(form.indicators):
        for level, words in (("level1", VOCAB.level1_words), ("level2", VOCAB.level2_words)):
            label = "".join((getattr(ind, level) or "").split())
            if not label:
                yield _err("missing_field", f"indicator {i + 1}: no {level} label", f"第{i + 1}项指标缺少{'一' if level == 'level1' else '二'}级指标名称",
                           f"indicators[{i}].{level}")
            elif label not in words and any((label.startswith(w) or label.endswith(w)) and len(label) > len(w) for w in words) and label.count("指标") < 2:
                # A label and the name beside it in one cell (`社会效益指标社会知晓率`: a
                # converter ran two cells together): the row's level and name are not read
                yield _err("merged_labels", f"indicator {i + 1}: {level} '{label}' is a label run together with the text beside it",
                           f"第{i + 1}项指标的{'一' if level == 'level1' else '二'}级指标“{label}”与相邻单元格的文字连在一起，读取有误",
                           f"indicators[{i}]", None, label)
            elif label not in words and any(label in w for w in words):
                # A piece of a label (`指标`, `度指标`): the rest of its cell was not read, and
                # the row's labels may be the group's above or below it
                yield _err("unknown_label", f"indicator {i + 1}: {level} '{label}' is a piece of a label, not a label",
                           f"第{i + 1}项指标的{'一' if level == 'level1' else '二'}级指标“{label}”是不完整的指标名称",
                           f"indicators[{i}]", None, label)
            elif label not in words and (near := _near_label(label, words)) is not None:
                # One character off a label the forms use (内 read as 內, 效 as 放): a misreading,
                # or a typo the form prints; either way not to pass unnamed
                yield _err("unknown_label", f"indicator {i + 1}: {level} '{label}' is one character off the label '{near}'",
                           f"第{i + 1}项指标的{'一' if level == 'level1' else '二'}级指标“{label}”与规范名称“{near}”相差一字，请核对",
                           f"indicators[{i}].{level}", near, label)
            elif label not in words and label.count("指标") < 2 and label not in seen:  # (two: merged_labels says it)
                seen.add(label)
                yield _err("unknown_label", f"indicator {i + 1}: {level} '{label}' is no label of the national framework",
                           f"第{i + 1}项指标的{'一' if level == 'level1' else '二'}级指标“{label}”不是规范名称，请复核",
                           f"indicators[{i}].{level}", None, label, "warning")


def error_count(findings: list[Finding]) -> int:
    return sum(1 for f in findings if f.severity == "error")

