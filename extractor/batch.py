"""A batch: many inputs, one output folder, resumable, never stopped by one bad file."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ReviewLogError, TablesEdited
from .executors import outcomes
from .io.outputs import BatchTables, load_document_json, remove_leftovers, result_files, write_text_atomic
from .io.report import batch_summary, write_report
from .io.rows import DocRef, document_row
from .jobs import Outcome
from .messages import counted, pick
from .naming import Naming, name_documents, real
from .pipeline import DocumentStats, ExtractOptions
from .read.documents import INPUT_SUFFIXES


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    earlier: int = 0  # documents already in OUT, not read this run, whose rows the tables keep
    renamed: list[str] = field(default_factory=list)  # inputs named apart from another document in OUT
    copies: dict[Path, Path] = field(default_factory=dict)  # inputs with the bytes of another input: read once
    tables_error: OSError | None = None  # why the batch tables (all or none) were not written
    review_log: str | None = None  # why OUT's review log could not be read (its decisions not applied)
    passed_over: Counter = field(default_factory=Counter)  # files in the folders given, of types not read, by suffix
    output_folders: list[Path] = field(default_factory=list)  # the tool's output folders inside the folders given: not read

    def as_json(self) -> dict:
        """What this run did, for summary.json and `--output-format json`."""
        done = [o.stats for o in self.outcomes if o.stats is not None]
        return {
            "line": self.line("en"), "seconds": round(self.seconds, 3), "interrupted": self.interrupted,
            "documents": len(self.outcomes),
            "statuses": dict(Counter(o.status for o in self.outcomes)),
            "failed": [{"path": str(o.path), "error": o.error} for o in self.failed],
            "pages": sum(d.page_count for d in done), "forms": sum(d.forms for d in done),
            "forms_with_errors": sum(d.forms_with_errors for d in done), "read_poorly": sum(d.read_poorly for d in done),
            "llm": {"requests": sum(d.usage.requests for d in done), "input_tokens": sum(d.usage.input_tokens for d in done),
                    "output_tokens": sum(d.usage.output_tokens for d in done)},
            "passed_over": dict(self.passed_over), "output_folders_left_out": [str(p) for p in self.output_folders],
            "earlier": self.earlier,
            "timings": [{"document": o.name, "status": o.status, "seconds": round(o.seconds, 3), "pages": o.pages}
                        for o in self.outcomes],
            "tables_error": str(self.tables_error) if self.tables_error else None,
        }

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def damaged(self) -> list[Outcome]:
        """Documents read in part: MuPDF could not read all of them, forms may be missing."""
        return [o for o in self.outcomes if o.stats is not None and o.stats.damage]

    def line(self, language: str | None = None) -> str:
        """The run in one line, in the language shown (or `language`)."""
        def t(en: str, zh: str) -> str:
            return pick(en, zh, language)

        def n_of(n: int, word: str) -> str:
            return counted(n, word, language)

        done = [o.stats for o in self.outcomes if o.stats is not None]
        skipped = sum(1 for o in self.outcomes if o.status == "skipped")
        no_form = sum(1 for o in self.outcomes if o.status == "no_form")
        parts = [t(f"{skipped} unchanged, skipped", f"{skipped} 份未变、跳过"), t(f"{len(self.failed)} failed", f"{len(self.failed)} 份失败")]
        if self.damaged:
            parts.append(t(f"{len(self.damaged)} damaged, read in part", f"{len(self.damaged)} 份受损、部分读取"))
        if no_form:
            parts.append(t(f"{no_form} with no self-evaluation form", f"{no_form} 份无自评表"))
        paren = t(f" ({'; '.join(parts)})", f"（{'；'.join(parts)}）")
        text = t(", ", "，").join([
            n_of(len(self.outcomes), "document") + paren,
            n_of(sum(d.page_count for d in done), "page"), n_of(sum(d.forms for d in done), "form"),
            t(f"{n_of(sum(d.forms_with_errors for d in done), 'form')} with error findings",
              f"{sum(d.forms_with_errors for d in done)} 张表有错误发现"),
            t(f"{sum(d.read_poorly for d in done)} read poorly", f"{sum(d.read_poorly for d in done)} 张表读得不好"),
            t(f"{self.seconds:.1f} s", f"{self.seconds:.1f} 秒"),
        ])
        sep = t("; ", "；")
        again = Counter(o.again for o in self.outcomes if o.again)
        if again:
            text += sep + t("read again: ", "重新读取：") + ", ".join(f"{n} ({why})" for why, n in again.most_common())
        ran = [o.stats.usage for o in self.outcomes if o.status == "ok" and o.stats]
        sent = sum((o.stats.sent for o in self.outcomes if o.status == "ok" and o.stats), Counter())
        if sent:
            reasons = ", ".join(f"{n} {why}" for why, n in sent.most_common())
            text += sep + t(f"{sum(sent.values())} forms sent to the LLM ({reasons})", f"{sum(sent.values())} 张表交给 LLM（{reasons}）")
        if any(u.requests for u in ran):
            requests, tin, tout = (sum(u.requests for u in ran), sum(u.input_tokens for u in ran), sum(u.output_tokens for u in ran))
            text += sep + t(f"LLM: {requests} requests, {tin} tokens in, {tout} out",
                            f"LLM：{requests} 次请求，输入 {tin} 令牌，输出 {tout} 令牌")
        conflicts, misplaced = sum(d.conflicts for d in done), sum(d.misplaced for d in done)
        if conflicts or misplaced:
            text += sep + t(f"{misplaced} values not the ones their cells print, {conflicts} engine conflicts (error findings)",
                            f"{misplaced} 个值与其单元格所印不符，{conflicts} 处引擎冲突（错误发现）")
        ran_again = [o.stats for o in self.outcomes if o.status == "ok" and o.stats and o.stats.reviewed]
        if ran_again:
            applied, clashing = sum(d.reviewed for d in ran_again), sum(d.review_conflicts for d in ran_again)
            text += sep + t(f"reviewers' decisions applied again to {applied} forms, {clashing} conflicts (not applied: what "
                            "they decided on reads differently now, or was decided on another version of the document; "
                            "extractor review shows them)",
                            f"审核决定重新应用于 {applied} 张表，{clashing} 处冲突（未应用：所审核的内容现在读得不同，"
                            "或是在文件的另一版本上决定的；extractor review 可查看）")
        spent = sum(d.budget_spent for d in done)
        if spent:
            text += sep + t(f"token budget spent: {spent} forms not sent", f"令牌预算已用完：{spent} 张表未发送")
        if self.passed_over:
            kinds = ", ".join(f"{n} {suffix}" for suffix, n in self.passed_over.most_common(6))
            text += sep + t(f"{n_of(sum(self.passed_over.values()), 'file')} in the folders of types not read ({kinds})",
                            f"文件夹中有 {n_of(sum(self.passed_over.values()), 'file')}属于不读取的类型（{kinds}）")
        if self.output_folders:
            shown = ", ".join(map(str, self.output_folders[:3])) + (" …" if len(self.output_folders) > 3 else "")
            text += sep + t(f"left out {len(self.output_folders)} output folder{'s' if len(self.output_folders) != 1 else ''} "
                            f"of extractor's ({shown})", f"略过 {len(self.output_folders)} 个 extractor 的输出文件夹（{shown}）")
        if self.review_log:
            text += sep + t("reviewers' decisions not applied: ", "审核决定未应用：") + self.review_log
        if self.renamed:
            more = len(self.renamed) - 3
            text += sep + t("named apart from another document in the output folder: ", "与输出文件夹中另一文件区别命名：") \
                + "; ".join(self.renamed[:3]) + (t(f" (and {more} more)", f"（另有 {more} 个）") if more > 0 else "")
        if self.copies:
            text += sep + t(f"{n_of(len(self.copies), 'file')} with the same bytes as another input, read once",
                            f"{n_of(len(self.copies), 'file')}与另一输入字节相同，只读一次")
        if self.earlier:
            text += sep + t(f"the tables also hold {n_of(self.earlier, 'document')} already in the output folder",
                            f"表格还包含输出文件夹中已有的 {n_of(self.earlier, 'document')}")
        return text


def collect_inputs(paths: Iterable[Path], exclude: Path | None = None, passed: list[Path] | None = None) -> list[Path]:
    """Files as given (whatever their suffix, so a wrong file gets its own message)
    and, inside folders, every file with a supported suffix, sorted — not those inside
    `exclude` (the output folder: its forms.xlsx is no report) nor inside another output
    folder of the tool's. `passed` gets the files of folders left out, and the output
    folders left out (said on the summary line and listed, not silently)."""
    skip = real(exclude) if exclude is not None else None
    out: list[Path] = []
    for p in paths:
        if not p.is_dir():
            out.append(p)
            continue
        found: list[Path] = []
        for root, dirs, names in os.walk(p):
            here = Path(root)
            ours = skip is not None and real(here).is_relative_to(skip)
            if ours or is_output_folder(here):
                if passed is not None and not ours:  # (another output folder of the tool's: said)
                    passed.append(here)
                dirs[:] = []
                continue
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                f = here / name
                if name.startswith(".") or not f.is_file():
                    continue
                if f.suffix.lower() in INPUT_SUFFIXES:
                    found.append(f)
                elif passed is not None:
                    passed.append(f)
        out.extend(sorted(found))
    if passed is not None:
        passed.sort()
    seen: set[Path] = set()
    unique = []
    for p in out:
        key = real(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def is_output_folder(folder: Path) -> bool:
    """A folder `extractor extract` wrote: its results are no report to read."""
    return (folder / "errors.json").is_file() and any((folder / f).is_file() for f in ("tables.sha256", "summary.json", "forms.csv"))


def review_log_problem(out_dir: Path) -> str | None:
    """Why OUT's review log cannot be read (None: it can, or there is none)."""
    from .review.store import ReviewLog

    try:
        log = ReviewLog.existing(out_dir)
    except ReviewLogError as exc:
        return str(exc)
    if log is not None:
        log.close()
    return None


def run_batch(
    files: list[Path],
    out_dir: Path,
    options: ExtractOptions,
    formats: Collection[str] = ("json", "csv", "xlsx", "sqlite"),
    workers: int = 1,
    force: bool = False,
    on_done: Callable[[Outcome], None] | None = None,
    cluster: str | None = None,
    passed: Collection[Path] = (),
) -> Summary:
    """Every file into OUT. `cluster`: run on Ray (its address; "" for a local Ray).
    `passed`: the files of folders given that are of types not read (listed, not read)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    folders = [p for p in passed if p.is_dir()]  # other output folders of the tool's
    passed = [p for p in passed if not p.is_dir()]
    summary = Summary(passed_over=Counter(p.suffix.lower() or "(no suffix)" for p in passed), output_folders=folders)
    naming = name_documents(files, out_dir, options.limits.max_bytes)
    names, summary.renamed, summary.copies = naming.names, naming.renamed, naming.copies
    files = [f for f in files if f in names]  # (a copy of another input is read once)
    if on_done:
        for copy, first in naming.copies.items():  # (each input has its line)
            on_done(Outcome(copy, names[first], "copy", error=f"the same bytes as {first}: read once, as {names[first]}",
                            error_zh=f"与 {first} 字节相同：只读一次，作为 {names[first]}"))
    summary.review_log = review_log_problem(out_dir)
    tables = BatchTables(out_dir)
    for p in passed:
        tables.add_document(document_row(str(p), str(p), "skipped", error="a file of a type not read"))
    started = time.perf_counter()

    def done(outcome: Outcome) -> None:
        with uninterrupted():  # (rows taken in whole and the outcome noted, or neither: never rows twice)
            note(outcome)

    def note(outcome: Outcome) -> None:
        # A failed document's partial rows are dropped with its staging file.
        staged = tables.staging_file(outcome.name)
        read = outcome.status not in ("failed", "no_form")
        if not read or summary.tables_error is not None:
            staged.unlink(missing_ok=True)
        if summary.tables_error is None:
            try:
                if read:
                    tables.take(staged)
                tables.add_document(outcome_row(outcome, options.engine, naming))
            except OSError as exc:  # (a full disk: the batch goes on; the tables are not written, and it says so)
                summary.tables_error = exc
        summary.outcomes.append(outcome)
        if on_done:
            on_done(outcome)

    try:
        with closing(outcomes(files, names, out_dir, options, force, tables, workers, cluster)) as each:
            for outcome in each:  # (closed when interrupted: its workers are stopped)
                done(outcome)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        summary.seconds = time.perf_counter() - started
        try:
            try:
                if any(fmt in formats for fmt, _ in TABLE_FILES) and summary.tables_error is None:  # (JSON alone: no tables)
                    summary.earlier = add_earlier_documents(out_dir, tables, {o.name for o in summary.outcomes})
                finish_batch(summary, out_dir, formats, tables)
            except OSError as exc:  # (a full disk: the documents' result files stand; no table was written)
                summary.tables_error = summary.tables_error or exc
        finally:
            tables.close()
            remove_leftovers(out_dir)  # what workers stopped mid-document were writing
    return summary


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Ctrl-C and `kill` held back until the block is done (delivered right after)."""
    signals = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    except (AttributeError, ValueError, OSError):  # (not POSIX, or not the main thread)
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def add_earlier_documents(out_dir: Path, tables: BatchTables, this_run: set[str]) -> int:
    """The rows of the documents whose JSON is already in OUT and that this run did not
    read (an earlier run's, from other inputs): the tables are of every document in the
    folder, so extracting one more report into it adds its rows to the others' rather
    than replacing them. A document this run read — failed included — counts as read."""
    added = 0
    for path in result_files([out_dir]):
        if path.stem in this_run:
            continue
        try:
            result = load_document_json(path)
        except Exception:
            continue  # not a result file of ours
        ref = DocRef(path.stem, result.source.sha256, result.source.path)
        for i, form in enumerate(result.forms, 1):
            tables.add(ref, i, form)
        tables.add_document(document_row(path.stem, result.source.path, "read", result.source.sha256,
                                         DocumentStats.of(result), engine=result.engine))
        added += 1
    return added


def outcome_row(outcome: Outcome, engine: str, naming: Naming) -> dict:
    """The `documents` row of a document this run read (or failed to), with the inputs
    that have its bytes by other paths (read once)."""
    # (stopped by a budget or a crash before the worker said: the hash taken to name it)
    digest = outcome.sha256 or (outcome.stats.sha256 if outcome.stats else None) or naming.digests.get(outcome.path)
    status = {"ok": "read", "skipped": "read"}.get(outcome.status, outcome.status)
    others = [str(p) for p in naming.others.get(outcome.path, [])]
    ran = outcome.stats.engine if outcome.stats is not None and outcome.stats.engine else engine
    return document_row(outcome.name, str(outcome.path), status, digest, outcome.stats, outcome.error, ran, others)


def earlier_failures(out_dir: Path, tables: BatchTables, listed: set[str]) -> None:
    """The documents the last run's errors.json lists (failed, or no form), not in `listed`."""
    try:
        errors = json.loads((out_dir / "errors.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for e in errors if isinstance(errors, list) else []:
        if not isinstance(e, dict) or e.get("document") in listed:
            continue
        status = "no_form" if e.get("status") == "no_form" else "failed"
        tables.add_document(document_row(str(e.get("document")), str(e.get("path")), status, e.get("sha256"),
                                         error=e.get("error")))


TABLE_FILES = (("csv", "forms.csv"), ("xlsx", "forms.xlsx"), ("sqlite", "forms.sqlite"), ("parquet", "forms.parquet"))


def tables_of(out_dir: Path) -> BatchTables:
    """OUT's tables made from its result files (the caller closes them)."""
    tables = BatchTables(out_dir)
    add_earlier_documents(out_dir, tables, set())
    return tables


def table_edits(out_dir: Path, tables: BatchTables | None = None) -> list:
    """Cells a person changed in OUT's tables since the tool wrote them (io.edits);
    `tables`: OUT's tables as its result files make them (made here when not given)."""
    from .io.edits import EDITABLE, changed_files, edits

    changed = changed_files(out_dir)
    if not changed:
        return []
    made = tables if tables is not None else tables_of(out_dir)
    try:
        return edits(changed, {t: list(made.rows(t)) for t in EDITABLE})
    finally:
        if tables is None:
            made.close()


def rewrite_tables(out_dir: Path, overwrite: bool = False) -> list[Path]:
    """The folder's tables made again from its JSON files, in the formats it has (after
    `extractor check`: a corrected value and its findings reach the tables too), and
    its report. TablesEdited where a person changed cells of them (unless `overwrite`)."""
    formats = [fmt for fmt, name in TABLE_FILES if (out_dir / name).exists()]
    if not formats:
        return []
    tables = tables_of(out_dir)
    try:
        if not overwrite and (found := table_edits(out_dir, tables)):
            from .io.edits import summary_line

            raise TablesEdited(summary_line(found, out_dir))
        earlier_failures(out_dir, tables, {p.stem for p in result_files([out_dir])})
        summary = batch_summary(tables, _recorded_run(out_dir))
        written = tables.write(out_dir, formats, summary)
        write_report(summary, out_dir)
        return written
    finally:
        tables.close()


def finish_batch(summary: Summary, out_dir: Path, formats: Iterable[str], tables: BatchTables) -> None:
    """errors.json (this run's failures) and the batch tables."""
    errors = [
        {"document": o.name, "path": str(o.path), "error": o.error, "type": o.error_type, "status": o.status,
         "sha256": o.sha256}
        for o in summary.outcomes
        if o.status in ("failed", "no_form")  # (a document with no form is listed too)
    ]
    write_text_atomic(out_dir / "errors.json", json.dumps(errors, ensure_ascii=False, indent=1) + "\n")
    table_formats = [f for f in formats if f != "json"]
    if summary.tables_error is None and table_formats:
        counts = batch_summary(tables, summary.as_json())  # (the workbook's 汇总 and summary.json: one count)
        tables.write(out_dir, table_formats, counts)
        write_report(counts, out_dir)


def _recorded_run(out_dir: Path) -> dict:
    """What the run that made OUT's summary.json said of itself (its line, timings): kept
    when the report is written again after `extractor check`."""
    try:
        return json.loads((out_dir / "summary.json").read_text(encoding="utf-8")).get("run", {})
    except (OSError, ValueError, AttributeError):
        return {}
