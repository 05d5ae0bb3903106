"""Calling the endpoint: instructor for structured output and re-asks, tenacity
for transport faults, a semaphore for the requests in flight, a token budget.

Transport faults (429 honouring Retry-After, 5xx, timeouts, refused connections)
are retried with exponential backoff and jitter, bounded in attempts and total
time. Validation errors are instructor's: it re-asks with the error message.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from dataclasses import dataclass, field

import httpx2 as httpx  # openai 3.x is built on httpx2 (the httpx API)
import instructor
import openai
from instructor.core import InstructorRetryException
from pydantic import BaseModel
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_exponential_jitter

from ..errors import BudgetSpent, LLMError, first_line
from ..models import Usage
from .config import LLMConfig

MODES = {"tools": instructor.Mode.TOOLS, "json_schema": instructor.Mode.JSON_SCHEMA, "json": instructor.Mode.JSON}


@dataclass
class Counters:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, requests: int = 0, inp: int = 0, out: int = 0) -> None:
        with self.lock:
            self.requests += requests
            self.input_tokens += inp
            self.output_tokens += out

    def usage(self) -> Usage:
        return Usage(requests=self.requests, input_tokens=self.input_tokens, output_tokens=self.output_tokens)


def _transport_error(exc: BaseException) -> BaseException | None:
    """The openai transport error behind `exc` (instructor may wrap it), if any."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError)):
            return exc
        if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(when.timestamp() - time.time(), 0.0) if when else None


def _quiet_client_loggers() -> None:
    """These libraries log request failures with the server's own error text, which
    can echo the key; our LLMError carries the redacted reason instead. Done when a
    transport is made (the LLM engine is in use), not when the module is imported."""
    for name in ("instructor", "openai", "httpx", "httpx2"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


class Transport:
    def __init__(self, config: LLMConfig, counters: Counters | None = None):
        _quiet_client_loggers()
        self.config = config
        self.counters = counters or Counters()
        self._slots = threading.BoundedSemaphore(max(1, config.concurrency))
        self._local = threading.local()  # requests made by the current call, re-asks included
        http = httpx.Client(timeout=config.timeout_s, event_hooks={"request": [self._on_request]})
        client = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key.get_secret_value() if config.api_key else "not-needed",
            timeout=config.timeout_s,
            max_retries=0,  # tenacity retries, so that Retry-After and the bounds are ours
            http_client=http,
        )
        self.client = instructor.from_openai(client, mode=MODES[config.mode])

    def _on_request(self, request: httpx.Request) -> None:
        self._local.requests = getattr(self._local, "requests", 0) + 1
        self.counters.add(requests=1)

    def _budget_left(self) -> None:
        limit = self.config.max_tokens_per_run
        if limit is not None and self.counters.input_tokens + self.counters.output_tokens >= limit:
            raise BudgetSpent(f"token budget spent ({limit} tokens for the run); not sent")

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(multiplier=self.config.backoff_initial, max=self.config.backoff_max)(state)
        exc = state.outcome.exception() if state.outcome else None
        return max(backoff, retry_after(_transport_error(exc)) or 0.0)

    def structured(self, messages: list[dict], response_model: type[BaseModel]) -> tuple[BaseModel, Usage]:
        """One structured answer; raises LLMError (key redacted) when it cannot be had."""
        self._budget_left()
        usage = Usage()
        self._local.requests = 0
        retrying = Retrying(
            retry=retry_if_exception(lambda e: _transport_error(e) is not None),
            stop=stop_after_attempt(self.config.max_attempts) | stop_after_delay(self.config.max_retry_seconds),
            wait=self._wait,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    with self._slots:
                        answer, completion = self.client.chat.completions.create_with_completion(
                            model=self.config.model,
                            messages=messages,
                            response_model=response_model,
                            max_retries=self.config.reasks,
                            max_tokens=self.config.max_tokens,
                        )
        except InstructorRetryException as exc:
            if _transport_error(exc) is None:
                self._count(usage, getattr(exc, "total_usage", None))
                raise LLMError(f"no valid answer after {exc.n_attempts} attempts: {first_line(exc, clean=self.config.redact)}") from None
            root = _transport_error(exc)
            raise LLMError(f"{type(root).__name__}: {first_line(root, clean=self.config.redact)}") from None
        except Exception as exc:
            root = _transport_error(exc) or exc
            raise LLMError(f"{type(root).__name__}: {first_line(root, clean=self.config.redact)}") from None
        finally:
            usage.requests = getattr(self._local, "requests", 0)
        self._count(usage, getattr(completion, "usage", None))
        return answer, usage

    def _count(self, usage: Usage, raw) -> None:
        """Tokens as the server reported them (summed over re-asks by instructor)."""
        inp = getattr(raw, "prompt_tokens", 0) or 0
        out = getattr(raw, "completion_tokens", 0) or 0
        usage.input_tokens += inp
        usage.output_tokens += out
        self.counters.add(inp=inp, out=out)
