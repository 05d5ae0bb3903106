"""A value the reader missed: a target or actual that came out empty where the
other rows of the form print one (a lone character, a faint scan, a cell the
detector did not see), or a column that no row has."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Code
from ..models import DepartmentForm, Finding, ProjectForm

NAMES_ZH = {"target": "年度指标值", "actual": "实际完成值"}


def empty_values(form: ProjectForm | DepartmentForm) -> Iterator[Finding]:
    """A target or actual that came out empty where most rows print one (a cell the
    reader missed: a lone character, a faint scan) is a warning naming it; a column
    that no row has is an error (the column was lost)."""
    rows = form.indicators
    if len(rows) < 3:
        return
    for col in ("target", "actual"):
        empty = [i for i, ind in enumerate(rows) if not (getattr(ind, col) or "").strip()]
        if len(empty) == len(rows):
            yield Finding(code=Code.MISSING_FIELD, severity="error", field=f"indicators[0].{col}",
                          message=f"no indicator has its {col} ({NAMES_ZH[col]}): the column was not read",
                          message_zh=f"所有指标均无{NAMES_ZH[col]}，该列未读出")
        elif empty and len(rows) - len(empty) >= len(rows) / 2:
            for i in empty:
                yield Finding(code=Code.EMPTY_VALUE, severity="warning", field=f"indicators[{i}].{col}",
                              message=f"indicator {i + 1} ({rows[i].name}): no {col}, where {len(rows) - len(empty)} of {len(rows)} rows print one",
                              message_zh=f"第{i + 1}项指标“{rows[i].name}”缺少{NAMES_ZH[col]}，请核对原表")
