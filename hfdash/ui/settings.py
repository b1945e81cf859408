"""The Settings page's sections: access token, endpoints and defaults, cache manager.

The token is read from its password field in a callback, checked, then the field is emptied, so it is
never sent back to the browser; it lives in this session's state (or, if asked, the token file).
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from hfdash import auth
from hfdash.cache import converted_dir, delete_cached, hub_cache_dir, list_cached
from hfdash.config import (
    CATALOG_SOURCE_LABELS,
    CATALOG_SOURCES,
    DEFAULT_ENDPOINT,
    SHIPPED_SNAPSHOT,
    Settings,
    load_settings,
    multi_user,
    read_settings,
    reset_settings,
    save_settings,
)
from hfdash.errors import HfdashError
from hfdash.inference.base import DEVICES, DTYPES
from hfdash.ui.session import clear_session_token, session_token, session_token_info, set_session_token
from hfdash.units import human_bytes

TOKEN_INPUT = "settings_token_input"
TOKEN_WHERE = "settings_token_where"
SESSION_ONLY, SAVED = "session", "saved"
WHERE_LABELS = {SESSION_ONLY: "This browser session only",
                SAVED: "Saved to the Hugging Face token file on this machine"}
FORM_KEYS = ("settings_endpoint", "settings_source", "settings_snapshot", "settings_base_urls",
             "settings_device", "settings_dtype")
CACHE_SELECTION = "settings_cache_selection"
CACHE_PENDING = "settings_cache_pending"
FLASH = "settings_flash"

HOW_TO = (
    "**How to get a token.** On the Hub open your profile → Settings → Access Tokens "
    f"([{auth.CREATE_TOKEN_URL}]({auth.CREATE_TOKEN_URL})) and create one. For hosted models in the "
    "Playground choose a *fine-grained* token with the permission **Make calls to Inference Providers**.\n\n"
    "**Rate limits.** The Hub limits requests per IP or account; anonymous requests get the lowest limits, a "
    "token raises them (PRO accounts more), and Inference Providers calls spend your account's monthly credits."
)


def _flash(section: str, level: str, text: str) -> None:
    """A message set by a callback and shown once, at its section, on the next run."""
    st.session_state.setdefault(FLASH, {})[section] = (level, text)


def _show_flash(section: str) -> None:
    level, text = st.session_state.get(FLASH, {}).pop(section, (None, None))
    if level:
        getattr(st, level)(text)


# --- access token -------------------------------------------------------------------------------

def _check_token() -> None:
    raw = st.session_state.get(TOKEN_INPUT, "")
    st.session_state[TOKEN_INPUT] = ""  # the field never holds the token past this run
    where = SESSION_ONLY if multi_user() else st.session_state.get(TOKEN_WHERE, SESSION_ONLY)
    try:
        token = auth.clean_token(raw)
        info = auth.check_token(token, endpoint=load_settings().endpoint)
        saved_to = auth.save_token(token) if where == SAVED else None
    except HfdashError as exc:
        _flash("token", "error", exc.user_message())
        return
    set_session_token(token, info)
    place = f"saved to {saved_to} (readable by you only)" if saved_to else "kept for this browser session only"
    _flash("token", "success", f"Token accepted for **{info.user}**, {place}.")


def _remove_saved_token() -> None:
    try:
        if session_token() and session_token() == auth.saved_token():
            clear_session_token()
        auth.remove_saved_token()
    except HfdashError as exc:
        _flash("token", "error", exc.user_message())
        return
    _flash("token", "success", "The saved token was deleted from this machine.")


def _log_out_session() -> None:
    clear_session_token()
    _flash("token", "success", "Logged out of this browser session; the token was forgotten.")


def _show_token_info(info: auth.TokenInfo) -> None:
    st.success(f"This session uses the token of **{info.user}**" + (f" ({info.fullname})" if info.fullname else ""))
    if info.browser_login:
        token = f"made by browser login (`hf auth login`), expires {(info.expires_at or 'unknown')[:10]}"
    else:
        token = f"{info.token_name or 'unnamed'}, role **{info.role or 'unknown'}**"
    providers = {True: "allowed", False: "not allowed", None: "the Hub does not say"}[info.can_call_providers]
    st.markdown(f"- Organisations: {', '.join(info.orgs) or 'none'}\n- Token: {token}\n"
                f"- Inference Providers: **{providers}**")
    if info.can_call_providers is None:
        st.info("The Hub does not say what a browser-login token may do (it states no role or permissions). "
                "Hosted models in the Playground are tried with it; a refusal is shown as it comes.")
    elif not info.can_call_providers:
        st.warning("This token cannot call Inference Providers (hosted models in the Playground): create a "
                   "fine-grained token with the permission 'Make calls to Inference Providers'.")
    st.button("Log out of this session", on_click=_log_out_session, key="settings_logout")


def render_token_section() -> None:
    st.header("Access token")
    st.markdown(HOW_TO)
    shared = multi_user()
    if auth.env_token_set() and not shared:
        st.info("HF_TOKEN is set in the dashboard's environment: it overrides a saved token file. "
                "A token checked here still takes precedence for this browser session.")
    info = session_token_info()
    if info:
        _show_token_info(info)
    elif shared:
        st.info("No token in this session: the Hub is used anonymously. This server is shared "
                "(HFDASH_MULTI_USER), so a token entered here stays in this browser session only.")
    elif auth.env_token_set() or auth.token_file().exists():
        st.info("This session has no token of its own and uses the machine's (HF_TOKEN or the token file).")
    else:
        st.info("No token: the Hub is used anonymously (public models only, lowest rate limits).")

    st.text_input("Access token", type="password", key=TOKEN_INPUT, placeholder="hf_…",
                  help="Paste it here; it is checked with the Hub and never shown again.")
    if not shared:
        st.radio("Where should it live?", list(WHERE_LABELS), format_func=WHERE_LABELS.get, key=TOKEN_WHERE,
                 help="A saved token is used by every session of this dashboard without a token of its own, "
                      "and by other Hugging Face tools on this machine.")
    st.button("Check and use token", on_click=_check_token, key="settings_token_check", type="primary")
    _show_flash("token")
    if not shared and auth.token_file().exists():
        st.caption(f"A token is saved in `{auth.token_file()}`.")
        st.button("Delete the saved token", on_click=_remove_saved_token, key="settings_token_delete")


# --- endpoints and defaults ---------------------------------------------------------------------

def _reset_settings() -> None:
    try:
        reset_settings()
    except HfdashError as exc:
        _flash("settings", "error", exc.user_message())
        return
    for key in FORM_KEYS:  # the form's fields show the defaults again
        st.session_state.pop(key, None)
    _flash("settings", "success", "Settings reset to the defaults.")


def _save_form() -> None:
    state = st.session_state
    settings = Settings(hub_endpoint=state.settings_endpoint.strip() or None, catalog_source=state.settings_source,
                        snapshot_path=state.settings_snapshot.strip() or None,
                        base_urls=state.settings_base_urls.splitlines(),
                        local_device=state.settings_device, local_dtype=state.settings_dtype)
    try:
        path = save_settings(settings)
    except HfdashError as exc:  # the form keeps what was typed
        _flash("settings", "error", exc.user_message())
        return
    _flash("settings", "success", f"Settings saved to {path}.")


def render_endpoints_section() -> None:
    st.header("Endpoints and defaults")
    try:
        current = read_settings()
    except HfdashError as exc:
        st.warning(exc.user_message())
        current = Settings()
    with st.form("settings_form"):
        st.text_input("Hub endpoint", value=current.hub_endpoint or "", key="settings_endpoint",
                      placeholder=DEFAULT_ENDPOINT, help="Empty: HF_ENDPOINT if set, else the public Hub.")
        st.selectbox("Catalog source", CATALOG_SOURCES, index=CATALOG_SOURCES.index(current.catalog_source),
                     format_func=CATALOG_SOURCE_LABELS.get, key="settings_source")
        st.text_input("Snapshot file", value=current.snapshot_path or "", key="settings_snapshot",
                      placeholder=str(SHIPPED_SNAPSHOT), help="Empty: the snapshot shipped with hfdash.")
        st.text_area("OpenAI-compatible base URLs for the Playground, one per line",
                     value="\n".join(current.base_urls), key="settings_base_urls",
                     placeholder="http://127.0.0.1:8000/v1")
        st.selectbox("Default local device", DEVICES, index=DEVICES.index(current.local_device),
                     key="settings_device")
        st.selectbox("Default local dtype", DTYPES, index=DTYPES.index(current.local_dtype), key="settings_dtype")
        st.form_submit_button("Save settings", on_click=_save_form)
    st.button("Reset to defaults", on_click=_reset_settings, key="settings_reset")
    _show_flash("settings")


# --- cache manager ------------------------------------------------------------------------------

def _delete_pending() -> None:
    keys = st.session_state.pop(CACHE_PENDING, [])
    st.session_state.pop(CACHE_SELECTION, None)
    try:
        freed = delete_cached(keys)
    except HfdashError as exc:
        _flash("cache", "error", exc.user_message())
        return
    _flash("cache", "success", f"Deleted {len(keys)} model(s); freed {human_bytes(freed)}.")


def _when(timestamp: float | None) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else "never"


def render_cache_section() -> None:
    st.header("Cache manager")
    st.caption(f"Hugging Face cache: `{hub_cache_dir()}` · converted copies: `{converted_dir()}`")
    _show_flash("cache")
    try:
        models = list_cached()
    except HfdashError as exc:
        st.error(exc.user_message())
        return
    if not models:
        st.info("No models are cached on this machine.")
        return
    st.dataframe([{"Model": m.model_id, "Where": m.kind, "Size on disk": human_bytes(m.size_on_disk),
                   "Last used": _when(m.last_used)} for m in models], hide_index=True)
    st.caption(f"{len(models)} model(s), {human_bytes(sum(m.size_on_disk for m in models))} in all.")
    labels = {m.key: f"{m.model_id} ({m.kind}, {human_bytes(m.size_on_disk)})" for m in models}
    chosen = st.multiselect("Models to delete", list(labels), format_func=labels.get, key=CACHE_SELECTION)
    if st.button("Delete selected…", disabled=not chosen, key="settings_cache_delete"):
        st.session_state[CACHE_PENDING] = chosen
    pending = [k for k in st.session_state.get(CACHE_PENDING, []) if k in labels]
    if pending:
        total = sum(m.size_on_disk for m in models if m.key in pending)
        st.warning(f"Delete {len(pending)} model(s), {human_bytes(total)}, from disk? This cannot be undone.")
        yes, no = st.columns(2)
        yes.button("Yes, delete", on_click=_delete_pending, key="settings_cache_confirm", type="primary")
        no.button("Cancel", on_click=lambda: st.session_state.pop(CACHE_PENDING, None), key="settings_cache_cancel")


def render_settings() -> None:
    render_token_section()
    render_endpoints_section()
    render_cache_section()
