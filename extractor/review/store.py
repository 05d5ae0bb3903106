"""The decision log: OUT/review.sqlite, append-only.

A decision is a row; the one in force for a (document, form, field, finding code)
is the latest. Nothing is updated or deleted: undoing a decision appends a
`reopen`. Every write is one transaction in WAL mode with a full sync, so a
killed server loses nothing it acknowledged and two servers (two reviewers) on one
folder interleave their decisions rather than overwrite them.
"""

from __future__ import annotations

from ..errors import ReviewLogError

import dataclasses
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACTIONS = ("correct", "confirm", "dismiss", "reopen")
LOG_NAME = "review.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL,      -- the document's, so a decision follows its file, not its name
    document TEXT NOT NULL,    -- OUT/<document>.json when it was made
    form INTEGER NOT NULL,     -- 1-based place of the form in its document
    field TEXT NOT NULL,       -- "funding.total.executed", "indicators[2].score"
    code TEXT NOT NULL,        -- the finding decided on; '' for a correction (it is of the field)
    action TEXT NOT NULL CHECK (action IN ('correct', 'confirm', 'dismiss', 'reopen')),
    extracted TEXT,            -- JSON: the value the engines extracted, when decided
    decided TEXT,              -- JSON: the value the reviewer typed (correct only)
    comment TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,          -- UTC, ISO 8601
    label TEXT NOT NULL DEFAULT '', -- the form's project or department name, when decided
    reading TEXT NOT NULL DEFAULT ''  -- the result's fingerprint when decided (fingerprint.py; '' before it was kept)
);
CREATE INDEX IF NOT EXISTS decisions_by_document ON decisions (sha256, form);
"""


@dataclass(frozen=True)
class Decision:
    id: int
    sha256: str
    document: str
    form: int
    field: str
    code: str
    action: str
    extracted: Any
    decided: Any
    comment: str
    reviewer: str
    at: str
    label: str = ""
    reading: str = ""  # the fingerprint of the result it was decided on (JSON)
    # Made on an earlier version of the document (another sha256, the same name in OUT):
    # shown on the form again to be confirmed, never applied unseen
    carried: bool = False

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.form, self.field, self.code)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _unjson(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


_SELECT = ("SELECT id, sha256, document, form, field, code, action, extracted, decided, comment, reviewer, at, label, reading"
           " FROM decisions")


def _decision(row: tuple) -> Decision:
    """A row of _SELECT as a Decision (its values JSON-decoded)."""
    return Decision(*row[:7], _unjson(row[7]), _unjson(row[8]), *row[9:])


class ReviewLog:
    """The log of one output folder. One connection per thread that uses it."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / LOG_NAME
        try:
            self._con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=FULL")
            self._con.executescript(_SCHEMA)
            columns = {row[1] for row in self._con.execute("PRAGMA table_info(decisions)")}
            if "reading" not in columns:  # (a log from before the reading was kept)
                self._con.execute("ALTER TABLE decisions ADD COLUMN reading TEXT NOT NULL DEFAULT ''")
            self._con.execute("SELECT count(*) FROM decisions").fetchone()  # (a damaged file fails here, not mid-batch)
        except sqlite3.Error as exc:
            raise ReviewLogError(f"{self.path} cannot be used as the review log ({exc}): move it aside to go on "
                                 "without its decisions, or restore it from a copy") from None

    @classmethod
    def existing(cls, out_dir: Path) -> ReviewLog | None:
        """The folder's log if it has one (extraction reads it; only review makes it)."""
        return cls(out_dir) if (out_dir / LOG_NAME).is_file() else None

    def close(self) -> None:
        self._con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken at once (BEGIN IMMEDIATE): a second writer waits."""
        self._con.execute("BEGIN IMMEDIATE")
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    def append(self, con: sqlite3.Connection, *, sha256: str, document: str, form: int, field: str, code: str,
               action: str, extracted: Any = None, decided: Any = None, comment: str = "", reviewer: str = "",
               label: str = "", reading: str = "") -> int:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        cur = con.execute(
            "INSERT INTO decisions (sha256, document, form, field, code, action, extracted, decided, comment, reviewer, at, label,"
            " reading) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sha256, document, form, field, code, action, _json(extracted), _json(decided), comment, reviewer, now(), label,
             reading),
        )
        return int(cur.lastrowid)

    def for_document(self, sha256: str, con: sqlite3.Connection | None = None) -> list[Decision]:
        """Every decision on a document, oldest first."""
        rows = (con or self._con).execute(_SELECT + " WHERE sha256 = ? ORDER BY id", (sha256,))
        return [_decision(r) for r in rows]

    def carried_over(self, name: str, sha256: str, con: sqlite3.Connection | None = None) -> list[Decision]:
        """The decisions on the latest earlier version of the document OUT names `name`
        (the same name, other bytes: a source replaced and read again), marked carried."""
        row = (con or self._con).execute(
            "SELECT sha256 FROM decisions WHERE document = ? AND sha256 != ? ORDER BY id DESC LIMIT 1", (name, sha256)).fetchone()
        if row is None:
            return []
        return [dataclasses.replace(d, carried=True) for d in self.for_document(row[0], con)]

    def newest_on_form(self, sha256: str, form: int, con: sqlite3.Connection | None = None) -> Decision | None:
        """The latest decision on one form (its id is the form's decision version)."""
        row = (con or self._con).execute(_SELECT + " WHERE sha256 = ? AND form = ? ORDER BY id DESC LIMIT 1",
                                         (sha256, form)).fetchone()
        return None if row is None else _decision(row)

    def last_ids(self) -> dict[str, int]:
        """The newest decision's id per document sha256."""
        return dict(self._con.execute("SELECT sha256, MAX(id) FROM decisions GROUP BY sha256"))

    def history(self, limit: int = 50) -> list[Decision]:
        rows = self._con.execute(_SELECT + " ORDER BY id DESC LIMIT ?", (limit,))
        return [_decision(r) for r in rows]


def in_force(decisions: list[Decision]) -> dict[int, list[Decision]]:
    """The decision in force per (form, field, code), by form; a reopen ends one."""
    latest: dict[tuple[int, str, str], Decision] = {}
    for d in decisions:
        latest[d.key] = d
    out: dict[int, list[Decision]] = {}
    for d in latest.values():
        if d.action != "reopen":
            out.setdefault(d.form, []).append(d)
    return out
