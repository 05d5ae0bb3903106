"""Static review pages (`extractor review --static`): each flagged form's pages with
the disputed values boxed, beside its findings and values; no server, nothing to
decide (correct OUT/*.json and run `extractor check`). The same view as the web app,
written as files; every string from a document is escaped by the template."""

from __future__ import annotations

from pathlib import Path

from ..io.outputs import atomic_path, write_text_atomic
from ..models import DocumentResult, form_label
from .pages import locate_source, render
from .view import form_view


def write_review(result: DocumentResult, out_dir: Path, only_errors: bool = True, results_dir: Path | None = None) -> Path | None:
    """index.html and page images for the flagged forms of one result; None if none."""
    from .app import _env

    flagged = [i for i, f in enumerate(result.forms, 1)
               if any(x.severity == "error" or (not only_errors and x.severity == "warning") for x in f.findings)]
    if not flagged:
        return None
    source, problem = locate_source(result.source.path, result.source.sha256, results_dir or Path.cwd())
    notes = [n for f in result.forms for n in f.notes]
    sizes: dict[int, tuple[float, float] | None] = {}
    images: dict[int, str] = {}  # page -> its image file, relative to index.html

    def page_size(number: int) -> tuple[float, float] | None:
        if number not in sizes:
            image = render(source, number, notes) if source is not None else None
            sizes[number] = None
            if image is not None:
                suffix = ".jpg" if image.media == "image/jpeg" else ".png"
                with atomic_path(out_dir / "pages" / f"p{number}{suffix}") as tmp:
                    tmp.write_bytes(image.data)
                sizes[number] = (image.width, image.height)
                images[number] = f"pages/p{number}{suffix}"
        return sizes[number]

    forms = [(i, form_label(result.forms[i - 1]), form_view(result, i, page_size)) for i in flagged]
    html = _env().get_template("static.html").render(
        name=Path(result.source.path).name, forms=forms, images=images, problem=problem, result=result)
    target = out_dir / "index.html"
    write_text_atomic(target, html)
    return target
