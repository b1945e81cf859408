"""How much memory a model needs to run: weights, KV cache, activations and runtime overhead, in bytes.

Pure functions over a `ModelRecord`; the chart, the `fit` CLI and the local backend's guard all call
`estimate_memory`, so they can never disagree. Every figure's source is named next to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from hfdash.errors import BadParameters

if TYPE_CHECKING:  # catalog.records validates through hardware: a runtime import back would be a cycle
    from hfdash.catalog.records import ModelRecord

GIB = 1024**3


@dataclass(frozen=True)
class Precision:
    name: str
    bits_per_weight: float
    kind: str  # "float": every tensor; "quantized": transformers keeps embeddings/lm_head at 16 bit; "gguf"
    source: str


# Bits per weight, scale and zero-point storage included.
PRECISIONS: dict[str, Precision] = {p.name: p for p in (
    Precision("fp32", 32, "float", "IEEE float32"),
    Precision("bf16", 16, "float", "bfloat16"),
    Precision("fp16", 16, "float", "IEEE float16"),
    # FP8 (e4m3) with one fp32 scale per 128x128 block (DeepSeek-V3 / transformers' fine-grained FP8):
    # 8 + 32/16384 bits.
    Precision("fp8", 8 + 32 / 16384, "quantized", "fp8 e4m3, fp32 scale per 128x128 block"),
    # bitsandbytes LLM.int8: int8 weights plus one fp32 absmax per output row (~4096 wide): 8 + 32/4096.
    Precision("int8", 8 + 32 / 4096, "quantized", "bitsandbytes LLM.int8, fp32 scale per row"),
    # bitsandbytes NF4 (transformers' default, no double quant): blocks of 64 with one fp32 absmax,
    # 4 + 32/64 = 4.5 bits. GPTQ/AWQ at group size 128 (fp16 scale + packed 4-bit zero) is 4 + 20/128
    # = 4.16 bits, so 4.5 is the larger of the two common int4 formats.
    Precision("int4", 4 + 32 / 64, "quantized", "bitsandbytes NF4 blocksize 64, fp32 absmax"),
    # GGUF block formats (ggml-common.h): q8_0 is 32 int8 + one fp16 scale = 34 bytes per 32 weights;
    # q4_0 is 32 nibbles + fp16 scale = 18 bytes per 32.
    Precision("q8_0", 34 * 8 / 32, "gguf", "ggml block_q8_0: 34 bytes / 32 weights"),
    # k-quant mixes (some tensors kept at higher precision): whole-file averages llama.cpp's
    # tools/quantize/README.md reports for Llama 2 7B.
    Precision("q6_k", 6.56, "gguf", "llama.cpp quantize README, Llama 2 7B"),
    Precision("q5_k_m", 5.68, "gguf", "llama.cpp quantize README, Llama 2 7B"),
    Precision("q4_k_m", 4.84, "gguf", "llama.cpp quantize README, Llama 2 7B"),
    Precision("q4_0", 18 * 8 / 32, "gguf", "ggml block_q4_0: 18 bytes / 32 weights"),
    Precision("q3_k_m", 3.91, "gguf", "llama.cpp quantize README, Llama 2 7B"),
    Precision("q2_k", 3.35, "gguf", "llama.cpp quantize README, Llama 2 7B"),
)}
DTYPES = tuple(PRECISIONS)

# KV-cache element sizes: framework cache dtypes and llama.cpp's --cache-type-k/v block formats.
KV_BITS = {"fp32": 32, "bf16": 16, "fp16": 16, "fp8": 8, "int8": 8, "q8_0": 8.5, "q4_0": 4.5}
KV_DTYPES = tuple(KV_BITS)

# Upper bounds on what anyone can ask for, the same on the page and in the CLI: beyond them a figure is a
# typo, not a workload (the longest real context in the snapshot is Llama 4 Scout's 10,485,760 tokens).
MAX_CONTEXT = 2**24
MAX_BATCH = 1024

RUNTIMES = ("transformers", "llama.cpp", "vllm")
# Multi-head latent attention: full-head figures would overstate their cache ~50x.
MLA_ARCHITECTURES = ("deepseek_v2", "deepseek_v3", "kimi_k2")

# transformers: what stays resident beside the tensors (interpreter, torch, transformers and the model's
# code: 347-387 MiB measured on CPU by bench/bench_fit_accuracy.py; a CUDA context is of the same order)
# plus 5% of the tensors for allocator fragmentation.
RUNTIME_BYTES = 384 * 1024**2
FRAGMENTATION = 0.05
# transformers' prefill working buffers per prompt token, in the compute dtype: ACT_INTERMEDIATE x the
# MLP width (gate, up, the activation and their product) + ACT_HIDDEN x hidden (residual, normed input);
# generate() keeps fp32 logits for the last position only. Fitted to the growth of the prefill's transient
# with the prompt that bench/bench_fit_accuracy.py measured at 512-4,096 tokens (README, "Accuracy,
# measured"): 4.7 x intermediate per token for Qwen3-8B on CPU; it also puts the issue's measured GPU run
# (Llama-3.1-8B bf16 at 128k: 45.6 GiB) within 8%.
ACT_INTERMEDIATE = 4
ACT_HIDDEN = 2
TRANSFORMERS_ACT_SOURCE = ("transformers prefill buffers: 4 x intermediate + 2 x hidden per token, fitted in "
                           "bench/bench_fit_accuracy.py")
# MLA's value head (v_head_dim) is narrower than its query/key head, which PyTorch's fused CPU attention kernels
# refuse, so scaled_dot_product_attention takes its math path: per head, fp32 scores, their softmax and masks for
# every pair of prompt tokens (9.25 bytes, measured on CPU at DeepSeek-V2-Lite's shapes at 512-3,072 tokens by
# `python -m bench.bench_fit_accuracy --only mla-attention`) and fp32 copies of q, k, v and the output. On CUDA
# the memory-efficient kernel takes unequal head dims (no token-pair buffer; not measured here); Apple's MPS
# attention is counted as the CPU's.
MATH_SCORE_BYTES = 9.25
MATH_ATTENTION_KINDS = ("cpu", "unified")

# Where the model runs, as the device table names it: a discrete GPU (CUDA; ROCm counted alike), Apple
# silicon's unified memory (Metal / MPS) or system RAM. The runtimes' fixed costs and buffers differ by kind.
DEVICE_KINDS = ("gpu", "unified", "cpu")
DEVICE_KIND_NAMES = {"gpu": "GPU (CUDA)", "unified": "Apple silicon (Metal)", "cpu": "CPU (system RAM)"}
DEFAULT_DEVICE_KIND = "gpu"  # no device named: the figures are for a GPU
# llama.cpp reserves its compute buffer for one micro-batch of n_ubatch tokens (llama-context graph_reserve);
# with flash attention (the default `-fa auto` where the backend has it) the largest live tensors are the f32
# logits and one hidden row per token: 4 x n_ubatch x (n_vocab + n_embd), which is the 258.50 MiB llama.cpp
# logs for Llama-3-8B (128,256 + 4,096) x 512 x 4. A GPU (or Metal) allocation holds all of it; on the CPU the
# buffer is malloc'd and only the pages a prompt's graphs write are resident: with logits for the last token
# only, the micro-batch's f32 MLP tensors (LLAMA_CPP_CPU_MLP x intermediate: gate, up, the activation and their
# product), two hidden rows and the f16 attention mask over the cache (fitted to the pages
# bench/bench_fit_accuracy.py measured written at 2,048-8,192 tokens: 17-24 MiB for SmolLM2).
LLAMA_CPP_UBATCH = 512
LLAMA_CPP_CPU_MLP = 4
# Beside tensors and buffers: on a GPU the CUDA context (107 MiB on an RTX 4060 Ti, 555 MiB on an RTX PRO
# 6000, llama.cpp PR #23604; 287 MiB for PyTorch with lazy loading, pytorch PR #86509: not measured here);
# on the CPU the process with the library loaded (41 MiB) and what llama.cpp allocates at load beside its
# buffers (23 MiB: graph metadata, the vocabulary), measured by bench/bench_fit_accuracy.py for SmolLM2;
# Metal has no CUDA context: the CPU figure (not measured on a Mac here).
LLAMA_CPP_FIXED = {"gpu": 300 * 1024**2, "unified": 64 * 1024**2, "cpu": 64 * 1024**2}
LLAMA_CPP_KV = "fp16"  # --cache-type-k/v default
# vLLM: the share of GPU memory it takes (gpu_memory_utilization), the prefill chunk its memory profile runs
# (max_num_batched_tokens, the `vllm serve` default on large GPUs) and its sampler's logits for max_num_seqs,
# plus CUDA graphs and non-torch memory (rule of thumb). What is left after weights and that profile is KV cache.
VLLM_UTILIZATION = 0.9
VLLM_BATCHED_TOKENS = 8192
VLLM_MAX_SEQS = 256
VLLM_FIXED = GIB
# Packed-integer checkpoints (GPTQ, AWQ, MLX) store 8 four-bit weights in each I32/U32 element.
PACKED_DTYPES = ("I32", "U32")
_PACKED_NAME = re.compile(r"gptq|awq|mlx|[-_](?:int4|4bit|4-bit)\b", re.IGNORECASE)


@dataclass(frozen=True)
class MemoryEstimate:
    model_id: str
    dtype: str
    context: int
    batch: int
    kv_dtype: str
    params: int | None  # None: only a real file's size is known
    weights_bytes: int
    kv_cache_bytes: int | None  # None: the config lacks what the KV cache needs (see notes)
    activation_bytes: int
    overhead_bytes: int
    total_bytes: int
    # Bytes one decoded token reads: active weights (MoE: routed experts only) + the whole KV cache.
    bytes_per_token: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    runtime: str = "transformers"
    device_kind: str = DEFAULT_DEVICE_KIND  # the kind of device the buffers and fixed costs are figured for
    sources: tuple[tuple[str, str], ...] = ()  # (term, where its figure comes from)

    def to_json(self) -> dict:
        """The `fit --json` object (a contract: these keys stay)."""
        return {
            "model": self.model_id, "dtype": self.dtype, "context": self.context, "batch": self.batch,
            "kv_dtype": self.kv_dtype, "runtime": self.runtime, "device_kind": self.device_kind, "params": self.params,
            "weights_bytes": self.weights_bytes, "kv_cache_bytes": self.kv_cache_bytes,
            "activation_bytes": self.activation_bytes, "overhead_bytes": self.overhead_bytes,
            "total_bytes": self.total_bytes, "bytes_per_token": self.bytes_per_token,
            "sources": dict(self.sources), "notes": list(self.notes),
        }


def precision(name: str) -> Precision:
    try:
        return PRECISIONS[name.lower()]
    except KeyError:
        raise BadParameters(f"unknown dtype {name!r}; valid: {', '.join(DTYPES)}.") from None


def runs_on(runtime: str, dtype: str) -> bool:
    """llama.cpp runs GGUF files (float ones included); transformers and vLLM the other formats (transformers
    would dequantize a GGUF file to floats, so a GGUF precision there is not what runs)."""
    kind = PRECISIONS[dtype].kind
    if runtime == "llama.cpp":
        return kind == "gguf" or dtype in ("fp32", "bf16", "fp16")
    return kind != "gguf"


def runtime_name(name: str | None, dtype: str) -> str:
    """The runtime asked for, or the default for the precision: GGUF files run on llama.cpp."""
    if name is None:
        return "llama.cpp" if precision(dtype).kind == "gguf" else "transformers"
    if name.lower() not in RUNTIMES:
        raise BadParameters(f"unknown runtime {name!r}; valid: {', '.join(RUNTIMES)}.")
    if not runs_on(name.lower(), precision(dtype).name):
        raise BadParameters(f"{name.lower()} does not run {precision(dtype).name}: GGUF precisions run on "
                            "llama.cpp, the others on transformers or vllm (llama.cpp also runs fp32/bf16/fp16).")
    return name.lower()


def default_kv_dtype(dtype: str, runtime: str = "transformers") -> str:
    """The cache dtype a runtime uses by default: llama.cpp f16; others the compute dtype (fp32 stays
    fp32), else fp16."""
    if runtime == "llama.cpp":
        return LLAMA_CPP_KV
    return dtype if dtype in ("fp32", "bf16", "fp16") else "fp16"


def effective_params(record: ModelRecord) -> tuple[int | None, list[str]]:
    """The real parameter count: packed int4 elements (I32/U32) count 8 weights each."""
    notes = []
    counts = record.dtype_params or {}
    packed = sum(n for dtype, n in counts.items() if dtype.upper() in PACKED_DTYPES)
    if packed:
        unpacked = packed * 8 + sum(n for dtype, n in counts.items() if dtype.upper() not in PACKED_DTYPES)
        notes.append(f"{packed:,} packed I32/U32 elements counted as 8 four-bit weights each "
                     f"({unpacked:,} parameters; packed zero-points make this ~1% high).")
        return unpacked, notes
    if counts and record.params is None:
        return sum(counts.values()), notes
    if record.params is not None and _PACKED_NAME.search(record.id) and not counts:
        notes.append("This looks like a packed 4-bit repo but its per-dtype counts are unknown: "
                     "the parameter count may be the packed one, well below the real size.")
    return record.params, notes


def _embedding_params(record: ModelRecord) -> int | None:
    cfg = record.config
    if cfg.vocab_size is None or cfg.hidden_size is None:
        return None
    copies = 1 if cfg.tie_word_embeddings else 2  # unknown: count lm_head separately (the larger case)
    return cfg.vocab_size * cfg.hidden_size * copies


def weights_bytes(record: ModelRecord, params: int, spec: Precision, notes: list[str]) -> int:
    if spec.kind != "quantized":
        return round(params * spec.bits_per_weight / 8)
    # transformers' quantizers (bitsandbytes, GPTQ, FP8) leave the embedding and lm_head in 16 bit.
    embedding = _embedding_params(record)
    if embedding is None or embedding >= params:
        notes.append("Embedding size unknown: all weights counted at the quantized width.")
        return round(params * spec.bits_per_weight / 8)
    return round((params - embedding) * spec.bits_per_weight / 8 + embedding * 2)


def kv_elements(layers, kv_heads, head_dim, window, window_layers, latent, context):
    """K and V elements one sequence holds at `context` tokens. Plain arithmetic, so it serves one
    record (floats) and the whole snapshot (numpy arrays) alike; NaN = unknown, and unknown in, NaN out.
    A sliding layer holds min(window, context) tokens (window NaN: no sliding window; window_layers NaN:
    every layer slides); `latent` (MLA's elements per token and layer, `mla_elements`; NaN if not MLA)
    replaces K and V."""
    every = np.where(np.isnan(window_layers), layers, np.minimum(window_layers, layers))
    sliding = np.where(np.isnan(window), 0, every)
    held = (layers - sliding) * context + sliding * np.minimum(np.where(np.isnan(window), context, window), context)
    return np.where(np.isnan(latent), 2 * held * kv_heads * head_dim, layers * context * latent)


def mla_elements(*, kv_lora_rank, qk_rope_head_dim):
    """What one token holds per layer under multi-head latent attention: the compressed latent plus the
    shared RoPE key, in every runtime here (vLLM, SGLang, llama.cpp, and transformers 5, whose DeepSeek
    attention updates its cache before decompressing; bench/bench_fit_accuracy.py measures it)."""
    return kv_lora_rank + qk_rope_head_dim


def working_bytes(runtime: str, *, hidden, intermediate, routed_experts, vocab, context, batch, compute_bytes,
                  device_kind: str = DEFAULT_DEVICE_KIND, mla=None):
    """The runtime's working buffers beside weights and cache (floats or numpy arrays, like kv_elements).

    transformers: the prefill's live buffers per prompt token (ACT_* above) + fp32 logits of the last
    position; vLLM: the same for its profiled prefill chunk + its sampler's logits; llama.cpp: its
    compute buffer for one micro-batch. `mla`: (heads, qk_nope_head_dim, qk_rope_head_dim, v_head_dim) of
    an MLA model (NaN where not MLA or unknown), whose attention on CPU outgrows its MLP (MATH_SCORE_BYTES)."""
    vocab = np.where(np.isnan(vocab), 0, vocab)
    intermediate = np.where(np.isnan(intermediate), 4 * hidden, intermediate)
    if runtime == "llama.cpp":
        ubatch = np.minimum(LLAMA_CPP_UBATCH, context * batch)
        if device_kind == "cpu":
            return (4 * ubatch * (LLAMA_CPP_CPU_MLP * intermediate + 2 * hidden) + 2 * ubatch * context * batch
                    + 4 * vocab * batch)
        return 4 * ubatch * (vocab + hidden)
    per_token = (ACT_INTERMEDIATE * intermediate + ACT_HIDDEN * hidden + 2 * routed_experts * hidden) * compute_bytes
    if runtime == "vllm":
        return VLLM_BATCHED_TOKENS * per_token + VLLM_MAX_SEQS * vocab * 4
    prefill = context * per_token
    if mla is not None and device_kind in MATH_ATTENTION_KINDS:
        attention = math_attention_bytes(*mla, context=context, compute_bytes=compute_bytes)
        # A layer frees its attention's buffers before its MLP runs: the larger of the two is the peak.
        prefill = np.maximum(prefill, np.where(np.isnan(attention), 0, attention))
    return batch * (prefill + vocab * 4)


def math_attention_bytes(heads, nope, rope, value, *, context, compute_bytes):
    """One sequence's MLA attention buffers on PyTorch's math path (MATH_SCORE_BYTES): per head, the token
    pairs' scores, fp32 copies of q, k, v and the output, and q, k and the decompressed k_nope | v."""
    qk = nope + rope
    return heads * context * (MATH_SCORE_BYTES * context + 4 * 2 * (qk + value)
                              + compute_bytes * (2 * qk + nope + value))


def overhead_bytes(runtime: str, tensors, device_kind: str = DEFAULT_DEVICE_KIND):
    """What a runtime holds beyond tensors and working buffers."""
    if runtime == "llama.cpp":
        return LLAMA_CPP_FIXED[device_kind] + 0 * tensors
    if runtime == "vllm":
        return VLLM_FIXED + 0 * tensors
    return RUNTIME_BYTES + np.round(FRAGMENTATION * tensors)


OVERHEAD_SOURCES = {
    "transformers": "384 MiB framework (measured 347-387 MiB on CPU in bench/bench_fit_accuracy.py) + 5% of "
                    "weights and KV for the allocator (rule of thumb)",
    "vllm": "1 GiB CUDA graphs and non-torch memory (rule of thumb)",
}
LLAMA_CPP_OVERHEAD_SOURCES = {
    "gpu": "300 MiB CUDA context (107-555 MiB by GPU size: llama.cpp PR #23604; not measured here)",
    "unified": "64 MiB process and llama.cpp's load-time allocations (measured on CPU; not on Metal)",
    "cpu": "64 MiB process and llama.cpp's load-time allocations (measured in bench/bench_fit_accuracy.py)",
}
WORKING_SOURCES = {
    "transformers": TRANSFORMERS_ACT_SOURCE,
    "llama.cpp": "llama.cpp compute buffer for a 512-token micro-batch with flash attention: 4 x 512 x (vocab + "
                 "hidden) bytes, as llama.cpp sizes it (258.50 MiB logged for Llama-3-8B)",
    "vllm": f"vLLM memory profile: a {VLLM_BATCHED_TOKENS:,}-token prefill chunk (max_num_batched_tokens) at the "
            f"transformers rate + sampler logits for {VLLM_MAX_SEQS} sequences",
}
LLAMA_CPP_CPU_WORKING_SOURCE = ("llama.cpp compute buffer pages a prompt writes on the CPU: 512 tokens x (4 x "
                                "intermediate + 2 x hidden) f32 + the f16 mask over the cache (measured in "
                                "bench/bench_fit_accuracy.py)")
MLA_CPU_WORKING_SOURCE = ("; MLA on CPU: the math attention path's fp32 scores, heads x tokens² x 9.25 bytes, "
                          "when larger (measured in bench/bench_fit_accuracy.py)")


def overhead_source(runtime: str, device_kind: str) -> str:
    return LLAMA_CPP_OVERHEAD_SOURCES[device_kind] if runtime == "llama.cpp" else OVERHEAD_SOURCES[runtime]


def working_source(runtime: str, device_kind: str, mla: bool) -> str:
    if runtime == "llama.cpp" and device_kind == "cpu":
        return LLAMA_CPP_CPU_WORKING_SOURCE
    if runtime == "transformers" and mla and device_kind in MATH_ATTENTION_KINDS:
        return WORKING_SOURCES[runtime] + MLA_CPU_WORKING_SOURCE
    return WORKING_SOURCES[runtime]


def check_device_kind(kind: str) -> None:
    if kind not in DEVICE_KINDS:
        raise BadParameters(f"unknown device kind {kind!r}; valid: {', '.join(DEVICE_KINDS)}.")


def _nan(value) -> float:
    return float("nan") if value is None else float(value)


def kv_cache_bytes(record: ModelRecord, *, context: int, batch: int, kv_dtype: str, runtime: str,
                   notes: list[str]) -> int | None:
    """2 x sum over layers (tokens held x KV heads x head_dim x bytes) x batch; MLA: `mla_elements`."""
    cfg = record.config
    if cfg.num_hidden_layers is None:
        notes.append("KV cache unknown: the config's layer count is not known, so the total excludes it.")
        return None
    latent = None
    if cfg.architecture in MLA_ARCHITECTURES or cfg.kv_lora_rank is not None:
        latent = float(mla_elements(kv_lora_rank=_nan(cfg.kv_lora_rank), qk_rope_head_dim=_nan(cfg.qk_rope_head_dim)))
        if np.isnan(latent):
            notes.append(f"KV cache unknown: {cfg.architecture} caches a compressed latent whose sizes this "
                         "record lacks, so the total excludes it.")
            return None
        notes.append("MLA: the cache holds the compressed latent (kv_lora_rank + qk_rope_head_dim) per token.")
    elif cfg.num_key_value_heads is None or cfg.head_dim is None:
        notes.append("KV cache unknown: the config's KV heads or head_dim are not known, "
                     "so the total excludes it.")
        return None
    elif cfg.sliding_window is not None and context > cfg.sliding_window:
        sliding = cfg.num_hidden_layers if cfg.sliding_window_layers is None else cfg.sliding_window_layers
        if sliding:
            notes.append(f"{min(sliding, cfg.num_hidden_layers)} of {cfg.num_hidden_layers} layers use a "
                         f"{cfg.sliding_window:,}-token sliding window.")
    elements = kv_elements(cfg.num_hidden_layers, _nan(cfg.num_key_value_heads), _nan(cfg.head_dim),
                           _nan(cfg.sliding_window), _nan(cfg.sliding_window_layers), _nan(latent), context)
    return round(float(elements) * KV_BITS[kv_dtype] / 8 * batch)


def mla_geometry(record: ModelRecord) -> tuple[float, float, float, float] | None:
    """(heads, qk_nope_head_dim, qk_rope_head_dim, v_head_dim) of an MLA model, NaN where unknown; else None."""
    cfg = record.config
    if cfg.architecture not in MLA_ARCHITECTURES and cfg.kv_lora_rank is None:
        return None
    return (_nan(cfg.num_attention_heads), _nan(cfg.qk_nope_head_dim), _nan(cfg.qk_rope_head_dim),
            _nan(cfg.v_head_dim))


def activation_bytes(record: ModelRecord, *, context: int, batch: int, spec: Precision, runtime: str,
                     device_kind: str, mla: tuple[float, float, float, float] | None, notes: list[str]) -> int:
    cfg = record.config
    if cfg.hidden_size is None:
        notes.append("Working buffers unknown (no hidden size): not included.")
        return 0
    routed = cfg.active_experts if cfg.is_moe and cfg.active_experts else 0
    return round(float(working_bytes(runtime, hidden=cfg.hidden_size, intermediate=_nan(cfg.intermediate_size),
                                     routed_experts=routed, vocab=_nan(cfg.vocab_size), context=context,
                                     batch=batch, compute_bytes=4 if spec.name == "fp32" else 2,
                                     device_kind=device_kind, mla=mla)))


def active_fraction(record: ModelRecord, params: int, notes: list[str]) -> float:
    """Share of the weights one token reads: MoE routes each token through a few experts only."""
    cfg = record.config
    if not cfg.is_moe:
        return 1.0
    if cfg.active_parameters:
        return min(1.0, cfg.active_parameters / params)
    notes.append("MoE active parameter count unknown: the speed bound assumes all weights are read.")
    return 1.0


def estimate_memory(record: ModelRecord, *, dtype: str, context: int = 4096, batch: int = 1,
                    kv_dtype: str | None = None, file_bytes: int | None = None,
                    runtime: str | None = None, device_kind: str = DEFAULT_DEVICE_KIND) -> MemoryEstimate:
    """Memory to run `record` at `dtype` holding `context` tokens for `batch` sequences on `runtime`
    (default: llama.cpp for GGUF precisions, else transformers) on a device of `device_kind` (DEVICE_KINDS).

    `file_bytes`: the real size of a GGUF file, used as the weights instead of the bits-per-weight figure.
    """
    spec = precision(dtype)
    check_device_kind(device_kind)
    runtime = runtime_name(runtime, spec.name)
    kv_dtype = (kv_dtype or default_kv_dtype(spec.name, runtime)).lower()
    if kv_dtype not in KV_BITS:
        raise BadParameters(f"unknown KV-cache dtype {kv_dtype!r}; valid: {', '.join(KV_DTYPES)}.")
    check_batch(batch)
    check_context(record, context)
    params, notes = effective_params(record)
    if params is None and file_bytes is None:
        raise BadParameters(f"{record.id}: the parameter count is unknown, so its memory cannot be estimated.")
    if file_bytes is not None:
        weights = file_bytes
    else:
        assert params is not None  # refused just above when both are unknown
        weights = weights_bytes(record, params, spec, notes)
    kv = kv_cache_bytes(record, context=context, batch=batch, kv_dtype=kv_dtype, runtime=runtime, notes=notes)
    mla = mla_geometry(record)
    activations = activation_bytes(record, context=context, batch=batch, spec=spec, runtime=runtime,
                                   device_kind=device_kind, mla=mla, notes=notes)
    overhead = int(overhead_bytes(runtime, weights + (kv or 0), device_kind))
    per_token = round(weights * (active_fraction(record, params, notes) if params else 1.0)) + (kv or 0)
    sources = (
        ("weights", "the repo's real file size" if file_bytes is not None else
         f"parameter count x {spec.bits_per_weight:g} bits ({spec.source})"),
        ("kv_cache", f"config: layers x KV heads x head_dim x tokens held, {kv_dtype} "
                     f"({record.config.facts_source or 'config source unknown'})"),
        ("activations", working_source(runtime, device_kind, mla is not None)),
        ("overhead", overhead_source(runtime, device_kind)),
    )
    return MemoryEstimate(
        model_id=record.id, dtype=spec.name, context=context, batch=batch, kv_dtype=kv_dtype, params=params,
        weights_bytes=weights, kv_cache_bytes=kv, activation_bytes=activations, overhead_bytes=overhead,
        total_bytes=weights + (kv or 0) + activations + overhead, bytes_per_token=per_token, notes=tuple(notes),
        runtime=runtime, device_kind=device_kind, sources=sources)


def check_batch(batch: int) -> None:
    if not 1 <= batch <= MAX_BATCH:
        raise BadParameters(f"batch must be between 1 and {MAX_BATCH:,} (got {batch:,}).")


def check_context_range(context: int) -> None:
    if context <= 0:
        raise BadParameters(f"context must be a positive number of tokens (got {context}).")
    if context > MAX_CONTEXT:
        raise BadParameters(f"context must be at most {MAX_CONTEXT:,} tokens (got {context:,}).")


def check_context(record: ModelRecord, context: int) -> None:
    check_context_range(context)
    limit = record.config.context_length
    if limit is not None and context > limit:
        raise BadParameters(f"context {context:,} is beyond {record.id}'s maximum of {limit:,} tokens.")
