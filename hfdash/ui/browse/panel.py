"""Browse's detail panel for the selected model: facts, hosted offers, card, relations, variants."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hfdash.catalog.records import SearchResult
from hfdash.config import Settings
from hfdash.errors import HfdashError
from hfdash.safetext import without_links
from hfdash.ui import catalog_cache, model_facts, shortlist
from hfdash.ui.browse import state
from hfdash.ui.browse.details import ModelDetails, description, model_details
from hfdash.units import human_bytes
from hfdash.vocab import model_url

CLOSE_KEY = "browse_close"
SHORTLIST_KEY = "browse_shortlist_toggle"
MAX_CARD_CHARS = 30_000  # a card is read here for a first look; the Hub has the rest


def _close() -> None:
    state.select_model(None)


def render(model_id: str, result: SearchResult, settings: Settings) -> None:
    listed = next((r for r in result.records if r.id == model_id), None)
    try:
        record = catalog_cache.get_model(model_id, result.source, settings)
    except HfdashError as err:
        if listed is None:
            st.warning(without_links(f"{model_id}: {err.user_message()}"))
            st.button("Close", key=CLOSE_KEY, on_click=_close)
            return
        record = listed
        st.caption(without_links(f"Details from the search results only: {err.user_message()}"))
    with st.container(border=True):
        head, close = st.columns([8, 1], vertical_alignment="center")
        head.subheader(without_links(record.id))
        close.button("Close", key=CLOSE_KEY, on_click=_close, icon=":material/close:")
        hub_link, fit, play, keep = st.columns(4, vertical_alignment="center")
        hub_link.markdown(f"[Open on the Hub]({model_url(record.id, settings.endpoint)})")
        with fit:
            shortlist.page_link(shortlist.HARDWARE_FIT_PAGE, "Check hardware fit", models=[record.id],
                                icon=":material/memory:")
        with play:
            shortlist.page_link(shortlist.PLAYGROUND_PAGE, "Try in playground", models=[record.id],
                                icon=":material/chat:")
        with keep:
            shortlist.toggle_button(record.id, key=SHORTLIST_KEY)
        details = model_details(record.id, result.source, settings)
        summary = description(details.card)
        if summary:
            st.markdown(without_links(summary))
        overview, config, offers = st.columns([1, 1, 2])
        with overview:
            st.markdown("**Overview**")
            _facts_table(model_facts.overview_facts(record))
        with config:
            st.markdown("**Config**")
            facts = model_facts.config_facts(record.config, known_only=True)
            if facts:
                _facts_table(facts)
            else:
                st.caption("No config facts known for this model.")
        with offers:
            st.markdown("**Hosted providers and prices** (USD per 1M tokens)")
            if record.offers:
                st.dataframe(model_facts.offers_frame(record), hide_index=True, width="stretch")
            elif record.providers is None:
                st.caption("Hosted availability is unknown to this source.")
            else:
                st.caption("No hosted provider known for this model.")
        _relations(details)


def _facts_table(facts: dict[str, str]) -> None:
    st.dataframe(pd.DataFrame(list(facts.items()), columns=["Fact", "Value"]), hide_index=True, width="stretch")


def _words(values: tuple[str, ...]) -> str:
    return without_links(", ".join(f"`{v}`" for v in values)) if values else "none listed"


def _relations(details: ModelDetails) -> None:
    if details.missing:
        st.info(without_links(details.missing))
        return
    st.markdown(f"**Base model:** {_words(details.base_models)}  \n**Languages:** {_words(details.languages)}"
                f"  \n**Tags:** {_words(details.tags)}")
    st.markdown(f"**Quantized variants** ({len(details.variants)})")
    if not details.variants:
        st.caption("The Hub lists no quantized variant of this model.")
    for variant in details.variants:
        name, size, fit = st.columns([4, 1, 2], vertical_alignment="center")
        name.markdown(without_links(f"`{variant.id}`"))
        size.markdown(human_bytes(variant.storage_bytes) if variant.storage_bytes is not None else "size unknown",
                      help="Everything the repo stores (all its files).")
        with fit:
            shortlist.page_link(shortlist.HARDWARE_FIT_PAGE, "Hardware fit", models=[variant.id],
                                icon=":material/memory:")
    if details.card:
        with st.expander("Model card"):
            card = details.card
            if len(card) > MAX_CARD_CHARS:
                card = card[:MAX_CARD_CHARS] + "\n\n… (the rest is on the Hub)"
            st.markdown(without_links(card))
