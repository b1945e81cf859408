"""Does an estimate fit a device (or N of them), how comfortably, and how fast could it decode at best."""

from __future__ import annotations

from dataclasses import dataclass

from hfdash.errors import BadParameters
from hfdash.hardware.devices import Device
from hfdash.hardware.estimate import MemoryEstimate

COMFORTABLE = 0.85  # share of usable memory: up to here leaves room for longer prompts
TIGHT = 0.98  # up to here it loads but any growth fails; above it, no

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
    tokens_per_s: float | None  # decode-speed upper bound; None when the bandwidth is unknown

    @property
    def speed_label(self) -> str:
        if self.tokens_per_s is None:
            return "unknown (bandwidth not known)"
        return f"≤ {self.tokens_per_s:,.0f} tokens/s (estimate: bandwidth bound)"

    def to_json(self) -> dict:
        return {"device": self.device.id, "device_name": self.device.name, "gpus": self.gpus, "status": self.status,
                "band": self.band, "used_devices": self.used_devices, "usage": round(self.usage, 4),
                "memory_bytes": self.device.memory_bytes, "usable_bytes": self.device.usable_bytes,
                "tokens_per_s_upper_bound": self.tokens_per_s}


def band(usage: float) -> str:
    return "comfortable" if usage <= COMFORTABLE else "tight" if usage <= TIGHT else "no"


def decode_bound(estimate: MemoryEstimate, bandwidth_bytes_s: float | None) -> float | None:
    """Tokens/s can never beat bandwidth / bytes read per token (active weights + KV cache)."""
    if not bandwidth_bytes_s or estimate.bytes_per_token <= 0:
        return None
    return bandwidth_bytes_s / estimate.bytes_per_token


def verdict(estimate: MemoryEstimate, device: Device, *, gpus: int = 1, ram_bytes: int | None = None) -> Verdict:
    """Fit on `gpus` copies of `device`; `ram_bytes` (this machine's RAM) allows a CPU-only verdict."""
    if gpus < 1:
        raise BadParameters(f"GPU count must be at least 1 (got {gpus}).")
    total = estimate.total_bytes
    usable = device.usable_bytes
    if device.kind == "cpu":
        usage = total / usable if usable else float("inf")
        fits = usage <= TIGHT
        return Verdict(device, 1, CPU_RAM_ONLY if fits else DOES_NOT_FIT, band(usage), int(fits), usage,
                       decode_bound(estimate, device.bandwidth_bytes_s) if fits else None)
    count = next((n for n in range(1, gpus + 1) if total / (n * usable) <= TIGHT), None)
    if count is not None:
        usage = total / (count * usable)
        status = FITS_ON_ONE if count == 1 else FITS_ACROSS.format(n=count)
        # Tensor parallelism splits the bytes read per token across the devices' bandwidth.
        bandwidth = device.bandwidth_bytes_s * count if device.bandwidth_bytes_s else None
        return Verdict(device, gpus, status, band(usage), count, usage, decode_bound(estimate, bandwidth))
    usage = total / (gpus * usable)
    if ram_bytes is not None and total <= TIGHT * ram_bytes:
        return Verdict(device, gpus, CPU_RAM_ONLY, band(total / ram_bytes), 0, usage, None)
    return Verdict(device, gpus, DOES_NOT_FIT, "no", 0, usage, None)
