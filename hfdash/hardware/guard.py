"""'Will it fit here?' before the local backend downloads or loads anything: the same estimator as the chart."""

from __future__ import annotations

from dataclasses import dataclass

from hfdash.catalog.records import ModelRecord
from hfdash.errors import BadParameters, TooLarge
from hfdash.hardware.estimate import MemoryEstimate, estimate_memory
from hfdash.hardware.local import this_machine
from hfdash.hardware.verdict import TIGHT
from hfdash.units import human_bytes

# torch names and "auto" as the local backend spells them.
DTYPE_ALIASES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16", "half": "fp16", "auto": "bf16"}
# Smaller precisions the local backend can load, largest first: what to suggest instead.
SMALLER = ("bf16", "int8", "int4")


@dataclass(frozen=True)
class FitCheck:
    estimate: MemoryEstimate
    device: str
    available_bytes: int | None  # None: this machine could not say; the check then passes
    fits: bool

    @property
    def message(self) -> str:
        if self.available_bytes is None:
            return f"needs about {human_bytes(self.estimate.total_bytes)}; free memory on {self.device} is unknown."
        return (f"{self.estimate.model_id} at {self.estimate.dtype} with {self.estimate.context:,} tokens needs about "
                f"{human_bytes(self.estimate.total_bytes)}; {self.device} has {human_bytes(self.available_bytes)} "
                f"available.")


def _available_bytes(device: str) -> int | None:
    hardware = this_machine()
    if device == "cpu":
        return hardware.ram_available_bytes
    if device.startswith("cuda"):
        index = int(device.partition(":")[2] or 0)
        if index >= len(hardware.gpus):
            raise BadParameters(f"device {device!r} is not present here (CUDA devices: {len(hardware.gpus)}).")
        return hardware.gpus[index].memory_bytes
    raise BadParameters(f"unknown local device {device!r}; valid: cpu, cuda, cuda:N.")


def _estimate(record: ModelRecord, *, dtype: str, context: int, device: str) -> MemoryEstimate:
    return estimate_memory(record, dtype=DTYPE_ALIASES.get(dtype, dtype), context=context,
                           device_kind="cpu" if device == "cpu" else "gpu")


def check_fits_locally(record: ModelRecord, *, dtype: str, context: int, device: str = "cpu") -> FitCheck:
    estimate = _estimate(record, dtype=dtype, context=context, device=device)
    available = _available_bytes(device)
    fits = available is None or estimate.total_bytes <= TIGHT * available
    return FitCheck(estimate, device, available, fits)


def ensure_fits_locally(record: ModelRecord, *, dtype: str, context: int, device: str = "cpu") -> FitCheck:
    """Raise TooLarge, with the numbers and what to try instead, when the model would not fit."""
    check = check_fits_locally(record, dtype=dtype, context=context, device=device)
    if check.fits or check.available_bytes is None:  # an unknown size is no reason to refuse
        return check
    smaller = next((name for name in SMALLER
                    if _estimate(record, dtype=name, context=context, device=device).total_bytes
                    <= TIGHT * check.available_bytes), None)
    hint = (f"Try a smaller precision ({smaller}) or a hosted backend." if smaller
            else "Use a hosted backend (Inference Providers or an OpenAI-compatible server).")
    raise TooLarge(check.message, hint=hint)
