"""The estimator's terms against hand-computed values for real configs (config.json as published)."""

import pytest

from hfdash.catalog.modelconfig import config_from_json, resolve_defaults
from hfdash.catalog.records import ModelConfig, ModelRecord
from hfdash.errors import BadParameters
from hfdash.hardware.estimate import (ACT_HIDDEN, ACT_INTERMEDIATE, GIB, LLAMA_CPP_FIXED, MATH_SCORE_BYTES,
                                      MAX_CONTEXT, PRECISIONS, RUNTIME_BYTES, VLLM_BATCHED_TOKENS, VLLM_FIXED,
                                      VLLM_MAX_SEQS, estimate_memory)
from tests.support import real_configs as real


def record(config: dict | None, params: int | None = 8_190_735_360, model_id: str = "org/model",
           **extra) -> ModelRecord:
    return ModelRecord(id=model_id, params=params, config=config_from_json(config) if config else ModelConfig(),
                       **extra)


def test_config_fields_from_real_configs():
    qwen = config_from_json(real.QWEN3_8B)
    assert (qwen.num_hidden_layers, qwen.num_attention_heads, qwen.num_key_value_heads,
            qwen.head_dim) == (36, 32, 8, 128)
    assert (qwen.context_length, qwen.sliding_window, qwen.is_moe,
            qwen.tie_word_embeddings) == (40960, None, False, False)

    gemma = config_from_json(real.GEMMA3_1B)  # sliding_window_pattern 6: layers 5, 11, 17, 23 are global
    assert (gemma.sliding_window, gemma.sliding_window_layers, gemma.head_dim) == (512, 22, 256)

    oss = config_from_json(real.GPT_OSS_20B)  # layer_types alternates
    assert (oss.sliding_window, oss.sliding_window_layers) == (128, 12)
    assert (oss.is_moe, oss.num_experts, oss.active_experts, oss.quant_method,
            oss.quant_bits) == (True, 32, 4, "mxfp4", 4)

    mixtral = config_from_json(real.MIXTRAL_8X7B)
    assert (mixtral.is_moe, mixtral.num_experts, mixtral.active_experts, mixtral.sliding_window) == (True, 8, 2, None)

    mistral = config_from_json(real.MISTRAL_7B_V01)  # no layer list: every layer slides
    assert (mistral.sliding_window, mistral.sliding_window_layers) == (4096, 32)

    deepseek = config_from_json(real.DEEPSEEK_V3)
    assert (deepseek.kv_lora_rank, deepseek.qk_rope_head_dim, deepseek.num_experts,
            deepseek.active_experts) == (512, 64, 256, 8)
    assert (deepseek.quant_method, deepseek.quant_bits) == ("fp8", 8)

    gemma4b = config_from_json(real.GEMMA3_4B)  # nested text_config; heads left to library defaults: unknown
    assert (gemma4b.architecture, gemma4b.num_hidden_layers, gemma4b.hidden_size) == ("gemma3", 34, 2560)
    assert (gemma4b.sliding_window, gemma4b.sliding_window_layers, gemma4b.num_attention_heads) == (1024, 29, None)


def test_qwen3_8b_bf16_at_8192_tokens_term_by_term():
    est = estimate_memory(record(real.QWEN3_8B), dtype="bf16", context=8192)
    assert est.kv_cache_bytes == 2 * 36 * 8 * 128 * 8192 * 2
    assert est.weights_bytes == 8_190_735_360 * 2
    # transformers' prefill buffers per token in bf16, plus fp32 logits of the last position
    assert est.runtime == "transformers"
    assert est.activation_bytes == 8192 * (ACT_INTERMEDIATE * 12288 + ACT_HIDDEN * 4096) * 2 + 151936 * 4
    assert est.overhead_bytes == RUNTIME_BYTES + round(0.05 * (est.weights_bytes + est.kv_cache_bytes))
    assert est.total_bytes == est.weights_bytes + est.kv_cache_bytes + est.activation_bytes + est.overhead_bytes
    assert est.notes == ()


def test_gemma3_config_without_head_dim_resolves_to_transformers_defaults():
    # The Gemma 3 4B config lists only non-default text_config keys: head_dim, heads and the sliding pattern
    # come from Gemma3TextConfig, as transformers loads them (hidden / heads would give 2560 / 8 = 320).
    gemma = config_from_json(resolve_defaults(real.GEMMA3_4B))
    assert (gemma.head_dim, gemma.num_attention_heads, gemma.num_key_value_heads) == (256, 8, 4)
    assert (gemma.sliding_window, gemma.sliding_window_layers, gemma.num_hidden_layers) == (1024, 29, 34)
    assert gemma.context_length == 131072
    # 5 sliding layers to 1 global: 34 layers -> layers 5, 11, 17, 23, 29 are global.
    est = estimate_memory(ModelRecord(id="google/gemma-3-4b-it", params=4_300_079_472, config=gemma),
                          dtype="bf16", context=32768)
    assert est.kv_cache_bytes == 2 * (5 * 32768 + 29 * 1024) * 4 * 256 * 2


def test_each_runtime_counts_its_own_buffers_and_names_its_sources():
    llama = record(real.QWEN3_8B)
    hf = estimate_memory(llama, dtype="fp16", context=32768, runtime="transformers")
    cpp = estimate_memory(llama, dtype="q4_k_m", context=32768)  # GGUF precisions default to llama.cpp
    cpp16 = estimate_memory(llama, dtype="fp16", context=32768, runtime="llama.cpp")
    vllm = estimate_memory(llama, dtype="bf16", context=32768, runtime="vllm")
    assert cpp.runtime == "llama.cpp" and cpp.kv_dtype == "fp16"
    assert cpp16.weights_bytes == hf.weights_bytes and cpp.kv_cache_bytes == hf.kv_cache_bytes
    # llama.cpp: one 512-token micro-batch's f32 logits and hidden row, however long the context.
    assert cpp.activation_bytes == 4 * 512 * (151936 + 4096)
    assert cpp.overhead_bytes == LLAMA_CPP_FIXED["gpu"] == 300 * 2**20  # no device named: a GPU's CUDA context
    assert cpp16.total_bytes < hf.total_bytes - 3 * GIB  # whole-prompt buffers are what transformers adds
    assert vllm.activation_bytes == (VLLM_BATCHED_TOKENS * (ACT_INTERMEDIATE * 12288 + ACT_HIDDEN * 4096) * 2
                                     + VLLM_MAX_SEQS * 151936 * 4)
    assert vllm.overhead_bytes == VLLM_FIXED
    for est in (hf, cpp, vllm):
        sources = est.to_json()["sources"]
        assert set(sources) == {"weights", "kv_cache", "activations", "overhead"} and all(sources.values())
        assert est.to_json()["runtime"] == est.runtime
    assert "bench/bench_fit_accuracy.py" in hf.to_json()["sources"]["activations"]
    assert "258.50 MiB" in cpp.to_json()["sources"]["activations"]
    # A short prompt is one short micro-batch.
    assert estimate_memory(llama, dtype="q4_k_m", context=100).activation_bytes == 4 * 100 * (151936 + 4096)


def test_llama_cpp_on_the_cpu_counts_the_pages_it_writes_and_no_cuda_context():
    qwen = record(real.QWEN3_8B)
    gpu = estimate_memory(qwen, dtype="q4_k_m", context=32768, device_kind="gpu")
    cpu = estimate_memory(qwen, dtype="q4_k_m", context=32768, device_kind="cpu")
    mac = estimate_memory(qwen, dtype="q4_k_m", context=32768, device_kind="unified")
    assert (gpu.weights_bytes, gpu.kv_cache_bytes) == (cpu.weights_bytes, cpu.kv_cache_bytes)
    # The CPU's malloc'd compute buffer: one micro-batch's f32 MLP tensors and hidden rows, the f16 mask over
    # the cache, one row of logits; a GPU or Metal allocation holds the whole reserve (logits for 512 tokens).
    assert cpu.activation_bytes == 4 * 512 * (4 * 12288 + 2 * 4096) + 2 * 512 * 32768 + 4 * 151936
    assert gpu.activation_bytes == mac.activation_bytes == 4 * 512 * (151936 + 4096)
    assert cpu.overhead_bytes == mac.overhead_bytes == 64 * 2**20 and gpu.overhead_bytes == 300 * 2**20
    assert "measured in bench/bench_fit_accuracy.py" in cpu.to_json()["sources"]["overhead"]
    assert "llama.cpp PR #23604" in gpu.to_json()["sources"]["overhead"]
    assert "not on Metal" in mac.to_json()["sources"]["overhead"]
    assert [e.to_json()["device_kind"] for e in (gpu, cpu, mac)] == ["gpu", "cpu", "unified"]
    # transformers and vLLM keep their figures whatever the kind (no MLA here).
    for runtime, dtype in (("transformers", "bf16"), ("vllm", "bf16")):
        on = [estimate_memory(qwen, dtype=dtype, context=32768, runtime=runtime, device_kind=kind).total_bytes
              for kind in ("gpu", "cpu", "unified")]
        assert len(set(on)) == 1, runtime


def test_mla_on_the_cpu_counts_the_math_attention_scores():
    # DeepSeek-V2-Lite: 16 heads, query/key head 128 + 64, value head 128: PyTorch's fused CPU attention
    # refuses unequal head dims, so the math path holds fp32 scores for every pair of prompt tokens.
    lite = record(real.DEEPSEEK_V2_LITE, params=15_706_484_224)
    n, heads, nope, rope, value = 4096, 16, 128, 64, 128
    dense = n * (ACT_INTERMEDIATE * 10944 + ACT_HIDDEN * 2048 + 2 * 6 * 2048) * 2 + 102400 * 4
    attention = heads * n * (MATH_SCORE_BYTES * n + 8 * (nope + rope + value) + 2 * (2 * (nope + rope) + nope + value))
    cpu = estimate_memory(lite, dtype="bf16", context=n, runtime="transformers", device_kind="cpu")
    gpu = estimate_memory(lite, dtype="bf16", context=n, runtime="transformers", device_kind="gpu")
    assert gpu.activation_bytes == dense
    assert cpu.activation_bytes == round(attention + 102400 * 4) > 4 * dense
    assert "math attention" in cpu.to_json()["sources"]["activations"]
    assert "math attention" not in gpu.to_json()["sources"]["activations"]
    # A short prompt: the MLP's buffers are still the larger, and they are what counts.
    short = estimate_memory(lite, dtype="bf16", context=256, runtime="transformers", device_kind="cpu")
    assert short.activation_bytes == estimate_memory(lite, dtype="bf16", context=256, runtime="transformers",
                                                     device_kind="gpu").activation_bytes


def test_batch_and_kv_dtype_scale_the_cache():
    base = estimate_memory(record(real.QWEN3_8B), dtype="bf16", context=4096)
    batched = estimate_memory(record(real.QWEN3_8B), dtype="bf16", context=4096, batch=4)
    assert batched.kv_cache_bytes == 4 * base.kv_cache_bytes
    assert estimate_memory(record(real.QWEN3_8B), dtype="bf16", context=4096,
                           kv_dtype="fp8").kv_cache_bytes == base.kv_cache_bytes // 2
    assert estimate_memory(record(real.QWEN3_8B), dtype="fp32", context=4096).kv_dtype == "fp32"
    assert estimate_memory(record(real.QWEN3_8B), dtype="q4_k_m", context=4096).kv_dtype == "fp16"


def test_unknown_config_gives_weights_only_and_says_so():
    est = estimate_memory(record(None, params=7_000_000_000), dtype="fp16", context=4096)
    assert est.kv_cache_bytes is None
    assert any("KV cache unknown" in note for note in est.notes)
    assert est.total_bytes == est.weights_bytes + est.overhead_bytes  # no activations either: hidden unknown
    assert est.to_json()["kv_cache_bytes"] is None


def test_sliding_window_layers_hold_only_the_window():
    gemma = record(real.GEMMA3_1B, params=999_885_952)
    est = estimate_memory(gemma, dtype="bf16", context=32768)
    assert est.kv_cache_bytes == 2 * (4 * 32768 + 22 * 512) * 1 * 256 * 2
    short = estimate_memory(gemma, dtype="bf16", context=256)  # shorter than the window: all layers hold 256
    assert short.kv_cache_bytes == 2 * 26 * 256 * 1 * 256 * 2

    oss = estimate_memory(record(real.GPT_OSS_20B, params=20_914_757_184), dtype="bf16", context=131072)
    assert oss.kv_cache_bytes == 2 * (12 * 131072 + 12 * 128) * 8 * 64 * 2

    mistral = estimate_memory(record(real.MISTRAL_7B_V01, params=7_241_732_096), dtype="bf16", context=16384)
    assert mistral.kv_cache_bytes == 2 * 32 * 4096 * 8 * 128 * 2


def test_mla_caches_the_latent_not_full_heads():
    deepseek = record(real.DEEPSEEK_V3, params=684_531_386_000)
    est = estimate_memory(deepseek, dtype="fp8", context=32768, runtime="vllm")
    assert est.kv_cache_bytes == 61 * 32768 * (512 + 64) * 2
    assert estimate_memory(deepseek, dtype="q4_k_m", context=32768).kv_cache_bytes == est.kv_cache_bytes
    # transformers 5 caches the latent too (its DeepSeek attention updates the cache before decompressing;
    # bench_fit_accuracy's DeepSeek-V2-Lite case measures it).
    assert estimate_memory(deepseek, dtype="fp8", context=32768, runtime="transformers").kv_cache_bytes == \
        est.kv_cache_bytes
    # Without the latent sizes (the snapshot lacks them) the cache is unknown, not 128 full heads.
    bare = ModelRecord(id="deepseek-ai/DeepSeek-V3", params=684_531_386_000,
                       config=ModelConfig(architecture="deepseek_v3", num_hidden_layers=61, num_key_value_heads=128,
                                          head_dim=56, hidden_size=7168))
    unknown = estimate_memory(bare, dtype="fp8", context=32768)
    assert unknown.kv_cache_bytes is None and any("latent" in note for note in unknown.notes)


def test_moe_speed_reads_active_parameters_only():
    cfg = config_from_json(real.MIXTRAL_8X7B)
    mixtral = ModelRecord(id="mistralai/Mixtral-8x7B-Instruct-v0.1", params=46_702_792_704,
                          config=ModelConfig(**{**vars(cfg), "active_parameters": 12_900_000_000}))
    est = estimate_memory(mixtral, dtype="bf16", context=4096)
    assert est.weights_bytes == 46_702_792_704 * 2  # every expert is held in memory
    assert est.bytes_per_token == round(est.weights_bytes * 12_900_000_000 / 46_702_792_704) + est.kv_cache_bytes
    dense = estimate_memory(record(real.QWEN3_8B), dtype="bf16", context=4096)
    assert dense.bytes_per_token == dense.weights_bytes + dense.kv_cache_bytes


def test_packed_int4_counts_are_unpacked():
    # A GPTQ checkpoint as the Hub reports it: 8 four-bit weights per I32 element, scales and the rest in F16.
    gptq = ModelRecord(id="TheBloke/Llama-2-7B-GPTQ", params=1_125_000_000 + 300_000_000,
                       dtype_params={"I32": 825_000_000, "F16": 300_000_000})
    est = estimate_memory(gptq, dtype="int4", context=1024)
    assert est.params == 825_000_000 * 8 + 300_000_000
    assert any("packed" in note for note in est.notes)
    # A packed-looking repo without per-dtype counts is flagged, not silently trusted.
    flagged = estimate_memory(ModelRecord(id="someone/Model-7B-AWQ", params=1_200_000_000), dtype="int4", context=1024)
    assert any("packed" in note for note in flagged.notes)


def test_quantized_weights_keep_embeddings_at_16_bit():
    qwen = record(real.QWEN3_8B)
    embedding = 151936 * 4096 * 2  # untied: embed_tokens and lm_head
    est = estimate_memory(qwen, dtype="int4", context=1024)
    assert est.weights_bytes == round((8_190_735_360 - embedding) * 4.5 / 8 + embedding * 2)
    smol = record(real.SMOLLM2_135M, params=134_515_008)  # tied: one copy
    assert estimate_memory(smol, dtype="int8", context=1024).weights_bytes == round(
        (134_515_008 - 49152 * 576) * (8 + 32 / 4096) / 8 + 49152 * 576 * 2)


@pytest.mark.parametrize("dtype,bits", [("fp32", 32), ("bf16", 16), ("fp16", 16), ("q8_0", 8.5), ("q6_k", 6.56),
                                        ("q5_k_m", 5.68), ("q4_k_m", 4.84), ("q4_0", 4.5), ("q3_k_m", 3.91),
                                        ("q2_k", 3.35)])
def test_whole_tensor_precisions_use_their_bits_per_weight(dtype, bits):
    est = estimate_memory(record(real.QWEN3_8B), dtype=dtype, context=1024)
    assert est.weights_bytes == round(8_190_735_360 * bits / 8)
    assert PRECISIONS[dtype].source  # every figure names where it comes from


def test_real_file_size_replaces_bits_per_weight():
    est = estimate_memory(record(real.QWEN3_8B), dtype="q4_k_m", context=1024, file_bytes=5_027_783_488)
    assert est.weights_bytes == 5_027_783_488


@pytest.mark.parametrize("kwargs,message", [
    ({"dtype": "int3"}, "unknown dtype 'int3'; valid: fp32, bf16"),
    ({"dtype": "bf16", "context": 0}, "context must be a positive number"),
    ({"dtype": "bf16", "context": -5}, "context must be a positive number"),
    ({"dtype": "bf16", "context": 40961}, "beyond org/model's maximum of 40,960"),
    ({"dtype": "bf16", "kv_dtype": "int2"}, "unknown KV-cache dtype 'int2'; valid: fp32"),
    ({"dtype": "bf16", "batch": 0}, "batch must be between 1 and 1,024"),
    ({"dtype": "bf16", "batch": 10**20}, "batch must be between 1 and 1,024"),
    ({"dtype": "bf16", "context": 99_999_999_999}, f"context must be at most {MAX_CONTEXT:,}"),
    ({"dtype": "bf16", "runtime": "ollama"}, "unknown runtime 'ollama'; valid: transformers, llama.cpp, vllm"),
    ({"dtype": "bf16", "device_kind": "tpu"}, "unknown device kind 'tpu'; valid: gpu, unified, cpu"),
    ({"dtype": "q4_k_m", "runtime": "transformers"}, "transformers does not run q4_k_m"),
    ({"dtype": "int4", "runtime": "llama.cpp"}, "llama.cpp does not run int4"),
])
def test_bad_input_is_a_clear_message(kwargs, message):
    with pytest.raises(BadParameters, match=message.replace("(", r"\(")):
        estimate_memory(record(real.QWEN3_8B), **kwargs)


def test_unknown_parameter_count_cannot_be_estimated():
    with pytest.raises(BadParameters, match="parameter count is unknown"):
        estimate_memory(record(real.QWEN3_8B, params=None), dtype="bf16")


def test_rule_of_thumb_holds():
    """~2 GB per billion parameters at 16 bit, under 1 GB at 4 bit."""
    est16 = estimate_memory(record(real.QWEN3_8B), dtype="bf16", context=1024)
    est4 = estimate_memory(record(real.QWEN3_8B), dtype="q4_k_m", context=1024)
    assert 1.8 < est16.weights_bytes / GIB / 8.19 < 2.0
    assert est4.weights_bytes / 1e9 / 8.19 < 1.0
