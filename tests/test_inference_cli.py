"""`python -m hfdash chat` as a user runs it: a subprocess, answer on stdout, stats on stderr, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.fault_server import WORDS


def chat(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "hfdash", "chat", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.mark.slow
def test_local_default_is_the_embedded_model_and_temperature_zero_is_greedy(embedded_model_folder):
    done = chat("--backend", "local", "--temperature", "0", "--max-new-tokens", "24",
                "What is the capital of France?")
    assert done.returncode == 0, done.stderr
    assert "Paris" in done.stdout
    assert "tokens" in done.stderr and "first token" in done.stderr and "[done]" in done.stderr
    assert "tokens" not in done.stdout  # stats stay off stdout


def test_hosted_streams_to_stdout_and_stats_to_stderr(fault_server):
    done = chat("--base-url", fault_server.url, "--model", "ok", "--system", "Be brief.",
                "--max-new-tokens", "5", "--seed", "3", "hello")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "".join(WORDS[:5]) + "\n"
    assert "5 tokens" in done.stderr and "[done, cut off at the token limit]" in done.stderr
    body = fault_server.chat_requests()[-1].body
    assert body["messages"][0] == {"role": "system", "content": "Be brief."} and body["seed"] == 3


@pytest.mark.parametrize("args, words", [
    (("",), "prompt is empty"),
    (("--temperature", "5", "hi"), "temperature"),
    (("--max-new-tokens", "0", "hi"), "max new tokens"),
    (("--backend", "local", "--base-url", "http://127.0.0.1:1/v1", "hi"), "--backend hosted"),
    (("--backend", "hosted", "hi"), "model id"),
    (("--base-url", "not-a-url", "hi"), "base URL"),
    (("--max-new-tokens", "many", "hi"), "invalid int value"),
])
def test_bad_input_exits_2_with_one_line(args, words):
    done = chat(*args)
    assert done.returncode == 2
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""


def test_server_errors_exit_2_with_the_typed_message(fault_server):
    done = chat("--base-url", fault_server.url, "--model", "fail-429", "hi")
    assert done.returncode == 2 and "rate limited" in done.stderr and "Retry in 7 s" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_dropped_stream_prints_the_partial_answer_and_exits_1(fault_server):
    done = chat("--base-url", fault_server.url, "--model", "drop", "hi")
    assert done.returncode == 1
    assert done.stdout.startswith("The quick") and "[incomplete]" in done.stderr
