"""The endpoint-redirect attack on a multi-user server, in two browser contexts on one `streamlit run
app.py`: visitor A tries to point the shared Hub endpoint at a server of theirs; visitor B then checks
a token. B's token goes to the operator's Hub only (its recorded Authorization headers prove it), the
attacker's server gets nothing, and B's page names the endpoint the token was checked with."""

from __future__ import annotations

import pytest

from tests.support.recorded_page import RecordedPage
from tests.support.tokens import register_user


@pytest.mark.browser
def test_a_visitor_cannot_redirect_other_users_tokens(hub, app_server, browser, fault_server):
    attacker_url = fault_server.url.removesuffix("/v1")
    server = app_server(env={"HF_ENDPOINT": hub.url, "HFDASH_MULTI_USER": "1"})
    attacker, victim = RecordedPage(browser, server.url), RecordedPage(browser, server.url)
    try:
        attacker.open("Settings", until="Endpoints and defaults")
        endpoint = attacker.page.get_by_role("textbox", name="Hub endpoint")
        assert endpoint.is_disabled()  # the attack's first step is not offered; forcing the field open:
        endpoint.evaluate("el => { el.disabled = false; }")
        endpoint.fill(attacker_url, force=True)
        attacker.page.get_by_role("button", name="Save settings").click()
        attacker.wait_for("Your defaults are set for this browser session")

        token = register_user(hub, "victim", fullname="Victor Tim")
        victim.open("Settings", until="Access token")
        victim.enter_token(token)
        assert victim.shows(f"by the Hub at {hub.url}")
        assert hub.authorizations("whoami") == [f"Bearer {token}"]
        assert fault_server.requests == []
        assert token not in server.log() and attacker.holds(token) == []
    finally:
        attacker.close()
        victim.close()
