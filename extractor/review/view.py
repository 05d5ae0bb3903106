"""What the form view shows: the pages with every value's box, the values as an
editable table, the findings. Plain data for the template (it escapes it)."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..models import DepartmentForm, DocumentResult, Form, OPEN_SEVERITIES, get_path, json_value

# Values a finding compares its field with, boxed too so the reviewer sees both sides.
RELATED = {"rate_indicator_mismatch": ("funding.total.execution_rate",), "total_score": ("funding.total.score",)}
IDENTITY = ("title", "year", "project_name", "department", "implementing_unit", "subordinate_units", "funding_unit",
            "goal_expected", "goal_actual")
TOTALS = ("total_weight", "total_score", "grade")
PROJECT_FUNDING = (("total", "fiscal", "carryover", "other"),
                   ("initial_budget", "annual_budget", "executed", "weight", "execution_rate", "score"))
DEPARTMENT_FUNDING = (("fiscal", "other", "basic", "project"), ("annual_budget", "executed", "execution_rate"))
INDICATOR = ("level1", "level2", "name", "target", "actual", "weight", "score", "deviation_reason")


@dataclass
class Box:
    field: str
    left: float  # percent of the page
    top: float
    width: float
    height: float
    severity: str = ""  # error | warning: a disputed value, shown; "": shown on hover


@dataclass
class PageView:
    number: int
    boxes: list[Box] = field(default_factory=list)
    aspect: float = 1.414  # height / width


@dataclass
class Cell:
    field: str
    value: str
    severity: str = ""
    corrected: object = None  # the extracted value, where a reviewer typed this one
    where: str = ""  # "page 2", a workbook cell


def fields_of(pattern: str | None, provenance: dict) -> list[str]:
    """Provenance keys a finding's field names (exact, or every row of a list field)."""
    if not pattern:
        return []
    if pattern in provenance:
        return [pattern]
    regex = re.escape(pattern).replace(r"\[\]", r"\[\d+\]")
    return [k for k in provenance if re.fullmatch(regex, k)]


def disputed(form: Form) -> dict[str, str]:
    """Field -> the worst severity of the open findings on it (and the values they compare it with)."""
    out: dict[str, str] = {}
    for f in form.findings:
        if f.severity not in OPEN_SEVERITIES or f.decision is not None:
            continue
        keys = fields_of(f.field, form.provenance) + ([f.field] if f.field else []) + list(RELATED.get(f.code, ()))
        for k in keys:
            if out.get(k) != "error":
                out[k] = f.severity
    return out


def _shown(value) -> str:
    return "" if value is None else str(json_value(value))


def _cell(form: Form, path: str, marks: dict[str, str]) -> Cell:
    try:
        value = get_path(form, path)
    except (AttributeError, IndexError):
        value = None
    src = form.provenance.get(path)
    where = ""
    if src is not None:
        where = src.cell or (f"page {src.page}" if src.page else "")
    return Cell(path, _shown(value), marks.get(path, ""), src.reviewed.extracted if src and src.reviewed else None, where)


def form_view(result: DocumentResult, number: int, page_sizes: Callable[[int], tuple[float, float] | None]) -> dict:
    form = result.forms[number - 1]
    marks = disputed(form)
    pages = []
    for n in form.pages:
        size = page_sizes(n)
        if size is None:
            continue
        w, h = size
        view = PageView(n, aspect=h / w)
        for key, src in form.provenance.items():
            if src.page == n and src.bbox:
                x0, y0, x1, y1 = src.bbox
                view.boxes.append(Box(key, 100 * x0 / w, 100 * y0 / h, 100 * (x1 - x0) / w, 100 * (y1 - y0) / h, marks.get(key, "")))
        view.boxes.sort(key=lambda b: b.severity != "")  # disputed boxes last: drawn on top
        pages.append(view)
    department = isinstance(form, DepartmentForm)
    rows, cols = DEPARTMENT_FUNDING if department else PROJECT_FUNDING
    indicator_cols = INDICATOR + (("level1_weight",) if department else ())
    findings = []
    for i, f in enumerate(form.findings):
        exists = True
        try:
            value = get_path(form, f.field) if f.field else None
        except (AttributeError, IndexError):
            exists, value = False, None
        scalar = not isinstance(value, (list, dict, BaseModel))  # (a table of rows is corrected row by row)
        findings.append({"i": i, "f": f, "value": _shown(value),
                         "correctable": bool(f.field) and exists and scalar and "[]" not in (f.field or ""),
                         "open": f.severity in OPEN_SEVERITIES and f.decision is None})
    findings.sort(key=lambda x: (not x["open"], x["f"].severity != "error"))
    # Codes with two open warnings or more: confirmed (or dismissed) all at once
    open_warnings = Counter(x["f"].code for x in findings if x["open"] and x["f"].severity == "warning")
    bulk = [(code, n) for code, n in open_warnings.most_common() if n >= 2]
    return {
        "form": form,
        "pages": pages,
        "identity": [_cell(form, k, marks) for k in IDENTITY if k in type(form).model_fields],
        "funding_cols": cols,
        "funding": [(r, [_cell(form, f"funding.{r}.{c}", marks) for c in cols]) for r in rows],
        "indicator_cols": indicator_cols,
        "indicators": [[_cell(form, f"indicators[{j}].{c}", marks) for c in indicator_cols] for j in range(len(form.indicators))],
        "totals": [_cell(form, k, marks) for k in TOTALS],
        "findings": findings,
        "bulk": bulk,
        "open": sum(1 for x in findings if x["open"]),
    }
