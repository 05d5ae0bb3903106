"""The batch on a Ray cluster (`extractor extract PATHS -o OUT --ray [ADDRESS]`), and
the per-document function for your own Ray Data pipelines.

A document is a task: the driver ships its bytes (so the workers need no shared
file system), the task extracts it in a temporary folder and returns the result
file's bytes and its table rows, and the driver writes OUT as results come back,
in input order — the same files, summary and exit status as a local run. A long
scanned document is read in page ranges at once (its OCR, the slow part, as tasks
of their own) and joined into one result. A worker lost mid-task is retried by Ray
(`max_retries`); the outputs are those of a clean run.

    import ray
    from extractor.ray import extract_record

    ds = ray.data.read_binary_files("s3://bucket/reports/", include_paths=True)
    results = ds.map(extract_record)  # rows: path, name, status, error, forms, result_json
"""

from __future__ import annotations

import dataclasses

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .jobs import Outcome, process_one
from .errors import first_line
from .io.outputs import BatchTables, atomic_path
from .pipeline import ExtractOptions, Remote
from .read.documents import sha256_of

SPLIT_AFTER = 4  # a document with more pages to OCR than this is read in page ranges at once
RANGE = 2  # pages per OCR task
RETRIES = 3  # a task whose worker died is run again this many times


@dataclass
class DocumentOutput:
    outcome: Outcome
    result_json: bytes | None  # OUT/<name>.json, whole
    rows: str  # its batch-table rows, staged (io.outputs.write_form_rows)


def extract_bytes(data: bytes, path: str, name: str, options: ExtractOptions | None = None,
                  decisions: list | None = None, preread: dict | None = None) -> DocumentOutput:
    """One document's bytes extracted here: its result file and table rows, as
    `extract` would write them for `path` (the path it records; the suffix tells a
    text export)."""
    options = options or ExtractOptions()
    with tempfile.TemporaryDirectory(prefix="extractor-") as tmp:
        work = Path(tmp)
        local = work / ("input" + Path(path).suffix)
        local.write_bytes(data)
        rows = work / "rows.jsonl"
        outcome = process_one(local, name, work, options, force=True, rows_to=rows,
                              remote=Remote(recorded=path, preread=preread or {}), decisions=decisions or [])
        outcome.path = Path(path)
        target = work / f"{name}.json"
        result = target.read_bytes() if outcome.status not in ("failed", "no_form") and target.exists() else None
        return DocumentOutput(outcome, result, rows.read_text(encoding="utf-8") if rows.exists() else "")


def extract_record(row: dict) -> dict:
    """For Ray Data: a `read_binary_files(..., include_paths=True)` row ({"bytes",
    "path"}) to one row of plain values (the result file as JSON text)."""
    path = str(row["path"])
    out = extract_bytes(row["bytes"], path, Path(path).stem)
    o = out.outcome
    return {"path": path, "name": o.name, "status": o.status, "error": o.error or "", "forms": o.forms,
            "forms_with_errors": o.forms_with_errors, "result_json": (out.result_json or b"").decode("utf-8")}


@contextmanager
def _as_file(data: bytes, suffix: str) -> Iterator[Path]:
    """A document's bytes as a temporary file, for what opens documents by path."""
    with tempfile.NamedTemporaryFile(suffix=suffix) as fh:
        fh.write(data)
        fh.flush()
        yield Path(fh.name)


def _ocr_ranges(data: bytes, suffix: str, split_after: int = SPLIT_AFTER, size: int = RANGE) -> list[list[int]]:
    """The pages a document will read by OCR, in ranges of `size`; none when there
    are `split_after` or fewer (one task reads them as fast)."""
    from .read.documents import open_document

    with _as_file(data, suffix) as path:
        try:
            doc = open_document(path)
        except Exception:
            return []  # the document task says what is wrong with it
        try:
            numbers = doc.ocr_page_numbers()
        finally:
            doc.close()
    if len(numbers) <= split_after:
        return []
    return [numbers[i:i + size] for i in range(0, len(numbers), size)]


def _ocr_pages(data: bytes, suffix: str, numbers: list[int]) -> dict:
    from .read.documents import quiet_mupdf, read_ocr_pages

    quiet_mupdf()
    with _as_file(data, suffix) as path:
        return read_ocr_pages(path, numbers)


class _LLMGate:
    """A Ray actor: the run's LLM requests in flight and tokens spent and reserved, one
    count for the whole cluster, by `llm.gate.admit` (async: a request waiting for its
    turn does not hold up the others)."""

    def __init__(self, concurrency: int, limit: int | None):
        import asyncio

        from .llm.gate import Tally

        self.concurrency, self.limit = concurrency, limit
        self.tally = Tally()
        self._cond = asyncio.Condition()

    async def acquire(self, reserve: int) -> str | None:
        """None when admitted, else the refusal's text."""
        from .llm.gate import admit, refusal

        async with self._cond:
            while (verdict := admit(self.tally, reserve, self.concurrency, self.limit)) == "wait":
                await self._cond.wait()
            if verdict == "refuse":
                return str(refusal(self.limit, self.tally, reserve))
            self.tally.in_flight += 1
            self.tally.reserved += reserve
            return None

    async def release(self, reserve: int, spent: int) -> None:
        async with self._cond:
            self.tally.in_flight -= 1
            self.tally.reserved -= reserve
            self.tally.spent += spent
            self._cond.notify_all()


class RayGate:
    """`llm.gate.Gate` over the run's `_LLMGate` actor."""

    def __init__(self, actor):
        self.actor = actor

    def acquire(self, reserve: int) -> object:
        import ray

        from .errors import BudgetSpent

        refused = ray.get(self.actor.acquire.remote(reserve))
        if refused is not None:
            raise BudgetSpent(refused)
        return reserve

    def release(self, ticket: object, spent: int) -> None:
        import ray

        ray.get(self.actor.release.remote(ticket, spent))


def _document(boxed: list, path: str, name: str, options: ExtractOptions, decisions: list,
              split: tuple[int, int] = (SPLIT_AFTER, RANGE), gate=None) -> DocumentOutput:
    """The document task: its long scan's page ranges as tasks of their own, then the document."""
    import ray

    from .llm import transport
    from .read.documents import quiet_mupdf

    quiet_mupdf()
    transport.share(RayGate(gate) if gate is not None else None)  # (a worker runs many runs' tasks)
    options = dataclasses.replace(options, llm=options.llm.resolved())  # (the key: this worker's environment)
    (ref,) = boxed  # (a reference in a list is passed as it is, not fetched: the page tasks get it too)
    data = ray.get(ref)
    suffix = Path(path).suffix
    preread: dict = {}
    ranges = _ocr_ranges(data, suffix, *split)
    if ranges:
        page_task = ray.remote(max_retries=RETRIES)(_ocr_pages)
        for part in ray.get([page_task.remote(ref, suffix, r) for r in ranges]):
            preread.update(part)
    return extract_bytes(data, path, name, options, decisions, preread)


def connect(address: str | None) -> None:
    """Ray, once per process: the cluster at `address`, or a local one (this
    machine's cores, no dashboard)."""
    import ray

    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    else:
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)


def cluster_outcomes(files: list[Path], names: dict[Path, str], out_dir: Path, options: ExtractOptions, force: bool,
                     tables: BatchTables, address: str | None) -> Iterator[Outcome]:
    """The batch's documents on Ray, each as it is done, in input order: its result
    file written and its rows staged for `tables`. What fails before it can be
    shipped (missing, not a regular file, too large, unreadable) or is unchanged since the last run
    is done here, as the local batch does it."""
    import ray

    from .jobs import decisions_for
    from .review.store import LOG_NAME

    connect(address)
    task = ray.remote(max_retries=RETRIES)(_document)
    # One concurrency and token budget for the run's LLM requests, whichever node sends them.
    gate = ray.remote(_LLMGate).remote(options.llm.concurrency, options.llm.max_tokens_per_run) if options.engine != "rules" else None
    queued: list[tuple[Path, object]] = []
    again: dict[Path, str] = {}  # why a document already in OUT is read again (said as the local batch says it)
    shipped = dataclasses.replace(options, llm=options.llm.shipped())  # (never the key: see LLMConfig.key_from_env)
    for f in files:
        local = _here(f, names[f], out_dir, options, force, tables)
        if local is not None:
            queued.append((f, local))
            continue
        data = f.read_bytes()
        if not force and (why := _why_again(f, out_dir / f"{names[f]}.json", options)):
            again[f] = why
        decisions = decisions_for(out_dir, sha256_of(f), names[f]) if (out_dir / LOG_NAME).is_file() else []
        queued.append((f, task.remote([ray.put(data)], str(f), names[f], shipped, decisions, (SPLIT_AFTER, RANGE), gate)))
    for i, (f, item) in enumerate(queued):
        if isinstance(item, Outcome):
            yield item
            continue
        try:
            out: DocumentOutput = ray.get(item)
        except KeyboardInterrupt:  # the tasks not yet back are not wanted
            for _, rest in queued[i:]:
                if not isinstance(rest, Outcome):
                    ray.cancel(rest, force=True)
            raise
        except Exception as exc:  # lost on the cluster past its retries (its worker kept dying): this document only
            yield Outcome(f, names[f], "failed", error=f"lost on the Ray cluster after {RETRIES} retries: "
                          f"{type(exc).__name__}: {first_line(exc)}", error_type="ClusterError")
            continue
        if out.result_json is not None:
            with atomic_path(out_dir / f"{names[f]}.json") as tmp:
                tmp.write_bytes(out.result_json)
        staged = tables.staging_file(names[f])
        staged.write_text(out.rows, encoding="utf-8")
        out.outcome.path = f
        out.outcome.again = again.get(f)
        yield out.outcome


def _here(f: Path, name: str, out_dir: Path, options: ExtractOptions, force: bool, tables: BatchTables) -> Outcome | None:
    """The document's outcome when it needs no cluster (None when it does)."""
    try:
        size = f.stat().st_size if f.is_file() else 0
        with open(f, "rb"):
            pass  # readable
    except OSError:
        size = 0
    if 0 < size <= options.limits.max_bytes and (force or not _unchanged(f, out_dir / f"{name}.json", options)):
        return None
    # Not a file, empty, too large, unreadable (the local run says so, in its words), or unchanged
    return process_one(f, name, out_dir, options, force, tables.staging_file(name))


def _why_again(f: Path, previous: Path, options: ExtractOptions) -> str | None:
    """What changed since the result already in OUT was made (None: there is none, or it
    is another document's)."""
    from .jobs import unchanged
    from .fingerprint import fingerprint_of

    return unchanged(previous, fingerprint_of(sha256_of(f), options))[1] if previous.exists() else None


def _unchanged(f: Path, previous: Path, options: ExtractOptions) -> bool:
    """A run now would make the result already there (the local rule: jobs.unchanged)."""
    from .jobs import unchanged
    from .fingerprint import fingerprint_of

    return previous.exists() and unchanged(previous, fingerprint_of(sha256_of(f), options))[0] is not None
