"""What the model must answer: the output contract's fields, nothing else.

Validators reject what the model can fix on a re-ask (a number that does not
parse, a missing part), with a message that says what is wrong; instructor
sends that message back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError, WithJsonSchema,
                      field_validator)

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
from ..forms.indicators import split_number
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
    model nothing: property titles, defaults, the string pattern pydantic allows for a
    Decimal (a figure is a `Printed` string), and `null` on a property that is not
    required (a model leaves out what the form does not print; null is still accepted).
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
    if "properties" in node:
        required = set(node.get("required", ()))
        node = {**node, "properties": {k: v if k in required else _not_null(v) for k, v in node["properties"].items()}}
    return {k: compact_schema(v, False) for k, v in node.items()
            if not (k == "title" and not root and isinstance(v, str)) and k != "default"
            and not (k == "type" and "enum" in node)}  # (an enum says its type)


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    kinds = prop.get("anyOf")
    if kinds and any(k.get("type") == "null" for k in kinds):
        rest = [k for k in kinds if k.get("type") != "null"]
        others = {k: v for k, v in prop.items() if k != "anyOf"}
        return {**others, **rest[0]} if len(rest) == 1 else {**others, "anyOf": rest}
    kind = prop.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest = [k for k in kind if k != "null"]
        return {**prop, "type": rest[0] if len(rest) == 1 else rest}
    return prop


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # what instructor sends
        return compact_schema(inline_refs(super().model_json_schema(*args, **kwargs)))


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every `$ref` replaced by its definition (these models do not
    recurse): `$defs` and the references cost tokens a model gains nothing from."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = walk(defs[node["$ref"].rsplit("/", 1)[1]])
            rest = {k: walk(v) for k, v in node.items() if k != "$ref"}
            return {**target, **rest}
        return {k: walk(v) for k, v in node.items() if k != "$defs"}

    return walk(schema)


# --- rows as arrays ---------------------------------------------------------------------------
# A row is answered as an array of its cells in a fixed order, not as an object: the keys of
# ~20 rows a form are most of what a model would otherwise write (issue 29: tokens per form).
# An object with the same keys is still accepted (a model in JSON mode may write one).

FUNDING_COLUMNS = ("initial_budget", "annual_budget", "executed", "weight", "execution_rate", "score")
FUNDING_HEADS = ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
# An indicator row's cells: the columns every template prints, then those some print
# (Anhui's 一级指标权重; Chongqing's department form: 调整指标值, 得分系数, 是否核心指标),
# then a target printed in three cells (Sichuan: 指标性质 | 指标值 | 度量单位).
HEADS = {"level1": "一级指标", "level2": "二级指标", "name": "三级指标", "target": "年度指标值", "actual": "实际完成值",
         "weight": "分值", "score": "得分", "deviation_reason": "偏差原因", "level1_weight": "一级指标权重",
         "target_adjusted": "调整指标值", "score_rate": "得分系数", "core": "是否核心指标"}
PROJECT_COLUMNS = ("level1", "level2", "name", "target", "actual", "weight", "score", "deviation_reason", "level1_weight")
DEPARTMENT_COLUMNS = (*PROJECT_COLUMNS, "target_adjusted", "score_rate", "core")
PARTS = ("指标性质", "指标值", "度量单位")


def _heads(columns: tuple[str, ...]) -> tuple[str, ...]:
    return (*(HEADS[c] for c in columns), *PARTS)


def _shown(heads: tuple[str, ...]) -> str:
    return "[" + ", ".join(heads) + "]"


def _cells(value: Any, heads: tuple[str, ...]) -> list[Any]:
    if len(value) > len(heads):
        raise ValueError(f"a row has at most {len(heads)} cells, {_shown(heads)}; this one has {len(value)}")
    # (a name or level the form leaves blank is "", as the contract has it; any other blank is null)
    return [("" if i < 3 else None) if v in ("", None) else v for i, v in enumerate(value)]


def _funding_row(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return dict(zip(FUNDING_COLUMNS, _cells(value, FUNDING_HEADS)))
    return value


def _indicator_row(columns: tuple[str, ...]):
    heads = _heads(columns)

    def row(value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            return value
        cells = _cells(value, heads)
        if len(cells) < 7:
            raise ValueError(f"an indicator row holds at least its 7 first cells, {_shown(heads)}; this one has {len(cells)}")
        out = dict(zip(columns, cells))
        parts = cells[len(columns):]
        if any(p is not None for p in parts):
            out["target_parts"] = [p or "" for p in parts]
        return out
    return row


def _trimmed(cells: list[Any]) -> list[Any]:
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def _written(v: Any) -> Any:
    return str(v) if isinstance(v, Decimal) else v


def _funding_array(row: BaseModel | None) -> list[Any] | None:
    if row is None:
        return None
    return _trimmed([_written(getattr(row, c)) for c in FUNDING_COLUMNS])


def _indicator_array(columns: tuple[str, ...]):
    def array(row: BaseModel) -> list[Any] | dict[str, Any]:
        cells = [_written(getattr(row, c, None)) for c in columns]
        parts = list(getattr(row, "target_parts", None) or [])
        if len(parts) > len(PARTS):  # (an object row said more than a row's cells hold: kept as an object)
            return {c: v for c, v in zip((*columns, "target_parts"), (*cells, parts)) if v is not None}
        return _trimmed(cells + parts)
    return array


def _row_schema(most: int, least: int = 0) -> dict[str, Any]:
    # (the bounds cost a few tokens and let a server that decodes by the schema — llama.cpp's
    # grammar, vLLM's guided decoding — keep a weak model to a row's shape)
    schema: dict[str, Any] = {"type": "array", "items": {"type": ["string", "null"]}, "maxItems": most}
    return {**schema, "minItems": least} if least else schema


class LLMFundingRow(_Strict):
    initial_budget: Printed | None = None
    annual_budget: Printed | None = None
    executed: Printed | None = None
    weight: Printed | None = None
    execution_rate: Printed | None = None
    score: Printed | None = None

    _parse = field_validator("*", mode="before")(classmethod(lambda cls, v: _num(v)))


def _funding(model: type[BaseModel], optional: bool = True) -> Any:
    return Annotated[model | None if optional else model, BeforeValidator(_funding_row),
                     PlainSerializer(_funding_array, when_used="json")]


def _funding_block(model: type[BaseModel]) -> Any:
    """The funding rows by name, one row schema for them all (the names and the cells'
    order in the description)."""
    return Annotated[model, WithJsonSchema({"description": model.__doc__, "type": "object",
                                            "additionalProperties": _row_schema(len(FUNDING_COLUMNS))})]


class LLMIndicator(_Strict):
    level1: str
    level2: str
    name: str
    target: str | None = None
    actual: str | None = None
    weight: Printed
    score: Printed
    deviation_reason: str | None = None
    level1_weight: Printed | None = None
    target_adjusted: str | None = None  # Chongqing's columns: 调整指标值, 得分系数 (percent), 是否核心指标
    score_rate: Printed | None = None
    core: str | None = None
    target_parts: list[str] | None = None

    _parse = field_validator("weight", "score", "level1_weight", "score_rate", mode="before")(
        classmethod(lambda cls, v: _num(v)))

    @field_validator("weight", "score")
    @classmethod
    def _present(cls, v: Decimal | None) -> Decimal:
        if v is None:
            raise ValueError("every indicator row prints its 分值 and 得分; read them")
        return v


def _indicators(columns: tuple[str, ...]) -> Any:
    row = Annotated[LLMIndicator, BeforeValidator(_indicator_row(columns)),
                    PlainSerializer(_indicator_array(columns), when_used="json"), WithJsonSchema(_row_schema(len(columns) + len(PARTS), 7))]
    return Annotated[list[row], Field(min_length=1, description=f"rows: {_shown(_heads(columns))}; null where not printed")]


class LLMFunding(_Strict):
    __doc__ = "rows: total 年度资金总额, fiscal 当年财政拨款, carryover 上年结转资金, other 其他资金; each " + _shown(FUNDING_HEADS)
    total: _funding(LLMFundingRow, optional=False)
    fiscal: _funding(LLMFundingRow) = None
    carryover: _funding(LLMFundingRow) = None
    other: _funding(LLMFundingRow) = None


def _named(cls: type, v: str) -> str:
    if not v.strip():
        raise ValueError("the form prints its name (项目名称, 部门名称); copy it")
    return v


class LLMProjectForm(_Strict):
    """财政项目支出绩效自评表"""

    title: str = ""
    year: int | None = None
    project_name: str = Field(description="项目名称")  # (not empty: `_named`; left out of the schema to save tokens)
    department: str | None = Field(None, description="主管部门")
    implementing_unit: str | None = Field(None, description="实施单位")
    funding_unit: Literal["万元", "元"] | None = None
    funding: _funding_block(LLMFunding)
    goal_expected: str | None = None
    goal_actual: str | None = None
    indicators: _indicators(PROJECT_COLUMNS)
    total_weight: Printed | None = None
    total_score: Printed
    grade: str | None = Field(None, description="评分等级")
    remarks: dict[str, str] | None = Field(None, description="other labelled fields, by label")

    _parse = field_validator("total_weight", "total_score", mode="before")(classmethod(lambda cls, v: _num(v)))
    _name = field_validator("project_name")(classmethod(_named))


class LLMDepartmentFundingRow(LLMFundingRow):
    """A department's funding row: the same cells, the contract's department row."""


class LLMDepartmentFunding(_Strict):
    __doc__ = ("rows: total 年度资金总额 (or 部门预算执行情况 where one row is printed), fiscal 财政拨款, "
               "other 其他资金, basic 基本支出, project 项目支出; each " + _shown(FUNDING_HEADS))
    total: _funding(LLMDepartmentFundingRow) = None
    fiscal: _funding(LLMDepartmentFundingRow) = None
    other: _funding(LLMDepartmentFundingRow) = None
    basic: _funding(LLMDepartmentFundingRow) = None
    project: _funding(LLMDepartmentFundingRow) = None


class LLMDepartmentForm(_Strict):
    """部门(单位)整体支出绩效自评表"""

    title: str = ""
    year: int | None = None
    department: str = Field(description="部门(单位)名称")
    subordinate_units: str | None = None
    funding_unit: Literal["万元", "元"] | None = None
    funding: _funding_block(LLMDepartmentFunding)
    goal_expected: str | None = None
    goal_actual: str | None = None
    indicators: _indicators(DEPARTMENT_COLUMNS)
    total_weight: Printed | None = None
    total_score: Printed
    grade: str | None = None
    remarks: dict[str, str] | None = Field(None, description="other labelled fields, by label")

    _parse = field_validator("total_weight", "total_score", mode="before")(classmethod(lambda cls, v: _num(v)))
    _name = field_validator("department")(classmethod(_named))


def response_model_for(kind: str) -> type[_Strict]:
    return LLMDepartmentForm if kind == "department" else LLMProjectForm


def as_written(record: dict[str, Any]) -> dict[str, Any]:
    """A contract record (as JSON) in the shape a model following the schema writes it:
    rows as arrays, figures as strings, null fields left out. For stand-ins of a model
    and for counting its tokens; a record the schema rejects is returned as it is."""
    try:
        answer = response_model_for(record.get("kind", "project")).model_validate(record)
    except ValidationError:
        return record
    written = answer.model_dump(mode="json", exclude_none=True)
    return {k: v for k, v in written.items() if v not in ({}, "")}  # (nothing printed: left out)


def to_contract(answer: _Strict, pages: list[int], engine: str = "llm") -> ProjectForm | DepartmentForm:
    """The model's answer as a contract record; every field's provenance says 'llm'."""
    data = answer.model_dump()
    data["remarks"] = data.get("remarks") or {}
    for ind in data["indicators"]:  # (a name's number, `指标1:案件数`, kept off the name as the rules engine keeps it)
        ind["number"], ind["name"] = split_number(ind["name"])
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
