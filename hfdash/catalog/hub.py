"""The live catalog: the Hub's `/api/models` through `huggingface_hub.HfApi`.

The Hub filters what it can and sorts; its answers are kept as it returns them, with its meanings:
`search` is a case-insensitive substring of the repo id, `filter=<library>` matches the repo's *tags*
(a sentence-transformers model tagged `transformers` is a transformers match), `num_parameters`
counts safetensors or GGUF parameters, `inference_provider` means a live provider mapping. The rest
(likes, downloads, created/updated dates) is filtered here on the lazy iterator, which stops at
`limit` matches, at the first model below a bound on the sorted field, or after `SCAN_CAP` models; a
page that ends short says why. `huggingface_hub` retries 429/5xx with long back-offs and has no
timeout on listings, so one quick first request finds out whether the Hub answers at all.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from hfdash.auth import hub_token_arg
from hfdash.catalog import filters
from hfdash.catalog.records import (ANY_PROVIDER, SORT_FIELD, ModelConfig, ModelQuery, ModelRecord, ProviderOffer,
                                    SearchResult, Sort)
from hfdash.config import Settings
from hfdash.errors import Unavailable, from_exception
from hfdash.hubcall import hub_call, offline, timeout_s

# How many models the live source reads at most to fill a page when it filters client-side.
SCAN_CAP = 5000
# Below this share of the Hub's request quota left (its RateLimit header), a search says so.
LOW_RATE_SHARE = 0.1
LIST_EXPAND = ["downloads", "likes", "createdAt", "lastModified", "trendingScore", "safetensors", "gguf",
               "pipeline_tag", "library_name", "inferenceProviderMapping", "gated", "tags"]
MODEL_EXPAND = LIST_EXPAND + ["config", "cardData"]
HUB_SORT = {Sort.TRENDING: "trending_score", Sort.LIKES: "likes", Sort.DOWNLOADS: "downloads",
            Sort.CREATED: "created_at", Sort.UPDATED: "last_modified"}
# Fields the Hub always filters server-side; text and licences only in the forms it understands
# (`_server_side`); the others are filtered here.
SERVER_SIDE = {"task", "library", "params", "providers", "gated"}


def client(settings: Settings, token: str | None):
    """An HfApi for this endpoint and token; Unavailable in offline mode."""
    from huggingface_hub import HfApi

    if offline():
        raise Unavailable("HF_HUB_OFFLINE is set, so the Hub is not contacted.")
    return HfApi(endpoint=settings.endpoint, token=hub_token_arg(token))


def search(query: ModelQuery, *, settings: Settings, token: str | None, today: dt.date) -> SearchResult:
    conditions = filters.conditions(query, today)
    api = client(settings, token)
    what = f"Searching the Hub at {settings.endpoint}"
    low_rate = _probe(api, token, what)
    server_side = _server_side(query)
    client_side = [c for c in conditions if c.field not in server_side]
    kwargs = _server_params(query)
    kwargs["limit"] = SCAN_CAP if client_side else query.limit
    # Sorted descending by the very field a lower bound is on: the first model below it ends the scan.
    floor = next((c for c in client_side if c.field == SORT_FIELD[query.sort] and c.op == "ge"), None)
    scan = _Scan(api, kwargs, client_side, query.limit, token, floor)
    hub_call(scan.collect, what=what)
    records = sorted(scan.matched, key=filters.sort_key(query.sort))
    notices = [low_rate] if low_rate else []
    if query.library:
        notices.append(f"The Hub matches the library as a tag: models tagged '{query.library}' are included even "
                       "when their main library (the Library column) is another.")
    if client_side and len(records) < query.limit:
        labels = ", ".join(filters.FIELD_LABELS[c.field] for c in client_side)
        if scan.scanned >= SCAN_CAP:
            notices.append(f"The Hub cannot filter by {labels}; hfdash checked the first {SCAN_CAP:,} models it "
                           f"returned and found {len(records)}. Narrow the search to see more.")
        elif not scan.stopped_at_floor:
            notices.append(f"Of the models the Hub returned for the other filters ({scan.scanned:,}), "
                           f"{len(records)} also match {labels}.")
    return SearchResult(records=records, source="hub", excluded_unknown=scan.excluded, notices=notices)


def get_model(model_id: str, *, settings: Settings, token: str | None) -> ModelRecord:
    api = client(settings, token)
    info = hub_call(lambda: api.model_info(model_id, expand=MODEL_EXPAND, timeout=timeout_s(),
                                           token=hub_token_arg(token)),
                    what=f"Reading {model_id} from the Hub", repo_id=model_id)
    return record_from_model_info(info)


def record_from_model_info(info) -> ModelRecord:
    """A `huggingface_hub.ModelInfo` -> ModelRecord (only what the Hub said; the rest stays None)."""
    mapping = info.inference_provider_mapping
    live = [m for m in mapping or () if getattr(m, "status", "live") == "live"]
    safetensors = info.safetensors
    gguf = getattr(info, "gguf", None) or {}
    return ModelRecord(
        id=info.id,
        task=info.pipeline_tag,
        library=info.library_name,
        params=safetensors.total if safetensors else gguf.get("total"),
        likes=info.likes,
        downloads=info.downloads,
        created_at=info.created_at.date() if info.created_at else None,
        last_modified=info.last_modified.date() if info.last_modified else None,
        trending=float(info.trending_score) if info.trending_score is not None else None,
        gated=None if info.gated is None else info.gated is not False,
        license=_license(info),
        providers=None if mapping is None else tuple(sorted({m.provider for m in live})),
        offers=tuple(ProviderOffer(provider=m.provider, provider_model_id=m.provider_id, source="hub")
                     for m in sorted(live, key=lambda m: m.provider)),
        dtype_params=dict(safetensors.parameters) if safetensors else None,
        languages=strings(getattr(getattr(info, "card_data", None), "language", None)),
        config=_config(info.config, gguf),
    )


def strings(value) -> tuple[str, ...] | None:
    """A card field that is one string or a list of them, as a tuple (None: not stated)."""
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def _license(info) -> str | None:
    card = getattr(info, "card_data", None)
    if card is not None and getattr(card, "license", None):
        return card.license
    for tag in info.tags or ():
        if tag.startswith("license:"):
            return tag.split(":", 1)[1]
    return None


def _config(config: dict | None, gguf: dict) -> ModelConfig:
    """The Hub's trimmed config (its kind), with the architecture and context a GGUF repo's metadata state."""
    from hfdash.catalog.modelconfig import config_from_json

    found = config_from_json(config) if config else ModelConfig()
    return replace(found, architecture=found.architecture or gguf.get("architecture"),
                   context_length=found.context_length or gguf.get("context_length"))


def _server_side(query: ModelQuery) -> set[str]:
    """The fields the Hub filters for this query: the text when it is one word (the Hub's `search` is a
    plain substring of the id, so "Llama 3.1" would match nothing), one licence (`filter` tags are ANDed,
    so several licences can't be one request)."""
    fields = set(SERVER_SIDE)
    if query.text and _search_word(query.text) == query.text:
        fields.add("id")
    if query.licenses and len(query.licenses) == 1:
        fields.add("license")
    return fields


def _search_word(text: str) -> str:
    """What the Hub's substring `search` is sent: the text's longest word, as separators (space, dash, dot,
    underscore) vary between repos for the same name; the whole folded text is then checked here."""
    return max(re.split(f"[{re.escape(filters.SEPARATORS)}]+", text), key=len)


def _server_params(query: ModelQuery) -> dict:
    params: dict = {"expand": LIST_EXPAND, "sort": HUB_SORT[query.sort]}
    if query.text:
        params["search"] = _search_word(query.text)
    if query.task:
        params["pipeline_tag"] = query.task
    # Library and licence are tags to the Hub (`license:<id>`, as huggingface_hub's list_models sends them).
    tags = [query.library] if query.library else []
    if query.licenses and len(query.licenses) == 1:
        tags.append(f"license:{query.licenses[0].lower()}")
    if tags:
        params["filter"] = tags
    low, high = filters.params_range(query)
    bounds = [f"min:{low}" if low is not None else None, f"max:{high}" if high is not None else None]
    if any(bounds):
        params["num_parameters"] = ",".join(b for b in bounds if b)
    if query.provider:
        params["inference_provider"] = "all" if query.provider == ANY_PROVIDER else query.provider
    if query.gated is not None:
        params["gated"] = query.gated
    return params


def _probe(api, token: str | None, what: str) -> str | None:
    """One request without retries and with a timeout: down, 401, 429 and 5xx are known at once.
    Returns a notice when the Hub's `RateLimit` header says few requests are left in its window."""
    from huggingface_hub.utils import get_session, hf_raise_for_status, parse_ratelimit_headers

    try:
        response = get_session().get(f"{api.endpoint}/api/models", params={"limit": 1},
                                     headers=api._build_hf_headers(token=hub_token_arg(token)), timeout=timeout_s())
        hf_raise_for_status(response)
    except Exception as exc:  # noqa: BLE001
        raise from_exception(exc, what=what) from exc
    limits = parse_ratelimit_headers(response.headers)
    if limits is None or limits.limit is None or limits.remaining > limits.limit * LOW_RATE_SHARE:
        return None
    return (f"The Hub allows {limits.remaining} more API requests in its current window (of {limits.limit}); "
            f"it resets in {limits.reset_in_seconds} s. Further searches may be refused until then.")


class _Scan:
    """Reads `list_models` until a page is full (run through `hub_call`, so a Hub that stops answering
    mid-listing can't hang the caller)."""

    def __init__(self, api, kwargs: dict, conditions: list[filters.Condition], limit: int, token: str | None,
                 floor: filters.Condition | None):
        self.api, self.kwargs, self.conditions, self.limit, self.token = api, kwargs, conditions, limit, token
        self.floor = floor
        self.stopped_at_floor = False
        self.matched: list[ModelRecord] = []
        self.excluded: dict[str, int] = {}
        self.scanned = 0

    def collect(self) -> None:
        for info in self.api.list_models(**self.kwargs, token=hub_token_arg(self.token)):
            self.scanned += 1
            record = record_from_model_info(info)
            if self.floor and (value := getattr(record, self.floor.field)) is not None \
                    and value < self.floor.value:
                self.stopped_at_floor = True
                return
            failed = [c for c in self.conditions if not filters.matches(record, c)]
            if not failed:
                self.matched.append(record)
                if len(self.matched) >= self.limit:
                    return
            elif len(failed) == 1 and getattr(record, failed[0].field) is None:
                self.excluded[failed[0].field] = self.excluded.get(failed[0].field, 0) + 1


def iter_models(*, settings: Settings, token: str | None, limit: int, task: str | None = None):
    """Lazily yield up to `limit` of the Hub's most downloaded models (optionally one task), for a snapshot refresh."""
    api = client(settings, token)
    what = f"Listing models on the Hub at {settings.endpoint}"
    _probe(api, token, what)
    try:
        for info in api.list_models(pipeline_tag=task, sort="downloads", limit=limit, expand=LIST_EXPAND,
                                    token=hub_token_arg(token)):
            yield record_from_model_info(info)
    except Exception as exc:  # noqa: BLE001
        raise from_exception(exc, what=what) from exc
