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
