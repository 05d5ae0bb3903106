"""Reading printed numbers and normalising printed text.

Everything the forms print is kept as printed in the record where the contract
says so (targets, actuals); amounts, weights, rates and scores become exact
`Decimal`s. A dash ("-", "—") means "not applicable" and reads as None.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

DASHES = {"-", "—", "–", "－", "/", "—-", "--", ""}

_NUMBER_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}（）()、，。：；“”])\s+(?=[{_CJK}（）()、，。：；“”])")
_SPACES = re.compile(r"\s+")


def nfkc(text: str) -> str:
    """Full-width to half-width (digits, punctuation, letters)."""
    if len(text) > 256 and "\n" in text:
        # A page's text line by line: one full-width bracket sends a whole string down
        # the slow path, so only the lines that hold one take it (≈2.5× faster on a
        # page). Exact: nothing composes across a newline.
        return "\n".join([unicodedata.normalize("NFKC", line) for line in text.split("\n")])
    return unicodedata.normalize("NFKC", text)


_NOT_A_NUMBER = object()


# Digits apart by a space: one number only where the space groups thousands (`1 000.00`);
# else two numbers in one cell (camelot's `100\n98.44`, the total's weight and score,
# written as one cell, had read as 10098.44)
_TWO_NUMBERS = re.compile(r"\d\s+(?!\d{3}(?:\D|$))\d")


@lru_cache(maxsize=16384)  # a batch prints the same few hundred numbers again and again
def _parsed(text: str) -> object:
    t = nfkc(text).strip()
    if " " in t and _TWO_NUMBERS.search(t):
        return _NOT_A_NUMBER
    t = t.replace(" ", "")
    if t.endswith("%"):
        t = t[:-1]
    if t in DASHES:
        return None
    if not _NUMBER_RE.match(t):
        return _NOT_A_NUMBER
    return Decimal(t.replace(",", ""))  # the pattern admits only what Decimal reads


def parse_number(text: str | None) -> Decimal | None:
    """Parse a printed amount/score: '3,013.00' -> Decimal('3013.00'); '-' -> None.

    Raises ValueError for text that is neither a number nor a dash, so that
    callers decide what a non-number means in their context.
    """
    if text is None:
        return None
    value = _parsed(text)
    if value is _NOT_A_NUMBER:
        raise ValueError(f"not a number: {text!r}")
    return value  # type: ignore[return-value]


def is_number(text: str | None) -> bool:
    if text is None:
        return False
    value = _parsed(text)
    return value is not None and value is not _NOT_A_NUMBER


def is_number_or_dash(text: str | None) -> bool:
    return text is not None and _parsed(text) is not _NOT_A_NUMBER


def clean_cell(text: str) -> str:
    """Undo the line wraps of a table cell: drop whitespace between CJK characters,
    fold other runs of whitespace to one space, strip HTML paragraph tags."""
    t = re.sub(r"</?p>|<br\s*/?>", " ", text)
    t = re.sub(r"<sup>(.*?)</sup>", r"\1", t)
    t = re.sub(r"</?(?:u|b|i|em|strong)>", "", t)  # (inline marks: pymupdf4llm underlines a title so)
    t = _SPACES.sub(" ", t).strip()
    prev = None
    while prev != t:
        prev, t = t, _CJK_GAP.sub("", t)
    return t


def compact(text: str | None) -> str:
    """Comparison key: NFKC, no whitespace. Used by matching and evaluation."""
    if text is None:
        return ""
    return "".join(nfkc(text).split())  # (str.split's whitespace is the regex \s: 3× faster than re.sub)


def compact_normal(text: str) -> str:
    """`compact` of a text already in NFKC."""
    return "".join(text.split())


# Digits with thousands separators ("1,234,567.89") or without ("1234567.89"). Read
# as \d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)? with the first digit taken out of both
# branches: the same matches, and twice as fast over a page (a leading \d lets the
# engine skip to the next digit instead of trying both branches at every character).
_NUMBER_IN_TEXT = re.compile(r"\d(?:\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d*(?:\.\d+)?)")


def numbers_in(text: str) -> list[Decimal]:
    """Every number printed in a piece of text (thousands separators allowed)."""
    return numbers_in_normal(nfkc(text))


def numbers_in_normal(text: str) -> list[Decimal]:
    """`numbers_in` of a text already in NFKC (a page's, normalised once for all uses)."""
    return [_decimal(token) for token in _NUMBER_IN_TEXT.findall(text)]


@lru_cache(maxsize=16384)  # pages print the same numbers (weights, 100, years) again and again
def _decimal(token: str) -> Decimal:
    return Decimal(token.replace(",", ""))


def same_value(a, b) -> bool:
    """Equal as the evaluator and the engine comparison mean it: numbers as numbers,
    text after NFKC with whitespace removed, None and "" alike."""
    if isinstance(a, (Decimal, int, float)) or isinstance(b, (Decimal, int, float)):
        try:
            return a is not None and b is not None and Decimal(str(a)) == Decimal(str(b))
        except Exception:
            return False
    if not a and not b and not isinstance(a, (Decimal, int, float)) and not isinstance(b, (Decimal, int, float)):
        return True  # (None, "", [] and {} alike)
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(map(same_value, a, b))
    return compact(str(a or "")) == compact(str(b or ""))
