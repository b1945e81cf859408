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
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(gib|gb|g)\s*$", re.IGNORECASE)


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
    if memory_gib <= 0:
        raise BadParameters(f"memory size must be positive (got {memory_gib} GiB).")
    return Device(id=f"{memory_gib:g}gib", name=name or f"Custom {memory_gib:g} GiB", kind="gpu",
                  memory_bytes=int(memory_gib * GIB), bandwidth_bytes_s=None, source="entered by the user")


def device_ids() -> list[str]:
    return [d.id for d in shipped_devices()] + [THIS_MACHINE]


def find_device(name: str) -> Device:
    """A shipped device by id (or exact name), 'this-machine', or a custom size such as '48GiB'."""
    wanted = name.strip().lower()
    if wanted in (THIS_MACHINE, "local"):
        from hfdash.hardware.local import this_machine

        return this_machine().device
    for device in shipped_devices():
        if wanted in (device.id, device.name.lower()):
            return device
    size = _SIZE.match(wanted)
    if size:
        return custom_device(float(size.group(1)))
    raise BadParameters(f"unknown device {name!r}; valid: {', '.join(device_ids())}, or a size such as 48GiB.")
