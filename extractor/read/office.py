"""Old office formats (.xls, .doc, .wps, .et) converted by LibreOffice headless, kept
on a short leash: the file passed by its absolute path (a name starting with `-` is
no option), LibreOffice in a process group of its own that is killed on a timeout and
with the worker that started it (`workers.companion`), a throw-away profile, no
network where the system lets it be taken away (a linked image is not fetched)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .. import workers
from ..errors import CorruptFile, OverBudget, UnsupportedFile

CONVERT_SECONDS = 120.0


@functools.cache
def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@functools.cache
def _offline() -> list[str]:
    """`unshare -n` where this process may make a network namespace (root, CI): the
    conversion then has no network at all; else nothing."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    try:
        ok = subprocess.run([unshare, "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return [unshare, "-n"] if ok else []


def convert(path: Path, to: str, workdir: Path, what: str, seconds: float = CONVERT_SECONDS) -> Path:
    """`path` converted to `to` (`xlsx`, `docx`, `pdf`) in `workdir`; the converted file.
    `what` names the input in messages ("an .xls workbook")."""
    soffice = _soffice()
    if soffice is None:
        raise UnsupportedFile(f"{what} is read through LibreOffice, which is not installed "
                              "(apt-get install libreoffice-calc-nogui libreoffice-writer-nogui)",
                              zh="此类文件需经 LibreOffice 读取，但未安装（apt-get install libreoffice-calc-nogui libreoffice-writer-nogui）")
    source = workdir / ("input" + path.suffix.lower())  # a name of ours: no option, no odd characters
    shutil.copyfile(path, source)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    workers.step(f"converting {what} with LibreOffice")
    with tempfile.TemporaryDirectory(prefix="extractor-lo-") as profile:
        proc = subprocess.Popen(
            [*_offline(), soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
             "--nolockcheck", "--nodefault", "--convert-to", to, "--outdir", str(workdir), str(source.resolve())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        with workers.companion(proc.pid):  # (what is left of its group is killed on leaving)
            try:
                code: int | None = proc.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                code = None
        proc.wait()
    if code is None:
        raise OverBudget(f"LibreOffice did not convert {what} within {seconds:g} s: stopped",
                         zh=f"LibreOffice 未能在 {seconds:g} 秒内完成转换：已停止")
    out = workdir / f"input.{to}"
    if code != 0 or not out.exists() or out.stat().st_size == 0:
        raise CorruptFile(f"LibreOffice could not convert {what}", zh="LibreOffice 无法转换此文件")
    return out
