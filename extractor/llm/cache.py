"""Answers on disk, keyed by the server, model, prompt versions, mode and the input's hash,
so that a second run over the same documents makes no request. The key and the
files hold no secret: the API key is not part of either."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..io.outputs import write_text_atomic


def cache_key(identity: dict, mode: str, messages: list[dict], kind: str) -> str:
    """`identity`: fingerprint.llm_identity — the prompts, model and server, as the
    result's fingerprint records them."""
    h = hashlib.sha256()
    h.update(json.dumps({**identity, "mode": mode, "kind": kind}, sort_keys=True).encode())
    h.update(json.dumps(messages, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


class AnswerCache:
    def __init__(self, folder: Path | None):
        self.folder = folder

    def get(self, key: str) -> dict | None:
        if self.folder is None:
            return None
        path = self.folder / key[:2] / f"{key}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict) -> None:
        if self.folder is None:
            return
        write_text_atomic(self.folder / key[:2] / f"{key}.json", json.dumps(value, ensure_ascii=False))
