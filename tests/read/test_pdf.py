"""Words from a PDF's text layer."""

import pymupdf

from extractor.read.pdf import page_words


def test_word_boxes_do_not_depend_on_pymupdfs_quad_corrections(root):
    """pymupdf4llm switches PyMuPDF's quad corrections off as it is imported, which
    moves every character box by a few hundredths of the font size; a word's box is
    a size high with its top 0.8 size above the baseline either way."""
    page = pymupdf.open(root / "fixtures" / "pdf" / "run_on.pdf")[0]
    was = pymupdf.TOOLS.unset_quad_corrections()
    try:
        boxes = {}
        for off in (False, True):
            pymupdf.TOOLS.unset_quad_corrections(off)
            boxes[off] = [(w.text, w.x0, w.y0, w.x1, w.y1) for w in page_words(page)]
    finally:
        pymupdf.TOOLS.unset_quad_corrections(was)
    assert len(boxes[False]) == len(boxes[True]) > 100
    for a, b in zip(boxes[False], boxes[True]):
        assert a[0] == b[0] and max(abs(p - q) for p, q in zip(a[1:], b[1:])) < 1e-3
    title = boxes[False][0]  # 财政项目支出绩效自评表, 13 pt on the baseline y = 49
    assert title[0] == "财政项目支出绩效自评表"
    assert abs(title[2] - (49 - 0.8 * 13)) < 1e-3 and abs(title[4] - (49 + 0.2 * 13)) < 1e-3


def test_text_drawn_invisibly_is_not_read(root, tmp_path):
    """Text no one sees is not printed: a figure laid invisibly (render mode 3) or fully
    transparent over a page is not among its words; the printed ones are."""
    doc = pymupdf.open(root / "fixtures" / "pdf" / "run_on.pdf")
    page = doc[0]
    before = [w.text for w in page_words(page)]
    page.insert_text((300, 300), "99999.99", fontsize=9, render_mode=3)
    page.insert_text((300, 320), "88888.88", fontsize=9, fill_opacity=0)
    page.insert_text((300, 340), "77777.77", fontsize=9)
    doc.save(tmp_path / "hidden.pdf")
    after = [w.text for w in page_words(pymupdf.open(tmp_path / "hidden.pdf")[0])]
    assert "99999.99" not in after and "88888.88" not in after and "77777.77" in after
    assert len(after) == len(before) + 1
