"""Everything the Hardware-fit page shows for one model, from one call: bars per precision, the
memory-vs-context curve at the chosen precision, a verdict per chosen device and the largest context per
precision on each device."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hfdash.config import Settings
from hfdash.errors import BadParameters, HfdashError
from hfdash.hardware.devices import Device
from hfdash.hardware.estimate import (DEFAULT_DEVICE_KIND, DTYPES, MemoryEstimate, check_context_range,
                                      estimate_memory, runs_on)
from hfdash.hardware.hubfacts import GgufFile, ModelFacts, model_facts
from hfdash.hardware.reverse import ContextFit, VllmCapacity, context_table, vllm_capacity
from hfdash.hardware.verdict import Verdict, verdict

# Context lengths drawn on the curve: powers of two from 256 up to the model's maximum.
CURVE_START = 256
# Where the curve stops when the model's maximum context is unknown.
UNKNOWN_MAX_CONTEXT = 32_768


@dataclass
class ModelFit:
    model_id: str
    facts: ModelFacts | None = None
    bars: list[tuple[str, MemoryEstimate]] = field(default_factory=list)  # (precision label, estimate)
    chosen: MemoryEstimate | None = None
    chosen_label: str | None = None  # the precision, or the real GGUF file, the curve and verdicts use
    curve: list[MemoryEstimate] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    # Per device: the largest context each precision allows there, most bits first.
    contexts: list[tuple[Device, list[ContextFit]]] = field(default_factory=list)
    vllm: list[VllmCapacity] = field(default_factory=list)  # per device, when the runtime is vLLM
    notes: list[str] = field(default_factory=list)
    context: int | None = None  # the context used: the one asked for, or the model's maximum below it
    device_kind: str = DEFAULT_DEVICE_KIND  # what the bars and the curve are figured for: the first device's kind
    error: HfdashError | None = None  # why nothing could be estimated for this model


def curve_contexts(max_context: int | None, chosen: int) -> list[int]:
    top = max_context or max(chosen, UNKNOWN_MAX_CONTEXT)
    points = {top, min(chosen, top)}
    size = CURVE_START
    while size < top:
        points.add(size)
        size *= 2
    return sorted(points)


def fit_model(model_id: str, *, dtype: str, context: int, batch: int = 1, kv_dtype: str | None = None,
              devices: Sequence[tuple[Device, int]] = (), ram_bytes: int | None = None, runtime: str | None = None,
              source: str = "auto", token: str | None = None, settings: Settings | None = None,
              facts: ModelFacts | HfdashError | None = None) -> ModelFit:
    """One model's figures on (device, count) pairs; a failure (unknown model, no parameter count) is kept
    on the result, not raised. `facts`: already fetched (or failed), else fetched here. A model whose
    maximum context is below `context` is figured at its maximum, and a note says so. Each device's verdict
    uses the estimate for its own kind (a GPU's CUDA context, the CPU's resident buffers)."""
    fit = ModelFit(model_id, device_kind=devices[0][0].kind if devices else DEFAULT_DEVICE_KIND)
    try:
        if isinstance(facts, HfdashError):
            raise facts
        fit.facts = facts or model_facts(model_id, source=source, token=token, settings=settings)
        record = fit.facts.record
        check_context_range(context)
        limit = record.config.context_length
        fit.context = min(context, limit) if limit else context
        if fit.context < context:
            fit.notes.append(f"Its maximum context is {limit:,} tokens: figured at {limit:,}, not {context:,}.")
        # A GGUF-only repo with no parameter count offers just its real files; with neither, the
        # estimator's own "parameter count unknown" error is what the user sees.
        with_dtypes = record.params is not None or record.dtype_params or not fit.facts.gguf_files
        options: dict[str, GgufFile | None] = {
            name: None for name in DTYPES if with_dtypes and (runtime is None or runs_on(runtime, name))}
        options.update({f.label: f for f in fit.facts.gguf_files if runtime in (None, "llama.cpp")})
        if not options:
            raise BadParameters(f"No precision of {model_id} runs on {runtime}.")
        for label, gguf in options.items():
            fit.bars.append((label, estimate_memory(record, dtype=gguf.dtype if gguf else label, context=fit.context,
                                                    batch=batch, kv_dtype=kv_dtype, runtime=runtime,
                                                    file_bytes=gguf.size if gguf else None,
                                                    device_kind=fit.device_kind)))
        real_file = fit.facts.gguf_for(dtype)
        label = real_file.label if real_file and real_file.label in options else \
            dtype if dtype in options else next(iter(options))
        fit.chosen, fit.chosen_label, gguf = dict(fit.bars)[label], label, options[label]
        chosen_dtype = fit.chosen.dtype

        def chosen_on(kind: str, context: int) -> MemoryEstimate:
            return estimate_memory(record, dtype=chosen_dtype, context=context, batch=batch, kv_dtype=kv_dtype,
                                   runtime=runtime, file_bytes=gguf.size if gguf else None, device_kind=kind)

        fit.curve = [chosen_on(fit.device_kind, n) for n in curve_contexts(limit, fit.context)]
        on_kind = {kind: chosen_on(kind, fit.context) for kind in {device.kind for device, _ in devices}}
        fit.verdicts = [verdict(on_kind[device.kind], device, gpus=gpus, ram_bytes=ram_bytes)
                        for device, gpus in devices]
        if with_dtypes:
            fit.contexts = [(device, context_table(record, device, gpus=gpus, batch=batch, runtime=runtime))
                            for device, gpus in devices]
        if fit.chosen.runtime == "vllm":
            fit.vllm = [vllm_capacity(fit.chosen, device, gpus) for device, gpus in devices]
    except HfdashError as err:
        fit.error = err
    return fit
