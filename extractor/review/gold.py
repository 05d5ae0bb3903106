"""Gold from review: the decided forms of an output folder as an evaluation set
(`extractor eval DIR`), so every reviewed batch grows the evaluation set."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..io.outputs import load_document_json, result_files, write_text_atomic
from .pages import locate_source

# What a gold record holds: the form's content, not how it was read or judged.
NOT_GOLD = {"findings", "provenance", "notes", "usage", "review", "engine", "confidence", "pages"}


@dataclass
class Export:
    documents: int = 0
    forms: int = 0
    left_out: list[str] = field(default_factory=list)  # why a document with decided forms is not in the set


def export_gold(out_dir: Path, target: Path) -> Export:
    """DIR/manifest.json and DIR/gold/<document>.json for every document of OUT with
    a decided form (every finding confirmed, dismissed or corrected away)."""
    done = Export()
    documents = []
    for path in result_files([out_dir]):
        try:
            result = load_document_json(path)
        except Exception:
            continue  # not a result file
        decided = [f for f in result.forms if f.review is not None and f.review.state == "decided"]
        if not decided:
            continue
        source, why = locate_source(result.source.path, result.source.sha256, out_dir)
        if source is None:
            done.left_out.append(f"{path.stem}: {why}")
            continue
        gold_file = f"gold/{path.stem}.json"
        records = [f.model_dump(mode="json", exclude=NOT_GOLD) for f in decided]
        write_text_atomic(target / gold_file, json.dumps({"forms": records}, ensure_ascii=False, indent=1) + "\n")
        documents.append({"document": str(source.resolve()), "doc_type": result.source.doc_type or "born_digital",
                          "sha256": result.source.sha256,
                          "gold": [{"file": gold_file, "index": i} for i in range(len(records))]})
        done.documents += 1
        done.forms += len(records)
    write_text_atomic(target / "manifest.json", json.dumps({"root": ".", "documents": documents}, ensure_ascii=False, indent=1) + "\n")
    return done
