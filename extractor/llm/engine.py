"""One form in, one checked candidate out — and the choice between engines.

    read_form: messages → cache or endpoint → contract record → checker + grounding
               + each value against its cell (check.positions)
               → (arithmetic or misplaced values?) one repair request quoting the findings
               → keep the candidate that is grounded and consistent
    (triage.py: which forms `--engine auto` sends, and combining two readings)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..check import check_form
from ..errors import LLMError
from ..check.alignment import check_alignment
from ..check.positions import check_positions, has_grid
from ..findings import ARITHMETIC, MISPLACED, Code
from ..models import DepartmentForm, Finding, ProjectForm, Usage
from ..settings import CheckSettings
from .cache import AnswerCache, cache_key
from ..fingerprint import llm_identity
from .config import LLMConfig
from .prompting import extraction_messages, repair_message
from .response import response_model_for, to_contract
from .transport import Counters, Transport
from .triage import GAPS, errors, gap, rank

Form = ProjectForm | DepartmentForm


@dataclass
class LLMRead:
    form: Form | None
    usage: Usage = field(default_factory=Usage)
    notes: list[str] = field(default_factory=list)
    failure: LLMError | None = None  # why there is no form
    from_cache: bool = False


def _fixable(form: Form) -> list[Finding]:
    """Errors a second look can fix: the arithmetic, and values not their cells'."""
    return [f for f in errors(form) if f.code in ARITHMETIC or f.code in MISPLACED]


# Findings that put the grid's reading of its rows in doubt
DOUBTED = frozenset({Code.ASSEMBLED_VALUE, Code.LEVEL_MISMATCH, Code.MERGED_LABELS, Code.UNKNOWN_LABEL,
                     Code.LOW_CONFIDENCE, Code.UNVERIFIED_READING})


class LLMEngine:
    def __init__(self, config: LLMConfig, settings: CheckSettings | None = None, counters: Counters | None = None):
        self.config = config
        self.settings = settings or CheckSettings()
        self.transport = Transport(config, counters)
        self.cache = AnswerCache(config.cache_dir)
        self.identity = llm_identity(config)

    @property
    def counters(self) -> Counters:
        return self.transport.counters

    def _ask(self, messages: list[dict], kind: str, read: LLMRead):
        model = response_model_for(kind)
        key = cache_key(self.identity, self.config.mode, messages, kind)
        hit = self.cache.get(key)
        if hit is not None:
            read.from_cache = True
            return model.model_validate(hit["answer"])
        answer = self.transport.structured(messages, model, read.usage)
        self.cache.put(key, {"answer": answer.model_dump(mode="json"), **self.identity})
        return answer

    def checked(self, form: Form, page_text: str, grid: Form | None) -> list[Finding]:
        """The checker, grounding, and each value against the cell the grid puts it in —
        or, with no grid (text that keeps no table), against its row's stretch of the text."""
        if grid is None or not has_grid(grid):
            return check_form(form, self.settings, page_text=page_text) + check_alignment(form, page_text)
        placed = check_positions(form, grid, page_text)
        if any(f.severity == "error" and f.code in GAPS for f in grid.findings):
            # Where the grid says it missed a cell, an answer's value there is not "invented":
            # it is placed by its row's stretch of the text instead
            placed = [f for f in placed if not (f.field and gap(grid, f.field, whole_form=False))] + check_alignment(form, page_text)
        elif any(f.severity == "error" and f.code in DOUBTED for f in grid.findings):
            # The grid's own reading of some rows is in doubt (labels carried past a page
            # break, a level pair that disagrees): agreeing with it proves nothing there
            placed += check_alignment(form, page_text)
        return check_form(form, self.settings, page_text=page_text) + placed

    def read_form(self, kind: str, text: str, images: list[bytes], pages: list[int], page_text: str,
                  grid: Form | None = None) -> LLMRead:
        """`grid`: the rules engine's reading of the same rows, its values the cells' where the
        neutral grid places them (`check.cells.with_cells`); without it no value is verified by position."""
        read = LLMRead(form=None)
        messages = extraction_messages(text, images if self.config.vision else [], pages)
        try:
            answer = self._ask(messages, kind, read)
        except LLMError as exc:
            read.failure = exc
            read.notes += self.transport.fallbacks
            return read
        form = to_contract(answer, pages)
        form.findings = self.checked(form, page_text, grid)
        fixable = _fixable(form)
        if self.config.repair and fixable:
            repair = messages + [
                {"role": "assistant", "content": answer.model_dump_json()},
                repair_message([f.message for f in fixable]),
            ]
            try:
                second = to_contract(self._ask(repair, kind, read), pages)
                second.findings = self.checked(second, page_text, grid)
                if rank(second) < rank(form):
                    read.notes.append(f"repair pass fixed {len(fixable) - len(_fixable(second))} of {len(fixable)} finding(s)")
                    form = second
                else:
                    read.notes.append("repair pass did not improve the answer; kept the first")
            except LLMError as exc:
                read.notes.append(f"repair request failed: {exc}")
        form.usage = read.usage
        form.notes = read.notes + self.transport.fallbacks + (["answer from cache"] if read.from_cache else [])
        read.form = form
        return read
