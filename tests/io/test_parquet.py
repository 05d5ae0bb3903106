"""--format parquet: the forms, indicators and findings tables as Parquet, with the
SQLite tables' columns and values, typed per column."""

import os
import sqlite3

import pytest
from typer.testing import CliRunner

from extractor.cli import app

from folders import ROOT

if os.environ.get("EXTRACTOR_REQUIRE_RAY"):
    import pyarrow.parquet as pq  # (CI installs the ray extra, which brings pyarrow)
else:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed (pip install -e '.[parquet]')")


def test_parquet_tables_hold_what_the_sqlite_tables_hold(tmp_path):
    files = [ROOT / "fixtures" / "pdf" / "one_per_page.pdf", ROOT / "fixtures" / "text" / "000_01aad9c628fef0c3.txt"]
    r = CliRunner().invoke(app, ["extract", *map(str, files), "-o", str(tmp_path), "--format", "json,sqlite,parquet"])
    assert r.exit_code == 0, r.output
    con = sqlite3.connect(tmp_path / "forms.sqlite")
    for name in ("forms", "indicators", "findings"):
        table = pq.read_table(tmp_path / f"{name}.parquet")
        cur = con.execute(f'SELECT * FROM "{name}"')
        columns = [d[0] for d in cur.description]
        assert table.column_names == columns
        rows = cur.fetchall()
        assert table.num_rows == len(rows) > 0
        got = [tuple(r[c] for c in columns) for r in table.to_pylist()]
        for a, b in zip(got, rows):
            assert [x if not isinstance(x, float) else round(x, 9) for x in a] == [x if not isinstance(x, float) else round(x, 9) for x in b]
    forms = pq.read_table(tmp_path / "forms.parquet").schema
    assert str(forms.field("form").type) == "int64" and str(forms.field("total_score").type) == "double"
    assert str(forms.field("project_name").type) == "string"
