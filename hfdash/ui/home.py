"""The home page: what the dashboard does, which catalog source is live, the snapshot, links."""

from __future__ import annotations

import streamlit as st

from hfdash import vocab
from hfdash.catalog.records import ModelQuery
from hfdash.errors import HfdashError
from hfdash.safetext import without_links
from hfdash.ui import catalog_cache, shortlist
from hfdash.units import human_bytes


def _render_sources() -> None:
    settings = catalog_cache.current_settings()
    try:
        info = catalog_cache.snapshot_info(settings)
    except HfdashError as err:
        st.error(without_links(err.user_message()))
        info = None
    if info is not None:
        try:
            size = human_bytes(info.path.stat().st_size)
        except OSError:
            size = "size unknown"
        date = info.date.isoformat() if info.date else "unknown date"
        st.markdown(f"**Offline snapshot:** {info.rows:,} models, newest from {date}, {size} "
                    f"(`{info.path.name}`)")
    try:
        live = catalog_cache.search(ModelQuery(limit=1), settings.catalog_source, settings)
    except HfdashError as err:
        st.warning(f"**Catalog source ({settings.catalog_source}):** not answering: "
                   f"{without_links(err.user_message())}")
        return
    answered = {"hub": f"the live Hub ({settings.endpoint})", "snapshot": "the offline snapshot"}
    st.markdown(f"**Live source:** searches are answered by {answered.get(live.source, live.source)} "
                f"(setting: {settings.catalog_source}).")
    for notice in live.notices:
        st.info(without_links(notice))


def render() -> None:
    st.title("hfdash")
    st.markdown("Shop for open models on the Hugging Face Hub and try them: search with filters, live or "
                "offline, see whether a model fits your hardware, and chat with candidates side by side.")
    _render_sources()
    st.divider()
    for page in vocab.FEATURE_PAGES:
        shortlist.page_link(page.script, page.title, icon=page.icon)
        st.caption(page.summary)
