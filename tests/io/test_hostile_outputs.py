"""Text from documents is data in every output: no formula runs in a spreadsheet, no
script in an HTML export becomes a form, no input's name takes the batch's own files."""

import csv
import json
import zipfile

import pytest

from typer.testing import CliRunner

from conftest import ROOT
from folders import children, still_running
from extractor.cli import app

runner = CliRunner()
SEED = ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt"
PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)"]


def test_no_text_becomes_a_formula_in_csv_or_excel(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    for payload, name in zip(PAYLOADS, ("军转工作经费", "宣传工作经费", "教育培训工作经费", "服务大厅工作经费")):
        assert name in text
        text = text.replace(name, payload, 1)
    (tmp_path / "in.txt").write_text(text, encoding="utf-8")
    r = runner.invoke(app, ["extract", str(tmp_path / "in.txt"), "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    # Excel: every cell that holds such text is a text cell, never <f>; the printed
    # targets ("=100(%)") too, which before were written as 125 formulas
    with zipfile.ZipFile(tmp_path / "out" / "forms.xlsx") as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s for s in sheets)
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "out" / "forms.xlsx")

    def column(sheet: str, name: str) -> list:
        rows = list(wb[sheet].iter_rows(values_only=True))  # (a row of Chinese headers, a row of names)
        return [r[rows[1].index(name)] for r in rows[2:]]

    assert set(PAYLOADS) <= set(column("forms", "project_name"))  # the text kept exactly, as text
    assert "=100.00(%)" in column("indicators", "target")
    # CSV: a leading apostrophe, as OWASP advises, on exactly those cells
    with open(tmp_path / "out" / "forms.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {"'" + p for p in PAYLOADS} <= {r["project_name"] for r in rows}
    assert all(not v.startswith(("=", "+", "@")) for r in rows for v in r.values() if v)
    # JSON and SQLite keep the text as it is
    doc = json.loads((tmp_path / "out" / "in.json").read_text(encoding="utf-8"))
    assert set(PAYLOADS) <= {f["project_name"] for f in doc["forms"]}


def test_script_style_and_comments_in_an_html_export_are_not_content(tmp_path):
    injected = ("<script type='text/template'>\n<tr><td>项目名称</td><td>injected</td></tr>\n</script>\n"
                "<!--\n<tr><td>项目名称</td><td>hidden</td></tr>\n-->\n<style>td{}</style>\n")
    text = "<html><body>" + injected + "<table>" + "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in line.split("\t")) + "</tr>"
        for line in (ROOT / "fixtures" / "text" / "004_f03db79725452826.txt").read_text(encoding="utf-8").splitlines()
    ) + "</table></body></html>"
    (tmp_path / "x.html").write_text(text, encoding="utf-8")
    from extractor.pipeline import ExtractOptions, extract_document

    forms = extract_document(tmp_path / "x.html", ExtractOptions(engine="rules")).forms
    assert len(forms) == 1 and forms[0].kind == "department"


def test_an_input_named_like_the_batchs_own_file_does_not_take_it(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "errors.txt").write_bytes(SEED.read_bytes())
    (tmp_path / "in" / "bad.pdf").write_bytes(b"%PDF-1.4 broken")
    r = runner.invoke(app, ["extract", str(tmp_path / "in"), "-o", str(tmp_path / "out")])
    assert r.exit_code == 1
    errors = json.loads((tmp_path / "out" / "errors.json").read_text(encoding="utf-8"))
    assert [e["document"] for e in errors] == ["bad"]
    (result,) = [p for p in (tmp_path / "out").glob("*_errors.json")]
    assert len(json.loads(result.read_text(encoding="utf-8"))["forms"]) == 7


def test_a_killed_runs_leftovers_are_cleaned_by_the_next(tmp_path):
    import fcntl
    import os
    import time

    out = tmp_path / "out"
    (out / ".tables-999999999-abc").mkdir(parents=True)  # a staging folder whose process is gone
    (out / f".tables-{os.getppid()}-live").mkdir()  # one of a process still running: kept
    stale = out / ".forms.csv.k2j3.tmp"
    stale.write_text("half")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    held = out / ".run_on.json.x1.tmp"
    held.write_text("being written")
    with open(held) as writer:  # a live writer holds its file locked, however long it takes
        fcntl.flock(writer, fcntl.LOCK_EX)
        os.utime(held, (time.time() - 3600, time.time() - 3600))
        r = runner.invoke(app, ["extract", str(SEED), "-o", str(out)])
        assert r.exit_code == 0, r.output
        left = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert left == sorted([f".tables-{os.getppid()}-live", ".run_on.json.x1.tmp"])


def test_an_output_folder_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "out").write_text("not a folder")
    r = runner.invoke(app, ["extract", str(SEED), "-o", str(tmp_path / "out")])
    assert r.exit_code == 2 and r.output.startswith("error: cannot write to") and len(r.output.strip().splitlines()) == 1


def test_workers_die_with_their_parent(tmp_path):
    """kill -9 of a batch with two workers: before, both workers ran on a minute later."""
    import os
    import signal
    import subprocess
    import sys
    import time

    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(12):
        (inputs / f"r{i}.pdf").write_bytes((ROOT / "fixtures" / "pdf" / "run_on.pdf").read_bytes() + b"%" * (i + 1) + b"\n")
    proc = subprocess.Popen([sys.executable, "-m", "extractor.cli", "extract", str(inputs), "-o", str(tmp_path / "out"), "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    deadline = time.time() + 30
    while len(kids := children(proc.pid)) < 2 and time.time() < deadline:
        time.sleep(0.1)
    assert len(kids) >= 2, "the workers did not start"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not still_running(kids)


def test_a_truncated_pdf_says_it_was_read_in_part_and_counts_in_the_exit_status(tmp_path):
    """Cut at 90%, run_on.pdf gives 7 of its 12 forms; before, its line said 'ok' and
    the batch exited 0."""
    data = (ROOT / "fixtures" / "pdf" / "run_on.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[: int(len(data) * 0.9)])
    r = runner.invoke(app, ["extract", str(tmp_path / "cut.pdf"), "-o", str(tmp_path / "out")])
    assert r.exit_code == 1
    line = next(x for x in r.output.splitlines() if "cut.pdf" in x)
    assert line.startswith("DAMAGED") and "the PDF is damaged (MuPDF:" in line and "forms may be missing" in line
    assert "1 damaged, read in part" in r.output


def test_names_with_newlines_keep_one_line_each_and_out_is_not_read_as_input(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a\nb.txt").write_bytes(SEED.read_bytes())
    (inputs / "bad\nname.pdf").write_bytes(b"%PDF-1.4 x")
    r = runner.invoke(app, ["extract", str(inputs), "-o", str(inputs / "out")])
    lines = [x for x in r.output.splitlines() if x.startswith(("ok", "FAILED"))]
    assert len(lines) == 2 and any("a\\nb.txt: 7 forms" in x for x in lines) and any("bad\\nname.pdf" in x for x in lines)
    # a second run over the same folder does not take its own tables (out/forms.xlsx) for a report
    r = runner.invoke(app, ["extract", str(inputs), "-o", str(inputs / "out")])
    assert "forms.xlsx" not in r.output and "2 documents" in r.output


def test_a_utf16_export_without_its_byte_order_mark_is_read(tmp_path):
    from extractor.pipeline import ExtractOptions, extract_document

    text = (ROOT / "fixtures" / "text" / "004_f03db79725452826.txt").read_text(encoding="utf-8")
    for encoding in ("utf-16-le", "utf-16-be"):
        (tmp_path / "x.txt").write_bytes(text.encode(encoding))
        (form,) = extract_document(tmp_path / "x.txt", ExtractOptions(engine="rules")).forms
        assert form.department == "上海市闵行区浦锦街道社区事务受理服务中心"
    (tmp_path / "b.txt").write_bytes(bytes(range(256)) * 8)  # binary stays binary
    import pytest

    from extractor.errors import UnsupportedFile

    with pytest.raises(UnsupportedFile):
        extract_document(tmp_path / "b.txt", ExtractOptions(engine="rules"))


def test_check_on_a_huge_corrected_value_finds_it_instead_of_stopping(tmp_path):
    assert runner.invoke(app, ["extract", str(SEED), "-o", str(tmp_path)]).exit_code == 0
    path = tmp_path / "000_01aad9c628fef0c3.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["forms"][0]["total_score"] = 1e308
    doc["forms"][1]["funding"]["total"]["executed"] = 1e308
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = runner.invoke(app, ["check", str(tmp_path), "--strict"])
    assert r.exit_code == 1 and (r.exception is None or isinstance(r.exception, SystemExit))
    after = json.loads(path.read_text(encoding="utf-8"))
    assert any(f["code"] == "total_score" for f in after["forms"][0]["findings"])
    assert any(f["field"] == "funding.total.execution_rate" for f in after["forms"][1]["findings"])


def test_an_html_export_with_60000_unclosed_rows_is_read_in_linear_time():
    """540 KB of '<tr><td>x' never closed: the lazy row pattern ran past 120 s."""
    import time

    from extractor.read.text_export import read_text_export

    def seconds(n: int) -> float:
        started = time.perf_counter()
        rows = read_text_export("<table>" + "<tr><td>x" * n + "</table>").rows
        assert len(rows) == n and all(r.texts == ["x"] for r in rows[:3])
        return time.perf_counter() - started

    # Linear, not quadratic: ten times the rows cost about ten times the time (against a
    # baseline measured now, on this machine and its load; quadratic would be 100×)
    small = min(seconds(6000) for _ in range(2))
    assert seconds(60000) < 35 * small + 0.5


def test_a_cut_jpeg_says_it_is_damaged_and_counts_in_the_exit_status(root, tmp_path):
    """MuPDF only warns of a JPEG that ends early; the document still says so."""
    pytest.importorskip("cv2")
    from extractor.read import ocr

    if not ocr.available():
        pytest.skip("the ocr extra is not installed")
    data = (root / "fixtures" / "scanned" / "photo_sideways.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) * 2 // 3])
    r = CliRunner().invoke(app, ["extract", str(cut), "-o", str(tmp_path / "out")])
    line = next(l for l in r.output.splitlines() if "cut.jpg" in l)
    assert r.exit_code == 1 and line.startswith("DAMAGED") and "the image is damaged (MuPDF: premature end" in line


def test_a_jpeg_damaged_in_the_middle_says_so(root, tmp_path):
    """Data overwritten mid-file (not cut at the end): MuPDF draws over it without a
    word; libjpeg's complaint makes the document DAMAGED, its form warned."""
    pytest.importorskip("cv2")
    from extractor.read import ocr

    if not ocr.available():
        pytest.skip("the ocr extra is not installed")
    data = (root / "fixtures" / "scanned" / "phone_photo.jpg").read_bytes()
    mid = len(data) // 2
    damaged = tmp_path / "damaged.jpg"
    damaged.write_bytes(data[:mid] + bytes(4096) + data[mid + 4096:])
    sound = tmp_path / "sound.jpg"
    sound.write_bytes(data)
    r = CliRunner().invoke(app, ["extract", str(damaged), str(sound), "-o", str(tmp_path / "out")])
    line = next(l for l in r.output.splitlines() if "damaged.jpg" in l)
    assert r.exit_code == 1 and line.startswith("DAMAGED") and "libjpeg: Corrupt JPEG data" in line
    assert not next(l for l in r.output.splitlines() if "sound.jpg" in l).startswith("DAMAGED")
    result = json.loads((tmp_path / "out" / "damaged.json").read_text(encoding="utf-8"))
    assert all(any(f["code"] == "damaged_pages" for f in form["findings"]) for form in result["forms"])
