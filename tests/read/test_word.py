"""Word documents: a .docx read from its XML as exactly as the PDF LibreOffice prints
from it; .doc through LibreOffice, kept on a leash; OFD named and refused."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from extractor.errors import UnsupportedFile
from extractor.pipeline import ExtractOptions, extract_document
from extractor.read.documents import open_document, sniff

OFFICE = ROOT / "fixtures" / "office"
REPORT = OFFICE / "national_docx_report.docx"


def values(forms):
    """The records, text compared as the evaluator compares it (LibreOffice's PDF spaces
    Latin digits from Chinese: 志丹路 4 号)."""
    from extractor.forms.numbers import compact
    from extractor.models import flatten

    return [{k: compact(v) if isinstance(v, str) else v
             for k, v in flatten(f.model_dump(exclude={"provenance", "pages", "notes", "findings", "confidence"})).items()}
            for f in forms]


def test_a_docx_reads_as_the_pdf_libreoffice_printed_from_it():
    docx = extract_document(REPORT, ExtractOptions(engine="rules"))
    pdf = extract_document(OFFICE / "national_docx_report.pdf", ExtractOptions(engine="rules"))
    assert docx.source.doc_type == "word" and len(docx.forms) == 2
    assert values(docx.forms) == values(pdf.forms)
    assert [s.title for s in docx.skipped] == ["收入支出决算总表", "财政拨款收入支出决算总表"]
    form = docx.forms[0]
    assert form.provenance["project_name"].cell == "表1!R1C3"  # the table, its row and column
    assert not [f for f in form.findings if f.severity == "error"]


def test_merged_cells_are_laid_out_as_a_workbooks(tmp_path):
    """gridSpan: one cell from its first column; vMerge: its text in the first row,
    empty continuation cells below, one box over the rows it spans."""
    docx = pytest.importorskip("docx")
    doc = docx.Document()
    t = doc.add_table(rows=3, cols=3)
    t.cell(0, 0).merge(t.cell(2, 0)).text = "产出指标"
    t.cell(0, 1).merge(t.cell(0, 2)).text = "数量指标"
    t.cell(1, 1).text, t.cell(1, 2).text = "a", "1"
    t.cell(2, 1).text, t.cell(2, 2).text = "b", "2"
    doc.save(tmp_path / "t.docx")
    (page,) = list(open_document(tmp_path / "t.docx").pages())
    assert [[(c.text, c.col) for c in r.cells] for r in page.rows] == [
        [("产出指标", 0), ("数量指标", 1)], [("", 0), ("a", 1), ("1", 2)], [("", 0), ("b", 1), ("2", 2)]]
    assert page.rows[0].cells[0].bbox[3] == page.rows[2].cells[0].bbox[3]


def test_an_ofd_is_named_and_refused(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "report.ofd", "w") as z:
        z.writestr("OFD.xml", "<ofd:OFD/>")
    with pytest.raises(UnsupportedFile, match="OFD document"):
        sniff(tmp_path / "report.ofd")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed: bash .ci/system-deps installs it")
def test_a_doc_whose_name_starts_with_a_dash_is_read_through_libreoffice(tmp_path):
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "doc",
                    "--outdir", str(tmp_path), str(REPORT)], check=True, capture_output=True, timeout=300)
    odd = tmp_path / "--help.doc"  # (passed by its absolute path: no option)
    (tmp_path / "national_docx_report.doc").rename(odd)
    assert sniff(odd) == "word"
    assert values(extract_document(odd, ExtractOptions(engine="rules")).forms) == values(extract_document(REPORT).forms)
    assert not list(Path("/tmp").glob("extractor-lo-*/user"))  # its profile is gone


def _hang_with_a_companion(marker: str) -> None:
    from extractor import workers

    proc = subprocess.Popen([sys.executable, "-c", f"import time; open({marker!r}, 'w').write('up'); time.sleep(600)"],
                            start_new_session=True)
    with workers.companion(proc.pid):
        time.sleep(600)  # (a conversion that never ends)


def test_a_companion_process_group_dies_with_the_worker_the_batch_stops(tmp_path):
    """What LibreOffice runs in: its own process group, killed when the batch stops the
    worker that started it (it outlived the batch before)."""
    from extractor.workers import Budget, run_guarded

    marker = tmp_path / "up"
    stopped = list(run_guarded([(str(marker),)], _hang_with_a_companion, 1, Budget(step_seconds=3, memory_bytes=None),
                               lambda i, reason, kind: kind))
    assert stopped == ["time"] and marker.exists()
    out = subprocess.run(["pgrep", "-f", f"open\\({str(marker)!r}"], capture_output=True, text=True).stdout
    deadline = time.monotonic() + 10
    while out.strip() and time.monotonic() < deadline:
        time.sleep(0.1)
        out = subprocess.run(["pgrep", "-f", f"open\\({str(marker)!r}"], capture_output=True, text=True).stdout
    assert not out.strip(), "the companion outlived its worker"
