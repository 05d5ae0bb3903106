"""One canonical text: what a browser's PDF printer or an editor prints as a look-alike
reads as the character it stands for, on every route; list markers are kept."""

from conftest import ROOT
from extractor.read.canonical import Canon, canonical


def test_look_alikes_become_the_characters_they_stand_for():
    assert canonical("宣传⼯作经费") == "宣传工作经费"  # U+2F2F, a Kangxi radical (Chromium's PDFs)
    assert canonical("⼈员培训") == "人员培训"  # U+2F08
    assert canonical("高质量解答、引导对象办事需求⻅效") == "高质量解答、引导对象办事需求见效"  # U+2EC5 (no NFKC mapping)
    assert canonical("≥９５．００（％）") == "≥95.00(%)"
    assert canonical("①完成培训②提升满意度，面积２００m²") == "①完成培训②提升满意度,面积200m²"


def test_a_document_says_once_what_was_mapped(tmp_path):
    canon = Canon()
    assert canon.text("宣传⼯作经费") == "宣传工作经费" and canon.text("（万元）") == "(万元)"
    assert canon.note() == "text normalised to one form (Unicode NFKC): 1 look-alike characters (⼯→工 ×1)"
    assert Canon().note() is None  # (full-width punctuation is how Chinese prints: no note)


def test_every_reader_gives_canonical_text(tmp_path):
    from extractor.pipeline import extract_document

    text = (tmp_path / "t.txt")
    seed = (ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt").read_text(encoding="utf-8")
    text.write_text(seed.replace("宣传工作经费", "宣传⼯作经费"), encoding="utf-8")
    result = extract_document(text)
    assert "宣传工作经费" in [f.project_name for f in result.forms]
    assert result.notes and "⼯→工" in result.notes[0]
