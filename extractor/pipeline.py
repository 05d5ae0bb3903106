"""One document in, one checked `DocumentResult` out.

    open → pages (rows) → segment into forms → map to the contract → check
         → (llm/auto) send the forms that need it to the model → combine

The stages are the modules of the same names; this file only wires them.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .check import check_form, error_count
from .collector import fewer_collections
from .read.documents import Limits, OpenedDocument, open_document, sha256_of
from .errors import CorruptFile, EngineUnavailable, ExtractorError, NoFormsFound
from .layout.page import Row
from .llm.config import LLMConfig
from .forms.mapping import map_form
from .models import DepartmentForm, DocumentResult, Finding, ProjectForm, Source, Usage
from .forms.segment import FormRows, iter_form_rows
from .settings import CheckSettings

ENGINES = ("rules", "auto", "llm")
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
        raise EngineUnavailable(f"unknown engine '{engine}' (choose from {', '.join(ENGINES)})")
    configured = llm is not None and llm.configured
    if engine == "llm" and not configured:
        raise EngineUnavailable("--engine llm needs an endpoint: set OPENAI_BASE_URL (and OPENAI_API_KEY) and --model or EXTRACTOR_MODEL")
    if engine == "auto":
        return "auto" if configured else "rules"
    return engine


_LLM_ENGINES: dict[str, object] = {}  # one per process and configuration (holds the HTTP client)


def _llm_engine(options: ExtractOptions):
    from .llm.engine import LLMEngine

    key = options.llm.model_dump_json() + options.settings.model_dump_json()
    if key not in _LLM_ENGINES:
        _LLM_ENGINES[key] = LLMEngine(options.llm, options.settings)
    return _LLM_ENGINES[key]


def _form_pages(fr: FormRows, page_text: dict[int, str]) -> tuple[str, ...]:
    """The text a form's values must be grounded in, page by page: its pages, or for
    a text export (one pseudo-page) its own rows."""
    if len(page_text) == 1 and 1 in page_text and all(r.line is not None for r in fr.rows):
        return (rows_text(fr.before_anchor + fr.rows),)
    return tuple(page_text.get(p, "") for p in fr.pages)


def _form_text(fr: FormRows, page_text: dict[int, str]) -> str:
    """`_form_pages` as one text (for the LLM engine's grounding)."""
    return "\n".join(_form_pages(fr, page_text))


def rows_text(rows: list[Row]) -> str:
    return "\n".join("\t".join(c.text for c in r.cells) for r in rows)


def _ocr_trust(form: Form, notes: list[str]) -> None:
    """A scanned form is trusted as far as its weakest values were read."""
    confs = sorted(fs.confidence for fs in form.provenance.values() if fs.confidence is not None)
    if confs:
        low = confs[max(0, len(confs) // 10 - 1)]  # about the 10th percentile
        form.confidence = round(min(form.confidence, low), 3)
    form.notes = list(form.notes) + notes


def _read_poorly(form: Form, reason: str, engine: str) -> None:
    form.findings = list(form.findings) + [Finding(
        code="read_poorly",
        severity="warning",
        message=f"the rules engine could not read this form well ({reason}); "
        + ("no LLM endpoint is configured" if engine == "rules" else "the LLM did not improve it"),
        message_zh=f"规则引擎未能可靠读取此表（{reason}），请人工复核",
    )]


def _with_llm(doc: OpenedDocument, groups: list[FormRows], forms: list[Form], page_text: dict[int, str], engine: str, options: ExtractOptions) -> Usage:
    from .llm.triage import combine, needs_llm

    llm = _llm_engine(options)
    todo = [(i, needs_llm(f)) for i, f in enumerate(forms)]
    todo = [(i, why or "every form (--engine llm)") for i, why in todo if engine == "llm" or why]

    def one(i: int, why: str):
        fr = groups[i]
        images = [png for p in fr.pages if (png := doc.render(p, options.llm.dpi))] if options.llm.vision else []
        return i, why, llm.read_form(fr.kind, rows_text(fr.before_anchor + fr.rows), images, fr.pages, _form_text(fr, page_text))

    usage = Usage()
    with ThreadPoolExecutor(max_workers=max(1, options.llm.concurrency)) as pool:
        for i, why, read in pool.map(lambda t: one(*t), todo):
            if read.form is None:
                severity = "error" if engine == "llm" else "warning"
                forms[i].findings = list(forms[i].findings) + [Finding(
                    code="not_extracted",
                    severity=severity,
                    message=f"the LLM did not answer ({read.error}); the values are the rules engine's",
                    message_zh="大模型未能给出结果；表中数值来自规则引擎",
                )]
                if engine == "auto":
                    _read_poorly(forms[i], why, engine)
                continue
            forms[i] = combine(forms[i], read.form, prefer="llm" if engine == "llm" else "rules")
            forms[i].notes.insert(0, f"sent to the LLM: {why}")
            usage.requests += read.usage.requests
            usage.input_tokens += read.usage.input_tokens
            usage.output_tokens += read.usage.output_tokens
    return usage


def _checked_forms(doc: OpenedDocument, options: ExtractOptions, page_text: dict[int, str],
                   groups: list[FormRows] | None) -> Iterator[Form]:
    """Each form mapped and checked as soon as its last row is read. With `groups`
    None nothing of a finished form's pages is kept (the streamed rules path); else
    the rows and page text stay for the LLM."""

    def rows_stream():
        try:
            for page in doc.pages():
                page_text[page.number] = page.text
                yield from page.rows
        except ExtractorError:
            raise
        except Exception as exc:  # a PDF that opens but breaks while reading
            raise CorruptFile(f"unreadable page: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc

    for fr in iter_form_rows(rows_stream()):
        ocr_pages = doc.ocr_pages or {}
        scanned = [p for p in fr.pages if p in ocr_pages]
        form = map_form(fr, engine="ocr+rules" if scanned else "rules")
        if scanned:
            _ocr_trust(form, [n for p in scanned for n in ocr_pages[p]])
        form.findings = check_form(form, options.settings, page_text=_form_pages(fr, page_text))
        damage = doc.damage(new_only=True)  # said while this form's pages were read
        if damage:  # MuPDF read on past what it could not: the form may lack what it lost
            form.notes.append(f"{damage}; values on the form's pages may be missing")
        if groups is not None:
            groups.append(fr)
        else:
            for p in [p for p in page_text if p < fr.pages[-1]]:
                del page_text[p]
        yield form


def _no_forms(doc: OpenedDocument) -> NoFormsFound:
    damage = doc.damage()
    return NoFormsFound("no self-evaluation form (绩效自评表) found" + (f"; {damage}" if damage else ""))


def _triaged(form: Form, engine: str) -> Form:
    """With no LLM to send it to, a form the rules read poorly says so."""
    from .llm.triage import needs_llm

    why = needs_llm(form)
    if why:
        _read_poorly(form, why, engine)
    return form


@fewer_collections()
def extract_document(path: Path, options: ExtractOptions | None = None, sha256: str | None = None) -> DocumentResult:
    """Extract and check every form in one document. Raises ExtractorError subclasses."""
    options = options or ExtractOptions()
    engine = resolve_engine(options.engine, options.llm)
    started = time.perf_counter()
    doc = open_document(path, options.limits)
    try:
        page_text: dict[int, str] = {}
        groups: list[FormRows] | None = [] if engine in ("llm", "auto") else None
        forms = list(_checked_forms(doc, options, page_text, groups))
        if not forms:
            raise _no_forms(doc)
        usage = Usage()
        if groups is not None:
            usage = _with_llm(doc, groups, forms, page_text, engine, options)
        else:
            forms = [_triaged(f, engine) for f in forms]
        source = Source(path=str(path), sha256=sha256 or sha256_of(path), page_count=doc.page_count, doc_type=doc.doc_type)
        return DocumentResult(
            source=source,
            forms=forms,
            engine=engine,
            seconds=round(time.perf_counter() - started, 4),
            usage=usage,
            tool_version=__version__,
        )
    finally:
        doc.close()


@dataclass
class DocumentStats:
    """What a batch needs to know of a document once its JSON is written."""

    page_count: int
    forms: int = 0
    forms_with_errors: int = 0
    read_poorly: int = 0
    budget_spent: int = 0
    usage: Usage = field(default_factory=Usage)

    def add(self, form: Form) -> None:
        self.forms += 1
        self.forms_with_errors += error_count(form.findings) > 0
        self.read_poorly += any(f.code == "read_poorly" for f in form.findings)
        self.budget_spent += any(f.code == "not_extracted" and "budget" in f.message for f in form.findings)

    @classmethod
    def of(cls, result: DocumentResult, on_form: Callable[[Form], None] | None = None) -> DocumentStats:
        """The counts of a whole result; `on_form` sees each form, in order."""
        stats = cls(page_count=result.source.page_count, usage=result.usage)
        for form in result.forms:
            stats.add(form)
            if on_form:
                on_form(form)
        return stats


@fewer_collections()
def extract_to_json(path: Path, target: Path, options: ExtractOptions | None = None, sha256: str | None = None,
                    on_form: Callable[[Form], None] | None = None) -> DocumentStats:
    """Extract a document straight into its JSON file (the `DocumentResult` shape).

    With the rules engine each form is written as it is finished and then dropped,
    so a 500-page report needs no more memory than a 50-page one; the LLM engines
    need every form at once and go through `extract_document`. `on_form` sees each
    form before it is dropped (the batch tables). The file appears whole or not at all."""
    from .io.outputs import atomic_path, write_document_json  # (outputs imports the models only)

    options = options or ExtractOptions()
    engine = resolve_engine(options.engine, options.llm)
    if engine != "rules":
        result = extract_document(path, options, sha256)
        write_document_json(result, target)
        return DocumentStats.of(result, on_form)
    started = time.perf_counter()
    doc = open_document(path, options.limits)
    try:
        digest = sha256 or sha256_of(path)
        stats = DocumentStats(page_count=doc.page_count)
        # Forms go to an unnamed temporary file first: the header holds what is known
        # only at the end (a page read by OCR makes the document "scanned").
        with tempfile.TemporaryFile("w+", encoding="utf-8", dir=target.parent) as forms:
            for form in _checked_forms(doc, options, {}, None):
                form = _triaged(form, engine)
                forms.write(("" if stats.forms == 0 else ",\n") + form.model_dump_json(indent=1))
                stats.add(form)
                if on_form:
                    on_form(form)
            if not stats.forms:
                raise _no_forms(doc)
            shell = DocumentResult(
                source=Source(path=str(path), sha256=digest, page_count=doc.page_count, doc_type=doc.doc_type),
                engine=engine, seconds=round(time.perf_counter() - started, 4), tool_version=__version__,
            ).model_dump_json(indent=1)
            head, tail = shell.split('"forms": []', 1)  # the empty list's place in the shell
            forms.seek(0)
            with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8") as out:
                out.write(head + '"forms": [\n')
                shutil.copyfileobj(forms, out)
                out.write("\n]" + tail + "\n")
        return stats
    finally:
        doc.close()
