"""What each finding code means, in English and Chinese: `extractor explain CODE`.

Each entry says what was found, what the tool computed or compared, and what a
reviewer does about it. A test keeps one entry per code.
"""

from __future__ import annotations

from dataclasses import dataclass

from .findings import Code, owner_of


@dataclass(frozen=True)
class Explanation:
    en: str  # what it means and how it was computed
    zh: str
    do_en: str  # what a reviewer does
    do_zh: str


_CHECK_PAGE = ("Compare the value with the page (extractor review shows it beside the values); correct it if it "
               "was misread, confirm the finding if the page prints it.")
_CHECK_PAGE_ZH = "对照原件核对该值（extractor review 可并排显示）：识别错误则更正，原件即如此则确认该发现。"

EXPLANATIONS: dict[Code, Explanation] = {
    Code.MISSING_FIELD: Explanation(
        "A field every form of its kind prints (the project name, the funding total, the total score …) is empty.",
        "同类表格必有的字段（项目名称、资金总额、总分等）为空。",
        "Find the field on the page: fill it in if it is printed, confirm if the form leaves it blank.",
        "在原件中查找该字段：有则补录，原件确为空白则确认。"),
    Code.FUNDING_SUM: Explanation(
        "The funding total is not the sum of its parts (财政拨款 + 上年结转 + 其他资金), at the precision the "
        "amounts are printed with.",
        "资金总额不等于各分项（财政拨款、上年结转资金、其他资金）之和（按印刷精度比较）。",
        "Check each amount against the page; a misread digit is the usual cause. If the page prints the sum "
        "wrong, confirm: it is the publisher's error.",
        "逐项核对金额，常见原因是数字识别错误；若原件本身相加不符，确认为填报错误。"),
    Code.EXECUTION_RATE: Explanation(
        "The printed execution rate is not executed ÷ annual budget × 100 at the precision it is printed with: "
        "98.89 stands for [98.885, 98.895) rounded (or [98.89, 98.90) truncated, one convention per form), "
        "and the quotient of the printed amounts must fall in it. No fixed tolerance.",
        "执行率不等于 全年执行数 ÷ 全年预算数 × 100（按印刷位数：98.89 代表四舍五入的 [98.885, 98.895) 或截断的 "
        "[98.89, 98.90)，同一张表用同一种约定），无固定容差。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.BUDGET_SCORE: Explanation(
        "The budget execution score is not its weight × the execution rate (capped at the weight), at the "
        "printed precision.",
        "预算执行率得分不等于 分值 × 执行率（不超过分值），按印刷精度比较。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.INDICATOR_SCORE: Explanation(
        "An indicator's score is not its weight × its printed 得分系数 (score rate).",
        "指标得分不等于 指标权重 × 得分系数。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.WEIGHTS_SUM: Explanation(
        "The weights (indicators and budget execution) do not add up to the total the form is scored out of (100).",
        "各项分值（指标及预算执行率）之和不等于总分值（100）。",
        "Look for an indicator row that was missed or read twice, or a misread weight.",
        "检查是否漏读或重复读取了指标行，或分值识别错误。"),
    Code.SCORE_RANGE: Explanation(
        "A score is below 0 or above its weight.",
        "得分小于0或超过其分值。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.TOTAL_SCORE: Explanation(
        "The total score is not the budget score plus the indicator scores, at the printed precision.",
        "总分不等于预算执行率得分与各指标得分之和（按印刷精度比较）。",
        "Check the scores on the page: a misread score or a missed row; if the page adds up wrong, confirm.",
        "核对各项得分：识别错误或漏行则更正；原件本身相加不符则确认。"),
    Code.GRADE: Explanation(
        "The grade does not match the total score's band on the scale the form's family uses (national: "
        "优 ≥ 90, 良 ≥ 80, 中 ≥ 60, 差 below; provinces: 优秀/良好/合格/不合格 at 90/80/60; or the checker "
        "settings' own scale).",
        "评分等级与总分所在档次不符（全国：优≥90、良≥80、中≥60、差；各省：优秀/良好/合格/不合格，分界90/80/60；"
        "或配置中的档次）。",
        "Confirm when the page prints this grade (the publisher's error); correct a misread grade.",
        "原件即如此则确认（填报错误）；等级识别错误则更正。"),
    Code.RATE_INDICATOR_MISMATCH: Explanation(
        "An indicator that reports the budget execution rate prints a value other than the funding block's rate.",
        "反映预算执行率的指标，其完成值与资金部分的执行率不一致。",
        "Confirm: the form disagrees with itself; note which figure the department stands by.",
        "确认：表内前后不一致，记录以哪个数为准。"),
    Code.LEVEL1_WEIGHT: Explanation(
        "A level-1 indicator's printed weight is not the sum of the weights of the indicators under it.",
        "一级指标权重不等于其下各指标分值之和。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.FUNDING_STRUCTURE_SUM: Explanation(
        "On a department form, the budget by structure (基本支出 + 项目支出) does not equal the budget by "
        "source (财政拨款 + 其他资金).",
        "部门整体支出表中，按结构（基本支出+项目支出）与按来源（财政拨款+其他资金）的合计不一致。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.MERGED_LABELS: Explanation(
        "Two labels were read run together in one cell (a level-1 and a level-2 label, or two names): the "
        "rows under them may be attributed to the wrong group.",
        "一个单元格中读出了两个连在一起的标签，其下各行的归属可能有误。",
        "Check the indicator rows' groups against the page and correct the labels.",
        "对照原件核对各指标行的归属并更正标签。"),
    Code.LEVEL_MISMATCH: Explanation(
        "A level-2 label stands under a level-1 label it does not belong to (数量指标 under 效益指标): a label "
        "lost at a page break or a merged cell read wrong.",
        "二级指标位于不属于它的一级指标下（如“数量指标”在“效益指标”下），多为跨页或合并单元格读错。",
        "Correct the level labels of the rows it names.",
        "更正所指各行的指标层级标签。"),
    Code.SCORE_WITHOUT_REASON: Explanation(
        "Points were deducted and no deviation reason is given.",
        "指标扣分但未填写偏差原因。",
        "A finding on the form's content, not on the reading: dismiss or confirm according to your review policy.",
        "属于填报内容问题而非识别问题：按复核要求确认或驳回。"),
    Code.MET_BUT_DEDUCTED: Explanation(
        "The actual value meets the target and still points were deducted.",
        "实际完成值已达到指标值，却被扣分。",
        "A finding on the scoring: confirm or dismiss according to your review policy.",
        "属于评分问题：按复核要求确认或驳回。"),
    Code.MISSED_FULL_MARKS: Explanation(
        "The actual value misses the target and full marks were given.",
        "实际完成值未达到指标值，却得满分。",
        "A finding on the scoring: confirm or dismiss according to your review policy.",
        "属于评分问题：按复核要求确认或驳回。"),
    Code.QUALITATIVE_BAND: Explanation(
        "A qualitative result (好, 较好, 一般 …) scored outside the band such results usually get.",
        "定性指标的完成情况（好、较好、一般等）得分超出通常档次。",
        "A finding on the scoring: confirm or dismiss according to your review policy.",
        "属于评分问题：按复核要求确认或驳回。"),
    Code.UNKNOWN_GRADE: Explanation(
        "The grade is none the checker knows (优, 良, 中, 差, 合格, 不合格 and the settings' own).",
        "评分等级不在已知范围内（优、良、中、差、合格、不合格及配置中的等级）。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.UNKNOWN_LABEL: Explanation(
        "A level-1 or level-2 label none of the templates use: a misread label, or a template's own.",
        "一级或二级指标名称不在任何模板中：识别错误或模板特有。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.EMPTY_VALUE: Explanation(
        "A target or actual is empty where most rows of the form print one.",
        "大多数行都有指标值或完成值，而该行为空。",
        "Check the row on the page: fill in a value the reading missed, confirm a blank cell.",
        "核对该行：漏读则补录，原件空白则确认。"),
    Code.TEMPLATE_PROMPT: Explanation(
        "A value cell holds the template's instructions (请填写…), left by the publisher: read as no value.",
        "数值单元格中是模板的填写说明（如“请填写…”），视为未填。",
        "Confirm: the form was published unfilled there.", "确认：原件该处未填写。"),
    Code.UNGROUNDED_VALUE: Explanation(
        "A value the LLM returned that the form's pages do not print.",
        "大模型给出的值在原件页面中找不到。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.MISPLACED_VALUE: Explanation(
        "A value the LLM put in a field whose cell prints something else (the neighbouring column's value, "
        "another row's).",
        "大模型填入的值与该字段所在单元格印刷的值不同（可能来自相邻列或其他行）。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.INVENTED_VALUE: Explanation(
        "A value the LLM gave for a cell that is empty or prints '-'.",
        "大模型为空白或“-”单元格给出了值。",
        "Clear the value if the cell is empty on the page.", "原件为空则清除该值。"),
    Code.DROPPED_VALUE: Explanation(
        "A cell prints a value the LLM's answer leaves empty.",
        "单元格有印刷值，而大模型的结果为空。",
        "Fill in the printed value.", "补录印刷值。"),
    Code.DROPPED_ROW: Explanation(
        "A row the page prints is missing from the answer (or figures left over in a stretch of text are a "
        "row not read).",
        "原件中的一行在结果中缺失（或文本中剩余的数字属于未读出的行）。",
        "Add the row from the page, or extract again with another engine.", "按原件补录该行，或换引擎重新提取。"),
    Code.POSITION_UNVERIFIED: Explanation(
        "The value could not be tied to a cell or a stretch of the text: it is neither confirmed nor contradicted.",
        "无法将该值对应到单元格或文本位置：既未证实也未否定。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.ASSEMBLED_VALUE: Explanation(
        "A value put together from pieces (a label or name cut by a page break, a cell's lines joined).",
        "由多处拼接而成的值（跨页截断的名称、单元格内多行合并）。",
        "Check the joined text on the page.", "对照原件核对拼接后的文字。"),
    Code.LOW_CONFIDENCE: Explanation(
        "OCR read this value with low confidence.",
        "OCR 识别该值的置信度低。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.FIELD_NOT_FOUND: Explanation(
        "A field the form's template prints was not found on the page.",
        "该模板应有的字段在页面中未找到。",
        "Find it on the page and fill it in, or confirm the form omits it.", "在原件中查找并补录，或确认原件缺失。"),
    Code.PRINTED_EMPTY: Explanation(
        "The field's label is printed and its value cell is empty.",
        "字段标签已印刷，但数值单元格为空。",
        "Confirm: the form was published with the cell empty.", "确认：原件该单元格为空。"),
    Code.UNREAD_TEXT: Explanation(
        "Text inside the form that is no value, label or page furniture the engine knows: something printed "
        "was not accounted for.",
        "表格内有未被识别为数值、标签或页眉页脚的文字：有印刷内容未被读取。",
        "Look at the text on the page: a value may belong to the field the finding names.",
        "查看该文字：可能属于所指字段的值。"),
    Code.UNVERIFIED_READING: Explanation(
        "Figures read by OCR that the form's own arithmetic contradicts: the reading is not to be trusted.",
        "OCR 读出的数字与表内计算关系矛盾，识别结果不可信。",
        _CHECK_PAGE, _CHECK_PAGE_ZH),
    Code.READ_POORLY: Explanation(
        "The engines could not read the form well (no table structure, too many values missing or in doubt): "
        "its values are not to be trusted.",
        "引擎未能很好地读取该表（无表格结构、缺失或存疑的值过多），其数值不可信。",
        "Read the form from the page, or extract again with an LLM endpoint (--engine auto) or the source file.",
        "对照原件录入，或配置大模型（--engine auto）或使用原始文件重新提取。"),
    Code.ENGINES_DISAGREE: Explanation(
        "Two engines read the same value printed differently (equal once normalised: width of a comma, a "
        "space).",
        "两个引擎读出的值仅写法不同（规范化后相同，如全角/半角标点、空格）。",
        "Usually nothing to do; check the characters if the exact text matters.", "通常无需处理；如需精确文字请核对。"),
    Code.ENGINES_CONFLICT: Explanation(
        "Two engines read different values and no cell settles which is right; both are in the finding.",
        "两个引擎读出不同的值，且无法由单元格判定孰对；两个值均列在发现中。",
        "Pick the value the page prints (the review shows both).", "按原件选择正确的值（复核界面显示两者）。"),
    Code.NOT_EXTRACTED: Explanation(
        "The LLM did not answer for this form (an error, a timeout, a refusal): it holds the rules' reading or nothing.",
        "大模型未就该表给出结果（出错、超时或拒绝），表中为规则引擎的结果或为空。",
        "Extract it again when the endpoint works, or review it from the page.", "待大模型服务正常后重新提取，或对照原件复核。"),
    Code.BUDGET_SPENT: Explanation(
        "The run's LLM token budget (--max-tokens-per-run) was spent before this form was sent.",
        "本次运行的大模型令牌预算（--max-tokens-per-run）已用完，该表未发送。",
        "Extract it again with a larger budget.", "提高预算后重新提取。"),
    Code.DAMAGED_PAGES: Explanation(
        "The PDF is damaged: MuPDF could not read some pages; forms may be missing.",
        "PDF 文件损坏，部分页面无法读取，可能有表格缺失。",
        "Get an undamaged copy of the document.", "获取完好的文件副本。"),
}


def explain(code: str, lang: str = "both") -> str:
    """The text `extractor explain CODE` prints. ValueError for an unknown code."""
    try:
        c = Code(code.strip().lower())
    except ValueError:
        raise ValueError(f"unknown finding code {code!r}; the codes: {', '.join(sorted(c.value for c in Code))}") from None
    e = EXPLANATIONS[c]
    en = f"{c.value} ({owner_of(c).value})\n{e.en}\nWhat to do: {e.do_en}"
    zh = f"{c.value}（{owner_of(c).value}）\n{e.zh}\n处理：{e.do_zh}"
    return {"en": en, "zh": zh}.get(lang, f"{zh}\n\n{en}")
