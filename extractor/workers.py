"""Batch workers that can be stopped.

Each document is read in a child process that reports every step (opening it, each
page) as the step starts. A step that runs past its time budget, or a process that
grows past its memory budget, is killed, its document fails with one line, and a
fresh process takes the next document: a page that is a decompression bomb cannot
hang or sink the batch. (`ProcessPoolExecutor` cannot stop one task, and nothing in
the worker can interrupt MuPDF inside a page: it holds the GIL.)

Results come back in the order of the tasks, whichever process finishes first.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

POLL_SECONDS = 0.25  # how often the budgets are looked at while every worker is busy


@dataclass(frozen=True)
class Budget:
    """Per step (a page) seconds and per process bytes; None is no limit."""

    step_seconds: float | None = 60.0
    memory_bytes: int | None = 4 << 30

    @property
    def limited(self) -> bool:
        return self.step_seconds is not None or self.memory_bytes is not None


_report: Callable[[str, bool], None] | None = None  # set in a guarded worker
_tell: Callable[[tuple], None] | None = None  # a message to the batch, in a guarded worker
_companions: set[int] = set()  # process groups this process started that must end with it (LibreOffice)


def step(what: str, timed: bool = True) -> None:
    """`what` (\"page 3\") starts now: in a guarded worker its time budget starts again.
    An untimed step (waiting for an LLM, whose requests have timeouts of their own) is
    not limited. Outside a guarded worker: nothing."""
    if _report is not None:
        _report(what, timed)


@contextmanager
def companion(group: int) -> Iterator[None]:
    """A process group (one started with start_new_session: LibreOffice and what it
    forks) that must not outlive this process: killed if the batch stops this worker
    (a budget) or the worker is ended (SIGTERM: the batch died); on leaving the block,
    killed too, whatever is left of it."""
    _companions.add(group)
    if _tell is not None:
        _tell(("group", group, True))
    try:
        yield
    finally:
        _companions.discard(group)
        _kill_group(group)
        if _tell is not None:
            _tell(("group", group, False))


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass


def _end_with_companions(signum: int, frame: object) -> None:
    for group in list(_companions):
        _kill_group(group)
    os._exit(128 + signum)


def _serve(conn: Connection, setup: Callable[..., None] | None, setup_args: tuple, inherited: tuple[int, ...] = ()) -> None:
    """A worker's life: run the tasks the batch sends until it sends None, or until
    its pipe closes. `inherited`: the batch's ends of the workers' pipes, which a
    forked worker holds too: closed, so that the batch's death closes this pipe."""
    global _report, _tell
    for fd in inherited:
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle
    # (a forked worker inherits the CLI's handler: it must just end, and its companions with it)
    signal.signal(signal.SIGTERM, _end_with_companions)
    if setup is not None:
        setup(*setup_args)
    _report = lambda what, timed: conn.send(("step", what, timed))
    _tell = conn.send
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        fn, args = task
        conn.send(("done", fn(*args)))


def rss_bytes(pid: int) -> int | None:
    """A process's resident memory, or None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss
    except Exception:
        return None


class _Worker:
    def __init__(self, context: Any, setup: Callable[..., None] | None, setup_args: tuple, others: list[_Worker]) -> None:
        self.conn, child = context.Pipe()
        forked = context.get_start_method() == "fork"  # (a fork server's or a spawned worker inherits none)
        inherited = tuple(w.conn.fileno() for w in [*others, self]) if forked else ()
        self.process = context.Process(target=_serve, args=(child, setup, setup_args, inherited), daemon=True)
        self.process.start()
        child.close()
        self.task: int | None = None
        self.groups: set[int] = set()  # its companions' process groups (workers.companion)
        self.step = "starting"
        self.deadline: float | None = None

    def give(self, index: int, fn: Callable, args: tuple, budget: Budget) -> None:
        self.task = index
        self.begin("opening it", True, budget)
        self.conn.send((fn, args))

    def begin(self, what: str, timed: bool, budget: Budget) -> None:
        self.step = what
        self.deadline = time.monotonic() + budget.step_seconds if timed and budget.step_seconds else None

    def stop(self) -> None:
        for group in self.groups:
            _kill_group(group)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()

    def end(self) -> None:
        """Ask it to finish (it is idle), then make sure."""
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(timeout=5)
        self.stop()


def _died(process: Any) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        why = " (the system's out-of-memory killer?)" if -code == signal.SIGKILL else ""
        return f"was killed by {name}{why}"
    return f"ended with exit status {code}"


def _context() -> Any:
    """Workers forked from this process while it runs no other thread and no ONNX
    runtime (the CLI's case: instant); else from a fresh server process that imports
    the tool once (a worker forked from a process whose ONNX runtime had started its
    thread pool hung in its first OCR page); spawned where there is no fork."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1 and "onnxruntime" not in sys.modules:
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["extractor.batch"])
    return context


def run_guarded(
    tasks: list[tuple],
    fn: Callable[..., Any],
    workers: int,
    budget: Budget,
    stopped: Callable[[int, str, str], Any],
    setup: Callable[..., None] | None = None,
    setup_args: tuple = (),
) -> Iterator[Any]:
    """`fn(*task)` for each task in up to `workers` child processes, yielded in task
    order. A task that overruns its budget, or whose process dies, yields
    `stopped(index, reason, kind)` instead (kind: "time", "memory" or "died")."""
    context = _context()
    pending = deque(range(len(tasks)))
    results: dict[int, Any] = {}
    pool: list[_Worker] = []

    def next_task(worker: _Worker) -> None:
        worker.task = None
        if pending:
            index = pending.popleft()
            worker.give(index, fn, tasks[index], budget)

    def replace(worker: _Worker, reason: str, kind: str) -> None:
        index = worker.task
        worker.stop()
        pool.remove(worker)
        results[index] = stopped(index, f"{reason} at {worker.step}" if kind == "died" else reason, kind)
        if pending:
            fresh = _Worker(context, setup, setup_args, pool)
            pool.append(fresh)
            next_task(fresh)

    try:
        for _ in range(min(workers, len(tasks))):
            pool.append(_Worker(context, setup, setup_args, pool))
            next_task(pool[-1])
        emitted = 0
        while emitted < len(tasks):
            while emitted in results:
                yield results.pop(emitted)
                emitted += 1
            if emitted == len(tasks):
                break
            busy = [w for w in pool if w.task is not None]
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=POLL_SECONDS))
            for worker in busy:
                if worker.conn in ready or worker.process.sentinel in ready:
                    try:
                        while worker.conn.poll():
                            message = worker.conn.recv()
                            if message[0] == "step":
                                worker.begin(message[1], message[2], budget)
                            elif message[0] == "group":
                                (worker.groups.add if message[2] else worker.groups.discard)(message[1])
                            else:
                                results[worker.task] = message[1]
                                next_task(worker)
                                break
                    except (EOFError, OSError):
                        pass
                    if worker.task is not None and not worker.process.is_alive():
                        worker.process.join()
                        replace(worker, f"the process reading it {_died(worker.process)}", "died")
            now = time.monotonic()
            for worker in [w for w in pool if w.task is not None]:
                if worker.deadline is not None and now > worker.deadline:
                    replace(worker, f"{worker.step} ran past its time budget of {budget.step_seconds:g} s", "time")
                elif budget.memory_bytes and (rss := rss_bytes(worker.process.pid)) and rss > budget.memory_bytes:
                    replace(worker, f"{worker.step} ran past its memory budget of {budget.memory_bytes / 2**30:g} GiB", "memory")
        for worker in pool:
            worker.end()
    except KeyboardInterrupt:  # the documents done out of order are told before the batch stops
        for worker in pool:
            worker.stop()
        for index in sorted(results):
            yield results[index]
        raise
    finally:
        for worker in pool:  # (interrupted: nothing is waited for)
            worker.stop()
