"""Cached calls into the catalog service, for the pages.

`st.cache_data` is shared by every browser session, so only token-less calls go through it. A call
made with a session's token is cached in that session's own state, never globally.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict

import streamlit as st

from hfdash import catalog
from hfdash.catalog.details import ModelDetails
from hfdash.catalog.records import ModelQuery, ModelRecord, SearchResult
from hfdash.config import Settings
from hfdash.ui.session import call_token, user_settings

# Hub answers go stale (downloads, new models); the snapshot only changes with its file.
HUB_TTL_S = 120
SESSION_CACHE_KEY = "_catalog_cache"
SESSION_CACHE_SIZE = 64


def settings_key(settings: Settings) -> str:
    """A hashable stand-in for Settings (a dataclass with a list) that changes when the snapshot file does."""
    try:
        mtime = settings.snapshot.stat().st_mtime_ns
    except OSError:
        mtime = None
    return json.dumps([asdict(settings), mtime], sort_keys=True)


def _settings(key: str) -> Settings:
    return Settings(**json.loads(key)[0])


@st.cache_data(show_spinner=False, max_entries=512)
def _snapshot_search(query: ModelQuery, key: str, today: dt.date) -> SearchResult:
    return catalog.search(query, source="snapshot", token=None, settings=_settings(key), today=today)


@st.cache_data(show_spinner=False, max_entries=256, ttl=HUB_TTL_S)
def _anonymous_search(query: ModelQuery, source: str, key: str, today: dt.date) -> SearchResult:
    return catalog.search(query, source=source, token=None, settings=_settings(key), today=today)


@st.cache_data(show_spinner=False, max_entries=512)
def _snapshot_model(model_id: str, key: str) -> ModelRecord:
    return catalog.get_model(model_id, source="snapshot", token=None, settings=_settings(key))


@st.cache_data(show_spinner=False, max_entries=256, ttl=HUB_TTL_S)
def _anonymous_model(model_id: str, source: str, key: str) -> ModelRecord:
    return catalog.get_model(model_id, source=source, token=None, settings=_settings(key))


@st.cache_data(show_spinner=False, max_entries=256, ttl=HUB_TTL_S)
def _anonymous_details(model_id: str, source: str, key: str) -> ModelDetails:
    return catalog.model_details(model_id, source=source, token=None, settings=_settings(key))


def _per_session(cache_key: tuple, compute: Callable[[], object]):
    """Memoise in this browser session only (calls that carry the session's token)."""
    cache: dict = st.session_state.setdefault(SESSION_CACHE_KEY, {})
    if cache_key not in cache:
        if len(cache) >= SESSION_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[cache_key] = compute()
    return cache[cache_key]


def current_settings() -> Settings:
    return user_settings()


def search(query: ModelQuery, source: str, settings: Settings | None = None,
           today: dt.date | None = None) -> SearchResult:
    """`catalog.search` for this session: raises the service's HfdashError family unchanged."""
    settings = settings or current_settings()
    today = today or dt.date.today()
    key = settings_key(settings)
    if source == "snapshot":
        return _snapshot_search(query, key, today)
    token = call_token()
    if token is None:
        return _anonymous_search(query, source, key, today)
    return _per_session(("search", query, source, key, today),
                        lambda: catalog.search(query, source=source, token=token, settings=settings, today=today))


def get_model(model_id: str, source: str, settings: Settings | None = None) -> ModelRecord:
    settings = settings or current_settings()
    key = settings_key(settings)
    if source == "snapshot":
        return _snapshot_model(model_id, key)
    token = call_token()
    if token is None:
        return _anonymous_model(model_id, source, key)
    return _per_session(("model", model_id, source, key),
                        lambda: catalog.get_model(model_id, source=source, token=token, settings=settings))


def model_details(model_id: str, source: str, settings: Settings | None = None) -> ModelDetails:
    """`catalog.model_details` for this session; the card text in it is untrusted (render it with
    hfdash.safetext.without_links)."""
    settings = settings or current_settings()
    key = settings_key(settings)
    token = call_token()
    if token is None:
        return _anonymous_details(model_id, source, key)
    return _per_session(("details", model_id, source, key),
                        lambda: catalog.model_details(model_id, source=source, token=token, settings=settings))


@st.cache_data(show_spinner=False, max_entries=8)
def _snapshot_info(key: str):
    return catalog.snapshot_info(settings=_settings(key))


@st.cache_data(show_spinner=False, max_entries=8)
def _known_tasks(key: str) -> list[str]:
    return catalog.known_tasks(settings=_settings(key))


@st.cache_data(show_spinner=False, max_entries=8)
def _known_licenses(key: str) -> list[str]:
    return catalog.known_licenses(settings=_settings(key))


@st.cache_data(show_spinner=False, max_entries=8)
def _known_providers(key: str) -> list[str]:
    return catalog.known_providers(settings=_settings(key))


def snapshot_info(settings: Settings | None = None):
    return _snapshot_info(settings_key(settings or current_settings()))


def known_tasks(settings: Settings | None = None) -> list[str]:
    return _known_tasks(settings_key(settings or current_settings()))


def known_providers(settings: Settings | None = None) -> list[str]:
    return _known_providers(settings_key(settings or current_settings()))


def known_licenses(settings: Settings | None = None) -> list[str]:
    return _known_licenses(settings_key(settings or current_settings()))
