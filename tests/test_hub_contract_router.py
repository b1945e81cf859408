"""The recorded Inference Providers router (and legacy inference host) exchanges, replayed byte for byte
into the hosted backend: each recorded answer is served as recorded by a loopback server that knows
nothing else, and the Playground's backend must read it as a user would want: the streamed text and the
server's token count, or the typed error with the server's own words. (The loopback Hub covers the Hub
API, tests/test_hub_contract.py; the router's own behaviour has no fake here.)"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from hfdash.errors import BadParameters, InvalidToken, NotFound, PaymentRequired, RateLimited, Unavailable
from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer
from tests.support.loopback_server import LoopbackServer

RECORDED = Path(__file__).parent / "data" / "recorded"
ERRORS = {401: InvalidToken, 402: PaymentRequired, 404: NotFound, 422: BadParameters, 429: RateLimited,
          500: Unavailable}
KEPT_HEADERS = ("content-type", "retry-after", "www-authenticate", "x-error-message", "inference-id")


def _router_exchanges():
    found = []
    for path in sorted(RECORDED.glob("*.json")):
        record = json.loads(path.read_text())
        if record["request"]["url"].startswith(("{ROUTER}", "{API_INFERENCE}")):
            found.append(pytest.param(record, id=path.stem))
    return found


class Replay(LoopbackServer):
    """Answers every request with one recorded response, as recorded."""

    def __init__(self, response: dict):
        self.response = response
        self.requests: list[tuple[str, str]] = []
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        return self.origin

    def _handler(self):
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                self.rfile.read(int(self.headers.get("content-length") or 0))
                replay.requests.append((self.command, self.path))
                recorded = replay.response
                body = recorded["body"]
                raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(recorded["status"])
                for name in KEPT_HEADERS:
                    if name in recorded["headers"]:
                        self.send_header(name, recorded["headers"][name])
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        return Handler


def _error_text(body) -> str:
    error = body["error"]
    return error["message"] if isinstance(error, dict) else error


@pytest.mark.parametrize("record", _router_exchanges())
def test_hub_contract_router(record):
    response = record["response"]
    replay = Replay(response).start()
    try:
        if record["request"]["url"].endswith("/v1/models"):
            from huggingface_hub.utils import get_session

            listed = get_session().get(f"{replay.url}/v1/models").json()
            assert listed["object"] == "list" and all({"id", "providers"} <= set(m) for m in listed["data"])
            return
        body = record["request"].get("body") or {}
        if response["status"] == 200 and not body.get("stream"):
            from huggingface_hub import InferenceClient

            output = InferenceClient(base_url=f"{replay.url}/v1").chat_completion(
                [{"role": "user", "content": "Hi"}], model=body.get("model"))
            assert output.choices[0].message.content == response["body"]["choices"][0]["message"]["content"]
            assert output.usage.completion_tokens == response["body"]["usage"]["completion_tokens"]
            return
        spec = BackendSpec("hosted", model=body.get("model") or "m", base_url=f"{replay.url}/v1")
        answer = list(stream_answer(spec, [Message("user", "Hi")], GenerationParams(), token=None))[-1]
        if response["status"] == 200:
            events = [e for e in response["sse_events"] if isinstance(e, dict)]
            expected = "".join(c["delta"].get("content") or "" for e in events for c in e.get("choices") or [])
            assert answer.status == "done" and answer.text == expected
            usage = [e["usage"]["completion_tokens"] for e in events if e.get("usage")]
            assert answer.stats.output_tokens == (usage[-1] if usage else answer.stats.output_tokens)
            assert answer.stats.tokens_estimated is (not usage)
        else:
            assert answer.status == "error" and isinstance(answer.error, ERRORS[response["status"]])
            assert f"({_error_text(response['body'])})" in answer.error.user_message()  # its words, not its JSON
    finally:
        replay.stop()
