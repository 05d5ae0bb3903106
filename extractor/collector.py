"""Fewer runs of Python's cyclic garbage collector while a document is read.

The collector runs each time 700 more container objects exist than it last saw.
Reading a page builds thousands of small objects (words, cells, rows) that live
until the page is done, so at that threshold it runs several times a page, each
time walking them all, and now and then a full collection walks every object the
imported libraries hold (≈40 ms here). That was 6–15% of the rules engine's time.
A page's objects never come near `THRESHOLD`, so inside `fewer_collections()`
the collector runs rarely; cyclic garbage is still collected, a long document's
memory stays bounded, and the caller's setting comes back afterwards.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLD = 20_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold for the duration; nests and is
    thread-safe (the first to enter saves the setting, the last to leave restores it)."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(_saved[0], THRESHOLD), _saved[1], _saved[2])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
