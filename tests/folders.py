"""Helpers the tests share: output folders made the way a user makes them, a free
loopback port, the OCR marker."""

import socket
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
