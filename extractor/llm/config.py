"""LLM settings from the standard environment and flags. The API key is a
SecretStr: it prints as '**********' and is only unwrapped for the client."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr

Mode = Literal["tools", "json_schema", "json"]


class LLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str | None = None
    mode: Mode = "tools"
    vision: bool = True
    dpi: int = 110
    concurrency: int = 2
    max_tokens_per_run: int | None = None
    timeout_s: float = 120.0
    max_attempts: int = 4  # transport attempts per request (429/5xx/timeouts)
    max_retry_seconds: float = 300.0  # total time spent waiting to retry one request
    backoff_initial: float = 1.0  # seconds; exponential with jitter, at least Retry-After
    backoff_max: float = 30.0
    reasks: int = 2  # instructor re-asks after a validation error (3 attempts in all)
    # Always sent: without it a small local model generated 2,900 tokens for 300 s while
    # the client had long given up. A one-page form's answer is ≈1,500 tokens.
    max_tokens: int = 4096
    cache_dir: Path | None = Path(".cache/extractor-llm")
    repair: bool = True
    # The key is not carried with the settings: the process that sends the requests reads
    # OPENAI_API_KEY from its own environment (a Ray worker: settings travel pickled,
    # through the object store and its spill files, and a SecretStr pickles its value)
    key_from_env: bool = False

    @property
    def configured(self) -> bool:
        """An endpoint is configured: a base URL or a key, and a model."""
        return bool((self.base_url or self.api_key) and self.model)

    @classmethod
    def from_env(cls, **overrides) -> "LLMConfig":
        env = os.environ
        values = {
            "base_url": env.get("OPENAI_BASE_URL") or None,
            "api_key": env.get("OPENAI_API_KEY") or None,
            "model": env.get("EXTRACTOR_MODEL") or None,
        }
        # A request's timeout: a local model on a CPU may take minutes to answer a form
        timeout = env.get("EXTRACTOR_LLM_TIMEOUT")
        if timeout:
            try:
                values["timeout_s"] = float(timeout)
                if not values["timeout_s"] > 0:
                    raise ValueError
            except ValueError:
                from ..errors import ConfigError

                raise ConfigError(f"EXTRACTOR_LLM_TIMEOUT={timeout!r}: a number of seconds above 0") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def shipped(self) -> "LLMConfig":
        """These settings without the key, to send to another process or machine."""
        return self.model_copy(update={"api_key": None, "key_from_env": self.key_from_env or self.api_key is not None})

    def resolved(self) -> "LLMConfig":
        """Settings that were shipped, with the key of this process's environment."""
        if not self.key_from_env or self.api_key is not None:
            return self
        key = os.environ.get("OPENAI_API_KEY") or None
        return self.model_copy(update={"api_key": SecretStr(key) if key else None})

    def redact(self, text: str) -> str:
        """Remove the key from any text before it is logged or written."""
        if self.api_key is not None:
            secret = self.api_key.get_secret_value()
            if secret:
                text = text.replace(secret, "***")
        return text
