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


def _clipped_cell_page(path):
    """A ruled table of three rows: the middle cell's text is longer than its row, and
    the program wrote it all with a clip on the cell's box (as spreadsheets print a
    row of fixed height): a line runs up into the header row, one down into the
    cell below, which has its own text."""
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=300)
    for y in (70, 100, 130, 160):
        page.draw_line((50, y), (350, y))
    for x in (50, 250, 350):
        page.draw_line((x, 70), (x, 160))
    page.insert_text((60, 88), "HEAD", fontname="helv", fontsize=10)
    page.insert_text((60, 152), "bee", fontname="helv", fontsize=10)
    page.insert_text((260, 120), "42", fontname="helv", fontsize=10)
    xref = page.get_contents()[-1]
    h = 300  # PDF space is y-up
    clip = f"q 50 {h - 130} 200 30 re W n BT /helv 10 Tf 60 {h - 96} Td (above) Tj ET " \
           f"BT /helv 10 Tf 60 {h - 119} Td (shown text) Tj ET BT /helv 10 Tf 60 {h - 141} Td (spill) Tj ET Q\n"
    doc.update_stream(xref, doc.xref_stream(xref) + clip.encode())
    doc.save(path)
    return pymupdf.open(path)[0]


def test_text_a_clip_hides_is_not_read_and_the_cell_it_was_cut_from_is_doubted(tmp_path):
    """What a clip hides is not printed: the lines running out of the clipped cell join
    neither the header nor the cell below (before, `HEAD` read `above HEAD` and the
    cell below `spill bee`), and the clipped cell is doubted — what it shows is not all
    of its text — while its neighbours are not."""
    from extractor.layout.page import CLIPPED
    from extractor.read.pdf import read_page

    page = _clipped_cell_page(tmp_path / "clipped.pdf")
    words = [w.text for w in page_words(page)]
    assert {"above", "spill"} <= set(words)  # (the trace has every character drawn)
    cells = {c.text: c for r in read_page(page).rows for c in r.cells if c.text}
    assert set(cells) == {"HEAD", "shown text", "42", "bee"}
    assert cells["shown text"].doubt is CLIPPED
    assert [t for t, c in cells.items() if c.doubt is not None] == ["shown text"]


def test_each_text_is_given_the_clip_it_is_drawn_in(tmp_path):
    """The clip device counts drawing calls as the text trace numbers its spans: with
    strokes, fills and an image drawn between, a text inside a clip gets that clip's box
    and a text after it (the clip popped) none — as PyMuPDF's trace, a C++ device,
    numbers them."""
    from extractor.read.clips import clips_of_text

    doc = pymupdf.open()
    page = doc.new_page(width=400, height=300)
    page.insert_text((10, 20), "T0", fontname="helv", fontsize=10)
    page.draw_line((10, 30), (100, 30))
    page.insert_image(pymupdf.Rect(300, 10, 320, 30), pixmap=pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 4, 4), False))
    xref = page.get_contents()[-1]
    doc.update_stream(xref, doc.xref_stream(xref) + (
        b"q 10 200 100 30 re W n BT /helv 10 Tf 20 210 Td (T1) Tj ET 0 0 m 50 50 l S Q "
        b"BT /helv 10 Tf 20 150 Td (T2) Tj ET 0 0 m 60 60 l S "
        b"q 150 100 100 30 re W n 1 0 0 rg 150 100 10 10 re f BT /helv 10 Tf 160 110 Td (T3) Tj ET Q "
        b"BT /helv 10 Tf 300 50 Td (T4) Tj ET\n"))
    doc.save(tmp_path / "clips.pdf")
    page = pymupdf.open(tmp_path / "clips.pdf")[0]
    clip_of = clips_of_text(page)
    got = {"".join(chr(c[0]) for c in s["chars"]): clip_of.get(s["seqno"]) for s in page.get_texttrace()}
    assert got == {"T0": None, "T1": (10.0, 70.0, 110.0, 100.0), "T2": None, "T3": (150.0, 170.0, 250.0, 200.0), "T4": None}
