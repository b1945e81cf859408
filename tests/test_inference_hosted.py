"""The hosted backend against a REAL `transformers serve` process serving the embedded model on 127.0.0.1."""

from __future__ import annotations

import threading

import pytest

from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer
from tests.support.chat import all_answers, assert_streamed_capital, panes_at_once

pytestmark = pytest.mark.slow

CAPITAL = [Message("user", "What is the capital of France?")]
GREEDY = GenerationParams(temperature=0, max_new_tokens=24)


@pytest.fixture
def served(transformers_serve):
    return BackendSpec("hosted", model=transformers_serve.model, base_url=transformers_serve.base_url)


def answers(spec, messages=CAPITAL, params=GREEDY):
    return all_answers(spec, messages, params)


def test_streams_the_answer_with_the_servers_usage(served):
    final = assert_streamed_capital(answers(served))
    assert not final.stats.tokens_estimated  # counted by the server (usage), not guessed
    assert final.stats.output_tokens >= 3 and 0 < final.stats.ttft_s <= final.stats.total_s
    assert final.stats.input_tokens and not final.cut_off  # it ended by itself, within 24 tokens


def test_parameters_reach_the_server(served):
    short = answers(served, params=GenerationParams(temperature=0, max_new_tokens=3))[-1]
    assert short.status == "done" and short.stats.output_tokens <= 3
    assert short.cut_off  # the server said finish_reason "length"
    assert short.text.strip() and "Paris" not in short.text  # cut before the answer's end
    sampled = GenerationParams(temperature=1.0, seed=42, max_new_tokens=6)
    story = [Message("user", "Tell me a story.")]
    assert answers(served, story, sampled)[-1].text == answers(served, story, sampled)[-1].text


def test_two_panes_at_once_both_answer(served):
    finals = panes_at_once(served, ["Be brief.", "Be polite."], CAPITAL,
                           GenerationParams(temperature=0, max_new_tokens=12))
    assert [a.status for a in finals] == ["done", "done"], finals
    assert all(a.text.strip() for a in finals)


def test_stop_closes_the_stream_and_the_server_keeps_serving(served):
    stop = threading.Event()
    for answer in stream_answer(served, [Message("user", "Write a long story about a dragon.")],
                                GenerationParams(max_new_tokens=200), token=None, stop=stop):
        if answer.text:
            stop.set()
    assert answer.status == "stopped" and answer.text
    assert answer.stats.output_tokens < 200
    assert answers(served, params=GenerationParams(temperature=0, max_new_tokens=2))[-1].status == "done"
