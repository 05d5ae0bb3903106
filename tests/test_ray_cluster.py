"""A two-node Ray cluster on loopback (`ray start --head` and `ray start --address`
as separate processes, token authentication on): `extract --ray-address` across
both nodes writes what a local run writes, also when a worker is killed mid-batch."""

import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from folders import ROOT, extract, free_port, needs_ocr

pytestmark = pytest.mark.slow
if not os.environ.get("EXTRACTOR_REQUIRE_RAY"):
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

from test_ray import kill_a_document_worker, same_outputs  # noqa: E402


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    ray_cli = str(Path(sys.executable).parent / "ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    port = free_port()
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    subprocess.run([ray_cli, "start", "--head", f"--port={port}", "--include-dashboard=false", *common],
                   env=env, check=True, capture_output=True, timeout=120)
    try:
        subprocess.run([ray_cli, "start", f"--address=127.0.0.1:{port}", *common], env=env, check=True, capture_output=True, timeout=120)
        nodes = subprocess.run([sys.executable, "-c", f"import ray; ray.init(address='127.0.0.1:{port}', log_to_driver=False); "
                                "print(sum(n['Alive'] for n in ray.nodes()))"], env=env, capture_output=True, text=True, timeout=120)
        assert nodes.stdout.strip().splitlines()[-1] == "2", nodes.stderr[-2000:]
        yield f"127.0.0.1:{port}", env
    finally:
        subprocess.run([ray_cli, "stop", "--force"], env=env, capture_output=True, timeout=120)


def _extract_on(cluster, files, out):
    address, env = cluster
    return subprocess.run([sys.executable, "-m", "extractor.cli", "extract", *map(str, files), "-o", str(out),
                           "--ray-address", address, "--format", "json,csv"], env=env, capture_output=True, text=True, timeout=600)


def test_a_batch_across_two_nodes_writes_what_a_local_run_writes(cluster, tmp_path):
    files = sorted((ROOT / "fixtures" / "pdf").glob("*.pdf")) + [ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt",
                                                                 tmp_path / "missing.pdf"]
    r = _extract_on(cluster, files, tmp_path / "ray")
    assert r.returncode == 1 and "FAILED" in r.stderr and "missing.pdf: No such file or directory" in r.stderr, r.stderr[-3000:]
    from extractor.batch import run_batch
    from extractor.pipeline import ExtractOptions

    local = run_batch(files, tmp_path / "local", ExtractOptions(engine="auto"), ("json", "csv"))  # (as the CLI; the missing file too)
    assert [o.path.name for o in local.failed] == ["missing.pdf"]
    same_outputs(tmp_path / "local", tmp_path / "ray")


@needs_ocr
def test_a_worker_killed_on_the_cluster_loses_nothing(cluster, tmp_path):
    files = [ROOT / "fixtures" / "scanned" / "narrow_150dpi_skewed.pdf", ROOT / "fixtures" / "pdf" / "run_on.pdf"]
    killed: list[int] = []
    killer = threading.Thread(target=kill_a_document_worker, args=(killed, 120))
    killer.start()
    r = _extract_on(cluster, files, tmp_path / "ray")
    killer.join()
    assert killed and r.returncode == 0, r.stderr[-3000:]
    extract(files, tmp_path / "local", formats=("json", "csv"))
    same_outputs(tmp_path / "local", tmp_path / "ray")
