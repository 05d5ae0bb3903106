"""A form as the rows of the batch tables (`schema.TABLES`), and a document's row."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..findings import FIELD_ZH, Code, field_zh
from ..models import OPEN_SEVERITIES, funding_rows, review_state
from .schema import TABLES, typed

# An amount in its printed unit, times this, is in 万元.
TO_WAN: dict[str, Decimal] = {"万元": Decimal(1), "元": Decimal("0.0001"), "千元": Decimal("0.1"),
                              "百万元": Decimal(100), "亿元": Decimal(10000)}
AMOUNTS = ("initial_budget", "annual_budget", "executed")


@dataclass(frozen=True)
class DocRef:
    """Which document rows come from: its result's name in OUT, its bytes' hash, its path."""

    document: str
    sha256: str
    source_path: str

    def where(self) -> dict[str, str]:
        return {"document": self.document, "sha256": self.sha256, "source_path": self.source_path}


def in_wan(amount: Decimal | None, unit: str | None) -> Decimal | None:
    """An amount printed in `unit` as 万元 (None where the unit is not known)."""
    if amount is None or unit is None:
        return None
    factor = TO_WAN.get(unit.strip().strip("()（）").replace("单位:", "").replace("单位：", ""))
    if factor is None:
        return None
    return (amount * factor).normalize() if factor != 1 else amount


def page_of(form, path: str | None) -> int | None:
    """The page `path`'s value is printed on: its own provenance, else the first page
    of the values under it (a funding row's, an indicator row's), else its indicator
    row's, else the form's first page."""
    candidates = [path] if path else []
    if path and path.startswith("indicators[") and "]." in path:
        candidates.append(path.split("]", 1)[0] + "]")
    for p in candidates:
        source = form.provenance.get(p)
        if source is not None and source.page is not None:
            return source.page
        pages = [s.page for key, s in form.provenance.items()
                 if s.page is not None and (key.startswith(p + ".") or key.startswith(p + "["))]
        if pages:
            return min(pages)
    return form.pages[0] if form.pages else None


def form_key(row: dict[str, Any]) -> str:
    """The same form whatever file it was read from: its kind, year, names and budget."""
    def norm(v: Any) -> str:
        if isinstance(v, Decimal):
            return format(v.normalize(), "f")
        return re.sub(r"\s+", "", str(v)) if v is not None else ""

    parts = [norm(row.get(k)) for k in ("kind", "year", "department", "project_name", "annual_budget_wan", "executed_wan")]
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:16]


def form_status(form) -> str:
    codes = {f.code for f in form.findings}
    if Code.READ_POORLY in codes:
        return "read_poorly"
    if any(f.severity in OPEN_SEVERITIES for f in form.findings):
        return "flagged"
    return "ok"


def _budget_row(form) -> tuple[str | None, Any]:
    funding = form.funding
    if funding.total is not None:
        return "total", funding.total
    if form.kind == "department" and funding.fiscal is not None:
        return "fiscal", funding.fiscal
    return None, None


def _json_text(value: Any) -> str | None:
    if not value:
        return None
    return json.dumps(value, ensure_ascii=False, default=str)


def form_rows(ref: DocRef, index: int, form) -> dict[str, list[dict]]:
    """One form's rows of forms / funding / indicators / findings, each a dict of its
    table's columns, in order, typed (`schema.typed`). `index`: the form's 1-based
    place in its document."""
    form_id = f"{ref.document}#{index}"
    head = {"form_id": form_id, **ref.where(), "form": index}
    unit = form.funding_unit
    label = getattr(form, "project_name", None) or form.department
    budget_name, budget = _budget_row(form)
    row: dict[str, Any] = {
        **head, "page": form.pages[0] if form.pages else None, "pages": ",".join(map(str, form.pages)),
        "kind": form.kind, "status": form_status(form), "template": form.template, "title": form.title,
        "year": form.year, "project_name": getattr(form, "project_name", None), "department": form.department,
        "implementing_unit": getattr(form, "implementing_unit", None),
        "subordinate_units": getattr(form, "subordinate_units", None), "funding_unit": unit, "budget_row": budget_name,
    }
    for name in AMOUNTS + ("execution_rate",):
        row[name] = getattr(budget, name, None)
    row["budget_weight"] = getattr(budget, "weight", None)
    row["budget_score"] = getattr(budget, "score", None)
    for name in AMOUNTS:
        row[f"{name}_wan"] = in_wan(row[name], unit)
    row["form_key"] = form_key(row)
    row.update({
        "total_weight": form.total_weight, "total_score": form.total_score, "grade": form.grade,
        "goal_expected": form.goal_expected, "goal_actual": form.goal_actual, "indicators": len(form.indicators),
        "errors": sum(f.severity == "error" for f in form.findings),
        "warnings": sum(f.severity == "warning" for f in form.findings),
        "engine": form.engine, "confidence": form.confidence, "review": review_state(form),
        "corrected": ",".join(form.review.corrected) if form.review else None, "remarks": _json_text(form.remarks),
    })
    funding = []
    for name, printed in funding_rows(form.funding):
        f = {**head, "page": page_of(form, f"funding.{name}"), "row": name,
             "label": getattr(printed, "label", None) or FIELD_ZH.get(f"funding.{name}", name),
             "funding_unit": unit}
        for col in ("initial_budget", "annual_budget", "executed", "execution_rate", "weight", "score", "reason"):
            f[col] = getattr(printed, col, None)
        for col in AMOUNTS:
            f[f"{col}_wan"] = in_wan(f[col], unit)
        funding.append(f)
    indicators = []
    for j, ind in enumerate(form.indicators):
        values = ind.model_dump(mode="python")
        indicators.append({**head, "page": page_of(form, f"indicators[{j}]"), "form_label": label, "row": j + 1,
                           **values, "target_parts": _json_text(values.get("target_parts"))})
    findings = [{**head, "page": page_of(form, f.field), "finding": k + 1, "form_label": label,
                 "severity": f.severity, "code": str(f.code), "field": f.field,
                 "field_zh": field_zh(f.field) if f.field else None, "expected": f.expected, "found": f.found,
                 "message": f.message, "message_zh": f.message_zh, "decision": f.decision, "comment": f.comment}
                for k, f in enumerate(form.findings)]
    return {"forms": [shaped("forms", row)], "funding": [shaped("funding", r) for r in funding],
            "indicators": [shaped("indicators", r) for r in indicators],
            "findings": [shaped("findings", r) for r in findings]}


_NAMES = {name: frozenset(t.names) for name, t in TABLES.items()}


def shaped(table: str, values: dict[str, Any]) -> dict[str, Any]:
    """`values` as the table's row: its columns in order, each typed; a value of no
    column is a bug in the caller (the schema is the one list of columns)."""
    columns = TABLES[table].columns
    extra = values.keys() - _NAMES[table]
    if extra:
        raise KeyError(f"{table} has no column {sorted(extra)}")
    return {c.name: typed(c, values.get(c.name)) for c in columns}


def document_row(document: str, source_path: str, status: str, sha256: str | None = None, stats: Any = None,
                 error: str | None = None, engine: str | None = None, other_paths: list[str] | None = None) -> dict[str, Any]:
    """A document's row of `documents`; `stats`: its `pipeline.DocumentStats` when read."""
    return shaped("documents", {
        "document": document, "sha256": sha256, "source_path": source_path, "status": status,
        "doc_type": getattr(stats, "doc_type", None) or None, "pages": getattr(stats, "page_count", None),
        "forms": getattr(stats, "forms", 0), "flagged": getattr(stats, "flagged", 0),
        "read_poorly": getattr(stats, "read_poorly", 0), "other_tables": getattr(stats, "skipped", 0),
        "error": error, "engine": engine, "other_paths": _json_text(other_paths),
    })
