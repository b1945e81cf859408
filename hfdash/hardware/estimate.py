"""How much memory a model needs to run: weights, KV cache, activations and runtime overhead, in bytes.

Pure functions over a `ModelRecord`; the chart, the `fit` CLI and the local backend's guard all call
`estimate_memory`, so they can never disagree. Every figure's source is named next to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hfdash.catalog.records import ModelRecord
from hfdash.errors import BadParameters

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

# Runtime overhead: the framework and CUDA context (~0.5 GiB resident outside the tensor allocator)
# plus 5% of the tensors for allocator fragmentation. A rule of thumb, labelled as such.
RUNTIME_BYTES = GIB // 2
FRAGMENTATION = 0.05
# Architectures with multi-head latent attention: full-head figures would overstate their cache ~50x.
MLA_ARCHITECTURES = ("deepseek_v2", "deepseek_v3", "kimi_k2")
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

    def to_json(self) -> dict:
        """The `fit --json` object (a contract: these keys stay)."""
        return {
            "model": self.model_id, "dtype": self.dtype, "context": self.context, "batch": self.batch,
            "kv_dtype": self.kv_dtype, "params": self.params, "weights_bytes": self.weights_bytes,
            "kv_cache_bytes": self.kv_cache_bytes, "activation_bytes": self.activation_bytes,
            "overhead_bytes": self.overhead_bytes, "total_bytes": self.total_bytes,
            "bytes_per_token": self.bytes_per_token, "notes": list(self.notes),
        }


def precision(name: str) -> Precision:
    try:
        return PRECISIONS[name.lower()]
    except KeyError:
        raise BadParameters(f"unknown dtype {name!r}; valid: {', '.join(DTYPES)}.") from None


def default_kv_dtype(dtype: str) -> str:
    """The cache dtype runtimes use by default: the compute dtype (fp32 stays fp32), else fp16."""
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


def kv_cache_bytes(record: ModelRecord, *, context: int, batch: int, kv_dtype: str,
                   notes: list[str]) -> int | None:
    """2 x sum over layers (tokens held x KV heads x head_dim x bytes) x batch; MLA holds one latent."""
    cfg = record.config
    element = KV_BITS[kv_dtype] / 8
    if cfg.num_hidden_layers is None:
        notes.append("KV cache unknown: the config's layer count is not known, so the total excludes it.")
        return None
    layers = cfg.num_hidden_layers
    if cfg.architecture in MLA_ARCHITECTURES and cfg.kv_lora_rank is None:
        notes.append(f"KV cache unknown: {cfg.architecture} caches a compressed latent whose size "
                     "(kv_lora_rank) this record lacks, so the total excludes it.")
        return None
    if cfg.kv_lora_rank is not None and cfg.qk_rope_head_dim is not None:
        # Multi-head latent attention (DeepSeek V2/V3): the cache holds the compressed latent plus the
        # decoupled RoPE key, shared by all heads (as vLLM, SGLang and llama.cpp store it).
        notes.append("MLA: the cache holds the compressed latent (kv_lora_rank + qk_rope_head_dim) per token.")
        return round(layers * context * (cfg.kv_lora_rank + cfg.qk_rope_head_dim) * element * batch)
    if cfg.num_key_value_heads is None or cfg.head_dim is None:
        notes.append("KV cache unknown: the config's KV heads or head_dim are not known, "
                     "so the total excludes it.")
        return None
    sliding = 0
    if cfg.sliding_window is not None:
        sliding = layers if cfg.sliding_window_layers is None else min(cfg.sliding_window_layers, layers)
        if context > cfg.sliding_window and sliding:
            notes.append(f"{sliding} of {layers} layers use a {cfg.sliding_window:,}-token sliding window.")
    tokens = (layers - sliding) * context + sliding * min(cfg.sliding_window or context, context)
    return round(2 * tokens * cfg.num_key_value_heads * cfg.head_dim * element * batch)


def activation_bytes(record: ModelRecord, *, context: int, batch: int, spec: Precision,
                     notes: list[str]) -> int:
    """Peak working buffers of a whole-prompt prefill (rough), per token in the compute dtype.

    8 x hidden (residual, fp32 norm temporaries, attention projections and output) + 4 x intermediate
    (the MLP's gate, its activation, up, their product); MoE adds 2 x active experts x hidden (each
    token's hidden state gathered for every routed expert, and every expert's output); plus one fp32
    logits row per sequence. Measured basis (bench/bench_fit_accuracy.py, transformers 5 on CPU, 2048-token
    prompts, three runs): the prefill's peak over what stays held was 15-176 KiB per token for SmolLM2-135M
    (fp32, bf16), Gemma-3-1B, Qwen3-8B and Qwen3-30B-A3B; this rule gives 0.75-1.75x that (the previous
    4 x hidden + 2 x intermediate gave 0.2-0.7x).
    """
    cfg = record.config
    if cfg.hidden_size is None:
        notes.append("Activations unknown (no hidden size): not included.")
        return 0
    compute = 4 if spec.name == "fp32" else 2
    intermediate = cfg.intermediate_size or 4 * cfg.hidden_size
    routed = 2 * cfg.active_experts * cfg.hidden_size if cfg.is_moe and cfg.active_experts else 0
    per_token = (8 * cfg.hidden_size + 4 * intermediate + routed) * compute
    logits = (cfg.vocab_size or 0) * 4
    return batch * (context * per_token + logits)


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
                    kv_dtype: str | None = None, file_bytes: int | None = None) -> MemoryEstimate:
    """Memory to run `record` at `dtype` holding `context` tokens for `batch` sequences.

    `file_bytes`: the real size of a GGUF file, used as the weights instead of the bits-per-weight figure.
    """
    spec = precision(dtype)
    kv_dtype = (kv_dtype or default_kv_dtype(spec.name)).lower()
    if kv_dtype not in KV_BITS:
        raise BadParameters(f"unknown KV-cache dtype {kv_dtype!r}; valid: {', '.join(KV_DTYPES)}.")
    if batch < 1:
        raise BadParameters(f"batch must be at least 1 (got {batch}).")
    check_context(record, context)
    params, notes = effective_params(record)
    if params is None and file_bytes is None:
        raise BadParameters(f"{record.id}: the parameter count is unknown, so its memory cannot be estimated.")
    weights = file_bytes if file_bytes is not None else weights_bytes(record, params, spec, notes)
    kv = kv_cache_bytes(record, context=context, batch=batch, kv_dtype=kv_dtype, notes=notes)
    activations = activation_bytes(record, context=context, batch=batch, spec=spec, notes=notes)
    overhead = RUNTIME_BYTES + round(FRAGMENTATION * (weights + (kv or 0)))
    per_token = round(weights * (active_fraction(record, params, notes) if params else 1.0)) + (kv or 0)
    return MemoryEstimate(
        model_id=record.id, dtype=spec.name, context=context, batch=batch, kv_dtype=kv_dtype, params=params,
        weights_bytes=weights, kv_cache_bytes=kv, activation_bytes=activations, overhead_bytes=overhead,
        total_bytes=weights + (kv or 0) + activations + overhead, bytes_per_token=per_token, notes=tuple(notes))


def check_context(record: ModelRecord, context: int) -> None:
    if context <= 0:
        raise BadParameters(f"context must be a positive number of tokens (got {context}).")
    limit = record.config.context_length
    if limit is not None and context > limit:
        raise BadParameters(f"context {context:,} is beyond {record.id}'s maximum of {limit:,} tokens.")
