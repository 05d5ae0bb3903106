"""What the model must answer: the output contract's fields, nothing else.

Validators reject what the model can fix on a re-ask (a number that does not
parse, a missing part), with a message that says what is wrong; instructor
sends that message back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from ..models import (
    DepartmentForm,
    DepartmentFunding,
    DepartmentFundingRow,
    DepartmentIndicator,
    FieldSource,
    Funding,
    FundingRow,
    Indicator,
    ProjectForm,
)
from ..forms.numbers import parse_number


def _num(v: Any) -> Decimal | None:
    if v is None or isinstance(v, Decimal):
        return v
    if isinstance(v, (int, float)):
        return Decimal(str(v))
    try:
        return parse_number(str(v))
    except ValueError:
        raise ValueError(f"{v!r} is not a number as printed on the form; copy the digits, or null for '-'") from None


# A figure as the form prints it. The schema asks for a string of the printed digits
# ("98.80"): a JSON number loses its trailing zeros (98.8), and with them the
# precision the checker holds the form's arithmetic to. A number is still accepted.
Printed = Annotated[Decimal, BeforeValidator(lambda v: _num(v)),
                    WithJsonSchema({"type": "string"})]  # (the prompt says how: "98.80")


def compact_schema(node: Any, root: bool = True) -> Any:
    """The JSON Schema a request carries, without what costs tokens and tells the
    model nothing: property titles, `"default": null`, and the string pattern
    pydantic allows for a Decimal (a figure is a `Printed` string, or null).
    The top-level title stays: it names the tool."""
    if isinstance(node, list):
        return [compact_schema(n, False) for n in node]
    if not isinstance(node, dict):
        return node
    if "anyOf" in node:
        kinds = [n for n in node["anyOf"] if not (n.get("type") == "string" and "pattern" in n)]
        types = [n.get("type") for n in kinds]
        if all(isinstance(t, str) and len(n) == 1 for t, n in zip(types, kinds)):  # plain types: one list
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            node = {**rest, "type": types[0] if len(types) == 1 else types}
        else:
            node = {**node, "anyOf": kinds}
    return {k: compact_schema(v, False) for k, v in node.items()
            if not (k == "title" and not root and isinstance(v, str)) and not (k == "default" and v is None)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # what instructor sends
        return compact_schema(super().model_json_schema(*args, **kwargs))


class LLMFundingRow(_Strict):
    initial_budget: Printed | None = Field(None, description="年初预算数")
    annual_budget: Printed | None = Field(None, description="全年预算数")
    executed: Printed | None = Field(None, description="全年执行数")
    weight: Printed | None = Field(None, description="分数 (分值)")
    execution_rate: Printed | None = Field(None, description="执行率")
    score: Printed | None = Field(None, description="得分")

    _parse = field_validator("*", mode="before")(classmethod(lambda cls, v: _num(v)))


class LLMFunding(_Strict):
    total: LLMFundingRow = Field(description="年度资金总额 row")
    fiscal: LLMFundingRow | None = Field(None, description="其中：当年财政拨款 row")
    carryover: LLMFundingRow | None = Field(None, description="上年结转资金 row")
    other: LLMFundingRow | None = Field(None, description="其他资金 row")


class LLMIndicator(_Strict):
    level1: str = Field(description="一级指标, repeated on every row it spans")
    level2: str = Field(description="二级指标, repeated on every row it spans")
    name: str = Field(description="三级指标")
    target: str | None = Field(None, description="年度指标值 exactly as printed")
    actual: str | None = Field(None, description="实际完成值 exactly as printed")
    weight: Printed = Field(description="分值")
    score: Printed = Field(description="得分")
    deviation_reason: str | None = None
    # A target printed in several cells (指标性质 | 指标值 | 度量单位), each as printed
    target_parts: list[str] | None = None

    _parse = field_validator("weight", "score", mode="before")(classmethod(lambda cls, v: _num(v)))

    @field_validator("weight", "score")
    @classmethod
    def _present(cls, v: Decimal | None) -> Decimal:
        if v is None:
            raise ValueError("every indicator row prints its 分值 and 得分; read them")
        return v


class LLMProjectForm(_Strict):
    """A 财政项目支出绩效自评表 as printed."""

    title: str = ""
    year: int | None = None
    project_name: str = Field(min_length=1, description="项目名称")
    department: str | None = Field(None, description="主管部门")
    implementing_unit: str | None = Field(None, description="实施单位")
    funding_unit: Literal["万元", "元"] | None = None
    funding: LLMFunding
    goal_expected: str | None = None
    goal_actual: str | None = None
    indicators: list[LLMIndicator] = Field(min_length=1)
    total_weight: Printed | None = None
    total_score: Printed = Field(description="总分")
    grade: str | None = Field(None, description="评分等级")
    remarks: dict[str, str] | None = Field(None, description="other labelled fields the form prints, by label")

    _parse = field_validator("total_weight", "total_score", mode="before")(classmethod(lambda cls, v: _num(v)))


class LLMDepartmentFundingRow(_Strict):
    annual_budget: Printed | None = Field(None, description="全年预算数")
    executed: Printed | None = Field(None, description="全年执行数")
    execution_rate: Printed | None = Field(None, description="执行率")
    # (a row whose execution is scored: Chongqing's 部门预算执行情况, 执行率权重, 执行率得分)
    initial_budget: Printed | None = Field(None, description="年初预算数")
    weight: Printed | None = Field(None, description="权重 (分值)")
    score: Printed | None = Field(None, description="得分")

    _parse = field_validator("*", mode="before")(classmethod(lambda cls, v: _num(v)))


class LLMDepartmentFunding(_Strict):
    total: LLMDepartmentFundingRow | None = Field(None, description="部门预算执行情况 where one row is printed")
    fiscal: LLMDepartmentFundingRow | None = None
    other: LLMDepartmentFundingRow | None = None
    basic: LLMDepartmentFundingRow | None = None
    project: LLMDepartmentFundingRow | None = None


class LLMDepartmentIndicator(LLMIndicator):
    level1_weight: Printed | None = Field(None, description="权重 of the level-1 group")
    # Chongqing's columns: 调整指标值, 得分系数 (percent), 是否核心指标
    target_adjusted: str | None = None
    score_rate: Printed | None = None
    core: str | None = None

    _parse_w = field_validator("level1_weight", "score_rate", mode="before")(classmethod(lambda cls, v: _num(v)))


class LLMDepartmentForm(_Strict):
    """A 部门(单位)整体支出绩效自评表 as printed."""

    title: str = ""
    year: int | None = None
    department: str = Field(min_length=1, description="部门(单位)名称")
    subordinate_units: str | None = None
    funding_unit: Literal["万元", "元"] | None = None
    funding: LLMDepartmentFunding
    goal_expected: str | None = None
    goal_actual: str | None = None
    indicators: list[LLMDepartmentIndicator] = Field(min_length=1)
    total_weight: Printed | None = None
    total_score: Printed
    grade: str | None = None
    remarks: dict[str, str] | None = Field(None, description="other labelled fields the form prints, by label")

    _parse = field_validator("total_weight", "total_score", mode="before")(classmethod(lambda cls, v: _num(v)))


def response_model_for(kind: str) -> type[_Strict]:
    return LLMDepartmentForm if kind == "department" else LLMProjectForm


def to_contract(answer: _Strict, pages: list[int], engine: str = "llm") -> ProjectForm | DepartmentForm:
    """The model's answer as a contract record; every field's provenance says 'llm'."""
    data = answer.model_dump()
    data["remarks"] = data.get("remarks") or {}
    if isinstance(answer, LLMDepartmentForm):
        funding = DepartmentFunding(**{k: DepartmentFundingRow(**v) for k, v in data.pop("funding").items() if v})
        inds = [DepartmentIndicator(**i) for i in data.pop("indicators")]
        form: ProjectForm | DepartmentForm = DepartmentForm(**data, funding=funding, indicators=inds, pages=pages, engine=engine)
    else:
        funding = Funding(**{k: FundingRow(**v) for k, v in data.pop("funding").items() if v})
        inds = [Indicator(**i) for i in data.pop("indicators")]
        form = ProjectForm(**data, funding=funding, indicators=inds, pages=pages, engine=engine)
    from ..check.grounding import numeric_fields

    form.provenance = {path: FieldSource(engine=engine) for path, _ in numeric_fields(form)}
    for key in ("project_name", "department", "implementing_unit", "total_score", "grade"):
        if getattr(form, key, None) is not None:
            form.provenance[key] = FieldSource(engine=engine)
    return form
