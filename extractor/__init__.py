"""Read fiscal performance self-evaluation forms (绩效自评表) into checked records."""

import os
import sys

__version__ = "0.1.0"


def _import_pymupdf_without_extras() -> None:
    """PyMuPDF 2 imports two of its dependencies as it is imported: its layout
    analyser (pymupdf_layout, which loads an ONNX model) and pymupdf4llm. Together
    ≈0.8 s and ≈55 MB in every process — the CLI, each batch worker — for
    `get_layout()`, `find_tables()`'s layout mode and `to_markdown()`, none of which
    this tool calls. A None in sys.modules makes an import raise ImportError, which
    PyMuPDF catches and goes on without them; the entries are removed afterwards, so
    a later `import pymupdf4llm` by the host works as usual. A process that imported
    PyMuPDF first keeps what it has; EXTRACTOR_PYMUPDF_EXTRAS=1 keeps them too."""
    if "pymupdf" in sys.modules or os.environ.get("EXTRACTOR_PYMUPDF_EXTRAS") == "1":
        return
    blocked = [name for name in ("pymupdf.layout", "pymupdf4llm") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import pymupdf  # noqa: F401
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


_import_pymupdf_without_extras()
