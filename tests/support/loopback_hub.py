"""A server on 127.0.0.1 that answers like the Hugging Face Hub's HTTP API, for the real
`huggingface_hub` client to talk to. Routes live in small modules (`hub_*.py`) that call `route`.
What it reproduces, and from which recording, is proven by tests/test_hub_contract.py against
tests/data/recorded/. It parses requests with its own code, never hfdash's.

Behaviour shared by every route, as huggingface.co does it:
- a token the Hub does not know is refused everywhere, public endpoints included: 401 with
  `X-Error-Message: Invalid credentials in Authorization header`;
- errors are `{"error": message}` with the same text in `X-Error-Message` (and `X-Error-Code` where
  the Hub sets one: RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound);
- `/api/` answers carry `RateLimit: "api";r=<remaining>;t=<seconds>` and `RateLimit-Policy` for a fixed
  window (`rate_quota` requests per `rate_window_s`); past the quota they answer 429 with r=0.

Faults a real Hub can't be made to produce on demand (5xx, a hang) are FAKE, injected with `fail` /
`hang`. Every request is recorded (Authorization included), to prove which token was sent.
Unknown paths answer 404, as `huggingface_hub` 2.x expects for `/api/agent-harnesses`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from tests.support.loopback_server import LoopbackServer

INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
NO_CREDENTIALS = "Invalid username or password."
EXPOSED_HEADERS = ("X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,"
                   "Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash")
JSON_TYPE = "application/json; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str
    pairs: list[tuple[str, str]]  # the query string's parameters, in order, repeats kept
    headers: dict[str, str]
    body: bytes = b""

    @property
    def query(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for name, value in self.pairs:
            found.setdefault(name, []).append(value)
        return found

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def token(self) -> str | None:
        header = self.authorization or ""
        return header[len("Bearer "):] if header.startswith("Bearer ") else None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes | str | dict | list | None = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode(), JSON_TYPE
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return self.body or b"", "application/octet-stream"


def hub_error(status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """An error as the Hub words it: the message in the body and in X-Error-Message, the code in X-Error-Code."""
    extra = {"x-error-message": message, **({"x-error-code": code} if code else {}), **(headers or {})}
    return Response(status, {"error": message}, extra)


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


class LoopbackHub(LoopbackServer):
    def __init__(self, models: list[dict] | None = None):
        self.models: list[dict] = models or []  # stored repos as Hub JSON; empty = the shipped snapshot's
        self.users: dict[str, dict] = {}  # token -> whoami-v2 JSON
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.rate_quota = 1000  # the Hub's "api" policy: 1,000 requests per 300 s window
        self.rate_window_s = 300
        self._window: tuple[float, int] = (time.monotonic(), 0)
        self._lock = threading.Lock()
        super().__init__(self._handler_class())

    @property
    def url(self) -> str:
        return self.origin

    def fail(self, path_pattern: str, status: int, *, headers: dict[str, str] | None = None, times: int = 1):
        """FAKE: the next `times` requests whose path matches answer `status`."""
        self.faults.append(Fault(re.compile(path_pattern), status, headers or {}, times))

    def hang(self, path_pattern: str, seconds: float, *, times: int = 1):
        """FAKE: the next `times` matching requests get no answer for `seconds`."""
        self.faults.append(Fault(re.compile(path_pattern), None, {}, times, seconds))

    def authorizations(self, path_pattern: str = "") -> list[str | None]:
        pattern = re.compile(path_pattern)
        return [r.authorization for r in self.requests if pattern.search(r.path)]

    def account(self, request: Request) -> dict | None:
        """The whoami-v2 record of the request's token (None: anonymous)."""
        return self.users.get(request.token) if request.token else None

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.pattern.search(path):
                    fault.times -= 1
                    return fault
        return None

    def _rate_limit(self) -> tuple[dict[str, str], bool]:
        """This request's RateLimit headers, and whether the window's quota is spent."""
        with self._lock:
            started, used = self._window
            now = time.monotonic()
            if now - started >= self.rate_window_s:
                started, used = now, 0
            used += 1
            self._window = (started, used)
        reset = max(1, int(self.rate_window_s - (now - started)))
        headers = {"ratelimit": f'"api";r={max(0, self.rate_quota - used)};t={reset}',
                   "ratelimit-policy": f'"fixed window";"api";q={self.rate_quota};w={self.rate_window_s}'}
        return headers, used > self.rate_quota

    def dispatch(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
        response = self._answer(request)
        response.headers.setdefault("access-control-expose-headers", EXPOSED_HEADERS)
        return response

    def _answer(self, request: Request) -> Response:
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.status is None:
                time.sleep(fault.hang_seconds)
                return Response(504, {"error": "hung"})
            return Response(fault.status, {"error": f"injected {fault.status}"}, dict(fault.headers))
        limits: dict[str, str] = {}
        if request.path.startswith("/api/"):
            limits, spent = self._rate_limit()
            if spent:
                return hub_error(429, "You have been rate-limited; you can retry this action in a few minutes.",
                                 headers=limits)
        if request.token is not None and request.token not in self.users:
            return hub_error(401, INVALID_CREDENTIALS, headers=limits)
        response = self._route(request)
        response.headers.update(limits)
        return response

    def _route(self, request: Request) -> Response:
        for method, pattern, handler in ROUTES:
            match = pattern.match(request.path)
            if method == request.method and match:
                return handler(self, request, match)
        return hub_error(404, "Not Found")

    def _handler_class(self):
        hub = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                request = Request(self.command, parts.path, parse_qsl(parts.query, keep_blank_values=True),
                                  {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length) if length else b"")
                response = hub.dispatch(request)
                body, content_type = response.encoded()
                self.send_response(response.status)
                headers = {"content-type": content_type, **response.headers}
                headers.setdefault("content-length", str(len(body)))  # a HEAD states the file's own size
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

            def log_message(self, *args):  # keep test output quiet
                pass

        return _Handler
