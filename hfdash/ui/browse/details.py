"""A model's details beyond its record: model card, tags, languages, base model, quantized variants.

Live only: the card (README.md) and the Hub's model relations come through huggingface_hub, each call
with the Hub timeout. The offline snapshot holds none of them, and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from hfdash.auth import hub_token_arg
from hfdash.catalog import hub
from hfdash.config import Settings
from hfdash.errors import HfdashError
from hfdash.hubcall import hub_call, timeout_s
from hfdash.ui import catalog_cache
from hfdash.ui.session import call_token

MAX_VARIANTS = 20
CARD_NEEDS_HUB = "The model card needs the Hub: the offline snapshot holds no cards."
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.DOTALL)
# Tags the page shows elsewhere (licence, base model, language) or that say nothing to a user.
_TAG_PREFIXES = ("license:", "base_model:", "region:", "endpoints_compatible", "autotrain_compatible", "dataset:")


@dataclass(frozen=True)
class Variant:
    id: str
    storage_bytes: int | None  # the repo's stored size (every file), where the Hub says


@dataclass(frozen=True)
class ModelDetails:
    card: str | None  # the README's markdown without its metadata header; untrusted
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    base_models: tuple[str, ...] = ()
    variants: tuple[Variant, ...] = ()
    # Why card and relations are missing, when they are.
    missing: str | None = None


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def card_body(readme: str) -> str:
    """A README without its YAML metadata header."""
    return _FRONT_MATTER.sub("", readme, count=1).strip()


def description(card: str | None) -> str | None:
    """The card's first paragraph of prose (not a heading, badge line, table or code)."""
    for block in re.split(r"\n\s*\n", card or ""):
        text = block.strip()
        if text and not text.startswith(("#", "<", "|", "```", "!", "[!", "---")):
            return text
    return None


def fetch_details(model_id: str, settings: Settings, token: str | None) -> ModelDetails:
    """From the live Hub; raises the HfdashError family (Unavailable when offline)."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    api = hub.client(settings, token)
    info = hub_call(lambda: api.model_info(model_id, expand=["cardData", "tags"], timeout=timeout_s()),
                        what="Reading the model's details", repo_id=model_id)

    def readme() -> str | None:
        try:
            path = hf_hub_download(model_id, "README.md", endpoint=settings.endpoint, token=hub_token_arg(token),
                                   etag_timeout=timeout_s())
        except EntryNotFoundError:
            return None
        return Path(path).read_text(encoding="utf-8", errors="replace")

    text = hub_call(readme, what="Reading the model card", repo_id=model_id)
    variants = hub_call(
        lambda: [Variant(v.id, v.used_storage) for v in api.list_models(
            filter=f"base_model:quantized:{model_id}", sort="downloads", limit=MAX_VARIANTS,
            expand=["usedStorage"])],
        what="Listing quantized variants", repo_id=model_id)
    card_data = info.card_data
    return ModelDetails(
        card=card_body(text) if text else None,
        tags=tuple(t for t in info.tags or () if not t.startswith(_TAG_PREFIXES)),
        languages=_as_tuple(getattr(card_data, "language", None)),
        base_models=_as_tuple(getattr(card_data, "base_model", None)),
        variants=tuple(variants))


@st.cache_data(show_spinner=False, max_entries=128, ttl=catalog_cache.HUB_TTL_S)
def _anonymous_details(model_id: str, key: str) -> ModelDetails:
    return fetch_details(model_id, catalog_cache._settings(key), None)


def model_details(model_id: str, source: str, settings: Settings) -> ModelDetails:
    """Cached like searches: token-less calls for everyone, a session's token in its own cache only."""
    if source == "snapshot":
        return ModelDetails(card=None, missing=CARD_NEEDS_HUB)
    try:
        token = call_token()
        if token is None:
            return _anonymous_details(model_id, catalog_cache.settings_key(settings))
        return catalog_cache._per_session(("details", model_id, catalog_cache.settings_key(settings)),
                                          lambda: fetch_details(model_id, settings, token))
    except HfdashError as err:
        return ModelDetails(card=None, missing=f"The model card and relations need the Hub: {err.user_message()}")
