"""The reverse questions (largest context per precision, best precision at a context, vLLM's KV room) and
this machine's GPU matched to the device table."""

import pytest

from hfdash.catalog import get_model
from hfdash.catalog.modelconfig import config_from_json
from hfdash.catalog.records import ModelRecord
from hfdash.errors import BadParameters
from hfdash.hardware.devices import GIB, custom_device, table_match
from hfdash.hardware.local import find_device
from hfdash.hardware.estimate import VLLM_UTILIZATION, estimate_memory
from hfdash.hardware.reverse import best_precision, context_table, max_context, precisions_for, vllm_capacity
from hfdash.hardware.verdict import TIGHT
from tests.support import real_configs as real

QWEN = ModelRecord(id="Qwen/Qwen3-8B", params=8_190_735_360, config=config_from_json(real.QWEN3_8B))


def test_largest_context_is_the_edge_of_the_budget():
    rtx = find_device("rtx-4090")
    found = max_context(QWEN, rtx, dtype="bf16")
    assert found.runtime == "transformers" and found.kv_known and not found.model_limit
    budget = TIGHT * rtx.usable_bytes
    assert estimate_memory(QWEN, dtype="bf16", context=found.max_context).total_bytes <= budget
    assert estimate_memory(QWEN, dtype="bf16", context=found.max_context + 1).total_bytes > budget
    # At 4 bits the model's own maximum (40,960) is the bound, and it says so.
    small = max_context(QWEN, rtx, dtype="q4_k_m")
    assert (small.max_context, small.model_limit, small.runtime) == (40960, True, "llama.cpp")
    # Weights alone do not fit: no context at all.
    assert max_context(QWEN, custom_device(8), dtype="bf16").max_context is None


def test_best_precision_is_the_most_bits_reaching_the_context():
    rtx3060 = find_device("rtx-3060")
    table = context_table(QWEN, rtx3060)
    assert [row.dtype for row in table] == precisions_for(None)
    assert table[0].dtype == "fp32" and table[0].max_context is None  # 32 GiB of weights on 12 GiB
    best = best_precision(table, 32768)
    assert best is not None and best.max_context >= 32768
    more_bits = [row for row in table if row.max_context is not None and row.max_context >= 32768]
    assert best == more_bits[0]
    assert best_precision(table, 10**9) is None


def test_runtime_limits_the_precisions():
    assert precisions_for("llama.cpp") == ["fp32", "bf16", "fp16", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0",
                                           "q3_k_m", "q2_k"]
    assert "q4_k_m" not in precisions_for("vllm") and "int4" in precisions_for("transformers")


def test_unknown_kv_is_said_not_silently_answered():
    # Gated Gemma 3 4B: the snapshot keeps its parameter count but no layer facts (filler context dropped).
    gemma = get_model("google/gemma-3-4b-it", source="snapshot")
    assert gemma.config.context_length is None  # unknown is not a limit
    found = max_context(gemma, find_device("rtx-4090"), dtype="bf16")
    assert not found.kv_known


def test_vllm_capacity_is_what_its_memory_share_leaves_for_kv():
    h100 = find_device("h100")
    est = estimate_memory(QWEN, dtype="bf16", context=32768, runtime="vllm")
    capacity = vllm_capacity(est, h100)
    budget = int(h100.usable_bytes * VLLM_UTILIZATION)
    assert capacity.kv_budget_bytes == budget - est.weights_bytes - est.activation_bytes - est.overhead_bytes
    assert capacity.sequences == capacity.kv_budget_bytes // est.kv_cache_bytes
    assert capacity.sequences >= 10  # ~48 GiB of KV room, 4.5 GiB per 32k-token sequence
    assert vllm_capacity(est, h100, gpus=2).sequences > 2 * capacity.sequences - 1
    with pytest.raises(BadParameters, match="vLLM answer"):
        vllm_capacity(estimate_memory(QWEN, dtype="bf16", context=1024), h100)


@pytest.mark.parametrize("name,memory_gib,device_id", [
    ("NVIDIA GeForce RTX 4090", 23.6, "rtx-4090"), ("NVIDIA H100 80GB HBM3", 79.1, "h100"),
    ("NVIDIA H100 PCIe", 79.1, "h100-pcie"), ("NVIDIA A100-SXM4-40GB", 39.4, "a100-40gb"),
    ("Tesla T4", 14.7, "t4"), ("AMD Radeon RX 7900 XTX", 24, "rx-7900-xtx"),
    ("NVIDIA GeForce RTX 4060 Ti", 8, None),  # the 8 GB card is not in the table
    ("NVIDIA GeForce GTX 1080", 8, None),
])
def test_this_machines_gpu_is_matched_to_the_table_for_its_bandwidth(name, memory_gib, device_id):
    found = table_match(name, int(memory_gib * GIB))
    assert (found.id if found else None) == device_id


def test_several_models_facts_come_together_under_one_deadline(monkeypatch):
    import time

    from hfdash.errors import NotFound, Timeout
    from hfdash.hardware import hubfacts

    real = hubfacts.model_facts

    def slow_for_one(model_id, **kwargs):  # a fake delay: a Hub that never answers for one model
        if model_id == "Qwen/Qwen3-8B":
            time.sleep(5)
        return real(model_id, **kwargs)

    monkeypatch.setattr(hubfacts, "model_facts", slow_for_one)
    started = time.monotonic()
    found = hubfacts.many_model_facts(["HuggingFaceTB/SmolLM2-135M-Instruct", "Qwen/Qwen3-8B", "nobody/none"],
                                      deadline_s=1.5, source="snapshot")
    assert time.monotonic() - started < 4  # one deadline for all, not one per model
    assert list(found) == ["HuggingFaceTB/SmolLM2-135M-Instruct", "Qwen/Qwen3-8B", "nobody/none"]
    assert found["HuggingFaceTB/SmolLM2-135M-Instruct"].record.params == 134_515_008
    assert isinstance(found["Qwen/Qwen3-8B"], Timeout) and "no answer within" in found["Qwen/Qwen3-8B"].message
    assert isinstance(found["nobody/none"], NotFound)
