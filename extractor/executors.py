"""Where a batch's documents are read, behind one interface: `outcomes` yields each
file's Outcome in order — read in this process, in worker processes stopped when a
page runs past its time or memory budget (workers.py), or on a Ray cluster (ray.py).
The batch (batch.py) takes the outcomes in; it does not know which ran them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pymupdf

from .errors import Crashed, OverBudget
from .io.outputs import BatchTables
from .jobs import Outcome, process_one
from .llm.gate import FileGate
from .pipeline import ExtractOptions
from .read.documents import quiet_mupdf
from .workers import Budget, run_guarded


def outcomes(files: list[Path], names: dict[Path, str], out_dir: Path, options: ExtractOptions, force: bool,
             tables: BatchTables, workers: int = 1, cluster: str | None = None) -> Iterator[Outcome]:
    """Each file's outcome, in order. `cluster`: on Ray (its address; "" for a local
    Ray); else `workers` guarded worker processes (this process with one and no budget).
    Closing the iterator stops what is still running."""
    if cluster is not None:
        from .ray import cluster_outcomes

        return cluster_outcomes(files, names, out_dir, options, force, tables, cluster or None)
    return _local(files, names, out_dir, options, force, tables, workers)


def _worker_setup(quiet: bool, batch: int, gate: FileGate | None = None) -> None:
    """A batch worker: as quiet as the batch about MuPDF, its LLM requests counted by
    the run's gate, and ended by the kernel when its parent (the batch, or the fork
    server the batch started) dies — a `kill -9` of the batch left its workers running.
    Linux only; elsewhere the workers end when they find the batch's pipe closed."""
    if quiet:
        quiet_mupdf()
    if gate is not None:
        from .llm import transport

        transport.share(gate)
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        os.kill(batch, 0)  # the batch died before the call: go now
    except ProcessLookupError:
        os._exit(1)
    except (OSError, AttributeError):
        pass


OPTION_OF = {"time": "--page-seconds", "memory": "--max-memory"}


def _local(files: list[Path], names: dict[Path, str], out_dir: Path, options: ExtractOptions, force: bool,
              tables: BatchTables, workers: int) -> Iterator[Outcome]:
    """Each file's outcome, in order: read in worker processes that are stopped when a
    page runs past its time or memory budget (in this process with neither budget
    and one worker)."""
    tasks = [(f, names[f], out_dir, options, force, tables.staging_file(names[f])) for f in files]
    limits = options.limits
    budget = Budget(limits.page_seconds, limits.max_memory)
    # One count of LLM requests and tokens for the run, whichever process sends them.
    gate = FileGate(tables.dir / "llm-gate", options.llm.concurrency, options.llm.max_tokens_per_run) if options.engine != "rules" else None
    if workers == 1 and not budget.limited:
        return _in_this_process(tasks, gate)

    def stopped(index: int, reason: str, kind: str) -> Outcome:
        f = files[index]
        error = OverBudget(f"{reason} ({OPTION_OF[kind]}): stopped", zh=f"{reason}（{OPTION_OF[kind]}）：已停止") \
            if kind in OPTION_OF else Crashed(reason)
        return Outcome(f, names[f], "failed", error=str(error), error_type=type(error).__name__, error_zh=error.zh)

    # Workers keep MuPDF as quiet as this process keeps it (a forked worker would
    # inherit it; a spawned one would not), and die with this process.
    quiet = not pymupdf.TOOLS.mupdf_display_errors()
    return run_guarded(tasks, process_one, workers, budget, stopped, _worker_setup, (quiet, os.getpid(), gate))


def _in_this_process(tasks: list[tuple], gate: FileGate | None) -> Iterator[Outcome]:
    if gate is None:
        yield from (process_one(*task) for task in tasks)
        return
    from .llm import transport

    transport.share(gate)
    try:
        for task in tasks:
            yield process_one(*task)
    finally:
        transport.share(None)
