"""Decisions applied to a form: the reviewer's values put in, the checker run again,
confirmations and dismissals attached to their findings.

The log is the truth and a result file is derived from it: applying first puts back
the values the engines extracted (kept in provenance), then applies every decision
in force. A decision made on an earlier extraction whose field now reads
differently is not applied but listed as a conflict, for the reviewer to decide again.
"""

from __future__ import annotations

from pydantic import BaseModel

import typing
from decimal import Decimal, InvalidOperation
from typing import Any

from ..check import check_form
from ..findings import Owner, owner_of
from ..fingerprint import Fingerprint
from ..forms.numbers import parse_number
from ..models import (OPEN_SEVERITIES, FieldSource, Finding, Form, FormReview, ReviewedValue, form_label, get_path, json_value,
                      leaf_annotation, set_path)
from ..settings import CheckSettings
from .store import Decision, in_force


def same(a: Any, b: Any) -> bool:
    """Equal as the outputs print them: 82.5 and Decimal('82.50') are one value."""
    a, b = json_value(a), json_value(b)
    if a is None or b is None:
        return a is None and b is None
    if not isinstance(a, str) and not isinstance(b, str):
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except InvalidOperation:
            pass
    return str(a) == str(b)


def coerce(form: Form, field: str, text: str | None) -> Any:
    """What a reviewer typed, as the field's type: ValueError when it is not one."""
    try:
        annotation = leaf_annotation(form, field)
    except (AttributeError, KeyError, IndexError):
        raise ValueError(f"no field {field!r} on this form") from None
    text = (text or "").strip()
    kinds = typing.get_args(annotation) or (annotation,)
    flat = {k for a in kinds for k in (typing.get_args(a) or (a,))}  # (Annotated[Decimal, …] inside Optional)
    if typing.get_origin(annotation) in (list, dict) or any(isinstance(k, type) and issubclass(k, BaseModel) for k in flat):
        raise ValueError(f"{field} is a table of rows, not one value: correct the fields of its rows, "
                         "or confirm or dismiss the finding")
    if Decimal in flat:
        if not text:
            return None
        number = parse_number(text)
        if number is None:
            raise ValueError(f"{text!r} is not a number")
        return number
    if int in flat:
        if not text:
            return None
        if not text.isdigit():
            raise ValueError(f"{text!r} is not a whole number")
        return int(text)
    if not text and type(None) in flat:
        return None
    return text


def extracted_values(form: Form) -> Form:
    """A copy of the form with the values the engines extracted put back."""
    form = form.model_copy(deep=True)
    for key, src in list(form.provenance.items()):
        if src.reviewed is None:
            continue
        set_path(form, key, typed(form, key, src.reviewed.extracted))
        if src.engine == "review":  # a value the engines did not find at all
            del form.provenance[key]
        else:
            src.reviewed = None
    form.review = None
    return form


def typed(form: Form, field: str, value: Any) -> Any:
    """A value read back from JSON (82.5, "text", None) as the field's type."""
    if value is None:
        return value
    annotation = leaf_annotation(form, field)
    if isinstance(value, str) and str in (*typing.get_args(annotation), annotation):
        return value
    return coerce(form, field, str(value))


def _value(form: Form, field: str) -> tuple[bool, Any]:
    """(the field exists, its value)."""
    if not field:
        return True, None
    try:
        return True, get_path(form, field)
    except (AttributeError, IndexError, KeyError):
        return False, None


def apply(form: Form, decisions: list[Decision], settings: CheckSettings | None = None,
          reading: Fingerprint | None = None) -> Form:
    """The form with the decisions on it (every decision of this form in the log, in
    order) applied and re-checked; the form unchanged when there are none. `reading`:
    the fingerprint of the result the form is in — a decision not applied says what
    changed since the reading it was made on."""
    if not decisions:
        return form
    carried = [d for d in decisions if d.carried]  # (an earlier version's: shown, not applied)
    decisions = [d for d in decisions if not d.carried]
    form = extracted_values(form)
    conflicts: list[dict[str, Any]] = []
    # A decision made on another form that stood at this place (a re-extraction found
    # the forms in another order, or one more or fewer) is not this form's.
    def conflict(d: Decision, now: Any, **more: str) -> None:
        then = Fingerprint.of_reading(d.reading)
        changed = reading.differences(then) if reading is not None and then is not None else []
        conflicts.append({"field": d.field, "code": d.code, "action": d.action, "extracted_then": d.extracted,
                          "extracted_now": json_value(now), "decided": d.decided, "comment": d.comment, **more,
                          **({"read_again": changed[0]} if changed else {})})

    label = form_label(form)
    current = []
    for d in (in_force(decisions).get(decisions[0].form, []) if decisions else []):
        if d.label and d.label != label:
            conflict(d, None, form_then=d.label, form_now=label)
        else:
            current.append(d)
    corrected: list[str] = []
    decided = 0

    for d in (d for d in current if d.action == "correct"):
        exists, now = _value(form, d.field)
        if exists and same(now, d.decided):
            decided += 1  # the extraction reads what the reviewer typed: nothing to change
        elif exists and same(now, d.extracted):
            set_path(form, d.field, typed(form, d.field, d.decided))
            src = form.provenance.get(d.field) or FieldSource(engine="review")
            src.reviewed = ReviewedValue(extracted=json_value(now), reviewer=d.reviewer, at=d.at)
            form.provenance[d.field] = src
            corrected.append(d.field)
            decided += 1
        else:
            conflict(d, now)
    # Another stage's finding on a value the reviewer typed is answered by that value
    # (it was about what the engines read).
    findings = _checked_again(form, settings, dropping=corrected)
    verdicts = {(d.field, d.code): d for d in current if d.action in ("confirm", "dismiss")}
    for i, finding in enumerate(findings):
        d = verdicts.get((finding.field or "", finding.code))
        if d is None:
            continue
        _, now = _value(form, d.field)
        if same(now, d.extracted):
            findings[i] = finding.model_copy(update={"decision": d.action, "comment": d.comment})
            decided += 1
        else:
            conflict(d, now)
    form.findings = findings
    # An earlier version's decisions where this one has none of its own on the same
    # field and finding: each one still meaningful here (the field, the finding) is a
    # conflict to confirm again, with what was decided then.
    own = {d.key for d in decisions}
    present = {(f.field or "", f.code) for f in findings}
    for d in (in_force(carried).get(carried[0].form, []) if carried else []):
        if d.key in own or (d.action == "correct" and not _value(form, d.field)[0]) \
                or (d.action != "correct" and (d.field, d.code) not in present):
            continue
        conflict(d, _value(form, d.field)[1], carried_from=d.sha256[:12],
                 **({"form_then": d.label, "form_now": label} if d.label and d.label != label else {}))
    form.review = _standing(FormReview(decided=decided, corrected=corrected, conflicts=conflicts,
                                       log_id=max((d.id for d in decisions), default=0)), findings)
    return form


def _checked_again(form: Form, settings: CheckSettings | None, dropping: list[str] = ()) -> list[Finding]:
    """The checker's findings computed again, then the other stages' kept (those on
    a field in `dropping` left out)."""
    fresh = check_form(form, settings or CheckSettings())
    before = [f for f in form.findings if owner_of(f.code) == Owner.CHECKER]
    if not dropping and [_bare(f) for f in before] == [_bare(f) for f in fresh]:
        # the same: in the order they were (check on an unchanged folder changes nothing), the
        # checker's as it computes them (no decision: those are applied again by the caller)
        return [_bare(f) if owner_of(f.code) == Owner.CHECKER else f for f in form.findings]
    kept = [f for f in form.findings if owner_of(f.code) != Owner.CHECKER and f.field not in dropping]
    return fresh + kept


def _bare(finding: Finding) -> Finding:
    return finding.model_copy(update={"decision": None, "comment": None})


def _standing(review: FormReview, findings: list[Finding]) -> FormReview:
    """The review's open count and state, from the findings."""
    review.open = sum(1 for f in findings if f.severity in OPEN_SEVERITIES and f.decision is None) + len(review.conflicts)
    review.state = "decided" if review.open == 0 else "in_progress" if review.decided else "undecided"
    return review


def recheck(form: Form, settings: CheckSettings | None = None) -> None:
    """`extractor check` on a form a person may have edited: the checker's findings
    again, the other stages' kept, and a reviewer's decision kept on a finding that
    is still there (same code, same field)."""
    decided = {(f.code, f.field): f for f in form.findings if f.decision is not None}
    findings = _checked_again(form, settings)
    for i, f in enumerate(findings):
        d = decided.get((f.code, f.field))
        if d is not None:
            findings[i] = f.model_copy(update={"decision": d.decision, "comment": d.comment})
    form.findings = findings
    if form.review is not None:
        _standing(form.review, form.findings)
