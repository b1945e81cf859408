"""The typed query and model record shared by both catalog sources, the CLI and every page.

JSON and parquet rows become these once, at the edge. A field that may be unknown is `X | None`,
and unknown never means zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace
from enum import Enum

from hfdash.errors import BadParameters


class Sort(str, Enum):
    TRENDING = "trending"
    LIKES = "likes"
    DOWNLOADS = "downloads"
    CREATED = "created"
    UPDATED = "updated"


# ModelRecord field each sort orders by.
SORT_FIELD = {
    Sort.TRENDING: "trending",
    Sort.LIKES: "likes",
    Sort.DOWNLOADS: "downloads",
    Sort.CREATED: "created_at",
    Sort.UPDATED: "last_modified",
}

ANY_PROVIDER = "any"

# The same bounds hold on the CLI and the Browse page: a value beyond them is a typo, not a filter.
MAX_LIMIT = 1000
MAX_COUNT = 10**15  # parameters, likes, downloads (and exact as a browser number)
MAX_WITHIN_DAYS = 36_500  # about 100 years
BOUNDS = {"min_params": (0, MAX_COUNT), "max_params": (0, MAX_COUNT), "min_likes": (0, MAX_COUNT),
          "min_downloads": (0, MAX_COUNT), "created_within_days": (0, MAX_WITHIN_DAYS),
          "updated_within_days": (0, MAX_WITHIN_DAYS), "limit": (1, MAX_LIMIT)}


def check_bound(name: str, value: int) -> int:
    """`value` if it lies within the bounds of query field `name`; ValueError saying them otherwise."""
    low, high = BOUNDS[name]
    if value < low:
        raise ValueError(f"cannot be negative (got {value:,})" if low == 0 else
                         f"must be at least {low:,} (got {value:,})")
    if value > high:
        raise ValueError(f"must be at most {high:,} (got {value:,})")
    return value


@dataclass(frozen=True)
class ModelConfig:
    """Architecture facts from the model's config.json (None = unknown)."""

    architecture: str | None = None
    context_length: int | None = None
    num_hidden_layers: int | None = None
    num_attention_heads: int | None = None
    num_key_value_heads: int | None = None
    head_dim: int | None = None
    hidden_size: int | None = None
    vocab_size: int | None = None
    # Sliding-window attention: the window and how many layers use it (None = unknown / all or none).
    sliding_window: int | None = None
    sliding_window_layers: int | None = None
    # Mixture of experts.
    is_moe: bool | None = None
    num_experts: int | None = None
    active_experts: int | None = None
    active_parameters: int | None = None
    # Multi-head latent attention (DeepSeek-style): the KV cache holds the latent, not full heads.
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    # What transformers caches instead (every head's decompressed key and value).
    qk_nope_head_dim: int | None = None
    v_head_dim: int | None = None
    # For the memory estimate: MLP width (activations), whether lm_head shares the embedding, and
    # the checkpoint's own quantization (e.g. "gptq", 4) so packed weights are read right.
    intermediate_size: int | None = None
    tie_word_embeddings: bool | None = None
    quant_method: str | None = None
    quant_bits: int | None = None
    # Where these facts come from, e.g. "config.json on the Hub" or a cited copy of it.
    facts_source: str | None = None


@dataclass(frozen=True)
class ProviderOffer:
    """One hosted provider serving the model, with prices per 1M tokens where known.

    `source` says where the fact comes from: "hub" (the Hub's inferenceProviderMapping) or
    "litellm catalog" (the offline snapshot's join on litellm's price list).
    """

    provider: str
    input_per_1m: float | None = None
    output_per_1m: float | None = None
    provider_model_id: str | None = None
    source: str = "hub"


@dataclass(frozen=True)
class ModelRecord:
    id: str
    task: str | None = None
    library: str | None = None
    params: int | None = None
    likes: int | None = None
    downloads: int | None = None
    created_at: dt.date | None = None
    last_modified: dt.date | None = None
    trending: float | None = None
    gated: bool | None = None
    license: str | None = None
    # Provider names; None = unknown to this source, () = known to have none.
    providers: tuple[str, ...] | None = None
    offers: tuple[ProviderOffer, ...] = ()
    # Parameter counts per safetensors dtype ("BF16": n, "I32": n ...) where known.
    dtype_params: dict[str, int] | None = None
    config: ModelConfig = field(default_factory=ModelConfig)

    def to_json(self) -> dict:
        """The CLI's --json object (a contract: id, task, params, likes, downloads, created_at, providers)."""
        return {
            "id": self.id,
            "task": self.task,
            "library": self.library,
            "params": self.params,
            "likes": self.likes,
            "downloads": self.downloads,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "trending": self.trending,
            "gated": self.gated,
            "license": self.license,
            "providers": list(self.providers) if self.providers is not None else None,
            "offers": [vars(offer) for offer in self.offers],
            "config": {f.name: getattr(self.config, f.name) for f in fields(self.config)},
        }


@dataclass(frozen=True)
class FitsOn:
    """The "fits on" filter: models whose estimated memory fits one `device` at this precision, context
    and runtime (None: the precision's default runtime). Checked by hfdash.hardware.fitsfilter."""

    device: str
    dtype: str = "bf16"
    context: int = 4096
    runtime: str | None = None


@dataclass(frozen=True)
class ModelQuery:
    """One search over either source. Bounds are inclusive; None = no filter on that field."""

    text: str | None = None
    task: str | None = None
    library: str | None = None
    min_params: int | None = None
    max_params: int | None = None
    provider: str | None = None  # ANY_PROVIDER or a provider name
    min_likes: int | None = None
    min_downloads: int | None = None
    created_after: dt.date | None = None
    created_within_days: int | None = None
    updated_after: dt.date | None = None
    updated_within_days: int | None = None
    gated: bool | None = None
    fits: FitsOn | None = None
    sort: Sort = Sort.DOWNLOADS
    limit: int = 20

    def validate(self) -> ModelQuery:
        """Raise BadParameters with a clear message; return self for chaining."""
        for name in BOUNDS:
            value = getattr(self, name)
            if value is not None:
                try:
                    check_bound(name, value)
                except ValueError as err:
                    raise BadParameters(f"{name.replace('_', ' ')} {err}.") from None
        if self.min_params is not None and self.max_params is not None and self.min_params > self.max_params:
            raise BadParameters(
                f"min parameters ({self.min_params:,}) is larger than max parameters ({self.max_params:,}).")
        if self.fits is not None:
            from hfdash.hardware.fitsfilter import check

            check(self.fits)
        return self

    def created_since(self, today: dt.date) -> dt.date | None:
        """The effective 'created on or after' day: the later of the date and the window."""
        return _latest(self.created_after, self.created_within_days, today)

    def updated_since(self, today: dt.date) -> dt.date | None:
        return _latest(self.updated_after, self.updated_within_days, today)

    def with_(self, **changes) -> ModelQuery:
        return replace(self, **changes)


def _latest(after: dt.date | None, within_days: int | None, today: dt.date) -> dt.date | None:
    bounds = [d for d in (after, today - dt.timedelta(days=within_days) if within_days is not None else None) if d]
    return max(bounds) if bounds else None


@dataclass
class SearchResult:
    records: list[ModelRecord]
    source: str  # "hub" or "snapshot"
    snapshot_date: dt.date | None = None
    # Filter field -> how many records were left out because that field is unknown.
    excluded_unknown: dict[str, int] = field(default_factory=dict)
    # What the user must be told: unsupported filters or sorts, fallbacks, page caps.
    notices: list[str] = field(default_factory=list)
    # How many records matched before `limit` cut them; None where the source can't count (live Hub).
    total: int | None = None
