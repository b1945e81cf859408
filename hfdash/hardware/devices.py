"""The shipped accelerator table (hfdash/data/devices.json), a custom size, and this machine."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hfdash.errors import BadParameters
from hfdash.hardware.estimate import GIB

DEVICES_PATH = Path(__file__).resolve().parent.parent / "data" / "devices.json"
THIS_MACHINE = "this-machine"
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(gib|gb|g)\s*$", re.IGNORECASE)
MAX_MEMORY_GIB = 4096  # a custom device above this is a typo; the same limit on the page and in the CLI
_MEMORY_WORD = re.compile(r"^\d+gb$")


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    kind: str  # "gpu", "unified" (Apple silicon) or "cpu" (system RAM)
    memory_bytes: int
    bandwidth_bytes_s: float | None  # peak; None = unknown
    usable_fraction: float = 1.0
    source: str = ""

    @property
    def usable_bytes(self) -> int:
        return int(self.memory_bytes * self.usable_fraction)


@lru_cache(maxsize=1)
def shipped_devices() -> tuple[Device, ...]:
    rows = json.loads(DEVICES_PATH.read_text())["devices"]
    return tuple(Device(id=row["id"], name=row["name"], kind=row["kind"], memory_bytes=int(row["memory_gib"] * GIB),
                        bandwidth_bytes_s=row["bandwidth_gbs"] * 1e9,
                        usable_fraction=row.get("usable_fraction", 1.0), source=row["source"])
                 for row in rows)


def custom_device(memory_gib: float, *, name: str | None = None) -> Device:
    if not 0 < memory_gib <= MAX_MEMORY_GIB:
        raise BadParameters(f"memory size must be between 0 and {MAX_MEMORY_GIB:,} GiB (got {memory_gib:g} GiB).")
    return Device(id=f"{memory_gib:g}gib", name=name or f"Custom {memory_gib:g} GiB", kind="gpu",
                  memory_bytes=int(memory_gib * GIB), bandwidth_bytes_s=None, source="entered by the user")


def device_ids() -> list[str]:
    return [d.id for d in shipped_devices()] + [THIS_MACHINE]


def table_match(gpu_name: str, memory_bytes: int) -> Device | None:
    """The shipped device a detected GPU is (e.g. torch's "NVIDIA A100-SXM4-40GB"): every word of its id
    (memory words aside) in the name, memory within 15%; the most specific such id wins."""
    words = set(re.split(r"[\s\-_]+", gpu_name.lower()))
    found = []
    for device in shipped_devices():
        needed = [w for w in device.id.split("-") if not _MEMORY_WORD.match(w)]
        if all(w in words for w in needed) and abs(memory_bytes / device.memory_bytes - 1) <= 0.15:
            found.append((len(needed), device))
    return max(found, key=lambda item: item[0])[1] if found else None
