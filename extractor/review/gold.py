"""Gold from review: the decided forms of an output folder as an evaluation set
(`extractor eval DIR`), so every reviewed batch grows the evaluation set."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..findings import Code
from ..io.outputs import load_document_json, result_files, write_text_atomic
from ..models import OPEN_SEVERITIES, form_label
from .pages import locate_source

# What a gold record holds: the form's content, not how it was read or judged.
NOT_GOLD = {"findings", "provenance", "notes", "usage", "review", "engine", "confidence", "pages"}

# Findings that say values were not read. Confirmed ("the document is so"), they leave
# the form decided with its values missing or unverified: no gold until corrected (or
# dismissed with a reason: the reviewer read the form and found it whole).
UNVERIFIED = frozenset({Code.MISSING_FIELD.value, Code.FIELD_NOT_FOUND.value, Code.READ_POORLY.value})


@dataclass
class Export:
    documents: int = 0
    forms: int = 0
    left_out: list[str] = field(default_factory=list)  # why a decided form or document is not in the set
    undecided: int = 0  # forms with findings still open (not in the set)


def export_gold(out_dir: Path, target: Path) -> Export:
    """DIR/manifest.json and DIR/gold/<document>.json for every document of OUT with
    a verified form: decided (every finding confirmed, dismissed or corrected away) with
    no finding of values not read (UNVERIFIED) merely confirmed."""
    done = Export()
    documents = []
    for path in result_files([out_dir]):
        try:
            result = load_document_json(path)
        except Exception:
            continue  # not a result file
        decided = []
        for i, f in enumerate(result.forms, 1):
            if f.review is None or f.review.state != "decided":
                done.undecided += any(x.severity in OPEN_SEVERITIES and x.decision is None for x in f.findings)
                continue
            unverified = sorted({str(x.code) for x in f.findings if str(x.code) in UNVERIFIED and x.decision == "confirm"})
            if unverified:
                done.left_out.append(f"{path.stem} form {i} ({form_label(f) or '?'}): {', '.join(unverified)} confirmed, "
                                     "so values it lacks are not verified (correct them, or dismiss with a reason, to make it gold)")
                continue
            decided.append(f)
        if not decided:
            continue
        source, why = locate_source(result.source.path, result.source.sha256, out_dir)
        if source is None:
            done.left_out.append(f"{path.stem}: {why}")
            continue
        gold_file = f"gold/{path.stem}.json"
        records = [f.model_dump(mode="json", exclude=NOT_GOLD) for f in decided]
        write_text_atomic(target / gold_file, json.dumps({"forms": records}, ensure_ascii=False, indent=1) + "\n")
        # (relative to the manifest: the set moves with its folder and its documents)
        documents.append({"document": os.path.relpath(source.resolve(), target.resolve()), "doc_type": result.source.doc_type or "born_digital",
                          "sha256": result.source.sha256,
                          "gold": [{"file": gold_file, "index": i} for i in range(len(records))]})
        done.documents += 1
        done.forms += len(records)
    write_text_atomic(target / "manifest.json", json.dumps({"root": ".", "documents": documents}, ensure_ascii=False, indent=1) + "\n")
    return done
