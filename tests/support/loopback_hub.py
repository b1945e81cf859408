"""A server on 127.0.0.1 that answers like the Hugging Face Hub's HTTP API, for the real
`huggingface_hub` client to talk to. Routes live in small modules (`hub_*.py`) that call `route`;
its data comes from the shipped snapshot of real Hub records.

Faults a real Hub can't be made to produce on demand (401, 429, 5xx, a hang) are injected with
`fail` / `hang`. Every request's Authorization header is recorded, to prove which token was sent.
Unknown paths answer 404, as `huggingface_hub` 2.x expects for `/api/agent-harnesses`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return self.body, "application/octet-stream"


Handler = Callable[["LoopbackHub", Request, re.Match], Response]
ROUTES: list[tuple[str, re.Pattern, Handler]] = []


def route(method: str, pattern: str):
    def register(handler: Handler) -> Handler:
        ROUTES.append((method, re.compile(pattern), handler))
        return handler
    return register


@dataclass
class Fault:
    pattern: re.Pattern
    status: int | None  # None = hang
    headers: dict[str, str]
    times: int
    hang_seconds: float = 0.0


class LoopbackHub:
    def __init__(self, models: list[dict] | None = None):
        self.models: list[dict] = models or []  # Hub API JSON objects, as /api/models returns them
        self.users: dict[str, dict] = {}  # token -> whoami-v2 JSON
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LoopbackHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, path_pattern: str, status: int, *, headers: dict[str, str] | None = None, times: int = 1):
        """The next `times` requests whose path matches answer `status` (fake: a real Hub won't on demand)."""
        self.faults.append(Fault(re.compile(path_pattern), status, headers or {}, times))

    def hang(self, path_pattern: str, seconds: float, *, times: int = 1):
        self.faults.append(Fault(re.compile(path_pattern), None, {}, times, seconds))

    def authorizations(self, path_pattern: str = "") -> list[str | None]:
        pattern = re.compile(path_pattern)
        return [r.authorization for r in self.requests if pattern.search(r.path)]

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.pattern.search(path):
                    fault.times -= 1
                    return fault
        return None

    def dispatch(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.status is None:
                time.sleep(fault.hang_seconds)
                return Response(504, {"error": "hung"})
            return Response(fault.status, {"error": f"injected {fault.status}"}, fault.headers)
        for method, pattern, handler in ROUTES:
            match = pattern.match(request.path)
            if method == request.method and match:
                return handler(self, request, match)
        return Response(404, {"error": "Not Found"}, {"x-error-code": "EntryNotFound"})

    def _handler_class(self):
        hub = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length) if length else b"")
                response = hub.dispatch(request)
                body, content_type = response.encoded()
                self.send_response(response.status)
                headers = {"content-type": content_type, **response.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

            def log_message(self, *args):  # keep test output quiet
                pass

        return _Handler
