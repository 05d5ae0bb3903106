"""Every finding code, and which stage owns it.

A stage recomputes only the findings it owns: `extractor check` reruns the
checker's arithmetic on a corrected file and keeps everything else (grounding
needs the pages' text; triage and the pipeline ran once, at extraction).

    checker    the arithmetic a form must satisfy, and its required parts
    grounding  values the form's pages do not print
    reading    what the rules engine had to assemble to read a value (pieces of a
               label cut by a page break), and what it could not account for: a field
               the form's family prints and it did not find, text it read as nothing
    triage     how well the rules engine read the form; the engines compared
    pipeline   what happened while extracting (the LLM did not answer, a damaged page)
"""

from __future__ import annotations

from enum import StrEnum


class Owner(StrEnum):
    CHECKER = "checker"
    GROUNDING = "grounding"
    READING = "reading"
    TRIAGE = "triage"
    PIPELINE = "pipeline"


class Code(StrEnum):
    # checker: errors (the numbers disagree, or a part is missing)
    MISSING_FIELD = "missing_field"
    FUNDING_SUM = "funding_sum"
    EXECUTION_RATE = "execution_rate"
    BUDGET_SCORE = "budget_score"
    INDICATOR_SCORE = "indicator_score"  # a score that is not its weight × the printed 得分系数
    WEIGHTS_SUM = "weights_sum"
    SCORE_RANGE = "score_range"
    TOTAL_SCORE = "total_score"
    GRADE = "grade"
    RATE_INDICATOR_MISMATCH = "rate_indicator_mismatch"
    LEVEL1_WEIGHT = "level1_weight"
    FUNDING_STRUCTURE_SUM = "funding_structure_sum"
    MERGED_LABELS = "merged_labels"
    LEVEL_MISMATCH = "level_mismatch"  # a level-2 label under a level 1 it does not belong to (or any, where none is printed)
    # checker: warnings (scoring practice)
    SCORE_WITHOUT_REASON = "score_without_reason"
    MET_BUT_DEDUCTED = "met_but_deducted"
    MISSED_FULL_MARKS = "missed_full_marks"
    QUALITATIVE_BAND = "qualitative_band"
    UNKNOWN_GRADE = "unknown_grade"
    UNKNOWN_LABEL = "unknown_label"
    EMPTY_VALUE = "empty_value"  # a target or actual empty where most rows print one
    TEMPLATE_PROMPT = "template_prompt"  # a template's instructions left in a value cell: read as no value
    # grounding (positions: an answer's value against the cell at its row and column)
    UNGROUNDED_VALUE = "ungrounded_value"
    MISPLACED_VALUE = "misplaced_value"
    INVENTED_VALUE = "invented_value"
    DROPPED_VALUE = "dropped_value"
    DROPPED_ROW = "dropped_row"
    POSITION_UNVERIFIED = "position_unverified"
    # reading
    ASSEMBLED_VALUE = "assembled_value"
    LOW_CONFIDENCE = "low_confidence"  # a value the OCR was unsure of
    FIELD_NOT_FOUND = "field_not_found"  # a field the form's family prints, not found on the page
    PRINTED_EMPTY = "printed_empty"  # its label printed, its value cell empty
    UNREAD_TEXT = "unread_text"  # text in the form that is no value, label or page furniture
    UNVERIFIED_READING = "unverified_reading"  # figures read by OCR that the form's own scoring contradicts
    # triage
    READ_POORLY = "read_poorly"
    ENGINES_DISAGREE = "engines_disagree"  # equal after normalisation, printed differently
    ENGINES_CONFLICT = "engines_conflict"  # different values, neither settled by its cell
    # pipeline
    NOT_EXTRACTED = "not_extracted"
    BUDGET_SPENT = "budget_spent"
    DAMAGED_PAGES = "damaged_pages"


_BY_OWNER: dict[Owner, frozenset[Code]] = {
    Owner.GROUNDING: frozenset({Code.UNGROUNDED_VALUE, Code.MISPLACED_VALUE, Code.INVENTED_VALUE, Code.DROPPED_VALUE,
                                Code.DROPPED_ROW, Code.POSITION_UNVERIFIED}),
    Owner.READING: frozenset({Code.ASSEMBLED_VALUE, Code.LOW_CONFIDENCE, Code.FIELD_NOT_FOUND, Code.PRINTED_EMPTY,
                              Code.UNREAD_TEXT, Code.UNVERIFIED_READING, Code.TEMPLATE_PROMPT}),
    Owner.TRIAGE: frozenset({Code.READ_POORLY, Code.ENGINES_DISAGREE, Code.ENGINES_CONFLICT}),
    Owner.PIPELINE: frozenset({Code.NOT_EXTRACTED, Code.BUDGET_SPENT, Code.DAMAGED_PAGES}),
}
_BY_OWNER[Owner.CHECKER] = frozenset(Code) - frozenset().union(*_BY_OWNER.values())

# The arithmetic a repair request can fix (the numbers of one reading disagree).
ARITHMETIC = frozenset({
    Code.FUNDING_SUM, Code.EXECUTION_RATE, Code.BUDGET_SCORE, Code.WEIGHTS_SUM, Code.SCORE_RANGE,
    Code.TOTAL_SCORE, Code.LEVEL1_WEIGHT, Code.FUNDING_STRUCTURE_SUM, Code.INDICATOR_SCORE,
})
# A value that is not the one its cell prints (check.positions), or printed nowhere:
# what a repair request can also fix, and what decides between two readings.
POSITIONED = frozenset({Code.MISPLACED_VALUE, Code.INVENTED_VALUE, Code.DROPPED_VALUE, Code.DROPPED_ROW})
MISPLACED = POSITIONED | {Code.UNGROUNDED_VALUE}
# Disagreements any reader will find the same way: the document prints them.
PRINTED = frozenset({Code.RATE_INDICATOR_MISMATCH, Code.GRADE, Code.PRINTED_EMPTY})


def owner_of(code: str) -> Owner:
    """The stage that computes findings of this code."""
    for owner, codes in _BY_OWNER.items():
        if code in codes:
            return owner
    raise ValueError(f"unknown finding code {code!r}")


def codes_of(owner: Owner) -> frozenset[Code]:
    return _BY_OWNER[owner]


# Field paths as a reader of the form names them (messages, the workbench).
FIELD_ZH = {
    "title": "标题", "year": "年度", "template": "表格样式", "project_name": "项目名称", "department": "主管部门",
    "implementing_unit": "实施单位", "subordinate_units": "下属单位", "funding_unit": "资金单位",
    "goal_expected": "预期目标", "goal_actual": "实际完成情况", "total_score": "总分", "total_weight": "总分值",
    "grade": "评分等级", "indicators": "绩效指标",
    "funding": "资金", "funding.total": "年度资金总额", "funding.fiscal": "财政拨款", "funding.carryover": "上年结转资金",
    "funding.other": "其他资金", "funding.basic": "基本支出", "funding.project": "项目支出",
    "initial_budget": "年初预算数", "annual_budget": "全年预算数", "executed": "全年执行数", "weight": "分值",
    "execution_rate": "执行率", "score": "得分",
    "level1": "一级指标", "level2": "二级指标", "name": "三级指标", "target": "年度指标值", "actual": "实际完成值",
    "deviation_reason": "偏差原因", "level1_weight": "一级指标权重", "reason": "原因", "number": "指标编号",
    "target_parts": "指标值分项", "target_adjusted": "调整指标值", "score_rate": "得分系数", "core": "是否核心指标",
    "remarks": "其他文字", "funding.extra": "其他资金行",
}
# The families of layout (forms/templates.toml), as a reader names them.
FAMILY_ZH = {"shanghai": "上海样式", "national": "全国样式", "provincial": "省级样式", "sichuan": "四川样式",
             "department": "部门整体支出表", "chongqing": "重庆样式"}


def field_zh(path: str) -> str:
    """`indicators[2].target` → 第3项指标的年度指标值; `funding.total.executed` →
    年度资金总额的全年执行数; a path it does not know, as it is."""
    if path in FIELD_ZH:
        return FIELD_ZH[path]
    if path.startswith("indicators["):
        head, _, rest = path.partition("]")
        index = head[len("indicators["):]
        row = f"第{int(index) + 1}项指标" if index.isdigit() else "各项指标"
        leaf = rest.lstrip(".")
        return row + (f"的{FIELD_ZH.get(leaf, leaf)}" if leaf else "")
    if path.startswith("funding."):
        row, _, col = path.rpartition(".")
        if row in FIELD_ZH and col in FIELD_ZH:
            return f"{FIELD_ZH[row]}的{FIELD_ZH[col]}"
    return path
