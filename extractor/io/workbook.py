"""forms.xlsx for reviewers and supervisors: a 汇总 sheet first (counts by status,
department and finding code), then each table with its Chinese header over its
column names, frozen, filtered, formatted, a finding linked to its form's row, a 说明
sheet (the data dictionary) and a 未读取 sheet of the documents not read.

Written row by row (openpyxl's write-only mode): memory stays flat whatever the batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import atomic_path
from .report import FORM_STATUSES, batch_summary
from .schema import TABLES, Column

if TYPE_CHECKING:
    from .outputs import BatchTables

# Widths (in characters) of the columns that hold prose or long names.
WIDE = {"project_name": 36, "department": 24, "implementing_unit": 24, "subordinate_units": 24, "title": 30,
        "goal_expected": 40, "goal_actual": 40, "name": 28, "target": 16, "actual": 16, "deviation_reason": 30,
        "message": 50, "message_zh": 44, "form_label": 30, "source_path": 36, "error": 50, "remarks": 30,
        "form_id": 22, "document": 20, "field": 22, "field_zh": 22, "sha256": 14, "label": 16}
AMOUNT = "#,##0.00"
PLAIN = "0.00"


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a CJK character two."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def _width(column: Column) -> float:
    return WIDE.get(column.name, max(display_width(column.zh) + 2, len(column.name) * 0.9 + 2, 8))


def _format(column: Column) -> str | None:
    if column.type != "real":
        return None
    return AMOUNT if any(column.name.startswith(a) for a in ("initial_budget", "annual_budget", "executed")) else PLAIN


def _letter(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def write_xlsx(tables: BatchTables, target: Path, summary: dict[str, Any] | None = None) -> None:
    """The workbook; `summary`: the batch's counts when already made (else counted here)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.worksheet.hyperlink import Hyperlink

    from .outputs import plain

    wb = Workbook(write_only=True)
    bold, names_font = Font(bold=True), Font(italic=True, color="666666")
    summary = summary if summary is not None else batch_summary(tables)

    def cell(ws, value: Any, font=None, number_format=None, link: str | None = None, at: tuple[int, int] | None = None):
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str) and value.startswith("="):
            c.data_type = "s"  # text, not a formula (a target printed "=100(%)"; a hostile one "=HYPERLINK(…)")
        if font is not None:
            c.font = font
        if number_format:
            c.number_format = number_format
        if link and at:
            c.hyperlink = Hyperlink(ref=f"{_letter(at[1])}{at[0]}", location=link)
            c.font = Font(color="0563C1", underline="single")
        return c

    # 汇总
    ws = wb.create_sheet("汇总")
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 36, 12
    for c, w in zip("CDEF", (12, 16, 16, 12)):
        ws.column_dimensions[c].width = w
    for row in _summary_rows(summary):
        ws.append([cell(ws, v, bold if i == 0 and len(row) == 1 else None) for i, v in enumerate(row)])

    form_rows: dict[str, int] = {}  # form_id -> its row in the forms sheet
    for table in TABLES.values():
        ws = wb.create_sheet(table.name)
        columns = table.columns
        for i, column in enumerate(columns, 1):
            ws.column_dimensions[_letter(i)].width = _width(column)
        ws.freeze_panes = "B3"
        last = _letter(len(columns))
        ws.auto_filter.ref = f"A2:{last}{tables.counts[table.name] + 2}"
        ws.append([cell(ws, c.zh, bold) for c in columns])
        ws.append([cell(ws, c.name, names_font) for c in columns])
        formats = [_format(c) for c in columns]
        link_at = table.names.index("form_id") if "form_id" in table.names and table.name != "forms" else None
        for n, r in enumerate(tables.rows(table.name), 3):
            values = [plain(r.get(c.name)) for c in columns]
            if table.name == "forms":
                form_rows[r["form_id"]] = n
            row = [cell(ws, v, number_format=f) if f or isinstance(v, str) else v for v, f in zip(values, formats)]
            if link_at is not None and r["form_id"] in form_rows:
                row[link_at] = cell(ws, r["form_id"], link=f"'forms'!A{form_rows[r['form_id']]}", at=(n, link_at + 1))
            ws.append(row)

    # 未读取: the documents not read, and why
    _dictionary_sheet(wb, cell, bold)
    ws = wb.create_sheet("未读取")
    for c, w in zip("ABCD", (40, 10, 60, 20)):
        ws.column_dimensions[c].width = w
    ws.freeze_panes = "A2"
    ws.append([cell(ws, h, bold) for h in ("文件路径 source_path", "状态 status", "原因 error", "结果文件 document")])
    for r in summary["not_read"]:
        ws.append([cell(ws, r["source_path"]), r["status"], cell(ws, r["error"]), cell(ws, r["document"])])
    with atomic_path(target) as tmp:
        wb.save(tmp)


def _dictionary_sheet(wb, cell, bold) -> None:
    """说明: every column of every sheet, its Chinese name, type and meaning (docs/tables.md)."""
    ws = wb.create_sheet("说明")
    for c, w in zip("ABCDE", (12, 22, 18, 9, 90)):
        ws.column_dimensions[c].width = w
    ws.freeze_panes = "A2"
    ws.append([cell(ws, h, bold) for h in ("表 table", "列 column", "中文", "类型 type", "含义 meaning")])
    for table in TABLES.values():
        for column in table.columns:
            ws.append([table.name, column.name, column.zh, column.type, cell(ws, column.description)])


def _summary_rows(summary: dict[str, Any]) -> list[list[Any]]:
    """The 汇总 sheet's rows from the batch's counts (`report.batch_summary`, as
    summary.json holds them): documents and forms by status, by department and year (in
    万元), findings by code."""
    rows: list[list[Any]] = [["文件 documents"], ["状态 status", "数量"]]
    rows += [[s, n] for s, n in summary["documents"].items()]
    forms = summary["forms"]
    rows += [[], ["自评表 forms"], ["状态 status", "数量"]]
    rows += [[s, forms[s]] for s in FORM_STATUSES] + [["合计 total", forms["total"]]]
    rows += [[], ["按部门 by department"],
             ["主管部门 department", "年度 year", "表数 forms", "待复核 flagged", "全年预算数(万元)", "全年执行数(万元)"]]
    rows += [[d["department"], d["year"], d["forms"], d["flagged"], d["annual_budget_wan"], d["executed_wan"]]
             for d in summary["by_department"]]
    rows += [[], ["发现 findings"], ["代码 code", "级别 severity", "数量"]]
    rows += [[f["code"], f["severity"], f["count"]] for f in summary["findings"]]
    return rows
