"""Everything the Hardware-fit page shows for one model, from one call: bars per precision, the
memory-vs-context curve at the chosen precision, and a verdict per chosen device."""

from __future__ import annotations

from dataclasses import dataclass, field

from hfdash.config import Settings
from hfdash.errors import HfdashError
from hfdash.hardware.devices import Device
from hfdash.hardware.estimate import DTYPES, MemoryEstimate, check_context, estimate_memory
from hfdash.hardware.hubfacts import ModelFacts, model_facts
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
              devices: list[Device] = (), gpus: int = 1, ram_bytes: int | None = None, source: str = "auto",
              token: str | None = None, settings: Settings | None = None) -> ModelFit:
    """One model's figures; a failure (unknown model, context too long) is kept on the result, not raised."""
    fit = ModelFit(model_id)
    try:
        fit.facts = model_facts(model_id, source=source, token=token, settings=settings)
        record = fit.facts.record
        check_context(record, context)
        # A GGUF-only repo with no parameter count offers just its real files; with neither, the
        # estimator's own "parameter count unknown" error is what the user sees.
        with_dtypes = record.params is not None or record.dtype_params or not fit.facts.gguf_files
        options = {name: None for name in DTYPES if with_dtypes}
        options.update({f.label: f for f in fit.facts.gguf_files})
        for label, gguf in options.items():
            fit.bars.append((label, estimate_memory(record, dtype=gguf.dtype if gguf else label, context=context,
                                                    batch=batch, kv_dtype=kv_dtype,
                                                    file_bytes=gguf.size if gguf else None)))
        real_file = fit.facts.gguf_for(dtype)
        label = real_file.label if real_file else dtype if dtype in options else next(iter(options))
        fit.chosen, fit.chosen_label, gguf = dict(fit.bars)[label], label, options[label]
        fit.curve = [estimate_memory(record, dtype=fit.chosen.dtype, context=n, batch=batch, kv_dtype=kv_dtype,
                                     file_bytes=gguf.size if gguf else None)
                     for n in curve_contexts(record.config.context_length, context)]
        fit.verdicts = [verdict(fit.chosen, device, gpus=gpus, ram_bytes=ram_bytes) for device in devices]
    except HfdashError as err:
        fit.error = err
    return fit
