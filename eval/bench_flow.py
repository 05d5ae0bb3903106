"""The review workbench driven by keys alone: how fast a reviewer goes through a queue.

    python eval/bench_flow.py [--copies 100]

--copies distinct copies of one fixture (one_per_page.pdf with a byte appended: other
sha256s, so each is a document of its own, as a real batch's are) are extracted into
one output folder: two forms with one error each per copy, two with warnings. In
Chromium (Debian's, via Playwright), on the errors filter, the reviewer presses `c`
on each form: the decision is recorded and the next undecided form opens. Figures:

- a decision's round trip (the key pressed → the answer applied in place, the next
  form's page images drawn), median, p95 and the
  slowest, over the first and the last 20 decisions of the run (does it slow down as
  the log grows?), and forms a minute with keys only;
- the next form (`n`) through the warnings, the same figures;
- the first page image of each scanned page and photo of fixtures/scanned (rendered
  on request, the photos' paper found and squared again), and the queue page requested
  over and over meanwhile: is it served while a page is drawn?
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "review"))

from browser import chromium, served  # noqa: E402
from folders import extract  # noqa: E402


def make_folder(work: Path, copies: int, formats: tuple[str, ...] = ("json", "csv", "xlsx", "sqlite")) -> Path:
    docs = work / "docs"
    docs.mkdir()
    data = (ROOT / "fixtures" / "pdf" / "one_per_page.pdf").read_bytes()
    for i in range(copies):
        (docs / f"report-{i:04d}.pdf").write_bytes(data + b"\n%" + str(i).encode() + b"\n")
    return extract(sorted(docs.iterdir()), work / "out", formats=formats)


def _figures(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {"n": len(seconds), "median_s": round(statistics.median(seconds), 3),
            "p95_s": round(ordered[max(0, int(0.95 * len(ordered)) - 1)], 3), "max_s": round(ordered[-1], 3)}


def _timed_key(page, key: str) -> float:
    """A key that loads another page (n): until it has loaded."""
    started = time.perf_counter()
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press(key)
    return time.perf_counter() - started


_APPLIED = "Number(document.documentElement.dataset.applied || 0)"


def _timed_decision(page, key: str) -> float:
    """A decision key: applied in place (fetch), until the page has taken the answer in
    and its page images are drawn (the next form's, when it moved on)."""
    before = page.evaluate(_APPLIED)
    started = time.perf_counter()
    page.keyboard.press(key)
    page.wait_for_function(f"{_APPLIED} > {before} && Array.from(document.images).every(i => i.complete)", polling="raf")
    return time.perf_counter() - started


def first_images(work: Path) -> dict:
    import threading

    import httpx

    sources = sorted(p for p in (ROOT / "fixtures" / "scanned").iterdir() if p.suffix != ".json")
    out = extract(sources, work / "scans", formats=("json",))
    names = sorted(p.stem for p in out.glob("*.json") if p.stem not in ("errors", "summary", "metadata"))
    firsts, during = [], []
    with served(out) as url, httpx.Client(base_url=url, timeout=120) as client:
        for name in names:
            stop = threading.Event()

            def poll() -> None:
                while not stop.is_set():
                    started = time.perf_counter()
                    client.get("/")
                    during.append(time.perf_counter() - started)

            poller = threading.Thread(target=poll)
            poller.start()
            started = time.perf_counter()
            assert client.get(f"/page/{name}/1").status_code == 200, name
            firsts.append(time.perf_counter() - started)
            stop.set()
            poller.join()
    return {"first_page_image": _figures(firsts), "queue_meanwhile": _figures(during)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=100)
    ap.add_argument("--format", default="json,csv,xlsx,sqlite", help="the batch tables OUT has (rewritten after decisions)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        out = make_folder(Path(tmp), args.copies, tuple(args.format.split(",")))
        with sync_playwright() as p, served(out) as url:
            browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url + "/?filter=errors")
            page.locator("table.queue tbody tr a.form").first.click()
            page.wait_for_selector("tr.finding.selected")
            decisions: list[float] = []
            started = time.perf_counter()
            while True:
                here = page.url
                decisions.append(_timed_decision(page, "c"))
                if page.url.split("?")[0] == here.split("?")[0]:  # (the last one: nothing left to move on to)
                    break
            minutes = (time.perf_counter() - started) / 60
            page.goto(url + "/?filter=warnings")
            page.locator("table.queue tbody tr a.form").first.click()
            page.wait_for_selector("tr.finding.selected")
            nexts = [_timed_key(page, "n") for _ in range(min(60, 2 * args.copies - 1))]
            browser.close()
        images = first_images(Path(tmp))
    report = {"copies": args.copies, "formats": args.format, "decisions": _figures(decisions), "first_20": _figures(decisions[:20]),
              "last_20": _figures(decisions[-20:]), "forms_a_minute": round(len(decisions) / minutes, 1),
              "next_form": _figures(nexts), **images}
    print(json.dumps(report, indent=1))
    d = report["decisions"]
    print(f"{d['n']} decisions, keys only: round trip median {d['median_s']:.3f} s, p95 {d['p95_s']:.3f} s, "
          f"slowest {d['max_s']:.3f} s (first 20: p95 {report['first_20']['p95_s']:.3f} s; last 20: p95 "
          f"{report['last_20']['p95_s']:.3f} s); {report['forms_a_minute']} forms a minute")
    n = report["next_form"]
    print(f"next form: median {n['median_s']:.3f} s, p95 {n['p95_s']:.3f} s, slowest {n['max_s']:.3f} s")
    f, q = report["first_page_image"], report["queue_meanwhile"]
    print(f"first page image of {f['n']} scans and photos: median {f['median_s']:.3f} s, slowest {f['max_s']:.3f} s; "
          f"the queue meanwhile ({q['n']} requests): median {q['median_s']:.3f} s, slowest {q['max_s']:.3f} s")


if __name__ == "__main__":
    main()
