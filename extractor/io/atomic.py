"""Files written whole or not at all, and what a killed writer leaves behind.

A file is written to a temporary name beside its target (`.<name>.<pid>-<random>.tmp`),
flushed to the disk, renamed onto the target, and the folder flushed after it: a
crash, a kill or a power loss leaves the old file or the new one, never half.

The writer holds an exclusive `flock` on its temporary file while it writes. The
kernel lets go of it when the writer's process ends — also when it stays a zombie
(a worker whose parent died may never be reaped), and whatever process later gets
its pid — so a later run removes exactly the temporary files no live writer holds.
"""

from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# A temporary file whose lock is free but whose writer may not have taken it yet
# (the instant between creating it and locking it) is left alone this long.
_FRESH_SECONDS = 2.0


@functools.cache
def _umask() -> int:
    """The process's umask, read once (os.umask can only be read by setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (where the system allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside `target`, renamed onto it (durably) when the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until the file is renamed or removed (see the module's note)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it owner-only; outputs are for sharing
        yield Path(tmp)
        with open(tmp, "rb+") as fh:  # (the writer may have written through its own handle)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fsync_folder(target.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        os.close(fd)


def write_text_atomic(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


class Lease:
    """An exclusive lock on `path` held for as long as this process keeps it (or ends):
    the mark that a staging folder is still in use."""

    def __init__(self, path: Path):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


LEASE = ".lease"  # the file inside a staging folder that its owner holds locked


def _unheld(path: Path) -> bool:
    """Nobody holds `path` locked (its writer ended). False where it cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # (closing lets go of the lock just taken)


def _stale(path: Path, name: str | None = None) -> bool:
    """Abandoned: unlocked, and either old or of a writer that is no longer running
    (a new one may be about to lock it)."""
    try:
        fresh = time.time() - path.stat().st_mtime < _FRESH_SECONDS
    except OSError:
        return False
    return _unheld(path) and (not fresh or not _writer_running(name or path.name))


# The writer's pid in a temporary file's name, or in a staging folder's.
_PID = re.compile(r"\.(\d+)-[^.]*\.tmp$|^\.tables-(\d+)-")


def _writer_running(name: str) -> bool:
    """The pid in a temporary or staging name is a running process (a zombie is not);
    True where the name carries none."""
    m = _PID.search(name)
    if m is None:
        return True
    pid = int(m.group(1) or m.group(2))
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(out_dir: Path) -> list[Path]:
    """What killed runs left in OUT: staging folders (`.tables-…`) and temporary files
    (`.<name>.<pid>-<random>.tmp`, and SQLite's journal beside one) that no live
    process holds."""
    gone = []
    for p in out_dir.glob(".tables-*"):
        lease = p / LEASE
        abandoned = _stale(lease, p.name) if lease.exists() else not _writer_running(p.name)
        if p.is_dir() and abandoned:
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p)
    for p in sorted(out_dir.glob(".*.tmp")):
        if p.is_file() and _stale(p):
            p.unlink(missing_ok=True)
            gone.append(p)
    for p in out_dir.glob(".*.tmp-*"):  # a journal whose database is gone
        base = p.with_name(p.name.rsplit("-", 1)[0])
        if not base.exists():
            p.unlink(missing_ok=True)
            gone.append(p)
    return gone
