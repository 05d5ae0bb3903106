"""The accuracy figures the issues quote, held as regression floors on the fixtures."""

import json

from typer.testing import CliRunner

from extractor.cli import app
from extractor.evaluate import default_set, evaluate, markdown


def test_rules_engine_meets_its_figures_on_the_fixtures():
    report = evaluate(default_set())
    born, text = report["types"]["born_digital"], report["types"]["text_export"]
    assert born["forms_found"] == born["forms_expected"] == 48
    assert born["field_accuracy"]["overall"] >= 0.995
    assert born["exact_rate"] >= 0.98
    assert text["forms_found"] == text["forms_expected"] == 47
    assert text["field_accuracy"]["overall"] >= 0.99
    for t in (born, text):
        assert t["silent_errors"] == 0
    # Tables without column rules (row rules only, or none): columns and rows from
    # word alignment. Every form exact since the borderless department form's labels
    # centred below a span cut by the page break found their rows (was 98.03%, 11/12).
    unruled = report["types"]["born_digital_unruled"]
    assert unruled["forms_found"] == unruled["forms_expected"] == 12
    assert unruled["field_accuracy"]["overall"] >= 0.999 and unruled["exact_rate"] == 1.0
    assert unruled["silent_errors"] == 0
    scanned = report["types"].get("scanned")
    if scanned is not None:  # present when the ocr extra is installed
        assert scanned["forms_found"] == scanned["forms_expected"] == 7
        assert scanned["field_accuracy"]["overall"] >= 0.97
        assert scanned["field_accuracy"]["funding"] >= 0.98 and scanned["field_accuracy"]["indicator_numbers"] >= 0.98
        assert scanned["silent_errors"] == 0
    assert "| born_digital |" in markdown(report)


def test_eval_reports_and_compares(tmp_path, root):
    runner = CliRunner()
    first = tmp_path / "a.json"
    manifest = str(root / "fixtures" / "pdf" / "manifest.json")
    r = runner.invoke(app, ["eval", manifest, "--report", str(first)])
    assert r.exit_code == 0 and "silent errors" in r.output
    assert (tmp_path / "a.md").read_text(encoding="utf-8").count("| born_digital |") == 1
    data = json.loads(first.read_text(encoding="utf-8"))
    data["types"]["born_digital"]["field_accuracy"]["overall"] = 0.5  # pretend it used to be worse
    first.write_text(json.dumps(data), encoding="utf-8")
    r = runner.invoke(app, ["eval", manifest, "--compare", str(first)])
    assert "born_digital field_accuracy.overall: 0.5000 ->" in r.output and "(better)" in r.output


def test_a_wrong_extraction_is_counted_and_flagged(root, tmp_path):
    """The evaluator itself: a document whose gold disagrees with what is printed
    shows up as a wrong form, and the checker's flag is credited."""
    gold = json.loads((root / "eval" / "gold" / "text" / "000_01aad9c628fef0c3.json").read_text(encoding="utf-8"))
    gold["forms"][0]["indicators"][0]["score"] = 19  # gold says 19, the page says 20
    (tmp_path / "g.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    manifest = {"documents": [{"document": str(root / gold["document"]), "doc_type": "text_export",
                               "gold": [{"file": str(tmp_path / "g.json"), "index": i} for i in range(7)]}]}
    (tmp_path / "m.json").write_text(json.dumps(manifest), encoding="utf-8")
    from extractor.evaluate import load_manifest

    t = evaluate(load_manifest(tmp_path / "m.json", root))["types"]["text_export"]
    assert t["wrong_forms"] == 1 and t["forms_exact"] == 6
    assert t["fields"]["indicator_numbers"][0] == t["fields"]["indicator_numbers"][1] - 1
