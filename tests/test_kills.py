"""Batches killed at random points (while workers read, while the tables are written),
then run again: the outputs equal a clean run's — byte for byte for the CSV tables,
field for field for the JSON (its timings aside) — and nothing half written is left."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from folders import descendants, still_running

TRIALS = 6


def inputs(folder: Path) -> Path:
    """Six documents: the seed text exports and a born-digital PDF."""
    folder.mkdir()
    for f in sorted((ROOT / "fixtures" / "text").glob("*.txt"))[:5]:
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "run_on.pdf").write_bytes((ROOT / "fixtures" / "pdf" / "run_on.pdf").read_bytes())
    return folder


def extract(source: Path, out: Path, *more: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "extractor.cli", "extract", str(source), "-o", str(out), "--workers", "2", *more],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def contents(out: Path) -> dict[str, object]:
    """What a run leaves in OUT that must not depend on how it got there."""
    found: dict[str, object] = {}
    for p in sorted(out.iterdir()):
        if p.suffix == ".csv" or p.name in ("errors.json", "metadata.json"):
            found[p.name] = p.read_bytes()
        elif p.name == "summary.json":  # (this run's own timings aside)
            doc = json.loads(p.read_text(encoding="utf-8"))
            doc.pop("run")
            found[p.name] = doc
        elif p.suffix == ".json":
            doc = json.loads(p.read_text(encoding="utf-8"))
            doc.pop("seconds", None)
            for form in doc["forms"]:
                form.pop("seconds", None)
            found[p.name] = doc
        else:
            found[p.name] = "present"  # forms.xlsx, forms.sqlite: their bytes carry times; present and whole
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_batch_killed_anywhere_and_run_again_equals_a_clean_run(tmp_path):
    source = inputs(tmp_path / "in")
    clean = tmp_path / "clean"
    started = time.perf_counter()
    assert extract(source, clean).wait(timeout=300) == 0
    span = time.perf_counter() - started
    expected = contents(clean)
    rng = random.Random(20261129)
    for trial in range(TRIALS):
        out = tmp_path / f"killed-{trial}"
        proc = extract(source, out)
        # From the workers' start to the last table: a third of the trials at the end
        delay = rng.uniform(0.3, span) if trial % 3 else rng.uniform(0.6 * span, span)
        time.sleep(delay)
        family = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not still_running(family), f"trial {trial}: workers outlived the batch"
        again = extract(source, out)
        assert again.wait(timeout=300) == 0, again.stderr.read()
        assert contents(out) == expected, f"trial {trial} (killed after {delay:.2f} s)"
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")], f"trial {trial}: leftovers"


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_or_terminated_it_stops_its_workers_keeps_what_is_done_and_cleans_up(tmp_path, how):
    source = inputs(tmp_path / "in")
    for i in range(6):  # more of the slow one, so that it is stopped half way
        (source / f"copy{i}.pdf").write_bytes((ROOT / "fixtures" / "pdf" / "run_on.pdf").read_bytes())
    out = tmp_path / "out"
    proc = extract(source, out)
    deadline = time.time() + 60
    while not list(out.glob("*.json")) and time.time() < deadline:
        time.sleep(0.05)
    family = descendants(proc.pid)
    os.kill(proc.pid, how)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted: outputs of finished documents are kept" in stderr, stderr
    assert "Traceback" not in stderr
    assert not still_running(family, within=0.5)
    done = {Path(line.split()[1]).stem for line in stderr.splitlines() if line.startswith("ok")}
    written = {p.stem for p in out.glob("*.json")} - {"errors", "metadata", "summary"}
    # Those done are told; the documents written but not told (finished while another was
    # being told, or stopped between writing the JSON and saying so) are whole JSONs the
    # tables take in as earlier ones. How many there are depends on the machine's speed
    # (a bound of 2 failed on a clean run): not asserted.
    assert 0 < len(done) < 11 and done <= written
    assert all(json.loads((out / f"{name}.json").read_text(encoding="utf-8"))["forms"] for name in written)  # whole
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    with open(out / "forms.csv", encoding="utf-8-sig", newline="") as fh:  # the tables hold what was done
        assert {row["document"] for row in csv.DictReader(fh)} == written
