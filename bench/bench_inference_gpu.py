"""Inference on a CUDA GPU, measured side by side in one run: `python -m bench.bench_inference_gpu`.

Needs no network: a random-init model of TinyLlama-1.1B's real config (speed does not depend on the
weights' values), loaded straight onto the GPU in bfloat16. Rows:

1. tokens/s streamed through hfdash's engine (one request) vs bare eager `model.generate`;
2. 4 requests at once through the engine, wall time vs one alone;
3. transformers' fast decode (`generate(cache_implementation="static")`, which compiles the forward;
   warm-up reported apart) vs eager `generate`: what a static cache would add on this GPU.

Where no CUDA GPU is present it says so and exits 0. `--cpu` runs the same code on a two-layer copy on
the CPU, to check the script itself (no targets then).
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

# TinyLlama/TinyLlama-1.1B-Chat-v1.0 config.json (the fields that shape the compute).
CONFIG = dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
              num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048, rms_norm_eps=1e-5,
              rope_theta=10000.0, tie_word_embeddings=False)
PROMPT_TOKENS = 32
NEW_TOKENS = 256
REPEATS = 3
TARGET_STREAMED = 0.9
TARGET_PANES_WALL = 1.3
TARGET_FAST_DECODE = 3.0


def build(device: str, layers: int | None):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(**{**CONFIG, **({"num_hidden_layers": layers} if layers else {})})
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(dtype).eval()
    model.generation_config.eos_token_id = None  # random weights: run every token, never stop early
    return model


def synchronize(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def generate_seconds(model, prompt, tokens: int, device: str, **kwargs) -> float:
    import torch

    synchronize(device)
    start = time.perf_counter()
    with torch.inference_mode():
        model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=tokens,
                       min_new_tokens=tokens, do_sample=False, pad_token_id=0, **kwargs)
    synchronize(device)
    return time.perf_counter() - start


def generate_rate(model, prompt, device: str, **kwargs) -> float:
    """Tokens/s after the first: (n-1) / (time(n) - time(1))."""
    return (NEW_TOKENS - 1) / (generate_seconds(model, prompt, NEW_TOKENS, device, **kwargs)
                               - generate_seconds(model, prompt, 1, device, **kwargs))


def engine_requests(engine, prompt: list[int], count: int) -> tuple[float, float]:
    """Submit `count` greedy requests at once; (wall seconds, tokens/s of the first after its first token)."""
    from hfdash.inference import GenerationParams

    params = GenerationParams(temperature=0, max_new_tokens=NEW_TOKENS)
    start = time.perf_counter()
    requests = [engine.submit(list(prompt), params, NEW_TOKENS, threading.Event()) for _ in range(count)]
    first_at = None
    for request in requests:
        while not request.finished:
            request.read_at = time.monotonic()  # a reader is here
            if request.tokens and first_at is None:
                first_at = time.perf_counter()
            request.news.wait(0.01)
            request.news.clear()
        if request.error is not None or len(request.tokens) != NEW_TOKENS:
            raise SystemExit(f"engine request failed: {request.error!r}, {len(request.tokens)} tokens")
    wall = time.perf_counter() - start
    return wall, (NEW_TOKENS - 1) / (time.perf_counter() - first_at)


def main(argv: list[str] | None = None) -> int:
    global NEW_TOKENS
    import torch

    from hfdash.inference.local.engine import Engine

    cpu_check = "--cpu" in (argv if argv is not None else sys.argv[1:])
    if not cpu_check and not torch.cuda.is_available():
        print("no CUDA GPU here: GPU rows not measured (run this script on a GPU machine)")
        return 0
    device = "cpu" if cpu_check else "cuda"
    if cpu_check:
        NEW_TOKENS = 16  # a check that the script runs, not a measurement
    model = build(device, layers=2 if cpu_check else None)
    prompt = torch.randint(0, CONFIG["vocab_size"], (1, PROMPT_TOKENS), device=device)
    engine = Engine(model, eos_ids=set())
    generate_rate(model, prompt, device)  # warm-up
    engine_requests(engine, prompt[0].tolist(), 1)
    pairs, walls = [], []
    for _ in range(REPEATS):
        one_wall, streamed = engine_requests(engine, prompt[0].tolist(), 1)
        pairs.append((streamed, generate_rate(model, prompt, device)))
        walls.append((engine_requests(engine, prompt[0].tolist(), 4)[0], one_wall))
    start = time.perf_counter()
    generate_seconds(model, prompt, NEW_TOKENS, device, cache_implementation="static")  # compiles
    warm_up = time.perf_counter() - start
    fast = [(generate_rate(model, prompt, device, cache_implementation="static"), generate_rate(model, prompt, device))
            for _ in range(REPEATS)]
    engine.close()
    streamed_ratio = statistics.median(s / b for s, b in pairs)
    wall_ratio = statistics.median(four / one for four, one in walls)
    fast_ratio = statistics.median(f / e for f, e in fast)
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU (script check, 2 layers)"
    rows = [
        ("engine streamed vs bare eager generate", f"{statistics.median(p[0] for p in pairs):.1f} vs "
         f"{statistics.median(p[1] for p in pairs):.1f} tok/s", f"{streamed_ratio:.2f}x (>= {TARGET_STREAMED})",
         streamed_ratio >= TARGET_STREAMED),
        ("engine, 4 requests wall vs 1 alone", f"{statistics.median(w[0] for w in walls):.2f} vs "
         f"{statistics.median(w[1] for w in walls):.2f} s", f"{wall_ratio:.2f}x (<= {TARGET_PANES_WALL})",
         wall_ratio <= TARGET_PANES_WALL),
        ("static-cache generate vs eager generate", f"{statistics.median(f[0] for f in fast):.1f} vs "
         f"{statistics.median(f[1] for f in fast):.1f} tok/s (warm-up {warm_up:.1f} s)",
         f"{fast_ratio:.2f}x (>= {TARGET_FAST_DECODE})", fast_ratio >= TARGET_FAST_DECODE),
    ]
    print(f"device: {name}; random-init TinyLlama-1.1B config; {NEW_TOKENS} new tokens, greedy")
    width = max(len(r[0]) for r in rows)
    for label, figures, ratio, ok in rows:
        verdict = "-" if cpu_check else ("ok" if ok else "MISSED")
        print(f"{label.ljust(width)}  {figures:<44} {ratio:<24} {verdict}")
    return 0 if cpu_check else (1 if not all(r[3] for r in rows) else 0)


if __name__ == "__main__":
    sys.exit(main())
