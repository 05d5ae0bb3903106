"""Writing results: per-document JSON and the batch tables (CSV, Excel, SQLite).

Every file is written whole or not at all (`atomic`).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from ..models import DocumentResult, dump_json, flatten, load_json, review_state
from .atomic import LEASE, Lease, atomic_path, fsync_folder, remove_leftovers, write_text_atomic  # noqa: F401 (the writers' one import)

FORMATS = ("json", "csv", "xlsx", "sqlite", "parquet")


def write_document_json(result: DocumentResult, target: Path) -> None:
    write_text_atomic(target, dump_json(result) + "\n")


def write_streamed_result(shell: DocumentResult, forms: TextIO, target: Path) -> None:
    """A result file whose forms were staged one by one in `forms` (each form's JSON,
    separated by ",\n"): the shell's other fields around them, in the model's order."""
    fields = shell.model_dump(mode="json")
    forms.seek(0)
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.write("{")
        for i, name in enumerate(DocumentResult.model_fields):
            out.write(("\n" if i == 0 else ",\n") + json.dumps(name) + ": ")
            if name == "forms":
                out.write("[\n")
                shutil.copyfileobj(forms, out)
                out.write("\n]")
            else:
                out.write(json.dumps(fields[name], ensure_ascii=False, indent=1))
        out.write("\n}\n")


def result_files(paths: Iterable[Path]) -> list[Path]:
    """Result JSON files: the files given, and those in folders given (an output
    folder's, but its errors.json)."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(f for f in p.glob("*.json") if f.name != "errors.json")
        else:
            files.append(p)
    return files


def load_document_json(path: Path) -> DocumentResult:
    return DocumentResult.model_validate(load_json(path.read_text(encoding="utf-8")))


# --- batch tables ----------------------------------------------------------------------


def form_rows(document: str, index: int, form) -> dict[str, list[dict]]:
    """One form's rows of the batch tables forms / indicators / findings, as flat
    dicts (values keep their types). `index` is the form's 1-based place in the document."""
    d = form.model_dump(mode="python")
    label = d.get("project_name") or d.get("department")
    row = {"document": document, "form": index, "kind": d["kind"], "title": d["title"], "year": d["year"]}
    for key in ("project_name", "department", "implementing_unit", "subordinate_units", "funding_unit"):
        if key in d:
            row[key] = d[key]
    flatten({k: v for k, v in d["funding"].items() if k != "extra"}, "funding", row)  # (extra rows: the JSON's)
    row.update({
        "total_weight": d.get("total_weight"), "total_score": d["total_score"], "grade": d["grade"],
        "pages": ",".join(map(str, d["pages"])), "indicators": len(d["indicators"]),
        "errors": sum(1 for f in d["findings"] if f["severity"] == "error"),
        "warnings": sum(1 for f in d["findings"] if f["severity"] == "warning"),
        "engine": d["engine"], "confidence": d["confidence"],
        # `extractor review`: where the form stands, and the fields whose value a reviewer typed
        "review": review_state(form) or "", "corrected": ",".join(d["review"]["corrected"]) if d["review"] else "",
    })
    if d.get("remarks"):  # (text fields a template prints beyond the contract's, by label: JSON)
        row["remarks"] = _scalar(d["remarks"])
    indicators = [{"document": document, "form": index, "form_label": label, "row": j + 1,
                   **{k: _scalar(v) for k, v in ind.items()}}  # (target_parts: a JSON list)
                  for j, ind in enumerate(d["indicators"])]
    findings = [{"document": document, "form": index, "form_label": label, **{k: _scalar(v) for k, v in f.items()}}
                for f in d["findings"]]
    return {"forms": [row], "indicators": indicators, "findings": findings}


def _encode(v):
    if isinstance(v, Decimal):
        return {"$decimal": str(v)}  # a Decimal keeps its printed digits (10.50) through staging
    raise TypeError(f"cannot stage {type(v).__name__}")


def _decode(d: dict):
    return Decimal(d["$decimal"]) if len(d) == 1 and "$decimal" in d else d


def write_form_rows(fh: TextIO, document: str, index: int, form) -> None:
    """Append one form's table rows to a staging file: a JSON line per row, tagged
    with its table."""
    for table, rows in form_rows(document, index, form).items():
        for r in rows:
            fh.write(json.dumps([table, r], default=_encode, ensure_ascii=False) + "\n")


class BatchTables:
    """The batch's tables, staged on disk while documents finish, so a batch of any
    size holds one row at a time; written as CSV / Excel / SQLite at the end."""

    NAMES = ("forms", "indicators", "findings")

    def __init__(self, out_dir: Path):
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_leftovers(out_dir)
        self.dir = Path(tempfile.mkdtemp(prefix=f".tables-{os.getpid()}-", dir=out_dir))
        self._lease = Lease(self.dir / LEASE)  # the next run leaves this folder alone while this process lives
        self.columns: dict[str, dict[str, None]] = {n: {} for n in self.NAMES}
        self._files = {n: open(self.dir / f"{n}.jsonl", "w+", encoding="utf-8") for n in self.NAMES}

    def staging_file(self, name: str) -> Path:
        """Where a worker writes one document's rows (see `write_form_rows`)."""
        return self.dir / f"{name}.rows"

    def take(self, staged: Path) -> None:
        """Move a document's staged rows into the batch tables, in order."""
        if not staged.exists():
            return
        with open(staged, encoding="utf-8") as fh:
            for line in fh:
                self._put(*json.loads(line))
        staged.unlink()

    def add(self, document: str, index: int, form) -> None:
        """One form's rows straight into the tables (a form this process holds)."""
        for table, rows in form_rows(document, index, form).items():
            for row in rows:
                self._put(table, row)

    def _put(self, table: str, row: dict) -> None:
        for k in row:
            self.columns[table].setdefault(k, None)
        self._files[table].write(json.dumps(row, default=_encode, ensure_ascii=False) + "\n")

    def rows(self, table: str) -> Iterator[dict]:
        fh = self._files[table]
        fh.flush()
        fh.seek(0)
        for line in fh:
            yield json.loads(line, object_hook=_decode)
        fh.seek(0, os.SEEK_END)

    def write(self, out_dir: Path, formats: Iterable[str]) -> list[Path]:
        """Every table file of `formats`, all or none: each is written whole in the staging
        folder first, and only when all are there are they renamed into OUT (a full disk
        leaves the previous tables, never one new file beside old ones)."""
        staged: list[Path] = []
        formats = set(formats)
        try:
            if "csv" in formats:
                for name in self.NAMES:
                    staged.append(self.dir / f"{name}.csv")
                    write_csv(list(self.columns[name]), self.rows(name), staged[-1])
            if "xlsx" in formats:
                staged.append(self.dir / "forms.xlsx")
                write_xlsx(self, staged[-1])
            if "sqlite" in formats:
                staged.append(self.dir / "forms.sqlite")
                write_sqlite(self, staged[-1])
            if "parquet" in formats:
                for name in self.NAMES:
                    staged.append(self.dir / f"{name}.parquet")
                    write_parquet(list(self.columns[name]), self.rows(name), staged[-1])
        except BaseException:
            for path in staged:
                path.unlink(missing_ok=True)
            raise
        written = []
        for path in staged:  # (each was flushed to the disk by its writer)
            os.replace(path, out_dir / path.name)
            written.append(out_dir / path.name)
        fsync_folder(out_dir)
        return written

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        self._lease.release()


def _scalar(v):
    return json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v


def _cell(v):
    if isinstance(v, Decimal):
        return float(v)
    return v


def write_csv(cols: list[str], rows: Iterable[dict], target: Path) -> None:
    with atomic_path(target) as tmp:
        # utf-8-sig so that Excel opens the Chinese text correctly on double-click.
        with open(tmp, "w", newline="", encoding="utf-8-sig") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            for r in rows:
                w.writerow({k: _csv_value(r.get(k)) for k in cols})


# A text cell a spreadsheet would run as a formula (OWASP's CSV injection): documents
# print targets like "=100(%)" and "-100.00(%)", and a hostile one "=HYPERLINK(…)".
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(v) -> object:
    """Amounts as the forms print them, with two decimals ("82.00"), whether the value
    came from a page or back from a JSON file (where 82.00 is stored as 82). Text a
    spreadsheet would take for a formula gets a leading apostrophe, as OWASP advises:
    CSV has no cell types, so this is the only way to keep it text."""
    if v is None:
        return ""
    if isinstance(v, Decimal) and v.is_finite() and v.as_tuple().exponent >= -2:
        return f"{v:.2f}"
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return v


def write_xlsx(tables: BatchTables, target: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)  # rows go straight to the file's XML: constant memory
    for name in tables.NAMES:
        ws = wb.create_sheet(name)
        ws.freeze_panes = "A2"
        cols = list(tables.columns[name])
        ws.append(cols)
        for r in tables.rows(name):
            ws.append([_xlsx_cell(ws, _cell(r.get(c))) for c in cols])
    with atomic_path(target) as tmp:
        wb.save(tmp)


def _xlsx_cell(ws, v):
    """Text as a text cell: openpyxl writes a string starting with '=' as a formula."""
    if isinstance(v, str) and v.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=v)
        cell.data_type = "s"
        return cell
    return v


def write_sqlite(tables: BatchTables, target: Path) -> None:
    with atomic_path(target) as tmp:
        con = sqlite3.connect(tmp)
        try:
            for name in tables.NAMES:
                cols = list(tables.columns[name]) or ["document"]
                con.execute(f'CREATE TABLE "{name}" ({", ".join(f"[{c}]" for c in cols)})')
                con.executemany(
                    f'INSERT INTO "{name}" VALUES ({", ".join("?" for _ in cols)})',
                    ([_cell(r.get(c)) for c in cols] for r in tables.rows(name)),
                )
            con.commit()
        finally:
            con.close()


def _column_type(values: list):
    """A Parquet column's type from its values, as SQLite stores them: integers,
    else numbers (a Decimal as a double, as in SQLite), else text."""
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) for v in present):  # (bool is an int: SQLite stores 0/1)
        return pa.int64(), [None if v is None else int(v) for v in values]
    if present and all(isinstance(v, (int, float, Decimal)) for v in present):
        return pa.float64(), [None if v is None else float(v) for v in values]
    return pa.string(), [None if v is None else str(v) for v in values]


def write_parquet(cols: list[str], rows: Iterable[dict], target: Path) -> None:
    """One table as Parquet (DuckDB, pandas, Spark): the SQLite table's columns, typed
    per column. Held in memory while written (a column's type needs all its values)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        from ..errors import ConfigError

        raise ConfigError("--format parquet needs pyarrow: pip install 'fiscal-form-extractor[parquet]'") from None
    rows = list(rows)
    cols = cols or ["document"]
    fields, arrays = [], []
    for c in cols:
        kind, values = _column_type([r.get(c) for r in rows])
        fields.append(pa.field(c, kind))
        arrays.append(pa.array(values, type=kind))
    with atomic_path(target) as tmp:
        pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), tmp)
