"""What a result was made from: one rule for "is this result still the one a run would make".

A result is the input's bytes read by one engine under one set of checker settings,
by one version of the tool — and, where an LLM read it, one model on one server with
one set of prompts. The fingerprint records each of these in the result; a batch
skips a document only when the fingerprint it would make is the one recorded, and says
why it reads one again when it is not (the review's staleness is the same question).
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


def fingerprint_of(sha256: str, options) -> Fingerprint:
    """The fingerprint a run with `options` (pipeline.ExtractOptions) makes of the input."""
    from .pipeline import resolve_engine

    engine = resolve_engine(options.engine, options.llm)
    llm = engine != "rules"
    prompts: tuple[str, ...] = ()
    if llm:
        from .llm.prompting import EXTRACT, REPAIR, load_prompt

        prompts = (load_prompt(EXTRACT).version, load_prompt(REPAIR).version)
    return Fingerprint(sha256=sha256, engine=engine, settings=settings_digest(options.settings), tool_version=__version__,
                       prompts=prompts, model=options.llm.model if llm else None,
                       server=(options.llm.base_url or "").rstrip("/") or None if llm else None)

