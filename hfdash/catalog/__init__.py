"""Model search over the live Hub or the offline snapshot: one query type, one record type, same answers."""

from hfdash.catalog.details import ModelDetails, QuantizedVariant, model_details
from hfdash.catalog.records import (ANY_PROVIDER, ModelConfig, ModelQuery, ModelRecord, ProviderOffer, SearchResult,
                                    Sort)
from hfdash.catalog.service import get_model, known_licenses, known_providers, known_tasks, search, snapshot_info
from hfdash.catalog.snapshot import SnapshotInfo

__all__ = ["ANY_PROVIDER", "ModelConfig", "ModelDetails", "ModelQuery", "ModelRecord", "ProviderOffer",
           "QuantizedVariant", "SearchResult", "Sort", "SnapshotInfo", "get_model", "known_licenses", "known_providers",
           "known_tasks", "model_details", "search", "snapshot_info"]
