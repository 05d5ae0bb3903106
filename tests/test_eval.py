"""The accuracy figures the issues quote, held as regression floors on the fixtures."""

import json

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.evaluate import default_set, evaluate, markdown

runner = CliRunner()


@pytest.mark.slow
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
        # Offices' pages (issue 17): seals over the scores, phone photos, glyph-number text layers
        for kind, forms in (("seal", 3), ("photo", 2), ("unusable_text_layer", 2)):
            t = report["types"][kind]
            assert t["forms_found"] == t["forms_expected"] == forms and t["silent_errors"] == 0, kind
            assert t["field_accuracy"]["overall"] >= 0.98, kind
    assert "| born_digital |" in markdown(report)


def test_eval_reports_and_compares(tmp_path, root):
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
    from extractor.eval_sets import load_manifest

    t = evaluate(load_manifest(tmp_path / "m.json"))["types"]["text_export"]
    assert t["wrong_forms"] == 1 and t["forms_exact"] == 6
    assert t["fields"]["indicator_numbers"][0] == t["fields"]["indicator_numbers"][1] - 1


def test_a_users_own_set_resolves_paths_from_its_manifests_folder(root, tmp_path, monkeypatch):
    """A manifest's document and gold paths are relative to its own folder, whatever
    the working directory (from a wheel install there is no repository)."""
    import shutil

    (tmp_path / "set" / "gold").mkdir(parents=True)
    shutil.copy(root / "fixtures" / "text" / "004_f03db79725452826.txt", tmp_path / "set" / "dept.txt")
    shutil.copy(root / "eval" / "gold" / "text" / "004_f03db79725452826.json", tmp_path / "set" / "gold" / "dept.json")
    manifest = {"documents": [{"document": "dept.txt", "doc_type": "text_export", "gold": [{"file": "gold/dept.json", "index": 0}]}]}
    (tmp_path / "set" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["eval", "set/manifest.json"])
    assert r.exit_code == 0, r.output
    assert "| text_export | 1/1 | 100.00% |" in r.output


def test_a_gold_file_with_an_unknown_key_is_one_line_naming_file_and_key(root, tmp_path):
    gold = json.loads((root / "eval" / "gold" / "text" / "004_f03db79725452826.json").read_text(encoding="utf-8"))
    gold["forms"][0]["indicators"][2]["colour"] = "red"
    (tmp_path / "g.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    manifest = {"documents": [{"document": str(root / gold["document"]), "doc_type": "text_export", "gold": [{"file": "g.json", "index": 0}]}]}
    (tmp_path / "m.json").write_text(json.dumps(manifest), encoding="utf-8")
    r = runner.invoke(app, ["eval", str(tmp_path / "m.json")])
    lines = r.output.strip().splitlines()
    assert r.exit_code == 2 and len(lines) == 1, r.output
    assert "g.json: form 0: indicators.2.colour: Extra inputs are not permitted" in lines[0]


def test_remarks_are_compared_one_by_one_as_findings_name_them():
    """Each remark is a field of its own (`remarks.存在问题`): a wrong one is silent unless
    an error names it or its remarks, and an error on another remark does not; a remark
    read that the form does not print is wrong too. Before, the remarks were one field,
    which an error on one remark could not name."""
    from extractor.evaluate import TypeScore, compare_form
    from extractor.models import Finding, ProjectForm

    gold = ProjectForm(project_name="x", remarks={"评价结论": "优", "存在问题": "无"})
    found = gold.model_copy(update={"remarks": {"评价结论": "先", "存在问题": "无", "改进措施": "加强"}})

    def diffs(findings):
        score = TypeScore()
        exact = compare_form(found.model_copy(update={"findings": findings}), gold, score)
        return exact, {d["field"]: d["silent"] for w in score.wrong for d in w["diffs"]}

    named = [Finding(code="low_confidence", severity="error", field="remarks.评价结论", message="m")]
    assert diffs([]) == (False, {"remarks.评价结论": True, "remarks.改进措施": True})
    assert diffs(named) == (False, {"remarks.评价结论": False, "remarks.改进措施": True})
    assert diffs([named[0].model_copy(update={"field": "remarks"})])[1] == {"remarks.评价结论": False, "remarks.改进措施": False}
