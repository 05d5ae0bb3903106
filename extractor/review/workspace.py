"""An output folder as a review queue: its result files, their flagged forms, and
decisions written to the log and into the result files, the tables following."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..findings import Code, field_zh
from ..io.outputs import load_document_json, result_files, write_document_json
from ..models import OPEN_SEVERITIES, DocumentResult, Form, form_label, json_value, review_state
from ..settings import CheckSettings
from .decisions import _value, apply, coerce, extracted_values
from .store import ACTIONS, Decision, ReviewLog

FILTERS = ("all", "errors", "warnings", "read_poorly", "undecided", "decided")
# and `code:<code>` (forms with that finding open), `doc:<document>` (one document's forms)
_FILTER_PREFIXES = ("code:", "doc:")


def valid_filter(which: str | None) -> bool:
    return which in FILTERS or (bool(which) and which.startswith(_FILTER_PREFIXES) and len(which.partition(":")[2]) > 0)


class DecisionError(ValueError):
    """A decision that cannot be recorded (no such form or field, a value of the wrong type)."""


class DecisionConflict(DecisionError):
    """A decision made on a page older than the form's newest decision (another tab, another
    reviewer): not recorded, so that nobody's decision is overwritten unseen."""


@dataclass(frozen=True)
class QueueItem:
    document: str  # the result file's stem
    form: int  # 1-based
    label: str
    kind: str
    errors: int
    warnings: int
    read_poorly: bool
    state: str  # undecided | in_progress | decided
    codes: tuple[str, ...]  # the open findings' codes, errors first
    conflicts: int

    def matches(self, which: str) -> bool:
        if which.startswith("code:"):
            return which[5:] in self.codes
        if which.startswith("doc:"):
            return self.document == which[4:]
        return {
            "all": True, "errors": self.errors > 0, "warnings": self.errors == 0 and self.warnings > 0,
            "read_poorly": self.read_poorly, "undecided": self.state != "decided", "decided": self.state == "decided",
        }[which]


def queue_items(name: str, result: DocumentResult) -> list[QueueItem]:
    items = []
    for i, form in enumerate(result.forms, 1):
        state = review_state(form)
        if state is None:
            continue
        findings = [f for f in form.findings if f.severity in OPEN_SEVERITIES]
        items.append(QueueItem(
            document=name, form=i, label=form_label(form), kind=form.kind,
            errors=sum(f.severity == "error" for f in findings), warnings=sum(f.severity == "warning" for f in findings),
            read_poorly=any(f.code == Code.READ_POORLY for f in form.findings), state=state,
            codes=tuple(f.code for f in sorted(findings, key=lambda f: f.severity != "error") if f.decision is None),
            conflicts=len(form.review.conflicts) if form.review else 0,
        ))
    return items


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


class Workspace:
    """One output folder under review. Thread-safe: the web app serves requests
    from a pool; every decision is one transaction of the log."""

    def __init__(self, out_dir: Path, settings: CheckSettings | None = None, tables_delay: float = 2.0):
        self.out = out_dir
        self.settings = settings or CheckSettings()
        self.log = ReviewLog(out_dir)
        self._lock = threading.RLock()
        self._writing = threading.Lock()  # one rewrite of the tables at a time
        self._results: dict[str, tuple[tuple[int, int], DocumentResult, list[QueueItem]]] = {}
        self._synced: dict[str, int] = {}  # document -> the newest decision it was derived with
        self._tables_delay = tables_delay
        self._tables_due: float | None = None
        self._tables_thread: threading.Thread | None = None
        self._said_edited = False

    # --- reading -------------------------------------------------------------------

    def names(self) -> list[str]:
        return [p.stem for p in result_files([self.out])]

    def path(self, name: str) -> Path:
        """OUT/<name>.json for a name the folder has; KeyError otherwise (no path
        from a request reaches the file system unchecked)."""
        path = self.out / f"{name}.json"
        if not name or "/" in name or "\\" in name or name.startswith(".") or name == "errors" or not path.is_file():
            raise KeyError(name)
        return path

    def result(self, name: str) -> DocumentResult:
        return self._entry(name)[1]

    def _entry(self, name: str, last_ids: dict[str, int] | None = None):
        path = self.path(name)
        with self._lock:
            stamp = _stamp(path)
            cached = self._results.get(name)
            if cached is None or cached[0] != stamp:
                result = load_document_json(path)
                cached = (stamp, result, queue_items(name, result))
                self._results[name] = cached
            result = cached[1]
            # A decision the log has and the file not (the server was killed between
            # the two, or the file was extracted again): derive the file again.
            newest = (last_ids if last_ids is not None else self.log.last_ids()).get(result.source.sha256, 0)
            applied = max((f.review.log_id for f in result.forms if f.review), default=0)
            if newest != applied and self._synced.get(name) != newest:
                with self.log.transaction() as con:
                    self._derive(name, con)
                cached = self._results[name]
                # (a decision on a form the document no longer has leaves the two apart: derive once)
                self._synced[name] = newest
            return cached

    def queue(self) -> list[QueueItem]:
        """Every form that needs or had a review, errors first."""
        with self._lock:  # (the log's connection: the page worker thread reads it too)
            last_ids = self.log.last_ids()
        items: list[QueueItem] = []
        for name in self.names():
            try:
                items += self._entry(name, last_ids)[2]
            except Exception:
                continue  # not a result file of ours
        return sorted(items, key=lambda q: (q.errors == 0, q.document, q.form))

    def following(self, name: str, form: int, which: str = "all", order: list[tuple[str, int]] | None = None,
                  open_only: bool = False) -> tuple[str, int] | None:
        """The form after (name, form) in the queue's order (`order`: as it stood before a
        decision moved it) that the filter `which` shows — not yet decided with
        `open_only` —, from the top when none follows; None when there is none."""
        items = self.queue()
        state = {(q.document, q.form): q for q in items}
        keys = order if order is not None else list(state)
        at = keys.index((name, form)) if (name, form) in keys else -1
        for key in keys[at + 1:] + keys[: at + 1]:
            q = state.get(key)
            if q is not None and key != (name, form) and q.matches(which) and not (open_only and q.state == "decided"):
                return key
        return None

    # --- deciding ------------------------------------------------------------------

    def version(self, name: str, form: int) -> int:
        """The form's decision version: its newest decision's id (0: none yet)."""
        return _version(self.log.newest_on_form(self.result(name).source.sha256, form))

    def decide(self, name: str, form: int, field: str, code: str, action: str, value: str | None = None,
               comment: str = "", reviewer: str = "", seen: int | None = None) -> Form:
        """Record one decision and apply it; the form as it now stands. `seen`: the form's
        decision version the decider's page showed; a newer one is a DecisionConflict."""
        if action not in ACTIONS:
            raise DecisionError(f"unknown action {action!r}")
        comment = comment.strip()
        if action == "correct":
            code = ""  # a correction is of the field, whichever finding it was made from (one to undo)
        if action == "dismiss" and not comment:
            raise DecisionError("a dismissal needs a reason")
        with self._lock, self.log.transaction() as con:
            result = self._to_decide(con, name, form, seen)
            base = extracted_values(result.forms[form - 1])
            exists, extracted = _value(base, field)
            if not exists and action == "correct":  # (a finding may name a column: "indicators[].weight")
                raise DecisionError(f"the form has no field {field!r}")
            decided = None
            if action == "correct":
                try:
                    decided = json_value(coerce(base, field, value))
                except ValueError as exc:
                    raise DecisionError(str(exc)) from None
            self.log.append(con, sha256=result.source.sha256, document=name, form=form, field=field, code=code,
                            action=action, extracted=json_value(extracted), decided=decided, comment=comment,
                            reviewer=reviewer, label=form_label(base), reading=_reading(result))
            derived = self._derive(name, con, result)
        self._tables_later()
        return derived.forms[form - 1]

    def decide_all(self, name: str, form: int, code: str, action: str, comment: str = "", reviewer: str = "",
                   seen: int | None = None) -> Form:
        """Confirm (or dismiss) every open warning of one code on a form at once (a
        department form's 14 `empty_value`s): one decision each, one transaction."""
        if action not in ("confirm", "dismiss"):
            raise DecisionError("only confirm or dismiss can be given to every warning of a code at once")
        comment = comment.strip()
        if action == "dismiss" and not comment:
            raise DecisionError("a dismissal needs a reason")
        with self._lock, self.log.transaction() as con:
            result = self._to_decide(con, name, form, seen)
            targets = _open_warnings(result.forms[form - 1], code)
            if not targets:
                raise DecisionError(f"no open warning {code!r} on this form")
            base = extracted_values(result.forms[form - 1])
            label, reading = form_label(base), _reading(result)
            for f in targets:
                self.log.append(con, sha256=result.source.sha256, document=name, form=form, field=f.field or "", code=code,
                                action=action, extracted=json_value(_value(base, f.field or "")[1]), decided=None,
                                comment=comment, reviewer=reviewer, label=label, reading=reading)
            derived = self._derive(name, con, result)
        self._tables_later()
        return derived.forms[form - 1]

    def open_warnings(self, code: str) -> int:
        """The open warnings of one code across the queue (what a bulk confirm would decide)."""
        return sum(len(_open_warnings(f, code)) for name in self.names() for f in self.result(name).forms)

    def decide_code(self, code: str, action: str, comment: str = "", reviewer: str = "", shown: int | None = None) -> int:
        """Every open warning of one code across the queue decided at once: a decision
        each, one transaction a form. `shown`: the count the reviewer was shown; a
        queue that has changed since (another reviewer) is a DecisionConflict, nothing
        decided. The number decided."""
        if action not in ("confirm", "dismiss"):
            raise DecisionError("only confirm or dismiss can be given to every warning of a code at once")
        if action == "dismiss" and not comment.strip():
            raise DecisionError("a dismissal needs a reason")
        with self._lock:
            now = self.open_warnings(code)
            if shown is not None and now != shown:
                raise DecisionConflict(f"the queue changed since the page was loaded: {now} open {code} warnings now, "
                                       f"{shown} were shown; nothing was decided: look again")
            done = 0
            for name in self.names():
                open_here = [(i, len(_open_warnings(f, code))) for i, f in enumerate(self.result(name).forms, 1)]
                for number, n in open_here:
                    if n:
                        self.decide_all(name, number, code, action, comment=comment, reviewer=reviewer)
                        done += n
        return done

    def _to_decide(self, con, name: str, form: int, seen: int | None) -> DocumentResult:
        """The result a decision on its form is recorded against (inside the caller's
        transaction): the form must exist, and be at the version the decider's page showed."""
        path = self.path(name)
        cached = self._results.get(name)
        if cached is not None and cached[0] == _stamp(path):
            # the file as read last and unchanged since: a copy whose forms _derive replaces
            # (a form is never changed in place), not a second parse of the file (most of a
            # decision's time on a large document)
            result = cached[1].model_copy(update={"forms": list(cached[1].forms)})
        else:
            result = load_document_json(path)
        if not 1 <= form <= len(result.forms):
            raise DecisionError(f"the document has no form {form}")
        newest = self.log.newest_on_form(result.source.sha256, form, con)
        if seen is not None and _version(newest) != seen:
            raise DecisionConflict(_conflict(newest))
        return result

    def _derive(self, name: str, con, result: DocumentResult | None = None) -> DocumentResult:
        """The result file again from the log (inside the caller's transaction)."""
        path = self.out / f"{name}.json"
        result = result or load_document_json(path)
        # (and an earlier version's, carried: shown on the forms until decided again)
        decisions = self.log.for_document(result.source.sha256, con) + self.log.carried_over(name, result.source.sha256, con)
        for i, form in enumerate(result.forms, 1):
            mine = [d for d in decisions if d.form == i]
            if mine or form.review is not None:
                result.forms[i - 1] = apply(form, mine, self.settings, result.fingerprint) if mine else extracted_values(form)
        write_document_json(result, path)
        self._results[name] = (_stamp(path), result, queue_items(name, result))
        return result

    # --- the tables follow, a little later -------------------------------------------

    def _tables_later(self) -> None:
        """Rewrite the batch tables once decisions stop coming for a moment (a decision
        a second must not rewrite a 1,000-document workbook a second)."""
        with self._lock:
            self._tables_due = time.monotonic() + self._tables_delay
            if self._tables_thread is None or not self._tables_thread.is_alive():
                self._tables_thread = threading.Thread(target=self._tables_loop, daemon=True, name="review-tables")
                self._tables_thread.start()

    def _tables_loop(self) -> None:
        while True:
            with self._lock:
                due = self._tables_due
                if due is None:
                    self._tables_thread = None
                    return
            if time.monotonic() < due:
                time.sleep(0.1)
                continue
            with self._writing:
                with self._lock:
                    due = self._tables_due
                    if due is None or time.monotonic() < due:
                        continue  # flushed meanwhile, or a decision came
                    self._tables_due = None
                self._rewrite_tables()

    def flush(self) -> None:
        """Rewrite the tables now if a decision is waiting for them (at shutdown);
        waits for a rewrite under way."""
        with self._writing:
            with self._lock:
                pending, self._tables_due = self._tables_due is not None, None
            if pending:
                self._rewrite_tables()

    def _rewrite_tables(self) -> None:
        """The tables after a decision; not over cells a person changed in them (said once).
        In a child process at a lower priority: a 1,000-document workbook is seconds of
        Python, which in this process held every request up behind the GIL (a decision's
        round trip went from 0.36 s to 1.6 s at p95 while it ran)."""
        ran = subprocess.run([sys.executable, "-c", _CHILD, str(self.out)], capture_output=True, text=True,
                             preexec_fn=_lower_priority if os.name == "posix" else None)
        if ran.returncode == _EDITED:
            if not self._said_edited:
                self._said_edited = True
                print(f"note: the tables were not written again: {ran.stdout.strip()}", file=sys.stderr)
        elif ran.returncode != 0:
            last = (ran.stderr.strip().splitlines() or ["(no message)"])[-1]
            print(f"note: the tables were not written again: {last}", file=sys.stderr)

    def close(self) -> None:
        self.flush()
        self.log.close()


def _reading(result: DocumentResult) -> str:
    """The result's fingerprint as a decision keeps it (fingerprint.py)."""
    return result.fingerprint.reading() if result.fingerprint else ""


def _version(newest: Decision | None) -> int:
    """A form's decision version: its newest decision's id (0: none yet)."""
    return newest.id if newest is not None else 0


def _open_warnings(form: Form, code: str) -> list:
    """The form's warnings of one code that no reviewer has decided."""
    return [f for f in form.findings if f.code == code and f.severity == "warning" and f.decision is None]


def _conflict(newest: Decision | None) -> str:
    if newest is None:  # (the page showed a decision the log no longer has: another log)
        return "this form's decisions changed since the page was loaded: your decision was not recorded; decide again"
    what = f"{newest.action} {field_zh(newest.field) if newest.field else ''}".strip()
    by = f" by {newest.reviewer}" if newest.reviewer else ""
    return (f"this form was decided on since the page was loaded (another tab or reviewer: {what}{by} at {newest.at}): "
            "your decision was not recorded. The page shows the form as it stands now: decide again")


_EDITED = 3  # the child's exit status when a person changed cells of the tables
_CHILD = (
    "import sys\n"
    "from pathlib import Path\n"
    "from extractor.batch import rewrite_tables\n"
    "from extractor.errors import TablesEdited\n"
    "try:\n"
    "    rewrite_tables(Path(sys.argv[1]))\n"
    "except TablesEdited as exc:\n"
    "    print(exc)\n"
    f"    sys.exit({_EDITED})\n"
)


def _lower_priority() -> None:
    os.nice(10)
