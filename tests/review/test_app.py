"""The workbench's server: security, pages for every kind of input, and no decision
lost when it is killed."""

import json
import re
import shutil
import signal
import subprocess
import sys
import threading
from decimal import Decimal

import httpx
import pytest
from starlette.testclient import TestClient

from extractor.io.outputs import load_document_json, write_document_json
from extractor.review.app import Settings, create_app
from extractor.review.static import write_review
from extractor.review.store import ReviewLog
from extractor.review.workspace import Workspace

from folders import ROOT, extract, needs_ocr

DOC = "one_per_page"


def client(out, **settings) -> TestClient:
    return TestClient(create_app(Workspace(out), Settings(reviewer="tester", **settings)), base_url="http://127.0.0.1")


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf" content="([^"]+)"', html).group(1)


def first_error(out):
    ws = Workspace(out)
    item = next(q for q in ws.queue() if q.errors)
    return item, next(f for f in ws.result(item.document).forms[item.form - 1].findings if f.severity == "error")


def test_a_decision_needs_the_pages_csrf_token(out):
    c = client(out)
    item, finding = first_error(out)
    fields = {"document": DOC, "form": item.form, "field": finding.field, "code": finding.code, "action": "confirm"}
    assert c.post("/decide", data=fields).status_code == 403
    assert c.post("/decide", data={**fields, "csrf": "guessed"}).status_code == 403
    token = csrf_of(c.get("/").text)
    r = c.post("/decide", data={**fields, "csrf": token}, follow_redirects=False)
    state = Workspace(out).result(DOC).forms[item.form - 1].review.state
    # (the form's last open finding: on to the next form, saying which was decided)
    assert r.status_code == 303 and (r.headers["location"] == f"/form/{DOC}/{item.form}" if state != "decided" else
                                     r.headers["location"].endswith(f"?decided={DOC}%2F{item.form}"))
    (d,) = ReviewLog(out).history()
    assert (d.action, d.reviewer) == ("confirm", "tester")
    (h,) = c.get("/history.json").json()
    assert (h["action"], h["field"], h["code"], h["reviewer"]) == ("confirm", finding.field, finding.code, "tester")


def test_two_tabs_on_one_form_the_later_save_is_a_conflict_not_an_overwrite(out):
    """Tab A corrects a value; tab B, loaded before, saves another value for it: B gets
    a conflict page (409) that says what was decided meanwhile, and A's value stands.
    Reloaded, B decides again and is recorded (the page carries the form's version)."""
    c = client(out)
    item, _ = first_error(out)
    url = f"/form/{DOC}/{item.form}"
    tab_a, tab_b = c.get(url).text, c.get(url).text
    version = re.search(r'name="version" value="(\d+)"', tab_a).group(1)
    assert version == re.search(r'name="version" value="(\d+)"', tab_b).group(1) == "0"
    fields = {"csrf": csrf_of(tab_a), "document": DOC, "form": item.form, "field": "funding.total.executed",
              "code": "", "action": "correct"}
    r = c.post("/decide", data={**fields, "value": "11.11", "version": version, "reviewer": "a"}, follow_redirects=False)
    assert r.status_code == 303
    r = c.post("/decide", data={**fields, "value": "22.22", "version": version, "reviewer": "b"})
    assert r.status_code == 409 and "your decision was not recorded" in r.text and "by a at" in r.text
    assert [(d.reviewer, d.decided) for d in ReviewLog(out).history()] == [("a", 11.11)]
    assert load_document_json(out / f"{DOC}.json").forms[item.form - 1].funding.total.executed == Decimal("11.11")
    fresh = re.search(r'name="version" value="(\d+)"', r.text).group(1)  # (the conflict page is the form as it stands)
    assert fresh != version
    r = c.post("/decide", data={**fields, "value": "22.22", "version": fresh, "reviewer": "b"}, follow_redirects=False)
    assert r.status_code == 303
    assert load_document_json(out / f"{DOC}.json").forms[item.form - 1].funding.total.executed == Decimal("22.22")


def test_nothing_outside_the_folder_is_served(out, tmp_path):
    (tmp_path / "secret.json").write_text('{"password": 1}')
    c = client(out)
    for url in ["/form/..%2Fsecret/1", "/page/..%2Fsecret/1", "/form/%2E%2E%2Fsecret/1", "/page/errors/1",
                "/assets/../app.py", "/assets/%2e%2e/app.py", "/assets/..%2Fapp.py", "/form/.review/1"]:
        r = c.get(url)
        assert r.status_code == 404, url
        assert "password" not in r.text and "import" not in r.text


def test_another_host_name_is_refused_and_another_address_needs_the_token(out):
    assert client(out).get("/", headers={"host": "evil.example"}).status_code == 400  # DNS rebinding
    c = client(out, token="s3cret", host="0.0.0.0")
    assert c.get("/").status_code == 401
    r = c.get("/?token=s3cret", follow_redirects=False)
    assert r.status_code == 303 and "review_token=s3cret" in r.headers["set-cookie"]
    assert c.get("/").status_code == 200  # (the cookie now)


def test_a_wrong_value_is_shown_back_with_the_reason(out):
    c = client(out)
    item, _ = first_error(out)
    token = csrf_of(c.get("/").text)
    r = c.post("/decide", data={"csrf": token, "document": DOC, "form": item.form, "field": "funding.total.executed",
                                "code": "", "action": "correct", "value": "lots"})
    assert r.status_code == 400 and "not a number: &#39;lots&#39;" in r.text


@pytest.fixture(scope="module")
def photo_out(tmp_path_factory):
    docs = tmp_path_factory.mktemp("photo")
    shutil.copy(ROOT / "fixtures" / "scanned" / "phone_photo.jpg", docs / "phone_photo.jpg")
    return extract([docs / "phone_photo.jpg"], tmp_path_factory.mktemp("photo_out"))


@needs_ocr
def test_a_photo_is_shown_as_read_with_its_boxes_on_it(photo_out):
    """A photo's values were read on the squared page: the page shown is that one,
    and its boxes are in its coordinates (they fit inside it)."""
    c = client(photo_out)
    r = c.get("/page/phone_photo/1")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    html = c.get("/form/phone_photo/1").text
    boxes = re.findall(r'class="box[^"]*" data-field="([^"]+)"[^>]*style="left:([\d.]+)%;top:([\d.]+)%;width:([\d.]+)%;height:([\d.]+)%', html)
    assert len(boxes) > 30
    assert all(0 <= float(x) and float(x) + float(w) <= 100.5 and 0 <= float(y) and float(y) + float(h) <= 100.5 for _, x, y, w, h in boxes)


@needs_ocr
def test_static_pages_work_for_a_photo_and_escape_the_document(photo_out, tmp_path):
    result = load_document_json(photo_out / "phone_photo.json")
    form = result.forms[0]
    form.project_name = '<script>alert(1)</script>'
    form.findings = [form.findings[0]] if form.findings else []
    from extractor.models import Finding

    form.findings.append(Finding(code="total_score", severity="error", message="x", field="total_score"))
    page = write_review(result, tmp_path / "static", results_dir=photo_out)
    html = page.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (tmp_path / "static" / "pages" / "p1.jpg").stat().st_size > 10_000


def test_a_source_replaced_since_extraction_is_said_not_drawn(out):
    result = load_document_json(out / f"{DOC}.json")
    result.source.path = str(out.parent / "moved.pdf")  # (the extracted source is shared by other tests)
    write_document_json(result, out / f"{DOC}.json")
    shutil.copy(ROOT / "fixtures" / "pdf" / "borderless.pdf", out.parent / "moved.pdf")
    c = client(out)
    assert "has changed since it was extracted" in c.get(f"/form/{DOC}/1").text
    assert c.get(f"/page/{DOC}/1").status_code == 404


def _serve(out):
    proc = subprocess.Popen([sys.executable, "-m", "extractor.cli", "review", str(out), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    url = re.search(r"open (http://\S+)", line)
    assert url, line
    return proc, url.group(1)


def test_killing_the_server_mid_write_loses_no_acknowledged_decision(out):
    """Decisions stream in while the server is killed (SIGKILL); after a restart every
    decision it acknowledged is in the log and in the result file."""
    proc, url = _serve(out)
    acknowledged: list[str] = []
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            token = csrf_of(http.get("/").text)
            killer = threading.Timer(1.5, lambda: proc.send_signal(signal.SIGKILL))
            killer.start()
            for i in range(10_000):
                value = f"title {i}"
                try:
                    r = http.post("/decide", data={"csrf": token, "document": DOC, "form": 1, "field": "title",
                                                   "code": "", "action": "correct", "value": value})
                except httpx.TransportError:
                    break
                if r.status_code == 303:
                    acknowledged.append(value)
            killer.join()
    finally:
        proc.kill()
        proc.wait()
    assert len(acknowledged) > 5
    logged = [d.decided for d in reversed(ReviewLog(out).history(100_000))]
    assert logged[: len(acknowledged)] == acknowledged  # (one more may have been committed, unacknowledged)
    proc, url = _serve(out)  # the restarted server derives the file from the log
    try:
        httpx.get(url, timeout=10)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert load_document_json(out / f"{DOC}.json").forms[0].title == logged[-1]


def test_the_command_writes_static_pages_and_refuses_what_it_cannot_serve(out, tmp_path):
    from typer.testing import CliRunner

    from extractor.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["review", str(out), "--static", "-o", str(tmp_path / "static")])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "static" / DOC / "index.html").read_text(encoding="utf-8")
    assert html.count('class="box error"') >= 2 and (tmp_path / "static" / DOC / "pages").is_dir()
    assert runner.invoke(app, ["review", str(out / f"{DOC}.json")]).exit_code == 2  # a file, not a folder
    r = runner.invoke(app, ["review", "export-gold", str(out), "-o", str(tmp_path / "gold")])
    assert r.exit_code == 1 and "0 decided forms" in r.output  # nothing decided yet


def test_a_huge_page_is_drawn_coarser_not_refused(tmp_path):
    """A 200-inch page (PDF's largest) at the workbench's 144 dpi would be 830 megapixels."""
    import pymupdf

    from extractor.review.pages import MAX_PIXELS, render

    doc = pymupdf.open()
    page = doc.new_page(width=14400, height=14400)
    page.insert_text((72, 72), "项目名称 huge", fontname="china-s", fontsize=40)
    doc.save(tmp_path / "huge.pdf")
    image = render(tmp_path / "huge.pdf", 1, [])
    pix = pymupdf.Pixmap(image.data)
    assert pix.w * pix.h <= MAX_PIXELS and pix.w > 1000
    assert (image.width, image.height) == (14400, 14400)  # the boxes' coordinates are unchanged


def test_every_response_refuses_framing_and_sniffing(out):
    c = client(out)
    for url in ("/", "/history.json", "/form/nowhere/1"):
        r = c.get(url)
        assert r.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"


def test_bad_bytes_in_a_decision_or_a_token_are_a_4xx_not_a_500(out):
    c = client(out)
    assert c.post("/decide", data={"csrf": "ü" * 8, "document": DOC, "form": "1"}).status_code == 403
    assert c.post("/decide", content=b"csrf=\xff\xfe", headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 400
    t = TestClient(create_app(Workspace(out), Settings(reviewer="tester", token="s3cret")), base_url="http://127.0.0.1")
    assert t.get("/?token=%C3%BC%C3%BC").status_code == 401
    r = t.get("/?token=s3cret&filter=undecided", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?filter=undecided"  # (the filter kept)


def test_a_corrupt_review_log_stops_neither_extraction_nor_says_less_than_one_line(out, tmp_path):
    """Extraction never depends on the review log: a file that is no database is named
    on the summary line and the documents are read; the workbench refuses in one line."""
    from typer.testing import CliRunner

    from extractor.cli import app

    (out / "review.sqlite").write_bytes(b"not a database at all" * 100)
    for wal in ("review.sqlite-wal", "review.sqlite-shm"):
        (out / wal).unlink(missing_ok=True)
    text = ROOT / "fixtures" / "text" / "004_f03db79725452826.txt"
    r = CliRunner().invoke(app, ["extract", str(text), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "reviewers' decisions not applied" in r.output and "review.sqlite cannot be used as the review log" in r.output
    assert "FAILED" not in r.output and "internal error" not in r.output
    r = CliRunner().invoke(app, ["review", "serve", str(out), "--port", "0"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.output.strip().splitlines()[-1].startswith("error: ") and "move it aside" in r.output


def test_a_source_that_is_no_regular_file_is_not_hashed_and_other_hosts_of_loopback_work(out):
    """A result naming /dev/zero as its source would hash forever (on the loop, the whole
    workbench stopped); the address served on is a host the app accepts."""
    result = load_document_json(out / f"{DOC}.json")
    result.source.path = "/dev/zero"
    write_document_json(result, out / f"{DOC}.json")
    c = client(out)
    r = c.get(f"/page/{DOC}/1")
    assert r.status_code == 404 and "not found" in r.text
    for host, header in (("127.0.0.2", "127.0.0.2:8765"), ("::1", "[::1]:8765"), ("127.0.0.1", "localhost:8765")):
        c = TestClient(create_app(Workspace(out), Settings(reviewer="t", host=host)), base_url="http://127.0.0.1")
        assert c.get("/", headers={"host": header}).status_code == 200, header
    assert c.get("/", headers={"host": "evil.example:8765"}).status_code == 400  # (DNS rebinding)


def test_a_restarted_server_accepts_the_pages_its_tabs_still_show(out):
    item, finding = first_error(out)
    token = csrf_of(client(out).get("/").text)  # a tab opened before the restart
    again = client(out)  # the server started again on the same folder
    fields = {"document": DOC, "form": item.form, "field": finding.field, "code": finding.code, "action": "confirm",
              "csrf": token}
    assert again.post("/decide", data=fields, follow_redirects=False).status_code == 303
    assert oct((out / ".review" / "csrf").stat().st_mode & 0o777) == "0o600"


def test_fields_are_labelled_in_chinese_with_rows_from_one(out):
    """第3项指标的得分 for indicators[2].score (the path kept in the title), as the messages say."""
    import re

    flagged = next(p for p in sorted(out.glob("*.json")) if p.stem not in ("errors", "metadata", "summary")
                   and any(x["field"] and x["field"].startswith("indicators[")
                           for f in json.loads(p.read_text(encoding="utf-8"))["forms"] for x in f["findings"]))
    forms = json.loads(flagged.read_text(encoding="utf-8"))["forms"]
    number, finding = next((i, x) for i, f in enumerate(forms, 1) for x in f["findings"]
                           if x["field"] and x["field"].startswith("indicators["))
    page = client(out).get(f"/form/{flagged.stem}/{number}").text
    row = int(re.match(r"indicators\[(\d+)\]", finding["field"]).group(1))
    assert f'<code title="{finding["field"]}">第{row + 1}项指标' in page
    assert "<th title=\"project_name\">项目名称</th>" in page or "<th title=\"department\">主管部门</th>" in page


def test_gold_is_only_what_a_reviewer_verified_and_its_paths_move_with_it(out, tmp_path):
    """A form whose missing total a reviewer merely confirmed is decided but not gold (the
    value it lacks is not verified): export-gold leaves it out and says why; corrected,
    it is gold. The manifest's paths are relative to it."""
    from extractor.review.decisions import recheck
    from extractor.review.gold import export_gold
    from extractor.settings import CheckSettings

    result = load_document_json(out / f"{DOC}.json")
    number = next(i for i, f in enumerate(result.forms, 1) if not f.findings)
    printed = result.forms[number - 1].total_score
    result.forms[number - 1].total_score = None  # (the total not read)
    recheck(result.forms[number - 1], CheckSettings())
    write_document_json(result, out / f"{DOC}.json")
    ws = Workspace(out)
    missing = [x for x in ws.result(DOC).forms[number - 1].findings if x.severity == "error"]
    assert {x.code for x in missing} == {"missing_field"}
    for x in missing:
        ws.decide(DOC, number, x.field, x.code, "confirm", comment="not printed")
    assert ws.result(DOC).forms[number - 1].review.state == "decided"
    from typer.testing import CliRunner

    from extractor.cli import app

    # (check --strict: the confirmed errors are decided; other forms' open errors still fail it)
    only = tmp_path / "only"
    only.mkdir()
    one = load_document_json(out / f"{DOC}.json")
    one.forms = [one.forms[number - 1]]
    write_document_json(one, only / "one.json")
    assert CliRunner().invoke(app, ["check", str(only / "one.json"), "--strict"]).exit_code == 0
    assert CliRunner().invoke(app, ["check", str(out / f"{DOC}.json"), "--strict"]).exit_code == 1
    done = export_gold(out, tmp_path / "gold")
    assert done.forms == 0 and len(done.left_out) == 1 and f"form {number}" in done.left_out[0]
    assert "missing_field confirmed" in done.left_out[0] and done.undecided > 0
    ws.decide(DOC, number, "total_score", "", "correct", value=str(printed))
    done = export_gold(out, tmp_path / "gold")
    assert done.forms == 1 and not done.left_out
    manifest = json.loads((tmp_path / "gold" / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = manifest["documents"]
    assert not entry["document"].startswith("/") and (tmp_path / "gold" / entry["document"]).resolve().is_file()
    shutil.move(tmp_path / "gold", tmp_path / "moved")  # (the set and the documents move together: a sibling folder)
    from extractor.eval_sets import load_set

    (doc,) = load_set(str(tmp_path / "moved"))
    assert doc.path.is_file() and doc.gold[0].total_score == printed


def test_static_pages_mirror_the_review_read_only(out, tmp_path):
    """--static: every flagged form (warnings too, as the queue), each finding's decision
    and comment, a corrected value with what was extracted, the form's state, and an index
    with the decided count."""
    from typer.testing import CliRunner

    from extractor.cli import app

    ws = Workspace(out)
    item, finding = first_error(out)
    ws.decide(DOC, item.form, finding.field, finding.code, "confirm", comment="印刷如此")
    ws.decide(DOC, item.form, "funding.total.executed", "", "correct", value="80.00")
    ws.close()
    r = CliRunner().invoke(app, ["review", str(out), "--static", "-o", str(tmp_path / "static")])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "static" / DOC / "index.html").read_text(encoding="utf-8")
    queue = Workspace(out).queue()
    assert html.count('<section class="form"') == len(queue)  # (the warnings' forms too)
    assert "confirmed: 印刷如此" in html and "(corrected; was " in html
    index = (tmp_path / "static" / "index.html").read_text(encoding="utf-8")
    decided = sum(q.state == "decided" for q in queue)
    assert f"{decided} of {len(queue)} forms decided" in index


def test_the_queue_filters_by_finding_code_and_by_document_and_the_flow_keeps_the_filter(out):
    """`code:<code>` shows the forms with that finding open, `doc:<name>` one document's;
    a code and a document in the queue are links to them; Next and the move after a
    decision stay inside the filter."""
    c = client(out)
    items = Workspace(out).queue()
    code = "met_but_deducted"
    wanted = [q.form for q in items if code in q.codes]
    html = c.get("/", params={"filter": f"code:{code}"}).text
    shown = [int(n) for n in re.findall(r'href="/form/[^/"]+/(\d+)\?filter=code%3Amet_but_deducted"', html)]
    assert shown == wanted and len(wanted) >= 2 and 'id="filtered"' in html
    assert f'href="/?filter=code%3A{code}"' in html and f'href="/?filter=doc%3A{DOC}"' in html
    assert len(re.findall(r'<tr class="', c.get("/", params={"filter": f"doc:{DOC}"}).text)) == len(items)
    assert len(re.findall(r'<tr class="', c.get("/", params={"filter": "doc:nothing-here"}).text)) == 0
    page = c.get(f"/form/{DOC}/{wanted[0]}", params={"filter": f"code:{code}"}).text
    assert f'href="/form/{DOC}/{wanted[1]}?filter=code%3A{code}"' in page  # (next, inside the filter)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    for bulk_code in {x for q in items if q.form == wanted[0] for x in q.codes}:
        r = c.post("/decide", data={"csrf": csrf_of(page), "document": DOC, "form": wanted[0], "code": bulk_code, "all": "1",
                                    "action": "confirm", "filter": f"code:{code}", "version": version}, follow_redirects=False)
        assert r.status_code == 303, r.text
        version = str(Workspace(out).version(DOC, wanted[0]))
    assert r.headers["location"].startswith(f"/form/{DOC}/{wanted[1]}?filter=code%3A{code}&decided=")


def test_the_history_page_lists_decisions_escaped_and_linked_and_the_reviewer_comes_from_the_environment(out, monkeypatch):
    c = client(out)
    item, finding = first_error(out)
    ws = Workspace(out)
    ws.decide(DOC, item.form, finding.field, finding.code, "dismiss", comment="<script>alert(1)</script> 见附件", reviewer="张三")
    ws.close()
    html = c.get("/history").text
    assert "张三" in html and "&lt;script&gt;alert(1)&lt;/script&gt; 见附件" in html and "<script>alert(1)" not in html
    assert f'href="/form/{DOC}/{item.form}"' in html and 'href="/history"' in c.get("/").text
    from typer.testing import CliRunner

    from extractor.cli import app
    from extractor.review import commands

    seen = {}
    monkeypatch.setattr(commands, "serve_folder", lambda folder, host, port, reviewer, settings: seen.update(reviewer=reviewer))
    monkeypatch.setenv("EXTRACTOR_REVIEWER", "李四")
    assert CliRunner().invoke(app, ["review", str(out)]).exit_code == 0
    assert seen == {"reviewer": "李四"}


def _extracted_copy(tmp_path, fixture):
    """A fixture copied into a folder of its own and extracted: OUT, the result's name, the result."""
    (tmp_path / "docs").mkdir()
    shutil.copy(fixture, tmp_path / "docs" / fixture.name)
    out = extract([tmp_path / "docs" / fixture.name], tmp_path / "out")
    return out, fixture.stem, load_document_json(out / f"{fixture.stem}.json")


@pytest.mark.parametrize("name", ["national_xlsx.xlsx", "national_docx_report.docx"])
def test_a_workbook_or_word_form_is_shown_as_its_cells_with_the_boxes_on_them(tmp_path, name):
    """No page image for a workbook or a Word file: its sheet (or page) is drawn as the
    reader laid it out — every cell's text in its place, named by its reference — and
    the values' boxes lie on their cells."""
    import html as html_lib

    out, stem, result = _extracted_copy(tmp_path, ROOT / "fixtures" / "office" / name)
    number, form = next((i, f) for i, f in enumerate(result.forms, 1) if f.provenance.get("project_name"))
    page = client(out).get(f"/form/{stem}/{number}").text
    assert 'class="page sheet"' in page and "No page image" not in page and "<img" not in page
    cells = re.findall(r'<div class="cell" title="([^"]*)" style="left:([\d.]+)%;top:([\d.]+)%;width:([\d.]+)%;height:([\d.]+)%">([^<]*)</div>', page)
    assert len(cells) > 30
    src = form.provenance["project_name"]
    shown = {html_lib.unescape(text): (ref, float(x), float(y)) for ref, x, y, w, h, text in cells}
    assert form.project_name in shown and shown[form.project_name][0] == (src.cell or "")
    box = re.search(r'class="box[^"]*" data-field="project_name"[^>]*style="left:([\d.]+)%;top:([\d.]+)%', page)
    assert box and abs(float(box.group(1)) - shown[form.project_name][1]) < 0.01 and abs(float(box.group(2)) - shown[form.project_name][2]) < 0.01


def test_a_text_export_form_is_shown_as_its_lines_with_each_value_marked(tmp_path):
    """A text export has no page: the form page shows the export's lines around the form,
    numbered as in the file, split into the cells the reader read, each value's cell
    named by its field, the disputed ones marked with their finding's severity."""
    import html as html_lib

    name = "001_4588a3eccc5d7ba5.txt"  # (24 forms, one with a dropped column: flagged)
    out, stem, result = _extracted_copy(tmp_path, ROOT / "fixtures" / "text" / name)
    number, form = next((i, f) for i, f in enumerate(result.forms, 1) if any(x.severity == "error" for x in f.findings))
    page = client(out).get(f"/form/{stem}/{number}").text
    assert 'id="textsource"' in page and "No page image" not in page
    import unicodedata

    def plain(text):
        return "".join(unicodedata.normalize("NFKC", text).split())

    file_lines = (tmp_path / "docs" / name).read_text(encoding="utf-8").splitlines()
    shown = re.findall(r'<div class="tline" id="L(\d+)"><span class="ln">\d+</span>(.*?)</div>', page)
    assert len(shown) >= 10
    for n, cells in shown:
        texts = [html_lib.unescape(t) for t in re.findall(r"<span class=\"tcell[^\"]*\"[^>]*>(.*?)</span>", cells)]
        line = plain(file_lines[int(n) - 1])  # (the cells as read: canonical text, spaces as the reader left them)
        assert all(plain(t) in line for t in texts if t.strip()), (n, texts)
    name_cell = re.search(r'<span class="tcell[^"]*" data-field="project_name" title="L(\d+)C\d+[^"]*">([^<]*)</span>', page)
    assert name_cell and html_lib.unescape(name_cell.group(2)) == form.project_name
    assert form.provenance["project_name"].cell.startswith(f"L{name_cell.group(1)}C")
    assert re.search(r'<span class="tcell (error|warning)" data-field=', page)  # (the disputed values)


def test_every_open_warning_of_a_code_across_the_queue_confirmed_at_once_with_the_count_shown_first(out):
    """Under a code's filter the queue offers to confirm all its open warnings, saying how
    many in how many forms; the count sent back must still hold (another reviewer may
    have decided meanwhile), else nothing is decided."""
    c = client(out)
    code = "met_but_deducted"
    ws = Workspace(out)
    n = ws.open_warnings(code)
    assert n >= 2
    html = c.get("/", params={"filter": f"code:{code}"}).text
    assert f"Confirm all {n} open <b>{code}</b> warnings in" in html
    token = csrf_of(html)
    r = c.post("/decide-code", data={"csrf": token, "code": code, "shown": n - 1, "action": "confirm"}, follow_redirects=False)
    assert r.status_code == 303 and "refused=changed" in r.headers["location"]
    assert Workspace(out).open_warnings(code) == n and "nothing was decided" in c.get(r.headers["location"]).text
    assert c.post("/decide-code", data={"csrf": "x", "code": code, "shown": n, "action": "confirm"}).status_code == 403
    r = c.post("/decide-code", data={"csrf": token, "code": code, "shown": n, "action": "confirm", "comment": "as printed"},
               follow_redirects=False)
    assert r.status_code == 303 and f"done={n}" in r.headers["location"]
    assert f"{n} warnings confirmed" in c.get(r.headers["location"]).text
    assert Workspace(out).open_warnings(code) == 0
    assert sum(1 for d in ReviewLog(out).history(500) if d.code == code and d.action == "confirm") == n
    assert "Confirm all" not in c.get("/", params={"filter": f"code:{code}"}).text
