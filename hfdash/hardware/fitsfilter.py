"""The catalog the other way round: which models fit a device, over a whole snapshot at once.

The totals come from the estimator's own formulas (`kv_elements`, `working_bytes`, `overhead_bytes`),
evaluated on numpy columns instead of one record, so a row fits here exactly when `estimate_memory`
says it fits for that record. A row whose parameter count or KV cache is unknown has no fit: it is
counted as left out, never guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hfdash.errors import BadParameters
from hfdash.hardware.devices import Device
from hfdash.hardware.estimate import (KV_BITS, check_context_range, default_kv_dtype, estimate_memory,
                                      kv_elements, mla_elements, overhead_bytes, precision, runtime_name,
                                      working_bytes)
from hfdash.hardware.local import find_device
from hfdash.hardware.verdict import budget_bytes

if TYPE_CHECKING:  # catalog.records calls check(): a runtime import back would be a cycle
    from hfdash.catalog.records import FitsOn, ModelRecord

# Snapshot columns the totals read, as float64 with NaN for unknown (booleans: 1.0 / 0.0 / NaN).
COLUMNS = ("params", "context_length", "num_hidden_layers", "num_key_value_heads", "head_dim", "hidden_size",
           "vocab_size", "intermediate_size", "sliding_window", "sliding_window_layers", "kv_lora_rank",
           "qk_rope_head_dim", "active_experts", "is_moe", "tie_word_embeddings", "num_attention_heads",
           "qk_nope_head_dim", "v_head_dim")
MLA_COLUMNS = ("num_attention_heads", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")  # `mla_geometry`


def _float_column(column) -> np.ndarray:
    """An int64 or boolean arrow column as float64, NaN where null, straight from its buffers: a cast
    through arrow then a masked copy costs twice the memory traffic over millions of rows."""
    import pyarrow as pa

    array = column.combine_chunks()
    n, offset = len(array), array.offset
    validity, data = array.buffers()[:2]
    if pa.types.is_boolean(array.type):
        values = np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=offset + n,
                               bitorder="little")[offset:].astype(np.float64)
    else:
        values = np.frombuffer(data, dtype=np.int64, count=n, offset=offset * 8).astype(np.float64)
    if array.null_count:
        valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=offset + n, bitorder="little")[offset:]
        values[~valid.view(bool)] = np.nan
    return values


def columns(table) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The snapshot table's COLUMNS as float64 (NaN = unknown) and, per row, whether its architecture is MLA."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from hfdash.hardware.estimate import MLA_ARCHITECTURES

    mla = pc.is_in(table["architecture"], value_set=pa.array(MLA_ARCHITECTURES))
    return {name: _float_column(table[name]) for name in COLUMNS}, _float_column(mla) == 1


def check(spec: FitsOn) -> Device:
    """The device, once every part of the filter is known to be valid (one clear message otherwise)."""
    precision(spec.dtype)
    runtime_name(spec.runtime, spec.dtype)
    check_context_range(spec.context)
    return find_device(spec.device)


def record_fits(record: ModelRecord, spec: FitsOn) -> bool | None:
    """One record (the live Hub's path): True / False, or None when its fit is unknown."""
    device = check(spec)
    try:
        estimate = estimate_memory(record, dtype=spec.dtype, context=spec.context, runtime=spec.runtime,
                                   device_kind=device.kind)
    except BadParameters:
        limit = record.config.context_length
        if record.params is not None and limit is not None and spec.context > limit:
            return False  # known: the model cannot hold that context
        return None
    if estimate.kv_cache_bytes is None:
        return None
    return estimate.total_bytes <= budget_bytes(device, 1, estimate.runtime)


def totals(columns: dict[str, np.ndarray], mla_architecture: np.ndarray, spec: FitsOn, device_kind: str) -> np.ndarray:
    """Estimated total bytes per row at the filter's precision, context and runtime on a device of
    `device_kind`; NaN = unknown."""
    spec_dtype = precision(spec.dtype)
    runtime = runtime_name(spec.runtime, spec_dtype.name)
    c = columns
    params = c["params"]
    bits = spec_dtype.bits_per_weight
    weights = np.round(params * bits / 8)
    if spec_dtype.kind == "quantized":  # embedding and lm_head stay at 16 bit where their size is known
        embedding = c["vocab_size"] * c["hidden_size"] * np.where(c["tie_word_embeddings"] == 1, 1, 2)
        split = ~np.isnan(embedding) & (embedding < params)
        weights = np.where(split, np.round((params - embedding) * bits / 8 + embedding * 2), weights)
    is_mla = mla_architecture | ~np.isnan(c["kv_lora_rank"])
    latent = np.where(is_mla, mla_elements(kv_lora_rank=c["kv_lora_rank"], qk_rope_head_dim=c["qk_rope_head_dim"]),
                      np.nan)
    kv_heads = np.where(is_mla & np.isnan(latent), np.nan, c["num_key_value_heads"])  # MLA without its latent
    elements = kv_elements(c["num_hidden_layers"], kv_heads, c["head_dim"], c["sliding_window"],
                           c["sliding_window_layers"], latent, spec.context)
    kv = np.round(elements * KV_BITS[default_kv_dtype(spec_dtype.name, runtime)] / 8)
    routed = np.where((c["is_moe"] == 1) & ~np.isnan(c["active_experts"]), c["active_experts"], 0)
    working = np.round(working_bytes(runtime, hidden=c["hidden_size"], intermediate=c["intermediate_size"],
                                     routed_experts=routed, vocab=c["vocab_size"], context=spec.context, batch=1,
                                     compute_bytes=4 if spec_dtype.name == "fp32" else 2, device_kind=device_kind,
                                     mla=tuple(np.where(is_mla, c[name], np.nan) for name in MLA_COLUMNS)))
    working = np.where(np.isnan(c["hidden_size"]), 0, working)
    total = weights + kv + working + overhead_bytes(runtime, weights + kv, device_kind)
    too_long = c["context_length"] < spec.context  # the model's own limit: known not to fit
    return np.where(too_long & ~np.isnan(params), np.inf, total)


def fits_mask(columns: dict[str, np.ndarray], mla_architecture: np.ndarray,
              spec: FitsOn) -> tuple[np.ndarray, np.ndarray]:
    """(fits, known) per row; `mla_architecture`: whether each row's model_type is in MLA_ARCHITECTURES."""
    device = check(spec)
    total = totals(columns, mla_architecture, spec, device.kind)
    known = ~np.isnan(total)
    runtime = runtime_name(spec.runtime, spec.dtype)
    return known & (total <= budget_bytes(device, 1, runtime)), known
