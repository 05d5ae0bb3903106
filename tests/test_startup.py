"""Start-up: what importing the tool loads (every CLI run and batch worker pays it)."""

import importlib.util
import os
import subprocess
import sys

import pytest

PROBE = (
    "import sys, extractor.cli; "
    "print('layout' if 'pymupdf.layout' in sys.modules else '-', 'llm' if 'pymupdf4llm' in sys.modules else '-'); "
    "import pymupdf4llm; print(pymupdf4llm.__name__)"
)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pymupdf4llm") is None or importlib.util.find_spec("pymupdf.layout") is None,
    reason="this PyMuPDF comes without pymupdf_layout / pymupdf4llm")


def _probe(**env: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    return out.stdout.split()


def test_pymupdfs_layout_model_and_markdown_helpers_are_not_loaded():
    # PyMuPDF 2 would import both (an ONNX model among them) as it is imported; a
    # later import by the host still works.
    assert _probe() == ["-", "-", "pymupdf4llm"]


def test_they_are_loaded_when_asked_for():
    assert _probe(EXTRACTOR_PYMUPDF_EXTRAS="1") == ["layout", "llm", "pymupdf4llm"]
