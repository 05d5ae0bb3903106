"""The hostile-input corpus (fixtures/hostile.py), run as a user runs it: the CLI in
its own process, every case's line, error type and output asserted, no traceback,
every stop inside its budget, memory under a bound, nothing outside OUT touched.

Run as root, the CLI runs without the capability to override file permissions
(`setpriv`), so permission cases fail as they do for any other user.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT
from extractor.read import ocr

sys.path.insert(0, str(ROOT / "fixtures"))
import hostile  # noqa: E402

psutil = pytest.importorskip("psutil")

# The folder's page budget: far above any real page's cost on a loaded machine (a photo's
# first OCR page, models loading, takes ~5 s on a quiet one). The bomb's: far below its
# cost (hours), far above that of the text export beside it (milliseconds a step).
PAGE_SECONDS = 600
BOMB_SECONDS = 5
LINE = re.compile(r"^(ok|FAILED|DAMAGED|NO FORM)\s+(.*?): (.*)$")


def unprivileged() -> list[str]:
    """The command prefix that takes away root's power to ignore file permissions."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permission cases cannot be made")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@dataclass
class Ran:
    code: int
    stderr: str
    seconds: float
    peak: int  # bytes: the most the CLI and its workers held at once

    def lines(self) -> dict[str, tuple[str, str]]:
        """Each document's (status, text) by its path as shown."""
        found = {}
        for line in self.stderr.splitlines():
            if m := LINE.match(line):
                found[m.group(2)] = (m.group(1), m.group(3))
        return found


def run(args: list[str], cwd: Path, prefix: list[str] | None = None, env: dict | None = None) -> Ran:
    """The CLI in a process of its own, its memory (with its workers') sampled as it runs."""
    started = time.perf_counter()
    proc = subprocess.Popen([*(prefix or []), sys.executable, "-m", "extractor.cli", *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate(timeout=600)
    done.set()
    sampler.join()
    return Ran(proc.returncode, stderr, time.perf_counter() - started, peak)


def snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` but inside `skip`: its size and modification time."""
    out = {}
    for p in root.rglob("*"):
        if p.is_relative_to(skip) or p.is_symlink() or not (p.is_file() or p.is_dir()):
            continue
        st = p.lstat()
        out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def shown(path: Path) -> str:
    return str(path).replace("\n", "\\n")


def check_cases(ran: Ran, cases: list[hostile.Case], paths: list[Path], out: Path) -> None:
    lines = ran.lines()
    errors = {e["path"]: e for e in json.loads((out / "errors.json").read_text(encoding="utf-8"))}
    for case, path in zip(cases, paths):
        assert shown(path) in lines, f"{case.name}: no line of its own in\n{ran.stderr}"
        status, text = lines[shown(path)]
        assert status == case.status, f"{case.name}: {status} {text}"
        for words in case.says:
            assert words in text, f"{case.name}: {text!r} does not say {words!r}"
        if case.status in ("FAILED", "NO FORM"):  # (a document with no form is listed too)
            assert errors[str(path)]["type"] == case.error_type, f"{case.name}: {errors[str(path)]}"
        else:
            result = [p for p in out.glob("*.json") if p.name not in ("errors.json", "metadata.json", "summary.json")
                      and json.loads(p.read_text(encoding="utf-8"))["source"]["path"] == str(path)]
            assert len(result) == 1 and len(json.loads(result[0].read_text(encoding="utf-8"))["forms"]) == case.forms, case.name


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    inside, budget, direct = hostile.make(folder)
    return folder, inside, budget, direct


def test_every_case_in_a_folder_has_its_own_line_and_the_batch_goes_on(corpus):
    folder, inside, _, _ = corpus
    out, cwd = folder / "out", folder / "cwd"
    cwd.mkdir()
    before = snapshot(folder, out)
    ran = run(["extract", str(inside), "-o", str(out), "--workers", "2", "--page-seconds", str(PAGE_SECONDS)],
              cwd, unprivileged())
    assert ran.code == 1 and "Traceback" not in ran.stderr, ran.stderr
    cases = [c if ocr.available() else c.without_ocr() for c in hostile.FOLDER_CASES]
    paths = [inside / c.name for c in cases]
    check_cases(ran, cases, paths, out)
    assert len(ran.lines()) == len(paths)  # nothing else read (OUT, the FIFO-free folder: all of it)
    summary = ran.stderr.strip().splitlines()[-1]
    damaged = sum(c.status == "DAMAGED" for c in cases)
    assert summary.startswith(f"{len(paths)} documents") and f"{damaged} damaged, read in part" in summary
    # The batch's own errors.json is its own: the input errors.txt has another name
    assert json.loads((out / "errors.json").read_text(encoding="utf-8"))[0]["type"]
    # Nothing outside OUT was touched (the inputs, their folder, the working folder),
    # and nothing was left half written inside it
    assert snapshot(folder, out) == before
    assert not list(cwd.iterdir())
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    # The two workers and the CLI hold under 2 GiB together
    assert ran.peak < 2 << 30, ran.peak


def test_a_page_that_runs_past_its_time_budget_is_stopped_and_the_batch_goes_on(corpus):
    folder, _, budget, _ = corpus
    out = folder / "budget-out"
    ran = run(["extract", *map(str, budget), "-o", str(out), "--workers", "1", "--page-seconds", str(BOMB_SECONDS)], folder)
    assert ran.code == 1 and "Traceback" not in ran.stderr, ran.stderr
    check_cases(ran, hostile.BUDGET_CASES, budget, out)
    assert ran.seconds < 300, ran.seconds  # stopped, not drawn for hours


def test_files_given_by_name_each_fail_alone(corpus):
    folder, _, _, direct = corpus
    out = folder / "direct-out"
    ran = run(["extract", "-o", str(out), "--", *map(str, direct)], folder, unprivileged())
    assert ran.code == 1 and "Traceback" not in ran.stderr, ran.stderr
    check_cases(ran, hostile.DIRECT_CASES, direct, out)


def test_a_page_that_grows_past_the_memory_budget_is_stopped(tmp_path):
    hostile.operator_flood(tmp_path / "flood.pdf")
    hostile.javascript(tmp_path / "after.pdf")  # (the batch goes on)
    ran = run(["extract", str(tmp_path / "flood.pdf"), str(tmp_path / "after.pdf"), "-o", str(tmp_path / "out"),
               "--max-memory", "0.5"], tmp_path)
    lines = ran.lines()
    status, text = lines[str(tmp_path / "flood.pdf")]
    assert status == "FAILED" and text == "page 1 ran past its memory budget of 0.5 GiB (--max-memory): stopped"
    assert lines[str(tmp_path / "after.pdf")][0] == "ok" and ran.code == 1
    assert ran.peak < 1 << 30, ran.peak  # stopped soon after it passed 0.5 GiB


@pytest.mark.parametrize("where", ["OUT", "OUT's parent"])
def test_an_output_folder_that_cannot_be_written_is_one_line(tmp_path, where):
    parent = tmp_path / "locked"
    out = parent / "out"
    out.mkdir(parents=True) if where == "OUT" else parent.mkdir()
    (out if where == "OUT" else parent).chmod(0o555)
    ran = run(["extract", str(ROOT / "fixtures" / "text"), "-o", str(out)], tmp_path, unprivileged())
    assert ran.code == 2 and "Traceback" not in ran.stderr
    assert ran.stderr.strip().splitlines() == [f"error: cannot write to {out}: Permission denied"]


def test_a_full_disk_fails_each_document_in_one_line_and_leaves_nothing_half_written(tmp_path):
    """OUT on a 120 KB tmpfs in a mount namespace of its own (where the system allows one)."""
    out = tmp_path / "full"
    out.mkdir()
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True) if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        pytest.skip("no mount namespace here to make a small disk in")
    script = (f"mount -t tmpfs -o size=120k tmpfs '{out}' && "
              f"'{sys.executable}' -m extractor.cli extract '{ROOT / 'fixtures' / 'pdf' / 'run_on.pdf'}' "
              f"'{ROOT / 'fixtures' / 'text'}' -o '{out}'; echo \"exit $?\"; ls -A '{out}'")
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    failed = [x for x in r.stderr.splitlines() if x.startswith("FAILED")]
    assert failed and all(x.endswith(": no space left on the output device") for x in failed), r.stderr
    # exit 1 (documents failed), or 2 when not even the empty tables fit (one line says so)
    code = "exit 1" if "exit 1" in r.stdout else "exit 2"
    assert code in r.stdout and (code == "exit 1" or "error: the batch tables were not written" in r.stderr), r.stderr
    listing = r.stdout.split(code, 1)[1].split()
    assert not [n for n in listing if n.startswith(".")], listing  # no staging folder, no temporary file
    # The disk fills up between two runs: the second cannot write its tables, and the
    # first run's stay as they were (all or none: never one new table beside old ones);
    # exit 2, and the line says what is there and what to do
    tables = ("forms.csv", "indicators.csv", "findings.csv", "forms.xlsx", "forms.sqlite")
    extract = f"'{sys.executable}' -m extractor.cli extract '{ROOT / 'fixtures' / 'pdf'}' -o '{out}'"
    sums = f"cd '{out}' && md5sum {' '.join(tables)}"
    script = (f"mount -t tmpfs -o size=4m tmpfs '{out}' && {extract} 2>/dev/null; {sums}; echo ===; "
              f"dd if=/dev/zero of='{out}/filler' bs=4k 2>/dev/null; {extract}; echo \"exit $?\"; {sums}")
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, cwd=tmp_path)
    before, after = r.stdout.split("===")
    assert "exit 2" in after, (r.stdout, r.stderr)
    assert len(before.split()) == 2 * len(tables) and before.split() == after.split("exit 2", 1)[1].split()
    assert "error: the batch tables were not written (no space left on the output device)" in r.stderr


@pytest.mark.slow
def test_a_text_export_ten_times_larger_needs_no_more_memory(tmp_path):
    """5 MB and 50 MB of the seed export repeated (2,500 and 25,000 forms): the same
    peak, far under 500 MB (before, 50 MB took 897 MB and 200 MB 1.3 GB; 200 MB now
    peaks at 246 MB, eval/RESULTS.md)."""
    seed = hostile.SEED_TEXT.read_bytes() + b"\n\n"
    peaks = {}
    for mib in (5, 50):
        (tmp_path / f"{mib}.txt").write_bytes(seed * (mib * 2**20 // len(seed)))
        ran = run(["extract", str(tmp_path / f"{mib}.txt"), "-o", str(tmp_path / f"out{mib}"), "--format", "json,csv"], tmp_path)
        assert ran.code == 0, ran.stderr
        peaks[mib] = ran.peak
    assert peaks[50] < 1.3 * peaks[5] and peaks[50] < 300 << 20, peaks
