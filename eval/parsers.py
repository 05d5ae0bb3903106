"""What the parsers people use make of the born-digital fixtures, read back.

Each PDF of `fixtures/pdf/manifest.json` (the ruled born-digital ones) is handed to
pymupdf4llm (Markdown, `use_layout(False)`), pdfplumber (`extract_tables()` rows as
TSV, a cell's line breaks as spaces) and camelot 1.0.9 (lattice: `to_csv(sep="\\t")`
and `to_html()`, every table of the document one after the other); the tool reads the
export as a text export and is scored against the same gold as the PDF.

    python eval/parsers.py [--json PATH]     # needs the test extra (pymupdf4llm, pdfplumber) and camelot-py
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.eval_sets import EvalDocument, load_manifest  # noqa: E402
from extractor.evaluate import evaluate  # noqa: E402


def pymupdf4llm_md(pdf: Path, out: Path) -> Path:
    import pymupdf4llm

    if hasattr(pymupdf4llm, "use_layout"):
        pymupdf4llm.use_layout(False)
    target = out / f"{pdf.stem}.md"
    target.write_text(pymupdf4llm.to_markdown(str(pdf)), encoding="utf-8")
    return target


def pdfplumber_tsv(pdf: Path, out: Path) -> Path:
    import pdfplumber

    rows: list[str] = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            for table in page.extract_tables():
                rows += ["\t".join((c or "").replace("\n", " ") for c in r) for r in table] + [""]
    target = out / f"{pdf.stem}.tsv"
    target.write_text("\n".join(rows), encoding="utf-8")
    return target


def _camelot_tables(pdf: Path):
    import camelot

    return camelot.read_pdf(str(pdf), pages="all", flavor="lattice")


def camelot_tsv(pdf: Path, out: Path) -> Path:
    target = out / f"{pdf.stem}.camelot.tsv"
    target.write_text("\n".join(t.df.to_csv(sep="\t") for t in _camelot_tables(pdf)), encoding="utf-8")
    return target


def camelot_html(pdf: Path, out: Path) -> Path:
    target = out / f"{pdf.stem}.camelot.html"
    target.write_text("<html><body>" + "\n".join(t.df.to_html() for t in _camelot_tables(pdf)) + "</body></html>",
                      encoding="utf-8")
    return target


PARSERS = {"pymupdf4llm": pymupdf4llm_md, "pdfplumber_tsv": pdfplumber_tsv, "camelot_tsv": camelot_tsv,
           "camelot_html": camelot_html}


def run(parsers: list[str] | None = None) -> dict:
    docs = [d for d in load_manifest(ROOT / "fixtures" / "pdf" / "manifest.json") if d.doc_type == "born_digital"]
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in parsers or PARSERS:
            folder = Path(tmp) / name
            folder.mkdir()
            exports = [EvalDocument(PARSERS[name](d.path, folder), name, d.gold) for d in docs]
            out[name] = evaluate(exports)["types"][name]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path)
    ap.add_argument("--parser", action="append", choices=sorted(PARSERS))
    args = ap.parse_args()
    types = run(args.parser)
    print(f"{'export':16} {'forms':>9} {'exact':>6} {'fields':>8} {'silent':>6}")
    for name, t in types.items():
        print(f"{name:16} {t['forms_found']:>4}/{t['forms_expected']:<4} {t['forms_exact']:>6} "
              f"{t['field_accuracy']['overall']:8.2%} {t['silent_errors']:>6}")
    if args.json:
        args.json.write_text(json.dumps(types, indent=1, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
