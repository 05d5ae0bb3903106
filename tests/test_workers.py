"""The batch's worker processes: results in task order, and a task that overruns its
time or memory budget, or whose process dies, stopped alone with the reason."""

from __future__ import annotations

import os
import signal
import time

from extractor import workers
from folders import children, still_running
from extractor.workers import Budget, run_guarded


def task(kind: str) -> str:
    workers.step(f"step of {kind}")
    if kind == "slow":
        time.sleep(60)
    elif kind == "hungry":
        hoard = []
        while True:
            hoard.append(bytearray(64 << 20))
            time.sleep(0.01)
    elif kind == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "late":
        time.sleep(0.5)  # finishes after the quick ones: still told in its place
    elif kind == "waits":
        workers.step("the LLM", timed=False)
        time.sleep(2.5)  # longer than the budget, but untimed
    return f"done {kind}"


def test_each_task_in_order_and_each_overrun_or_crash_stopped_alone():
    kinds = ["late", "quick", "slow", "quick", "hungry", "crash", "waits", "quick"]
    seen = []

    def stopped(index: int, reason: str, kind: str) -> str:
        seen.append(kind)
        return f"stopped {kinds[index]}: {reason}"

    started = time.monotonic()
    results = list(run_guarded([(k,) for k in kinds], task, 2, Budget(step_seconds=2, memory_bytes=512 << 20), stopped))
    assert results[0] == "done late" and results[1] == "done quick" and results[3] == results[7] == "done quick"
    assert results[2] == "stopped slow: step of slow ran past its time budget of 2 s"
    assert results[4] == "stopped hungry: step of hungry ran past its memory budget of 0.5 GiB"
    assert results[5] == "stopped crash: the process reading it was killed by SIGKILL (the system's out-of-memory killer?) at step of crash"
    assert results[6] == "done waits"
    assert sorted(seen) == ["died", "memory", "time"]
    assert time.monotonic() - started < 20


def test_workers_end_when_the_batch_is_gone_even_without_a_death_signal(tmp_path):
    """No PR_SET_PDEATHSIG here (that is the batch's setup, Linux only): a worker ends
    when the batch's end of its pipe closes. Forked, it held that end itself (and the
    other workers' ends) and waited for a task for ever."""
    import subprocess
    import sys

    script = ("import time\nfrom extractor.workers import Budget, run_guarded\n"
              "for r in run_guarded([(0.5,)] * 8, time.sleep, 2, Budget(None, None), None):\n    print('done', flush=True)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "done"
    kids = children(proc.pid)
    assert len(kids) == 2
    proc.kill()
    proc.wait()
    assert not still_running(kids)
