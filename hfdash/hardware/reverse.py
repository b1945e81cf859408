"""The questions asked the other way round: for a model and a device, the largest context each precision
allows and the best precision at a given context; for vLLM, how much KV cache its memory share leaves."""

from __future__ import annotations

from dataclasses import dataclass

from hfdash.catalog.records import ModelRecord
from hfdash.errors import BadParameters
from hfdash.hardware.devices import Device
from hfdash.hardware.estimate import (DTYPES, MAX_CONTEXT, PRECISIONS, MemoryEstimate, estimate_memory, runs_on,
                                      runtime_name)
from hfdash.hardware.verdict import budget_bytes


@dataclass(frozen=True)
class ContextFit:
    dtype: str
    runtime: str
    max_context: int | None  # None: not even one token fits
    kv_known: bool  # False: the cache is left out, so the answer ignores it (say so)
    model_limit: bool  # True: the model's own maximum, not memory, is the bound

    def to_json(self) -> dict:
        return {"dtype": self.dtype, "runtime": self.runtime, "max_context": self.max_context,
                "kv_known": self.kv_known, "model_limit": self.model_limit}


def precisions_for(runtime: str | None) -> list[str]:
    """Precisions a runtime can run (None: each precision on its default runtime), most bits first."""
    names = [d for d in DTYPES if runtime is None or runs_on(runtime, d)]
    return sorted(names, key=lambda d: -PRECISIONS[d].bits_per_weight)


def max_context(record: ModelRecord, device: Device, *, dtype: str, gpus: int = 1, batch: int = 1,
                kv_dtype: str | None = None, runtime: str | None = None) -> ContextFit:
    """The largest context whose total fits the device's budget (bisection: the total grows with context)."""
    runtime = runtime_name(runtime, dtype)
    budget = budget_bytes(device, gpus, runtime)
    top = record.config.context_length or MAX_CONTEXT

    def estimate(context: int) -> MemoryEstimate:
        return estimate_memory(record, dtype=dtype, context=context, batch=batch, kv_dtype=kv_dtype, runtime=runtime,
                               device_kind=device.kind)

    first = estimate(1)
    kv_known = first.kv_cache_bytes is not None
    if first.total_bytes > budget:
        return ContextFit(dtype, runtime, None, kv_known, False)
    if estimate(top).total_bytes <= budget:
        return ContextFit(dtype, runtime, top, kv_known, record.config.context_length is not None)
    fits, fails = 1, top
    while fails - fits > 1:
        middle = (fits + fails) // 2
        fits, fails = (middle, fails) if estimate(middle).total_bytes <= budget else (fits, middle)
    return ContextFit(dtype, runtime, fits, kv_known, False)


def context_table(record: ModelRecord, device: Device, *, gpus: int = 1, batch: int = 1,
                  runtime: str | None = None) -> list[ContextFit]:
    return [max_context(record, device, dtype=d, gpus=gpus, batch=batch, runtime=runtime)
            for d in precisions_for(runtime)]


def best_precision(table: list[ContextFit], context: int) -> ContextFit | None:
    """The most bits whose largest context reaches `context` (the table is most bits first)."""
    return next((row for row in table if row.max_context is not None and row.max_context >= context), None)


@dataclass(frozen=True)
class VllmCapacity:
    kv_budget_bytes: int  # what gpu_memory_utilization leaves after weights, profile and graphs
    context: int
    sequences: int | None  # how many sequences of `context` tokens fit at once; None: KV unknown

    def to_json(self) -> dict:
        return {"kv_budget_bytes": self.kv_budget_bytes, "context": self.context, "max_sequences": self.sequences}


def vllm_capacity(estimate: MemoryEstimate, device: Device, gpus: int = 1) -> VllmCapacity:
    """vLLM takes VLLM_UTILIZATION of each GPU; what weights, its profile and overhead leave is KV cache."""
    if estimate.runtime != "vllm":
        raise BadParameters("KV capacity is a vLLM answer: pick the vllm runtime.")
    budget = budget_bytes(device, gpus, "vllm")
    left = budget - estimate.weights_bytes - estimate.activation_bytes - estimate.overhead_bytes
    per_sequence = estimate.kv_cache_bytes / estimate.batch if estimate.kv_cache_bytes else None
    sequences = max(0, int(left // per_sequence)) if per_sequence else None
    return VllmCapacity(max(0, left), estimate.context, sequences)
