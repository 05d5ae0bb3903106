"""Calling the endpoint: instructor for structured output and re-asks, tenacity
for transport faults, and every HTTP request through the run's gate (`gate`: the
requests in flight, the token budget as a hard cap).

Transport faults (429 honouring Retry-After, 5xx, timeouts, refused connections)
are retried with exponential backoff and jitter, bounded in attempts and total
time; a request the server calls invalid (4xx, or a 5xx whose message says the
request failed validation: llama.cpp answers 500) is not sent again. Validation
errors of the answer are instructor's: it re-asks with the error message.

Capability fallback: a server that refuses the structured-output mode (llama.cpp
refuses `json_schema`; some refuse tools) is asked in the next of json_schema →
json (`json_object`) → tools, decided once for the run and said in the forms' notes.
"""

from __future__ import annotations

import email.utils
import logging
import re
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
from .gate import Gate, ThreadGate, reservation

MODES = {"tools": instructor.Mode.TOOLS, "json_schema": instructor.Mode.JSON_SCHEMA, "json": instructor.Mode.JSON}
FALLBACK = ("json_schema", "json", "tools")
# A 5xx that is the server's way of saying the request is invalid (not a fault to wait out).
_INVALID = re.compile(r"validation error|invalid|not supported|unsupported|unrecognized|extra fields? not permitted", re.I)
# ...and an invalid request that is about the structured-output mode.
_MODE = re.compile(r"response_format|json_schema|json_object|\btools?\b|tool_choice|function", re.I)


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


def _chain(exc: BaseException | None):
    seen = 0
    while exc is not None and seen < 8:
        yield exc
        exc = exc.__cause__ or exc.__context__
        seen += 1


def _status_error(exc: BaseException) -> openai.APIStatusError | None:
    return next((e for e in _chain(exc) if isinstance(e, openai.APIStatusError)), None)


def _invalid_request(exc: BaseException) -> openai.APIStatusError | None:
    """The server's answer when it calls the request itself invalid (no retry helps)."""
    err = _status_error(exc)
    if err is None or err.status_code in (408, 409, 429):
        return None
    if err.status_code < 500 or _INVALID.search(str(err)):
        return err
    return None


def _transport_error(exc: BaseException) -> BaseException | None:
    """The openai transport error behind `exc` (instructor may wrap it), if any: what
    waiting and sending again can fix (not the budget's refusal, which the client
    wraps as a connection error)."""
    if any(isinstance(e, BudgetSpent) for e in _chain(exc)):
        return None
    for e in _chain(exc):
        if isinstance(e, openai.APIStatusError):
            return e if (e.status_code >= 500 or e.status_code == 429) and _invalid_request(e) is None else None
        if isinstance(e, (openai.APITimeoutError, openai.APIConnectionError)):
            return e
    return None


def mode_refused(exc: BaseException) -> bool:
    """The server refused the request's structured-output mode."""
    err = _invalid_request(exc)
    return err is not None and bool(_MODE.search(str(err)))


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


class _Refused(Exception):
    """The server refused the structured-output mode: try the next one."""

    def __init__(self, cause: BaseException, error: LLMError):
        super().__init__(str(error))
        self.cause, self.error = cause, error


_shared: Gate | None = None


def share(gate: Gate | None) -> None:
    """Make this process's requests go through `gate`, the run's (None: a gate of each
    transport's own)."""
    global _shared
    _shared = gate


def _budget_refusal(exc: BaseException) -> BudgetSpent | None:
    """The gate's refusal behind `exc` (the HTTP client wraps what its hooks raise)."""
    return next((e for e in _chain(exc) if isinstance(e, BudgetSpent)), None)


def _nothing_sent(exc: BaseException) -> bool:
    return any(isinstance(e, httpx.ConnectError) for e in _chain(exc))


class Transport:
    def __init__(self, config: LLMConfig, counters: Counters | None = None):
        _quiet_client_loggers()
        self.config = config
        self.counters = counters or Counters()
        self._own_gate = ThreadGate(config.concurrency, config.max_tokens_per_run)
        self._local = threading.local()  # requests made by the current call, re-asks included; its open ticket
        http = httpx.Client(timeout=config.timeout_s, event_hooks={"request": [self._on_request], "response": [self._on_response]})
        self._openai = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key.get_secret_value() if config.api_key else "not-needed",
            timeout=config.timeout_s,
            max_retries=0,  # tenacity retries, so that Retry-After and the bounds are ours
            http_client=http,
        )
        self.mode = config.mode  # may fall back, once for the run, when the server refuses it
        self._untried = [m for m in FALLBACK if m != config.mode]
        self.fallbacks: list[str] = []  # what the run's forms are told of it
        self._mode_lock = threading.Lock()
        self.client = instructor.from_openai(self._openai, mode=MODES[self.mode])

    def _fall_back(self, refused: str, exc: BaseException) -> bool:
        """Move the run to the next mode after `refused`; False when none is left."""
        with self._mode_lock:
            if self.mode != refused:  # another thread already moved on
                return True
            if not self._untried:
                return False
            self.mode = self._untried.pop(0)
            self.client = instructor.from_openai(self._openai, mode=MODES[self.mode])
            reason = first_line(_invalid_request(exc) or exc, clean=self.config.redact)
            self.fallbacks.append(f"the server refused --llm-mode {refused} ({reason}); {self.mode} used for the rest of the run")
            return True

    @property
    def gate(self) -> Gate:
        return _shared if _shared is not None else self._own_gate

    def _on_request(self, request: httpx.Request) -> None:
        """Every HTTP request (instructor's re-asks too) takes a slot and reserves what
        it may spend before it is sent; BudgetSpent when the budget cannot hold it."""
        reserve = reservation(request.content, self.config.max_tokens)
        ticket = self.gate.acquire(reserve)
        self._local.open = (ticket, reserve)
        self._local.requests = getattr(self._local, "requests", 0) + 1
        self.counters.add(requests=1)

    def _on_response(self, response: httpx.Response) -> None:
        response.read()
        try:
            used = response.json().get("usage") or {}
            spent = int(used.get("prompt_tokens") or 0) + int(used.get("completion_tokens") or 0)
        except (ValueError, AttributeError, TypeError):
            spent = 0
        self._settle(spent)

    def _settle(self, spent: int) -> None:
        opened = getattr(self._local, "open", None)
        if opened is not None:
            self._local.open = None
            self.gate.release(opened[0], spent)

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(multiplier=self.config.backoff_initial, max=self.config.backoff_max)(state)
        exc = state.outcome.exception() if state.outcome else None
        return max(backoff, retry_after(_transport_error(exc)) or 0.0)

    def structured(self, messages: list[dict], response_model: type[BaseModel], usage: Usage) -> BaseModel:
        """One structured answer; raises LLMError (key redacted) when it cannot be had.
        Every request made for it is added to `usage`, the failed ones too."""
        while True:
            mode, client = self.mode, self.client
            try:
                return self._structured(client, messages, response_model, usage)
            except _Refused as refused:
                if not self._fall_back(mode, refused.cause):
                    raise refused.error from None

    def _structured(self, client, messages: list[dict], response_model: type[BaseModel], usage: Usage) -> BaseModel:
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
                    answer, completion = self._create(client, messages, response_model)
                    self._count(usage, getattr(completion, "usage", None))
            return answer
        except Exception as exc:
            raise self._why(exc, usage) from None
        finally:
            usage.requests += getattr(self._local, "requests", 0)

    def _create(self, client, messages: list[dict], response_model: type[BaseModel]):
        try:
            return client.chat.completions.create_with_completion(
                model=self.config.model,
                messages=messages,
                response_model=response_model,
                max_retries=self.config.reasks,
                max_tokens=self.config.max_tokens,
            )
        except BaseException as exc:
            # A request with no answer (timed out, cut off): what it may have spent stays
            # spent, unless it never reached the server.
            opened = getattr(self._local, "open", None)
            if opened is not None:
                self._settle(0 if _nothing_sent(exc) else opened[1])
            raise

    def _why(self, exc: Exception, usage: Usage) -> Exception:
        """What to raise when no answer came: the budget's refusal, _Refused (try the
        next mode), or an LLMError with the key redacted."""
        refused = _budget_refusal(exc)
        if refused is not None:
            return refused
        clean = self.config.redact
        if mode_refused(exc):
            return _Refused(exc, LLMError(f"the server refused the request: {first_line(_invalid_request(exc), clean=clean)}"))
        root = _transport_error(exc)
        if isinstance(exc, InstructorRetryException) and root is None:
            self._count(usage, getattr(exc, "total_usage", None))
            return LLMError(f"no valid answer after {exc.n_attempts} attempts: {first_line(exc, clean=clean)}")
        cut = getattr(exc, "last_completion", None)  # an answer cut off at --max-tokens: its tokens were spent
        if root is None and cut is not None:
            self._count(usage, getattr(cut, "usage", None))
        root = root or exc
        return LLMError(f"{type(root).__name__}: {first_line(root, clean=clean)}")

    def _count(self, usage: Usage, raw) -> None:
        """Tokens as the server reported them (summed over re-asks by instructor)."""
        inp = getattr(raw, "prompt_tokens", 0) or 0
        out = getattr(raw, "completion_tokens", 0) or 0
        usage.input_tokens += inp
        usage.output_tokens += out
        self.counters.add(inp=inp, out=out)
