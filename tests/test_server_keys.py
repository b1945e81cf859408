"""A server outside Hugging Face with its own API key: a REAL `transformers serve` behind a small real
proxy that asks for the key (tests/support/key_proxy.py). The right key answers, a wrong or missing one
is a clear 401 message, the HF token never reaches the server, and HF_HUB_OFFLINE=1 leaves it working."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hfdash.errors import InvalidToken
from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer
from tests.support.key_proxy import KeyProxy
from tests.support.tokens import new_token

pytestmark = pytest.mark.slow

KEY = "sk-test-" + "k" * 24
CAPITAL = [Message("user", "What is the capital of France?")]
GREEDY = GenerationParams(temperature=0, max_new_tokens=16)


@pytest.fixture(scope="module")
def keyed_server(transformers_serve):
    proxy = KeyProxy(upstream=transformers_serve.url, key=KEY).start()
    yield proxy
    proxy.stop()


def ask(proxy, model, **credentials):
    spec = BackendSpec("hosted", model=model, base_url=proxy.base_url)
    return list(stream_answer(spec, CAPITAL, GREEDY, **credentials))[-1]


def test_the_right_key_answers_and_the_hf_token_is_not_sent(keyed_server, transformers_serve):
    hf_token = new_token()
    answer = ask(keyed_server, transformers_serve.model, token=hf_token, server_key=KEY)
    assert answer.status == "done" and "Paris" in answer.text
    assert keyed_server.authorizations[-1] == f"Bearer {KEY}"
    assert all(hf_token not in (sent or "") for sent in keyed_server.authorizations)


@pytest.mark.parametrize("key, words", [("sk-wrong-key", "refused the API key (401)"),
                                        (None, "needs an API key, and none is set (401)")])
def test_a_wrong_or_missing_key_is_a_clear_401_message(keyed_server, transformers_serve, key, words):
    answer = ask(keyed_server, transformers_serve.model, token=new_token(), server_key=key)
    assert answer.status == "error" and isinstance(answer.error, InvalidToken)
    assert words in answer.error.user_message() and "Settings page" in answer.error.user_message()
    assert KEY not in answer.error.user_message()


def chat(*args, env):
    return subprocess.run([sys.executable, "-m", "hfdash", "chat", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})


def test_cli_api_key_env_with_the_hub_offline_still_answers(keyed_server, transformers_serve):
    done = chat("--base-url", keyed_server.base_url, "--model", transformers_serve.model, "--api-key-env",
                "MY_SERVER_KEY", "--temperature", "0", "--max-new-tokens", "16", "What is the capital of France?",
                env={"MY_SERVER_KEY": KEY, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    assert "Paris" in done.stdout and KEY not in done.stdout + done.stderr

