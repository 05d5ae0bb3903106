"""The run's LLM gate: a hard token cap over requests in flight together, one
concurrency for every process, and a dead process's slot given back."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest

from extractor.errors import BudgetSpent
from extractor.llm.gate import FileGate, ThreadGate, image_tokens, reservation


def spend(gate, reserve: int, used: int, log: list, lock: threading.Lock) -> None:
    """Requests one after another until the gate refuses: each holds its slot a moment."""
    while True:
        try:
            ticket = gate.acquire(reserve)
        except BudgetSpent:
            return
        with lock:
            log.append(+1)
            in_flight = sum(log)
        time.sleep(0.01)
        with lock:
            log.append(-1)
        gate.release(ticket, used)
        assert in_flight <= 2


@pytest.mark.parametrize("make", [lambda tmp: ThreadGate(2, 100), lambda tmp: FileGate(tmp / "gate", 2, 100)])
def test_the_budget_is_a_hard_cap_over_requests_in_flight_together(tmp_path, make):
    """Limit 100, each request may spend 10 and spends 7: four threads at once, two
    slots. Requests go while the budget holds their reservation beside the others';
    the last is the one that fits after every other has settled: 7·12 + 10 ≤ 100."""
    gate = make(tmp_path)
    log: list[int] = []
    lock = threading.Lock()
    threads = [threading.Thread(target=spend, args=(gate, 10, 7, log, lock)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = log.count(+1)
    assert sent == 13 and sent * 7 <= 100


def _hold_and_die(folder: str) -> None:
    gate = FileGate(folder, 1, 1000)
    gate.acquire(40)
    os._exit(0)  # killed mid-request: it never releases


def test_a_process_that_dies_holding_a_slot_gives_it_back_and_its_reservation_counts_as_spent(tmp_path):
    folder = tmp_path / "gate"
    p = multiprocessing.get_context("fork").Process(target=_hold_and_die, args=(str(folder),))
    p.start()
    p.join()
    gate = FileGate(folder, 1, 1000)
    done = threading.Event()
    result = {}

    def take() -> None:
        result["ticket"] = gate.acquire(10)
        done.set()

    threading.Thread(target=take, daemon=True).start()
    assert done.wait(30), "the dead process's slot was never given back"
    gate.release(result["ticket"], 5)
    assert gate.spent() == 45


def test_a_request_is_reserved_from_above(tmp_path):
    import base64
    import json

    import pymupdf

    text = "项目名称\t军转工作经费\n" * 20
    body = {"messages": [{"role": "user", "content": text}], "max_tokens": 300}
    assert reservation(json.dumps(body).encode(), 4096) >= len(text.encode()) + 300
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 280, 560), False)
    url = "data:image/png;base64," + base64.b64encode(pix.tobytes("png")).decode()
    assert image_tokens(url) == 10 * 20 + 16
