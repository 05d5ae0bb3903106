"""Reading targets and actuals (`≥95.00(%)`, `=100%`, `≤4(小时)`, `达成指标`).

The parser is narrow on purpose: what it does not recognise comes back as
`unparsed` so that the scoring-practice checks stay silent instead of guessing.
`-100.00(%)` (an `=` misprinted as `-`) is unparsed for the same reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal
from typing import Literal

from .numbers import compact

Kind = Literal["quantity", "qualitative", "unparsed"]
Achievement = Literal["achieved", "partial", "not_achieved"]

_QUANT = re.compile(r"^(?P<op>[=＝≥≤<>]|>=|<=)?(?P<num>\d+(?:\.\d+)?)(?:\((?P<unit>[^()]*)\)|(?P<pct>%)|(?P<bare>[^\d()=<>≥≤].*))?$")


@dataclass(frozen=True)
class Value:
    kind: Kind
    op: str | None = None
    number: Decimal | None = None
    unit: str | None = None
    achievement: Achievement | None = None


@lru_cache(maxsize=8192)
def parse_value(text: str | None) -> Value:
    if not text:
        return Value("unparsed")
    t = compact(text).replace(",", "")
    if t.startswith("未达成") or t.startswith("未完成"):
        return Value("qualitative", achievement="not_achieved")
    if t.startswith("部分达成"):
        return Value("qualitative", achievement="partial")
    if t.startswith("达成") or t == "完成":
        return Value("qualitative", achievement="achieved")
    m = _QUANT.match(t)
    if not m:
        return Value("unparsed")
    op = {"＝": "=", ">=": "≥", "<=": "≤"}.get(m.group("op") or "", m.group("op") or "=")
    unit = m.group("unit") if m.group("unit") is not None else ("%" if m.group("pct") else (m.group("bare") or ""))
    return Value("quantity", op=op, number=Decimal(m.group("num")), unit=unit)


def target_met(target: Value, actual: Value) -> bool | None:
    """True/False when both are quantities in the same unit; None when unknowable."""
    if target.kind != "quantity" or actual.kind != "quantity" or target.unit != actual.unit:
        return None
    if actual.op not in ("=", None):
        return None
    a, t = actual.number, target.number
    assert a is not None and t is not None
    return {
        "=": a >= t,  # "=100%" targets are met at or above the value
        "≥": a >= t,
        ">": a > t,
        "≤": a <= t,
        "<": a < t,
    }.get(target.op or "=")
