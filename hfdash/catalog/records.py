"""The typed query and model record shared by both catalog sources, the CLI and every page.

JSON and parquet rows become these once, at the edge. A field that may be unknown is `X | None`,
and unknown never means zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, is_dataclass, replace
from enum import StrEnum

from hfdash.errors import BadParameters
from hfdash.units import human_count


class Sort(StrEnum):
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


UNKNOWN = "unknown"


def fact(label: str, *, noun: str | None = None, heading: str | None = None, fmt: str = "text",
         detail: bool = True, always: bool = False, optional: bool = False, help: str | None = None,
         default=None, default_factory=None):
    """A record field and how people read it, so the snapshot's columns, the JSON, the table and the detail
    rows all follow the dataclass.

    label: the detail row's name; noun: the field in a sentence ("parameter count"); heading: set for the
    fields shown as result-table columns (the CLI's header); fmt: text | int | count | date | bool | list |
    float | none (not a plain value: shown in its own table); always: a detail row even when unknown;
    optional: a snapshot column added after format 1 (an older snapshot loads it as unknown).
    """
    metadata = {"label": label, "noun": noun or label.lower(), "heading": heading, "format": fmt,
                "detail": detail, "always": always, "optional": optional, "help": help}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture facts from the model's config.json (None = unknown)."""

    architecture: str | None = fact("Architecture")
    context_length: int | None = fact("Context length", fmt="int", always=True)
    num_hidden_layers: int | None = fact("Layers", fmt="int")
    num_attention_heads: int | None = fact("Attention heads", fmt="int")
    num_key_value_heads: int | None = fact("KV heads", fmt="int")
    head_dim: int | None = fact("Head dim", fmt="int")
    hidden_size: int | None = fact("Hidden size", fmt="int")
    vocab_size: int | None = fact("Vocabulary", fmt="int")
    # Sliding-window attention: the window and how many layers use it (None = unknown / all or none).
    sliding_window: int | None = fact("Sliding window", fmt="int")
    sliding_window_layers: int | None = fact("Sliding-window layers", fmt="int", detail=False)
    # Mixture of experts.
    is_moe: bool | None = fact("Mixture of experts", fmt="bool")
    num_experts: int | None = fact("Experts", fmt="int")
    active_experts: int | None = fact("Active experts", fmt="int")
    active_parameters: int | None = fact("Active parameters", fmt="count")
    # Multi-head latent attention (DeepSeek-style): the KV cache holds the latent, not full heads.
    kv_lora_rank: int | None = fact("KV latent rank", fmt="int", detail=False)
    qk_rope_head_dim: int | None = fact("RoPE head dim", fmt="int", detail=False)
    # What transformers caches instead (every head's decompressed key and value).
    qk_nope_head_dim: int | None = fact("Non-RoPE head dim", fmt="int", detail=False)
    v_head_dim: int | None = fact("Value head dim", fmt="int", detail=False)
    # For the memory estimate: MLP width (activations), whether lm_head shares the embedding, and
    # the checkpoint's own quantization (e.g. "gptq", 4) so packed weights are read right.
    intermediate_size: int | None = fact("MLP width", fmt="int", detail=False)
    tie_word_embeddings: bool | None = fact("Tied embeddings", fmt="bool", detail=False)
    quant_method: str | None = fact("Quantization", detail=False)
    quant_bits: int | None = fact("Quantization bits", fmt="int", detail=False)
    # Where these facts come from, e.g. "config.json on the Hub" or a cited copy of it.
    facts_source: str | None = fact("Config source", always=True)


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
    id: str = fact("Model", noun="id", heading="id", detail=False)
    task: str | None = fact("Task", heading="task")
    library: str | None = fact("Library")
    params: int | None = fact("Parameters", noun="parameter count", heading="params", fmt="count")
    likes: int | None = fact("Likes", heading="likes", fmt="int")
    downloads: int | None = fact("Downloads (30 days)", noun="downloads", heading="downloads", fmt="int",
                                 help="Last 30 days")
    created_at: dt.date | None = fact("Created", noun="creation date", heading="created", fmt="date")
    last_modified: dt.date | None = fact("Updated", noun="last-updated date", fmt="date")
    trending: float | None = fact("Trending score", fmt="float", detail=False)
    gated: bool | None = fact("Gated", noun="gated flag", fmt="bool")
    license: str | None = fact("License")
    # Provider names; None = unknown to this source, () = known to have none.
    providers: tuple[str, ...] | None = fact("Providers", noun="inference providers", heading="providers",
                                              fmt="list")
    offers: tuple[ProviderOffer, ...] = fact("Hosted offers", fmt="none", default_factory=tuple)
    # Parameter counts per safetensors dtype ("BF16": n, "I32": n ...) where known.
    dtype_params: dict[str, int] | None = fact("Parameters per dtype", fmt="none")
    # Language codes from the model card (None = unknown to this source).
    languages: tuple[str, ...] | None = fact("Languages", fmt="list", optional=True)
    # Repos holding GGUF quantizations of this model, as the snapshot's source lists them.
    gguf_copies: tuple[str, ...] | None = fact("GGUF copies", fmt="none", optional=True)
    config: ModelConfig = fact("Config", fmt="none", default_factory=ModelConfig)

    def to_json(self) -> dict:
        """The CLI's --json object, one key per field (a contract: id, task, params, likes, downloads,
        created_at, providers keep their names and meanings)."""
        return _json(self)


def _json(value):
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Column:
    """A result-table column: the record field, its heading, label and format."""

    name: str
    heading: str
    label: str
    format: str
    help: str | None


def field_label(name: str) -> str:
    """The noun for a ModelRecord field in a sentence ("parameter count")."""
    return _RECORD_FIELDS[name].metadata["noun"]


def table_columns() -> tuple[Column, ...]:
    """The fields a result table shows, in record order."""
    return tuple(column(name) for name, f in _RECORD_FIELDS.items() if f.metadata["heading"])


def column(name: str) -> Column:
    """ModelRecord field `name` as a table column (its heading is the field name where it has none)."""
    f = _RECORD_FIELDS[name]
    return Column(name, f.metadata["heading"] or name, f.metadata["label"], f.metadata["format"], f.metadata["help"])


def format_value(value, fmt: str, *, unknown: str = UNKNOWN) -> str:
    """One value as people read it; None is `unknown`, never zero."""
    if value is None:
        return unknown
    if fmt == "count":
        return human_count(value)
    if fmt == "list":
        return ", ".join(value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def cell(record: ModelRecord, column: Column, *, unknown: str = UNKNOWN) -> str:
    return format_value(getattr(record, column.name), column.format, unknown=unknown)


def detail_rows(record: ModelRecord) -> list[tuple[str, str]]:
    """(label, text) for each plain fact of the record, unknown ones included."""
    return _rows(record, known_only=False)


def config_rows(config: ModelConfig, *, known_only: bool) -> list[tuple[str, str]]:
    """(label, text) for the config facts people read; `known_only` keeps the unknown ones that must show."""
    return _rows(config, known_only=known_only)


def _rows(value, *, known_only: bool) -> list[tuple[str, str]]:
    return [(f.metadata["label"], format_value(getattr(value, f.name), f.metadata["format"]))
            for f in fields(value) if f.metadata["detail"] and f.metadata["format"] != "none"
            and (not known_only or f.metadata["always"] or getattr(value, f.name) is not None)]


_RECORD_FIELDS = {f.name: f for f in fields(ModelRecord)}


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
    licenses: tuple[str, ...] | None = None  # any of these licence ids (the Hub's, e.g. "apache-2.0")
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
