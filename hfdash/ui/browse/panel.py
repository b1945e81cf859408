"""Browse's detail panel for the selected model: facts, hosted offers, card, relations, quantized variants."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from hfdash.catalog.details import ModelDetails
from hfdash.catalog.records import ModelRecord, SearchResult, format_value
from hfdash.config import Settings
from hfdash.errors import HfdashError
from hfdash.safetext import without_links
from hfdash.ui import catalog_cache, model_facts, shortlist
from hfdash.ui.browse import state
from hfdash.units import human_bytes, human_count
from hfdash.vocab import model_url

CLOSE_KEY = "browse_close"
SHORTLIST_KEY = "browse_shortlist_toggle"
MAX_CARD_CHARS = 30_000  # a card is read here for a first look; the Hub has the rest


def _close() -> None:
    state.select_model(None)


def render(model_id: str, result: SearchResult, settings: Settings) -> None:
    """The details come from the source that answered the search, so the panel agrees with the results."""
    details: ModelDetails | None = None
    try:
        details = catalog_cache.model_details(model_id, result.source, settings)
        record = details.record
    except HfdashError as err:
        listed = next((r for r in result.records if r.id == model_id), None)
        if listed is None:
            st.warning(without_links(f"{model_id}: {err.user_message()}"))
            st.button("Close", key=CLOSE_KEY, on_click=_close)
            return
        record = listed
        st.caption(without_links(f"Details from the search results only: {err.user_message()}"))
    with st.container(border=True):
        _header(record, settings)
        if details is not None:
            summary = description(details.card_text)
            if summary:
                st.markdown(without_links(summary))
        _facts(record)
        if details is not None:
            _relations(details)


def _header(record: ModelRecord, settings: Settings) -> None:
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


def _facts(record: ModelRecord) -> None:
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


def description(card: str | None) -> str | None:
    """The card's first paragraph of prose (not a heading, badge line, table or code)."""
    for block in re.split(r"\n\s*\n", card or ""):
        text = block.strip()
        if text and not text.startswith(("#", "<", "|", "```", "!", "[!", "---")):
            return text
    return None


def _facts_table(facts: dict[str, str]) -> None:
    st.dataframe(pd.DataFrame(list(facts.items()), columns=["Fact", "Value"]), hide_index=True, width="stretch")


def _words(values: tuple[str, ...] | None) -> str:
    if values is None:
        return "unknown to this source"
    return without_links(", ".join(f"`{v}`" for v in values)) if values else "none listed"


def _relations(details: ModelDetails) -> None:
    for notice in details.notices:
        st.info(without_links(notice))
    st.markdown(f"**Base model:** {_words(details.base_models)}  \n**Languages:** {_words(details.languages)}"
                f"  \n**Tags:** {_words(details.tags)}")
    _variants(details)
    if details.card_text is None:
        st.info(without_links(details.card_note or "No model card."))
        return
    with st.expander("Model card"):
        if details.card_note:
            st.caption(without_links(details.card_note))
        card = details.card_text
        if len(card) > MAX_CARD_CHARS:
            card = card[:MAX_CARD_CHARS] + "\n\n… (the rest is on the Hub)"
        st.markdown(without_links(card))


def _variants(details: ModelDetails) -> None:
    if details.quantized is None:
        st.markdown("**Quantized variants:** unknown to this source")
        return
    st.markdown(f"**Quantized variants** ({len(details.quantized)})")
    if not details.quantized:
        st.caption("This source knows no quantized variant of this model.")
    for variant in details.quantized:
        name, kind, size, fit = st.columns([4, 1, 1, 2], vertical_alignment="center")
        name.markdown(without_links(f"`{variant.id}`"))
        kind.markdown(without_links(format_value(variant.formats, "list")) +
                      (f" · {human_count(variant.params)}" if variant.params else ""))
        size.markdown(human_bytes(variant.storage_bytes) if variant.storage_bytes is not None else "size unknown",
                      help="Everything the repo stores (all its files).")
        with fit:
            shortlist.page_link(shortlist.HARDWARE_FIT_PAGE, "Hardware fit", models=[variant.id],
                                icon=":material/memory:")
