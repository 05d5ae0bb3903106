"""Writing results: per-document JSON and the batch tables (CSV, Excel, SQLite).

Every file is written to a temporary name in the same folder and renamed into
place, so a crash or Ctrl-C leaves either the old file or the new one, never half.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from .models import DocumentResult

FORMATS = ("json", "csv", "xlsx", "sqlite")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside `target`, renamed onto it when the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text_atomic(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_document_json(result: DocumentResult, target: Path) -> None:
    write_text_atomic(target, result.model_dump_json(indent=1) + "\n")


def load_document_json(path: Path) -> DocumentResult:
    return DocumentResult.model_validate_json(path.read_text(encoding="utf-8"))


# --- batch tables ----------------------------------------------------------------------


def _flat(prefix: str, value, out: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else k, v, out)
    else:
        out[prefix] = value


def table_rows(results: Iterable[tuple[str, DocumentResult]]) -> dict[str, list[dict]]:
    """forms / indicators / findings as lists of flat dicts (values keep their types)."""
    forms, indicators, findings = [], [], []
    for name, res in results:
        for i, form in enumerate(res.forms):
            d = form.model_dump(mode="python")
            label = d.get("project_name") or d.get("department")
            row = {"document": name, "form": i + 1, "kind": d["kind"], "title": d["title"], "year": d["year"]}
            for key in ("project_name", "department", "implementing_unit", "subordinate_units", "funding_unit"):
                if key in d:
                    row[key] = d[key]
            _flat("funding", d["funding"], row)
            row.update({
                "total_weight": d.get("total_weight"), "total_score": d["total_score"], "grade": d["grade"],
                "pages": ",".join(map(str, d["pages"])), "indicators": len(d["indicators"]),
                "errors": sum(1 for f in d["findings"] if f["severity"] == "error"),
                "warnings": sum(1 for f in d["findings"] if f["severity"] == "warning"),
                "engine": d["engine"], "confidence": d["confidence"],
            })
            forms.append(row)
            for j, ind in enumerate(d["indicators"]):
                indicators.append({"document": name, "form": i + 1, "form_label": label, "row": j + 1, **ind})
            for f in d["findings"]:
                findings.append({"document": name, "form": i + 1, "form_label": label, **{k: _scalar(v) for k, v in f.items()}})
    return {"forms": forms, "indicators": indicators, "findings": findings}


def _scalar(v):
    return json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v


def _columns(rows: list[dict]) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows:
        for k in r:
            cols.setdefault(k, None)
    return list(cols)


def _cell(v):
    if isinstance(v, Decimal):
        return float(v)
    return v


def write_csv(rows: list[dict], target: Path) -> None:
    cols = _columns(rows)
    with atomic_path(target) as tmp:
        # utf-8-sig so that Excel opens the Chinese text correctly on double-click.
        with open(tmp, "w", newline="", encoding="utf-8-sig") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in cols})


def write_xlsx(tables: dict[str, list[dict]], target: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in tables.items():
        ws = wb.create_sheet(name)
        cols = _columns(rows)
        ws.append(cols)
        for r in rows:
            ws.append([_cell(r.get(c)) for c in cols])
        ws.freeze_panes = "A2"
    with atomic_path(target) as tmp:
        wb.save(tmp)


def write_sqlite(tables: dict[str, list[dict]], target: Path) -> None:
    with atomic_path(target) as tmp:
        con = sqlite3.connect(tmp)
        try:
            for name, rows in tables.items():
                cols = _columns(rows) or ["document"]
                con.execute(f'CREATE TABLE "{name}" ({", ".join(f"[{c}]" for c in cols)})')
                con.executemany(
                    f'INSERT INTO "{name}" VALUES ({", ".join("?" for _ in cols)})',
                    [[_cell(r.get(c)) for c in cols] for r in rows],
                )
            con.commit()
        finally:
            con.close()


def write_batch_tables(results: list[tuple[str, DocumentResult]], out_dir: Path, formats: Iterable[str]) -> list[Path]:
    tables = table_rows(results)
    written = []
    formats = set(formats)
    if "csv" in formats:
        for name, rows in tables.items():
            write_csv(rows, out_dir / f"{name}.csv")
            written.append(out_dir / f"{name}.csv")
    if "xlsx" in formats:
        write_xlsx(tables, out_dir / "forms.xlsx")
        written.append(out_dir / "forms.xlsx")
    if "sqlite" in formats:
        write_sqlite(tables, out_dir / "forms.sqlite")
        written.append(out_dir / "forms.sqlite")
    return written
