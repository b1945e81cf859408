"""The crafted-link attack on a single-user dashboard: a link that points a pane at a plain-http Space
(`/Playground?p1.kind=hosted&p1.base_url=http://evil.hf.space/v1`), and one press of Send. The machine's
saved token must not go out. The dashboard's HTTP_PROXY is the fake server, so it records the request
that would have reached evil.hf.space, with its headers."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.support.recorded_page import RecordedPage
from tests.support.tokens import new_token

ANSWER = "The quick brown fox jumps over the lazy dog."


@pytest.mark.browser
def test_a_linked_http_space_gets_no_token_when_send_is_pressed(app_server, browser, fault_server, tmp_path):
    machine_token = new_token()
    hf_home = tmp_path / "app_hf_home"  # the app_server fixture's HF_HOME
    hf_home.mkdir()
    (hf_home / "token").write_text(machine_token)
    server = app_server(env={"HTTP_PROXY": fault_server.url.removesuffix("/v1"), "NO_PROXY": ""})
    user = RecordedPage(browser, server.url)
    try:
        link = {"p1.kind": "hosted", "p1.base_url": "http://evil.hf.space/v1", "p1.model": "ok"}
        # The pane's set-up draws after its title: wait for what it says is sent (fails if it never says so).
        user.open(f"Playground?{urlencode(link)}", until="Nothing is sent to authenticate")
        prompt = user.page.get_by_label("Prompt", exact=True)
        prompt.fill("hi")
        prompt.press("Tab")
        user.page.get_by_role("button", name="Send", exact=True).click()
        user.wait_for(ANSWER)
        sent = fault_server.chat_requests()
        assert [r.headers["host"] for r in sent] == ["evil.hf.space"]
        assert sent[0].authorization is None and machine_token not in str(sent[0].headers)
    finally:
        user.close()
