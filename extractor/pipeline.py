"""One document in, one checked `DocumentResult` out.

    open → pages (rows) → segment into forms → map to the contract → check

The stages are the modules of the same names; this file only wires them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .check import check_form
from .documents import Limits, open_document, sha256_of
from .errors import CorruptFile, EngineUnavailable, ExtractorError, NoFormsFound
from .layout import Row
from .mapping import map_form
from .models import DocumentResult, Source
from .segment import FormRows, rows_to_forms
from .settings import CheckSettings

ENGINES = ("rules", "auto", "llm")


@dataclass
class ExtractOptions:
    engine: str = "rules"
    limits: Limits = field(default_factory=Limits)
    settings: CheckSettings = field(default_factory=CheckSettings)


def _form_text(fr: FormRows, page_text: dict[int, str]) -> str:
    """The text a form's values must be grounded in: its pages, or for a text
    export (one pseudo-page) its own rows."""
    if len(page_text) == 1 and 1 in page_text and all(r.line is not None for r in fr.rows):
        return "\n".join("\t".join(c.text for c in r.cells) for r in fr.before_anchor + fr.rows)
    return "\n".join(page_text.get(p, "") for p in fr.pages)


def resolve_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise EngineUnavailable(f"unknown engine '{engine}' (choose from {', '.join(ENGINES)})")
    if engine == "llm":
        raise EngineUnavailable("the LLM engine is not in this version yet; use --engine rules")
    return "rules"  # auto without an LLM engine is the rules engine


def extract_document(path: Path, options: ExtractOptions | None = None, sha256: str | None = None) -> DocumentResult:
    """Extract and check every form in one document. Raises ExtractorError subclasses."""
    options = options or ExtractOptions()
    engine = resolve_engine(options.engine)
    started = time.perf_counter()
    doc = open_document(path, options.limits)
    try:
        rows: list[Row] = []
        page_text: dict[int, str] = {}
        try:
            for page in doc.pages():
                rows.extend(page.rows)
                page_text[page.number] = page.text
        except ExtractorError:
            raise
        except Exception as exc:  # a PDF that opens but breaks while reading
            raise CorruptFile(f"unreadable page: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
        groups = rows_to_forms(rows)
        if not groups:
            raise NoFormsFound("no self-evaluation form (绩效自评表) found")
        forms = []
        for fr in groups:
            form = map_form(fr, engine=engine)
            form.findings = check_form(form, options.settings, page_text=_form_text(fr, page_text))
            forms.append(form)
        source = Source(path=str(path), sha256=sha256 or sha256_of(path), page_count=doc.page_count, doc_type=doc.doc_type)
        return DocumentResult(
            source=source,
            forms=forms,
            engine=engine,
            seconds=round(time.perf_counter() - started, 4),
            tool_version=__version__,
        )
    finally:
        doc.close()
