"""A small real reverse proxy that asks for an API key, in front of a real OpenAI-compatible server
(`transformers serve` accepts no key): `Authorization: Bearer KEY` is forwarded, byte for byte and
streamed; anything else gets the 401 that vLLM's `--api-key` gives. Every Authorization it saw is kept.

    proxy = KeyProxy(upstream="http://127.0.0.1:PORT", key="sk-...").start()
    proxy.base_url ... proxy.authorizations ... proxy.stop()
"""

from __future__ import annotations

import http.client
import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.support.loopback_server import LoopbackServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}


class KeyProxy(LoopbackServer):
    def __init__(self, upstream: str, key: str):
        self.upstream = urlsplit(upstream)
        self.key = key
        self.authorizations: list[str | None] = []
        super().__init__(self._handler_class())

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self._forward(None)

            def do_POST(self):
                self._forward(self.rfile.read(int(self.headers.get("content-length") or 0)))

            def _forward(self, body: bytes | None):
                authorization = self.headers.get("authorization")
                proxy.authorizations.append(authorization)
                if authorization != f"Bearer {proxy.key}":
                    # vLLM's answer to a missing or wrong key.
                    payload = json.dumps({"error": "Unauthorized"}).encode()
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=300)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"authorization"}}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while chunk := answer.read1(65536):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                upstream.close()

        return Handler
