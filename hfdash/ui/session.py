"""One browser session's own things. A token lives here, never in a global or a shared cache."""

from __future__ import annotations

import streamlit as st

from hfdash.auth import TokenInfo, ambient_token
from hfdash.config import multi_user
from hfdash.errors import HfdashError

TOKEN_KEY = "hf_token"
TOKEN_INFO_KEY = "hf_token_info"


def session_token() -> str | None:
    return st.session_state.get(TOKEN_KEY)


def session_token_info() -> TokenInfo | None:
    """What the Hub said about this session's token when it was checked."""
    return st.session_state.get(TOKEN_INFO_KEY)


def set_session_token(token: str, info: TokenInfo) -> None:
    st.session_state[TOKEN_KEY] = token
    st.session_state[TOKEN_INFO_KEY] = info


def clear_session_token() -> None:
    st.session_state.pop(TOKEN_KEY, None)
    st.session_state.pop(TOKEN_INFO_KEY, None)


def call_token() -> str | None:
    """The token for this session's service calls: its own, else the machine owner's (HF_TOKEN or saved),
    except on a multi-user server (HFDASH_MULTI_USER), where a session only uses its own. An unreadable
    token file counts as none: every page says so (hfdash.ui.layout)."""
    if session_token() or multi_user():
        return session_token()
    try:
        return ambient_token()
    except HfdashError:
        return None
