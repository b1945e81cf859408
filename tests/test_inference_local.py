"""The local backend on the real embedded model (SmolLM2-135M-Instruct, converted once per test session)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from hfdash.config import Settings, save_settings
from hfdash.errors import BadParameters, NotFound, TooLarge, Unavailable
from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer
from hfdash.inference.local import PLAIN_TEXT_NOTICE, encode, load_model, loaded_models
from hfdash.vocab import EMBEDDED_MODEL
from tests.support.chat import all_answers, assert_streamed_capital, panes_at_once

pytestmark = pytest.mark.slow

EMBEDDED = BackendSpec("local")
GREEDY = GenerationParams(temperature=0, max_new_tokens=24)
CAPITAL = [Message("user", "What is the capital of France?")]


def answers(messages, params=GREEDY, spec=EMBEDDED):
    return all_answers(spec, messages, params)


def grows(seen) -> bool:
    """Whether each yielded answer extends the one before."""
    return all(b.text.startswith(a.text) for a, b in zip(seen, seen[1:], strict=False))


def test_greedy_answer_names_paris_and_streams_in_several_chunks(embedded_model_folder):
    seen = answers(CAPITAL)
    final = assert_streamed_capital(seen)
    assert grows(seen)
    stats = final.stats
    assert not stats.tokens_estimated and stats.output_tokens >= 3
    assert 0 < stats.ttft_s <= stats.total_s and stats.tokens_per_s > 0


def test_stop_ends_generate_within_one_token_step_and_keeps_the_partial_text(embedded_model_folder):
    model = load_model(EMBEDDED, token=None).model
    steps = []
    hook = model.register_forward_hook(lambda *args: steps.append(1))
    stop = threading.Event()
    at_stop = {}
    try:
        for answer in stream_answer(EMBEDDED, [Message("user", "Write a long story about a dragon.")],
                                    GenerationParams(max_new_tokens=200, seed=1), token=None, stop=stop):
            if answer.status == "streaming" and len(answer.text.split()) >= 3 and not stop.is_set():
                at_stop = {"steps": len(steps), "text": answer.text}
                stop.set()
    finally:
        hook.remove()
    assert answer.status == "stopped"
    assert answer.text.startswith(at_stop["text"]) and answer.text.strip()
    assert len(steps) - at_stop["steps"] <= 1  # at most the step already running when Stop was pressed
    assert answer.stats.output_tokens < 200


def test_same_seed_same_sampled_answer_and_stop_strings_cut(embedded_model_folder):
    sampled = GenerationParams(temperature=1.0, top_p=0.95, seed=1234, max_new_tokens=12)
    prompt = [Message("user", "Tell me about cats.")]
    assert answers(prompt, sampled)[-1].text == answers(prompt, sampled)[-1].text
    seen = answers(CAPITAL, GenerationParams(temperature=0, max_new_tokens=24, stop=("Paris",)))
    cut = seen[-1]
    assert cut.status == "done" and "Paris" not in cut.text and cut.text.strip() and not cut.cut_off
    assert grows(seen)  # "Par" is held back, never shown and taken away


def test_an_answer_ended_by_max_new_tokens_is_marked_cut_off(embedded_model_folder):
    short = answers(CAPITAL, GenerationParams(temperature=0, max_new_tokens=3))[-1]
    assert short.status == "done" and short.cut_off and short.stats.output_tokens == 3
    whole = answers(CAPITAL)[-1]
    assert whole.status == "done" and not whole.cut_off and "Paris" in whole.text
    assert whole.stats.input_tokens > 5  # the prompt, through the chat template


def test_system_prompt_replaces_the_templates_default(embedded_model_folder):
    loaded = load_model(EMBEDDED, token=None)
    ids, notices = encode(loaded, [Message("system", "You answer in French."), *CAPITAL])
    prompt = loaded.tokenizer.decode(ids)
    assert "You answer in French." in prompt and "SmolLM" not in prompt and notices == []


def test_prompt_longer_than_the_context_is_refused_naming_the_limit(embedded_model_folder):
    final = answers([Message("user", "hello " * 9000)])[-1]
    assert final.status == "error" and isinstance(final.error, BadParameters)
    assert "8,192" in final.error.user_message()


def test_model_without_chat_template_falls_back_to_plain_text_with_a_notice(embedded_model_folder, tmp_path):
    folder = tmp_path / "no-template"
    folder.mkdir()
    for item in embedded_model_folder.iterdir():
        if item.name == "chat_template.jinja":
            continue
        if item.suffix == ".safetensors":
            (folder / item.name).symlink_to(item)
        else:
            shutil.copy(item, folder / item.name)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    final = answers([Message("user", "The capital of France is")],
                    spec=BackendSpec("local", model=str(folder)))[-1]
    assert final.status == "done", final.error
    assert PLAIN_TEXT_NOTICE in final.notices and final.text.strip()


def test_loaded_model_is_shared_and_listed(embedded_model_folder):
    first = load_model(EMBEDDED, token=None)
    assert load_model(EMBEDDED, token=None) is first
    assert {EMBEDDED_MODEL, embedded_model_folder.name} <= loaded_models()


def test_two_panes_on_the_same_model_stream_together_and_answer_as_alone(embedded_model_folder):
    params = GenerationParams(temperature=0, max_new_tokens=32)
    systems = ["Be brief.", "Answer like a pirate."]
    alone = [answers([Message("system", system), *CAPITAL], params)[-1].text for system in systems]
    events: list[int] = []
    finals = panes_at_once(EMBEDDED, systems, CAPITAL, params, on_delta=events.append)
    assert [a.status for a in finals] == ["done", "done"], finals
    assert [a.text for a in finals] == alone  # sharing the model changes no answer
    # Both panes were streaming at once: pane 1's first delta came before pane 0's last, and vice versa.
    first = {pane: events.index(pane) for pane in (0, 1)}
    last = {pane: len(events) - 1 - events[::-1].index(pane) for pane in (0, 1)}
    assert first[1] < last[0] and first[0] < last[1], events


def test_too_large_catalog_model_is_refused_before_any_download(monkeypatch, isolated_home):
    save_settings(Settings(catalog_source="snapshot"))  # the record comes from the shipped snapshot
    connections = []

    def no_network(self, address):
        connections.append(address)
        raise OSError("network use in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    final = answers(CAPITAL, spec=BackendSpec("local", model="Qwen/Qwen-72B"))[-1]
    assert final.status == "error" and isinstance(final.error, TooLarge), final.error
    message = final.error.user_message()
    assert "Qwen/Qwen-72B" in message and "GiB" in message and "hosted" in message
    assert connections == []
    assert not (isolated_home / "hub").exists()  # nothing downloaded


def test_a_refusal_on_a_machine_without_a_gpu_does_not_wait_for_torch(isolated_home):
    """Importing torch takes seconds; a machine with no GPU driver has no device to ask it about."""
    from hfdash.hardware import gpu_driver_present

    script = ("import sys\n"
              "from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer\n"
              "*_, final = stream_answer(BackendSpec('local', model='meta-llama/Llama-3.1-70B-Instruct'),\n"
              "                          [Message('user', 'Hi')], GenerationParams(max_new_tokens=8), token=None)\n"
              "print(type(final.error).__name__, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.stdout.split() == ["TooLarge", str(gpu_driver_present())], done.stderr[-2000:]


def test_unknown_folder_and_gguf_are_not_found():
    for model in ("./no/such/folder", "missing.gguf"):
        final = answers(CAPITAL, spec=BackendSpec("local", model=model))[-1]
        assert final.status == "error" and isinstance(final.error, NotFound), final.error


@pytest.fixture
def no_dtype_measurement(monkeypatch):
    """Measuring a model's dtype speed runs a random copy of it: a model that cannot load must not get there."""
    from hfdash.inference.local import placement

    def refuse(shape):
        raise AssertionError("measured the dtype of a model that is not available")

    monkeypatch.setattr(placement, "decode_seconds", refuse)


def test_uncached_hub_model_offline_fails_at_once_saying_why(monkeypatch, no_dtype_measurement):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for model in ("Qwen/Qwen2.5-0.5B-Instruct", "example-org/nowhere-known"):  # in the snapshot, and not
        final = answers(CAPITAL, spec=BackendSpec("local", model=model))[-1]
        assert final.status == "error" and isinstance(final.error, Unavailable), final.error
        assert f"{model} is not in the local model cache" in final.error.user_message()


def test_uncached_hub_model_with_the_hub_unreachable_fails_saying_why(monkeypatch, no_dtype_measurement):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing answers there
    final = answers(CAPITAL, spec=BackendSpec("local", model="Qwen/Qwen2.5-0.5B-Instruct"))[-1]
    assert final.status == "error" and isinstance(final.error, Unavailable), final.error
    assert "not in the local model cache, and the Hub cannot be reached" in final.error.user_message()
