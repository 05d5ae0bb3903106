"""The review workbench in a browser: how fast the queue and a form view open.

    python eval/bench_review.py [--forms 1000]

An output folder with at least --forms flagged forms (one fixture's results copied
under new names), the workbench on it, and chromium (Debian's, via Playwright)
loading pages. Figures, each against a baseline in the same run:

- the queue of every flagged form: seconds until the page has loaded, against the
  same HTML saved as a static file and loaded from disk (what the server adds);
- a form view, first visit (its page image rendered) and later visits, against a
  static page of the same size;
- the server's start on the folder (every result read once), against reading the
  same JSON files with json.loads.
"""

from __future__ import annotations

import argparse
import json
import shutil
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


def _load_seconds(page, url: str) -> float:
    page.goto(url, wait_until="load")
    return page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000.0


def make_folder(work: Path, forms: int) -> tuple[Path, int]:
    docs = work / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "fixtures" / "pdf" / "one_per_page.pdf", docs)
    shutil.copy(ROOT / "fixtures" / "pdf" / "borderless.pdf", docs)
    out = extract(sorted(docs.iterdir()), work / "out", formats=("json",))
    from extractor.review.workspace import Workspace

    per_copy = len(Workspace(out).queue())
    originals = sorted(out.glob("*.json"))
    shutil.copy(ROOT / "fixtures" / "scanned" / "phone_photo.jpg", docs)  # (a form view of a photo; not flagged)
    extract([docs / "phone_photo.jpg"], out, formats=("json",))
    copies = 0
    while copies * per_copy < forms:
        for f in originals:
            if f.name != "errors.json":
                shutil.copy(f, out / f"{f.stem}-copy{copies:04d}.json")
        copies += 1
    return out, len(Workspace(out).queue())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--forms", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from extractor.review.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        out, flagged = make_folder(work, args.forms)
        files = [p for p in out.glob("*.json") if p.name != "errors.json"]
        t = time.perf_counter()
        for p in files:
            json.loads(p.read_text(encoding="utf-8"))
        bare = time.perf_counter() - t
        t = time.perf_counter()
        Workspace(out).queue()
        start = time.perf_counter() - t
        report: dict = {"flagged_forms": flagged, "documents": len(files),
                        "start_s": round(start, 3), "start_vs_json_loads": round(start / bare, 2)}
        with sync_playwright() as p, served(out) as url:
            browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            _load_seconds(page, url + "/")  # (warm the server's caches and the browser)
            queue = statistics.median(_load_seconds(page, url + "/") for _ in range(args.repeat))
            static = work / "queue.html"
            static.write_text(page.content(), encoding="utf-8")
            queue_static = statistics.median(_load_seconds(page, static.as_uri()) for _ in range(args.repeat))
            rows = page.locator("table.queue tbody tr").count()
            links = page.eval_on_selector_all("table.queue tbody tr a.form", "els => els.map(e => e.getAttribute('href'))")
            cache = out / ".review"
            firsts, photo = [], []
            for h in links[: args.repeat]:  # first visits: the page images rendered (the copies share them)
                shutil.rmtree(cache, ignore_errors=True)
                firsts.append(_load_seconds(page, url + h))
            agains = [_load_seconds(page, url + h) for h in links[: args.repeat]]
            for _ in range(args.repeat):
                shutil.rmtree(cache, ignore_errors=True)
                photo.append(_load_seconds(page, url + "/form/phone_photo/1"))
            form_static = work / "form.html"
            form_static.write_text(page.content(), encoding="utf-8")
            static_form = statistics.median(_load_seconds(page, form_static.as_uri()) for _ in range(args.repeat))
            browser.close()
        report.update({
            "queue_rows": rows,
            "queue_s": round(queue, 3), "queue_vs_static": round(queue / queue_static, 2),
            "form_first_s": round(statistics.median(firsts), 3), "form_again_s": round(statistics.median(agains), 3),
            "form_vs_static": round(statistics.median(agains) / static_form, 2),
            "photo_form_first_s": round(statistics.median(photo), 3),
        })
    print(json.dumps(report, indent=1))
    print(f"queue of {rows} flagged forms: {queue:.3f} s (target < 1 s; {report['queue_vs_static']}× the same page from disk)")
    print(f"form view: {report['form_first_s']:.3f} s first visit, {report['form_again_s']:.3f} s after (target < 0.5 s); "
          f"a photo's first visit (squared again): {report['photo_form_first_s']:.3f} s")
    print(f"server start on {len(files)} result files: {start:.2f} s ({report['start_vs_json_loads']}× json.loads of them)")


if __name__ == "__main__":
    main()
