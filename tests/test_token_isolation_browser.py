"""Two browser contexts against ONE running `streamlit run app.py`: the second never sees or uses the
first's token (the loopback Hub's recorded Authorization headers prove it), and the token reaches neither
the server's output nor anything the browsers received (DOM and websocket frames)."""

from __future__ import annotations

import pytest

from tests.support.recorded_page import RecordedPage
from tests.support.tokens import register_user

LIVE_RESULTS = "models from the live Hub"


def new_requests(hub, since: int) -> list[str | None]:
    return [r.authorization for r in hub.requests[since:] if r.path.startswith("/api/")]


@pytest.mark.browser
def test_token_isolation_and_no_leak_between_two_browser_contexts_on_one_server(hub, app_server, browser):
    token_a = register_user(hub, "alice", fullname="Alice Martin")
    server = app_server(env={"HF_ENDPOINT": hub.url})
    alice, bob = RecordedPage(browser, server.url), RecordedPage(browser, server.url)
    try:
        alice.open("Settings", until="Access token")
        alice.enter_token(token_a)
        assert alice.shows("Alice Martin")
        mark = len(hub.requests)
        alice.navigate("Browse", until=LIVE_RESULTS)  # live search (source "auto") with Alice's token
        alice_calls = new_requests(hub, mark)
        assert alice_calls and set(alice_calls) == {f"Bearer {token_a}"}

        # Bob, at the same time, on the same server: anonymous everywhere.
        mark = len(hub.requests)
        bob.open("Browse", until=LIVE_RESULTS)
        bob_calls = new_requests(hub, mark)
        assert bob_calls and set(bob_calls) == {None}
        bob.open("Settings", until="Access token")
        assert bob.shows("No token") and not bob.shows("Alice")

        # Alice's session still has her token after Bob's visit.
        alice.navigate("Settings", until="Access token")
        assert alice.shows("This session uses the token of alice")

        leaks = {"server output": token_a in server.log(),
                 "Alice's browser": alice.holds(token_a), "Bob's browser": bob.holds(token_a)}
        assert leaks == {"server output": False, "Alice's browser": [], "Bob's browser": []}
        assert alice.received and bob.received  # the frames were recorded, so their check means something
    finally:
        alice.close()
        bob.close()
