"""The run's LLM requests: how many are in flight, and the token budget.

Every HTTP request takes a slot and reserves, before it is sent, the most it can
spend — its input (estimated from above) plus `max_tokens` of output — and settles
when its answer comes: the reservation goes, what the server says it spent stays.
A request that does not fit waits while others are in flight (they may spend less
than they reserved) and is refused once nothing is: the budget is a hard cap, never
passed by requests that were in flight together.

One decision rule (`admit`), three places to keep the count:
  ThreadGate  one process (the library, a batch in one process)
  FileGate    the local batch's worker processes: a folder of locked files, so that a
              worker killed mid-request gives its slot back (its lock dies with it)
  ray.RayGate a Ray cluster: an actor
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import struct
import threading
import time
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Literal, Protocol

from ..errors import BudgetSpent

IMAGE_TOKENS = 2_000  # an image we cannot measure: about what a vision model spends on a page at 110 dpi


class Gate(Protocol):
    def acquire(self, reserve: int) -> object:
        """Wait for a slot with `reserve` tokens held against the budget; a ticket.
        Raises BudgetSpent when the budget cannot hold it."""

    def release(self, ticket: object, spent: int) -> None:
        """The request ended, having spent `spent` tokens (0 when unknown)."""


@dataclass
class Tally:
    spent: int = 0
    reserved: int = 0
    in_flight: int = 0


def admit(t: Tally, reserve: int, concurrency: int, limit: int | None) -> Literal["go", "wait", "refuse"]:
    fits = limit is None or t.spent + t.reserved + reserve <= limit
    if fits and t.in_flight < max(1, concurrency):
        return "go"
    if not fits and t.in_flight == 0:
        return "refuse"  # nothing in flight can give tokens back
    return "wait"


def refusal(limit: int | None, t: Tally, reserve: int) -> BudgetSpent:
    return BudgetSpent(f"token budget spent ({limit} tokens for the run, {t.spent} spent; "
                       f"the next request may need {reserve}); not sent")


class ThreadGate:
    def __init__(self, concurrency: int, limit: int | None):
        self.concurrency, self.limit = concurrency, limit
        self.tally = Tally()
        self._cond = threading.Condition()

    def acquire(self, reserve: int) -> object:
        with self._cond:
            while (verdict := admit(self.tally, reserve, self.concurrency, self.limit)) == "wait":
                self._cond.wait()
            if verdict == "refuse":
                raise refusal(self.limit, self.tally, reserve)
            self.tally.in_flight += 1
            self.tally.reserved += reserve
            return reserve

    def release(self, ticket: object, spent: int) -> None:
        with self._cond:
            self.tally.in_flight -= 1
            self.tally.reserved -= int(ticket)  # type: ignore[arg-type]
            self.tally.spent += spent
            self._cond.notify_all()


class FileGate:
    """The gate in a folder the batch's workers share: `ledger` holds the tokens
    spent, each request in flight is a file `held-<pid>-<n>` holding its reservation,
    locked by its process. A held file nobody locks is a request whose process died:
    its reservation is counted as spent (it may have been) and its slot freed."""

    POLL = 0.02

    def __init__(self, folder: Path, concurrency: int, limit: int | None):
        self.folder, self.concurrency, self.limit = Path(folder), concurrency, limit
        self.folder.mkdir(parents=True, exist_ok=True)
        self._seq = count()

    def _locked(self):
        fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def _tally(self) -> Tally:
        """The count now (under the lock), the dead's requests settled."""
        ledger = self.folder / "ledger"
        t = Tally(spent=int(ledger.read_text() or 0) if ledger.exists() else 0)
        dead = 0
        for held in self.folder.glob("held-*"):
            amount = int(held.read_text() or 0)
            fd = os.open(held, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                dead += amount
                held.unlink()
            except OSError:
                t.in_flight += 1
                t.reserved += amount
            finally:
                os.close(fd)
        if dead:
            t.spent += dead
            ledger.write_text(str(t.spent))
        return t

    def acquire(self, reserve: int) -> object:
        while True:
            fd = self._locked()
            try:
                t = self._tally()
                verdict = admit(t, reserve, self.concurrency, self.limit)
                if verdict == "refuse":
                    raise refusal(self.limit, t, reserve)
                if verdict == "go":
                    held = self.folder / f"held-{os.getpid()}-{next(self._seq)}"
                    hfd = os.open(held, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
                    fcntl.flock(hfd, fcntl.LOCK_EX)
                    os.write(hfd, str(reserve).encode())
                    return held, hfd
            finally:
                os.close(fd)
            time.sleep(self.POLL)

    def release(self, ticket: object, spent: int) -> None:
        held, hfd = ticket  # type: ignore[misc]
        fd = self._locked()
        try:
            ledger = self.folder / "ledger"
            before = int(ledger.read_text() or 0) if ledger.exists() else 0
            ledger.write_text(str(before + spent))
            held.unlink(missing_ok=True)
            os.close(hfd)
        finally:
            os.close(fd)

    def spent(self) -> int:
        fd = self._locked()
        try:
            return self._tally().spent
        finally:
            os.close(fd)


# --- what a request may spend ------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    return None


def image_tokens(url: str) -> int:
    """An image's tokens from above: a vision model's patches of 28×28 pixels (Qwen-VL's
    rule, which spends more than OpenAI's tiles) for a PNG we can measure."""
    if url.startswith("data:image/png;base64,"):
        head = base64.b64decode(url.split(",", 1)[1][:44] + "==")  # enough for the header
        size = _png_size(head)
        if size:
            w, h = size
            return (w + 27) // 28 * ((h + 27) // 28) + 16
    return IMAGE_TOKENS


def input_tokens_at_most(body: dict) -> int:
    """A request's input tokens, from above: every byte of its text may be a token
    (byte-level BPE tokenizers cover at least one byte a token), images as above."""
    n = 0

    def walk(v) -> None:
        nonlocal n
        if isinstance(v, dict):
            if v.get("type") == "image_url":
                n += image_tokens(v.get("image_url", {}).get("url", ""))
                return
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            n += len(v.encode("utf-8"))

    walk(body.get("messages", []))
    walk(body.get("tools", []))
    walk(body.get("response_format", {}))
    return n + 8 * len(body.get("messages", []))  # the chat template's own tokens a message


def reservation(content: bytes, max_tokens: int) -> int:
    """What one request (its JSON body) may spend: its input and `max_tokens` of output."""
    try:
        body = json.loads(content)
    except ValueError:
        return len(content) + max_tokens
    return input_tokens_at_most(body) + int(body.get("max_tokens") or body.get("max_completion_tokens") or max_tokens)
