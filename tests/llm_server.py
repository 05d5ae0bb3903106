"""An OpenAI-compatible chat-completions server on loopback that plays a script.

Each request takes the next step of the script:
    {"answer": {...}}                       a structured answer (tool call or JSON content,
                                            whichever the request asked for)
    {"content": "not json"}                 raw assistant text
    {"status": 429, "headers": {...}}       an HTTP error
    {"sleep": 2.0, "answer": {...}}         answer late (to trip the client's timeout)
    {"until_in_flight": 2, "answer": {...}} answer once two requests have been in flight together (30 s at most)
When the script runs out, the last step repeats. Every request is recorded.
`respond(body) -> step`, when given, chooses each step from the request instead
(a stand-in model that answers each form with its own scripted reading).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USAGE = {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}


def honest_usage(body: dict, completion: int = 50) -> dict:
    """The usage a request could really have: a token a character of its messages (a
    budget test's spending then depends on what was sent, as a real server's does)."""
    prompt = len(json.dumps(body["messages"], ensure_ascii=False))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def spent(requests: list[dict], completion: int = 50) -> int:
    """What `requests`, answered with `honest_usage`, spent in all."""
    return sum(honest_usage(r["body"], completion)["total_tokens"] for r in requests)


class FakeOpenAI:
    def __init__(self, script: list[dict] | None = None, respond=None):
        self.script = list(script or [])
        self.respond = respond
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.default_answer: dict | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with server.lock:
                    server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                    if server.respond is not None:
                        step = server.respond(body)
                    else:
                        step = server.script.pop(0) if len(server.script) > 1 else (server.script[0] if server.script else {"answer": server.default_answer})
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if step.get("sleep"):
                        time.sleep(step["sleep"])
                    deadline = time.monotonic() + 30  # (a barrier, not a clock: a loaded machine waits longer)
                    while server.max_in_flight < step.get("until_in_flight", 0) and time.monotonic() < deadline:
                        time.sleep(0.01)
                    status, headers = step.get("status", 200), step.get("headers", {})
                    payload = (_completion(body, step) if status == 200 else
                               {"error": {"message": step.get("message", f"scripted {status}"), "type": "scripted"}})
                finally:
                    # Out of flight before the answer is written: once it is, the client
                    # may send its next request before this thread runs again, and the
                    # count would see two requests that never overlapped.
                    with server.lock:
                        server.in_flight -= 1
                self._send(status, payload, headers if status != 200 else None)

            def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _completion(request: dict, step: dict) -> dict:
    message: dict = {"role": "assistant", "content": None}
    if "content" in step:
        message["content"] = step["content"]
    elif request.get("tools"):
        name = request["tools"][0]["function"]["name"]
        message["tool_calls"] = [{
            "id": "call_1", "type": "function",
            "function": {"name": name, "arguments": json.dumps(step["answer"], ensure_ascii=False)},
        }]
    else:
        message["content"] = json.dumps(step["answer"], ensure_ascii=False)
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": request.get("model", "test"),
        "choices": [{"index": 0, "message": message,
                     "finish_reason": step.get("finish_reason", "tool_calls" if message.get("tool_calls") else "stop")}],
        "usage": step.get("usage", USAGE),
    }
