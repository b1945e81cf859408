"""The Browse page: filters bound to the URL (state), one search (query), the results and details (view, panel)."""

from __future__ import annotations

import streamlit as st

from hfdash.catalog.records import ModelQuery, SearchResult
from hfdash.config import Settings
from hfdash.errors import BadParameters, HfdashError, SnapshotError
from hfdash.safetext import without_links
from hfdash.ui import catalog_cache
from hfdash.ui.browse import history, panel, query, state, view
from hfdash.ui.browse.state import BrowseState


@st.cache_data(show_spinner=False, max_entries=8)
def _known_licenses(key: str) -> list[str]:
    """The licences the snapshot lists: the licence filter's suggestions (any other id can be typed)."""
    from hfdash.catalog import snapshot

    try:
        return snapshot.load(catalog_cache._settings(key).snapshot).values("license")
    except SnapshotError:
        return []


def _known_lists(settings: Settings) -> tuple[list[str], list[str]]:
    try:
        return catalog_cache.known_tasks(settings), catalog_cache.known_providers(settings)
    except HfdashError as err:
        st.error(without_links(err.user_message()))
        return [], []


def run_search(browse: BrowseState, settings: Settings) -> SearchResult | None:
    """Search; which source answers (and any fallback notice) is the catalog's source policy. A failure is
    shown as a message; None when nothing answered."""
    try:
        return query.search(browse.query, browse.licenses, browse.source, settings)
    except HfdashError as err:
        st.error(without_links(err.user_message()))
        return None


def _render_empty(browse: BrowseState, result: SearchResult, settings: Settings) -> None:
    def search_one(loosened: ModelQuery, licenses: tuple[str, ...]) -> SearchResult:
        return query.search(loosened, licenses, result.source, settings)

    try:
        hints = query.loosen_suggestions(browse.query, browse.licenses, search_one)
    except HfdashError as err:
        st.warning(without_links(f"No models match these filters ({err.user_message()})"))
        return
    if hints:
        st.warning("No models match these filters. Loosen " + " or ".join(f"**{h}**" for h in hints)
                   + " to get results.")
    elif browse.query == state.DEFAULT_QUERY and not browse.licenses:
        st.warning("This source has no models.")
    else:
        st.warning("No models match these filters, and loosening any single one is not enough: "
                   "clear several filters.")


def render() -> None:
    settings = catalog_cache.current_settings()
    tasks, providers = _known_lists(settings)
    options = state.choices(tasks, providers)
    state.note_link_values(options)
    history.keep_one_entry_per_view()
    view.render_filters(options, _known_licenses(catalog_cache.settings_key(settings)), settings.catalog_source)
    browse = state.current(settings.catalog_source)
    try:
        browse.query.validate()
    except BadParameters as err:
        st.error(without_links(err.user_message()))
        return
    result = run_search(browse, settings)
    if result is None:
        return
    view.render_status(result)
    if not result.records:
        _render_empty(browse, result, settings)
        return
    if view.render_view_choice() == "table":
        view.render_table(result.records, settings.endpoint)
    else:
        view.render_chart(result.records, browse.query.sort)
    if browse.model:
        panel.render(browse.model, result, settings)
