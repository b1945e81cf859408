"""Does an estimate fit a device (or N of them), how comfortably, and how fast could it decode at best."""

from __future__ import annotations

from dataclasses import dataclass

from hfdash.errors import BadParameters
from hfdash.hardware.devices import Device
from hfdash.hardware.estimate import VLLM_UTILIZATION, MemoryEstimate

COMFORTABLE = 0.85  # share of usable memory: up to here leaves room for longer prompts
TIGHT = 0.98  # up to here it loads but any growth fails; above it, no
MAX_GPUS = 64  # per device, the same limit on the page and in the CLI

FITS_ON_ONE = "fits on one"
FITS_ACROSS = "fits across {n}"
CPU_RAM_ONLY = "CPU RAM only"
DOES_NOT_FIT = "does not fit"


@dataclass(frozen=True)
class Verdict:
    device: Device
    gpus: int  # how many were offered
    status: str
    band: str  # "comfortable", "tight" or "no"
    used_devices: int  # how many the model needs (0 when it does not fit on them)
    usage: float  # total / usable memory of the devices used (or of all offered when it does not fit)
    needs_bytes: int  # the estimated total on this kind of device
    tokens_per_s: float | None  # decode-speed upper bound; None when the bandwidth is unknown
    split: str = "layer"  # across several devices: "tensor" (parallel reads) or "layer" (one after another)

    @property
    def fits(self) -> bool:
        return self.status != DOES_NOT_FIT

    @property
    def speed_label(self) -> str:
        if self.tokens_per_s is None:
            return "unknown (bandwidth not known)"
        label = f"≤ {self.tokens_per_s:,.0f} tokens/s (estimate: bandwidth bound"
        if self.used_devices > 1:
            label += (f", tensor-parallel across {self.used_devices}" if self.split == "tensor"
                      else f", layer split: one of {self.used_devices} devices reads at a time")
        return label + ("; if it fitted)" if not self.fits else ")")

    def to_json(self) -> dict:
        return {"device": self.device.id, "device_name": self.device.name, "gpus": self.gpus, "status": self.status,
                "band": self.band, "used_devices": self.used_devices, "usage": round(self.usage, 4),
                "needs_bytes": self.needs_bytes,
                "memory_bytes": self.device.memory_bytes, "usable_bytes": self.device.usable_bytes,
                "tokens_per_s_upper_bound": self.tokens_per_s, "split": self.split}


def band(usage: float) -> str:
    return "comfortable" if usage <= COMFORTABLE else "tight" if usage <= TIGHT else "no"


def decode_bound(estimate: MemoryEstimate, bandwidth_bytes_s: float | None) -> float | None:
    """Tokens/s can never beat bandwidth / bytes read per token (active weights + KV cache)."""
    if not bandwidth_bytes_s or estimate.bytes_per_token <= 0:
        return None
    return bandwidth_bytes_s / estimate.bytes_per_token


def check_gpus(gpus: int) -> None:
    if not 1 <= gpus <= MAX_GPUS:
        raise BadParameters(f"GPU count must be between 1 and {MAX_GPUS} (got {gpus:,}).")


def check_memory_known(device: Device) -> None:
    """No verdict from a guess: a device whose memory size is unknown has none."""
    if device.memory_bytes <= 0:
        raise BadParameters(f"{device.name}: its memory size is unknown ({device.source or 'no source'}), "
                            "so nothing can be said to fit it.")


def limit_share(runtime: str) -> float:
    """The share of usable memory a runtime may fill: vLLM takes gpu_memory_utilization, others up to TIGHT."""
    return VLLM_UTILIZATION if runtime == "vllm" else TIGHT


def budget_bytes(device: Device, gpus: int, runtime: str) -> int:
    check_gpus(gpus)
    check_memory_known(device)
    return int(device.usable_bytes * (1 if device.kind == "cpu" else gpus) * limit_share(runtime))


def verdict(estimate: MemoryEstimate, device: Device, *, gpus: int = 1, ram_bytes: int | None = None) -> Verdict:
    """Fit on `gpus` copies of `device`; `ram_bytes` (this machine's RAM) allows a CPU-only verdict.

    The speed bound is shown whether it fits or not. Across devices it adds their bandwidth only for a
    tensor-parallel split (vLLM); a layer split (transformers device_map, llama.cpp's default) reads one
    device's layers after another's, so one device's bandwidth bounds it."""
    check_gpus(gpus)
    check_memory_known(device)
    total = estimate.total_bytes
    usable = device.usable_bytes
    limit = limit_share(estimate.runtime)
    split = "tensor" if estimate.runtime == "vllm" else "layer"
    single = decode_bound(estimate, device.bandwidth_bytes_s)
    if device.kind == "cpu":
        usage = total / usable if usable else float("inf")
        fits = usage <= limit
        return Verdict(device, 1, CPU_RAM_ONLY if fits else DOES_NOT_FIT, band(usage), int(fits), usage, total, single)
    count = next((n for n in range(1, gpus + 1) if total / (n * usable) <= limit), None)
    if count is not None:
        usage = total / (count * usable)
        status = FITS_ON_ONE if count == 1 else FITS_ACROSS.format(n=count)
        speed = single * count if single and split == "tensor" else single
        return Verdict(device, gpus, status, band(usage), count, usage, total, speed, split)
    usage = total / (gpus * usable)
    if ram_bytes is not None and total <= limit * ram_bytes:
        return Verdict(device, gpus, CPU_RAM_ONLY, band(total / ram_bytes), 0, usage, total, None, split)
    return Verdict(device, gpus, DOES_NOT_FIT, "no", 0, usage, total, single, split)
