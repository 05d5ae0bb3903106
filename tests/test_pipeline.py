"""The one pipeline path and its two consumers; finding codes and their owners."""

import pytest


@pytest.fixture
def sample(root):
    return root / "fixtures" / "pdf" / "run_on.pdf"


def test_the_streamed_result_file_equals_the_collected_result(tmp_path, sample):
    """extract_to_json writes each form as it comes; the file reads back as the
    same record extract_document returns."""
    from extractor.io.outputs import load_document_json
    from extractor.pipeline import ExtractOptions, extract_document, extract_to_json

    options = ExtractOptions(engine="rules")
    stats = extract_to_json(sample, tmp_path / "run_on.json", options)
    streamed = load_document_json(tmp_path / "run_on.json")
    collected = extract_document(sample, options)
    assert stats.forms == len(collected.forms) == 12
    assert streamed.model_dump(exclude={"seconds"}) == collected.model_dump(exclude={"seconds"})


def test_every_finding_code_has_one_owner():
    from extractor.findings import Code, Owner, codes_of, owner_of

    assert sorted(c for o in Owner for c in codes_of(o)) == sorted(Code)
    assert owner_of("read_poorly") == Owner.TRIAGE and owner_of("total_score") == Owner.CHECKER
    with pytest.raises(ValueError):
        owner_of("no_such_code")


def test_a_long_text_export_is_read_under_a_budget_per_piece_of_work(tmp_path, monkeypatch, root):
    """Filler between forms (a 200 MB export holding one form) is timed in pieces of
    50,000 lines, not as one step that the page budget stops."""
    from extractor import workers
    from extractor.pipeline import extract_document

    seed = (root / "fixtures" / "text" / "004_f03db79725452826.txt").read_text(encoding="utf-8")
    path = tmp_path / "big.txt"
    path.write_text(seed + "\n" + "本年度我单位认真贯彻落实各项工作部署。\n" * 180_000 + seed, encoding="utf-8")
    steps: list[str] = []
    monkeypatch.setattr(workers, "_report", lambda what, timed: steps.append(what))
    result = extract_document(path)
    assert len(result.forms) == 2
    reading = [s for s in steps if s.startswith("reading the text")]
    assert len(reading) >= 4, steps[:10]
