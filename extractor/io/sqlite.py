"""forms.sqlite as sqlite-utils and Datasette users expect it: typed columns, primary
and foreign keys, indexes on the keys and on what is searched by, and views for
the common questions."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import atomic_path
from .schema import TABLES, Table

if TYPE_CHECKING:
    from .outputs import BatchTables

_SQL_TYPE = {"text": "TEXT", "integer": "INTEGER", "real": "REAL"}

VIEWS = {
    # Every error and warning, with what a reviewer needs to find it on the page.
    "flagged_findings": """
        SELECT fi.form_id, fi.document, fo.project_name, fo.department, fo.year, fi.page, fi.severity, fi.code,
               fi.field, fi.field_zh, fi.expected, fi.found, fi.message_zh, fi.message, fi.decision, fi.source_path
        FROM findings fi JOIN forms fo ON fo.form_id = fi.form_id
        WHERE fi.severity IN ('error', 'warning')""",
    # Amounts in 万元 whatever each form prints; a form published twice (a PDF and its workbook copy) counted once.
    "forms_by_department": """
        SELECT department, year, COUNT(*) AS forms, SUM(status != 'ok') AS flagged,
               ROUND(SUM(annual_budget_wan), 4) AS annual_budget_wan, ROUND(SUM(executed_wan), 4) AS executed_wan,
               ROUND(100.0 * SUM(executed_wan) / NULLIF(SUM(annual_budget_wan), 0), 2) AS execution_rate,
               ROUND(AVG(total_score), 2) AS average_score
        FROM (SELECT * FROM forms GROUP BY form_key)
        GROUP BY department, year""",
}


def create_statement(table: Table) -> str:
    columns = [f"[{c.name}] {_SQL_TYPE[c.type]}" + (" NOT NULL" if c.name in table.key else "") for c in table.columns]
    columns.append(f"PRIMARY KEY ({', '.join(f'[{k}]' for k in table.key)})")
    columns += [f"FOREIGN KEY ([{col}]) REFERENCES [{other}] ([{their}])" for col, other, their in table.refers]
    return f"CREATE TABLE [{table.name}] (\n  " + ",\n  ".join(columns) + "\n)"


def write_sqlite(tables: BatchTables, target: Path) -> None:
    from .outputs import plain

    with atomic_path(target) as tmp:
        con = sqlite3.connect(tmp)
        try:
            for table in TABLES.values():
                con.execute(create_statement(table))
                names = table.names
                con.executemany(f"INSERT INTO [{table.name}] VALUES ({', '.join('?' for _ in names)})",
                                ([plain(r.get(n)) for n in names] for r in tables.rows(table.name)))
                for column in table.indexes:
                    con.execute(f"CREATE INDEX [{table.name}_{column}] ON [{table.name}] ([{column}])")
            for name, sql in VIEWS.items():
                con.execute(f"CREATE VIEW [{name}] AS {sql}")
            con.commit()
        except sqlite3.OperationalError as exc:  # (a full disk is an OSError to the batch, as for every other file)
            raise OSError(errno.ENOSPC if "full" in str(exc) else errno.EIO, f"{exc} (writing {target.name})") from exc
        finally:
            con.close()
