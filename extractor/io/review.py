"""Review pages: each flagged form's page images with the disputed values boxed,
beside its findings and values. Everything from a document is HTML-escaped.

The reviewer records a decision by editing the result JSON (or accepting it) and
re-running `extractor check`, which recomputes the findings.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pymupdf

from ..models import DocumentResult, form_label
from .outputs import write_text_atomic

ERROR_RGB = (0.85, 0.1, 0.1)
# Values a finding compares its field with, boxed too so the reviewer sees both sides.
RELATED = {"rate_indicator_mismatch": ("funding.total.execution_rate",), "total_score": ("funding.total.score",)}
WARNING_RGB = (0.95, 0.55, 0.0)


def _boxes_for(field: str | None, provenance: dict) -> list[str]:
    """Provenance keys a finding's field points at (exact, or every row of a list field)."""
    if not field:
        return []
    if field in provenance:
        return [field]
    pattern = re.escape(field).replace(r"\[\]", r"\[\d+\]")
    return [k for k in provenance if re.fullmatch(pattern, k)]


def render_form_pages(pdf: Path, result: DocumentResult, index: int, out_dir: Path, dpi: int = 110) -> list[Path]:
    """PNG per page of form `index`, with error fields boxed red and warnings orange."""
    form = result.forms[index]
    doc = pymupdf.open(pdf)
    out = []
    try:
        for number in form.pages:
            page = doc.load_page(number - 1)
            shape = page.new_shape()
            drawn = False
            for finding in form.findings:
                color = ERROR_RGB if finding.severity == "error" else WARNING_RGB
                keys = _boxes_for(finding.field, form.provenance) + [k for k in RELATED.get(finding.code, ()) if k in form.provenance]
                for key in keys:
                    src = form.provenance[key]
                    if src.page == number and src.bbox:
                        shape.draw_rect(pymupdf.Rect(src.bbox))
                        shape.finish(color=color, width=1.6)
                        drawn = True
            if drawn:
                shape.commit()
            target = out_dir / f"form{index + 1}-p{number}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            page.get_pixmap(dpi=dpi).save(target)
            out.append(target)
    finally:
        doc.close()
    return out


def review_html(result: DocumentResult, images: dict[int, list[Path]], base: Path) -> str:
    esc = html.escape
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Review</title>",
        "<style>body{font-family:sans-serif;margin:1em}section{display:flex;gap:1em;border-top:1px solid #ccc;padding:1em 0}"
        "img{max-width:55vw;border:1px solid #999}.error{color:#b00}.warning{color:#b60}td,th{padding:2px 6px;text-align:left}</style>",
        f"<h1>{esc(Path(result.source.path).name)}</h1>",
    ]
    for i, form in enumerate(result.forms):
        if not form.findings:
            continue
        rows = "".join(
            f"<tr class='{esc(f.severity)}'><td>{esc(f.severity)}</td><td>{esc(f.code)}</td><td>{esc(f.field or '')}</td>"
            f"<td>{esc(str(f.expected))}</td><td>{esc(str(f.found))}</td><td>{esc(f.message_zh or f.message)}</td></tr>"
            for f in form.findings
        )
        imgs = "".join(f"<img src='{esc(str(p.relative_to(base)))}' alt='page'>" for p in images.get(i, []))
        parts.append(
            f"<section><div>{imgs}</div><div><h2>{i + 1}. {esc(form_label(form))}</h2>"
            f"<p>pages {esc(', '.join(map(str, form.pages)))} · engine {esc(form.engine)} · confidence {form.confidence:.2f}</p>"
            f"<table><tr><th>severity</th><th>code</th><th>field</th><th>expected</th><th>found</th><th>message</th></tr>{rows}</table>"
            "</div></section>"
        )
    return "\n".join(parts)


def write_review(result: DocumentResult, out_dir: Path, only_errors: bool = True) -> Path | None:
    """index.html and page images for the flagged forms of one result; None if none."""
    flagged = [
        i for i, f in enumerate(result.forms)
        if any(x.severity == "error" or not only_errors for x in f.findings)
    ]
    if not flagged:
        return None
    images: dict[int, list[Path]] = {}
    source = Path(result.source.path)
    if result.source.doc_type != "text_export" and source.exists():
        for i in flagged:
            images[i] = render_form_pages(source, result, i, out_dir / "pages")
    target = out_dir / "index.html"
    write_text_atomic(target, review_html(result, images, out_dir))
    return target
