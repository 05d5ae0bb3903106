"""The `extractor` command. Each command parses options and calls the library."""

from __future__ import annotations


import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .batch import Outcome, Summary, collect_inputs, counted, rewrite_tables, run_batch
from .check import error_count
from .review.decisions import recheck
from .read.documents import Limits, quiet_mupdf
from .errors import ConfigError, ExtractorError, translate
from .models import DocumentResult
from .io.outputs import FORMATS, load_document_json, result_files, write_document_json, write_text_atomic
from .llm.config import LLMConfig
from .pipeline import ExtractOptions, resolve_engine
from .settings import CheckSettings

app = typer.Typer(add_completion=False, no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]},
                  help="Read fiscal performance self-evaluation forms (绩效自评表) into checked records.")


from .review.commands import app as _review_app  # noqa: E402  (a command group of its own)

app.add_typer(_review_app, name="review")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"extractor {__version__}")
        raise typer.Exit()


@app.callback()
def _setup(version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                                 help="Print the version and exit.")] = False) -> None:
    # The command owns its output: MuPDF's own messages are kept, not printed, and a
    # damaged file is reported in one line (see documents.quiet_mupdf).
    quiet_mupdf()


def _err(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)


ModelOpt = Annotated[Optional[str], typer.Option("--model", help="LLM model name (or EXTRACTOR_MODEL).")]
ModeOpt = Annotated[str, typer.Option("--llm-mode", help="tools | json_schema | json, for servers that support only some.")]
VisionOpt = Annotated[bool, typer.Option("--vision/--no-vision", help="Send page images with the text.")]
DpiOpt = Annotated[int, typer.Option("--dpi", help="Resolution of the page images sent.")]
ConcOpt = Annotated[int, typer.Option("--llm-concurrency", min=1, help="LLM requests in flight.")]
BudgetOpt = Annotated[Optional[int], typer.Option("--max-tokens-per-run", help="Stop sending LLM requests after this many tokens.")]
AnswerOpt = Annotated[int, typer.Option("--max-tokens", min=256, help="Longest answer an LLM request may generate (always sent).")]
CacheOpt = Annotated[bool, typer.Option("--cache/--no-cache", help="Reuse earlier LLM answers for the same input.")]
class Shown(str, Enum):
    text = "text"
    json = "json"


class Lang(str, Enum):
    zh = "zh"
    en = "en"
    both = "both"


EngineOpt = Annotated[str, typer.Option(help="rules | auto | llm | llm-only (the LLM's reading alone, checked cell by cell)")]
ANSWER_TOKENS = LLMConfig.model_fields["max_tokens"].default


def _llm_config(model, mode, vision, dpi, concurrency, budget, cache, answer_tokens) -> LLMConfig:
    try:
        cfg = LLMConfig.from_env(model=model, mode=mode, vision=vision, dpi=dpi, concurrency=concurrency,
                                 max_tokens_per_run=budget, max_tokens=answer_tokens)
    except ConfigError as exc:  # (a setting from the environment that is no setting)
        _err(str(exc))
        raise typer.Exit(2) from None
    if not cache:
        cfg = cfg.model_copy(update={"cache_dir": None})
    return cfg


def _formats(value: str) -> list[str]:
    fmts = [f.strip() for f in value.split(",") if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad:
        raise typer.BadParameter(f"unknown format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}")
    return fmts


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(readable=False, help="PDFs, images, text exports, or folders of them.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("out"),
    engine: EngineOpt = "auto",
    fmt: Annotated[str, typer.Option("--format", help="Comma-separated: json,csv,xlsx,sqlite,parquet (parquet needs pyarrow).")] = "json,csv,xlsx,sqlite",
    workers: Annotated[int, typer.Option(min=1, help="Documents extracted in parallel (not with --ray: the cluster's CPUs).")] = 1,
    force: Annotated[bool, typer.Option(help="Re-extract documents whose output is up to date.")] = False,
    max_pages: Annotated[int, typer.Option(help="Refuse documents with more pages.")] = Limits.max_pages,
    max_bytes: Annotated[int, typer.Option(help="Refuse files larger than this many bytes.")] = Limits.max_bytes,
    page_seconds: Annotated[float, typer.Option(min=0, help="Stop a document whose page takes longer (0: no limit; not the LLM's requests, which have their own timeout).")] = Limits.page_seconds,
    max_memory: Annotated[float, typer.Option(min=0, help="Stop a document whose worker grows past this many GiB (0: no limit).")] = Limits.max_memory / 2**30,
    config: Annotated[Optional[Path], typer.Option(help="Checker settings (TOML).")] = None,
    model: ModelOpt = None,
    llm_mode: ModeOpt = "tools",
    vision: VisionOpt = True,
    dpi: DpiOpt = 110,
    llm_concurrency: ConcOpt = 2,
    max_tokens_per_run: BudgetOpt = None,
    max_tokens: AnswerOpt = ANSWER_TOKENS,
    cache: CacheOpt = True,
    ray: Annotated[bool, typer.Option("--ray", help="Run the batch on Ray: the cluster at --ray-address or RAY_ADDRESS, else a local one (the ray extra).")] = False,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", help="A Ray cluster's address (ray://host:10001, or host:6379 on a node); implies --ray.")] = None,
    output_format: Annotated[Shown, typer.Option("--output-format", help="The summary: a line on stderr (text), or also JSON on stdout (json: OUT/summary.json's run).")] = Shown.text,
) -> None:
    """Extract every form in the documents to OUT/<stem>.json and batch tables.

    The LLM engine is used (auto: only for forms the rules cannot read well) when
    OPENAI_BASE_URL/OPENAI_API_KEY and --model (or EXTRACTOR_MODEL) are set.

    Example: extractor extract fixtures/pdf/run_on.pdf reports/ -o out
    """
    formats = _formats(fmt)
    cluster = ray_address if ray_address else ("" if ray else None)
    missing = [need for need, wanted in (("pyarrow", "parquet" in formats), ("ray", cluster is not None)) if wanted and not _importable(need)]
    if missing:
        _err(f"{' and '.join(missing)} not installed: pip install 'fiscal-form-extractor[{'ray' if 'ray' in missing else 'parquet'}]'")
        raise typer.Exit(2)
    llm = _llm_config(model, llm_mode, vision, dpi, llm_concurrency, max_tokens_per_run, cache, max_tokens)
    try:
        running = resolve_engine(engine, llm)
        settings = CheckSettings.load(config)
    except ExtractorError as exc:
        _err(str(exc))
        raise typer.Exit(2)
    passed: list[Path] = []
    files = collect_inputs(paths, exclude=out, passed=passed)
    if not files:
        _err("no input files found")
        raise typer.Exit(2)
    options = ExtractOptions(engine=engine, limits=Limits(max_pages=max_pages, max_bytes=max_bytes, page_seconds=page_seconds or None,
                                                           max_memory=int(max_memory * 2**30) or None), settings=settings, llm=llm)
    try:
        with _terminate_as_interrupt():  # a `kill` ends the batch as Ctrl-C does: cleaned up, outputs kept
            summary = _run_reporting(files, out, options, formats, workers, force, cluster, passed)
    except OSError as exc:  # OUT is a file, not writable, or its disk is full
        _err(f"cannot write to {out}: {translate(exc, reading=False)}")
        raise typer.Exit(2)
    if engine == "auto" and running == "rules" and any(o.forms for o in summary.outcomes):  # (said, not silently done)
        typer.echo("note: no LLM endpoint is configured (OPENAI_BASE_URL, and --model or EXTRACTOR_MODEL): auto read "
                   "with the rules engine alone; the forms it could not read well are marked read_poorly", err=True)
    typer.echo(summary.line(), err=True)
    if output_format is Shown.json:
        typer.echo(json.dumps(summary.as_json(), ensure_ascii=False, indent=1))
    if summary.tables_error is not None:
        written = sum(1 for o in summary.outcomes if o.status not in ("failed", "no_form"))
        _err(f"the batch tables were not written ({translate(summary.tables_error, reading=False)}): none of them changed; "
             f"the result files of {written} document{'s' if written != 1 else ''} are in {out}; once there is room, "
             "the same command again writes them (it skips the documents already read)")
        raise typer.Exit(2)
    if summary.interrupted:
        typer.echo("interrupted: outputs of finished documents are kept", err=True)
        raise typer.Exit(130)
    if summary.failed or summary.damaged:
        raise typer.Exit(1)


def shown(path: Path) -> str:
    """A path on one line: a newline or other control character in a file's name is
    escaped, so that every document keeps its one line in the summary."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in str(path))


def _report(o: Outcome, tty: bool) -> None:
    """A line per document: always for a failure, for the others when not on a terminal
    (where the progress bar stands for them)."""
    if o.status == "failed":
        typer.echo(f"FAILED  {shown(o.path)}: {shown(o.error)}", err=True)
    elif o.status == "copy":
        typer.echo(f"COPY    {shown(o.path)}: {shown(o.error)}", err=True)
    elif o.status == "no_form":  # (read whole: not a failure, and not in the exit status)
        typer.echo(f"NO FORM {shown(o.path)}: {shown(o.error)}", err=True)
    elif not tty:
        flag = f", {o.forms_with_errors} with error findings" if o.forms_with_errors else ""
        flag += f"; {o.skipped_tables} other tables skipped" if o.skipped_tables else ""
        if o.stats is not None and o.stats.damage:  # read in part: it counts in the exit status
            typer.echo(f"DAMAGED {shown(o.path)}: {o.forms} form{'s' if o.forms != 1 else ''} read; {o.stats.damage}: forms may be missing", err=True)
            return
        typer.echo(f"{o.status:7} {shown(o.path)}: {counted(o.forms, 'form')}{flag} ({o.seconds:.2f} s)", err=True)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: signals are not ours to take
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _run_reporting(files: list[Path], out: Path, options: ExtractOptions, formats: list[str], workers: int, force: bool,
                   cluster: str | None = None, passed: list[Path] = ()) -> Summary:
    tty = sys.stderr.isatty()
    if not tty:
        return run_batch(files, out, options, formats, workers, force, lambda o: _report(o, tty), cluster, passed)
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("extracting", total=len(files))

        def on_done(o: Outcome) -> None:
            progress.advance(task)
            _report(o, tty)

        return run_batch(files, out, options, formats, workers, force, on_done, cluster, passed)


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(readable=False, help="Result JSON files or output folders.")],
    strict: Annotated[bool, typer.Option(help="Exit 1 when any error finding remains.")] = False,
    config: Annotated[Optional[Path], typer.Option(help="Checker settings (TOML).")] = None,
    overwrite_tables: Annotated[bool, typer.Option("--overwrite-tables", help="Write the tables again even where a person changed cells of them.")] = False,
) -> None:
    """Re-run the checker on results (e.g. after a person corrected a value) and rewrite their findings, and the tables of their folders.

    Example: extractor check out/ --strict
    """
    try:
        settings = CheckSettings.load(config)
    except ExtractorError as exc:
        _err(str(exc))
        raise typer.Exit(2)
    files = result_files(paths)
    if not files:
        _err("no result files to check: give an output folder of `extractor extract` or its JSON files")
        raise typer.Exit(2)
    if not overwrite_tables:  # (refused before anything is written: a correction in a table is never reverted)
        from .batch import table_edits
        from .io.edits import summary_line

        for folder in sorted({f.parent for f in files}):
            found = table_edits(folder)
            if found:
                _err(summary_line(found, folder))
                raise typer.Exit(2)
    errors = failed = 0
    rewritten: set[Path] = set()  # folders whose tables must follow their JSON files
    for f in files:
        try:
            result = load_document_json(f)
        except Exception as exc:
            _err(f"{f}: not a result file ({type(exc).__name__})")
            failed += 1
            continue
        for form in result.forms:
            # The checker recomputes its own findings; the others (grounding needs the
            # pages' text, triage and the pipeline ran at extraction) are kept, and so
            # are a reviewer's decisions on the findings still there.
            recheck(form, settings)
            errors += error_count(form.findings)
        write_document_json(result, f)
        rewritten.add(f.parent)
        typer.echo(f"{f}: {len(result.forms)} forms, {sum(error_count(x.findings) for x in result.forms)} error findings")
    for folder in sorted(rewritten):
        tables = rewrite_tables(folder, overwrite=True)
        if tables:
            typer.echo(f"{folder}: tables rewritten ({', '.join(t.name for t in tables)})")
    if failed or (strict and errors):
        raise typer.Exit(1)


@app.command("eval")
def eval_cmd(
    set_: Annotated[Optional[str], typer.Argument(metavar="[SET]", help="'fixtures' (default) or a manifest JSON.")] = None,
    engine: EngineOpt = "rules",
    report: Annotated[Optional[Path], typer.Option(help="Write the metrics JSON here (and .md beside it).")] = None,
    compare_to: Annotated[Optional[Path], typer.Option("--compare", help="A previous metrics JSON.")] = None,
    model: ModelOpt = None,
    llm_mode: ModeOpt = "tools",
    vision: VisionOpt = True,
    dpi: DpiOpt = 110,
    llm_concurrency: ConcOpt = 2,
    max_tokens_per_run: BudgetOpt = None,
    max_tokens: AnswerOpt = ANSWER_TOKENS,
    cache: CacheOpt = True,
) -> None:
    """Score an engine on an evaluation set and print the accuracy table.

    Example: extractor eval --report eval/reports/rules.json
    """
    from .evaluate import compare, evaluate, load_set, markdown

    llm = _llm_config(model, llm_mode, vision, dpi, llm_concurrency, max_tokens_per_run, cache, max_tokens)
    try:
        resolve_engine(engine, llm)
    except ExtractorError as exc:
        _err(str(exc))
        raise typer.Exit(2)
    try:
        docs = load_set(set_)
    except ExtractorError as exc:
        _err(str(exc))
        raise typer.Exit(2)
    result = evaluate(docs, engine=engine, llm=llm)
    table = markdown(result)
    typer.echo(table)
    if report:
        write_text_atomic(report, json.dumps(result, ensure_ascii=False, indent=1, default=str) + "\n")
        write_text_atomic(report.with_suffix(".md"), table + "\n")
    if compare_to:
        previous = json.loads(compare_to.read_text(encoding="utf-8"))
        typer.echo("\nCompared with " + str(compare_to) + ":")
        for line in compare(previous, result):
            typer.echo("  " + line)


@app.command()
def layout(
    document: Annotated[Path, typer.Argument(help="A PDF or image.")],
    page: Annotated[int, typer.Option(min=1, help="1-based page number.")] = 1,
    out: Annotated[Path, typer.Option("-o", "--out", help="PNG to write.")] = Path("layout.png"),
    dpi: Annotated[int, typer.Option(help="Resolution of the drawing.")] = 100,
) -> None:
    """Draw what the layout engine saw on one page: edges red, cells blue, words grey.

    Example: extractor layout fixtures/pdf/borderless.pdf --page 2 -o page2.png
    """
    from .layout.debug import draw_layout
    from .read.documents import open_document

    try:
        doc = open_document(document)
        try:
            if doc.kind == "text":
                raise ExtractorError("a text export has no page to draw")
            if page > doc.page_count:
                raise ExtractorError(f"the document has {doc.page_count} pages")
            seen = next(p for i, p in enumerate(doc.pages(), 1) if i == page)
            # A page read by OCR was laid out turned and deskewed: its words, not the scan, are the background.
            scanned = page in (doc.ocr_pages or {})
            png = draw_layout(None if scanned else doc.render(page, dpi), seen, dpi)
        finally:
            doc.close()
    except ExtractorError as exc:
        _err(f"{document}: {exc}")
        raise typer.Exit(1)
    out.write_bytes(png)
    typer.echo(f"{out}: {len(seen.tables)} tables, {sum(len(t.edges) for t in seen.tables)} edges, {len(seen.words)} words")


@app.command()
def schema(
    tables: Annotated[bool, typer.Option("--tables", help="The batch tables' data dictionary (Markdown) instead.")] = False,
) -> None:
    """Print the JSON Schema of a result file, or the batch tables' dictionary.

    Example: extractor schema > result.schema.json; extractor schema --tables
    """
    if tables:
        from .io.schema import dictionary_markdown

        typer.echo(dictionary_markdown(), nl=False)
        return
    typer.echo(json.dumps(DocumentResult.model_json_schema(), ensure_ascii=False, indent=1))


@app.command()
def explain(
    code: Annotated[Optional[str], typer.Argument(help="A finding code (the findings table's `code`); none: list them.")] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="The language.")] = Lang.both,
) -> None:
    """Say what a finding code means, how it was computed and what a reviewer does about it.

    Example: extractor explain execution_rate
    """
    from .explain import EXPLANATIONS, explain as explained

    if code is None:
        for c, e in EXPLANATIONS.items():
            typer.echo(f"{c.value:24} {e.zh if lang is Lang.zh else e.en}")
        return
    try:
        typer.echo(explained(code, lang.value))
    except ValueError as exc:
        _err(str(exc))
        raise typer.Exit(2)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # python -m extractor.cli
    app()
