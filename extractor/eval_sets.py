"""Evaluation sets: documents with the gold records they print.

A set is a manifest JSON:

    {"root": "../..",
     "documents": [{"document": "reports/a.pdf", "doc_type": "born_digital",
                    "gold": [{"file": "gold/a.json", "index": 0}, ...]}, ...]}

`document` and `file` are relative to `root`, itself relative to the manifest's
folder (default: the manifest's folder). A gold file is `{"forms": [record, ...]}`
in the output contract's shape (`extractor schema`); `index` picks one of its
forms, in the order the document prints them. The default set is the fixtures
shipped with the package (`resources.data_root()`): the seed text exports with
their gold, and the PDFs and scans printed from the same gold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from .errors import ConfigError
from .models import Form as FormType, load_json
from .resources import data_root

FORM = TypeAdapter(FormType)


@dataclass
class EvalDocument:
    path: Path
    doc_type: str
    gold: list  # of Form


def _read_json(path: Path) -> dict:
    try:
        return load_json(path.read_text(encoding="utf-8"))  # (numbers keep their printed digits)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from None


def read_gold(path: Path) -> list:
    """The forms of a gold file; ConfigError names the file, the form and the key."""
    raw = _read_json(path)
    forms = raw.get("forms") if isinstance(raw, dict) else None
    if not isinstance(forms, list):
        raise ConfigError(f"{path}: a gold file is {{\"forms\": [...]}}")
    out = []
    for i, record in enumerate(forms):
        try:
            out.append(FORM.validate_python(record))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"][1:] or err["loc"])  # (the first is the form kind)
            raise ConfigError(f"{path}: form {i}: {where}: {err['msg']}") from None
    return out


class _GoldFiles:
    """Gold files read once however many documents use them."""

    def __init__(self, root: Path):
        self.root = root
        self._cache: dict[Path, list] = {}

    def __call__(self, rel: str) -> list:
        path = self.root / rel
        if path not in self._cache:
            self._cache[path] = read_gold(path)
        return self._cache[path]


def load_manifest(manifest: Path, gold: _GoldFiles | None = None) -> list[EvalDocument]:
    raw = _read_json(manifest)
    root = (manifest.parent / raw.get("root", ".")).resolve()
    gold = gold if gold is not None and gold.root == root else _GoldFiles(root)
    docs = []
    try:
        for d in raw["documents"]:
            docs.append(EvalDocument(root / d["document"], d["doc_type"], [gold(g["file"])[g["index"]] for g in d["gold"]]))
    except (KeyError, TypeError, IndexError) as exc:
        raise ConfigError(f"{manifest}: not an evaluation manifest ({type(exc).__name__}: {exc})") from None
    return docs


def default_set(root: Path | None = None, include_scanned: bool = True) -> list[EvalDocument]:
    root = root or data_root()
    gold = _GoldFiles(root.resolve())
    docs = []
    for g in sorted((root / "eval" / "gold" / "text").glob("*.json")):
        raw = _read_json(g)
        docs.append(EvalDocument(root / raw["document"], raw["doc_type"], gold(str(g.relative_to(root)))))
    manifest = root / "fixtures" / "pdf" / "manifest.json"
    if manifest.exists():
        docs += load_manifest(manifest, gold)
    for made in ("office", "web", "provinces"):  # Excel/Word printed by LibreOffice; web pages and Chromium's PDFs of them; the provinces' templates
        manifest = root / "fixtures" / made / "manifest.json"
        if manifest.exists():
            docs += load_manifest(manifest, gold)
    scanned = root / "fixtures" / "scanned" / "manifest.json"
    if scanned.exists() and include_scanned:
        from .read.ocr import available

        if available():  # without the ocr extra, scans cannot be read: leave them out, not fail them
            docs += load_manifest(scanned, gold)
    return docs


def load_set(spec: str | None) -> list[EvalDocument]:
    """None or 'fixtures': the default set; a manifest JSON, or a folder holding one
    (`extractor review export-gold` writes such a folder), otherwise."""
    if spec in (None, "fixtures"):
        return default_set()
    path = Path(spec)
    return load_manifest(path / "manifest.json" if path.is_dir() else path)
