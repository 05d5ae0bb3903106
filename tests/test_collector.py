"""The collector threshold is raised while a document is read and restored after."""

import gc
import threading
from pathlib import Path

import pytest

from extractor.collector import THRESHOLD, fewer_collections
from extractor.pipeline import extract_document


def test_threshold_raised_inside_and_restored_after_nesting_and_errors():
    before = gc.get_threshold()
    gc.set_threshold(500, 7, 9)
    try:
        with fewer_collections():
            assert gc.get_threshold() == (THRESHOLD, 7, 9)
            with fewer_collections():
                assert gc.get_threshold()[0] == THRESHOLD
            assert gc.get_threshold()[0] == THRESHOLD  # the outer one still holds it
        assert gc.get_threshold() == (500, 7, 9)
        with pytest.raises(RuntimeError):
            with fewer_collections():
                raise RuntimeError("boom")
        assert gc.get_threshold() == (500, 7, 9)
    finally:
        gc.set_threshold(*before)


def test_threads_overlapping_restore_the_setting_once_all_leave():
    before = gc.get_threshold()
    gc.set_threshold(600, 10, 10)
    inside, release = threading.Barrier(3), threading.Event()

    def worker():
        with fewer_collections():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        inside.wait()
        assert gc.get_threshold()[0] == THRESHOLD
        release.set()
        for t in threads:
            t.join()
        assert gc.get_threshold() == (600, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_documents_are_read_under_the_raised_threshold_and_it_is_restored(monkeypatch):
    import extractor.pipeline as pipeline

    seen = []
    real = pipeline.map_form

    def spying_map_form(*args, **kwargs):
        seen.append(gc.get_threshold()[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "map_form", spying_map_form)
    before = gc.get_threshold()
    result = extract_document(Path(__file__).resolve().parents[1] / "fixtures" / "pdf" / "run_on.pdf")
    assert len(seen) == len(result.forms) > 0
    assert set(seen) == {max(before[0], THRESHOLD)}
    assert gc.get_threshold() == before
