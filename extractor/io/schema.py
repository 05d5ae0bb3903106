"""The batch tables' one schema: the same columns, in the same order and of the same
types, in every batch and every format (CSV, Parquet, SQLite, the workbook).

`TABLES` is the data dictionary: `docs/tables.md` is printed from it (`extractor
schema --tables`), the SQLite file's Datasette `metadata.json` carries its
descriptions, and the workbook's first header row its Chinese labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

Type = Literal["text", "integer", "real"]


@dataclass(frozen=True)
class Column:
    name: str
    type: Type
    zh: str  # the workbook's header
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the primary key
    refers: tuple[tuple[str, str, str], ...] = ()  # (column, table, its column): foreign keys
    indexes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type: Type, zh: str, description: str) -> Column:
    return Column(name, type, zh, description)


# Where a row came from: on every row of every table.
_WHERE = (
    _c("document", "text", "结果文件", "The document's result file in the output folder, `<document>.json`."),
    _c("sha256", "text", "文件SHA-256", "SHA-256 of the input file's bytes: the same file by any name or path has the same one."),
    _c("source_path", "text", "文件路径", "The input file's path as the run was given it."),
)
_FORM_REF = (
    _c("form_id", "text", "表编号", "`<document>#<form>`: the form's key (forms.form_id)."),
    *_WHERE,
    _c("form", "integer", "表序号", "The form's place in its document, from 1."),
)
_PAGE = _c("page", "integer", "页码", "The 1-based page the value or row is printed on (the form's first page where "
           "no single page is known; empty for a text export).")
_AMOUNTS_WAN = (
    _c("initial_budget_wan", "real", "年初预算数(万元)", "`initial_budget` in 万元, whatever unit the form prints."),
    _c("annual_budget_wan", "real", "全年预算数(万元)", "`annual_budget` in 万元, whatever unit the form prints."),
    _c("executed_wan", "real", "全年执行数(万元)", "`executed` in 万元, whatever unit the form prints."),
)

DOCUMENTS = Table(
    "documents", "One row per input file: what became of it.",
    (
        _c("document", "text", "结果文件", "The document's result file in the output folder, `<document>.json`; "
           "for a file of a type not read, its path."),
        _c("sha256", "text", "文件SHA-256", "SHA-256 of the file's bytes (empty where the file could not be read)."),
        _c("source_path", "text", "文件路径", "The input file's path as the run was given it."),
        _c("other_paths", "text", "其他路径", "Other paths the same bytes were given by in the run (a JSON list): "
           "the same document, read once."),
        _c("status", "text", "状态", "`read` (its forms are in `forms`), `no_form` (read whole: no self-evaluation "
           "form in it), `failed` (see `error`), `skipped` (in a folder given, of a type not read)."),
        _c("doc_type", "text", "文档类型", "born_digital, scanned, image, spreadsheet, word, web or text_export."),
        _c("pages", "integer", "页数", "Pages (a text export: 0)."),
        _c("forms", "integer", "表数", "Self-evaluation forms read."),
        _c("flagged", "integer", "待复核表数", "Forms with an error or warning finding."),
        _c("read_poorly", "integer", "读取欠佳表数", "Forms the engines could not read well (finding read_poorly)."),
        _c("other_tables", "integer", "其他表格数", "Tables with the forms' labels that are not self-evaluation "
           "forms (申报表, 监控表, 决算 tables), listed in the result file, not read."),
        _c("error", "text", "错误", "Why the file was not read (status failed or no_form)."),
        _c("engine", "text", "引擎", "The engine that read it (rules, auto, llm, llm-only; auto with no endpoint "
           "reads as rules), or the one asked for where it was not read."),
    ),
    key=("document",), indexes=("sha256", "status"),
)

FORMS = Table(
    "forms", "One row per self-evaluation form.",
    (
        *_FORM_REF,
        _c("form_key", "text", "表指纹", "The same form however it was published (a PDF and its workbook copy, a "
           "page and its scan): a hash of its kind, year, department, project and budget in 万元. Count forms by it "
           "to count each once."),
        _c("page", "integer", "页码", "The form's first page (empty for a text export)."),
        _c("pages", "text", "所在页", "Every page the form is printed on, comma-separated."),
        _c("kind", "text", "表类型", "`project` (项目支出绩效自评表) or `department` (部门整体支出绩效自评表)."),
        _c("status", "text", "状态", "`ok` (no error or warning finding), `flagged` (one at least: review it), "
           "`read_poorly` (the engines could not read the form well: its values are not to be trusted)."),
        _c("template", "text", "表格样式", "The family of layout it was read as (national, shanghai, sichuan, …)."),
        _c("title", "text", "标题", "The title as printed."),
        _c("year", "integer", "年度", "The fiscal year."),
        _c("project_name", "text", "项目名称", "项目名称 (project forms)."),
        _c("department", "text", "主管部门", "主管部门 (project forms) or the department (department forms)."),
        _c("implementing_unit", "text", "实施单位", "实施单位 (project forms)."),
        _c("subordinate_units", "text", "下属单位", "下属单位 (department forms)."),
        _c("funding_unit", "text", "金额单位", "The unit the form prints its amounts in (万元, 元); every amount "
           "column without `_wan` is in it."),
        _c("budget_row", "text", "预算行", "The funding row the budget columns below are taken from: `total` "
           "(年度资金总额; a department form's 部门预算执行情况) or `fiscal` (财政拨款, on department forms that print no total)."),
        _c("initial_budget", "real", "年初预算数", "年初预算数 of `budget_row`, in `funding_unit`."),
        _c("annual_budget", "real", "全年预算数", "全年预算数 of `budget_row`, in `funding_unit`."),
        _c("executed", "real", "全年执行数", "全年执行数 of `budget_row`, in `funding_unit`."),
        _c("execution_rate", "real", "执行率(%)", "执行率 of `budget_row`, as printed, in percent (98.89 is 98.89%)."),
        _c("budget_weight", "real", "预算执行分值", "The points the budget's execution is scored out of."),
        _c("budget_score", "real", "预算执行得分", "The points it scored."),
        *_AMOUNTS_WAN,
        _c("total_weight", "real", "总分值", "The total the form is scored out of (100)."),
        _c("total_score", "real", "总分", "The total score as printed."),
        _c("grade", "text", "评分等级", "The grade as printed (优, 良, 中, 差 …)."),
        _c("goal_expected", "text", "预期目标", "The year's goal (年度总体目标 / 预期目标)."),
        _c("goal_actual", "text", "实际完成情况", "What was achieved (实际完成情况)."),
        _c("indicators", "integer", "指标数", "Indicator rows (the `indicators` table)."),
        _c("errors", "integer", "错误数", "Error findings: a value that is wrong, missing or not to be trusted."),
        _c("warnings", "integer", "警告数", "Warning findings (scoring practice)."),
        _c("engine", "text", "引擎", "The engine whose reading this is (rules, llm, ocr, …)."),
        _c("confidence", "real", "置信度", "0..1: how sure the engine is of its reading."),
        _c("review", "text", "复核状态", "Where a reviewer stands on it: undecided, in_progress, decided (empty: "
           "nothing to review)."),
        _c("corrected", "text", "已更正字段", "Fields whose value a reviewer typed, comma-separated."),
        _c("remarks", "text", "其他文字", "Text fields the template prints beyond these (评价结论, 存在问题 …), "
           "as a JSON object by printed label."),
    ),
    key=("form_id",), refers=(("document", "documents", "document"),),
    indexes=("document", "sha256", "form_key", "department", "year", "status"),
)

FUNDING = Table(
    "funding", "One row per funding row a form prints (项目资金 / 整体支出规模).",
    (
        *_FORM_REF,
        _PAGE,
        _c("row", "text", "资金行", "total (年度资金总额), fiscal (财政拨款), carryover (上年结转资金), other "
           "(其他资金), basic (基本支出), project (项目支出), or extra[0], extra[1] … (rows a template adds: see `label`)."),
        _c("label", "text", "行名", "The row's label."),
        _c("funding_unit", "text", "金额单位", "The unit of the amounts (万元, 元)."),
        _c("initial_budget", "real", "年初预算数", "年初预算数, in `funding_unit`."),
        _c("annual_budget", "real", "全年预算数", "全年预算数, in `funding_unit`."),
        _c("executed", "real", "全年执行数", "全年执行数, in `funding_unit`."),
        _c("execution_rate", "real", "执行率(%)", "执行率 as printed, in percent."),
        _c("weight", "real", "分值", "The points the row is scored out of (the total row's)."),
        _c("score", "real", "得分", "The points it scored."),
        _c("reason", "text", "原因", "A 原因 column's text (Sichuan)."),
        *_AMOUNTS_WAN,
    ),
    key=("form_id", "row"), refers=(("form_id", "forms", "form_id"),), indexes=("form_id",),
)

INDICATORS = Table(
    "indicators", "One row per indicator (三级指标) of a form.",
    (
        *_FORM_REF,
        _PAGE,
        _c("form_label", "text", "项目/部门", "The form's project name (or department)."),
        _c("row", "integer", "指标序号", "The indicator's place in the form, from 1."),
        _c("level1", "text", "一级指标", "一级指标 (产出指标, 效益指标, 满意度指标 …)."),
        _c("level2", "text", "二级指标", "二级指标 (数量指标, 质量指标 …)."),
        _c("name", "text", "三级指标", "三级指标: the indicator's name."),
        _c("number", "text", "指标编号", "A number printed before the name (Anhui's `指标1:`)."),
        _c("target", "text", "年度指标值", "The target as printed (`≥95.00(%)`)."),
        _c("actual", "text", "实际完成值", "The result as printed."),
        _c("weight", "real", "分值", "Its weight (points)."),
        _c("score", "real", "得分", "Its score."),
        _c("deviation_reason", "text", "偏差原因", "偏差原因分析及改进措施."),
        _c("target_parts", "text", "指标值分项", "Where a template prints the target apart (指标性质 | 指标值 | "
           "度量单位): the parts, as a JSON list."),
        _c("level1_weight", "real", "一级指标分值", "Points a level-1 cell prints (`产出指标(50分)`)."),
        _c("target_adjusted", "text", "调整指标值", "调整指标值 (Chongqing)."),
        _c("score_rate", "real", "得分系数(%)", "得分系数 in percent (Chongqing)."),
        _c("core", "text", "是否核心指标", "是否核心指标 (Chongqing)."),
    ),
    key=("form_id", "row"), refers=(("form_id", "forms", "form_id"),), indexes=("form_id",),
)

FINDINGS = Table(
    "findings", "One row per finding: what the checker, grounding or reading found wrong or doubtful "
    "(`extractor explain CODE`).",
    (
        *_FORM_REF,
        _PAGE,
        _c("finding", "integer", "序号", "The finding's place in the form's findings, from 1."),
        _c("form_label", "text", "项目/部门", "The form's project name (or department)."),
        _c("severity", "text", "级别", "error (a value wrong, missing or not to be trusted), warning, info."),
        _c("code", "text", "代码", "What was found (`extractor explain CODE`)."),
        _c("field", "text", "字段", "The field it names (`indicators[2].score`, `funding.total.executed`)."),
        _c("field_zh", "text", "字段名称", "The field as a reader of the form names it (第3项指标的得分)."),
        _c("expected", "text", "应为", "What the checker computed, or the printed value (as text with its digits)."),
        _c("found", "text", "实为", "What the record holds."),
        _c("message", "text", "说明", "The finding in English."),
        _c("message_zh", "text", "说明(中文)", "The finding in Chinese."),
        _c("decision", "text", "复核决定", "A reviewer's decision: confirm (the document prints it) or dismiss."),
        _c("comment", "text", "复核意见", "The reviewer's comment or reason."),
    ),
    key=("form_id", "finding"), refers=(("form_id", "forms", "form_id"),), indexes=("form_id", "code", "severity"),
)

TABLES: dict[str, Table] = {t.name: t for t in (DOCUMENTS, FORMS, FUNDING, INDICATORS, FINDINGS)}


def typed(column: Column, value: Any) -> Any:
    """A value as its column's type holds it: integers as int, reals as Decimal (the
    printed digits, for CSV) or float, text as str (a Decimal with its digits)."""
    if value is None or value == "" and column.type != "text":
        return None
    if column.type == "integer":
        return int(value)
    if column.type == "real":
        return value if isinstance(value, Decimal) else float(value)
    if isinstance(value, Decimal):
        return str(value)
    return value if isinstance(value, str) else str(value)


def dictionary_markdown() -> str:
    """The data dictionary as docs/tables.md prints it."""
    out = ["# The batch tables", "",
           "Every batch writes these tables with these columns, in this order and of these types, "
           "whatever documents it read (`forms.csv`, `funding.csv`, `indicators.csv`, `findings.csv`, "
           "`documents.csv`; the same tables in `forms.xlsx`, `forms.sqlite` and with `--format parquet` "
           "`<table>.parquet`). Printed by `extractor schema --tables`; a test keeps this file equal to it.", "",
           "Amounts are in the unit the form prints (`funding_unit`); the `_wan` columns hold the same "
           "amounts in 万元, so that sums over forms printed in 元 and 万元 add up. Rates are numbers in "
           "percent (98.89 is 98.89%). The result JSON files keep every number with its printed digits; "
           "CSV prints them with them too.", ""]
    for t in TABLES.values():
        key = ", ".join(t.key)
        refs = "; ".join(f"`{c}` → `{table}.{col}`" for c, table, col in t.refers)
        out += [f"## {t.name}", "", t.description + f" Key: `{key}`." + (f" References: {refs}." if refs else ""), "",
                "| column | type | 中文 | meaning |", "|---|---|---|---|"]
        out += [f"| `{c.name}` | {c.type} | {c.zh} | {c.description} |" for c in t.columns]
        out.append("")
    return "\n".join(out)
