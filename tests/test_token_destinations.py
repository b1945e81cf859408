"""Where the HF token and a server's key may go. The HF token: Hugging Face's own API hosts over https
and the configured Hub endpoint, nothing else; a Space or Inference Endpoint only after the user opts in,
over https. Requests to a made-up `*.hf.space` host are caught by the fake server acting as the HTTP
proxy (HTTP_PROXY), so what a real request to that host would carry is recorded."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from hfdash import auth
from hfdash.errors import BadParameters
from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer
from hfdash.inference.hosted import make_client
from tests.support.tokens import new_token

PROMPT = [Message("user", "hi")]
HUB = "https://huggingface.co"


@pytest.mark.parametrize("url, allowed", [
    ("https://huggingface.co/api/whoami-v2", True),
    ("https://router.huggingface.co/v1", True),
    ("https://hf.co/api/models", True),
    ("http://router.huggingface.co/v1", False),  # plain http: never
    ("https://evil.hf.space/v1", False),  # anyone can create a Space
    ("http://evil.hf.space/v1", False),
    ("https://xyz.endpoints.huggingface.cloud/v1", False),
    ("https://huggingface.co.evil.example/v1", False),  # not a suffix match
    ("https://evilhuggingface.co/v1", False),
    ("https://huggingface.co:8443/v1", False),
    ("http://127.0.0.1:8000/v1", False),
])
def test_the_token_goes_only_to_hugging_faces_own_https_hosts(url, allowed):
    assert auth.token_goes_to(url, hub_endpoint=HUB) is allowed


def test_the_configured_hub_endpoint_is_trusted_on_its_exact_origin():
    mirror = "http://127.0.0.1:8123"
    assert auth.token_goes_to(f"{mirror}/api/whoami-v2", hub_endpoint=mirror)
    assert not auth.token_goes_to("http://127.0.0.1:8124/api/whoami-v2", hub_endpoint=mirror)
    assert not auth.token_goes_to("https://127.0.0.1:8123/api", hub_endpoint=mirror)


@pytest.mark.parametrize("url, host", [
    ("https://alice-chat.hf.space/v1", "alice-chat.hf.space"),
    ("https://xyz.us-east-1.aws.endpoints.huggingface.cloud/v1", "xyz.us-east-1.aws.endpoints.huggingface.cloud"),
    ("http://alice-chat.hf.space/v1", None),  # over plain http the token is never offered
    ("https://router.huggingface.co/v1", None),
    ("https://hf.space.evil.example/v1", None),
])
def test_only_https_spaces_and_endpoints_may_be_opted_in(url, host):
    assert auth.opt_in_host(url) == host


@pytest.fixture
def proxied(fault_server, monkeypatch):
    """Every plain-http request goes through the fake server, as through an HTTP proxy."""
    monkeypatch.setenv("HTTP_PROXY", fault_server.url.removesuffix("/v1"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    return fault_server


def test_a_space_over_http_gets_no_token_even_with_a_machine_token(proxied, monkeypatch):
    machine, session = new_token(), new_token()
    monkeypatch.setenv("HF_TOKEN", machine)
    spec = BackendSpec("hosted", model="ok", base_url="http://evil.hf.space/v1")
    answer = list(stream_answer(spec, PROMPT, GenerationParams(), token=session))[-1]
    assert answer.status == "done"
    request = proxied.chat_requests()[-1]
    assert request.headers["host"] == "evil.hf.space"  # it was the request to the Space
    assert request.authorization is None
    assert machine not in str(request.headers) and session not in str(request.headers)


def test_a_servers_key_goes_to_that_server_and_nothing_else_does(proxied):
    token = new_token()
    spec = BackendSpec("hosted", model="ok", base_url="http://vllm.internal.example/v1")
    answer = list(stream_answer(spec, PROMPT, GenerationParams(), token=token, server_key="sk-own-key"))[-1]
    assert answer.status == "done"
    assert proxied.chat_requests()[-1].authorization == "Bearer sk-own-key"


def test_a_servers_key_never_goes_to_hugging_face():
    router = make_client(BackendSpec("hosted", model="m", base_url="https://router.huggingface.co/v1"),
                         token="hf_" + "t" * 30, server_key="sk-own-key")
    assert router.client.api_key == "hf_" + "t" * 30


def test_an_opted_in_space_gets_the_token_it_was_given_as_its_key():
    space = make_client(BackendSpec("hosted", model="m", base_url="https://alice-chat.hf.space/v1"),
                        token="hf_" + "t" * 30, server_key=None)
    assert not space.has_secret  # no opt-in: nothing
    opted = make_client(BackendSpec("hosted", model="m", base_url="https://alice-chat.hf.space/v1"),
                        token="hf_" + "t" * 30, server_key="hf_" + "t" * 30)
    assert opted.has_secret and opted.client.api_key == "hf_" + "t" * 30


def test_openai_environment_credentials_are_not_sent(proxied, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-account")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-secret")
    spec = BackendSpec("hosted", model="ok", base_url="http://vllm.internal.example/v1")
    assert list(stream_answer(spec, PROMPT, GenerationParams(), token=None))[-1].status == "done"
    headers = str(proxied.chat_requests()[-1].headers)
    assert "sk-openai-account" not in headers and "org-secret" not in headers


def test_saved_server_keys_are_owner_only_and_can_be_removed():
    path = auth.save_server_key("http://127.0.0.1:8000/v1", "sk-saved")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth.saved_server_key("http://127.0.0.1:8000/v1") == "sk-saved"
    assert auth.remove_server_key("http://127.0.0.1:8000/v1")
    assert auth.saved_server_key("http://127.0.0.1:8000/v1") is None
    assert "sk-saved" not in path.read_text()


@pytest.mark.parametrize("raw", ["", "  ", "has space", "x" * 513, "caf\u00e9"])
def test_a_bad_server_key_is_refused_without_quoting_it(raw):
    with pytest.raises(BadParameters) as refused:
        auth.clean_server_key(raw)
    assert (raw.strip() or "\0") not in refused.value.user_message()


def test_cli_api_key_env_that_is_not_set_is_one_line_and_exit_2():
    env = {k: v for k, v in os.environ.items() if k != "NOT_SET_ANYWHERE"}
    done = subprocess.run([sys.executable, "-m", "hfdash", "chat", "--base-url", "http://127.0.0.1:9/v1",
                           "--api-key-env", "NOT_SET_ANYWHERE", "hi"], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 2
    assert "NOT_SET_ANYWHERE is not set" in done.stderr and "Traceback" not in done.stderr
