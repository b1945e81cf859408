"""Isolation: two sessions at once never see or use each other's token. AppTest sessions here; two browser
contexts against one running server in test_token_isolation_browser.py. The loopback Hub records the
Authorization header of every request, which is the proof."""

from __future__ import annotations

import itertools

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.support.chat import until_answered
from tests.support.tokens import REPO, enter_token, page_text, register_user


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def open_session() -> AppTest:
    """A browser session as AppTest sees one: the app, then its pages by switch_page (session state kept)."""
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()


def go(app: AppTest, page: str, **params: str) -> AppTest:
    app.switch_page(page)
    app.query_params.clear()
    for key, value in params.items():
        app.query_params[key] = value
    return app.run()


SEARCHES = itertools.count()


def live_search(hub, app: AppTest) -> list[str | None]:
    """Run a new live Hub search (never cached) on the Browse page; the Authorization headers it sent."""
    before = len(hub.requests)
    go(app, "pages/1_Browse.py", source="hub")
    # Typed, as a user would: a session's bound search box keeps its own text across page switches.
    app.text_input(key="query").set_value(f"qwen{next(SEARCHES)}").run()
    assert not app.exception
    sent = [r.authorization for r in hub.requests[before:] if r.path.startswith("/api/models")]
    assert sent, "the live search reached the loopback Hub"
    return sent


def test_token_isolation_between_two_apptest_sessions(hub):
    token_a = register_user(hub, "alice")
    token_b = register_user(hub, "bob")
    session_a, session_b = open_session(), open_session()

    enter_token(go(session_a, "pages/4_Settings.py"), token_a)
    assert "Token accepted for **alice**" in page_text(session_a)

    # B, opened before A set a token, sees no token and searches anonymously.
    go(session_b, "pages/4_Settings.py")
    assert "alice" not in page_text(session_b) and "No token" in page_text(session_b)
    assert set(live_search(hub, session_b)) == {None}

    assert set(live_search(hub, session_a)) == {f"Bearer {token_a}"}

    enter_token(go(session_b, "pages/4_Settings.py"), token_b)
    assert set(live_search(hub, session_b)) == {f"Bearer {token_b}"}
    assert set(live_search(hub, session_a)) == {f"Bearer {token_a}"}  # A is unaffected by B's token
    assert session_b.session_state["hf_token"] == token_b and session_a.session_state["hf_token"] == token_a


def test_token_isolation_multi_user_server_ignores_the_machine_token(hub, monkeypatch):
    """HFDASH_MULTI_USER: a session without a token of its own never falls back to HF_TOKEN."""
    machine = register_user(hub, "owner")
    monkeypatch.setenv("HF_TOKEN", machine)
    app = open_session()
    assert set(live_search(hub, app)) == {f"Bearer {machine}"}  # single-user default: the owner's token
    monkeypatch.setenv("HFDASH_MULTI_USER", "1")
    st.cache_data.clear()
    other = open_session()
    assert set(live_search(hub, other)) == {None}
    go(other, "pages/4_Settings.py")
    assert not other.radio  # no "save to the token file" choice on a shared server
    assert "This server is shared" in page_text(other)


def test_token_isolation_playground_session_without_token_does_not_borrow_one(hub):
    token_a = register_user(hub, "alice")
    session_a, session_b = open_session(), open_session()
    enter_token(go(session_a, "pages/4_Settings.py"), token_a)
    go(session_b, "pages/3_Playground.py", panes="1",
       **{"p1.kind": "hosted", "p1.provider": "auto", "p1.model": "Qwen/Qwen2.5-7B-Instruct"})
    session_b.text_area(key="pg_prompt").set_value("Hi")
    until_answered(next(b for b in session_b.button if b.label == "Send").click().run())
    assert not session_b.exception
    assert "need an access token, and none is set" in "\n".join(e.value for e in session_b.error)
    assert [r.path for r in hub.requests if r.authorization == f"Bearer {token_a}"] == ["/api/whoami-v2"]
