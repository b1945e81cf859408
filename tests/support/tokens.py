"""Helpers for the token tests: fresh well-formed tokens and driving the Settings page in AppTest."""

from __future__ import annotations

import secrets
from pathlib import Path

from tests.support.hub_auth import user_record

REPO = Path(__file__).resolve().parents[2]


def new_token() -> str:
    """A token shaped like the Hub's ("hf_" + 34 letters/digits), unique per call so a leak is unambiguous."""
    return "hf_" + secrets.token_hex(17)


def register_user(hub, name: str, **record) -> str:
    """A new token the loopback Hub accepts as `name`'s."""
    token = new_token()
    hub.users[token] = user_record(name, **record)
    return token


def settings_app():
    from streamlit.testing.v1 import AppTest

    # As part of the app, so the sidebar's page links resolve.
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=30)
    app.switch_page("pages/4_Settings.py")
    return app.run()


def enter_token(app, token: str, where: str = "session"):
    """Paste `token` into the Settings page and press "Check and use token"."""
    app.text_input(key="settings_token_input").input(token)
    if where != "session":
        app.radio(key="settings_token_where").set_value(where)
    return app.button(key="settings_token_check").click().run()


def page_text(app) -> str:
    """Everything the page shows as text (markdown, alerts, captions)."""
    parts = [e.value for kind in ("markdown", "success", "error", "warning", "info", "caption", "header", "title")
             for e in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)
