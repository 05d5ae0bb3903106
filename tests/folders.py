"""Helpers the tests share: output folders made the way a user makes them, a free
loopback port, the OCR marker, and the processes a batch leaves (Linux: /proc, ps)."""

import socket
import subprocess
import time
from pathlib import Path

import pytest

from extractor.batch import run_batch
from extractor.pipeline import ExtractOptions

ROOT = Path(__file__).resolve().parents[1]


def extract(inputs: list[Path], out: Path, formats=("json", "csv", "sqlite")) -> Path:
    summary = run_batch(inputs, out, ExtractOptions(engine="rules"), formats)
    assert not summary.failed, [o.error for o in summary.failed]
    return out


def _ocr() -> bool:
    from extractor.read import ocr

    return ocr.available()


needs_ocr = pytest.mark.skipif(not _ocr(), reason="the ocr extra is not installed")


def free_port() -> int:
    """A loopback port nothing listens on (for a server a test starts as a process)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def descendants(pid: int) -> list[int]:
    kids = children(pid)
    return kids + [g for k in kids for g in descendants(k)]


def running(pid: int) -> bool:
    """Is the process there and not a zombie (one whose parent died may never be reaped)?"""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def still_running(pids: list[int], within: float = 10.0) -> list[int]:
    """Those of `pids` still running after waiting up to `within` seconds for them to end."""
    deadline = time.monotonic() + within
    while any(map(running, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if running(p)]
