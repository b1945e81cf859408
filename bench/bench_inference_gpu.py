"""Inference on a CUDA GPU, measured side by side in one run: `python -m bench.bench_inference_gpu`.

Needs no network: a random-init model of TinyLlama-1.1B's real config (speed does not depend on the
weights' values), loaded straight onto the GPU in bfloat16. Rows:

1. tokens/s streamed through hfdash's engine with eager decode (one request) vs bare eager `model.generate`;
2. the same with the engine's fast decode (static cache slots, compiled forward: what hfdash runs on a CUDA
   GPU; its compile time reported apart);
3. 4 requests at once through the fast engine, wall time vs one alone;
4. for reference, transformers' own `generate(cache_implementation="static")` vs eager `generate`.

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
    ids = prompt[0].tolist()
    eager = Engine(model, eos_ids=set())
    fast = Engine(model, eos_ids=set(), decode="compiled")  # what hfdash runs on a CUDA GPU
    generate_rate(model, prompt, device)  # warm-up
    engine_requests(eager, ids, 1)
    start = time.perf_counter()
    failure = fast.warm_up(ids)
    warm_up = time.perf_counter() - start
    if failure is not None:
        raise SystemExit(f"fast decode failed to compile: {failure!r}")
    engine_requests(fast, ids, 4)  # the four-row shape is the same compiled shape; this records nothing new
    eager_pairs, fast_pairs, walls = [], [], []
    for _ in range(REPEATS):
        bare = generate_rate(model, prompt, device)
        eager_pairs.append((engine_requests(eager, ids, 1)[1], bare))
        one_wall, streamed = engine_requests(fast, ids, 1)
        fast_pairs.append((streamed, bare))
        walls.append((engine_requests(fast, ids, 4)[0], one_wall))
    generate_seconds(model, prompt, NEW_TOKENS, device, cache_implementation="static")  # compiles
    static = [(generate_rate(model, prompt, device, cache_implementation="static"),
               generate_rate(model, prompt, device)) for _ in range(REPEATS)]
    eager.close()
    fast.close()

    def row(label: str, pairs: list[tuple[float, float]], unit: str, target: float | None, below: bool = False):
        ratio = statistics.median(a / b for a, b in pairs)
        figures = (f"{statistics.median(p[0] for p in pairs):.2f} vs {statistics.median(p[1] for p in pairs):.2f}"
                   f" {unit}")
        wanted = "" if target is None else f" ({'<=' if below else '>='} {target})"
        met = target is None or (ratio <= target if below else ratio >= target)
        return label, figures, f"{ratio:.2f}x{wanted}", met

    name = torch.cuda.get_device_name() if device == "cuda" else "CPU (script check, 2 layers)"
    rows = [
        row("engine, eager decode, streamed vs bare eager generate", eager_pairs, "tok/s", TARGET_STREAMED),
        row("engine, fast decode, streamed vs bare eager generate", fast_pairs, "tok/s", TARGET_FAST_DECODE),
        row("engine, fast decode, 4 requests wall vs 1 alone", walls, "s", TARGET_PANES_WALL, below=True),
        row("transformers static-cache generate vs eager generate", static, "tok/s", None),
    ]
    print(f"device: {name}; random-init TinyLlama-1.1B config; {NEW_TOKENS} new tokens, greedy; "
          f"fast decode compiled in {warm_up:.1f} s")
    width = max(len(r[0]) for r in rows)
    for label, figures, ratio, ok in rows:
        verdict = "-" if cpu_check else ("ok" if ok else "MISSED")
        print(f"{label.ljust(width)}  {figures:<28} {ratio:<20} {verdict}")
    return 0 if cpu_check else (1 if not all(r[3] for r in rows) else 0)


if __name__ == "__main__":
    sys.exit(main())
