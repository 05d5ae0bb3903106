"""The benchmark script still measures what the README quotes from it (it once
stopped at an import after a refactor, and no test noticed)."""

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_the_benchmark_runs_and_reports_every_ratio(root, tmp_path):
    report = tmp_path / "bench.json"
    subprocess.run([sys.executable, str(root / "eval" / "bench.py"), "--repeat", "1", "--big-pages", "20", "--json", str(report)],
                   check=True, capture_output=True, timeout=600)
    r = json.loads(report.read_text(encoding="utf-8"))
    assert r["pages"]["pages"] == 51 and r["pages"]["rules_vs_floor"] > 1
    assert r["find_tables"]["same_box"] == r["find_tables"]["cells"]  # our grid's cells are PyMuPDF's
    assert r["checker"]["forms"] == 940 and r["checker"]["check_forms_per_s"] > 0
    assert 0.8 < r["memory"]["long_vs_tenth_length"] < 1.5  # memory does not grow with the document
    if r.get("ocr"):
        assert r["ocr"]["seconds_per_page"] > 0 and r["ocr"]["ratio"] > 0
