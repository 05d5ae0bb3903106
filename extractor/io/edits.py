"""Cells a person changed in the batch tables (forms.csv, forms.xlsx …) since the tool
wrote them — so that `extractor check`, which writes the tables again from the result
files, never silently puts an old value back over a correction made where users make
them.

The tool records the hash of every table file it writes (OUT/tables.sha256, as
`sha256sum` prints it); a file whose bytes differ is compared cell by cell with what
the result files give (numbers as numbers: a spreadsheet that saves 82.00 as 82 has
changed nothing).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .schema import TABLES

RECORD = "tables.sha256"
EDITABLE = ("forms", "funding", "indicators")  # (findings and documents are the tool's own account)
# Columns the tool derives (from the findings, the unit, the review): not values a person corrects.
DERIVED = frozenset({"status", "errors", "warnings", "review", "corrected", "confidence", "engine", "form_key",
                     "budget_row", "initial_budget_wan", "annual_budget_wan", "executed_wan", "indicators"})


@dataclass(frozen=True)
class Edit:
    file: str
    row: str  # the row's key (form_id, with its row where the table has one)
    column: str
    written: Any
    now: Any

    def __str__(self) -> str:
        return f"{self.file} {self.row} {self.column}: {_shown(self.written)} → {_shown(self.now)}"


def _shown(v: Any) -> str:
    return "(empty)" if v in (None, "") else str(v)


def record(written: list[Path]) -> str:
    """tables.sha256's text for the table files just written."""
    from ..read.documents import sha256_of  # (here: io imports the readers only where it hashes)

    return "".join(f"{sha256_of(p)}  {p.name}\n" for p in written if p.suffix in (".csv", ".xlsx"))


def recorded(out_dir: Path) -> dict[str, str]:
    try:
        lines = (out_dir / RECORD).read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    return {name: digest for digest, _, name in (line.partition("  ") for line in lines) if name}


def changed_files(out_dir: Path) -> list[Path]:
    """The table files whose bytes are not those the tool wrote."""
    from ..read.documents import sha256_of

    hashes = recorded(out_dir)
    out = []
    for name, digest in hashes.items():
        path = out_dir / name
        if path.is_file() and sha256_of(path) != digest:
            out.append(path)
    return out


def _key(table: str, row: dict[str, Any]) -> str:
    return str(row.get("form_id")) if table == "forms" else f"{row.get('form_id')}/{row.get('row')}"


def _same(column_type: str, written: Any, now: Any) -> bool:
    if written in (None, "") and now in (None, ""):
        return True
    if column_type in ("real", "integer"):
        try:
            return Decimal(str(written)) == Decimal(str(now).replace(",", ""))
        except (InvalidOperation, ValueError):
            return False
    now = str(now) if now is not None else ""
    written = str(written) if written is not None else ""
    return now == written or now == "'" + written  # (the CSV formula guard's apostrophe)


def edits(changed: list[Path], expected: dict[str, list[dict[str, Any]]]) -> list[Edit]:
    """The cells of the `changed` table files that differ from `expected` (each editable
    table's rows, as the result files give them now)."""
    found: list[Edit] = []
    for path in changed:
        if path.suffix == ".csv" and path.stem not in EDITABLE:
            continue  # (findings.csv, documents.csv: the tool's own account, not read)
        sheets = _read(path)
        for table, rows in sheets.items():
            if table not in EDITABLE:
                continue
            types = {c.name: c.type for c in TABLES[table].columns}
            want = {_key(table, r): r for r in expected.get(table, [])}
            name = path.name if path.suffix == ".csv" else f"{path.name}[{table}]"
            seen = set()
            for r in rows:
                key = _key(table, r)
                seen.add(key)
                if key not in want:
                    found.append(Edit(name, key, "(row)", None, "a row the results do not hold"))
                    continue
                for column, value in r.items():
                    if column in types and column not in DERIVED and not _same(types[column], want[key].get(column), value):
                        found.append(Edit(name, key, column, want[key].get(column), value))
            found += [Edit(name, key, "(row)", "a row of the results", None) for key in want if key not in seen]
    return found


def _read(path: Path) -> dict[str, list[dict[str, Any]]]:
    """A table file's rows by table name (a CSV: its stem's; a workbook: each sheet's,
    under its column-names header row)."""
    if path.suffix == ".csv":
        for encoding in ("utf-8-sig", "gb18030"):  # (Excel in China saves CSV as GBK)
            try:
                with open(path, encoding=encoding, newline="") as fh:
                    return {path.stem: list(csv.DictReader(fh))}
            except UnicodeDecodeError:
                continue
        return {}
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        out = {}
        for table in EDITABLE:
            if table not in wb.sheetnames:
                continue
            rows = wb[table].iter_rows(values_only=True)
            next(rows, None)  # (the Chinese header)
            names = [str(n) if n is not None else "" for n in next(rows, ())]
            out[table] = [dict(zip(names, r)) for r in rows if any(v is not None for v in r)]
        return out
    finally:
        wb.close()


def summary_line(found: list[Edit], out_dir: Path, language: str | None = None) -> str:
    """The one line `extractor check` refuses with (in the language shown, or `language`)."""
    from ..messages import pick

    more = len(found) - 3
    cells = "; ".join(map(str, found[:3]))
    return pick(
        f"{len(found)} cell{'s' if len(found) != 1 else ''} of the tables in {out_dir} changed since they were written "
        f"({cells}{f'; and {more} more' if more > 0 else ''}): check writes the tables again from the result files and "
        "would put the old values back. Make the corrections in the review workbench (extractor review OUT) or the "
        "result files, or move the changed files away; --overwrite-tables writes over them",
        f"{out_dir} 中的表格写出后有 {len(found)} 个单元格被修改（{cells}{f'；另有 {more} 个' if more > 0 else ''}）："
        "check 会按结果文件重写表格，把旧值放回去。请在审核工作台（extractor review OUT）或结果文件中更正，"
        "或把修改过的文件移走；--overwrite-tables 会覆盖它们", language)
