"""Grounding: every number in a record must be printed on the form's pages.

This is what catches a value that no page shows — an LLM's invention or a
misread digit that happens to keep the arithmetic whole. Numbers are compared
as numbers (`3,013.00` on the page grounds 3013 in the record); the text is the
text layer or the OCR of the form's pages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from functools import lru_cache

from ..findings import Code, field_zh
from ..models import DepartmentForm, Finding, ProjectForm, funding_rows

import re

# Figures printed with nothing between them (`82.0082.0066.02`: a crawler dropped the
# cells): no number can be cut out of such text, so a value is looked for in it as printed.
_RUN_TOGETHER = re.compile(r"\d\.\d{2}\d+\.\d")
_YUAN = re.compile(r"(?<!万)元")  # a unit of 元, not the 元 of 万元
NUMBER_COLUMNS = ("initial_budget", "annual_budget", "executed", "weight", "execution_rate", "score")
from ..forms.numbers import compact, compact_normal, nfkc, numbers_in_normal


def numeric_fields(form: ProjectForm | DepartmentForm) -> Iterator[tuple[str, Decimal]]:
    """(field path, value) for every number in the record."""
    for row_name, row in funding_rows(form.funding):  # (walked, not model_dump()ed: this runs for every form)
        for col in NUMBER_COLUMNS:
            value = getattr(row, col, None)
            if value is not None:
                yield f"funding.{row_name}.{col}", value
    for i, ind in enumerate(form.indicators):
        for col in ("weight", "score", "level1_weight", "score_rate"):
            value = getattr(ind, col, None)
            if value is not None:
                yield f"indicators[{i}].{col}", value
    for col in ("total_score", "total_weight"):
        value = getattr(form, col)
        if value is not None:
            yield col, value


def text_fields(form: ProjectForm | DepartmentForm) -> Iterator[tuple[str, str]]:
    """(field path, text) for the names and values a form prints verbatim: the head, the
    title, the year, the goals, the grade, the remarks and every indicator's texts (an
    LLM's year − 1, an invented reason or a grade of its own are printed nowhere)."""
    for key in ("title", "project_name", "department", "implementing_unit", "subordinate_units", "goal_expected",
                "goal_actual", "grade"):
        value = getattr(form, key, None)
        if value:
            yield key, value
    if form.year is not None:
        yield "year", str(form.year)
    for label, value in (getattr(form, "remarks", None) or {}).items():
        if value:
            yield f"remarks.{label}", value
    for i, ind in enumerate(form.indicators):
        for key in ("name", "target", "actual", "deviation_reason", "target_adjusted"):
            value = getattr(ind, key, None)
            if value:
                yield f"indicators[{i}].{key}", value
        for part in ind.target_parts or ():  # (each cell of a target printed in several)
            if part:
                yield f"indicators[{i}].target_parts", part


@lru_cache(maxsize=256)
def _normal(page_text: str) -> str:
    # NFKC of a page's text is the costly part (≈0.3 ms: full-width punctuation sends
    # it down the slow path); done once, the numbers and the compact text reuse it
    # (and do not normalise it again: even the quick check is a pass over the text).
    return nfkc(page_text)


@lru_cache(maxsize=256)
def runs_together(page_text: str) -> bool:
    """Figures printed with nothing between them somewhere in the page (cached per page)."""
    return _RUN_TOGETHER.search(page_text) is not None


@lru_cache(maxsize=256)
def printed_numbers(page_text: str) -> frozenset[Decimal]:
    return frozenset(numbers_in_normal(_normal(page_text)))


_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")  # (markup a text export keeps in its cells: <p>, <br>)


@lru_cache(maxsize=256)
def printed_text(page_text: str) -> str:
    return _TAG.sub("", compact_normal(_normal(page_text)))


@lru_cache(maxsize=256)
def printed_cells(page_text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Every (prefix, suffix) a cell can end or start with — cells are tab/line separated."""
    cells = [compact(c) for line in page_text.split("\n") for c in line.split("\t")]
    ends = frozenset(c[-k:] for c in cells if c for k in range(1, len(c) + 1))
    starts = frozenset(c[:k] for c in cells if c for k in range(1, len(c) + 1))
    return ends, starts


@lru_cache(maxsize=256)
def _pages_cells(pages: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """`printed_cells` of a form's pages together (once a form, not once a value)."""
    if len(pages) == 1:
        return printed_cells(pages[0])
    cells = [printed_cells(page) for page in pages]
    return frozenset().union(*(e for e, _ in cells)), frozenset().union(*(s for _, s in cells))


def _printed(value: str, text: str, pages: tuple[str, ...]) -> bool:
    """Printed as one piece, or as the end of one cell and the start of another
    (a cell cut by a page break: `符合计划安` / `排`)."""
    if value in text:
        return True
    ends, starts = _pages_cells(pages)
    return any(value[:i] in ends and value[i:] in starts for i in range(1, len(value)))


def check_grounding(form: ProjectForm | DepartmentForm, page_text: str | Sequence[str]) -> list[Finding]:
    """Findings for the values no page of the form prints. `page_text` is the form's
    pages' text, one string or one per page: per page, each page is read once for all
    the forms on it (a page holds the end of one form and the start of the next)."""
    pages = (page_text,) if isinstance(page_text, str) else tuple(page_text)
    # Page by page is the same as the pages joined by newlines: no number, and no
    # whitespace-free text, runs across a newline.
    printed = printed_numbers(pages[0]) if len(pages) == 1 else frozenset().union(*map(printed_numbers, pages))
    text = "".join(map(printed_text, pages))
    out = []
    for path, value in text_fields(form):
        if not _printed(compact(value), text, pages):
            out.append(Finding(
                code=Code.UNGROUNDED_VALUE, severity="error",
                message=f"{path} = {value!r} is not printed on the form's pages",
                message_zh=f"{field_zh(path)} = “{value}” 在表格所在页面中找不到",
                field=path, expected=None, found=value,
            ))
    if getattr(form, "funding_unit", None) == "元" and not _YUAN.search(text):
        out.append(Finding(code=Code.UNGROUNDED_VALUE, severity="error",
                           message="funding_unit = '元' is not printed on the form's pages (only 万元 is)",
                           message_zh="金额单位“元”在表格所在页面中找不到（页面只印有“万元”）",
                           field="funding_unit", expected=None, found="元"))
    bare = text.replace(",", "") if any(map(runs_together, pages)) else None
    for path, value in numeric_fields(form):
        if value not in printed and not (bare is not None and format(value, "f") in bare):
            out.append(
                Finding(
                    code=Code.UNGROUNDED_VALUE,
                    severity="error",
                    message=f"{path} = {value} is not printed on the form's pages",
                    message_zh=f"{field_zh(path)} = {value} 在表格所在页面中找不到",
                    field=path,
                    expected=None,
                    found=value,
                )
            )
    return out
