"""The GPU fast path's bookkeeping, run eagerly on this CPU with the real embedded model: requests in static
cache slots answer exactly as on the dynamic cache, while they join at different lengths, leave, and make the
cache grow; the compiled forward answers the same; only full-attention models take the path; the load
compiles it first and falls back to eager decode when the model's forward cannot be compiled."""

from __future__ import annotations

import threading
import time

import pytest

from hfdash.inference import BackendSpec, GenerationParams
from hfdash.inference.local import engine, load_model, loading, static_decode

pytestmark = pytest.mark.slow

QUESTIONS = ["Hi", "Write a long story about a dragon and a knight in a castle far away.", "Count to twenty.",
             "What is the capital of France? Explain at length."]


@pytest.fixture(scope="module")
def embedded_fp32(embedded_model_folder):
    loaded = load_model(BackendSpec("local", dtype="float32"), token=None)
    prompts = [loaded.tokenizer.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True,
                                                    return_dict=True)["input_ids"] for q in QUESTIONS]
    return loaded, [list(p) for p in prompts]


def read_until_finished(requests, on_poll=lambda: None) -> None:
    while not all(r.finished for r in requests):
        time.sleep(0.05)
        for request in requests:
            request.read_at = time.monotonic()
        on_poll()


def answers(loaded, prompts, decode: str, *, stagger_s: float, third_max: int = 6,
            stop_third: bool = False) -> list[list[int]]:
    """Greedy answers of requests submitted one after another into one engine; the third may be stopped
    after its first token."""
    runner = engine.Engine(loaded.model, loading.eos_ids(loaded.model, loaded.tokenizer), decode=decode)
    stops = [threading.Event() for _ in prompts]
    requests = []
    for index, (prompt, stop) in enumerate(zip(prompts, stops, strict=True)):
        requests.append(runner.submit(prompt, GenerationParams(temperature=0), third_max if index == 2 else 24, stop))
        time.sleep(stagger_s)

    def stop_the_third():
        if stop_third and requests[2].tokens:
            stops[2].set()

    read_until_finished(requests, stop_the_third)
    runner.close()
    assert [r.error for r in requests] == [None] * len(requests)
    return [r.tokens for r in requests]


def test_static_slots_answer_as_the_dynamic_cache_while_requests_join_leave_and_the_cache_grows(
        embedded_fp32, monkeypatch):
    loaded, prompts = embedded_fp32
    monkeypatch.setattr(static_decode, "FIRST_SLOTS", 1)  # the second request already grows the slots,
    monkeypatch.setattr(static_decode, "FIRST_LENGTH", 16)  # and every prompt the length
    dynamic = answers(loaded, prompts, "eager", stagger_s=0.15)
    static = answers(loaded, prompts, "static", stagger_s=0.15)
    assert static == dynamic
    assert [len(a) for a in static] == [len(a) for a in dynamic]
    assert static[1] == answers(loaded, prompts[1:2], "static", stagger_s=0)[0]  # as alone


def test_a_stopped_request_leaves_its_slot_and_the_others_answer_as_before(embedded_fp32):
    loaded, prompts = embedded_fp32
    full = answers(loaded, prompts, "static", stagger_s=0.1, third_max=24)
    stopped = answers(loaded, prompts, "static", stagger_s=0.1, third_max=24, stop_third=True)
    assert 1 <= len(stopped[2]) < len(full[2])
    assert stopped[:2] + stopped[3:] == full[:2] + full[3:]


def test_only_full_attention_models_take_the_static_path():
    import torch
    from transformers import Gemma2Config, Gemma2ForCausalLM, LlamaConfig, LlamaForCausalLM

    tiny = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                num_key_value_heads=1, vocab_size=64, head_dim=16)
    with torch.device("meta"):
        llama = LlamaForCausalLM(LlamaConfig(**tiny))
        gemma2 = Gemma2ForCausalLM(Gemma2Config(**tiny, sliding_window=8))  # alternates sliding-window layers
    assert static_decode.supported(llama)
    assert not static_decode.supported(gemma2)


def test_compiled_decode_answers_as_eager_decode(embedded_fp32):
    """The compiled forward for real (inductor on this CPU; CUDA graphs only on a GPU), requests joining late."""
    loaded, prompts = embedded_fp32
    assert answers(loaded, prompts, "compiled", stagger_s=0.15) == answers(loaded, prompts, "eager", stagger_s=0.15)


def test_the_load_compiles_fast_decode_first_and_falls_back_to_eager_when_it_fails(embedded_fp32, monkeypatch):
    loaded, prompts = embedded_fp32
    progress: list[str] = []
    fast = loading._engine(loaded.model, loaded.tokenizer, "cuda", "the-model", lambda text, _: progress.append(text))
    assert fast.decode == "compiled"
    assert progress == ["Compiling the-model for fast decode on the GPU (once per model, about a minute)"]
    assert fast._batch.rows == 0  # the warm-up request ran its 4 tokens and left its slot

    def broken_step(self):
        raise RuntimeError("inductor failed")

    monkeypatch.setattr(static_decode.StaticSlots, "step", broken_step)
    progress.clear()
    eager = loading._engine(loaded.model, loaded.tokenizer, "cuda", "the-model", lambda text, _: progress.append(text))
    assert eager.decode == "eager"
    assert progress[-1] == "Fast decode is not available for the-model (RuntimeError); decoding eagerly"
    request = eager.submit(prompts[0], GenerationParams(temperature=0), 24, threading.Event())
    read_until_finished([request])
    assert request.error is None
    assert request.tokens == answers(loaded, prompts[:1], "eager", stagger_s=0)[0]


def test_an_end_of_text_token_before_min_new_does_not_end_the_answer(embedded_fp32):
    loaded, prompts = embedded_fp32
    runner = engine.Engine(loaded.model, loading.eos_ids(loaded.model, loaded.tokenizer))
    short = runner.submit(prompts[0], GenerationParams(temperature=0), 200, threading.Event())
    read_until_finished([short])
    ended_at = len(short.tokens)
    assert ended_at < 200  # the model ends this answer by itself
    longer = runner.submit(prompts[0], GenerationParams(temperature=0), ended_at + 3, threading.Event(),
                           min_new=ended_at + 3)
    read_until_finished([longer])
    runner.close()
    assert longer.tokens[:ended_at] == short.tokens
    assert len(longer.tokens) == ended_at + 3
