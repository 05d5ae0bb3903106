"""One document in, its checked forms out.

    open → pages (rows) → segment into forms → map to the contract → check
         → (llm/auto) send the forms that need it to the model → combine

`DocumentRun.forms()` is the one path; `extract_document` collects its forms into
a `DocumentResult`, `extract_to_json` streams them into the result file. The stages
are the modules they name; this file only wires them.
"""

from __future__ import annotations

import hashlib

import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, workers
from .check import check_form, error_count
from .check.cells import Cells, check_cells, with_cells
from .collector import fewer_collections
from .errors import BudgetSpent, CorruptFile, EngineUnavailable, ExtractorError, NoFormsFound
from .findings import POSITIONED, Code, field_zh
from .fingerprint import fingerprint_of
from .forms.mapping import map_form
from .forms.labels import label_key
from .forms.pieces import Piece, TitleWatch, piece_at, piece_of_rows
from .forms.segment import FormRows, iter_form_rows
from .forms.templates import VOCAB
from .forms.targets import parse_value
from .layout.page import Row
from .llm.config import LLMConfig
from .models import OPEN_SEVERITIES, DepartmentForm, DocumentResult, Finding, dump_json, form_label, funding_rows, ProjectForm, SkippedTable, Source, Usage
from .read.documents import Limits, OpenedDocument, open_document, sha256_of
from .settings import CheckSettings

ENGINES = ("rules", "auto", "llm", "llm-only")
LLM_ONLY = "llm-only"  # the LLM's reading alone, checked against the grid: no rules values to fall back on
Form = ProjectForm | DepartmentForm


@dataclass
class ExtractOptions:
    engine: str = "auto"
    limits: Limits = field(default_factory=Limits)
    settings: CheckSettings = field(default_factory=CheckSettings)
    llm: LLMConfig = field(default_factory=LLMConfig)


def resolve_engine(engine: str, llm: LLMConfig | None = None) -> str:
    """The engine that will run: 'auto' is the rules engine when no endpoint is configured."""
    if engine not in ENGINES:
        raise EngineUnavailable(f"unknown engine '{engine}' (choose from {', '.join(ENGINES)})",
                                zh=f"未知的引擎 '{engine}'（可选：{', '.join(ENGINES)}）")
    configured = llm is not None and llm.configured
    if engine in ("llm", LLM_ONLY) and not configured:
        raise EngineUnavailable(f"--engine {engine} needs an endpoint: set OPENAI_BASE_URL (and OPENAI_API_KEY) and --model or EXTRACTOR_MODEL",
                                zh=f"--engine {engine} 需要 LLM 服务：请设置 OPENAI_BASE_URL（及 OPENAI_API_KEY）和 --model 或 EXTRACTOR_MODEL")
    if engine == "auto":
        return "auto" if configured else "rules"
    return engine


_LLM_ENGINES: dict[str, object] = {}  # one per process and configuration (holds the HTTP client)


def _llm_engine(options: ExtractOptions):
    from .llm.engine import LLMEngine

    # The dump masks the API key: its digest (never the key) tells two keys' engines apart
    secret = options.llm.api_key.get_secret_value() if options.llm.api_key is not None else ""
    key = (options.llm.model_dump_json() + options.settings.model_dump_json()
           + hashlib.sha256(secret.encode()).hexdigest())
    if key not in _LLM_ENGINES:
        _LLM_ENGINES[key] = LLMEngine(options.llm, options.settings)
    return _LLM_ENGINES[key]


def rows_text(rows: list[Row]) -> str:
    return "\n".join("\t".join(c.text for c in r.cells) for r in rows)


def _form_pages(fr: FormRows, page_text: dict[int, str]) -> tuple[str, ...]:
    """The text a form's values must be grounded in, page by page: its pages, or for
    a text export (one pseudo-page) its own rows."""
    if len(page_text) == 1 and 1 in page_text and all(r.line is not None for r in fr.rows):
        # (its title and year lines, which the cutting into forms took, are printed too)
        heading = "\n".join(x for x in (fr.title, f"({fr.year}年度)" if fr.year else "") if x)
        return (heading + "\n" + rows_text(fr.before_anchor + fr.rows),)
    return tuple(page_text.get(p, "") for p in fr.pages)


def _add_finding(form: Form, code: Code, severity: str, message: str, message_zh: str, found: str | None = None) -> None:
    form.findings = [*form.findings, Finding(code=code, severity=severity, message=message, message_zh=message_zh, found=found)]


_ROWS_A_STEP = 50_000  # rows of a text export read under one time budget (filler between forms: ≈5 MB)
LOW_OCR_CONFIDENCE = 0.8  # below it a value's reading is an error naming it (none of the scanned fixtures' values is under 0.9)


def _ocr_trust(form: Form, notes: list[str]) -> None:
    """A scanned form is trusted as far as its weakest values were read, and each
    value the recogniser was unsure of is named."""
    confs = sorted(fs.confidence for fs in form.provenance.values() if fs.confidence is not None)
    if confs:
        low = confs[max(0, len(confs) // 10 - 1)]  # about the 10th percentile
        form.confidence = round(min(form.confidence, low), 3)
    form.notes = list(form.notes) + notes
    unsure = [Finding(code=Code.LOW_CONFIDENCE, severity="error", field=path, found=src.raw,
                      message=f"{path} = {src.raw!r} was read with OCR confidence {src.confidence:.2f}: check it on the page",
                      message_zh=f"{field_zh(path)} = “{src.raw}” 识别置信度仅 {src.confidence:.2f}，请对照原件核对")
              for path, src in form.provenance.items() if src.confidence is not None and src.confidence < LOW_OCR_CONFIDENCE]
    if unsure:
        form.findings = [*form.findings, *unsure]


def _unstructured(piece: Piece, engine: str, settings: CheckSettings) -> Form:
    """A form's title printed in text that keeps no table structure (a whole form on one
    line, figures run together: what a crawler made of a page): the form, its title and
    year, read poorly — not 'no form found'. With an endpoint the LLM reads it."""
    kind = DepartmentForm if piece.kind == "department" else ProjectForm
    form = kind(title=piece.title, year=piece.year, pages=piece.pages, engine=engine, confidence=0.0)
    head = re.sub(r"\s+", " ", piece.text[:60])
    form.findings = [Finding(code=Code.READ_POORLY, severity="error",
                             message=f"a self-evaluation form's title is printed (page {piece.pages[0]}: '{head}'), and its "
                                     "text keeps no table the rules can read (cells and rows run together); nothing of it "
                                     "was read: an LLM can read it (--engine auto with an endpoint), or read the source document",
                             message_zh="文中有绩效自评表标题，但文字没有可识别的表格结构，规则引擎无法读取；请使用大模型或原始文件"),
                     *check_form(form, settings)]
    return form


def _first_title(watch: TitleWatch) -> Piece:
    page, text = watch.first  # type: ignore[misc]
    return piece_at(text, [page])


def _not_a_form(fr: FormRows, form: Form) -> str | None:
    """Why rows that look like a form are none: a blank template (labels and no figure:
    policy compilations print them), or a table with a form's labels and neither a
    self-evaluation title nor the form's parts (a project system's 项目基本信息 sheet, an
    evaluation report's score table: no funding block or no completed values)."""
    figures = any(getattr(row, c, None) is not None for _, row in funding_rows(form.funding)
                  for c in ("initial_budget", "annual_budget", "executed", "execution_rate", "score"))
    figures = figures or form.total_score is not None or any(i.weight is not None or i.score is not None for i in form.indicators)
    named = getattr(form, "project_name", None) or form.department
    if not figures and not named:
        return "blank template"
    if not fr.title:
        done = any(i.actual or i.score is not None for i in form.indicators)
        if not (figures and form.indicators and done and funding_rows(form.funding)) and not _scored_with_funds(fr, form):
            return "no self-evaluation title"
    return None


def _scored_with_funds(fr: FormRows, form: Form) -> bool:
    """Rows that print a funding block's figures, an indicator block's level labels and a
    total: a self-evaluation form whatever the reading made of its indicators (camelot ran
    a Chromium print's indicator head together: no indicator was read, and the form had
    been skipped as a look-alike, silently). A project system's sheet prints no scores;
    an evaluation report's score table no funds."""
    funds = any(getattr(row, c, None) is not None for _, row in funding_rows(form.funding)
                for c in ("initial_budget", "annual_budget", "executed"))
    if not funds:
        return False
    texts = [label_key(c.text) for r in fr.rows for c in r.cells if c.text]
    return any(t in VOCAB.level1_words for t in texts) and any(t in VOCAB.total for t in texts)


def _contradicted_readings(form: Form, scanned: set[int]) -> list[Finding]:
    """On a page read by OCR, what the form's own figures say against the reading: a
    row whose target is missed with full marks (a digit misread makes the actual fall
    short: 100.00(%) read 10.00(%); marks deducted on a met target are common practice,
    not a sign), an actual printed to other decimals than the column's (100.0(%) among
    100.00(%)), a bracket left open, a figure in a sub-row's dashed 分值/得分. An error
    naming the row — on a text layer the same is the document's own (a warning, or nothing)."""
    def ocr_row(row: str) -> bool:
        return any(path.startswith(row) and src.page in scanned for path, src in form.provenance.items())

    rows: dict[str, str] = {}
    for f in form.findings:
        if f.code == Code.MISSED_FULL_MARKS and f.field:
            rows.setdefault(f.field.split("]")[0] + "]", f"its figures contradict the form's own scoring ({f.message})")
    if isinstance(form, ProjectForm):  # a sub-row's 分值/得分 print a dash or a slash: a figure there was read into it
        subs = [(name, getattr(form.funding, name)) for name in ("fiscal", "carryover", "other")]
        subs += [(f"extra[{i}]", row) for i, row in enumerate(form.funding.extra)]  # (Sichuan's 财政专户管理资金: `/` read 1)
        for name, row in subs:
            if row is not None and (row.weight is not None or row.score is not None):
                rows.setdefault(f"funding.{name}", f"a figure where the template prints a dash ({row.weight}, {row.score})")
    for i, ind in enumerate(form.indicators):  # a bracket left open: a character the recogniser dropped
        for col in ("name", "target", "actual"):
            if not _balanced(getattr(ind, col) or ""):
                rows.setdefault(f"indicators[{i}]", f"its {col} {getattr(ind, col)!r} leaves a bracket unclosed")
    if any(ind.target_parts and ind.target_parts[0] for ind in form.indicators):
        # an operator column (Sichuan's 指标性质) that rows print: a figure with none lost its
        # mark (a lone = is short, and was dropped as a speck: =100.00% read 100.00%)
        # (or, the column printing the indicator's nature, 定性, the figures' own cells print it:
        # `=100 (%)` read `100 (%)` on a photo, its = lost in both readings)
        # (one such row is enough: a 150-dpi scan lost the = of two of three)
        in_value = any(ind.target_parts and _OPERATOR.match(ind.target_parts[1] or "") for ind in form.indicators)
        for i, ind in enumerate(form.indicators):
            parts = ind.target_parts
            if not parts or not parts[1]:
                continue
            lost = not parts[0] or in_value and not _OPERATOR.match(parts[0]) and not _OPERATOR.match(parts[1])
            if lost and parse_value(parts[1]).kind == "quantity":
                rows.setdefault(f"indicators[{i}]", f"its target {ind.target!r} has no operator where the column's other "
                                                    "rows print one: a short mark (=, ≥) may have been dropped")
    cores = [i for i, ind in enumerate(form.indicators) if ind.core in _YES_NO]
    if len(cores) >= len(form.indicators) / 2:  # a yes/no column (Chongqing's 是否核心指标): 否 read 杏, or not read
        for i, ind in enumerate(form.indicators):
            if ind.core not in _YES_NO:
                rows.setdefault(f"indicators[{i}]", f"its 是否核心指标 {ind.core!r} is not 是 or 否, where the column's other rows print one")
    # A unit column (计量单位, 度量单位) the rows' figures print: a figure with none lost it (a
    # lone `%` not read beside `100%`). Not a row the nature column calls qualitative
    # (Sichuan's 定性 | =100% prints no unit).
    quantities = [i for i, ind in enumerate(form.indicators) if ind.target_parts and len(ind.target_parts) > 2
                  and not (ind.target_parts[0] or "").startswith("定性") and parse_value(ind.target).kind == "quantity"]
    units = [i for i in quantities if form.indicators[i].target_parts[2]]
    if units and len(units) >= len(quantities) / 2:
        for i in set(quantities) - set(units):
            rows.setdefault(f"indicators[{i}]", f"its target {form.indicators[i].target!r} has no unit where the column's "
                                                "other figures print one: a short mark (%, 个) may have been dropped")
    places = {i: -v.number.as_tuple().exponent for i, ind in enumerate(form.indicators)
              if (v := parse_value(ind.actual)).kind == "quantity" and v.number is not None}
    if len(places) >= 5:
        usual, count = Counter(places.values()).most_common(1)[0]
        if count >= 0.8 * len(places):
            for i, p in places.items():
                if p != usual:
                    rows.setdefault(f"indicators[{i}]", f"its actual {form.indicators[i].actual!r} has {p} decimals where the column's "
                                                        f"have {usual}: a digit may have been dropped")
    return [Finding(code=Code.UNVERIFIED_READING, severity="error", field=row, found=why,
                    message=f"{row}: read by OCR, {why}: check it on the page",
                    message_zh=f"{field_zh(row)}：识别出的数值与本表其他数值不一致，可能识别有误，请对照原件核对")
            for row, why in rows.items() if ocr_row(row)]


_OPERATOR = re.compile(r"\s*[=＝≥≤<>]")
_YES_NO = ("是", "否")
_LEVEL_FIELD = re.compile(r"indicators\[(\d+)\]\.(level1|level2)")


def _carried_doubts(form: Form) -> list[Finding]:
    """An error on a row's level label names the rows beside it that carry that label (its
    merged cell's rows print none of their own: the same reading). A merged 满意度指标 the
    page's top edge cut in half was read `服务对家两息度指你` at 0.60 and named on its first
    row; the row below carried it, silently."""
    out: list[Finding] = []
    named = {f.field for f in form.findings if f.severity == "error"}
    for f in [f for f in form.findings if f.severity == "error" and f.field]:
        m = _LEVEL_FIELD.fullmatch(f.field)
        if m is None or int(m.group(1)) >= len(form.indicators):
            continue
        k, level = int(m.group(1)), m.group(2)
        label = getattr(form.indicators[k], level)
        for rows in (range(k + 1, len(form.indicators)), range(k - 1, -1, -1)):  # (a label printed low in its cell goes up too)
            for j in rows:
                path = f"indicators[{j}].{level}"
                if getattr(form.indicators[j], level) != label or path in form.provenance:
                    break
                if path not in named:
                    named.add(path)
                    out.append(Finding(code=f.code, severity="error", field=path, found=label,
                                       message=f"{path} '{label}' is carried from indicator {k + 1} (one merged cell), whose reading is named: {f.message}",
                                       message_zh=f"{field_zh(path)}“{label}”沿用第{k + 1}项指标（同一合并单元格），该项读取存疑：{f.message_zh}"))
    return out


_PAIRS = {"(": ")", "（": "）", "《": "》", "〈": "〉", "【": "】", "〔": "〕", "[": "]"}


def _balanced(text: str) -> bool:
    stack: list[str] = []
    for ch in text:
        if ch in _PAIRS:
            stack.append(_PAIRS[ch])
        elif ch in _PAIRS.values():
            if not stack or stack.pop() != ch:
                return False
    return not stack


def _read_poorly(form: Form, reason: str, engine: str) -> None:
    from .llm.triage import why_zh

    _add_finding(form, Code.READ_POORLY, "warning",
                 f"the rules engine could not read this form well ({reason}); "
                 + ("no LLM endpoint is configured" if engine == "rules" else "the LLM did not improve it"),
                 f"规则引擎未能可靠读取此表（{why_zh(reason)}），请人工复核")


def _triaged(form: Form, engine: str) -> Form:
    """With no LLM to send it to, a form the rules read poorly says so."""
    from .llm.triage import needs_llm

    why = needs_llm(form)
    if why:
        _read_poorly(form, why, engine)
    return form


def _not_extracted(form: Form, failure: ExtractorError, engine: str, why: str) -> Form:
    """The form when the LLM gave no answer: the rules reading, or with --engine
    llm-only an empty record of the form (its kind, title and pages) and an error."""
    if engine == LLM_ONLY:
        empty = type(form)(title=form.title, year=form.year, pages=form.pages, engine="llm", confidence=0.0)
        _add_finding(empty, Code.NOT_EXTRACTED, "error", f"the LLM did not answer ({failure}); nothing was read (--engine llm-only)",
                     "大模型未能给出结果，未读取任何数值")
        return empty
    if isinstance(failure, BudgetSpent):
        _add_finding(form, Code.BUDGET_SPENT, "warning", f"not sent to the LLM: {failure}; the values are the rules engine's",
                     "大模型令牌预算已用完，未发送；表中数值来自规则引擎")
    else:
        _add_finding(form, Code.NOT_EXTRACTED, "error" if engine == "llm" else "warning",
                     f"the LLM did not answer ({failure}); the values are the rules engine's",
                     "大模型未能给出结果；表中数值来自规则引擎")
    if engine == "auto":
        _read_poorly(form, why, engine)
    return form


NO_TABLE = "no table the rules can read under its title"
SENT = "sent to the LLM: "


def _with_llm(doc: OpenedDocument, groups: list[FormRows | Piece], forms: list[Form], page_text: dict[int, str], engine: str, options: ExtractOptions) -> Usage:
    """Send the forms that need it (every form with --engine llm, and under auto those
    the rules cannot vouch for) and combine the readings. A piece (a title the rules
    cut no table under) is the LLM's alone, verified against its text by alignment."""
    from .llm.triage import combine, needs_llm

    llm = _llm_engine(options)
    todo = [(i, NO_TABLE if isinstance(groups[i], Piece) else needs_llm(f)) for i, f in enumerate(forms)]
    todo = [(i, why or f"every form (--engine {engine})") for i, why in todo if engine != "auto" or why]
    grounding = {i: groups[i].text if isinstance(groups[i], Piece) else "\n".join(_form_pages(groups[i], page_text))
                 for i, _ in todo}
    grids = {i: with_cells(forms[i], Cells.of(g.before_anchor + g.rows, g.kind)) for i, _ in todo
             if isinstance(g := groups[i], FormRows)}

    def one(i: int, why: str):
        fr = groups[i]
        images = [png for p in fr.pages if (png := doc.render(p, options.llm.dpi))] if options.llm.vision else []
        if isinstance(fr, Piece):  # no grid: the answer is verified against the text by alignment
            return i, why, llm.read_form(fr.kind, fr.text, images, fr.pages, grounding[i], grid=None)
        # The grid: the rules reading where the cells by row and column do not contradict it.
        return i, why, llm.read_form(fr.kind, rows_text(fr.before_anchor + fr.rows), images, fr.pages, grounding[i], grid=grids[i])

    def recheck(i: int):
        grid = grids[i]  # (combine takes values into a copy of the rules reading: the grid stays as read)
        return lambda form: llm.checked(form, grounding[i], grid)

    usage = Usage()
    with ThreadPoolExecutor(max_workers=max(1, options.llm.concurrency)) as pool:
        for i, why, read in pool.map(lambda t: one(*t), todo):
            usage.requests += read.usage.requests
            usage.input_tokens += read.usage.input_tokens
            usage.output_tokens += read.usage.output_tokens
            if read.form is None:
                forms[i] = _not_extracted(forms[i], read.failure, engine, why)
                forms[i].usage = read.usage  # the requests that failed
                forms[i].notes = [*forms[i].notes, *read.notes]
                continue
            if engine == LLM_ONLY or isinstance(groups[i], Piece):
                forms[i] = read.form
            else:
                forms[i] = combine(forms[i], read.form, prefer="llm" if engine == "llm" else "rules", recheck=recheck(i))
            forms[i].notes.insert(0, f"{SENT}{why}")
    return usage


def _checked_forms(doc: OpenedDocument, options: ExtractOptions, page_text: dict[int, str],
                   groups: list[FormRows | Piece] | None, skipped: list[SkippedTable],
                   watch: TitleWatch | None = None, engine: str = "rules") -> Iterator[Form]:
    """Each form mapped and checked as soon as its last row is read. With `groups`
    None nothing of a finished form's pages is kept (the streamed rules path); else
    the rows and page text stay for the LLM. `watch` notes the titles the rules cut
    no form under: each is a form read poorly (a piece the LLM reads, in `groups`)."""
    order = 0

    joined: dict[int, list[int]] = {}  # page → the pages its table's right-hand columns came from

    def rows_stream():
        nonlocal order
        try:
            for page in doc.pages():
                # (a text export's forms are grounded in their own rows: its text is not kept)
                page_text[page.number] = "" if page.streamed else page.text
                if page.joined_pages:
                    joined[page.number] = page.joined_pages
                for row in page.rows:
                    row.order, order = order, order + 1
                    if page.streamed and not order % _ROWS_A_STEP:  # (a text export's budget is per piece of work)
                        workers.step(f"reading the text (line {row.line or order})")
                    if watch is not None:  # (titles anywhere in the text, even several in one long line)
                        watch.see(row)
                    yield row
        except ExtractorError:
            raise
        except Exception as exc:  # a PDF that opens but breaks while reading
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CorruptFile(f"unreadable page: {why}", zh=f"页面无法读取：{why}") from exc

    def damaged(form: Form, pages: list[int]) -> Form:
        """What MuPDF (or libjpeg) said while reading the form's pages, or a page between them it could not read"""
        damage = next((doc.page_damage[p] for p in range(pages[0], pages[-1] + 1) if p in doc.page_damage), None)
        if damage:  # it read on past what it could not: the form may lack what it lost
            _add_finding(form, Code.DAMAGED_PAGES, "warning", damage + "; values on the form's pages may be missing",
                         "文件损坏，表中部分数值可能缺失", found=damage)
        return form

    def unstructured(pieces: list[Piece]) -> Iterator[Form]:
        for piece in pieces:
            if groups is not None:
                groups.append(piece)
            yield damaged(_unstructured(piece, engine, options.settings), piece.pages)

    one_page = doc.kind in ("text", "sheet")  # (a text export's forms are its steps: it has no pages)
    for number, fr in enumerate(iter_form_rows(rows_stream(), skipped), 1):
        if one_page:
            workers.step(f"form {number}")
        if watch is not None:
            yield from unstructured(watch.form(fr.before_anchor + fr.rows))
        ocr_pages = doc.ocr_pages or {}
        scanned = [p for p in fr.pages if p in ocr_pages]
        form = map_form(fr, engine="ocr+rules" if scanned else "rules")
        why = _not_a_form(fr, form)
        if why == "blank template" and watch is not None \
                and (piece := piece_of_rows(fr.kind, fr.title, fr.year, fr.before_anchor + fr.rows)) is not None:
            yield from unstructured([piece])  # (figures the rules read none of: no blank template)
            continue
        if why is not None:
            skipped.append(SkippedTable(title=fr.title or rows_text(fr.rows[:1])[:40], page=fr.pages[0], reason=why))
            continue
        if scanned:
            _ocr_trust(form, [n for p in scanned for n in ocr_pages[p]])
        more = sorted({j for p in form.pages for j in joined.get(p, [])})
        if more:  # a sheet wider than the paper: its right-hand columns were printed after it
            form.pages = sorted({*form.pages, *more})
            form.notes.append(f"the table's right-hand columns, printed on page(s) {', '.join(map(str, more))}, were joined to its rows")
        form.findings = [*form.findings, *check_form(form, options.settings, page_text=_form_pages(fr, page_text)),
                         *check_cells(form, Cells.of(fr.before_anchor + fr.rows, fr.kind))]
        if scanned:
            form.findings = [*form.findings, *_contradicted_readings(form, set(scanned))]
        damaged(form, fr.pages)
        form.findings = [*form.findings, *_carried_doubts(form)]
        if groups is not None:
            groups.append(fr)
        else:
            for p in [p for p in page_text if p < fr.pages[-1]]:
                del page_text[p]
        yield form
    if watch is not None:
        yield from unstructured(watch.finish())


@dataclass
class Remote:
    """A document read away from where it was given (a Ray task: a copy of its bytes
    in a temporary file): the path to record, and pages already read by OCR."""

    recorded: str | None = None
    preread: dict = field(default_factory=dict)  # page -> (PageText, notes)


class DocumentRun:
    """One document being extracted: `forms()` yields its checked forms (with the
    rules engine each as soon as it is read; the LLM engines need every form at
    once), `result()` is the document's record once they are read."""

    def __init__(self, path: Path, options: ExtractOptions | None = None, sha256: str | None = None,
                 remote: Remote | None = None):
        self.path = path
        self.options = options or ExtractOptions()
        self.engine = resolve_engine(self.options.engine, self.options.llm)
        self.started = time.perf_counter()
        self.doc = open_document(path, self.options.limits)
        self.remote = remote or Remote()
        self.doc.preread = self.remote.preread
        self.sha256 = sha256
        self.usage = Usage()
        self.skipped: list[SkippedTable] = []  # other tables, found as the forms are read

    def __enter__(self) -> DocumentRun:
        return self

    def __exit__(self, *exc) -> None:
        self.doc.close()

    def forms(self) -> Iterator[Form]:
        """Raises NoFormsFound at the end when there was none (and no form's title
        either: a title in text with no table structure gives a form read poorly)."""
        found = 0
        watch = TitleWatch()
        if self.engine == "rules":
            for form in _checked_forms(self.doc, self.options, {}, None, self.skipped, watch, self.engine):
                found += 1
                yield _triaged(form, self.engine)
        else:
            page_text: dict[int, str] = {}
            groups: list[FormRows | Piece] = []
            forms = list(_checked_forms(self.doc, self.options, page_text, groups, self.skipped, watch, self.engine))
            if forms:
                workers.step("waiting for the LLM", timed=False)  # (its requests have their own timeouts)
                self.usage = _with_llm(self.doc, groups, forms, page_text, self.engine, self.options)
                workers.step("writing its forms")
            found = len(forms)
            yield from forms
        if not found and watch.first is not None:  # (a title with too few figures after it to be a piece)
            yield _unstructured(_first_title(watch), self.engine, self.options.settings)
            return
        if not found:
            damage = self.doc.damage()
            others = f"; only other tables: {', '.join(s.title for s in self.skipped[:3])}" if self.skipped else ""
            others_zh = f"；只有其他表格：{'、'.join(s.title for s in self.skipped[:3])}" if self.skipped else ""
            raise NoFormsFound("no self-evaluation form (绩效自评表) found" + others + (f"; {damage}" if damage else ""),
                               zh="未找到绩效自评表" + others_zh + (f"；{damage}" if damage else ""))

    def result(self, forms: list[Form] | None = None) -> DocumentResult:
        doc = self.doc  # doc_type is known at the end: a page read by OCR makes it "scanned"
        source = Source(path=self.remote.recorded or str(self.path), sha256=self.sha256 or sha256_of(self.path), page_count=doc.page_count, doc_type=doc.doc_type)
        return DocumentResult(source=source, forms=forms or [], skipped=self.skipped, notes=doc.notes(),
                              engine=self.engine, usage=self.usage,
                              seconds=round(time.perf_counter() - self.started, 4), tool_version=__version__,
                              fingerprint=fingerprint_of(source.sha256, self.options))


@fewer_collections()
def extract_document(path: Path, options: ExtractOptions | None = None, sha256: str | None = None) -> DocumentResult:
    """Extract and check every form in one document. Raises ExtractorError subclasses."""
    with DocumentRun(path, options, sha256) as run:
        return run.result(list(run.forms()))


@dataclass
class DocumentStats:
    """What a batch needs to know of a document once its JSON is written."""

    page_count: int
    sha256: str = ""
    doc_type: str = ""
    engine: str = ""  # the engine that read it (auto without an endpoint: rules)
    forms: int = 0
    forms_with_errors: int = 0
    flagged: int = 0  # forms with an error or warning finding
    read_poorly: int = 0
    budget_spent: int = 0
    conflicts: int = 0  # fields two engines read differently and no cell settles
    misplaced: int = 0  # values an LLM answer put where their cells print something else
    skipped: int = 0  # other tables (申报表, 监控表, 决算 tables) listed, not read
    reviewed: int = 0  # forms a reviewer's decisions were applied to again (extract --force)
    review_conflicts: int = 0  # decisions whose field now reads differently: not applied
    damage: str | None = None  # what a damaged PDF's forms say of it (forms may be missing)
    usage: Usage = field(default_factory=Usage)
    sent: Counter = field(default_factory=Counter)  # forms sent to the LLM, by why (its first words)
    # The forms with an error or warning: (place, label, the codes), for `extract -v`
    flagged_forms: list[tuple[int, str, list[str]]] = field(default_factory=list)

    def add(self, form: Form) -> None:
        codes = {f.code for f in form.findings}
        self.forms += 1
        why = next((n[len(SENT):] for n in form.notes if n.startswith(SENT)), None)
        if why is not None:
            self.sent[re.split(r"[:(;]", why, maxsplit=1)[0].strip()] += 1
        self.forms_with_errors += error_count(form.findings) > 0
        open_codes = [f"{f.code}" + ("" if f.severity == "error" else " (warning)") for f in form.findings
                      if f.severity in OPEN_SEVERITIES]
        if open_codes:
            self.flagged += 1
            self.flagged_forms.append((self.forms, form_label(form), list(dict.fromkeys(open_codes))))
        self.read_poorly += Code.READ_POORLY in codes
        self.budget_spent += Code.BUDGET_SPENT in codes
        self.conflicts += sum(f.code == Code.ENGINES_CONFLICT for f in form.findings)
        self.misplaced += sum(f.code in POSITIONED for f in form.findings)
        if form.review is not None:
            self.reviewed += 1
            self.review_conflicts += len(form.review.conflicts)
        if Code.DAMAGED_PAGES in codes and self.damage is None:
            self.damage = next(f.found for f in form.findings if f.code == Code.DAMAGED_PAGES)

    @classmethod
    def of(cls, result: DocumentResult, on_form: Callable[[Form], None] | None = None) -> DocumentStats:
        """The counts of a whole result; `on_form` sees each form, in order."""
        stats = cls(page_count=result.source.page_count, sha256=result.source.sha256, doc_type=result.source.doc_type,
                    engine=result.engine, usage=result.usage, skipped=len(result.skipped))
        for form in result.forms:
            stats.add(form)
            if on_form:
                on_form(form)
        return stats


@fewer_collections()
def extract_to_json(path: Path, target: Path, options: ExtractOptions | None = None, sha256: str | None = None,
                    on_form: Callable[[Form], None] | None = None,
                    amend: Callable[[int, Form], Form] | None = None, remote: Remote | None = None) -> DocumentStats:
    """Extract a document straight into its JSON file (the `DocumentResult` shape).

    Each form is written to a staging file as it comes and then dropped, so with the
    rules engine a 500-page report needs no more memory than a 50-page one. `on_form`
    sees each form before it is dropped (the batch tables); `amend` may change it
    before (a reviewer's decisions, by the form's 1-based place). The file appears
    whole or not at all."""
    from .io.outputs import write_streamed_result  # (outputs imports the models only)

    with DocumentRun(path, options, sha256, remote) as run, \
            tempfile.TemporaryFile("w+", encoding="utf-8", dir=target.parent) as staged:
        stats = DocumentStats(page_count=run.doc.page_count)
        for form in run.forms():
            if amend:
                form = amend(stats.forms + 1, form)
            staged.write(("" if stats.forms == 0 else ",\n") + dump_json(form))
            stats.add(form)
            if on_form:
                on_form(form)
        stats.usage, stats.skipped = run.usage, len(run.skipped)
        shell = run.result()
        stats.sha256, stats.doc_type, stats.engine = shell.source.sha256, shell.source.doc_type, shell.engine
        write_streamed_result(shell, staged, target)
        return stats
