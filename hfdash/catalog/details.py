"""A model's details beyond its record: the model card's text, tags, languages, base models and quantized
variants, from the source `sources.answer` picks.

Live: one `model_info` (its card data and tags), the card's README.md through `hf_hub_download` (cached in
the Hugging Face cache, so a second look reads no bytes), and the Hub's relation listing
`list_models(filter="base_model:quantized:<id>")`, each within the Hub timeout. Offline: the snapshot's
record, its languages and the GGUF copies its source lists; the card needs the Hub.

The card's text is returned raw (markdown and HTML as the repo's author wrote them): whoever shows it
treats it as untrusted (hfdash.safetext).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from hfdash.auth import hub_token_arg
from hfdash.catalog import hub, snapshot
from hfdash.catalog.records import ModelRecord
from hfdash.catalog.sources import answer
from hfdash.config import Settings, load_settings
from hfdash.errors import Gated, HfdashError, NotFound
from hfdash.hubcall import hub_call, timeout_s

# The most quantized variants listed (most downloaded first); the Hub has hundreds for popular models.
MAX_VARIANTS = 20
# A card longer than this is cut (and says so): some READMEs embed megabytes of tables or base64 images.
MAX_CARD_CHARS = 200_000
VARIANT_EXPAND = ["downloads", "likes", "gguf", "usedStorage", "tags", "library_name"]
CARD_NEEDS_HUB = "The model card needs the Hub: the offline snapshot holds no card texts."
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*(?:\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class QuantizedVariant:
    """A repo holding a quantization of the model. None = unknown to the source."""

    id: str
    formats: tuple[str, ...] | None = None  # "gguf", "mlx", ... from its tags
    params: int | None = None
    storage_bytes: int | None = None  # all of the repo's files (the Hub's usedStorage), several quants
    downloads: int | None = None


@dataclass(frozen=True)
class ModelDetails:
    record: ModelRecord
    source: str  # "hub" or "snapshot"
    card_text: str | None  # README.md without its metadata header, raw: untrusted markdown/HTML
    card_note: str | None  # why there is no card text, or that it was cut
    tags: tuple[str, ...] | None
    languages: tuple[str, ...] | None
    base_models: tuple[str, ...] | None  # what this model is derived from; () = none
    quantized: tuple[QuantizedVariant, ...] | None
    notices: tuple[str, ...] = ()


def model_details(model_id: str, *, source: str = "auto", token: str | None = None,
                  settings: Settings | None = None) -> ModelDetails:
    """Raises NotFound, Gated, Unavailable, ... (HfdashError) with a user-facing message."""
    settings = settings or load_settings()
    found = answer(source, endpoint=settings.endpoint,
                   live=lambda: _live(model_id, token=token, settings=settings),
                   offline=lambda: _offline(model_id, settings))
    if found.notice:
        return _with_notice(found.value, found.notice)
    return found.value


def _with_notice(details: ModelDetails, notice: str) -> ModelDetails:
    return replace(details, notices=(notice, *details.notices))


def _offline(model_id: str, settings: Settings) -> ModelDetails:
    from hfdash.catalog.service import snapshot_record

    record = snapshot_record(model_id, settings)
    loaded = snapshot.load(settings.snapshot)
    copies = record.gguf_copies
    quantized = None if copies is None else tuple(
        QuantizedVariant(id=copy, formats=("gguf",), params=(known.params if (known := loaded.get(copy)) else None))
        for copy in copies)
    # Base models stay unknown: the source joins copies to models by name, so it can't say which is the base.
    return ModelDetails(record=record, source="snapshot", card_text=None, card_note=CARD_NEEDS_HUB, tags=None,
                        languages=record.languages, base_models=None, quantized=quantized)


def _live(model_id: str, *, token: str | None, settings: Settings) -> ModelDetails:
    api = hub.client(settings, token)
    info = hub_call(lambda: api.model_info(model_id, expand=hub.MODEL_EXPAND, timeout=timeout_s(),
                                               token=hub_token_arg(token)),
                        what=f"Reading {model_id} from the Hub", repo_id=model_id)
    record = hub.record_from_model_info(info)
    card = getattr(info, "card_data", None)
    notices: list[str] = []
    card_text, card_note = _card(api, info.id, token)
    try:
        quantized: tuple[QuantizedVariant, ...] | None = _variants(api, info.id, token)
    except HfdashError as err:
        quantized = None
        notices.append(f"Quantized variants unavailable: {err.user_message()}")
    return ModelDetails(record=record, source="hub", card_text=card_text, card_note=card_note,
                        tags=tuple(info.tags or ()), languages=record.languages,
                        base_models=_base_models(card, info.tags or ()), quantized=quantized, notices=tuple(notices))


def _card(api, repo_id: str, token: str | None) -> tuple[str | None, str | None]:
    """(text, note): the README's text, or why there is none. A repo without a card is not an error."""
    try:
        path = hub_call(lambda: api.hf_hub_download(repo_id, "README.md", etag_timeout=timeout_s(),
                                                        token=hub_token_arg(token)),
                            what=f"Reading {repo_id}'s model card", repo_id=repo_id)
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = _FRONT_MATTER.sub("", handle.read(MAX_CARD_CHARS + 1), count=1)
    except NotFound:
        return None, "This repo has no model card (README.md)."
    except Gated as err:
        return None, f"The model card is gated: {err.user_message()}"
    except HfdashError as err:
        return None, f"The model card could not be read: {err.user_message()}"
    if len(text) > MAX_CARD_CHARS:
        return text[:MAX_CARD_CHARS], f"The model card is longer than {MAX_CARD_CHARS:,} characters: cut there."
    return text, None


def _variants(api, repo_id: str, token: str | None) -> tuple[QuantizedVariant, ...]:
    """The Hub's `base_model:quantized:<id>` relation (the tag a quantized repo's card declares)."""
    infos = hub_call(lambda: list(api.list_models(filter=f"base_model:quantized:{repo_id}", sort="downloads",
                                                      limit=MAX_VARIANTS, expand=VARIANT_EXPAND,
                                                      token=hub_token_arg(token))),
                         what=f"Listing quantized variants of {repo_id}")
    return tuple(QuantizedVariant(id=info.id, formats=_formats(info.tags), params=(getattr(info, "gguf", None) or {})
                                  .get("total"), storage_bytes=info.used_storage, downloads=info.downloads)
                 for info in infos)


def _formats(tags) -> tuple[str, ...] | None:
    if tags is None:
        return None
    return tuple(f for f in ("gguf", "mlx", "gptq", "awq", "exl2", "bitsandbytes", "onnx") if f in tags)


def _base_models(card, tags) -> tuple[str, ...]:
    """The card's `base_model`, else the Hub's `base_model:[relation:]<id>` tags; () = none declared."""
    declared = hub.strings(getattr(card, "base_model", None))
    if declared:
        return declared
    return tuple(dict.fromkeys(tag.rsplit(":", 1)[-1] for tag in tags if tag.startswith("base_model:")))
