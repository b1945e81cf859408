"""A model record as text for people: shared by the Browse detail panel and the shortlist's side-by-side table."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from hfdash.catalog.records import ModelConfig, ModelRecord
from hfdash.units import human_count

UNKNOWN = "unknown"


def _text(value) -> str:
    if value is None:
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def providers_text(providers: tuple[str, ...] | None) -> str:
    if providers is None:
        return UNKNOWN
    return ", ".join(providers) if providers else "none"


def overview_facts(record: ModelRecord) -> dict[str, str]:
    return {
        "Task": _text(record.task),
        "Library": _text(record.library),
        "Parameters": human_count(record.params) if record.params is not None else UNKNOWN,
        "Likes": _text(record.likes),
        "Downloads (30 days)": _text(record.downloads),
        "Created": _text(record.created_at),
        "Updated": _text(record.last_modified),
        "Gated": _text(record.gated),
        "License": _text(record.license),
        "Providers": providers_text(record.providers),
    }


CONFIG_LABELS = {
    "architecture": "Architecture",
    "context_length": "Context length",
    "num_hidden_layers": "Layers",
    "num_attention_heads": "Attention heads",
    "num_key_value_heads": "KV heads",
    "head_dim": "Head dim",
    "hidden_size": "Hidden size",
    "vocab_size": "Vocabulary",
    "sliding_window": "Sliding window",
    "is_moe": "Mixture of experts",
    "num_experts": "Experts",
    "active_experts": "Active experts",
    "active_parameters": "Active parameters",
    "facts_source": "Config source",
}
# Shown even when unknown: a missing context limit must read as unknown, not vanish.
ALWAYS_SHOWN = ("Context length", "Config source")


def config_facts(config: ModelConfig, *, known_only: bool) -> dict[str, str]:
    facts = {label: getattr(config, name) for name, label in CONFIG_LABELS.items()}
    if known_only:
        facts = {label: value for label, value in facts.items() if value is not None or label in ALWAYS_SHOWN}
    if facts.get("Active parameters") is not None:
        facts["Active parameters"] = human_count(facts["Active parameters"])
    return {label: _text(value) for label, value in facts.items()}


def offers_frame(record: ModelRecord) -> pd.DataFrame:
    """One row per hosted provider, prices in USD per 1M tokens, with where the fact comes from."""
    return pd.DataFrame(
        [{"Provider": o.provider, "Input $/1M tokens": o.input_per_1m, "Output $/1M tokens": o.output_per_1m,
          "Source": o.source, "Provider's model id": o.provider_model_id} for o in record.offers],
        columns=["Provider", "Input $/1M tokens", "Output $/1M tokens", "Source", "Provider's model id"])


def side_by_side(records: list[ModelRecord]) -> pd.DataFrame:
    """Facts as rows, one column per model."""
    columns = {r.id: {**overview_facts(r), **config_facts(r.config, known_only=False)} for r in records}
    return pd.DataFrame(columns)
