"""One browser session's own things: its token, the servers it lets have that token, its server keys,
its preferences and whether it has proved to be the operator. None of it lives in a global or a shared cache."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from hfdash.auth import TokenInfo, ambient_token, opt_in_host, saved_server_key, token_goes_to
from hfdash.config import PREFERENCE_FIELDS, Settings, load_settings, multi_user
from hfdash.errors import HfdashError

TOKEN_KEY = "hf_token"
TOKEN_INFO_KEY = "hf_token_info"
OPT_INS_KEY = "hf_token_opt_ins"  # hosts (Spaces, Inference Endpoints) this session sends its token to
SERVER_KEYS_KEY = "server_keys"  # base URL -> API key, for this session only
PREFERENCES_KEY = "preferences"  # on a multi-user server: this user's own choices
OPERATOR_KEY = "operator"


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
    st.session_state.pop(OPT_INS_KEY, None)


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


# --- where the token goes, and server keys -------------------------------------------------------

def token_opted_in(host: str) -> bool:
    return host in st.session_state.get(OPT_INS_KEY, set())


def set_token_opt_in(host: str, on: bool) -> None:
    hosts = st.session_state.setdefault(OPT_INS_KEY, set())
    (hosts.add if on else hosts.discard)(host)


def session_server_keys() -> list[str]:
    """The servers this session holds a key for (never the keys)."""
    return list(st.session_state.get(SERVER_KEYS_KEY, {}))


def session_server_key(base_url: str) -> str | None:
    return st.session_state.get(SERVER_KEYS_KEY, {}).get(base_url)


def set_session_server_key(base_url: str, key: str | None) -> None:
    keys = st.session_state.setdefault(SERVER_KEYS_KEY, {})
    if key is None:
        keys.pop(base_url, None)
    else:
        keys[base_url] = key


def server_key_for(base_url: str) -> str | None:
    """This session's key for the server, else the key saved for it in Settings."""
    return session_server_key(base_url) or saved_server_key(base_url)


def sends_token(base_url: str) -> bool:
    """Whether a call to `base_url` carries this session's HF token: Hugging Face's own hosts, the
    configured Hub endpoint, or a Space / Inference Endpoint this session opted in for."""
    host = opt_in_host(base_url)
    return token_goes_to(base_url, hub_endpoint=load_settings().endpoint) or bool(host and token_opted_in(host))


def server_secret_for(base_url: str | None) -> str | None:
    """The `server_key` a hosted call to `base_url` takes: the session's token for a host it opted in
    for, else the server's own key. (Hugging Face's own hosts get the token from the backend itself.)"""
    if not base_url:
        return None
    host = opt_in_host(base_url)
    return call_token() if host and token_opted_in(host) else server_key_for(base_url)


# --- operator and preferences ---------------------------------------------------------------------

def is_operator() -> bool:
    """Single-user: the person at the page owns the machine. Multi-user: only after the operator secret."""
    return not multi_user() or bool(st.session_state.get(OPERATOR_KEY))


def set_operator(on: bool) -> None:
    st.session_state[OPERATOR_KEY] = on


def set_preferences(settings: Settings) -> None:
    st.session_state[PREFERENCES_KEY] = {name: getattr(settings, name) for name in PREFERENCE_FIELDS}


def user_settings() -> Settings:
    """The saved settings with this session's own preferences on top (multi-user: those never reach the file)."""
    return replace(load_settings(), **st.session_state.get(PREFERENCES_KEY, {}))
