"""A model record as text for people: shared by the Browse detail panel and the shortlist's side-by-side table."""

from __future__ import annotations

import pandas as pd

from hfdash.catalog.records import ModelConfig, ModelRecord, config_rows, detail_rows


def overview_facts(record: ModelRecord) -> dict[str, str]:
    return dict(detail_rows(record))


def config_facts(config: ModelConfig, *, known_only: bool) -> dict[str, str]:
    return dict(config_rows(config, known_only=known_only))


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
