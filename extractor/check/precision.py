"""Printed numbers as the intervals they stand for, and arithmetic on them.

A form prints a computed figure to some number of decimals: `98.89` stands for any
value that prints so — under rounding half-up [98.885, 98.895), truncated [98.89,
98.90). Every check of the checker is "do the printed figures admit one true value
that satisfies the identity": the inputs' intervals are carried through the
arithmetic and the result must meet the printed output's interval, under one
convention for the whole form (truncation or rounding: a publisher does one). There is
no fixed tolerance: a figure printed with four decimals is held to four, one printed
as an integer to units.

The data a form prints — amounts, weights, the scores an evaluator gives — are exact
as printed (`Span.exact`; the seeds' rates are their printed amounts' quotients to the
last digit); the figures computed from them — the rates, the budget score, the
total — are `printed` intervals, and one computed from another (the budget score from
the printed rate) carries its interval on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal

Mode = Literal["truncate", "round"]
_WIDE = Context(prec=1000, Emax=MAX_EMAX, Emin=MIN_EMIN)  # (a corrected file may say 1e308)


@dataclass(slots=True)  # (not frozen: a frozen dataclass is built ≈5× slower, and the checker builds many)
class Span:
    """[lo, hi] with each end in or out of it. A value: nothing changes one once built."""

    lo: Decimal
    hi: Decimal
    lo_in: bool = True
    hi_in: bool = True

    @classmethod
    def exact(cls, value: Decimal) -> Span:
        return cls(value, value)

    def __add__(self, other: Span | Decimal) -> Span:
        o = _span(other)
        return Span(_WIDE.add(self.lo, o.lo), _WIDE.add(self.hi, o.hi), self.lo_in and o.lo_in, self.hi_in and o.hi_in)

    def __mul__(self, other: Span | Decimal) -> Span:
        o = _span(other)
        ends = [(_WIDE.multiply(a, b), a_in and b_in)
                for a, a_in in ((self.lo, self.lo_in), (self.hi, self.hi_in))
                for b, b_in in ((o.lo, o.lo_in), (o.hi, o.hi_in))]
        return _hull(ends)

    def __truediv__(self, other: Span | Decimal) -> Span | None:
        """None where the divisor's interval holds 0 (any quotient)."""
        o = _span(other)
        if o.lo <= 0 <= o.hi:
            return None
        inverse = Span(_WIDE.divide(1, o.hi), _WIDE.divide(1, o.lo), o.hi_in, o.lo_in)
        return self * inverse

    def at_most(self, cap: Decimal) -> Span:
        """min(x, cap) for x in the span."""
        if self.hi <= cap:
            return self
        if self.lo >= cap:
            return Span.exact(cap)
        return Span(self.lo, cap, self.lo_in, True)

    def meets(self, other: Span) -> bool:
        """The two share a value."""
        lo, lo_in = max((self.lo, self.lo_in), (other.lo, other.lo_in), key=lambda e: (e[0], not e[1]))
        hi, hi_in = min((self.hi, self.hi_in), (other.hi, other.hi_in), key=lambda e: (e[0], e[1]))
        return lo < hi or (lo == hi and lo_in and hi_in)


def _span(v: Span | Decimal) -> Span:
    return v if isinstance(v, Span) else Span.exact(v)


def _hull(ends: list[tuple[Decimal, bool]]) -> Span:
    lo = min(v for v, _ in ends)
    hi = max(v for v, _ in ends)
    return Span(lo, hi, any(v == lo and i for v, i in ends), any(v == hi and i for v, i in ends))


def printed(value: Decimal, places: int, mode: Mode) -> Span:
    """The values that print as `value` with `places` decimals under `mode`."""
    unit = Decimal(1).scaleb(-places)
    if mode == "round":  # half-up: [v − ½u, v + ½u) for v ≥ 0, mirrored below 0
        half = unit / 2
        return (Span(value - half, value + half, True, False) if value >= 0
                else Span(value - half, value + half, False, True))
    if value >= 0:  # truncated toward zero
        return Span(value, value + unit, True, False)
    return Span(value - unit, value, False, True)


_DECIMALS = re.compile(r"[.．](\d+)")


def places_of(raw: str | None, value: Decimal) -> int:
    """How many decimals a figure is printed with: from its printed text (`98.80%`,
    `3,013.00`) when there is one, else from the number itself (a Decimal keeps its
    digits: Decimal("98.80") has two)."""
    if raw:
        places = _raw_places(raw)
        if places is not None:
            return places
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@lru_cache(maxsize=16384)  # (a batch prints the same figures again and again)
def _raw_places(raw: str) -> int | None:
    if not any(ch.isdigit() for ch in raw):
        return None
    m = _DECIMALS.findall(raw)
    return len(m[-1]) if m else 0


def rounds_to(printed: Decimal, places: int, exact: Decimal, mode: Mode) -> bool:
    """`exact`, a point, prints as `printed` with `places` decimals under `mode` — the
    same as `printed(...).meets(Span.exact(exact))`, without building the spans."""
    step = _STEPS[places] if places < len(_STEPS) else Decimal(1).scaleb(-places)
    try:
        return exact.quantize(step, rounding=ROUND_DOWN if mode == "truncate" else ROUND_HALF_UP) == printed
    except InvalidOperation:  # (a value too large to quantize: the spans decide)
        return printed_span(printed, places, mode).meets(Span.exact(exact))


_STEPS = [Decimal(1).scaleb(-p) for p in range(12)]


printed_span = printed  # (for rounds_to's fallback, named apart from its argument)
