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
from .batch import Outcome, Summary, collect_inputs, rewrite_tables, run_batch
from .messages import counted, pick, set_lang
from .check import error_count
from .review.decisions import recheck
from .read.documents import Limits, quiet_mupdf
from .errors import ConfigError, ExtractorError, chinese, in_chinese, translate
from .models import DocumentResult
from .io.outputs import FORMATS, load_document_json, result_files, write_document_json, write_text_atomic
from .llm.config import LLMConfig
from .pipeline import ExtractOptions, resolve_engine
from .settings import CheckSettings

# (rich markup named, not left to the Typer version's default: `\[default: …]` in a help text is escaped the same way in each)
app = typer.Typer(add_completion=False, no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]},
                  rich_markup_mode="rich", help="Read fiscal performance self-evaluation forms (绩效自评表) into checked records.")


def _plain_help_types() -> None:
    """Typer (0.2x) labels each option with its Python type in help: `<bool>` on every
    flag, `<list[Path]>` on an argument, `<str>` where no metavar was given. Flags get
    no label, arguments none beside their name, other options their name (`--port PORT`);
    metavars and choices (`DIR`, `zh|en`) stay."""
    from typer import core

    for cls in (getattr(core, "TyperOption", None), getattr(core, "TyperArgument", None)):
        shown = getattr(cls, "display_type_rich", None)
        if shown is None:  # (an older Typer: click's metavars already)
            continue

        def display(self, ctx, _shown=shown):
            label = _shown(self, ctx)
            if getattr(self, "is_flag", False):
                return None
            if label and label.startswith("<"):
                return None if isinstance(self, core.TyperArgument) else (self.name or "").upper()
            return label

        cls.display_type_rich = display


_plain_help_types()

from .review.commands import app as _review_app  # noqa: E402  (a command group of its own)

app.add_typer(_review_app, name="review")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"extractor {__version__}")
        raise typer.Exit()


class Lang(str, Enum):
    zh = "zh"
    en = "en"
    both = "both"


class MsgLang(str, Enum):
    zh = "zh"
    en = "en"


def _set_lang(ctx: typer.Context, value: Optional[MsgLang]) -> Optional[MsgLang]:
    if value is not None:
        set_lang(getattr(value, "value", value))
        ctx.meta["extractor.lang"] = True  # (the command's own setting: not reset by the group's callback)
    return value


# The language of messages: on the command (`extractor extract --lang zh`) or before it
# (`extractor --lang zh check`); EXTRACTOR_LANG, else the locale, by default.
LangOpt = Annotated[Optional[MsgLang], typer.Option("--lang", metavar="zh|en", callback=_set_lang, show_default=False,
                                                 rich_help_panel="Input and output", help="Messages' language (default: locale).")]


@app.callback()
def _setup(version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                                 help="Print the version and exit.")] = False,
           lang: LangOpt = None, ctx: typer.Context = None) -> None:
    # The command owns its output: MuPDF's own messages are kept, not printed, and a
    # damaged file is reported in one line (see documents.quiet_mupdf).
    if ctx is None or not ctx.meta.get("extractor.lang"):
        set_lang(None)  # (each run starts from the default: EXTRACTOR_LANG, else the locale)
    quiet_mupdf()


_LOG: list = []  # the --log file while a command writes to it


def _say(line: str, screen: bool = True) -> None:
    """A message line: on stderr (unless not for the `screen`), and in the --log file
    when one is given."""
    if screen:
        typer.echo(line, err=True)
    for fh in _LOG:
        fh.write(line + "\n")
        fh.flush()


def _err(msg: str, zh: str | None = None) -> None:
    """`error: …` (`错误：…` in Chinese, with the Chinese text where there is one)."""
    _say(pick(f"error: {msg}", f"错误：{zh or msg}"))


def _err_of(exc: ExtractorError, before: str = "") -> None:
    """An error of ours, in the language shown."""
    _err(before + str(exc), before + chinese(exc))


# Options in panels (`extract --help` fits a screen), each with a short metavar rather
# than its Python type.
INOUT, ENGINE, BUDGETS, CLUSTER = "Input and output", "Engine and LLM", "Budgets", "Cluster"
ModelOpt = Annotated[Optional[str], typer.Option("--model", metavar="NAME", rich_help_panel=ENGINE, show_default=False,
                                                 help="Or EXTRACTOR_MODEL.")]
ModeOpt = Annotated[str, typer.Option("--llm-mode", metavar="MODE", rich_help_panel=ENGINE,
                                      help="tools, json_schema or json.")]
VisionOpt = Annotated[bool, typer.Option("--vision/--no-vision", metavar="", rich_help_panel=ENGINE, show_default=False,
                                         help="Send page images (default).")]
DpiOpt = Annotated[int, typer.Option("--dpi", metavar="DPI", rich_help_panel=ENGINE, help="Page images' resolution.")]
ConcOpt = Annotated[int, typer.Option("--llm-concurrency", metavar="N", min=1, rich_help_panel=ENGINE,
                                      help="LLM requests in flight.")]
BudgetOpt = Annotated[Optional[int], typer.Option("--max-tokens-per-run", metavar="N", rich_help_panel=BUDGETS, show_default=False,
                                                  help="LLM tokens a run may spend.")]
AnswerOpt = Annotated[int, typer.Option("--max-tokens", metavar="N", min=256, rich_help_panel=ENGINE,
                                        help="Longest answer.")]
CacheOpt = Annotated[bool, typer.Option("--cache/--no-cache", metavar="", rich_help_panel=ENGINE, show_default=False,
                                        help="Reuse answers (default).")]


class Shown(str, Enum):
    text = "text"
    json = "json"


EngineOpt = Annotated[str, typer.Option(metavar="ENGINE", rich_help_panel=ENGINE,
                                        help="auto, rules, llm, llm-only.")]
ANSWER_TOKENS = LLMConfig.model_fields["max_tokens"].default


def _llm_config(model, mode, vision, dpi, concurrency, budget, cache, answer_tokens) -> LLMConfig:
    try:
        cfg = LLMConfig.from_env(model=model, mode=mode, vision=vision, dpi=dpi, concurrency=concurrency,
                                 max_tokens_per_run=budget, max_tokens=answer_tokens)
    except ConfigError as exc:  # (a setting from the environment that is no setting)
        _err_of(exc)
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
    paths: Annotated[list[Path], typer.Argument(readable=False, metavar="PATH", show_default=False,
                                                help="Documents (PDF, image, office, text export) or folders.")],
    out: Annotated[Path, typer.Option("-o", "--out", metavar="DIR", rich_help_panel=INOUT, help="Output folder.")] = Path("out"),
    engine: EngineOpt = "auto",
    fmt: Annotated[str, typer.Option("--format", metavar="LIST", rich_help_panel=INOUT, show_default=False,
                                     help="json,csv,xlsx,sqlite (default), parquet.")] = "json,csv,xlsx,sqlite",
    workers: Annotated[int, typer.Option(metavar="N", min=1, rich_help_panel=BUDGETS, help="Documents in parallel.")] = 1,
    force: Annotated[bool, typer.Option("--force", metavar="", rich_help_panel=INOUT, help="Read again what is up to date.")] = False,
    max_pages: Annotated[int, typer.Option(metavar="N", rich_help_panel=BUDGETS, help="Refuse longer documents.")] = Limits.max_pages,
    max_bytes: Annotated[int, typer.Option(metavar="BYTES", rich_help_panel=BUDGETS, show_default=False,
                                           help=r"Largest file. \[default: 512 MiB]")] = Limits.max_bytes,
    page_seconds: Annotated[float, typer.Option(metavar="SEC", min=0, rich_help_panel=BUDGETS, show_default=False,
                                                help=r"Per page (0: none). \[default: 60]")] = Limits.page_seconds,
    max_memory: Annotated[float, typer.Option(metavar="GIB", min=0, rich_help_panel=BUDGETS, show_default=False,
                                              help=r"Per worker (0: none). \[default: 4]")] = Limits.max_memory / 2**30,
    config: Annotated[Optional[Path], typer.Option(metavar="FILE", rich_help_panel=INOUT, show_default=False,
                                                   help="Checker settings (TOML).")] = None,
    model: ModelOpt = None,
    llm_mode: ModeOpt = "tools",
    vision: VisionOpt = True,
    dpi: DpiOpt = 110,
    llm_concurrency: ConcOpt = 2,
    max_tokens_per_run: BudgetOpt = None,
    max_tokens: AnswerOpt = ANSWER_TOKENS,
    cache: CacheOpt = True,
    ray: Annotated[bool, typer.Option("--ray", metavar="", rich_help_panel=CLUSTER,
                                      help="Run on Ray (RAY_ADDRESS, else a local one).")] = False,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", metavar="ADDR", rich_help_panel=CLUSTER, show_default=False,
                                                       help="A Ray cluster (ray://host:10001).")] = None,
    output_format: Annotated[Shown, typer.Option("--output-format", metavar="text|json", rich_help_panel=INOUT,
                                                 show_default=False, help="json: the summary on stdout.")] = Shown.text,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", metavar="", rich_help_panel=INOUT, help="Only failures and the summary.")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", metavar="", rich_help_panel=INOUT, help="A line per flagged form.")] = False,
    log: Annotated[Optional[Path], typer.Option("--log", metavar="FILE", rich_help_panel=INOUT, show_default=False,
                                                help="Also write every line to FILE.")] = None,
    no_form_ok: Annotated[bool, typer.Option("--no-form-ok", metavar="", rich_help_panel=INOUT,
                                             help="A document with no form (a 决算 report) leaves the exit status 0.")] = False,
    lang: LangOpt = None,
) -> None:
    """Extract every form of the documents to OUT: a JSON file each, and tables.

    The LLM reads what the rules cannot when OPENAI_BASE_URL and --model are set.

    Example: extractor extract reports/ -o out
    """
    formats = _formats(fmt)
    cluster = ray_address if ray_address else ("" if ray else None)
    missing = [need for need, wanted in (("pyarrow", "parquet" in formats), ("ray", cluster is not None)) if wanted and not _importable(need)]
    if missing:
        extra = "ray" if "ray" in missing else "parquet"
        _err(f"{' and '.join(missing)} not installed: pip install 'fiscal-form-extractor[{extra}]'",
             f"未安装 {'、'.join(missing)}：pip install 'fiscal-form-extractor[{extra}]'")
        raise typer.Exit(2)
    llm = _llm_config(model, llm_mode, vision, dpi, llm_concurrency, max_tokens_per_run, cache, max_tokens)
    try:
        running = resolve_engine(engine, llm)
        settings = CheckSettings.load(config)
    except ExtractorError as exc:
        _err_of(exc)
        raise typer.Exit(2)
    passed: list[Path] = []
    files = collect_inputs(paths, exclude=out, passed=passed)
    if not files:
        folders = ", ".join(str(p) for p in passed if p.is_dir())
        _err("no input files found" + (f" ({folders}: an output folder of extractor's, not read)" if folders else ""),
             "没有找到输入文件" + (f"（{folders}：extractor 的输出文件夹，不读取）" if folders else ""))
        raise typer.Exit(2)
    options = ExtractOptions(engine=engine, limits=Limits(max_pages=max_pages, max_bytes=max_bytes, page_seconds=page_seconds or None,
                                                           max_memory=int(max_memory * 2**30) or None), settings=settings, llm=llm)
    try:
        with _terminate_as_interrupt(), _logging_to(log):  # a `kill` ends the batch as Ctrl-C does: cleaned up, outputs kept
            summary = _run_reporting(files, out, options, formats, workers, force, cluster, passed, quiet, verbose)
            _summarise(summary, engine, running, output_format, out, no_form_ok)
    except OSError as exc:  # OUT is a file, not writable, or its disk is full
        _err_of(translate(exc, reading=False), pick(f"cannot write to {out}: ", f"无法写入 {out}："))
        raise typer.Exit(2)


def _summarise(summary: Summary, engine: str, running: str, output_format: Shown, out: Path, no_form_ok: bool = False) -> None:
    """The batch's closing lines and its exit status: 1 when a document failed, was read
    in part, or (unless --no-form-ok) held no form."""
    if engine == "auto" and running == "rules" and any(o.forms for o in summary.outcomes):  # (said, not silently done)
        _say(pick("note: no LLM endpoint is configured (OPENAI_BASE_URL, and --model or EXTRACTOR_MODEL): auto read "
                  "with the rules engine alone; the forms it could not read well are marked read_poorly",
                  "提示：未配置 LLM 服务（OPENAI_BASE_URL，及 --model 或 EXTRACTOR_MODEL）：auto 只用规则引擎读取；"
                  "读得不好的表标为 read_poorly"))
    _say(summary.line())
    if output_format is Shown.json:
        typer.echo(json.dumps(summary.as_json(), ensure_ascii=False, indent=1))
    if summary.tables_error is not None:
        written = sum(1 for o in summary.outcomes if o.status not in ("failed", "no_form"))
        why = translate(summary.tables_error, reading=False)
        _err(f"the batch tables were not written ({why}): none of them changed; "
             f"the result files of {counted(written, 'document', 'en')} are in {out}; once there is room, "
             "the same command again writes them (it skips the documents already read)",
             f"批量表格未写出（{chinese(why)}）：表格都未改变；"
             f"{written} 份文件的结果在 {out}；有空间后再运行同一命令即可写出（已读的文件会跳过）")
        raise typer.Exit(2)
    if summary.interrupted:
        _say(pick("interrupted: outputs of finished documents are kept", "已中断：已完成文件的输出都保留"))
        raise typer.Exit(130)
    no_form = not no_form_ok and any(o.status == "no_form" for o in summary.outcomes)
    if summary.failed or summary.damaged or no_form:
        raise typer.Exit(1)


def shown(path: Path) -> str:
    """A path on one line: a newline or other control character in a file's name is
    escaped, so that every document keeps its one line in the summary."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in str(path))


@contextmanager
def _logging_to(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    with open(path, "a", encoding="utf-8") as fh:
        _LOG.append(fh)
        try:
            yield
        finally:
            _LOG.remove(fh)


# A document's line starts with its status, in the language shown.
STATUS_WORDS = {"failed": ("FAILED", "失败"), "copy": ("COPY", "副本"), "no_form": ("NO FORM", "无自评表"),
                "damaged": ("DAMAGED", "受损"), "ok": ("ok", "完成"), "skipped": ("skipped", "未变")}


def _status(status: str) -> str:
    en, zh = STATUS_WORDS[status]
    return pick(f"{en:7}", zh)


def _error_text(o: Outcome) -> str:
    return shown(pick(o.error or "", in_chinese(o.error or "", o.error_zh, o.error_type)))


def _report(o: Outcome, tty: bool, quiet: bool = False, verbose: bool = False) -> None:
    """A line per document: always for a failure, for the others when not on a terminal
    (where the progress bar stands for them) and not --quiet; the --log file has them all."""
    if o.status in ("failed", "copy", "no_form"):  # (no form: read whole, not a failure; in the exit status unless --no-form-ok)
        _say(f"{_status(o.status)} {shown(o.path)}: {_error_text(o)}")
    elif o.stats is not None and o.stats.damage:  # read in part: it counts in the exit status
        _say(f"{_status('damaged')} {shown(o.path)}: " + pick(f"{counted(o.forms, 'form')} read; {o.stats.damage}: forms may be missing",
                                                            f"读出 {counted(o.forms, 'form')}；{o.stats.damage}：可能缺表"))
    else:
        flag = pick(f", {o.forms_with_errors} with error findings", f"，{o.forms_with_errors} 张有错误发现") if o.forms_with_errors else ""
        flag += pick(f"; {o.skipped_tables} other tables skipped", f"；跳过其他表格 {o.skipped_tables} 张") if o.skipped_tables else ""
        _say(f"{_status(o.status)} {shown(o.path)}: {counted(o.forms, 'form')}{flag}" + pick(f" ({o.seconds:.2f} s)", f"（{o.seconds:.2f} 秒）"),
             screen=not (tty or quiet) or verbose)
    if verbose and o.stats is not None:  # (-v: each flagged form, its place, name and what was found)
        for place, label, codes in o.stats.flagged_forms:
            _say(f"        {pick('form', '表')} {place} {shown(Path(label or '?'))}: {', '.join(codes)}")


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
                   cluster: str | None = None, passed: list[Path] = (), quiet: bool = False, verbose: bool = False) -> Summary:
    tty = sys.stderr.isatty()
    if not tty or quiet or verbose:
        return run_batch(files, out, options, formats, workers, force, lambda o: _report(o, tty, quiet, verbose), cluster, passed)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    # On stderr with the lines (stdout is the summary's with --output-format json): n/N, the
    # last file done, the time left
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("", total=len(files))

        def on_done(o: Outcome) -> None:
            progress.update(task, advance=1, description=shown(Path(o.path.name)))
            _report(o, tty)

        return run_batch(files, out, options, formats, workers, force, on_done, cluster, passed)


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(readable=False, help="Result JSON files or output folders.")],
    strict: Annotated[bool, typer.Option(help="Exit 1 when an error finding no reviewer decided remains.")] = False,
    config: Annotated[Optional[Path], typer.Option(help="Checker settings (TOML).")] = None,
    overwrite_tables: Annotated[bool, typer.Option("--overwrite-tables", help="Write the tables again even where a person changed cells of them.")] = False,
    lang: LangOpt = None,
) -> None:
    """Re-run the checker on results (e.g. after a person corrected a value) and rewrite their findings, and the tables of their folders.

    Example: extractor check out/ --strict
    """
    try:
        settings = CheckSettings.load(config)
    except ExtractorError as exc:
        _err_of(exc)
        raise typer.Exit(2)
    files = result_files(paths)
    if not files:
        _err("no result files to check: give an output folder of `extractor extract` or its JSON files",
             "没有可检查的结果文件：请给出 extractor extract 的输出文件夹或其中的 JSON 文件")
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
        except OSError as exc:  # missing, a folder, not readable
            _err_of(translate(exc), f"{f}: ")
            failed += 1
            continue
        except Exception as exc:
            json_ = isinstance(exc, ValueError) and not hasattr(exc, "errors")
            _err(f"{f}: not a result file of extractor extract ({'not JSON' if json_ else 'not a result' + chr(39) + 's shape'})",
                 f"{f}：不是 extractor extract 的结果文件（{'不是 JSON' if json_ else '不是结果的结构'}）")
            failed += 1
            continue
        for form in result.forms:
            # The checker recomputes its own findings; the others (grounding needs the
            # pages' text, triage and the pipeline ran at extraction) are kept, and so
            # are a reviewer's decisions on the findings still there.
            recheck(form, settings)
            # (--strict: a finding a reviewer confirmed or dismissed is decided, not open)
            errors += sum(1 for x in form.findings if x.severity == "error" and x.decision is None)
        write_document_json(result, f)
        rewritten.add(f.parent)
        found = sum(error_count(x.findings) for x in result.forms)
        typer.echo(f"{f}: " + pick(f"{counted(len(result.forms), 'form')}, {counted(found, 'error finding')}",
                                   f"{counted(len(result.forms), 'form')}，{found} 条错误发现"))
    for folder in sorted(rewritten):
        tables = rewrite_tables(folder, overwrite=True)
        if tables:
            names = ", ".join(t.name for t in tables)
            typer.echo(f"{folder}: " + pick(f"tables rewritten ({names})", f"表格已重写（{names}）"))
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
    lang: LangOpt = None,
) -> None:
    """Score an engine on an evaluation set and print the accuracy table.

    Example: extractor eval --report eval/reports/rules.json
    """
    from .evaluate import compare, evaluate, load_set, markdown

    llm = _llm_config(model, llm_mode, vision, dpi, llm_concurrency, max_tokens_per_run, cache, max_tokens)
    try:
        resolve_engine(engine, llm)
        docs = load_set(set_)
    except ExtractorError as exc:
        _err_of(exc)
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
    lang: LangOpt = None,
) -> None:
    """Draw what the layout engine saw on one page: edges red, cells blue, words grey.

    Example: extractor layout fixtures/pdf/borderless.pdf --page 2 -o page2.png
    """
    from .layout.debug import draw_layout
    from .read.documents import open_document

    if not out.parent.is_dir():
        _err(f"{out.parent} is not a folder: give -o a PNG path in a folder that exists",
             f"{out.parent} 不是文件夹：-o 请给出已存在文件夹中的 PNG 路径")
        raise typer.Exit(2)
    try:
        doc = open_document(document)
        try:
            if doc.kind == "text":
                raise ExtractorError("a text export has no page to draw", zh="文本导出没有页面可画")
            if doc.kind in ("sheet", "word"):
                raise ExtractorError("a workbook or Word file is read by its cells, not laid out from a page: "
                                     "layout draws the pages of PDFs and images (print it to PDF to see one)",
                                     zh="工作簿或 Word 文件按单元格读取，不按页面排版：layout 只画 PDF 和图片的页面（可先打印为 PDF）")
            if page > doc.page_count:
                raise ExtractorError(f"the document has {doc.page_count} pages", zh=f"文件只有 {doc.page_count} 页")
            seen = next(p for i, p in enumerate(doc.pages(), 1) if i == page)
            # A page read by OCR was laid out turned and deskewed: its words, not the scan, are the background.
            scanned = page in (doc.ocr_pages or {})
            png = draw_layout(None if scanned else doc.render(page, dpi), seen, dpi)
        finally:
            doc.close()
    except ExtractorError as exc:
        _err_of(exc, f"{document}: ")
        raise typer.Exit(1)
    from .io.atomic import atomic_path

    try:
        with atomic_path(out) as tmp:
            tmp.write_bytes(png)
    except OSError as exc:
        _err_of(translate(exc, reading=False), pick(f"cannot write {out}: ", f"无法写入 {out}："))
        raise typer.Exit(2)
    edges = sum(len(t.edges) for t in seen.tables)
    typer.echo(f"{out}: " + pick(f"{counted(len(seen.tables), 'table')}, {counted(edges, 'edge')}, {counted(len(seen.words), 'word')}",
                                 f"{len(seen.tables)} 张表格，{edges} 条边线，{len(seen.words)} 个词"))


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
    """Print the version.

    Example: extractor version
    """
    typer.echo(__version__)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # python -m extractor.cli
    app()
