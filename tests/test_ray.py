"""The batch on Ray: a local runtime (2 CPUs, no dashboard) gives the outputs a
local run gives, bad input included; a long scan read in page ranges joins into the
same result; a worker killed mid-batch loses nothing. (The two-node cluster on
loopback: tests/test_ray_cluster.py, slow.)"""

import filecmp
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from extractor.batch import run_batch
from extractor.pipeline import ExtractOptions
from extractor.settings import CheckSettings

from folders import ROOT, needs_ocr

if os.environ.get("EXTRACTOR_REQUIRE_RAY"):
    import ray  # noqa: F401  (CI: these tests must run)
else:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

TABLES = ("documents.csv", "forms.csv", "funding.csv", "indicators.csv", "findings.csv")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def same_outputs(a: Path, b: Path) -> None:
    """The same result files (but for the seconds each took) and the same tables."""
    names = sorted(p.name for p in a.glob("*.json"))
    assert names == sorted(p.name for p in b.glob("*.json"))
    for name in names:
        x, y = json.loads((a / name).read_text()), json.loads((b / name).read_text())
        if name == "summary.json":  # (this run's timings: compared without them)
            x.pop("run"), y.pop("run")
        if isinstance(x, dict):
            x.pop("seconds", None), y.pop("seconds", None)
        assert x == y, name
    for t in TABLES:
        assert filecmp.cmp(a / t, b / t, shallow=False), t


def kill_a_document_worker(killed: list[int], seconds: float) -> None:
    """SIGKILL the first Ray worker seen running a document task; its pid into `killed`."""
    import psutil

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for p in psutil.process_iter(["cmdline"]):
            if " ".join(p.info["cmdline"] or []).startswith("ray::_document"):
                p.kill()
                killed.append(p.pid)
                return
        time.sleep(0.05)


def batch(files, out, cluster=None, force=False):
    return run_batch(files, out, ExtractOptions(engine="rules"), ("json", "csv"), force=force, cluster=cluster)


def test_a_batch_on_ray_writes_what_a_local_run_writes_bad_input_included(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("run_on.pdf", "one_per_page.pdf", "department_and_project.pdf"):
        shutil.copy(ROOT / "fixtures" / "pdf" / name, docs / name)
    shutil.copy(ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt", docs / "export.txt")
    (docs / "empty.pdf").write_bytes(b"")
    (docs / "notes.pdf").write_bytes(b"\x00\x01 not a pdf at all")
    (docs / "cut.pdf").write_bytes((ROOT / "fixtures" / "pdf" / "run_on.pdf").read_bytes()[:3000])
    files = sorted(docs.iterdir()) + [docs / "missing.pdf"]
    local, remote = batch(files, tmp_path / "local"), batch(files, tmp_path / "ray", cluster="")
    same_outputs(tmp_path / "local", tmp_path / "ray")
    assert [(o.name, o.status, o.error) for o in local.outcomes] == [(o.name, o.status, o.error) for o in remote.outcomes]
    assert re.sub(r"[\d.]+ s", "", remote.line()) == re.sub(r"[\d.]+ s", "", local.line())  # the same summary
    assert len(remote.failed) == 4
    # Resumable by sha256 as a local run is: nothing to ship the second time.
    again = batch(files, tmp_path / "ray", cluster="")
    assert {o.status for o in again.outcomes if o.status != "failed"} == {"skipped"}
    # Other checker settings: each document read again, and the line says why, as locally
    stricter = tmp_path / "stricter.toml"
    stricter.write_text("rounding = [\"round\"]\n", encoding="utf-8")
    options = ExtractOptions(engine="rules", settings=CheckSettings.load(stricter))
    changed = run_batch(files, tmp_path / "ray", options, ("json", "csv"), cluster="")
    read = [o for o in changed.outcomes if o.status == "ok"]
    assert len(read) == 4 and all(o.again == "the checker settings changed" for o in read)
    assert "read again: 4 (the checker settings changed)" in changed.line()


@needs_ocr
def test_a_long_scan_is_read_in_page_ranges_and_joined(tmp_path, monkeypatch):
    import extractor.ray as xr

    scan = ROOT / "fixtures" / "scanned" / "narrow_150dpi_skewed.pdf"
    assert xr._ocr_ranges(scan.read_bytes(), ".pdf", 1, 1) == [[1], [2], [3]]
    monkeypatch.setattr(xr, "SPLIT_AFTER", 1)
    monkeypatch.setattr(xr, "RANGE", 1)
    batch([scan], tmp_path / "local")
    batch([scan], tmp_path / "ray", cluster="")
    same_outputs(tmp_path / "local", tmp_path / "ray")


@needs_ocr
def test_a_worker_killed_mid_batch_loses_nothing(tmp_path):
    """A worker running a document is killed (SIGKILL): Ray runs the task again and
    the outputs are those of a clean run."""
    scan = ROOT / "fixtures" / "scanned" / "narrow_150dpi_skewed.pdf"
    files = [scan, ROOT / "fixtures" / "pdf" / "run_on.pdf"]
    killed: list[int] = []
    killer = threading.Thread(target=kill_a_document_worker, args=(killed, 60))
    killer.start()
    summary = batch(files, tmp_path / "ray", cluster="")
    killer.join()
    assert killed, "no worker was caught running a document"
    assert not summary.failed
    batch(files, tmp_path / "local")
    same_outputs(tmp_path / "local", tmp_path / "ray")


def test_llm_requests_keep_one_concurrency_and_budget_across_the_workers(tmp_path):
    """Two documents on two workers, --llm-concurrency 1: one request in flight at a
    time in the whole run; a token budget is spent once, not once per worker."""
    from conftest import gold_by_label
    from extractor.llm.config import LLMConfig
    from llm_server import FakeOpenAI, honest_usage, spent

    text = (ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt").read_text(encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, name in enumerate(("a.txt", "b.txt")):
        (docs / name).write_text(text + "\n" * i, encoding="utf-8")  # (other bytes: two documents)
    names = ("军转工作经费", "宣传工作经费", "退役军人服务保障体系建设", "服务中心数字化展陈项目", "教育培训工作经费", "服务大厅工作经费", "退役军人就创业工作经费")
    exclude = {"findings", "provenance", "notes", "engine", "confidence", "pages", "usage", "review"}

    def respond(body):
        label = max((n for n in names if n in body["messages"][1]["content"]), key=len)
        return {"sleep": 0.2, "answer": gold_by_label(label).model_dump(mode="json", exclude=exclude)}

    def options(server, **kw):
        cfg = LLMConfig(base_url=server.url, api_key="sk-test", model="m", cache_dir=None, vision=False,
                        backoff_initial=0.01, backoff_max=0.05, timeout_s=10, **kw)
        return ExtractOptions(engine="llm", llm=cfg)

    files = sorted(docs.iterdir())
    with FakeOpenAI(respond=respond) as server:
        summary = run_batch(files, tmp_path / "out", options(server, concurrency=1), ("json",), cluster="")
    assert not summary.failed and len(server.requests) == 14
    assert server.max_in_flight == 1
    first = list(server.requests)
    # The key never travels to the workers (pickled task arguments, the object store and
    # its spill files): each sends the key of its own environment, which here has none
    assert all(r["headers"]["authorization"] != "Bearer sk-test" for r in server.requests)

    def honest(body):
        return {**respond(body), "sleep": 0.05, "usage": honest_usage(body, 300)}

    budget = spent(first, 300) * 6 // 10  # (what the fourteen cost, from what was sent: room for some, not all)
    with FakeOpenAI(respond=honest) as server:
        summary = run_batch(files, tmp_path / "budget", options(server, concurrency=2, max_tokens_per_run=budget, repair=False,
                                                                max_tokens=300), ("json",), cluster="")
    # A hard cap for the run, not each worker's: what the requests spent never passes it,
    # and it stopped requests (14 forms, more than the budget's worth)
    assert 0 < len(server.requests) < 14 and spent(server.requests, 300) <= budget, len(server.requests)
    assert sum(o.stats.budget_spent for o in summary.outcomes if o.stats) == 14 - len(server.requests)


def test_extract_record_maps_a_ray_data_pipeline(tmp_path):
    """The README's Ray Data example: binary files in, one row of plain values per document out."""
    import ray.data

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "fixtures" / "pdf" / "run_on.pdf", docs / "run_on.pdf")
    (docs / "empty.pdf").write_bytes(b"%PDF-1.4\n")  # a PDF with no pages
    from extractor.ray import extract_record

    rows = {r["name"]: r for r in ray.data.read_binary_files(str(docs), include_paths=True).map(extract_record).take_all()}
    assert rows["run_on"]["status"] == "ok" and rows["run_on"]["forms"] == 12
    result = json.loads(rows["run_on"]["result_json"])
    assert result["source"]["path"].endswith("run_on.pdf") and len(result["forms"]) == 12
    assert rows["empty"]["status"] == "failed" and rows["empty"]["error"] and rows["empty"]["result_json"] == ""


def test_the_command_line_runs_on_ray_and_says_what_is_missing(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import extractor.cli as cli

    runner = CliRunner()
    r = runner.invoke(cli.app, ["extract", str(ROOT / "fixtures" / "pdf" / "run_on.pdf"), "-o", str(tmp_path / "out"),
                                "--ray", "--format", "json,parquet"])
    assert r.exit_code == 0, r.output
    assert "12 forms" in r.output and (tmp_path / "out" / "forms.parquet").is_file()
    monkeypatch.setattr(cli, "_importable", lambda module: module != "ray")
    r = runner.invoke(cli.app, ["extract", str(ROOT / "fixtures" / "pdf" / "run_on.pdf"), "-o", str(tmp_path / "b"), "--ray"])
    assert r.exit_code == 2 and "ray not installed: pip install 'fiscal-form-extractor[ray]'" in r.output
