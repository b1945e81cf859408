"""A FAKE OpenAI-compatible chat server on 127.0.0.1, for what a real server can't be made to do on demand.

Real peers don't answer 401/402/403/429/503, hang, or drop a stream mid-answer when asked, so this one
does, chosen by the request's `model` field:

    fail-401 ... fail-503   that HTTP status with an OpenAI-style error body (429 adds Retry-After: 7);
                            fail-403-gated says the repo is gated
    hang                    accepts the request and never answers (until the server stops)
    drop                    streams a few chunks, then closes the connection without finishing
    anything else           a normal streamed answer: `words`, one chunk per word every `token_delay`
                            seconds, then a usage chunk if `stream_options.include_usage` was asked

Every request is recorded with its headers (Authorization included) and JSON body, so tests can prove
which token was sent where and which parameters arrived.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.support.loopback_server import LoopbackServer

WORDS = ("The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".")
DROP_AFTER = 3  # chunks sent before a "drop" request's connection is cut
RETRY_AFTER_S = 7
ERROR_TEXT = {
    401: "Invalid credentials in Authorization header",
    402: "You have exceeded your monthly included credits for Inference Providers.",
    403: "This authentication method does not have sufficient permissions to call Inference Providers.",
    404: "Model not found",
    422: "Input validation error: `temperature` must be strictly positive",
    429: "Rate limit reached. Please retry later.",
    500: "Internal server error",
    503: "Model is currently loading",
}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict | None

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


class FaultServer(LoopbackServer):
    def __init__(self, token_delay: float = 0.0, words: tuple[str, ...] = WORDS):
        self.token_delay = token_delay
        self.words = words
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        super().__init__(self._handler_class())

    @property
    def url(self) -> str:
        """The base URL, as a user would paste it (OpenAI-style, ending in /v1)."""
        return f"{self.origin}/v1"

    def stop(self) -> None:
        self._stopping.set()  # a hanging request returns
        super().stop()

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def chat_requests(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.record(Recorded("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, None))
                if self.path in ("/health", "/v1/models"):
                    self._json(200, {"status": "ok"} if self.path == "/health" else
                               {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
                else:
                    self._json(404, {"error": "Not found"})

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = None
                server.record(Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if not self.path.endswith("/chat/completions") or not isinstance(body, dict):
                    return self._json(404, {"error": "Not found"})
                model = str(body.get("model") or "")
                if model.startswith("fail-"):
                    return self._fail(model)
                if model == "hang":
                    server._stopping.wait(60)
                    return None
                return self._stream(body, drop=model == "drop")

            def _fail(self, model: str):
                status = int(model.split("-")[1])
                message = "Access to this model is restricted: it is gated." if model.endswith("gated") \
                    else ERROR_TEXT.get(status, "error")
                headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 429 else {}
                self._json(status, {"error": message}, headers)

            def _stream(self, body: dict, *, drop: bool):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                words = server.words
                limit = min(len(words), int(body.get("max_tokens") or len(words)))
                for index, word in enumerate(words[:limit]):
                    if drop and index == DROP_AFTER:
                        self.wfile.flush()
                        self.connection.shutdown(2)  # cut mid-answer: no final chunk, no [DONE]
                        self.close_connection = True
                        return
                    if server.token_delay:
                        time.sleep(server.token_delay)
                    self._event({"choices": [{"index": 0, "delta": {"role": "assistant", "content": word},
                                              "finish_reason": None}]})
                self._event({"choices": [{"index": 0, "delta": {}, "finish_reason":
                                          "length" if limit < len(words) else "stop"}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    self._event({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": limit,
                                                          "total_tokens": 5 + limit}})
                self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")

            def _event(self, payload: dict):
                event = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                         "model": "fake-model", **payload}
                self._chunk(f"data: {json.dumps(event)}\n\n".encode())

            def _chunk(self, data: bytes):
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _json(self, status: int, payload: dict, headers: dict | None = None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
