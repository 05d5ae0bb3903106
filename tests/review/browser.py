"""A real browser on the workbench: Playwright driving Debian's chromium.

The server runs in a thread of the test process on a free loopback port. Without
chromium the browser tests are skipped with the reason, unless
EXTRACTOR_REQUIRE_BROWSER is set (CI sets it: there they must run)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest


def chromium() -> str:
    found = os.environ.get("EXTRACTOR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    why = None
    if not found:
        why = "Debian's chromium is not installed (.ci/system-deps installs it)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            why = "playwright is not installed (pip install -e '.[test]')"
    if why:
        if os.environ.get("EXTRACTOR_REQUIRE_BROWSER"):
            pytest.fail(why + "; EXTRACTOR_REQUIRE_BROWSER is set")
        pytest.skip(why)
    return found


@contextmanager
def served(out: Path, reviewer: str = "tester"):
    """The workbench on `out`, listening on a free loopback port: yields its URL."""
    import uvicorn

    from extractor.review.app import Settings, create_app
    from extractor.review.workspace import Workspace

    workspace = Workspace(out, tables_delay=0.2)
    app = create_app(workspace, Settings(reviewer=reviewer))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        workspace.close()
        sock.close()


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()
