"""Writing results: per-document JSON and the batch tables (CSV, Excel, SQLite).

Every file is written whole or not at all (`atomic`).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from ..models import DocumentResult, dump_json, load_json
from .edits import RECORD, record
from .rows import DocRef, form_rows
from .schema import TABLES
from .atomic import LEASE, Lease, atomic_path, fsync_folder, remove_leftovers, write_text_atomic  # noqa: F401 (the writers' one import)

FORMATS = ("json", "csv", "xlsx", "sqlite", "parquet")
# The batch's own JSON files in OUT (not documents' results): an input of one of these
# names gets a result name of its own (naming.name_documents).
OWN_FILES = frozenset({"errors", "metadata", "summary"})


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
    folder's, but the batch's own files: `OWN_FILES`)."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(f for f in p.glob("*.json") if f.stem not in OWN_FILES)
        else:
            files.append(p)
    return files


def load_document_json(path: Path) -> DocumentResult:
    return DocumentResult.model_validate(load_json(path.read_text(encoding="utf-8")))


# --- batch tables ----------------------------------------------------------------------


def _encode(v):
    if isinstance(v, Decimal):
        return {"$decimal": str(v)}  # a Decimal keeps its printed digits (10.50) through staging
    raise TypeError(f"cannot stage {type(v).__name__}")


def _decode(d: dict):
    return Decimal(d["$decimal"]) if len(d) == 1 and "$decimal" in d else d


def write_form_rows(fh: TextIO, ref: DocRef, index: int, form) -> None:
    """Append one form's table rows to a staging file: a JSON line per row, tagged
    with its table."""
    for table, rows in form_rows(ref, index, form).items():
        for r in rows:
            fh.write(json.dumps([table, r], default=_encode, ensure_ascii=False) + "\n")


class BatchTables:
    """The batch's tables (`schema.TABLES`), staged on disk while documents finish, so a
    batch of any size holds one row at a time; written as CSV / Excel / SQLite / Parquet
    at the end."""

    NAMES = tuple(TABLES)

    def __init__(self, out_dir: Path):
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_leftovers(out_dir)
        self.dir = Path(tempfile.mkdtemp(prefix=f".tables-{os.getpid()}-", dir=out_dir))
        self._lease = Lease(self.dir / LEASE)  # the next run leaves this folder alone while this process lives
        self.counts: dict[str, int] = {n: 0 for n in self.NAMES}
        self._files = {n: open(self.dir / f"{n}.jsonl", "w+", encoding="utf-8") for n in self.NAMES}
        # Where each document's rows are in its table's file: the tables list documents in
        # the order of their names, however the batch's documents finished (so that check
        # writes the rows extract wrote, in the same order)
        self._at: dict[str, dict[str, list[int]]] = {n: {} for n in self.NAMES}

    def staging_file(self, name: str) -> Path:
        """Where a worker writes one document's rows (see `write_form_rows`)."""
        return self.dir / f"{name}.rows"

    def take(self, staged: Path) -> None:
        """Move a document's staged rows into the batch tables, in order."""
        if not staged.exists():
            return
        with open(staged, encoding="utf-8") as fh:
            for line in fh:
                self._put(*json.loads(line))  # (a Decimal's marker passes through as it is)
        staged.unlink()

    def add(self, ref: DocRef, index: int, form) -> None:
        """One form's rows straight into the tables (a form this process holds)."""
        for table, rows in form_rows(ref, index, form).items():
            for row in rows:
                self._put(table, row)

    def add_document(self, row: dict) -> None:
        """A document's row (`rows.document_row`)."""
        self._put("documents", row)

    def _put(self, table: str, row: dict) -> None:
        self.counts[table] += 1
        fh = self._files[table]
        self._at[table].setdefault(row["document"], []).append(fh.tell())
        fh.write(json.dumps(row, default=_encode, ensure_ascii=False) + "\n")

    def rows(self, table: str) -> Iterator[dict]:
        """The table's rows: by document name, and in the order they came within one."""
        fh = self._files[table]
        fh.flush()
        try:
            for document in sorted(self._at[table]):
                for at in self._at[table][document]:
                    fh.seek(at)
                    yield json.loads(fh.readline(), object_hook=_decode)
        finally:
            fh.seek(0, os.SEEK_END)

    def write(self, out_dir: Path, formats: Iterable[str], summary: dict | None = None) -> list[Path]:
        """Every table file of `formats`, all or none: each is written whole in the staging
        folder first, and only when all are there are they renamed into OUT (a full disk
        leaves the previous tables, never one new file beside old ones). `summary`: the
        batch's counts (`report.batch_summary`) for the workbook's 汇总, when already made."""
        from .sqlite import write_sqlite
        from .workbook import write_xlsx

        staged: list[Path] = []
        formats = set(formats)
        try:
            if "csv" in formats:
                for name in self.NAMES:
                    staged.append(self.dir / f"{name}.csv")
                    write_csv(TABLES[name].names, self.rows(name), staged[-1])
            if "xlsx" in formats:
                staged.append(self.dir / "forms.xlsx")
                write_xlsx(self, staged[-1], summary)
            if "sqlite" in formats:
                staged.append(self.dir / "forms.sqlite")
                write_sqlite(self, staged[-1])
                staged.append(self.dir / "metadata.json")
                write_text_atomic(staged[-1], datasette_metadata())
            if "parquet" in formats:
                for name in self.NAMES:
                    staged.append(self.dir / f"{name}.parquet")
                    write_parquet(name, self.rows(name), staged[-1])
        except BaseException:
            for path in staged:
                path.unlink(missing_ok=True)
            raise
        written = []
        for path in staged:  # (each was flushed to the disk by its writer)
            os.replace(path, out_dir / path.name)
            written.append(out_dir / path.name)
        # What the tool wrote, so that a later check tells a person's edits (io.edits)
        write_text_atomic(out_dir / RECORD, record(written))
        fsync_folder(out_dir)
        return written

    def close(self) -> None:
        for fh in self._files.values():
            try:
                fh.close()
            except OSError:
                pass  # (a full disk: what it could not flush is thrown away with the folder)
        shutil.rmtree(self.dir, ignore_errors=True)
        self._lease.release()


def datasette_metadata() -> str:
    """Datasette's metadata.json for forms.sqlite: the dictionary's descriptions."""
    tables = {t.name: {"description": t.description, "columns": {c.name: f"{c.zh}: {c.description}" for c in t.columns}}
              for t in TABLES.values()}
    tables["flagged_findings"] = {"description": "Every error and warning finding with its form's project, "
                                  "field, expected and found values, and page."}
    tables["forms_by_department"] = {"description": "Forms, flagged forms and amounts in 万元 by department and year."}
    return json.dumps({"title": "Fiscal performance self-evaluation forms",
                       "databases": {"forms": {"tables": tables}}}, ensure_ascii=False, indent=1) + "\n"


def plain(v):
    """A value as a typed store holds it: a Decimal as a float."""
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


_ARROW = {"text": "string", "integer": "int64", "real": "float64"}


def write_parquet(table: str, rows: Iterable[dict], target: Path) -> None:
    """One table as Parquet (DuckDB, pandas, Spark), typed by the schema whatever the
    batch holds (an empty batch too). Held in memory while written."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        from ..errors import ConfigError

        raise ConfigError("--format parquet needs pyarrow: pip install 'fiscal-form-extractor[parquet]'") from None
    columns = TABLES[table].columns
    rows = list(rows)
    schema = pa.schema([pa.field(c.name, getattr(pa, _ARROW[c.type])()) for c in columns])
    arrays = [pa.array([plain(r.get(c.name)) for r in rows], type=schema.field(c.name).type) for c in columns]
    with atomic_path(target) as tmp:
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), tmp)
