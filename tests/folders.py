"""Output folders made the way a user makes them, for the tests that start from one."""

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
