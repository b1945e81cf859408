"""Where a local model runs and in what precision, and whether it fits there (the hardware guard)."""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from dataclasses import dataclass

from hfdash.catalog.records import ModelRecord
from hfdash.errors import BadParameters, HfdashError
from hfdash.safefile import write_atomically
from hfdash.vocab import FLOAT_DTYPES

GUARD_CONTEXT = 4096  # tokens of KV cache the guard reserves (capped at the model's own context)


def guard(record: ModelRecord, dtype: str, device: str) -> None:
    """The hardware-fit estimator's verdict; raises TooLarge (with numbers and suggestions) if it won't fit."""
    from hfdash.hardware import ensure_fits_locally

    context = min(GUARD_CONTEXT, record.config.context_length or GUARD_CONTEXT)
    # Apple's MPS shares the machine's RAM, so the CPU figure is the one to check.
    ensure_fits_locally(record, dtype=FLOAT_DTYPES[dtype], context=context,
                        device="cpu" if device == "mps" else device)


def smallest_dtype(requested: str, device: str) -> str:
    """The leanest dtype `choose_dtype` may pick: the guard refuses with it before any download or
    measurement, since auto falls back to 16 bits when float32 would not fit."""
    if requested != "auto":
        return requested
    return "float16" if device == "mps" else "bfloat16"


def choose_device(requested: str) -> str:
    from hfdash.hardware import gpu_driver_present

    if requested == "cpu" or (requested == "auto" and platform.system() != "Darwin" and not gpu_driver_present()):
        return "cpu"  # without importing torch (seconds), so a model too big is refused at once
    import torch

    if requested != "auto":
        if requested == "cuda" and not torch.cuda.is_available():
            raise BadParameters("device 'cuda' was asked for, but no CUDA GPU is available.")
        if requested == "mps" and not torch.backends.mps.is_available():
            raise BadParameters("device 'mps' was asked for, but Apple's MPS is not available.")
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def choose_dtype(requested: str, device: str, record: ModelRecord) -> str:
    """The dtype to load in: the one asked for, else fp16/bf16 on a GPU, else on a CPU whichever of
    float32 / bfloat16 / float16 (packed for fbgemm, `cpu_fp16`) measures faster for a model this wide
    (a 16-bit one when float32 would not fit)."""
    if requested != "auto":
        return requested
    if device == "cuda":
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device == "mps":
        return "float16"
    faster = cpu_dtype(ProxyShape.of(record.config))
    if faster == "float32":
        from hfdash.hardware import check_fits_locally

        context = min(GUARD_CONTEXT, record.config.context_length or GUARD_CONTEXT)
        if not check_fits_locally(record, dtype="fp32", context=context, device="cpu").fits:
            return "bfloat16"
    return faster


@dataclass(frozen=True)
class ProxyShape:
    """The widths that decide whether bf16 beats fp32 for a model on a CPU (its depth does not: the
    verdict of a two-layer copy matched the whole model's in measurements here). The vocabulary matters:
    the output layer is the largest matmul of a small model's decode step."""

    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int

    @classmethod
    def of(cls, config) -> ProxyShape:
        hidden = config.hidden_size or 1024
        heads = config.num_attention_heads or max(1, hidden // 64)
        return cls(hidden=hidden, intermediate=config.intermediate_size or hidden * 8 // 3, heads=heads,
                   kv_heads=config.num_key_value_heads or heads, head_dim=config.head_dim or hidden // heads,
                   vocab=config.vocab_size or 32000)


def cpu_dtype(shape: ProxyShape) -> str:
    """float32, bfloat16 or float16 (packed), whichever decodes faster on this CPU for a model of this shape.

    Measured once per machine, torch version and shape; the verdict is kept in the cache folder.
    """
    import torch

    from hfdash.config import cache_dir

    machine = (f"{platform.machine()}|{platform.processor()}|{os.cpu_count()}|torch {torch.__version__}|{shape}"
               f"|{','.join(CPU_CANDIDATES)}|rows {','.join(map(str, MEASURE_ROWS))}")
    path = cache_dir() / "cpu_dtype.json"
    with _DTYPE_LOCK:
        try:
            verdicts = json.loads(path.read_text())
        except (OSError, ValueError):
            verdicts = {}
        if machine in verdicts:
            return verdicts[machine]["dtype"]
        seconds = in_worker_thread(decode_seconds, shape)
        chosen = min(seconds, key=seconds.__getitem__)
        verdicts[machine] = {"dtype": chosen, "seconds": seconds}
        try:
            write_atomically(path, json.dumps(verdicts, indent=1), what="CPU dtype verdicts", file_mode=0o644)
        except HfdashError:
            pass  # measured again next time; no harm
        return chosen


_DTYPE_LOCK = threading.Lock()


def in_worker_thread(fn, *args):
    """Run `fn` on a fresh thread, as `generate` always runs: torch's CPU threading can behave very
    differently on the main thread, and the verdict must hold where the model will actually run."""
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(value=fn(*args)), name="hfdash-measure")
    worker.start()
    worker.join()
    if "value" not in result:
        raise HfdashError("Measuring this CPU's float32/bfloat16/float16 speed failed.")
    return result["value"]


MEASURE_TOKENS = 8
# One pane alone and four panes batched on the model weigh the same: a dtype fast for one row can cost
# about 4x for four (bf16 and fp32 matmuls on CPUs without native bf16), another serves four for little more.
MEASURE_ROWS = (1, 4)
CPU_CANDIDATES = ("float32", "bfloat16", "float16")  # float16: packed for fbgemm, where torch has it
CLEARLY_SLOWER = 3.0  # a dtype this many times slower than the first one measured is not timed again


def decode_seconds(shape: ProxyShape) -> dict[str, float]:
    """Per dtype, the best time to decode a few tokens with a random two-layer Llama of `shape`, summed over
    a batch of one row and a batch of four.

    A whole decode step (attention, norms, output layer), not just a matmul: on some CPUs bf16 matmuls
    are faster while a small model's step as a whole is slower.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from hfdash.inference.local import cpu_fp16

    config = LlamaConfig(hidden_size=shape.hidden, intermediate_size=shape.intermediate, num_hidden_layers=2,
                         num_attention_heads=shape.heads, num_key_value_heads=shape.kv_heads,
                         head_dim=shape.head_dim, vocab_size=shape.vocab)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    prompt = torch.randint(0, shape.vocab, (max(MEASURE_ROWS), 16))
    seconds: dict[str, float] = {}
    for name in CPU_CANDIDATES:
        if name == "float16":  # last: packing replaces the model's layers
            if not cpu_fp16.available():
                break
            model = cpu_fp16.pack(model)
        else:
            model = model.to(getattr(torch, name))
        seconds[name] = sum(_best_decode(model, prompt[:rows], seconds) for rows in MEASURE_ROWS)
    return seconds


def _best_decode(model, prompt, measured: dict[str, float]) -> float:
    import torch

    best = float("inf")
    with torch.inference_mode():
        for _ in range(3):  # the first run warms up
            start = time.perf_counter()
            model.generate(prompt, max_new_tokens=MEASURE_TOKENS, min_new_tokens=MEASURE_TOKENS,
                           do_sample=False, pad_token_id=0)
            best = min(best, time.perf_counter() - start)
            if measured and best > CLEARLY_SLOWER * min(measured.values()):
                break  # slower by far even with its warm-up: timing it again cannot change the verdict
    return best
