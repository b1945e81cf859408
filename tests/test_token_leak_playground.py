"""Leaks across the Playground: after a token was saved on the Settings page, and a self-hosted server's
API key saved there, and both used by a chat, neither is in any export, "Copy as code"
snippet, the server's output or what the browser received; the self-hosted OpenAI-compatible server gets
its own key and never the HF token (the fake server records every Authorization)."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.support.browser import wait_for_app
from tests.support.recorded_page import RecordedPage
from tests.support.tokens import register_user

ANSWER = "The quick brown fox jumps over the lazy dog."
SERVER_KEY = "sk-leak-test-5f1c9e0a7b3d"


def download(page, button: str) -> str:
    with page.expect_download() as started:
        page.get_by_role("button", name=button).click()
    return Path(started.value.path()).read_text()


@pytest.mark.browser
def test_token_does_not_leak_into_exports_snippets_logs_or_browser(hub, app_server, browser, fault_server,
                                                                   tmp_path):
    token = register_user(hub, "alice")
    server = app_server(env={"HF_ENDPOINT": hub.url})
    user = RecordedPage(browser, server.url)
    try:
        user.open("Settings", until="Access token")
        user.enter_token(token, save=True)
        token_file = tmp_path / "app_hf_home" / "token"  # the server's HF_HOME (app_server fixture)
        assert token_file.read_text() == token and stat.S_IMODE(token_file.stat().st_mode) == 0o600
        user.enter_server_key(fault_server.url, SERVER_KEY, save=True)
        key_file = tmp_path / "app_config" / "server-keys.json"  # the server's HFDASH_CONFIG_DIR
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

        # The saved token serves this session too: pane 1 a self-hosted server, pane 2 Inference Providers.
        query = {"panes": "2", "variants": "1", "p1.kind": "hosted", "p1.base_url": fault_server.url,
                 "p1.model": "fake-model", "p2.kind": "hosted", "p2.provider": "auto",
                 "p2.model": "Qwen/Qwen2.5-7B-Instruct"}
        user.open(f"Playground?{urlencode(query)}", until="Pane 2")
        prompt = user.page.get_by_label("Prompt for pane 1", exact=True)
        prompt.fill("Say the pangram.")
        prompt.press("Tab")
        user.page.get_by_role("button", name="Send", exact=True).click()
        user.wait_for(ANSWER)
        # "Clear history" turns on once the answer is filed in the pane's history, which the exports hold.
        expect(user.page.get_by_role("button", name="Clear history").first).to_be_enabled(timeout=30_000)
        wait_for_app(user.page)

        exports = {"json": download(user.page, "Export JSON"), "markdown": download(user.page, "Export Markdown")}
        assert all(ANSWER in text for text in exports.values())  # the exports hold the conversation
        for expander in user.page.get_by_text("Copy as code").all():
            expander.click()
        snippets = [block.inner_text() for block in user.page.locator('[data-testid="stCode"]').all()]
        assert len(snippets) == 2 and 'os.environ["HF_TOKEN"]' in snippets[1]
        assert 'os.environ["SERVER_API_KEY"]' in snippets[0] and "HF_TOKEN" not in snippets[0]
        playground_dom = user.page.content()

        # The same session searches the live Hub: its calls do carry the token, so the checks below mean something.
        mark = len(hub.requests)
        user.navigate("Browse", until="models from the live Hub")
        assert f"Bearer {token}" in {r.authorization for r in hub.requests[mark:]}

        sent = [r.authorization for r in fault_server.chat_requests()]
        assert sent == [f"Bearer {SERVER_KEY}"]  # its own key; a self-hosted server never gets the HF token
        for secret in (token, SERVER_KEY):
            leaks = {"exports": [name for name, text in exports.items() if secret in text],
                     "snippets": [s for s in snippets if secret in s],
                     "Playground DOM": secret in playground_dom, "server output": secret in server.log(),
                     "browser": user.holds(secret)}
            assert leaks == {"exports": [], "snippets": [], "Playground DOM": False, "server output": False,
                             "browser": []}
    finally:
        user.close()
