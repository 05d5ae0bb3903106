"""The output contract: the one definition of a result.

`extractor schema` prints the JSON Schema of `DocumentResult`. Numbers are exact
`Decimal`s inside, holding the digits the form prints (Decimal("98.80")), and JSON
numbers outside written with those digits (`98.80`, `20.00`): `dump_json` writes them
and `load_json` reads them back with their digits, so a result read again is checked
at the precision its form prints. (Any JSON reader reads them as numbers.) Text
fields keep what the form prints (targets and actuals verbatim, wrapped lines joined).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, Union

import json
import re

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, SerializationInfo

from .findings import Code
from .fingerprint import Fingerprint


def _decimal_to_json(value: Decimal) -> int | float:
    # Integral decimals print as integers ("100"), others as the shortest float
    # that round-trips; both read back exactly with Decimal(str(x)).
    if value == value.to_integral_value() and abs(value) < 10**15:
        return int(value)
    return float(value)


# A Decimal in `dump_json`'s output: marked as a string, then written bare with its digits.
_MARK = "\x00"
_MARKED = re.compile(r'"\\u0000(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"')


def _num_to_json(value: Decimal, info: SerializationInfo) -> int | float | str:
    if info.context and info.context.get("digits") and value.is_finite():
        return _MARK + str(value)
    return _decimal_to_json(value)


class PrintedFloat(float):
    """A JSON number read by `load_json`: a float that remembers its digits."""

    text: str

    def __new__(cls, text: str) -> PrintedFloat:
        self = super().__new__(cls, text)
        self.text = text
        return self


def _num_from_json(value: Any) -> Any:
    return Decimal(value.text) if isinstance(value, PrintedFloat) else value


def dump_json(model: BaseModel, indent: int | None = 1) -> str:
    """A model as JSON, its numbers written with the digits they were printed with."""
    return _MARKED.sub(r"\1", model.model_dump_json(indent=indent, context={"digits": True}))


def printed_data(model: BaseModel, **dump: Any) -> Any:
    """A model as JSON data whose numbers are strings of their printed digits ("10.00",
    where `model_dump(mode="json")` gives 10): what a schema asking for printed figures
    is answered with."""
    def unmark(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: unmark(x) for k, x in v.items()}
        if isinstance(v, list):
            return [unmark(x) for x in v]
        return v[len(_MARK):] if isinstance(v, str) and v.startswith(_MARK) else v
    return unmark(model.model_dump(mode="json", context={"digits": True}, **dump))


def load_json(text: str) -> Any:
    """JSON whose numbers keep their digits for the model's number fields (`Num`)."""
    return json.loads(text, parse_float=PrintedFloat)


def json_value(value: Any) -> Any:
    """A value as the JSON outputs print it: a Decimal as a number, the rest as it is."""
    return _decimal_to_json(value) if isinstance(value, Decimal) else value


def flatten(value: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested dicts and lists as {field path: leaf}, with the paths provenance uses
    ("funding.total.executed", "indicators[2].score")."""
    out = {} if out is None else out
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(v, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = value
    return out


def path_parts(path: str) -> list[str]:
    """A `flatten` path's steps: "indicators[2].score" -> ["indicators", "2", "score"]."""
    return path.replace("[", ".").replace("]", "").split(".")


def set_path(record: Any, path: str, value: Any) -> None:
    """Set the leaf `flatten` names by `path` ("funding.total.score",
    "indicators[2].target"); a missing optional part on the way (a funding row) is
    made empty first."""
    *parents, leaf = path_parts(path)
    obj = record
    if len(parents) == 1 and isinstance(getattr(obj, parents[0], None), dict):
        getattr(obj, parents[0])[leaf] = value  # (remarks)
        return
    for part in parents:
        if part.isdigit():
            obj = obj[int(part)]
            continue
        child = getattr(obj, part)
        if child is None:
            child = type(obj).model_fields[part].annotation.__args__[0]()  # (X | None: make an X)
            setattr(obj, part, child)
        obj = child
    setattr(obj, leaf, value)


def get_path(record: Any, path: str) -> Any:
    """The leaf `flatten` names by `path`; None where an optional part on the way is
    missing. IndexError for a list row the record does not have."""
    obj = record
    for part in path_parts(path):
        if obj is None:
            return None
        if isinstance(obj, dict):  # (remarks: by their printed labels)
            obj = obj.get(part)
        else:
            obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def leaf_annotation(record: Any, path: str) -> Any:
    """The type annotation of the leaf at `path` (its model field's)."""
    *parents, leaf = path_parts(path)
    cls = type(record)
    obj = record
    for part in parents:
        if part.isdigit():
            obj = obj[int(part)]
            cls = type(obj)
            continue
        obj = getattr(obj, part)
        annotation = cls.model_fields[part].annotation
        cls = type(obj) if obj is not None else annotation.__args__[0]
    return cls.model_fields[leaf].annotation


Num = Annotated[Decimal, BeforeValidator(_num_from_json),
                PlainSerializer(_num_to_json, return_type=Any, when_used="json")]


def _any_to_json(value: Any, info: SerializationInfo) -> Any:
    return _num_to_json(value, info) if isinstance(value, Decimal) else value


# A finding's expected/found: a number (with its digits, as `Num`), a text or nothing.
Value = Annotated[Any, BeforeValidator(_num_from_json), PlainSerializer(_any_to_json, when_used="json")]
Severity = Literal["error", "warning", "info"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Finding(_Model):
    """One disagreement a stage found (see `findings` for the codes and their owners).
    Frozen: the checker never mutates them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: Code
    severity: Severity
    message: str
    message_zh: str = ""
    field: str | None = None
    expected: Value = None
    found: Value = None
    # A reviewer's decision on it (`extractor review`): the document prints this
    # (confirm) or it is no problem (dismiss), with the comment or reason.
    decision: Literal["confirm", "dismiss"] | None = None
    comment: str | None = None


class ReviewedValue(_Model):
    """A value a reviewer corrected: the one the engines extracted, kept here while
    the record carries the decided one."""

    extracted: Any = None
    reviewer: str = ""
    at: str = ""


class FieldSource(_Model):
    """Where one value came from: the engine, the 1-based page and the box on it."""

    engine: str
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    raw: str | None = None  # the text as printed, before parsing
    confidence: float | None = None  # the OCR's, for values read from a scan
    cell: str | None = None  # where it was read: a workbook cell ("自评表!F12"), a Word table cell ("表3!R5C2"), a text export's line and cell ("L12C3")
    # Where two engines read this field differently: {engine: value}.
    alternatives: dict[str, Any] | None = None
    reviewed: ReviewedValue | None = None  # a reviewer typed the printed value


class FormReview(_Model):
    """Where a form stands in review (`extractor review`); the decisions themselves
    are in OUT/review.sqlite, the log this is derived from."""

    state: Literal["undecided", "in_progress", "decided"] = "undecided"
    open: int = 0  # findings (errors, warnings) with no decision, and conflicts
    decided: int = 0  # decisions in force on this form
    corrected: list[str] = Field(default_factory=list)  # fields whose value a reviewer typed
    # Decisions made on an earlier extraction whose field now reads differently:
    # {field, code, action, extracted_then, extracted_now, decided}. Not applied.
    conflicts: list[dict[str, Any]] = Field(default_factory=list)
    log_id: int = 0  # the last decision of the log applied here


class Usage(_Model):
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


class FundingRow(_Model):
    initial_budget: Num | None = None
    annual_budget: Num | None = None
    executed: Num | None = None
    weight: Num | None = None
    execution_rate: Num | None = None
    score: Num | None = None
    reason: str | None = None  # a 原因 column the block prints (Sichuan), as printed


class LabeledFundingRow(FundingRow):
    """A funding row a template prints beyond total/fiscal/carryover/other
    (财政专户管理资金, 单位资金), kept with its label: no printed row is dropped."""

    label: str = ""


class Funding(_Model):
    total: FundingRow | None = None
    fiscal: FundingRow | None = None
    carryover: FundingRow | None = None
    other: FundingRow | None = None
    extra: list[LabeledFundingRow] = Field(default_factory=list)


_ROW_NAMES: dict[type, tuple[str, ...]] = {}  # (a funding block's row fields, by its class: asked per form)


def funding_rows(funding) -> list[tuple[str, FundingRow]]:
    """A funding block's printed rows as (path name, row): total, fiscal, … then the
    extra ones (`extra[0]`), in that order; rows the form does not print left out."""
    names = _ROW_NAMES.get(type(funding))
    if names is None:
        names = _ROW_NAMES[type(funding)] = tuple(n for n in type(funding).model_fields if n != "extra")
    out = [(name, row) for name in names if (row := getattr(funding, name)) is not None]
    out += [(f"extra[{i}]", row) for i, row in enumerate(getattr(funding, "extra", []))]
    return out


class Indicator(_Model):
    level1: str = ""
    level2: str = ""
    name: str = ""
    target: str | None = None
    actual: str | None = None
    weight: Num | None = None
    score: Num | None = None
    deviation_reason: str | None = None
    # Where a template prints them apart: the target's operator, value and unit (Sichuan:
    # 指标性质 | 指标值 | 度量单位), joined in printed order into `target`; a name's number
    # (Anhui's `指标1:`), kept off the name; the points a level-1 cell prints (`产出指标(50分)`).
    target_parts: list[str] | None = None
    number: str | None = None
    level1_weight: Num | None = None
    # Chongqing's department form: 调整指标值 beside 年初指标值 (the target), 得分系数 (the
    # share of the weight scored, in percent: score = weight × rate / 100), 是否核心指标.
    target_adjusted: str | None = None
    score_rate: Num | None = None
    core: str | None = None


class DepartmentIndicator(Indicator):
    pass


class _FormBase(_Model):
    title: str = ""
    template: str = ""  # the family of layout it was read as (forms/templates.toml), when known
    year: int | None = None
    goal_expected: str | None = None
    goal_actual: str | None = None
    total_score: Num | None = None
    grade: str | None = None
    pages: list[int] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    # Provenance and trust. `engine` is the engine that produced the record;
    # `provenance` maps a field path ("funding.total.executed", "indicators[2].score")
    # to where its value was read. `confidence` is 0..1; `notes` says what the
    # engine had to guess or repair (a repeated row dropped, a name read above its label).
    engine: str = "rules"
    confidence: float = 1.0
    notes: list[str] = Field(default_factory=list)
    provenance: dict[str, FieldSource] = Field(default_factory=dict)
    usage: Usage | None = None  # LLM requests and tokens spent on this form
    review: FormReview | None = None  # set once a reviewer decided anything on it
    # Text fields a template prints beyond the contract's (评价结论, 存在问题, 改进措施,
    # 项目实施内容及过程概述; Chongqing's 全年(调整)绩效目标, 财政处室, 部门联系人), by their
    # printed label: accounted for, not dropped.
    remarks: dict[str, str] = Field(default_factory=dict)


class ProjectForm(_FormBase):
    kind: Literal["project"] = "project"
    project_name: str | None = None
    department: str | None = None
    implementing_unit: str | None = None
    funding_unit: str | None = None
    funding: Funding = Field(default_factory=Funding)
    indicators: list[Indicator] = Field(default_factory=list)
    total_weight: Num | None = None  # the "100" printed beside the total score


class DepartmentFundingRow(_Model):
    annual_budget: Num | None = None
    executed: Num | None = None
    execution_rate: Num | None = None
    # Where the budget's execution is scored (Chongqing: 部门预算执行情况 with its own
    # 执行率权重 and 执行率得分, counted in the total)
    initial_budget: Num | None = None
    weight: Num | None = None
    score: Num | None = None


class DepartmentFunding(_Model):
    """整体支出规模: by source (财政拨款, 其他资金) and by structure (基本支出, 项目支出);
    `total`, the whole budget where a template prints one row (Chongqing's 部门预算执行情况)."""

    total: DepartmentFundingRow | None = None
    fiscal: DepartmentFundingRow | None = None
    other: DepartmentFundingRow | None = None
    basic: DepartmentFundingRow | None = None
    project: DepartmentFundingRow | None = None


class DepartmentForm(_FormBase):
    kind: Literal["department"] = "department"
    department: str | None = None
    subordinate_units: str | None = None
    funding_unit: str | None = None
    funding: DepartmentFunding = Field(default_factory=DepartmentFunding)
    indicators: list[DepartmentIndicator] = Field(default_factory=list)
    total_weight: Num | None = None


Form = Annotated[Union[ProjectForm, DepartmentForm], Field(discriminator="kind")]


class Source(_Model):
    path: str
    sha256: str
    page_count: int
    doc_type: str = ""  # born_digital | text_export | scanned | image


class SkippedTable(_Model):
    """A table that shares the forms' labels but is not a self-evaluation form (a
    绩效目标申报表, a 监控表, a 决算 table; a blank template; a table with a form's labels
    and neither a self-evaluation title nor the form's parts): listed, not extracted."""

    title: str
    page: int
    reason: str = "another table"  # another table | blank template | no self-evaluation title


class DocumentResult(_Model):
    source: Source
    forms: list[Form] = Field(default_factory=list)
    skipped: list[SkippedTable] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # what reading the document as a whole had to do
    engine: str = "rules"
    seconds: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    tool_version: str = ""
    # What the result was made from (input, engine, settings, version, prompts, model):
    # a batch skips a document only when a run would make the same (fingerprint.py)
    fingerprint: Fingerprint | None = None


OPEN_SEVERITIES = ("error", "warning")  # findings a reviewer decides on


def review_state(form: ProjectForm | DepartmentForm) -> str | None:
    """undecided / in_progress / decided; None for a form that needs no review (no
    error or warning, no decision)."""
    if form.review is not None:
        return form.review.state
    if any(f.severity in OPEN_SEVERITIES for f in form.findings):
        return "undecided"
    return None


def form_label(form: ProjectForm | DepartmentForm) -> str:
    """A short human label for messages: the project or department name."""
    if isinstance(form, ProjectForm):
        return form.project_name or form.title or "(unnamed form)"
    return form.department or form.title or "(unnamed form)"
