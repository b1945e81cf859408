"""Verdict bands, multi-GPU and CPU fits, the decode-speed bound, the device table, this machine, the guard."""

import json

import pytest

from hfdash.catalog.modelconfig import config_from_json
from hfdash.catalog.records import ModelRecord
from hfdash.errors import BadParameters, TooLarge
from hfdash.hardware import (check_fits_locally, custom_device, ensure_fits_locally, estimate_memory, find_device,
                             shipped_devices, this_machine, verdict)
from hfdash.hardware.devices import DEVICES_PATH, GIB
from hfdash.hardware.estimate import MemoryEstimate
from tests.support import real_configs as real


def sized(total_bytes: int, bytes_per_token: int = 10**9, runtime: str = "transformers") -> MemoryEstimate:
    return MemoryEstimate(model_id="m", dtype="bf16", context=1, batch=1, kv_dtype="bf16", params=1,
                          weights_bytes=total_bytes, kv_cache_bytes=0, activation_bytes=0, overhead_bytes=0,
                          total_bytes=total_bytes, bytes_per_token=bytes_per_token, runtime=runtime)


@pytest.mark.parametrize("share,status,band", [
    (0.50, "fits on one", "comfortable"), (0.85, "fits on one", "comfortable"), (0.86, "fits on one", "tight"),
    (0.98, "fits on one", "tight"), (0.99, "does not fit", "no"), (1.5, "does not fit", "no"),
])
def test_headroom_bands_on_one_device(share, status, band):
    device = custom_device(100)
    result = verdict(sized(int(device.usable_bytes * share)), device)
    assert (result.status, result.band) == (status, band)


def test_fits_across_n_gpus_uses_the_fewest_that_fit():
    h100 = find_device("h100")
    result = verdict(sized(int(2.5 * h100.usable_bytes)), h100, gpus=8)
    assert (result.status, result.used_devices, result.band) == ("fits across 3", 3, "comfortable")
    # transformers splits by layer: one device reads at a time, so the bound is one H100's.
    assert result.tokens_per_s == pytest.approx(3350e9 / 10**9) and result.split == "layer"
    assert "layer split" in result.speed_label
    # vLLM splits tensor-parallel: the 3 used devices read at once (and it may fill 90% of each).
    parallel = verdict(sized(int(2.5 * h100.usable_bytes), runtime="vllm"), h100, gpus=8)
    assert parallel.tokens_per_s == pytest.approx(3 * 3350e9 / 10**9)
    assert "tensor-parallel across 3" in parallel.speed_label
    too_big = verdict(sized(9 * h100.usable_bytes), h100, gpus=8)
    # Shown even when it does not fit, and marked so.
    assert too_big.status == "does not fit" and too_big.tokens_per_s == pytest.approx(3350)
    assert "if it fitted" in too_big.speed_label


@pytest.mark.parametrize("gpus", [0, 65, 10**14])
def test_gpu_count_outside_1_to_64_is_refused(gpus):
    with pytest.raises(BadParameters, match="GPU count must be between 1 and 64"):
        verdict(sized(GIB), find_device("h100"), gpus=gpus)


def test_cpu_ram_only_when_gpus_are_too_small_but_ram_holds_it():
    result = verdict(sized(30 * GIB), find_device("rtx-4090"), ram_bytes=64 * GIB)
    assert result.status == "CPU RAM only" and result.tokens_per_s is None
    assert verdict(sized(70 * GIB), find_device("rtx-4090"), ram_bytes=64 * GIB).status == "does not fit"


def test_decode_bound_is_bandwidth_over_bytes_per_token_and_moe_is_faster():
    rtx = find_device("rtx-4090")
    dense = estimate_memory(ModelRecord(id="Qwen/Qwen3-8B", params=8_190_735_360,
                                        config=config_from_json(real.QWEN3_8B)), dtype="q4_k_m", context=4096)
    bound = verdict(dense, rtx)
    assert bound.tokens_per_s == pytest.approx(1008e9 / dense.bytes_per_token)
    assert "estimate" in bound.speed_label
    cfg = config_from_json(real.GPT_OSS_20B)
    moe = estimate_memory(ModelRecord(id="openai/gpt-oss-20b", params=20_914_757_184,
                                      config=type(cfg)(**{**vars(cfg), "active_parameters": 3_529_365_271})),
                          dtype="q4_k_m", context=4096)
    assert verdict(moe, rtx).tokens_per_s > 4 * 1008e9 / moe.weights_bytes  # reads ~1/6 of the weights


def test_apple_unified_memory_counts_its_usable_fraction():
    mac = find_device("m3-max-128gb")
    assert mac.kind == "unified" and mac.usable_bytes == int(128 * GIB * 0.75)
    assert verdict(sized(100 * GIB), mac).status == "does not fit"


def test_device_table_names_a_source_for_every_row_and_covers_the_families():
    rows = json.loads(DEVICES_PATH.read_text())["devices"]
    assert all(row["source"] and row["memory_gib"] > 0 and row["bandwidth_gbs"] > 0 for row in rows)
    ids = {d.id for d in shipped_devices()}
    assert {"rtx-4090", "rx-7900-xtx", "a100-80gb", "h100", "h200", "l4", "t4", "m4-max-128gb"} <= ids


def test_device_lookup_and_bad_names():
    assert find_device("48GiB").memory_bytes == 48 * GIB
    assert find_device("NVIDIA L4 24 GB").id == "l4"
    with pytest.raises(BadParameters, match="unknown device 'gtx-9999'; valid: rtx-3060, .*h100.*this-machine"):
        find_device("gtx-9999")


def test_this_machine_reads_real_ram():
    hardware = this_machine()
    assert hardware.ram_total_bytes > hardware.ram_available_bytes > 0
    assert hardware.device.memory_bytes in (hardware.ram_total_bytes, *(g.memory_bytes for g in hardware.gpus))


def test_guard_passes_a_small_model_and_stops_a_huge_one_with_numbers_and_a_suggestion():
    smol = ModelRecord(id="HuggingFaceTB/SmolLM2-135M-Instruct", params=134_515_008,
                       config=config_from_json(real.SMOLLM2_135M))
    check = check_fits_locally(smol, dtype="float32", context=2048)
    assert check.fits and check.estimate.dtype == "fp32"
    assert ensure_fits_locally(smol, dtype="bf16", context=2048).fits

    available = this_machine().ram_available_bytes
    # Sized from this machine's free RAM: twice too big at bf16, about 2/3 of it at int4.
    params = available
    big = ModelRecord(id="org/big", params=params, config=config_from_json(real.QWEN3_8B))
    with pytest.raises(TooLarge) as caught:
        ensure_fits_locally(big, dtype="bf16", context=1024)
    message = caught.value.user_message()
    assert "org/big at bf16" in message and "available" in message and "GiB" in message
    assert "smaller precision (int4)" in message

    huge = ModelRecord(id="deepseek-ai/DeepSeek-V3", params=684_531_386_000, config=config_from_json(real.DEEPSEEK_V3))
    with pytest.raises(TooLarge) as caught:
        ensure_fits_locally(huge, dtype="fp32", context=1024)
    assert "hosted backend" in caught.value.user_message()
    with pytest.raises(BadParameters, match="valid: cpu, cuda"):
        check_fits_locally(smol, dtype="bf16", context=1024, device="tpu")


def test_a_device_whose_memory_is_unknown_gets_no_verdict():
    from hfdash.hardware.devices import Device

    unknown = Device(id="this-machine", name="This machine (CPU RAM)", kind="cpu", memory_bytes=0,
                     bandwidth_bytes_s=None, source="/proc/meminfo")
    with pytest.raises(BadParameters, match="This machine \\(CPU RAM\\): its memory size is unknown"):
        verdict(sized(GIB), unknown)
