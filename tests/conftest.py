import os
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from extractor.models import Form, load_json

ROOT = Path(__file__).resolve().parents[1]
FORM = TypeAdapter(Form)


def gold_forms():
    """(stem, index, form) for every gold form."""
    for path in sorted((ROOT / "eval" / "gold" / "text").glob("*.json")):
        for i, raw in enumerate(load_json(path.read_text(encoding="utf-8"))["forms"]):
            yield path.stem, i, FORM.validate_python(raw)


def gold_by_label(label: str):
    for _, _, form in gold_forms():
        if (getattr(form, "project_name", None) or form.department) == label:
            return form.model_copy(deep=True)
    raise KeyError(label)


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _no_real_endpoint(monkeypatch):
    """Tests never reach a real endpoint: they start their own (tests/llm_server.py).
    Messages are in English whatever the machine's locale (tests of Chinese ask for it)."""
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "EXTRACTOR_MODEL"):
        if not os.environ.get("EXTRACTOR_LIVE_TESTS"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EXTRACTOR_LANG", "en")


def render_pdf(forms: list[dict], path: Path) -> Path:
    """Forms (contract dicts) printed as a born-digital PDF by the fixture generator."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("generate", ROOT / "fixtures" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = gen
    spec.loader.exec_module(gen)
    gen.render(forms, gen.Style("t"), path)
    return path


@pytest.fixture(scope="session")
def _extracted_folder(tmp_path_factory) -> Path:
    import shutil

    from folders import extract

    docs = tmp_path_factory.mktemp("docs")
    shutil.copy(ROOT / "fixtures" / "pdf" / "one_per_page.pdf", docs / "one_per_page.pdf")
    return extract([docs / "one_per_page.pdf"], tmp_path_factory.mktemp("out"))


@pytest.fixture
def out(_extracted_folder, tmp_path) -> Path:
    """An output folder with flagged forms (one_per_page.pdf extracted), a fresh copy
    for each test; the source document stays where the copy's results say."""
    import shutil

    target = tmp_path / "out"
    shutil.copytree(_extracted_folder, target)
    return target
