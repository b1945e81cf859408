"""The Browse page: filters bound to the URL (state), one search (query), the results and details (view, panel)."""

from __future__ import annotations

import streamlit as st

from hfdash.catalog.records import ModelQuery, SearchResult
from hfdash.config import Settings
from hfdash.errors import BadParameters, HfdashError
from hfdash.safetext import without_links
from hfdash.ui import catalog_cache
from hfdash.ui.browse import history, panel, query, state, view
from hfdash.ui.browse.state import BrowseState


def _known_lists(settings: Settings) -> tuple[list[str], list[str], list[str]]:
    """Tasks, providers and licences the filters offer (a licence not listed can still be typed)."""
    try:
        return (catalog_cache.known_tasks(settings), catalog_cache.known_providers(settings),
                catalog_cache.known_licenses(settings))
    except HfdashError as err:
        st.error(without_links(err.user_message()))
        return [], [], []


def run_search(browse: BrowseState, settings: Settings) -> SearchResult | None:
    """Search; which source answers (and any fallback notice) is the catalog's source policy. A failure is
    shown as a message; None when nothing answered."""
    try:
        return query.search(browse.query, browse.source, settings)
    except HfdashError as err:
        st.error(without_links(err.user_message()))
        return None


def _render_empty(browse: BrowseState, result: SearchResult, settings: Settings) -> None:
    def search_one(loosened: ModelQuery) -> SearchResult:
        return query.search(loosened, result.source, settings)

    try:
        hints = query.loosen_suggestions(browse.query, search_one)
    except HfdashError as err:
        st.warning(without_links(f"No models match these filters ({err.user_message()})"))
        return
    if hints:
        st.warning("No models match these filters. Loosen " + " or ".join(f"**{h}**" for h in hints)
                   + " to get results.")
    elif browse.query == state.DEFAULT_QUERY:
        st.warning("This source has no models.")
    else:
        st.warning("No models match these filters, and loosening any single one is not enough: "
                   "clear several filters.")


def render() -> None:
    settings = catalog_cache.current_settings()
    tasks, providers, licenses = _known_lists(settings)
    options = state.choices(tasks, providers)
    state.note_link_values(options)
    history.keep_one_entry_per_view()
    view.render_filters(options, licenses, settings.catalog_source)
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
