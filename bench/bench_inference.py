"""Inference speed, measured side by side in one run: `python -m bench.bench_inference`.

1. Local: streamed tokens/s through the backend vs bare `model.generate` (same model, dtype, prompt,
   token count), and the auto-chosen dtype's speed-up over float32.
2. Embedded cold start in a fresh process: first-ever (GGUF conversion) and with a warm cache.
3. Hosted: time to first token through the backend vs the raw `openai` client it wraps for a base URL,
   same loopback server.
4. Hosted panes in parallel (2 and 4) vs the slowest pane alone, on a loopback server that sleeps a
   fixed time per token, so parallelism shows even on 2 cores.

Exit code 1 if a target is missed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

LOCAL_PROMPT = "Count from 1 to 100, separated by commas."
LOCAL_TOKENS = 64
REPEATS = 3
HOSTED_RUNS = 15
TOKEN_DELAY_S = 0.02
PANE_WORDS = 40

TARGET_LOCAL_RATIO = 0.95
TARGET_COLD_START_S = 6.0
TARGET_TTFT_EXTRA_S = 0.020
TARGET_PARALLEL_RATIO = 1.2

COLD_START = """
import sys, time
start = time.perf_counter()
from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer
for answer in stream_answer(BackendSpec("local"), [Message("user", "Hi")], GenerationParams(max_new_tokens=8),
                            token=None):
    if answer.text or answer.final:
        break
print(answer.status, answer.error.user_message() if answer.error else "", file=sys.stderr)
print(time.perf_counter() - start)
"""


# ---- local -----------------------------------------------------------------------------------------

def bare_rate(loaded, inputs, tokens: int) -> float:
    """Tokens/s after the first token of plain greedy `generate`: (n-1) / (time(n) - time(1)).

    Called off the main thread, like the backend's `generate` (and every Streamlit script): torch's
    CPU threading on the main thread was up to 10x slower here, which would flatter the backend.
    """
    from hfdash.inference.local import in_worker_thread

    return in_worker_thread(bare_rate_here, loaded, inputs, tokens)


def bare_rate_here(loaded, inputs, tokens: int) -> float:
    import torch

    def timed(n):
        start = time.perf_counter()
        with torch.inference_mode():
            loaded.model.generate(**inputs, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                                  temperature=None, top_p=None, top_k=None,
                                  pad_token_id=loaded.tokenizer.eos_token_id)
        return time.perf_counter() - start

    return (tokens - 1) / (timed(tokens) - timed(1))


def backend_rate(dtype: str) -> tuple[float, int]:
    from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer

    for answer in stream_answer(BackendSpec("local", dtype=dtype), [Message("user", LOCAL_PROMPT)],
                                GenerationParams(temperature=0, max_new_tokens=LOCAL_TOKENS), token=None):
        pass
    if answer.status != "done":
        raise SystemExit(f"local backend failed: {answer.error.user_message() if answer.error else answer.status}")
    return answer.stats.tokens_per_s, answer.stats.output_tokens


def local_rows() -> list[tuple[str, str, str, bool | None]]:
    from hfdash.inference import BackendSpec, Message
    from hfdash.inference.local import POOL, encode, load_model

    auto = load_model(BackendSpec("local"), token=None)
    chosen = auto.dtype
    rates = {}
    for dtype in ("float32", "bfloat16"):
        loaded = load_model(BackendSpec("local", dtype=dtype), token=None)
        inputs, _ = encode(loaded, [Message("user", LOCAL_PROMPT)])
        backend_rate(dtype)  # warm-up
        pairs = []
        for _ in range(REPEATS):  # interleaved, so load from elsewhere hits both alike
            through, tokens = backend_rate(dtype)
            pairs.append((through, bare_rate(loaded, inputs, tokens)))
        rates[dtype] = (statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs),
                        statistics.median(p[0] / p[1] for p in pairs))  # pairwise: noise hits both alike
    POOL.clear()
    through, bare, ratio = rates[chosen]
    speedup = rates["bfloat16"][1] / rates["float32"][1]
    return [
        (f"local tokens/s, backend vs bare generate ({chosen})", f"{through:.1f} vs {bare:.1f}",
         f"{ratio:.2f}x (>= {TARGET_LOCAL_RATIO})", ratio >= TARGET_LOCAL_RATIO),
        ("local dtype chosen by auto", chosen, f"bf16 {speedup:.2f}x fp32 per token "
         f"({rates['bfloat16'][1]:.1f} vs {rates['float32'][1]:.1f} tok/s)", None),
    ]


def cold_start_rows() -> list[tuple[str, str, str, bool | None]]:
    with tempfile.TemporaryDirectory(prefix="hfdash-bench-cache-") as cache:
        env = {**os.environ, "HFDASH_CACHE_DIR": cache, "TRANSFORMERS_VERBOSITY": "error",
               "HF_HUB_DISABLE_PROGRESS_BARS": "1"}

        def first_token_s() -> float:
            done = subprocess.run([sys.executable, "-c", COLD_START], capture_output=True, text=True, env=env,
                                  timeout=600)
            if done.returncode != 0:
                raise SystemExit(f"cold start failed:\n{done.stderr[-2000:]}")
            return float(done.stdout.strip().splitlines()[-1])

        first_ever = first_token_s()
        warm = min(first_token_s() for _ in range(2))
    return [
        ("embedded first-ever start (converts the GGUF)", f"{first_ever:.1f} s", "report only", None),
        ("embedded cold start, warm cache: first token", f"{warm:.1f} s",
         f"<= {TARGET_COLD_START_S:.0f} s", warm <= TARGET_COLD_START_S),
    ]


# ---- hosted ----------------------------------------------------------------------------------------

def raw_ttft(url: str, tls) -> float:
    """The bare client, with its TLS context made once as the backend's is."""
    from openai import DefaultHttpxClient, Omit, OpenAI

    start = time.perf_counter()
    client = OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=30,
                    http_client=DefaultHttpxClient(verify=tls))
    for chunk in client.chat.completions.create(messages=[{"role": "user", "content": "hi"}], model="ok",
                                                stream=True, max_tokens=8, temperature=0.7,
                                                stream_options={"include_usage": True},
                                                extra_headers={"Authorization": Omit()}):
        if chunk.choices and chunk.choices[0].delta.content:
            break
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def backend_ttft(url: str) -> float:
    from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer

    start = time.perf_counter()
    stream = stream_answer(BackendSpec("hosted", model="ok", base_url=url), [Message("user", "hi")],
                           GenerationParams(max_new_tokens=8), token=None)
    for answer in stream:
        if answer.text:
            break
    elapsed = time.perf_counter() - start
    stream.close()
    return elapsed


def pane_seconds(url: str, panes: int) -> float:
    """Wall time until all `panes` answers (each in its own thread, as the page runs them) are done."""
    from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer

    statuses = []

    def pane():
        for answer in stream_answer(BackendSpec("hosted", model="ok", base_url=url), [Message("user", "hi")],
                                    GenerationParams(max_new_tokens=PANE_WORDS), token=None):
            pass
        statuses.append(answer.status)

    threads = [threading.Thread(target=pane) for _ in range(panes)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if statuses != ["done"] * panes:
        raise SystemExit(f"hosted panes failed: {statuses}")
    return time.perf_counter() - start


def hosted_rows() -> list[tuple[str, str, str, bool | None]]:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tests.support.fault_server import FaultServer

    import httpx2

    server = FaultServer(token_delay=TOKEN_DELAY_S, words=tuple(f" w{i}" for i in range(PANE_WORDS))).start()
    tls = httpx2.create_ssl_context()
    try:
        raw_ttft(server.url, tls), backend_ttft(server.url)  # warm-up: imports, first connection
        raw, ours = [], []
        for _ in range(HOSTED_RUNS):
            raw.append(raw_ttft(server.url, tls))
            ours.append(backend_ttft(server.url))
        raw_s, ours_s = statistics.median(raw), statistics.median(ours)
        alone = max(pane_seconds(server.url, 1) for _ in range(REPEATS))
        parallel = {n: statistics.median(pane_seconds(server.url, n) for _ in range(REPEATS)) for n in (2, 4)}
    finally:
        server.stop()
    rows = [("hosted TTFT, backend vs raw openai client", f"{ours_s * 1000:.1f} vs {raw_s * 1000:.1f} ms",
             f"{(ours_s - raw_s) * 1000:+.1f} ms (<= +{TARGET_TTFT_EXTRA_S * 1000:.0f} ms)",
             ours_s - raw_s <= TARGET_TTFT_EXTRA_S)]
    for n, seconds in parallel.items():
        rows.append((f"hosted {n} panes in parallel vs slowest pane alone",
                     f"{seconds:.2f} vs {alone:.2f} s", f"{seconds / alone:.2f}x (<= {TARGET_PARALLEL_RATIO})",
                     seconds / alone <= TARGET_PARALLEL_RATIO))
    return rows


def main() -> int:
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    rows = hosted_rows() + local_rows() + cold_start_rows()
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'figures':<24} {'ratio / target':<44} verdict")
    for name, figures, ratio, ok in rows:
        verdict = "-" if ok is None else ("ok" if ok else "MISSED")
        print(f"{name.ljust(width)}  {figures:<24} {ratio:<44} {verdict}")
    return 1 if any(ok is False for *_, ok in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
