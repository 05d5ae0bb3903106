"""A batch: many inputs, one output folder, resumable, never stopped by one bad file."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .check import error_count
from .documents import sha256_of
from .errors import ExtractorError
from .models import DocumentResult
from .outputs import load_document_json, write_batch_tables, write_document_json, write_text_atomic
from .pipeline import ExtractOptions, extract_document

INPUT_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".txt", ".md", ".html", ".htm"}


@dataclass
class Outcome:
    path: Path
    name: str
    status: str  # ok | skipped | failed
    result: DocumentResult | None = None
    error: str | None = None
    error_type: str | None = None
    seconds: float = 0.0

    @property
    def pages(self) -> int:
        return self.result.source.page_count if self.result else 0

    @property
    def forms(self) -> int:
        return len(self.result.forms) if self.result else 0

    @property
    def forms_with_errors(self) -> int:
        return sum(1 for f in self.result.forms if error_count(f.findings)) if self.result else 0


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def line(self) -> str:
        done = [o for o in self.outcomes if o.status != "failed"]
        skipped = sum(1 for o in self.outcomes if o.status == "skipped")
        forms = [f for o in done if o.result for f in o.result.forms]
        poorly = sum(1 for f in forms if any(x.code == "read_poorly" for x in f.findings))
        text = (
            f"{len(self.outcomes)} documents ({skipped} unchanged, skipped; {len(self.failed)} failed), "
            f"{sum(o.pages for o in done)} pages, {len(forms)} forms, "
            f"{sum(o.forms_with_errors for o in done)} forms with error findings, "
            f"{poorly} read poorly, {self.seconds:.1f} s"
        )
        ran = [o.result.usage for o in self.outcomes if o.status == "ok" and o.result]
        if any(u.requests for u in ran):
            text += (
                f"; LLM: {sum(u.requests for u in ran)} requests, {sum(u.input_tokens for u in ran)} tokens in, "
                f"{sum(u.output_tokens for u in ran)} out"
            )
        spent = sum(1 for f in forms if any(x.code == "not_extracted" and "budget" in x.message for x in f.findings))
        if spent:
            text += f"; token budget spent: {spent} forms not sent"
        return text


def collect_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files as given (whatever their suffix, so a wrong file gets its own message)
    and, inside folders, every file with a supported suffix, sorted."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in INPUT_SUFFIXES and not f.name.startswith("."))
        else:
            out.append(p)
    seen: set[Path] = set()
    unique = []
    for p in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def output_names(files: list[Path]) -> dict[Path, str]:
    """`<stem>`, or `<stem>-<hash of the path>` where two inputs share a stem."""
    stems: dict[str, int] = {}
    for f in files:
        stems[f.stem] = stems.get(f.stem, 0) + 1
    return {
        f: f.stem if stems[f.stem] == 1 else f"{f.stem}-{hashlib.sha1(str(f.resolve()).encode()).hexdigest()[:8]}"
        for f in files
    }


def process_one(path: Path, name: str, out_dir: Path, options: ExtractOptions, force: bool) -> Outcome:
    started = time.perf_counter()
    target = out_dir / f"{name}.json"
    try:
        digest = sha256_of(path) if path.is_file() else None
        if not force and digest and target.exists():
            try:
                previous = load_document_json(target)
                if previous.source.sha256 == digest:
                    return Outcome(path, name, "skipped", previous, seconds=time.perf_counter() - started)
            except Exception:
                pass  # unreadable previous output: extract again
        result = extract_document(path, options, sha256=digest)
        write_document_json(result, target)
        return Outcome(path, name, "ok", result, seconds=time.perf_counter() - started)
    except ExtractorError as exc:
        return Outcome(path, name, "failed", error=str(exc), error_type=type(exc).__name__, seconds=time.perf_counter() - started)
    except Exception as exc:  # a bug must not lose the batch; report it as one line
        return Outcome(path, name, "failed", error=f"internal error: {type(exc).__name__}: {exc}", error_type="InternalError", seconds=time.perf_counter() - started)


def run_batch(
    files: list[Path],
    out_dir: Path,
    options: ExtractOptions,
    formats: Iterable[str] = ("json", "csv", "xlsx", "sqlite"),
    workers: int = 1,
    force: bool = False,
    on_done: Callable[[Outcome], None] | None = None,
) -> Summary:
    out_dir.mkdir(parents=True, exist_ok=True)
    names = output_names(files)
    summary = Summary()
    started = time.perf_counter()
    try:
        if workers > 1 and len(files) > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(process_one, f, names[f], out_dir, options, force) for f in files]
                for fut in futures:
                    outcome = fut.result()
                    summary.outcomes.append(outcome)
                    if on_done:
                        on_done(outcome)
        else:
            for f in files:
                outcome = process_one(f, names[f], out_dir, options, force)
                summary.outcomes.append(outcome)
                if on_done:
                    on_done(outcome)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        summary.seconds = time.perf_counter() - started
        finish_batch(summary, out_dir, formats)
    return summary


def finish_batch(summary: Summary, out_dir: Path, formats: Iterable[str]) -> None:
    """errors.json and the batch tables, from every document done in this run."""
    errors = [
        {"document": o.name, "path": str(o.path), "error": o.error, "type": o.error_type}
        for o in summary.outcomes
        if o.status == "failed"
    ]
    write_text_atomic(out_dir / "errors.json", json.dumps(errors, ensure_ascii=False, indent=1) + "\n")
    results = [(o.name, o.result) for o in summary.outcomes if o.result is not None]
    write_batch_tables(results, out_dir, [f for f in formats if f != "json"])
