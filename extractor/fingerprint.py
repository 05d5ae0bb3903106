"""What a result was made from: one rule for "is this result still the one a run would make".

A result is the input's bytes read by one engine under one set of checker settings,
by one version of the tool — and, where an LLM read it, one model on one server with
one set of prompts. The fingerprint records each of these in the result; a batch
skips a document only when the fingerprint it would make is the one recorded, and says
why it reads one again when it is not. The same rule serves the LLM's answer cache
(keyed by llm_identity) and the review: a decision keeps the reading it was made on,
and one not applied on a later reading says what changed between the two.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict

from . import __version__


class Fingerprint(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sha256: str
    engine: str
    settings: str  # digest of the checker settings (a --config)
    tool_version: str
    prompts: tuple[str, ...] = ()  # the LLM's prompt versions (none for the rules engine)
    model: str | None = None
    server: str | None = None  # the endpoint's base URL (one model name on two servers is two models)

    def reading(self) -> str:
        """The fingerprint as the review log keeps it with a decision: the reading it was made on."""
        return self.model_dump_json()

    @classmethod
    def of_reading(cls, text: str) -> Fingerprint | None:
        """A decision's recorded reading back (None: recorded before readings were kept)."""
        try:
            return cls.model_validate_json(text) if text else None
        except ValueError:
            return None

    def differences(self, other: Fingerprint | None) -> list[str]:
        """What changed from `other` to this one, in words (empty: the same)."""
        if other is None:
            return ["no fingerprint recorded (a result of an older version)"]
        names = {"sha256": "the document", "engine": "the engine", "settings": "the checker settings",
                 "tool_version": "the tool's version", "prompts": "the prompts", "model": "the model",
                 "server": "the LLM server"}
        changed = [names[k] for k in type(self).model_fields if getattr(self, k) != getattr(other, k)]
        return [", ".join(changed) + " changed"] if changed else []


def settings_digest(settings: BaseModel) -> str:
    return hashlib.sha256(settings.model_dump_json().encode()).hexdigest()[:16]


def llm_identity(llm) -> dict:
    """Who answers an LLM request (llm.config.LLMConfig): the prompt versions, the model,
    and the server — one model name on two servers (an alias on a local vLLM, the
    provider's own) is two models. The result's fingerprint and the answer cache's key
    both take it from here."""
    from .llm.prompting import EXTRACT, REPAIR, load_prompt

    return {"prompts": (load_prompt(EXTRACT).version, load_prompt(REPAIR).version), "model": llm.model,
            "server": (llm.base_url or "").rstrip("/") or None}


def fingerprint_of(sha256: str, options) -> Fingerprint:
    """The fingerprint a run with `options` (pipeline.ExtractOptions) makes of the input."""
    from .pipeline import resolve_engine

    engine = resolve_engine(options.engine, options.llm)
    llm = llm_identity(options.llm) if engine != "rules" else {}
    return Fingerprint(sha256=sha256, engine=engine, settings=settings_digest(options.settings), tool_version=__version__,
                       **llm)

