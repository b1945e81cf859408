"""Hosted-backend failures, each from a FAKE loopback server (tests/support/fault_server.py), because a real
server can't be made to answer 401/402/403/429/503, hang or drop a stream on demand."""

from __future__ import annotations

import pytest

from hfdash.errors import (BadParameters, Forbidden, Gated, InvalidToken, MissingCredentials, NotFound,
                           PaymentRequired, RateLimited, Timeout, Unavailable)
from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer
from tests.support.fault_server import RETRY_AFTER_S, WORDS, DROP_AFTER

PROMPT = [Message("user", "hi")]
SESSION_TOKEN = "hf_" + "s" * 30


def final(server, model, *, token=None, params=GenerationParams()):  # noqa: B008 (frozen, never changed)
    return list(stream_answer(BackendSpec("hosted", model=model, base_url=server.url), PROMPT, params,
                              token=token))[-1]


@pytest.mark.parametrize("model, error_type, words", [
    ("fail-401", MissingCredentials, "needs an API key, and none is set"),
    ("fail-402", PaymentRequired, "credits"),
    ("fail-403", Forbidden, "Make calls to Inference Providers"),
    ("fail-403-gated", Gated, "gated"),
    ("fail-404", NotFound, "not found"),
    ("fail-422", BadParameters, "rejected the parameters"),
    ("fail-503", Unavailable, "loading"),
])
def test_http_failures_become_typed_errors_with_a_clear_message(fault_server, model, error_type, words):
    answer = final(fault_server, model)
    assert answer.status == "error" and type(answer.error) is error_type
    assert words in answer.error.user_message()
    assert answer.text == ""


def test_rate_limit_says_when_to_retry(fault_server):
    answer = final(fault_server, "fail-429")
    assert isinstance(answer.error, RateLimited) and answer.error.retry_after == RETRY_AFTER_S
    assert f"Retry in {RETRY_AFTER_S} s" in answer.error.user_message()


def test_a_hanging_server_times_out(fault_server, monkeypatch):
    monkeypatch.setenv("HFDASH_HOSTED_TIMEOUT", "1")
    answer = final(fault_server, "hang")
    assert answer.status == "error" and isinstance(answer.error, Timeout)
    assert answer.stats.total_s < 10


def test_a_dropped_stream_keeps_the_partial_answer_marked_incomplete(fault_server):
    answer = final(fault_server, "drop")
    assert answer.status == "incomplete"
    assert answer.text == "".join(WORDS[:DROP_AFTER])
    assert isinstance(answer.error, Unavailable) and "before the answer was complete" in answer.error.user_message()


def test_a_base_url_that_does_not_answer_is_unavailable():
    from tests.support.streamlit_app import free_port

    spec = BackendSpec("hosted", model="m", base_url=f"http://127.0.0.1:{free_port()}/v1")
    answer = list(stream_answer(spec, PROMPT, GenerationParams(), token=None))[-1]
    assert isinstance(answer.error, Unavailable) and "could not connect" in answer.error.user_message()


def test_parameters_are_sent_as_given_with_usage_asked_for(fault_server):
    params = GenerationParams(max_new_tokens=4, temperature=0.3, top_p=0.9, seed=11, stop=("dog",))
    answer = final(fault_server, "ok", params=params)
    assert answer.status == "done" and answer.text == "".join(WORDS[:4])
    assert answer.cut_off  # the server's finish_reason "length"
    assert answer.stats.output_tokens == 4 and not answer.stats.tokens_estimated  # from the usage chunk
    body = fault_server.chat_requests()[-1].body
    assert {k: body[k] for k in ("max_tokens", "temperature", "top_p", "seed", "stop", "stream")} == \
        {"max_tokens": 4, "temperature": 0.3, "top_p": 0.9, "seed": 11, "stop": ["dog"], "stream": True}
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [{"role": "user", "content": "hi"}]


def test_the_hf_token_never_goes_to_a_self_hosted_server(fault_server, monkeypatch):
    machine_token = "hf_" + "a" * 30
    monkeypatch.setenv("HF_TOKEN", machine_token)  # the machine's token must not leak either
    assert final(fault_server, "ok", token=SESSION_TOKEN).status == "done"
    request = fault_server.chat_requests()[-1]
    assert not request.authorization  # no bearer at all
    assert SESSION_TOKEN not in str(request.headers) and machine_token not in str(request.headers)


def test_providers_without_a_token_explain_what_to_do():
    answer = list(stream_answer(BackendSpec("hosted", model="meta-llama/Llama-3.1-8B-Instruct", provider="auto"),
                                PROMPT, GenerationParams(), token=None))[-1]
    assert isinstance(answer.error, InvalidToken) and "Settings page" in answer.error.user_message()


@pytest.mark.parametrize("spec, params, words", [
    (BackendSpec("hosted", model="m", base_url="localhost:8000"), GenerationParams(), "base URL"),
    (BackendSpec("hosted"), GenerationParams(), "model id"),
    (BackendSpec("elsewhere"), GenerationParams(), "backend must be one of"),
    (BackendSpec("local"), GenerationParams(temperature=3), "temperature"),
    (BackendSpec("local"), GenerationParams(max_new_tokens=0), "max new tokens"),
    (BackendSpec("local"), GenerationParams(top_p=0), "top_p"),
])
def test_bad_input_is_refused_before_any_call(spec, params, words):
    answer = list(stream_answer(spec, PROMPT, params, token=None))[-1]
    assert answer.status == "error" and isinstance(answer.error, BadParameters)
    assert words in answer.error.user_message()


def test_an_empty_prompt_is_refused():
    answer = list(stream_answer(BackendSpec("local"), [Message("user", "  ")], GenerationParams(), token=None))[-1]
    assert isinstance(answer.error, BadParameters) and "prompt is empty" in answer.error.user_message()
