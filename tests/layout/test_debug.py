"""What the layout engine saw, drawn; its tolerances validated in one place."""

import numpy as np
import pymupdf
import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.layout.settings import LayoutSettings


def test_layout_settings_are_validated():
    assert LayoutSettings().snap == 1.5
    with pytest.raises(ValueError, match="snap"):
        LayoutSettings(touch=2.0)
    with pytest.raises(ValueError, match="step"):
        LayoutSettings(step=0)


def test_layout_draws_the_edges_the_grid_used(root, tmp_path):
    """The drawing of a ruled page has red edge pixels on the table's top ruling,
    across its whole width, and the command says how many tables it found."""
    from extractor.read.documents import open_document

    out = tmp_path / "p1.png"
    r = CliRunner().invoke(app, ["layout", str(root / "fixtures" / "pdf" / "run_on.pdf"), "--page", "1", "-o", str(out), "--dpi", "72"])
    assert r.exit_code == 0, r.output
    doc = open_document(root / "fixtures" / "pdf" / "run_on.pdf")
    page = next(iter(doc.pages()))
    doc.close()
    assert f"{len(page.tables)} tables" in r.output and page.tables
    pix = pymupdf.Pixmap(str(out))
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.h, pix.w, pix.n)[:, :, :3].astype(int)
    red = (img[:, :, 0] > 150) & (img[:, :, 1] < 100) & (img[:, :, 2] < 100)
    x0, y0, x1, _ = page.tables[0].bbox
    band = red[max(0, round(y0) - 2): round(y0) + 3, round(x0) + 2: round(x1) - 2]
    assert band.any(axis=0).mean() > 0.9  # the top ruling drawn along the table's width
    assert red.sum() < 0.2 * red.size  # edges, not a red page


def test_layout_of_a_text_export_is_one_line(root, tmp_path):
    r = CliRunner().invoke(app, ["layout", str(root / "fixtures" / "text" / "004_f03db79725452826.txt"), "-o", str(tmp_path / "x.png")])
    assert r.exit_code == 1 and "no page to draw" in r.output and not (tmp_path / "x.png").exists()
