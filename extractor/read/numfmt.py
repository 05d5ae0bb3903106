"""A workbook number as its sheet shows it: the number-format grammar (ECMA-376
§18.8.31), for what forms use.

    sections    positive;negative;zero;text — a negative under a section of its own
                shows no minus sign unless the section prints one
    placeholders 0 (a digit, always), # (a digit, if any), ? (a digit or a space)
    ,           between integer placeholders: thousands groups; after the last digit
                placeholder: the number divided by 1,000 for each
    %           the number times 100
    literals    "quoted", \\x and !x escaped, _x (a space as wide as x), *x (fill: none),
                [$¥-804] (a currency), [Red] (a colour: none) — placed where they stand,
                between the integer digits too (`0\\.0000` shows 26750 as 2.6750)
    E+ E-       scientific

The number shown is the stored double's decimal value (its shortest repr: 2.675, not
2.67499…) rounded half up, as spreadsheet programs show it. A format the grammar
here does not cover (a condition like [>100], dates and times, fractions) raises
`Unreadable`: the reader says so rather than guess.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache


class Unreadable(ValueError):
    """A number format this module does not show as the sheet would."""


_TOKEN = re.compile(r'"[^"]*"|\\.|!.|_.|\*.|\[[^\]]*\]|[0#?]|[.,%]|[Ee][+-]|@|.', re.S)


def _sections(fmt: str) -> list[str]:
    out, cur, i = [], [], 0
    for tok in _TOKEN.findall(fmt):
        if tok == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(tok)
        i += 1
    out.append("".join(cur))
    return out


@lru_cache(maxsize=1024)
def _parse(section: str) -> tuple:
    """(integer part tokens, decimal part tokens, exponent tokens or None, percent count,
    scaling thousands, grouping, prefix literal, suffix literal) of one section."""
    toks = _TOKEN.findall(section)
    items: list[tuple[str, str]] = []  # (kind, text): digit | point | comma | percent | exp | lit
    for tok in toks:
        if tok.startswith('"'):
            items.append(("lit", tok[1:-1]))
        elif tok[0] in "\\!" and len(tok) == 2:
            items.append(("lit", tok[1]))
        elif tok[0] == "_" and len(tok) == 2:
            items.append(("lit", " "))
        elif tok[0] == "*" and len(tok) == 2:
            continue
        elif tok.startswith("["):
            inner = tok[1:-1]
            if inner.startswith("$"):
                items.append(("lit", inner[1:].split("-")[0]))
            elif re.fullmatch(r"(?i)red|black|blue|green|white|yellow|cyan|magenta|color\d+", inner):
                continue
            else:
                raise Unreadable(f"the format's [{inner}] (a condition, a locale, a time)")
        elif tok in "0#?":
            items.append(("digit", tok))
        elif tok == ".":
            items.append(("point", tok))
        elif tok == ",":
            items.append(("comma", tok))
        elif tok == "%":
            items.append(("percent", tok))
        elif tok[0] in "Ee" and len(tok) == 2:
            items.append(("exp", tok))
        elif tok == "@":
            items.append(("text", tok))
        elif tok in "yYmMdDhHsS/" and any(k == "digit" for k, _ in items) is False:
            raise Unreadable(f"a date, time or fraction format ('{section}')")
        elif tok in "/":
            raise Unreadable(f"a fraction format ('{section}')")
        else:
            items.append(("lit", tok))
    return tuple(items)


def _digits_layout(items: tuple) -> dict:
    digit_idx = [i for i, (k, _) in enumerate(items) if k == "digit"]
    point = next((i for i, (k, _) in enumerate(items) if k == "point"), None)
    exp = next((i for i, (k, _) in enumerate(items) if k == "exp"), None)
    last_int = max((i for i in digit_idx if (point is None or i < point) and (exp is None or i < exp)), default=None)
    # A comma right after the last integer placeholder (no digit after it before the
    # point) scales; one between placeholders groups.
    scale = 0
    grouping = False
    for i, (k, _) in enumerate(items):
        if k != "comma":
            continue
        before = any(j < i for j in digit_idx)
        after_int = any(i < j and (point is None or j < point) and (exp is None or j < exp) for j in digit_idx)
        if before and not after_int and (point is None or i < point) and (exp is None or i < exp):
            scale += 1
        elif before and after_int:
            grouping = True
    return {"point": point, "exp": exp, "last_int": last_int, "scale": scale, "grouping": grouping}


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_number(value: float | int, fmt: str) -> str:
    """`value` as a cell with number format `fmt` shows it."""
    fmt = fmt or "General"
    if fmt.strip().lower() == "general":
        return f"{value:.10g}" if isinstance(value, float) else str(value)
    sections = _sections(fmt)
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if number < 0 and len(sections) >= 2 and sections[1] != "":
        section, sign = sections[1], ""
        number = -number
    elif number == 0 and len(sections) >= 3 and sections[2] != "":
        section, sign = sections[2], ""
    else:
        section = sections[0]
        sign = "-" if number < 0 else ""
        number = abs(number)
    items = _parse(section)
    if any(k == "text" for k, _ in items) and not any(k == "digit" for k, _ in items):
        return f"{value:.10g}" if isinstance(value, float) else str(value)  # @: a number shown as General
    if not any(k == "digit" for k, _ in items):
        return sign + "".join(t for k, t in items if k == "lit")  # ("-" for zero: no digits)
    lay = _digits_layout(items)
    number *= Decimal(100) ** sum(1 for k, _ in items if k == "percent")
    number /= Decimal(1000) ** lay["scale"]
    if lay["exp"] is not None:
        return sign + _scientific(number, items, lay)
    point = lay["point"]
    dec_places = [t for i, (k, t) in enumerate(items) if k == "digit" and point is not None and i > point]
    rounded = _round(number, len(dec_places))
    if rounded == 0:
        sign = ""  # (-0.4 shown with no decimals is 0, not -0)
    int_digits, _, frac_digits = f"{rounded:f}".partition(".")
    frac_digits = frac_digits.ljust(len(dec_places), "0")
    # The fraction: trailing optional places (#, ?) drop their zeros
    frac = list(frac_digits)
    for i in range(len(dec_places) - 1, -1, -1):
        if dec_places[i] == "0" or frac[i] != "0":
            break
        frac[i] = " " if dec_places[i] == "?" else ""
    int_slots = [i for i, (k, _) in enumerate(items) if k == "digit" and (point is None or i < point)]
    text_int = int_digits.lstrip("0")
    min_int = sum(1 for i in int_slots if items[i][1] == "0")
    text_int = text_int.rjust(min_int, "0")
    if lay["grouping"]:
        text_int = f"{int(text_int):,}" if text_int else ""
    # Lay the integer digits into the placeholders from the right; the extra digits go
    # to the first placeholder; literals among the placeholders stay where they stand.
    out: list[str] = []
    digits = list(text_int)
    slots_left = len(int_slots)
    for i, (k, t) in enumerate(items):
        if k == "digit" and (point is None or i < point):
            slots_left -= 1
            if slots_left == 0:
                out.append("".join(digits))
                digits = []
            else:
                take = len(digits) - slots_left
                if take > 0:
                    out.append("".join(digits[:take]))
                    digits = digits[take:]
                elif t == "?":
                    out.append(" ")
        elif k == "point":
            if "".join(frac).strip():  # (no fraction shown: no point, as LibreOffice shows #.## of 12)
                out.append(".")
        elif k == "digit":
            j = sum(1 for kk, _ in items[point + 1:i] if kk == "digit") if point is not None else 0
            out.append(frac[j] if j < len(frac) else "")
        elif k == "lit":
            out.append(t)
        elif k == "percent":
            out.append("%")
    return sign + "".join(out)


def _scientific(number: Decimal, items: tuple, lay: dict) -> str:
    point, exp = lay["point"], lay["exp"]
    int_n = sum(1 for i, (k, _) in enumerate(items) if k == "digit" and i < (point if point is not None else exp))
    dec_n = sum(1 for i, (k, _) in enumerate(items) if k == "digit" and point is not None and point < i < exp)
    exp_n = sum(1 for i, (k, _) in enumerate(items) if k == "digit" and i > exp)
    if number == 0:
        e = 0
    else:
        e = number.adjusted() - (max(int_n, 1) - 1)
    mant = _round(number.scaleb(-e), dec_n)
    if mant >= Decimal(10) ** max(int_n, 1):  # 9.999 rounded up to 10.00
        e += 1
        mant = _round(number.scaleb(-e), dec_n)
    sign_e = "-" if e < 0 else "+"
    mark = items[exp][1][0]
    return f"{mant:.{dec_n}f}{mark}{sign_e}{abs(e):0{max(exp_n, 1)}d}"
