"""Will a model fit: memory estimate, device table, this machine, verdicts and the local-load guard."""

from hfdash.hardware.devices import Device, custom_device, device_ids, shipped_devices
from hfdash.hardware.estimate import DTYPES, KV_DTYPES, PRECISIONS, MemoryEstimate, estimate_memory
from hfdash.hardware.guard import FitCheck, check_fits_locally, ensure_fits_locally
from hfdash.hardware.hubfacts import GgufFile, ModelFacts, model_facts
from hfdash.hardware.local import LocalHardware, find_device, gpu_driver_present, this_machine
from hfdash.hardware.verdict import Verdict, verdict

__all__ = ["DTYPES", "KV_DTYPES", "PRECISIONS", "Device", "FitCheck", "GgufFile", "LocalHardware", "MemoryEstimate",
           "ModelFacts", "Verdict", "check_fits_locally", "custom_device", "device_ids", "ensure_fits_locally",
           "estimate_memory", "find_device", "gpu_driver_present", "model_facts", "shipped_devices", "this_machine",
           "verdict"]
