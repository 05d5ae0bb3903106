"""Scanned pages: narrow recorded clean-up, deskew, and the whole path on a photo."""

import numpy as np
import pytest

from extractor.read.ocr import clean_token


@pytest.mark.parametrize("raw,fixed", [
    ("1O.5O", "10.50"), ("98,00(%)", "98.00(%)"), ("l00.00", "100.00"), ("=", "-"), ("一", "-"),
    ("知晓度.扩大", "知晓度,扩大"), ("３,013.00", "3,013.00"),
    ("12,00(个月)", "12.00(个月)"), ("1O0.00（件）", "100.00(件)"),  # a number before its unit (the blurred scan's 12.00)
])
def test_clean_token_fixes_and_records(raw, fixed):
    out, note = clean_token(raw)
    assert out == fixed
    assert (note is None) == (raw == fixed or raw == "３,013.00")


@pytest.mark.parametrize("raw", ["-100.00(%)", "≥95.00(%)", "达成指标", "Office", "1,234.56", "12.00(个月)", "提升(个月)", "(个月)"])
def test_clean_token_leaves_the_rest(raw):
    assert clean_token(raw)[0] == raw


def test_deskew_angle_from_rulings():
    cv2 = pytest.importorskip("cv2")
    from extractor.read import raster

    img = np.full((800, 1000), 255, np.uint8)
    for y in range(100, 700, 40):
        cv2.line(img, (50, y), (950, y), 0, 2)
    for x in (50, 300, 950):
        cv2.line(img, (x, 100), (x, 660), 0, 2)
    turned = raster.rotate(img, 1.3)
    assert abs(raster.skew_angle(turned) + 1.3) < 0.15 or abs(raster.skew_angle(turned) - 1.3) < 0.15
    straight = raster.rotate(turned, raster.skew_angle(turned))
    assert abs(raster.skew_angle(straight)) < 0.15
    segs = raster.rulings(straight, 0.5)
    assert sum(1 for s in segs if s[1] == s[3]) >= 14 and sum(1 for s in segs if s[0] == s[2]) >= 3


@pytest.fixture(scope="module")
def photo():
    """The sideways photo, read once for the tests that only look at the result."""
    pytest.importorskip("rapidocr")
    from conftest import ROOT
    from extractor.pipeline import ExtractOptions, extract_document

    return extract_document(ROOT / "fixtures" / "scanned" / "photo_sideways.jpg", ExtractOptions(engine="rules"))


def test_sideways_photo_is_read_and_corrections_recorded(photo):
    r = photo
    assert r.source.doc_type == "scanned"
    (form,) = r.forms
    assert form.engine == "ocr+rules" and form.project_name == "劳动监察业务经费"
    assert any("turned 270°" in n for n in form.notes)
    assert 0 < form.provenance["total_score"].confidence <= 1
    assert {f.code for f in form.findings if f.severity == "error"} == {"rate_indicator_mismatch"}


@pytest.mark.slow
def test_a_misread_number_is_corrected_and_the_correction_recorded(root, monkeypatch):
    """Make the recogniser read the budget's zeros as letter O every time and check
    the fix reaches the value and the form's notes, not only the token."""
    pytest.importorskip("rapidocr")
    from extractor.read import ocr
    from extractor.pipeline import ExtractOptions, extract_document

    real = ocr._recognise

    def misread(crops, *args):
        read, notes = real(crops, *args)
        return [(t.replace("0", "O") if t == "10.50" else t, sc) for t, sc in read], notes

    monkeypatch.setattr(ocr, "_recognise", misread)
    (form,) = extract_document(root / "fixtures" / "scanned" / "photo_sideways.jpg", ExtractOptions(engine="rules")).forms
    assert any("OCR correction '1O.5O' → '10.50'" in n for n in form.notes)
    assert str(form.funding.total.initial_budget) == "10.50"


def test_lone_dashes_are_read_from_their_shape_and_noted(photo):
    """The detector finds no box around a lone '-'; the empty ruled cell's one flat
    mark is read as '-', and the form says so."""
    (form,) = photo.forms
    assert any("'-' read from the shape of a lone mark in an empty cell" in n for n in form.notes)
    # the "-" the form prints in the weight and score columns of the fiscal-funds rows
    assert {k: form.provenance[k].raw for k in ("funding.fiscal.weight", "funding.other.score")} == \
        {"funding.fiscal.weight": "-", "funding.other.score": "-"}


def test_without_ocr_a_scan_fails_with_one_line(root, monkeypatch, tmp_path):
    from extractor.read import ocr
    from extractor.jobs import process_one
    from extractor.pipeline import ExtractOptions

    monkeypatch.setattr(ocr, "available", lambda: False)
    o = process_one(root / "fixtures" / "scanned" / "photo_sideways.jpg", "p", tmp_path, ExtractOptions(engine="rules"), False)
    assert o.status == "failed" and o.error_type == "NoTextLayer" and "pip install" in o.error


@pytest.mark.slow
@pytest.mark.parametrize("turn,name", [(180, "upside.tif"), (90, "ccw.png")])
def test_a_turned_photo_is_turned_back_and_read(root, tmp_path, turn, name):
    cv2 = pytest.importorskip("cv2")
    pytest.importorskip("rapidocr")
    from extractor.pipeline import ExtractOptions, extract_document

    img = cv2.imread(str(root / "fixtures" / "scanned" / "photo_sideways.jpg"))
    upright = np.rot90(img, k=1)
    # np.rot90 turns counter-clockwise, so the page needs `turn` degrees clockwise back.
    cv2.imwrite(str(tmp_path / name), np.ascontiguousarray(np.rot90(upright, k=turn // 90)))
    (form,) = extract_document(tmp_path / name, ExtractOptions(engine="rules")).forms
    assert any(f"turned {turn}°" in n for n in form.notes)
    assert (form.project_name, str(form.total_score)) == ("劳动监察业务经费", "90.00")
    assert {f.code for f in form.findings if f.severity == "error"} == {"rate_indicator_mismatch"}


def test_ink_box_ignores_speckle_and_finds_a_blank_page():
    pytest.importorskip("cv2")
    from extractor.read import raster

    rng = np.random.default_rng(0)
    img = np.full((1000, 800), 250, np.uint8)
    assert raster.ink_box(img) is None
    ys, xs = rng.integers(0, 1000, 300), rng.integers(0, 800, 300)
    img[ys, xs] = 0  # lone dark pixels all over the page
    assert raster.ink_box(img) is None
    img[400:420, 200:600:3] = 0  # a line of text: thin strokes, 20 px tall
    x0, y0, x1, y1 = raster.ink_box(img, margin=8)
    assert 188 <= x0 <= 200 and 388 <= y0 <= 400 and 600 <= x1 <= 612 and 420 <= y1 <= 432


def test_specks_are_dropped_and_noted_but_dashes_and_wrapped_headers_kept():
    from extractor.read import ocr

    def box(x, y, w, h):
        return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)

    boxes = [box(0, 0, 60, 20), box(100, 0, 40, 20), box(200, 0, 8, 20), box(300, 5, 4, 6), box(400, 8, 20, 5), box(500, 0, 20, 20)]
    read = [("执行率(", 0.99), ("%)", 0.98), ("·", 0.9), ("1", 0.95), ("一", 0.9), ("9.80", 0.99)]
    words, notes, _ = ocr._words(boxes, read, 1.0)
    assert [w.text for w in words] == ["执行率(", "%)", "-", "9.80"]
    assert any("2 speck(s) dropped: '·' '1'" in n for n in notes)


def test_a_box_across_a_column_ruling_is_read_as_two_cells(tmp_path):
    """The detector sometimes draws one box over the end of a wrapped label and the
    next cell's text; each side of the ruling must be read on its own."""
    pytest.importorskip("rapidocr")
    import pymupdf

    from extractor.read import ocr, raster
    from extractor.layout.page import Word

    doc = pymupdf.open()
    page = doc.new_page(width=400, height=100)
    page.insert_text((20, 50), "满意度指标", fontname="china-s", fontsize=12)
    page.insert_text((130, 50), "服务对象满意度", fontname="china-s", fontsize=12)
    page.draw_line((120, 20), (120, 80), width=1)
    pix = page.get_pixmap(dpi=150)
    gray = raster.to_gray(np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w, pix.n)[:, :, :3])
    scale = 72 / 150
    merged = Word("满意度指标服务对象满意度", 16, 36, 226, 54, confidence=0.9)
    words, notes = ocr.split_at_rulings(gray, [merged], [(120.0, 20.0, 120.0, 80.0)], scale)
    assert [w.text for w in words] == ["满意度指标", "服务对象满意度"]
    assert words[0].x1 <= 120 <= words[1].x0
    assert notes and "crossed a column ruling" in notes[0]
    # a word beside the ruling, not across it, is left alone (no second reading)
    alone = Word("满意度指标", 16, 36, 110, 54)
    assert ocr.split_at_rulings(gray, [alone], [(120.0, 20.0, 120.0, 80.0)], scale) == ([alone], [])


def test_only_a_centred_flat_mark_in_an_empty_cell_is_a_dash():
    pytest.importorskip("cv2")
    from extractor.read import ocr
    from extractor.layout.page import Word

    gray = np.full((100, 500), 255, np.uint8)
    gray[49:51, 45:55] = 0     # cell 0: a centred flat mark → '-'
    gray[49:51, 149:151] = 0   # cell 1: a dot
    gray[22:24, 245:255] = 0   # cell 2: a flat mark at the top, not centred
    gray[49:51, 345:355] = 0   # cell 3: a flat mark beside a word → the word's cell is not empty
    gray[45:55, 420:430] = 0   # cell 4: a square blot
    scale = 1.0
    cells = [(x, 20.0, x + 100.0, 80.0) for x in range(0, 500, 100)]
    words = [Word("9.80", 330, 40, 345, 60)]
    dashes = ocr.dashes_in_empty_cells(gray, words, cells, scale)
    assert [(d.text, round(d.x0)) for d in dashes] == [("-", 45)]


def test_lines_batched_by_width_come_back_in_their_own_order():
    """Line images are recognised in batches of similar width, not in the order
    given: every reading must still land on its own image."""
    pytest.importorskip("rapidocr")
    import pymupdf

    from extractor.read import ocr, raster

    texts = ["项目资金(万元)", "12.50", "服务对象满意度指标", "98.00(%)", "年度指标值", "3,013.00",
             "按计划建立劳动关系信息管理平台", "得分", "≥95.00(%)"]
    crops = []
    for text in texts:
        doc = pymupdf.open()
        page = doc.new_page(width=300, height=30)
        page.insert_text((6, 20), text, fontname="china-s", fontsize=12)
        width = pymupdf.get_text_length(text, fontname="china-s", fontsize=12)
        pix = page.get_pixmap(dpi=150, clip=pymupdf.Rect(0, 4, width + 12, 26))
        crops.append(raster.to_gray(np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w, pix.n)[:, :, :3]))
    order = [4, 0, 8, 2, 6, 1, 3, 7, 5]
    read, _ = ocr._recognise([crops[i] for i in order])
    assert ["".join(ocr.clean_token(t)[0].split()) for t, _ in read] == [texts[i] for i in order]


def _box(x, y, w, h):
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)


def test_a_small_round_mark_starting_the_line_under_a_sentence_is_its_closing_full_stop():
    """A spreadsheet wraps a cell's sentence anywhere: its closing 。 can stand alone at
    the start of the cell's last line, or in its middle where the cell centres its lines,
    where the recogniser reads it `O` and it looked like dirt. Only there is it kept; the
    same mark elsewhere is still a speck."""
    from extractor.read import ocr

    line = ("项目整体平稳落地", 0.99)
    for mark in (_box(2, 22, 8, 8), _box(96, 22, 8, 8)):  # under the line's start; under its middle (centred)
        words, notes, _ = ocr._words([_box(0, 0, 200, 20), mark], [line, ("O", 0.9)], 1.0)
        assert [w.text for w in words] == ["项目整体平稳落地", "。"]
        assert any("read as the sentence's closing '。'" in n for n in notes)
    for mark in (_box(150, 22, 8, 8), _box(2, 60, 8, 8)):  # under the line's last third; two lines down
        words, notes, _ = ocr._words([_box(0, 0, 200, 20), mark], [line, ("O", 0.9)], 1.0)
        assert [w.text for w in words] == ["项目整体平稳落地"] and any("speck" in n for n in notes)
    words, _, _ = ocr._words([_box(0, 0, 200, 20), _box(2, 22, 8, 8)], [("合计 100", 0.99), ("O", 0.9)], 1.0)
    assert [w.text for w in words] == ["合计 100"]  # (a sentence ends in a character, not a figure)


def test_a_mark_where_a_closing_full_stop_stands_read_as_anything_is_kept_and_named():
    """The wrapped closing 。 read `0` at 0.19, `1`, or nothing (Sichuan's reasons under a
    seal, 200 dpi grey): where it stands says it is the sentence's mark, so it is kept as
    `。` — its value named as unsure, since the reading does not say so. Before, it was
    dropped as noise and the reason lost its 。 silently."""
    from extractor.read import ocr

    line = ("受此影响未开展", 0.99)
    for text, score in (("0", 0.19), ("1", 0.9), ("", 0.1)):
        words, notes, _ = ocr._words([_box(0, 0, 140, 20), _box(66, 22, 8, 8)], [line, (text, score)], 1.0)
        assert [w.text for w in words] == ["受此影响未开展", "。"], (text, words)
        assert words[-1].confidence <= ocr._UNSURE_SCORE < 0.8 and any("named as unsure" in n for n in notes)
    words, notes, _ = ocr._words([_box(0, 0, 140, 20), _box(66, 22, 8, 8)], [line, ("O", 0.9)], 1.0)
    assert words[-1].text == "。" and words[-1].confidence == 0.9  # (a round mark read surely: as before)
    words, _, _ = ocr._words([_box(0, 0, 140, 20), _box(130, 60, 8, 8)], [line, ("0", 0.19)], 1.0)
    assert [w.text for w in words] == ["受此影响未开展"]  # (two lines down: not that mark's place)


def _line_image(marks: list[tuple[int, int]], width: int = 200) -> np.ndarray:
    img = np.full((48, width), 250, np.uint8)
    for a, b in marks:
        img[16:32, a:b] = 20
    return img


def test_ink_before_the_first_character_read_names_the_line_as_unsure():
    """The recogniser drops a wrapped sentence's leading 、 with confidence 0.999 (the
    fax fixture's goal). The frames it read its characters at, mapped onto the image,
    show ink a character and more before the first one: the line is named unsure."""
    from types import SimpleNamespace

    from extractor.read import ocr

    cols = [4, 6, 9, 11, 14, 16]  # frames of 10 px: centres 45, 65, 95…; a pitch of 24 px
    info = SimpleNamespace(words=[list("转型发展扶持")], word_cols=[cols], line_txt_len=20, confs=[1.0] * 6)
    chars = [(c * 10 + 5 - 8, c * 10 + 5 + 8) for c in cols]
    assert ocr._unsure(_line_image(chars), "转型发展扶持", info) is None
    why = ocr._unsure(_line_image([(2, 8), *chars]), "转型发展扶持", info)
    assert why and "a mark before '转型发展扶持' was not read" in why
    # a ruling's one-pixel sliver at the image's edge is no mark
    assert ocr._unsure(_line_image([(0, 1), *chars]), "转型发展扶持", info) is None


def test_a_short_line_holding_ink_for_more_characters_than_it_read_is_named():
    """The recogniser dropped the thin 个 of a unit cell's `个月` with 月 read at 0.96 (a
    200-dpi scan of Chongqing's form): a unit, silently wrong. A line read as one or two
    Chinese characters whose ink is wider than 1.6 characters' for each (their pitch from
    the line's height) is named unsure; one whose ink its characters fill is not."""
    from types import SimpleNamespace

    from extractor.read import ocr

    def info(text: str):
        return SimpleNamespace(words=[list(text)], word_cols=[[3 + 2 * i for i in range(len(text))]], line_txt_len=20,
                               confs=[0.96] * len(text))

    two = _line_image([(20, 36), (41, 57)])  # (text 40 px high in the image: a pitch of ≈21 px)
    why = ocr._unsure(two, "月", info("月"))
    assert why and "'月' read from ink" in why
    assert ocr._unsure(two, "个月", info("个月")) is None
    assert ocr._unsure(_line_image([(41, 57)]), "月", info("月")) is None
    assert ocr._ink_per_character(two, info("12")) == 0.0  # (figures: read again stretched, `_read_lines`)


def test_room_for_a_character_the_recogniser_did_not_read_names_the_line():
    """Chinese characters stand one em apart, and the recogniser's frames show it: where
    two read ones stand two ems apart, one between them was not read (the thin 一 of
    统一部署 on a 150-dpi scan, dropped with the line's other characters sure: silent in
    the hunt before). Gaps of 2 and 3 frames are a pitch of 2.5; punctuation's ink sits
    to one side of its em (`》《` stand two ems apart) and is no sign."""
    from types import SimpleNamespace

    from extractor.read import ocr

    def info(text: str, cols: list[int]):
        return SimpleNamespace(words=[list(text)], word_cols=[cols], line_txt_len=120, confs=[1.0] * len(text))

    sure = "中心统一部署要求"
    assert ocr._room_for_a_character(info(sure, [52, 55, 58, 60, 63, 65, 68, 70])) is None
    why = ocr._room_for_a_character(info("务中心统部署要求", [50, 52, 55, 58, 63, 65, 68, 70]))
    assert why == "room for a character not read between '统' and '部'"
    assert ocr._unsure(_line_image([]), "务中心统部署要求", info("务中心统部署要求", [50, 52, 55, 58, 63, 65, 68, 70])) == why
    assert ocr._room_for_a_character(info("故乡》《我的站点", [10, 13, 15, 20, 22, 25, 27, 30])) is None


def test_a_hyphen_between_chinese_characters_names_the_line():
    """Prose joins Chinese characters with no hyphen: 就业。开展 read as 就业-开展 (the line
    at 0.98, a 150-dpi scan) is named; a range of figures or a code is not."""
    from types import SimpleNamespace

    from extractor.read import ocr

    def unsure(text: str) -> str | None:
        cols = list(range(0, 3 * len(text), 3))
        return ocr._unsure(_line_image([]), text, SimpleNamespace(words=[list(text)], word_cols=[cols], line_txt_len=200,
                                                                   confs=[1.0] * len(text)))

    assert "a hyphen between two Chinese characters" in unsure("重点群体就业-开展云南对口")
    assert unsure("2023-2025年度就业创业") is None and unsure("沪财绩【2022】13号") is None


def test_a_prose_character_read_unsurely_names_the_line_but_a_figure_does_not():
    """A mean over 40 characters hides one misread bracket (`《` for `〈` at 0.69, `)`
    for `〕` at 0.40 on the hunt's photos); prose has no arithmetic to catch it, so a
    character under 0.5 names the line. Figures' low characters are the checker's."""
    from types import SimpleNamespace

    from extractor.read import ocr

    prose = "根据关于实施上海市残疾人就业保障金征收使用管理办法)有关问题的通知"
    confs = [1.0] * len(prose)
    confs[prose.index(")")] = 0.4
    info = SimpleNamespace(words=[list(prose)], word_cols=[list(range(len(prose)))], line_txt_len=len(prose) + 2, confs=confs)
    why = ocr._unsure(_line_image([]), prose, info)
    assert why and "')'" in why and "0.40" in why
    figure = "≥90.00(%)"
    info = SimpleNamespace(words=[list(figure)], word_cols=[list(range(len(figure)))], line_txt_len=12,
                           confs=[1.0, 1.0, 1.0, 0.46, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert ocr._unsure(_line_image([]), figure, info) is None


def test_a_chinese_character_read_under_the_floor_names_any_line_and_other_characters_do_not():
    """The recogniser reads 门 as 門 or 内 in Chromium's font (Noto Sans CJK SC) at
    0.38–0.78 with the rest of a short line sure (`主管部門`, a line mean of 0.86): no
    arithmetic checks a name, so a Chinese character under 0.8 names a line of fewer than
    16 (a long line of prose has its floor of 0.5 and its re-read); a figure's or a
    bracket's low character does not (the checker's, or punctuation)."""
    from types import SimpleNamespace

    from extractor.read import ocr

    def info(text, confs):
        return SimpleNamespace(words=[list(text)], word_cols=[list(range(len(text)))], line_txt_len=len(text) + 2, confs=confs)

    why = ocr._unsure(_line_image([]), "主管部門", info("主管部門", [1.0, 1.0, 1.0, 0.58]))
    assert why and "'門'" in why and "0.58" in why
    assert ocr._unsure(_line_image([]), "主管部门", info("主管部门", [1.0, 1.0, 1.0, 0.95])) is None
    assert ocr._unsure(_line_image([]), "84.00(件)", info("84.00(件)", [1.0, 0.6, 1.0, 1.0, 1.0, 0.7, 1.0, 1.0])) is None
    # a long line of prose keeps its own floor (0.5) and re-read: 职 at 0.54 in a photo's correct goal
    prose = "法大队被撤销所承担的劳动保障领域相关行政执法职责将交由普陀区人"
    confs = [1.0] * len(prose)
    confs[prose.index("职")] = 0.54
    assert ocr._unsure(_line_image([]), prose, info(prose, confs)) is None


def test_a_prose_line_read_two_ways_when_stretched_is_named_and_one_read_alike_is_not(monkeypatch):
    """A character of prose substituted with confidence over the floor (a phone photo's
    `主旅律` for 主旋律 at 0.53) has no arithmetic to catch it: a prose line with a
    character under 0.75 is read again stretched, and where the readings differ the line
    is named unsure with both in the note — not where they differ only in punctuation's
    width and spaces, and no sure line is read twice."""
    pytest.importorskip("cv2")
    from extractor.read import ocr

    first = {100: ("新时代主旅律的弘扬者、社会正能量的传播者。", 0.53), 200: ("1. 根据年度工作安排和基层服务站实际需求；", 0.57),
             300: ("全年网站共发布图文信息并及时更新维护工作", 0.96)}
    stretched = {125: "新时代主旋律的弘扬者、社会正能量的传播者。", 250: "1.根据年度工作安排和基层服务站实际需求;",
                 320: first[200][0]}  # (a line with a figure is read 1.6× wide too: the same figures)
    asked = []

    def recognise(crops, weakest=None):
        widths = [c.shape[1] for c in crops]
        asked.append(widths)
        if weakest is not None:
            weakest[:] = [first[w][1] for w in widths]
            return [(first[w][0], 0.95) for w in widths], [None] * len(crops)
        return [(stretched[w], 0.95) for w in widths], [None] * len(crops)

    monkeypatch.setattr(ocr, "_recognise", recognise)
    crops = [np.full((30, w), 255, np.uint8) for w in (100, 200, 300)]
    read, notes = ocr._read_lines(crops)
    assert asked[-1] == [125, 250]  # the third line's characters were all sure: not read again
    assert read[0] == (first[100][0], ocr._UNSURE_SCORE)
    assert any("主旅律" in n and "主旋律" in n for n in notes)
    assert read[1] == (first[200][0], 0.95) and read[2] == (first[300][0], 0.95)
    assert not any("根据" in n for n in notes)


@pytest.mark.parametrize("first,wide,kept", [
    (("≥7000.00(人次)", 0.83), ("≥7000.00(人次)", 0.9999), "≥7000.00(人次)"),  # (the same text: nothing to choose)
    ((">≥7000.00(人次)", 0.83), ("≥7000.00(人次)", 0.9999), "≥7000.00(人次)"),
    (("12,00(个月)", 0.96), ("12.00(个月)", 0.9998), "12.00(个月)"),
    (("0", 0.65), ("0O", 0.49), "0"),
    (("≥30 (门)", 0.93), ("≥30 ()", 0.97), "≥30 (门)"),  # (a character in one reading only: named, below)
    (("=100(%)", 0.944), ("100 (%)", 0.985), "=100(%)"),  # (an operator in one reading only: named, below)
    (("100(%)", 0.9), ("≥100 (%)", 0.95), "≥100 (%)"),
])
def test_a_symbol_read_two_ways_keeps_the_surer_reading(monkeypatch, first, wide, kept):
    """A line with figures read again stretched gives the same figures but another symbol
    (a slanted ⩾ read `>≥` at 0.83 on a page whose text layer is glyph numbers, read as an
    image, and `≥` at 1.00 stretched): the surer reading is kept. Before, the first was,
    and `>≥7000.00(人次)` reached the target silently. A Chinese character in one reading
    only (`门` of Chromium's font, doubted by the recogniser), or an operator in one only
    (`=100(%)` and, surer, `100 (%)`), is vouched for by neither: the line is named."""
    pytest.importorskip("cv2")
    from extractor.read import ocr

    def recognise(crops, weakest=None):
        if weakest is not None:
            weakest[:] = [1.0] * len(crops)
            return [first], [None]
        return [wide], [None]

    monkeypatch.setattr(ocr, "_recognise", recognise)
    read, notes = ocr._read_lines([np.full((30, 100), 255, np.uint8)])
    if "门" in first[0] or "00(%)" in first[0]:  # a character or an operator in one reading only: not vouched for
        # (the reading with the operator is kept: the = of Sichuan's `=100 (%)` was lost at 150 dpi)
        assert read == [(kept, ocr._UNSURE_SCORE)] and any("stretched" in n and "named as unsure" in n for n in notes)
        return
    assert read == [(kept, first[1] if kept == first[0] else wide[1])]
    assert bool(notes) == (kept != first[0])


def test_half_high_characters_are_kept_not_dropped_as_specks():
    """A merged cell's label the page's top edge cut in half reads as characters half the
    usual height (`服务对家两息度指你` at 0.36): they are kept, their low confidence names
    the value. Before, they were dropped as specks, and the rows carried the label above,
    silently. A lone half-high `1` (a dash read so) is still a speck."""
    from extractor.read import ocr

    boxes = [_box(0, 0, 200, 20), _box(0, 40, 200, 20), _box(0, 80, 90, 8), _box(300, 80, 6, 8)]
    read = [("培训委托单位满意度", 0.99), ("培训学员满意度", 0.99), ("服务对家两息度指你", 0.36), ("1", 0.9)]
    words, notes, _ = ocr._words(boxes, read, 1.0)
    assert [w.text for w in words] == ["培训委托单位满意度", "培训学员满意度", "服务对家两息度指你"]
    assert words[-1].confidence == 0.36 and any("1 speck(s) dropped: '1'" in n for n in notes)


def test_a_centred_cells_closing_mark_alone_on_its_last_line_is_read():
    """A cell that centres its lines: its sentence's closing 。 wrapped alone onto the last
    line stands in the middle, not at the start (Sichuan's 未完成原因分析 at 200 dpi). It is
    given to the recogniser; before, it was dropped as a mark, and the value lost its 。."""
    pytest.importorskip("cv2")
    from extractor.read.cells import cell_lines

    gray = np.full((120, 300), 255, np.uint8)
    gray[0:2, :] = gray[118:120, :] = 0
    gray[:, 0:2] = gray[:, 298:300] = 0
    gray[20:36, 30:270] = 0  # a full line
    gray[48:64, 60:240] = 0  # the sentence's last characters, centred
    gray[76:81, 147:152] = 0  # its 。 alone on the next line, centred
    boxes, _, _ = cell_lines(gray, [(0, 0, 299, 119)], 16.0)
    assert len(boxes) == 3 and 140 <= boxes[-1][:, 0].mean() <= 160
    gray[76:81, 147:152] = 255
    gray[76:81, 250:255] = 0  # a mark at the line's end: dirt, not read
    assert len(cell_lines(gray, [(0, 0, 299, 119)], 16.0)[0]) == 2


def test_a_cell_whose_only_ink_is_a_thin_figure_or_an_equals_sign_is_read():
    """At 150 dpi a lone `1` is a stem a pixel wide (only its serif and its foot are rows
    of two ink pixels) and an `=` two bars: each was short runs of ink, taken for marks
    and left out unread, and Sichuan's target `= | 1 | 个` was read with no figure, with
    nothing said. Together they stand a third of a line high: the cell is read as one
    box. A lone dash (one bar) is still left to `dashes_in_empty_cells`."""
    pytest.importorskip("cv2")
    from extractor.read.cells import cell_lines

    def cell(draw):
        gray = np.full((40, 60), 255, np.uint8)
        gray[0:2, :] = gray[38:40, :] = 0
        gray[:, 0:2] = gray[:, 58:60] = 0
        draw(gray)
        return cell_lines(gray, [(0, 0, 59, 39)], 11.0)[0]

    def one(g):  # serif row, a one-pixel stem, foot row
        g[15, 28:31] = 0
        g[16:23, 29] = 0
        g[23, 26:33] = 0

    def equals(g):
        g[16, 25:31] = g[19, 25:31] = 0

    def dash(g):
        g[18:20, 25:33] = 0

    for draw in (one, equals):
        (box,) = cell(draw)
        assert box[:, 1].min() <= 15 and box[:, 1].max() >= 19
    assert cell(dash) == []


def test_ink_read_too_poorly_to_keep_puts_its_cell_in_doubt():
    """A box the recogniser read with next to no confidence is left out — and the cell it
    stands in, read as something or as nothing, is doubted (its value then named): a lone
    `1` read at 0.2 had left a target empty silently."""
    from extractor.layout.page import INK_NOT_READ, Cell, Row
    from extractor.read import ocr
    from extractor.read.scan import _doubt_ink_not_read

    lost: list = []
    words, _, _ = ocr._words([_box(0, 0, 200, 20), _box(300, 2, 8, 16)], [("项目整体平稳落地", 0.99), ("1", 0.2)], 1.0, lost)
    assert [w.text for w in words] == ["项目整体平稳落地"] and lost == [(300.0, 2.0, 308.0, 18.0)]
    row = Row(cells=[Cell("", bbox=(290, 0, 330, 20)), Cell("", bbox=(330, 0, 370, 20)), Cell("个", bbox=(370, 0, 400, 20))], page=1)
    _doubt_ink_not_read([row], lost)
    assert [c.doubt for c in row.cells] == [INK_NOT_READ, None, None]


def test_a_lone_greater_than_sign_is_named_as_unsure():
    """The recogniser reads a lone `≥` whose bar a scan thinned as `>` at 0.9 (Sichuan's
    operator column): alone, it cannot tell them apart, so its value is named."""
    from extractor.read import ocr

    words, notes, _ = ocr._words([_box(0, 0, 12, 16), _box(40, 0, 40, 16)], [(">", 0.9), ("90.00", 0.99)], 1.0)
    assert [(w.text, w.confidence) for w in words] == [(">", ocr._UNSURE_SCORE), ("90.00", 0.99)]
    assert ocr._UNSURE_SCORE < 0.8 and any("whose bar was lost" in n for n in notes)
    words, _, _ = ocr._words([_box(0, 0, 60, 16)], [(">90.00%", 0.9)], 1.0)
    assert words[0].confidence == 0.9  # (not alone: the line's reading, as before)


def test_a_mark_beside_a_cells_lines_that_no_line_took_is_kept_as_unread():
    """A narrow column wraps `-100.00(%)` after its `-`: the dash stands alone on the
    cell's first line, a mark too short to be a line, and was left out — `100.00(%)` was
    read surely, silently. It is given back as ink not read (its cell is then doubted);
    a speck of dirt is not, nor a lone dash in an otherwise empty cell (read from its shape)."""
    pytest.importorskip("cv2")
    from extractor.read.cells import cell_lines

    def cell(*marks, text=True):
        gray = np.full((60, 120), 255, np.uint8)
        gray[0:2, :] = gray[58:60, :] = 0
        gray[:, 0:2] = gray[:, 118:120] = 0
        if text:
            gray[30:44, 20:100] = 0  # a line of text
        for y0, y1, x0, x1 in marks:
            gray[y0:y1, x0:x1] = 0
        unread: list = []
        boxes = cell_lines(gray, [(0, 0, 119, 59)], 14.0, unread)[0]
        return len(boxes), unread

    assert cell((12, 14, 20, 28)) == (1, [(20, 12, 28, 14)])  # (the dash, in the page image's pixels)
    assert cell((12, 13, 20, 22)) == (1, [])  # (two pixels of dirt)
    assert cell((12, 14, 20, 28), text=False) == (0, [])
