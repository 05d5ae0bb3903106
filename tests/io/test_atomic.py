"""Temporary files of a writer that is gone are removed; those of a live writer are not,
whatever their age, their pid or the state of the process that wrote them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from folders import running
from extractor.io.atomic import LEASE, atomic_path, remove_leftovers

WRITER = """
import os, sys, time
from pathlib import Path
from extractor.io.atomic import atomic_path
with atomic_path(Path(sys.argv[1])) as tmp:
    tmp.write_text("half")
    print(tmp, flush=True)
    if sys.argv[2] == "die":
        os._exit(0)  # ends inside the block: the file stays, its lock goes
    time.sleep(600)
"""


def writer(target: Path, how: str) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), how], stdout=subprocess.PIPE, text=True)
    return proc, Path(proc.stdout.readline().strip())


def test_a_zombie_writers_file_is_removed_at_once(tmp_path):
    """The writer ended and was never reaped (as under a PID 1 that does not reap):
    its pid still answers kill(pid, 0), but its lock is gone."""
    proc, tmp = writer(tmp_path / "a.json", "die")
    deadline = time.monotonic() + 30
    while running(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, 0)  # a zombie: still there for kill(0), the check that kept it before
    assert tmp.exists()
    assert remove_leftovers(tmp_path) == [tmp] and not tmp.exists()
    proc.wait()


def test_a_live_writers_file_is_kept_however_old(tmp_path):
    proc, tmp = writer(tmp_path / "a.json", "wait")
    try:
        os.utime(tmp, (time.time() - 3600, time.time() - 3600))
        assert remove_leftovers(tmp_path) == [] and tmp.exists()
    finally:
        proc.kill()
        proc.wait()
    assert remove_leftovers(tmp_path) == [tmp]  # gone with its writer


def test_a_staging_folder_is_kept_while_its_lease_is_held(tmp_path):
    from extractor.io.outputs import BatchTables

    tables = BatchTables(tmp_path)
    os.utime(tables.dir / LEASE, (time.time() - 3600, time.time() - 3600))
    assert remove_leftovers(tmp_path) == []
    tables._lease.release()  # as when its process ends without closing it
    assert remove_leftovers(tmp_path) == [tables.dir]
    tables.close()


def test_a_written_file_replaces_its_target_whole(tmp_path):
    target = tmp_path / "t.json"
    target.write_text("old")
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("new, half")
            raise RuntimeError("stopped")
    except RuntimeError:
        pass
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["t.json"]
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["t.json"]
