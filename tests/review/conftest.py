"""An output folder with flagged forms, made by extracting a fixture."""

import shutil
from pathlib import Path

import pytest

from folders import ROOT, extract


@pytest.fixture(scope="session")
def _extracted(tmp_path_factory) -> Path:
    docs = tmp_path_factory.mktemp("docs")
    pdf = docs / "one_per_page.pdf"
    shutil.copy(ROOT / "fixtures" / "pdf" / "one_per_page.pdf", pdf)
    return extract([pdf], tmp_path_factory.mktemp("out"))


@pytest.fixture
def out(_extracted, tmp_path) -> Path:
    """A fresh copy of the extracted folder for each test (the source stays put)."""
    target = tmp_path / "out"
    shutil.copytree(_extracted, target)
    return target
