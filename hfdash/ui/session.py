"""One browser session's own things. A token lives here, never in a global or a shared cache."""

from __future__ import annotations

import streamlit as st

from hfdash.auth import ambient_token

TOKEN_KEY = "hf_token"


def session_token() -> str | None:
    return st.session_state.get(TOKEN_KEY)


def call_token() -> str | None:
    """The token for this session's service calls: its own, else the machine owner's (HF_TOKEN or saved)."""
    return session_token() or ambient_token()
