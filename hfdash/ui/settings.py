"""The Settings page's sections: access token, operator sign-in, endpoints and defaults, server API
keys, cache manager.

A token or key is read from its password field in a callback, checked, then the field is emptied, so it
is never sent back to the browser; it lives in this session's state (or, if asked, a 0600 file).
On a multi-user server (HFDASH_MULTI_USER) what changes where the server connects or what it reads
(Hub endpoint, snapshot, saved servers and their keys, cache deletion) is the operator's: editable here
only after the operator secret (HFDASH_OPERATOR_SECRET); each user's own defaults stay in their session.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime

import streamlit as st

from hfdash import auth
from hfdash.cache import converted_dir, delete_cached, hub_cache_dir, list_cached, loaded_model_ids
from hfdash.inference.local.sources import embedded_copy
from hfdash.config import (
    CATALOG_SOURCE_LABELS,
    CATALOG_SOURCES,
    OPERATOR_FIELDS,
    SHIPPED_SNAPSHOT,
    DamagedSettings,
    InvalidSettings,
    Settings,
    load_settings,
    multi_user,
    operator_secret_matches,
    reset_settings,
    save_settings,
    http_url,
    validated,
)
from hfdash.errors import BadParameters, HfdashError, RateLimited, Timeout, Unavailable
from hfdash.inference.snippets import SERVER_KEY_ENV
from hfdash.vocab import LOCAL_DEVICES, LOCAL_DTYPES, PUBLIC_HUB
from hfdash.ui.session import (
    PREFERENCES_KEY,
    clear_session_token,
    is_operator,
    session_server_keys,
    session_token,
    session_token_info,
    set_operator,
    set_preferences,
    set_session_server_key,
    set_session_token,
    user_settings,
)
from hfdash.units import human_bytes

TOKEN_INPUT = "settings_token_input"
TOKEN_WHERE = "settings_token_where"
SESSION_ONLY, SAVED = "session", "saved"
WHERE_LABELS = {SESSION_ONLY: "This browser session only",
                SAVED: "Saved to the Hugging Face token file on this machine"}
SAVED_TOKEN_SERVES_ALL = ("A saved token is used by every browser session of this dashboard that has no token "
                          "of its own, whoever opens it, and by other Hugging Face tools on this machine.")
FORM_KEYS = ("settings_endpoint", "settings_source", "settings_snapshot", "settings_base_urls",
             "settings_device", "settings_dtype")
REPLACE_DAMAGED = "settings_replace_damaged"  # the form's settings, waiting for the user to confirm
OPERATOR_INPUT = "settings_operator_secret"
KEY_SERVER, KEY_URL, KEY_INPUT, KEY_WHERE = ("settings_key_server", "settings_key_url", "settings_key_input",
                                             "settings_key_where")
KEY_WHERE_LABELS = {SESSION_ONLY: "This browser session only",
                    SAVED: "Saved on this machine (readable by its owner only)"}
OTHER_SERVER = "Other URL…"
CACHE_SELECTION = "settings_cache_selection"
CACHE_PENDING = "settings_cache_pending"
FLASH = "settings_flash"
NOTHING_SAVED = "Nothing was saved: the fields marked above say what to fix."
FIELD_ERRORS = "settings_field_errors"  # section -> field -> message, shown under that field until fixed
# The Hub could not judge the token: the field keeps it for another try.
NOT_JUDGED = (Unavailable, Timeout, RateLimited)

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


def _set_field_errors(section: str, errors: dict[str, str]) -> None:
    st.session_state.setdefault(FIELD_ERRORS, {})[section] = errors


def _field_error(section: str, field: str) -> None:
    message = st.session_state.get(FIELD_ERRORS, {}).get(section, {}).get(field)
    if message:
        st.error(message)


# --- access token -------------------------------------------------------------------------------

def _check_token() -> None:
    raw = st.session_state.get(TOKEN_INPUT, "")
    st.session_state[TOKEN_INPUT] = ""  # the field never holds the token past this run
    where = SESSION_ONLY if multi_user() else st.session_state.get(TOKEN_WHERE, SESSION_ONLY)
    endpoint = load_settings().endpoint
    try:
        token = auth.clean_token(raw)
        info = auth.check_token(token, endpoint=endpoint)
        saved_to = auth.save_token(token) if where == SAVED else None
    except HfdashError as exc:
        _set_field_errors("token", {"token": exc.user_message()})
        if isinstance(exc, NOT_JUDGED):
            st.session_state[TOKEN_INPUT] = raw
        return
    _set_field_errors("token", {})
    set_session_token(token, info)
    place = f"saved to {saved_to} (readable by you only)" if saved_to else "kept for this browser session only"
    _flash("token", "success", f"Token accepted for **{info.user}** by the Hub at `{endpoint}`, {place}.")


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
    st.success(f"This session uses the token of **{info.user}**" + (f" ({info.fullname})" if info.fullname else "")
               + f", checked with the Hub at `{load_settings().endpoint}`.")
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

    # A form: Enter in the field submits it.
    with st.form("settings_token_form", border=False):
        st.text_input("Access token", type="password", key=TOKEN_INPUT, placeholder="hf_…",
                      help="Paste it here and press Enter; it is checked with the Hub and never shown again.")
        _field_error("token", "token")
        if not shared:
            st.radio("Where should it live?", list(WHERE_LABELS), format_func=WHERE_LABELS.get, key=TOKEN_WHERE)
            st.caption(SAVED_TOKEN_SERVES_ALL)
        st.form_submit_button("Check and use token", on_click=_check_token, key="settings_token_check",
                              type="primary")
    _show_flash("token")
    if not shared and auth.token_file().exists():
        st.warning(f"A token is saved in `{auth.token_file()}`. {SAVED_TOKEN_SERVES_ALL}")
        st.button("Delete the saved token", on_click=_remove_saved_token, key="settings_token_delete")


# --- operator --------------------------------------------------------------------------------------

def _operator_sign_in() -> None:
    candidate = st.session_state.get(OPERATOR_INPUT, "")
    st.session_state[OPERATOR_INPUT] = ""
    if operator_secret_matches(candidate):
        set_operator(True)
        _flash("operator", "success", "Signed in as the operator for this browser session.")
    else:
        _flash("operator", "error", "That is not the operator secret.")


def render_operator_section() -> None:
    """Multi-user only: who may change the server's connections, and the operator's sign-in."""
    if not multi_user():
        return
    st.header("Operator")
    if is_operator():
        st.success("This browser session is signed in as the operator: the server's endpoint, snapshot, "
                   "saved servers, their keys and the cache can be changed here, for every user.")
        st.button("Sign out as operator", on_click=set_operator, args=(False,), key="settings_operator_out")
    else:
        st.info("This server is shared (HFDASH_MULTI_USER): the Hub endpoint, the snapshot, the saved servers "
                "and the cache are set by its operator. Your own defaults below apply to this browser session.")
        if os.environ.get("HFDASH_OPERATOR_SECRET"):
            st.text_input("Operator secret", type="password", key=OPERATOR_INPUT)
            st.button("Sign in as operator", on_click=_operator_sign_in, key="settings_operator_in")
    _show_flash("operator")


# --- endpoints and defaults ---------------------------------------------------------------------

def _reset_settings() -> None:
    if not is_operator():  # a visitor's reset forgets their own defaults only
        st.session_state.pop(PREFERENCES_KEY, None)
    else:
        try:
            reset_settings()
        except HfdashError as exc:
            _flash("settings", "error", exc.user_message())
            return
    for key in FORM_KEYS:  # the form's fields show the defaults again
        st.session_state.pop(key, None)
    _flash("settings", "success", "Settings reset to the defaults.")


def _form_settings() -> Settings:
    state = st.session_state
    typed = Settings(hub_endpoint=state.settings_endpoint.strip() or None, catalog_source=state.settings_source,
                     snapshot_path=state.settings_snapshot.strip() or None,
                     base_urls=state.settings_base_urls.splitlines(),
                     local_device=state.settings_device, local_dtype=state.settings_dtype)
    if is_operator():
        return typed
    # A visitor's form never changes where the server connects, whatever the browser sent.
    return replace(typed, **{name: getattr(load_settings(), name) for name in OPERATOR_FIELDS})


def _save(settings: Settings, *, replace_damaged: bool = False) -> None:
    _set_field_errors("settings", {})
    if not is_operator():
        try:
            set_preferences(validated(settings))
        except InvalidSettings as exc:
            _set_field_errors("settings", exc.fields)
            _flash("settings", "error", NOTHING_SAVED)
            return
        except HfdashError as exc:
            _flash("settings", "error", exc.user_message())
            return
        _flash("settings", "success", "Your defaults are set for this browser session.")
        return
    try:
        path = save_settings(settings, replace_damaged=replace_damaged)
    except InvalidSettings as exc:  # the form keeps what was typed; each field says what is wrong with it
        _set_field_errors("settings", exc.fields)
        _flash("settings", "error", NOTHING_SAVED)
        return
    except DamagedSettings as exc:
        st.session_state[REPLACE_DAMAGED] = settings
        _flash("settings", "warning", exc.user_message())
        return
    except HfdashError as exc:  # the form keeps what was typed
        _flash("settings", "error", exc.user_message())
        return
    _flash("settings", "success", f"Settings saved to {path}.")


def _save_form() -> None:
    _save(_form_settings())


def _confirm_replace() -> None:
    _save(st.session_state.pop(REPLACE_DAMAGED), replace_damaged=True)


def render_endpoints_section() -> None:
    st.header("Endpoints and defaults")
    operator = is_operator()
    current = user_settings()  # a damaged file: the banner atop the page says so, the form shows defaults
    with st.form("settings_form"):
        st.text_input("Hub endpoint", value=current.hub_endpoint or "", key="settings_endpoint",
                      placeholder=PUBLIC_HUB, disabled=not operator,
                      help="Empty: HF_ENDPOINT if set, else the public Hub. Your token is sent to this endpoint.")
        _field_error("settings", "hub_endpoint")
        st.selectbox("Catalog source", CATALOG_SOURCES, index=CATALOG_SOURCES.index(current.catalog_source),
                     format_func=CATALOG_SOURCE_LABELS.__getitem__, key="settings_source")
        _field_error("settings", "catalog_source")
        st.text_input("Snapshot file", value=current.snapshot_path or "", key="settings_snapshot",
                      placeholder=str(SHIPPED_SNAPSHOT), disabled=not operator,
                      help="Empty: the snapshot shipped with hfdash.")
        _field_error("settings", "snapshot_path")
        st.text_area("OpenAI-compatible base URLs for the Playground, one per line",
                     value="\n".join(current.base_urls), key="settings_base_urls",
                     placeholder="http://127.0.0.1:8000/v1", disabled=not operator,
                     help="A loopback server may be written without http:// (localhost:8000/v1).")
        _field_error("settings", "base_urls")
        st.selectbox("Default local device", LOCAL_DEVICES, index=LOCAL_DEVICES.index(current.local_device),
                     key="settings_device")
        _field_error("settings", "local_device")
        st.selectbox("Default local dtype", LOCAL_DTYPES, index=LOCAL_DTYPES.index(current.local_dtype),
                     key="settings_dtype")
        _field_error("settings", "local_dtype")
        st.form_submit_button("Save settings", on_click=_save_form)
    st.button("Reset to defaults", on_click=_reset_settings, key="settings_reset")
    _show_flash("settings")
    if REPLACE_DAMAGED in st.session_state:
        yes, no = st.columns(2)
        yes.button("Replace the damaged file", on_click=_confirm_replace, key="settings_replace_confirm",
                   type="primary")
        no.button("Keep it", on_click=lambda: st.session_state.pop(REPLACE_DAMAGED, None),
                  key="settings_replace_cancel")


# --- server API keys ----------------------------------------------------------------------------

def _key_server() -> str:
    chosen = st.session_state.get(KEY_SERVER, OTHER_SERVER)
    return chosen if chosen != OTHER_SERVER else st.session_state.get(KEY_URL, "")


def _use_server_key() -> None:
    raw = st.session_state.get(KEY_INPUT, "")
    st.session_state[KEY_INPUT] = ""
    where = st.session_state.get(KEY_WHERE, SESSION_ONLY) if is_operator() else SESSION_ONLY
    errors: dict[str, str] = {}
    try:
        url = http_url(_key_server(), "Server")
        if auth.token_goes_to(url, hub_endpoint=load_settings().endpoint):
            raise BadParameters(f"{url} is Hugging Face's own: it gets your Hugging Face token, never a server key.")
    except HfdashError as exc:
        errors["url"] = exc.user_message()
    try:
        key = auth.clean_server_key(raw)
    except HfdashError as exc:
        errors["key"] = exc.user_message()
    _set_field_errors("keys", errors)
    if errors:
        return
    try:
        saved_to = auth.save_server_key(url, key) if where == SAVED else None
    except HfdashError as exc:
        _flash("keys", "error", exc.user_message())
        return
    set_session_server_key(url, None if saved_to else key)
    place = f"saved to {saved_to} (readable by its owner only)" if saved_to else "kept for this browser session only"
    _flash("keys", "success", f"API key for {url} {place}.")


def _forget_server_key(url: str) -> None:
    set_session_server_key(url, None)
    try:
        if is_operator():
            auth.remove_server_key(url)
    except HfdashError as exc:
        _flash("keys", "error", exc.user_message())
        return
    _flash("keys", "success", f"The API key for {url} was forgotten.")


def render_server_keys_section() -> None:
    st.header("Server API keys")
    st.caption("For OpenAI-compatible servers outside Hugging Face (vLLM `--api-key`, LiteLLM, OpenRouter). "
               "A key goes to its own server only; your Hugging Face token never goes to such a server. "
               f"'Copy as code' reads it from the environment variable {SERVER_KEY_ENV}.")
    saved_urls = load_settings().base_urls
    servers = (*saved_urls, OTHER_SERVER) if not multi_user() else tuple(saved_urls)
    if not servers:
        st.info("The operator has not saved any servers.")
        return
    server = st.selectbox("Server", servers, key=KEY_SERVER)
    if server == OTHER_SERVER:
        st.text_input("Base URL", key=KEY_URL, placeholder="http://127.0.0.1:8000/v1")
    _field_error("keys", "url")
    st.text_input("API key", type="password", key=KEY_INPUT, help="Never shown again, never put in a link or export.")
    _field_error("keys", "key")
    if is_operator():
        st.radio("Where should it live?", list(KEY_WHERE_LABELS), format_func=KEY_WHERE_LABELS.get, key=KEY_WHERE)
        if multi_user():
            st.caption("A saved key is used by every user of this server who picks that server.")
    st.button("Use this key", on_click=_use_server_key, key="settings_key_use")
    _show_flash("keys")
    try:
        saved = auth.servers_with_saved_keys()
    except HfdashError as exc:
        st.error(exc.user_message())
        saved = []
    rows = [(url, "this session") for url in session_server_keys()] + [(url, "saved") for url in saved]
    for number, (url, where) in enumerate(rows):
        left, right = st.columns([4, 1])
        left.text(f"Key set for {url} ({where})")
        if where == "this session" or is_operator():
            right.button("Forget", on_click=_forget_server_key, args=(url,), key=f"settings_key_forget_{number}")


# --- cache manager ------------------------------------------------------------------------------

def _delete_pending() -> None:
    keys = st.session_state.pop(CACHE_PENDING, [])
    st.session_state.pop(CACHE_SELECTION, None)
    if not is_operator():  # the section is not drawn for a visitor; a forged click deletes nothing either
        return
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
    if not is_operator():
        st.info("The cache of this shared server is managed by its operator.")
        return
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
    loaded, embedded = loaded_model_ids(), embedded_copy()
    in_use = {m.key: ", ".join(label for label, yes in (("loaded in memory", m.model_id in loaded),
                                                       ("the embedded model", m.path == embedded)) if yes)
              for m in models}
    st.dataframe([{"Model": m.model_id, "Where": m.kind, "In use": in_use[m.key],
                   "Size on disk": human_bytes(m.size_on_disk),
                   "Last used": "now" if m.model_id in loaded else _when(m.last_used)} for m in models],
                 hide_index=True)
    st.caption(f"{len(models)} model(s), {human_bytes(sum(m.size_on_disk for m in models))} in all.")
    labels = {m.key: f"{m.model_id} ({m.kind}, {human_bytes(m.size_on_disk)})" for m in models}
    chosen = st.multiselect("Models to delete", list(labels), format_func=labels.__getitem__, key=CACHE_SELECTION)
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
    render_operator_section()
    render_endpoints_section()
    render_server_keys_section()
    render_cache_section()
