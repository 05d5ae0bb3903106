"""One document to OUT: the unit every executor runs (executors.py: in this process,
in guarded worker processes, on Ray), and what it came to (an Outcome)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import NoFormsFound, ReviewLogError, first_line, translate
from .fingerprint import Fingerprint, fingerprint_of
from .io.outputs import load_document_json, write_form_rows
from .io.rows import DocRef
from .models import DocumentResult
from .pipeline import DocumentStats, ExtractOptions, Remote, extract_to_json
from .read.documents import sha256_of


@dataclass
class Outcome:
    path: Path
    name: str
    # ok | skipped | no_form (read whole, no self-evaluation form in it) | failed | copy (the
    # bytes of another input: told, not read, not among the summary's outcomes)
    status: str
    stats: DocumentStats | None = None
    error: str | None = None  # (English, as errors.json keeps it)
    error_type: str | None = None
    error_zh: str | None = None  # the error's own Chinese text, where it has one (messages.py)
    seconds: float = 0.0
    again: str | None = None  # why a document already in OUT was read again (what changed)
    sha256: str | None = None  # the file's bytes', where they were read

    @property
    def pages(self) -> int:
        return self.stats.page_count if self.stats else 0

    @property
    def forms(self) -> int:
        return self.stats.forms if self.stats else 0

    @property
    def forms_with_errors(self) -> int:
        return self.stats.forms_with_errors if self.stats else 0

    @property
    def skipped_tables(self) -> int:
        return self.stats.skipped if self.stats else 0


def process_one(path: Path, name: str, out_dir: Path, options: ExtractOptions, force: bool,
                rows_to: Path | None = None, remote: Remote | None = None, decisions: list | None = None) -> Outcome:
    """One document to `OUT/<name>.json`; its batch-table rows to `rows_to` (a
    staging file the batch takes in when this returns: workers share no memory).
    `decisions`: a reviewer's decisions to apply again (default: OUT's review log)."""
    started = time.perf_counter()
    target = out_dir / f"{name}.json"
    rows = open(rows_to, "w", encoding="utf-8") if rows_to else None
    counter = itertools.count(1)  # a form's place in its document
    digest = None

    def on_form(form) -> None:
        if rows:
            recorded = remote.recorded if remote is not None and remote.recorded else str(path)
            write_form_rows(rows, DocRef(name, digest or "", recorded), next(counter), form)

    try:
        digest = sha256_of(path) if path.is_file() else None
        again = None
        if not force and digest and target.exists():
            previous, again = unchanged(target, fingerprint_of(digest, options))
            if previous is not None:
                return Outcome(path, name, "skipped", DocumentStats.of(previous, on_form), seconds=time.perf_counter() - started,
                               sha256=digest)
        amend = applying(decisions_for(out_dir, digest, name) if decisions is None else decisions, options,
                         fingerprint_of(digest, options) if digest else None)
        stats = extract_to_json(path, target, options, sha256=digest, on_form=on_form, amend=amend, remote=remote)
        return Outcome(path, name, "ok", stats, seconds=time.perf_counter() - started, again=again, sha256=digest)
    except Exception as exc:  # a bug must not lose the batch either: it is one line too
        known = translate(exc)
        if known is None:
            return Outcome(path, name, "failed", error=f"internal error: {type(exc).__name__}: {first_line(exc)}",
                           error_type="InternalError", seconds=time.perf_counter() - started, sha256=digest)
        status = "no_form" if isinstance(known, NoFormsFound) and "damaged" not in str(known) else "failed"
        return Outcome(path, name, status, error=str(known), error_type=type(known).__name__, error_zh=known.zh,
                       seconds=time.perf_counter() - started, sha256=digest)
    finally:
        if rows:
            rows.close()


def unchanged(target: Path, current: Fingerprint) -> tuple[DocumentResult | None, str | None]:
    """The result already in OUT when a run now would make the same one, else (None,
    what changed: a different document, engine, checker settings, version, prompts,
    model — or an unreadable result)."""
    try:
        previous = load_document_json(target)
    except Exception:
        return None, "the result in the output folder could not be read"
    if previous.source.sha256 != current.sha256:
        return None, None  # another document under the name: no "again" about it
    changed = current.differences(previous.fingerprint)
    return (previous, None) if not changed else (None, "; ".join(changed))


def decisions_for(out_dir: Path, digest: str | None, name: str | None = None) -> list:
    """The decisions OUT's review log holds on a document (none without a log), and
    those on an earlier version of it (the same `name` in OUT, other bytes), carried."""
    from .review.store import ReviewLog

    try:
        log = ReviewLog.existing(out_dir) if digest else None
    except ReviewLogError:
        return []  # (the batch says so once: Summary.review_log; extraction never depends on the log)
    if log is None:
        return []
    try:
        return log.for_document(digest) + (log.carried_over(name, digest) if name else [])
    finally:
        log.close()


def applying(decisions: list, options: ExtractOptions, reading: Fingerprint | None = None) -> Callable | None:
    """The decisions as `extract_to_json`'s `amend`: each form gets those made at its place
    (`reading`: the fingerprint of the result they are applied to)."""
    if not decisions:
        return None
    from .review.decisions import apply

    return lambda number, form: apply(form, [d for d in decisions if d.form == number], options.settings, reading)
