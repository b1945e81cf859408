"""The shared inference engine on the real embedded model: panes on one model are batched, a Stop ends one
request only, seeds hold inside a batch, an abandoned request is dropped, and the operator's caps apply."""

from __future__ import annotations

import threading
import time

import pytest

import hfdash.inference.local as local
from hfdash.errors import Unavailable
from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer
from hfdash.inference.local import engine, load_model
from tests.support.chat import all_answers, panes_at_once, requests_in

pytestmark = pytest.mark.slow

EMBEDDED = BackendSpec("local")
STORY = [Message("user", "Write a very long story about a dragon and a knight.")]
TOKENS = 16


def forward_calls(model) -> tuple[list[int], object]:
    """Each forward pass of `model`, as its batch size; and the hook to remove."""
    calls: list[int] = []
    hook = model.register_forward_hook(lambda module, args, kwargs, out: calls.append(kwargs["input_ids"].shape[0]),
                                       with_kwargs=True)
    return calls, hook


def test_four_panes_on_one_model_share_batched_steps_and_answer_as_alone(embedded_model_folder):
    params = GenerationParams(temperature=0, max_new_tokens=TOKENS)
    systems = ["Be brief.", "Answer like a pirate.", "You are a poet.", "You are a historian."]
    alone = [all_answers(EMBEDDED, [Message("system", s), *STORY], params)[-1] for s in systems]
    assert all(a.status == "done" and a.stats.output_tokens == TOKENS for a in alone), alone
    calls, hook = forward_calls(load_model(EMBEDDED, token=None).model)
    try:
        finals = panes_at_once(EMBEDDED, systems, STORY, params)
    finally:
        hook.remove()
    assert [a.status for a in finals] == ["done"] * 4, finals
    assert [a.text for a in finals] == [a.text for a in alone]  # batching changes no answer
    # One pane alone needs 1 prefill + 15 decode steps; four one after another would need 64 passes.
    assert max(calls) >= 2, calls  # some steps served several panes at once
    assert len(calls) <= 2 * TOKENS + 4, calls


def test_stop_ends_one_request_and_the_others_go_on(embedded_model_folder):
    params = GenerationParams(temperature=0, max_new_tokens=TOKENS)
    alone = all_answers(EMBEDDED, STORY, params)[-1]
    stop = threading.Event()
    results: dict[str, object] = {}

    def stopped_pane():
        for answer in stream_answer(EMBEDDED, [Message("system", "Be brief."), *STORY], params, token=None,
                                    stop=stop):
            if answer.text:
                stop.set()
        results["stopped"] = answer

    def other_pane():
        results["other"] = all_answers(EMBEDDED, STORY, params)[-1]

    threads = [threading.Thread(target=stopped_pane), threading.Thread(target=other_pane)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert results["stopped"].status == "stopped" and results["stopped"].stats.output_tokens < TOKENS
    assert results["other"].status == "done" and results["other"].text == alone.text


def test_seeded_sampling_gives_the_same_answer_inside_a_batch(embedded_model_folder):
    sampled = GenerationParams(temperature=1.0, top_p=0.9, seed=7, max_new_tokens=TOKENS)
    alone = all_answers(EMBEDDED, STORY, sampled)[-1].text
    together: dict[str, str] = {}
    thread = threading.Thread(target=lambda: together.update(text=all_answers(EMBEDDED, STORY, sampled)[-1].text))
    thread.start()
    others = panes_at_once(EMBEDDED, ["You are a poet.", "Be brief."], STORY,
                           GenerationParams(temperature=0, max_new_tokens=TOKENS))
    thread.join(timeout=300)
    assert [a.status for a in others] == ["done", "done"]
    assert together["text"] == alone


def test_a_request_nobody_reads_any_more_is_dropped(embedded_model_folder, monkeypatch):
    monkeypatch.setattr(engine, "ABANDONED_AFTER_S", 1.0)
    loaded = load_model(EMBEDDED, token=None)
    stream = stream_answer(EMBEDDED, STORY, GenerationParams(temperature=0, max_new_tokens=2000), token=None)
    first = next(answer for answer in stream if answer.text)  # then the reader stops reading, keeping the stream
    assert first.status == "streaming"
    deadline = time.monotonic() + 30
    while requests_in(loaded.engine) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert requests_in(loaded.engine) == 0
    stream.close()


def test_the_operators_caps_on_generations_and_new_tokens(embedded_model_folder, monkeypatch):
    monkeypatch.setattr(engine, "_generations", threading.BoundedSemaphore(1))
    monkeypatch.setattr(engine, "MAX_GENERATIONS", 1)
    busy = stream_answer(EMBEDDED, STORY, GenerationParams(temperature=0, max_new_tokens=2000), token=None)
    assert next(answer for answer in busy if answer.text).status == "streaming"
    refused = all_answers(EMBEDDED, STORY, GenerationParams(max_new_tokens=8))[-1]
    assert refused.status == "error" and isinstance(refused.error, Unavailable)
    assert "already generating 1 local answers" in refused.error.user_message()
    busy.close()  # its slot is free again
    monkeypatch.setattr(local, "MAX_NEW_TOKENS", 5)
    capped = all_answers(EMBEDDED, STORY, GenerationParams(temperature=0, max_new_tokens=100))[-1]
    assert capped.status == "done" and capped.stats.output_tokens == 5
    assert any("this server's limit" in notice for notice in capped.notices)
