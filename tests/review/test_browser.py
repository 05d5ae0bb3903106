"""The review workbench in a real browser (chromium via Playwright): the queue, a
flagged form beside its page, each decision, reload, gold export, hostile text."""

import json
import re
import shutil
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.io.outputs import load_document_json

from browser import browser, served
from folders import ROOT, extract, needs_ocr

runner = CliRunner()
DOC = "one_per_page"


@pytest.fixture(scope="module")
def chrome():
    with browser() as b:
        yield b


@pytest.fixture
def page(chrome, out):
    context = chrome.new_context(viewport={"width": 1500, "height": 950})
    pg = context.new_page()
    dialogs = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    with served(out) as url:
        pg.base = url
        yield pg
    context.close()
    assert not dialogs, dialogs  # no document text ran as script


def open_first_error(page):
    page.goto(page.base + "/?filter=errors")
    page.locator("table.queue tbody tr a.form").first.click()
    page.wait_for_selector("tr.finding.selected")


@contextmanager
def applied(page):
    """A decision made in the block, applied in place: the page counts each answer it
    has taken in (no page load comes to wait for)."""
    count = "() => Number(document.documentElement.dataset.applied || 0)"
    before = page.evaluate(count)
    yield
    page.wait_for_function(f"{count[6:]} > {before}")


def back_to_the_decided_form(page):
    """A decision that finishes a form moves on to the next one; its line links back."""
    assert "decided — on to the next one" in page.locator("#decided").inner_text()
    with page.expect_navigation():
        page.locator("#decided a").click()


def test_the_queue_lists_every_flagged_form_with_counts_and_progress(page, out):
    page.goto(page.base + "/")
    result = load_document_json(out / f"{DOC}.json")
    flagged = [f for f in result.forms if any(x.severity in ("error", "warning") for x in f.findings)]
    errors = [f for f in flagged if any(x.severity == "error" for x in f.findings)]
    assert page.locator("table.queue tbody tr").count() == len(flagged)
    assert page.locator("#progress").inner_text() == f"0 of {len(flagged)} decided"
    page.click("a[data-filter=errors]")
    assert page.locator("table.queue tbody tr").count() == len(errors)
    assert page.locator("a[data-filter=errors] .count").inner_text() == str(len(errors))


def test_a_flagged_form_shows_its_page_with_the_disputed_cell_boxed(page):
    open_first_error(page)
    field = page.locator("tr.finding.selected").get_attribute("data-field")
    box = page.locator(f".box.error[data-field='{field}']")
    assert box.count() == 1 and box.is_visible()
    img = page.locator(".page img").first
    page.wait_for_function("document.querySelector('.page img').naturalWidth > 0")
    b, i = box.bounding_box(), img.bounding_box()
    assert i["x"] <= b["x"] and b["x"] + b["width"] <= i["x"] + i["width"] and i["y"] <= b["y"] <= i["y"] + i["height"]
    # Another value's box shows only under the pointer, on its value.
    other = page.locator("td.v[data-field='funding.total.executed']")
    other_box = page.locator(".box[data-field='funding.total.executed']")
    assert "hover" not in (other_box.get_attribute("class") or "")
    other.hover()
    assert "hover" in other_box.get_attribute("class")
    # Clicking a value zooms the page to its cell.
    other.click()
    assert "zoomed" in page.locator("#pages").get_attribute("class")


def test_correcting_a_value_removes_its_finding_and_survives_a_reload(page, out):
    open_first_error(page)
    row = page.locator("tr.finding.selected")
    field, code = row.get_attribute("data-field"), row.get_attribute("data-code")
    assert code == "rate_indicator_mismatch"
    page.keyboard.press("e")  # the value field, its text selected
    page.keyboard.type("94.46%")
    with applied(page):
        page.keyboard.press("Enter")
    back_to_the_decided_form(page)
    assert page.locator(f"tr.finding.open[data-code='{code}']").count() == 0
    assert page.locator("#state").inner_text() == "decided"
    page.reload()
    cell = page.locator(f"td.v[data-field='{field}']")
    assert cell.locator("input[name=value]").input_value() == "94.46%"
    assert "was 100.00(%)" in cell.inner_text()
    number = int(re.search(r"/form/[^/]+/(\d+)", page.url).group(1))
    assert load_document_json(out / f"{DOC}.json").forms[number - 1].indicators[0].actual == "94.46%"
    # Undone: the extracted value back, and its finding open again.
    with applied(page):
        cell.locator("button.reopen").click()
    assert page.locator(f"td.v[data-field='{field}'] input[name=value]").input_value() == "100.00(%)"
    assert page.locator(f"tr.finding.open[data-code='{code}']").count() == 1


def test_a_second_tab_on_the_same_form_gets_a_conflict_not_the_last_word(page, out):
    """Two tabs on one form: the first corrects a value; the second, opened before it,
    corrects the same value otherwise and is told its decision was not recorded (the
    page now shows the first tab's value); the first tab's value is the one kept."""
    open_first_error(page)
    number = int(re.search(r"/form/[^/]+/(\d+)", page.url).group(1))
    other = page.context.new_page()
    other.goto(page.url)
    field = page.locator("tr.finding.selected").get_attribute("data-field")
    for tab, typed in ((page, "94.46%"), (other, "11.11%")):
        tab.bring_to_front()
        tab.locator("tr.finding.selected").click()
        tab.keyboard.press("e")
        tab.keyboard.type(typed)
        with applied(tab):
            tab.keyboard.press("Enter")
    assert "your decision was not recorded" in other.locator("#error").inner_text()
    assert other.locator(f"td.v[data-field='{field}'] input[name=value]").input_value() == "94.46%"
    assert load_document_json(out / f"{DOC}.json").forms[number - 1].indicators[0].actual == "94.46%"
    other.close()


def test_z_zooms_to_the_selected_findings_box_and_back(page):
    """z zooms the page in with the selected finding's box in view (it zoomed to the
    page's top-left corner), and z again zooms out."""
    open_first_error(page)
    field = page.locator("tr.finding.selected").get_attribute("data-field")
    page.keyboard.press("z")
    assert "zoomed" in page.locator("#pages").get_attribute("class")
    page.wait_for_timeout(300)  # (the smooth part of the scroll, if any)
    box = page.locator(f".box[data-field='{field}']").first.bounding_box()
    view = page.locator("#pages").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    assert view["x"] <= cx <= view["x"] + view["width"] and view["y"] <= cy <= view["y"] + view["height"], (box, view)
    page.keyboard.press("z")
    assert "zoomed" not in page.locator("#pages").get_attribute("class")


def test_a_decision_keeps_the_zoom_and_the_scroll_of_the_form(page):
    """A decision that leaves the form open is applied in place — no page load: the
    zoom and the page's scroll stay as they were, the decided finding's box loses its
    colour (form 4 of the document: four warnings)."""
    page.goto(page.base + f"/form/{DOC}/4")
    page.wait_for_selector("tr.finding.selected")
    page.keyboard.press("z")
    page.wait_for_timeout(300)
    pages = page.locator("#pages")
    pages.evaluate("el => { el.scrollTop = 400; el.scrollLeft = 300; }")
    before = pages.evaluate("el => [el.scrollTop, el.scrollLeft]")
    assert before[0] > 0 and before[1] > 0
    page.evaluate("window.stillThisPage = true")
    field = page.locator("tr.finding.selected").get_attribute("data-field")
    assert page.locator(f".box.warning[data-field='{field}']").count() >= 1
    with applied(page):
        page.keyboard.press("c")
    assert page.evaluate("window.stillThisPage === true")  # (a page load would have dropped it)
    assert page.locator("#open-count").inner_text() == "3 open"
    assert page.locator(f"tr.finding.closed[data-field='{field}']").count() >= 1
    if page.locator(f"tr.finding.open[data-field='{field}']").count() == 0:
        assert page.locator(f".box.warning[data-field='{field}']").count() == 0
    assert "zoomed" in pages.get_attribute("class")
    after = pages.evaluate("el => [el.scrollTop, el.scrollLeft]")
    assert abs(after[0] - before[0]) <= 2 and abs(after[1] - before[1]) <= 2, (before, after)


def test_confirming_takes_one_key_and_dismissing_asks_for_a_reason(page):
    open_first_error(page)
    code = page.locator("tr.finding.selected").get_attribute("data-code")
    with applied(page):
        page.keyboard.press("c")  # one keystroke after the form opened
    back_to_the_decided_form(page)
    closed = page.locator(f"tr.finding.closed[data-code='{code}']")
    assert "confirmed" in closed.inner_text()
    assert page.locator("#state").inner_text() == "decided"
    # Reopen it, then dismiss: x asks for the reason first, Enter records it.
    with applied(page):
        closed.locator("button.reopen").click()
    page.keyboard.press("x")
    comment = page.locator("tr.finding.selected input.comment")
    assert comment.evaluate("el => el === document.activeElement")
    page.keyboard.type("the rate is the year's, not the indicator's")
    with applied(page):
        page.keyboard.press("Enter")
    back_to_the_decided_form(page)
    dismissed = page.locator(f"tr.finding.closed[data-code='{code}']")
    assert "dismissed" in dismissed.inner_text() and "not the indicator" in dismissed.inner_text()


def test_next_goes_through_the_queue_and_progress_counts_decisions(page):
    """n and p walk the filter's queue; a decision that finishes a form moves on to the
    next form not decided (the filter kept), and under "undecided" Next from a decided
    form is the one after it, not the top of the list again."""
    open_first_error(page)
    first = page.url
    with page.expect_navigation():
        page.keyboard.press("n")
    second = page.url
    assert second != first and "filter=errors" in second
    with page.expect_navigation():
        page.keyboard.press("p")
    assert page.url == first
    page.goto(second)
    with applied(page):
        page.keyboard.press("c")  # (its one error: the form is decided; the next error form not decided is the first)
    assert page.url.split("?")[0] == first.split("?")[0] and "filter=errors" in page.url
    assert page.locator("#state").inner_text() == "undecided" and page.locator("#decided").count() == 1
    with applied(page):
        page.keyboard.press("c")  # (the keys work on a form taken in without a page load)
    page.goto(page.base + "/")
    assert page.locator("#progress").inner_text().startswith("2 of ")
    # The decided form under a filter that no longer shows it: Next is the form after
    # it in the queue (forms 1, 2, 4, 5 of the document: 4), not the top of the list (1).
    page.goto(second.split("?")[0] + "?filter=undecided")
    with page.expect_navigation():
        page.keyboard.press("n")
    assert page.url.split("?")[0].endswith(f"/form/{DOC}/4") and "filter=undecided" in page.url


def test_every_warning_of_one_code_on_a_form_is_confirmed_at_once(page, out):
    """A form with two warnings of each of two codes: one click confirms both of a code
    (a decision each in the log); the other code's, then, finishes the form and moves on."""
    from extractor.review.store import ReviewLog

    page.goto(page.base + f"/form/{DOC}/4")
    assert page.locator("#open-count").inner_text() == "4 open"
    with applied(page):
        page.locator("form.bulk[data-code=score_without_reason] button.confirm-all").click()
    assert page.locator("#open-count").inner_text() == "2 open" and page.url.split("?")[0].endswith(f"/form/{DOC}/4")
    assert page.locator("form.bulk[data-code=score_without_reason]").count() == 0
    assert [(d.code, d.action) for d in ReviewLog(out).history()] == [("score_without_reason", "confirm")] * 2
    with applied(page):
        page.locator("form.bulk[data-code=met_but_deducted] button.confirm-all").click()
    assert page.url.split("?")[0].endswith(f"/form/{DOC}/5") and page.locator("#decided").count() == 1
    assert load_document_json(out / f"{DOC}.json").forms[3].review.state == "decided"


def test_decided_forms_export_as_gold_that_eval_scores(page, out, tmp_path):
    open_first_error(page)
    with applied(page):
        page.keyboard.press("c")  # the document prints this: the extraction is right
    gold = tmp_path / "gold"
    r = runner.invoke(app, ["review", "export-gold", str(out), "-o", str(gold)])
    assert r.exit_code == 0 and "1 decided forms of 1 document written" in r.output, r.output
    report = tmp_path / "report.json"
    r = runner.invoke(app, ["eval", str(gold), "--report", str(report)])
    assert r.exit_code == 0, r.output
    scores = json.loads(report.read_text())["types"]["born_digital"]
    assert (scores["forms_expected"], scores["forms_matched"], scores["forms_exact"]) == (1, 1, 1)


def test_a_script_in_a_document_is_shown_as_text_and_never_runs(chrome, tmp_path):
    text = (ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt").read_text(encoding="utf-8")
    hostile = "<script>window.__xss=1</script><img src=x onerror=window.__xss=2>"
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hostile.txt").write_text(text.replace("军转工作经费", hostile, 1), encoding="utf-8")
    out = extract([tmp_path / "docs" / "hostile.txt"], tmp_path / "out")
    result = load_document_json(out / "hostile.json")
    number = next(i for i, f in enumerate(result.forms, 1) if "<" in (f.project_name or ""))
    form = result.forms[number - 1]
    shown = form.project_name  # (as the reader took it from the cell: it drops a <script> element)
    form.implementing_unit = "<script>window.__xss=3</script>"  # as an LLM might return it
    form.findings = [*form.findings]
    if not any(f.severity == "error" for f in form.findings):  # into the queue with an error of its own
        form.total_score = (form.total_score or 0) + 1
    from extractor.review.decisions import recheck

    recheck(form)
    from extractor.io.outputs import write_document_json

    write_document_json(result, out / "hostile.json")
    context = chrome.new_context()
    pg = context.new_page()
    with served(out) as url:
        for path in ["/", f"/form/hostile/{number}"]:
            pg.goto(url + path)
            assert pg.evaluate("window.__xss") is None
        assert shown in pg.locator("h1").inner_text()
        assert pg.locator("h1 script, h1 img").count() == 0
        unit = pg.locator("td.v[data-field='implementing_unit'] input[name=value]")
        assert unit.input_value() == "<script>window.__xss=3</script>"
    context.close()


@needs_ocr
def test_a_photo_form_is_shown_with_its_boxes_on_the_squared_page(chrome, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "fixtures" / "scanned" / "phone_photo.jpg", docs / "phone_photo.jpg")
    out = extract([docs / "phone_photo.jpg"], tmp_path / "out")
    context = chrome.new_context(viewport={"width": 1500, "height": 950})
    pg = context.new_page()
    with served(out) as url:
        pg.goto(url + "/form/phone_photo/1")
        pg.wait_for_function("document.querySelector('.page img').naturalWidth > 0")
        img = pg.locator(".page img").bounding_box()
        box = pg.locator(".box[data-field='project_name']").bounding_box()
        # 项目名称's value sits in the top fifth of the page, right of its label.
        assert img["x"] + 0.15 * img["width"] < box["x"] and img["y"] < box["y"] < img["y"] + 0.2 * img["height"]
    context.close()
