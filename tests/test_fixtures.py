"""The committed PDFs are what the generator makes, and they are real text."""

import importlib.util
import json
import sys

import pymupdf


def _generator(root):
    spec = importlib.util.spec_from_file_location("generate", root / "fixtures" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_generator_reproduces_a_committed_fixture(root, tmp_path):
    gen = _generator(root)
    plan = {name: (style, picks, extras) for name, style, picks, extras in gen.plan(gen.load_gold())}
    style, picks, extras = plan["narrow_columns_mixed_fonts"]
    out = tmp_path / "x.pdf"
    gen.render([p[2] for p in picks], style, out, extras)
    made, committed = pymupdf.open(out), pymupdf.open(root / "fixtures" / "pdf" / "narrow_columns_mixed_fonts.pdf")
    assert [p.get_text() for p in made] == [p.get_text() for p in committed]


def test_manifest_covers_every_gold_form_with_real_cjk_text(root):
    manifest = json.loads((root / "fixtures" / "pdf" / "manifest.json").read_text(encoding="utf-8"))
    printed = {(g["file"], g["index"]) for d in manifest["documents"] for g in d["gold"]}
    assert len(printed) == 47
    layouts = {d["layout"] for d in manifest["documents"]}
    assert {"one_per_page", "run_on", "landscape", "narrow_columns_mixed_fonts", "self_evaluation_no_total_label"} <= layouts
    doc = pymupdf.open(root / "fixtures" / "pdf" / "landscape.pdf")
    assert doc[0].rect.width > doc[0].rect.height
    assert "项目名称" in doc[0].get_text()
    fonts = {f[3] for p in doc for f in p.get_fonts()}
    assert any("Droid" in f for f in fonts)  # the embedded CJK font


def test_a_page_break_cuts_a_merged_level_cell(root):
    """run_on.pdf has merged level cells split by a page break (the case the engine must join)."""
    from extractor.read.documents import open_document

    doc = open_document(root / "fixtures" / "pdf" / "run_on.pdf")
    cut = [c for page in doc.pages() for r in page.rows for c in r.cells if c.cut_below]
    assert cut
