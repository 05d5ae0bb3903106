"""Scanned pages: narrow recorded clean-up, deskew, and the whole path on a photo."""

import numpy as np
import pytest

from extractor.ocr import clean_token


@pytest.mark.parametrize("raw,fixed", [
    ("1O.5O", "10.50"), ("98,00(%)", "98.00(%)"), ("l00.00", "100.00"), ("=", "-"), ("一", "-"),
    ("知晓度.扩大", "知晓度,扩大"), ("３,013.00", "3,013.00"),
])
def test_clean_token_fixes_and_records(raw, fixed):
    out, note = clean_token(raw)
    assert out == fixed
    assert (note is None) == (raw == fixed or raw == "３,013.00")


@pytest.mark.parametrize("raw", ["-100.00(%)", "≥95.00(%)", "达成指标", "Office", "1,234.56"])
def test_clean_token_leaves_the_rest(raw):
    assert clean_token(raw)[0] == raw


def test_deskew_angle_from_rulings():
    cv2 = pytest.importorskip("cv2")
    from extractor import raster

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


def test_sideways_photo_is_read_and_corrections_recorded(root):
    pytest.importorskip("rapidocr")
    from extractor.pipeline import ExtractOptions, extract_document

    r = extract_document(root / "fixtures" / "scanned" / "photo_sideways.jpg", ExtractOptions(engine="rules"))
    assert r.source.doc_type == "scanned"
    (form,) = r.forms
    assert form.engine == "ocr+rules" and form.project_name == "劳动监察业务经费"
    assert any("turned 270°" in n for n in form.notes)
    assert 0 < form.provenance["total_score"].confidence <= 1
    assert {f.code for f in form.findings if f.severity == "error"} == {"rate_indicator_mismatch"}


def test_a_misread_dash_is_corrected_and_the_correction_recorded(root, monkeypatch):
    """The 150-dpi photo once read a table's '-' as '='; make the recogniser do that
    every time and check the fix reaches the form's notes, not only the token."""
    pytest.importorskip("rapidocr")
    from extractor import ocr
    from extractor.pipeline import ExtractOptions, extract_document

    real = ocr._recognise
    monkeypatch.setattr(ocr, "_recognise", lambda crops: [("=" if t == "-" else t, sc) for t, sc in real(crops)])
    (form,) = extract_document(root / "fixtures" / "scanned" / "photo_sideways.jpg", ExtractOptions(engine="rules")).forms
    assert any("OCR correction '=' → '-'" in n for n in form.notes)
    # the "-" the form prints in the fiscal funds' weight column
    assert form.provenance["funding.fiscal.weight"].raw == "-"


def test_without_ocr_a_scan_fails_with_one_line(root, monkeypatch, tmp_path):
    from extractor import ocr
    from extractor.batch import process_one
    from extractor.pipeline import ExtractOptions

    monkeypatch.setattr(ocr, "available", lambda: False)
    o = process_one(root / "fixtures" / "scanned" / "photo_sideways.jpg", "p", tmp_path, ExtractOptions(engine="rules"), False)
    assert o.status == "failed" and o.error_type == "NoTextLayer" and "pip install" in o.error


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
