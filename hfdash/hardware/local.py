"""'This machine': CUDA devices through torch when it is importable, and system RAM; any device by name."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hfdash.errors import BadParameters
from hfdash.hardware.devices import SIZE, THIS_MACHINE, Device, custom_device, device_ids, shipped_devices, table_match

MEMINFO = Path("/proc/meminfo")
NVIDIA_DRIVER = Path("/proc/driver/nvidia/version")
ROCM_DEVICE = Path("/dev/kfd")


@dataclass(frozen=True)
class LocalHardware:
    ram_total_bytes: int | None
    ram_available_bytes: int | None
    gpus: tuple[Device, ...]  # CUDA devices; () when none or torch is absent

    @property
    def device(self) -> Device:
        """The device a local model would run on: the first GPU, else system RAM."""
        if self.gpus:
            return self.gpus[0]
        return Device(id=THIS_MACHINE, name="This machine (CPU RAM)", kind="cpu",
                      memory_bytes=self.ram_total_bytes or 0, bandwidth_bytes_s=None, source="/proc/meminfo")


def system_ram() -> tuple[int | None, int | None]:
    """(total, available) bytes from /proc/meminfo, else os.sysconf; None where unknown."""
    if MEMINFO.exists():
        fields = {}
        for line in MEMINFO.read_text().splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                fields[key] = int(parts[0]) * 1024  # meminfo counts kB (KiB)
        return fields.get("MemTotal"), fields.get("MemAvailable")
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        return page * os.sysconf("SC_PHYS_PAGES"), page * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None, None


def gpu_driver_present() -> bool:
    """NVIDIA or ROCm driver visible: only then is importing torch (seconds) worth it."""
    return NVIDIA_DRIVER.exists() or ROCM_DEVICE.exists() or shutil.which("nvidia-smi") is not None


@lru_cache(maxsize=1)
def cuda_devices() -> tuple[Device, ...]:
    if not gpu_driver_present():
        return ()
    try:
        import torch  # heavy and optional: only when this machine is asked about
    except ImportError:
        return ()
    if not torch.cuda.is_available():
        return ()
    devices = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        known = table_match(props.name, props.total_memory)  # its bandwidth, where the table has it
        devices.append(Device(id=f"cuda:{index}", name=f"This machine: {props.name} (cuda:{index})", kind="gpu",
                              memory_bytes=props.total_memory,
                              bandwidth_bytes_s=known.bandwidth_bytes_s if known else None,
                              source="torch.cuda" + (f"; bandwidth of {known.name} ({known.source})" if known else "")))
    return tuple(devices)


def this_machine() -> LocalHardware:
    total, available = system_ram()
    return LocalHardware(ram_total_bytes=total, ram_available_bytes=available, gpus=cuda_devices())


def find_device(name: str) -> Device:
    """A shipped device by id (or exact name), 'this-machine', or a custom size such as '48GiB'."""
    wanted = name.strip().lower()
    if wanted in (THIS_MACHINE, "local"):
        return this_machine().device
    for device in shipped_devices():
        if wanted in (device.id, device.name.lower()):
            return device
    size = SIZE.match(wanted)
    if size:
        return custom_device(float(size.group(1)))
    raise BadParameters(f"unknown device {name!r}; valid: {', '.join(device_ids())}, or a size such as 48GiB.")
