"""Hosted backend: HF Inference Providers through `huggingface_hub.InferenceClient`, or any
OpenAI-compatible server (TGI, vLLM, Ollama, `transformers serve`, an Inference Endpoint) given by base
URL, through the `openai` client.

Each request carries at most one secret, chosen by `auth.token_goes_to`: the HF token goes to Hugging
Face's own hosts (and the configured Hub endpoint) only; any other server gets its own API key, or no
Authorization header at all. A server's key never goes to Hugging Face. The `openai` client does not
pass through huggingface_hub's offline hook, so HF_HUB_OFFLINE blocks the Hub, not a server of your own.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import threading
from collections.abc import Iterator
from typing import Any, ClassVar, cast

from hfdash.errors import (HfdashError, InvalidToken, MissingCredentials, Timeout, Unavailable, from_exception,
                           from_status)
from hfdash.inference.base import BackendSpec, Chunk, GenerationParams, Message

DEFAULT_TIMEOUT_S = 120.0  # per connect and per wait for the next chunk, not for the whole answer
POLL_S = 0.05  # how often the reader loop looks at the stop event
INCOMPLETE_NOTICE = "the connection closed before the answer was complete"
KEY_HINT = "Set this server's API key on the Settings page (CLI: --api-key-env NAME)."
# The router's selection policies, asked for with a suffix on the model id (`repo:cheapest`). Provider
# "auto" sends the bare id: the router then picks the fastest provider, unless the account has set a
# preference order at https://hf.co/settings/inference-providers.
ROUTER_POLICIES = ("fastest", "cheapest")


def routed(spec: BackendSpec) -> tuple[str, str | None]:
    """(the InferenceClient provider, the model id as sent) for a pane on Inference Providers."""
    if spec.provider in ROUTER_POLICIES:
        return "auto", f"{spec.model}:{spec.provider}"
    return spec.provider or "auto", spec.model


def timeout_s() -> float:
    """HFDASH_HOSTED_TIMEOUT (seconds) overrides the default, e.g. for a slow self-hosted server."""
    return float(os.environ.get("HFDASH_HOSTED_TIMEOUT") or DEFAULT_TIMEOUT_S)


def server_secret(base_url: str, *, token: str | None, server_key: str | None) -> str | None:
    """What a request to `base_url` carries: the HF token on Hugging Face's own hosts, else the server's key."""
    from hfdash.auth import token_goes_to
    from hfdash.config import load_settings

    return token if token_goes_to(base_url, hub_endpoint=load_settings().endpoint) else server_key


@functools.cache
def tls_context():
    """Built once: making it (loading the CA certificates) is what makes a new HTTP client cost ~0.1 s."""
    import httpx2

    return httpx2.create_ssl_context()


class ServerClient:
    """An `openai` client for one server, with the one secret it may have (or none at all)."""

    def __init__(self, base_url: str, secret: str | None):
        from openai import DefaultHttpxClient, Omit, OpenAI

        self.has_secret = secret is not None
        # Explicit key, no retries; the environment's OPENAI_* organisation and project are not sent.
        self.client = OpenAI(base_url=base_url, api_key=secret or "unused", max_retries=0, timeout=timeout_s(),
                             default_headers=cast(dict, {"OpenAI-Organization": Omit(), "OpenAI-Project": Omit()}),
                             http_client=DefaultHttpxClient(verify=tls_context()))
        self.auth_headers = {} if secret else {"Authorization": Omit()}

    def chat_completion(self, *, model: str | None, **kwargs):
        # Without a model id, the placeholder huggingface_hub sends too: a one-model server ignores it.
        return self.client.chat.completions.create(model=model or "dummy", **kwargs, extra_headers=self.auth_headers)

    def close(self) -> None:
        self.client.close()


def make_client(spec: BackendSpec, token: str | None, server_key: str | None = None):
    if spec.base_url:
        return ServerClient(spec.base_url, server_secret(spec.base_url, token=token, server_key=server_key))
    if not token:
        raise MissingCredentials("Hugging Face Inference Providers need an access token, and none is set.",
                           hint="Add one on the Settings page (with 'Make calls to Inference Providers'), "
                                "or use a base URL of your own server.")
    from huggingface_hub import InferenceClient

    return InferenceClient(provider=cast(Any, routed(spec)[0]), token=token, timeout=timeout_s())


def server_message(exc) -> str:
    """The error text an OpenAI-compatible server put in its JSON body, if any."""
    body = getattr(exc, "body", None)
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        inner = body.get("error", body)
        text = inner.get("message") if isinstance(inner, dict) else inner
        if isinstance(text, str):
            return text
    return ""


def server_error(exc: BaseException, *, what: str, has_secret: bool) -> HfdashError:
    """An `openai` client failure as one of hfdash's errors (the Hub's failures go through from_exception)."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return Timeout(f"{what}: no answer in time.")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return Unavailable(f"{what}: could not connect ({type(cause).__name__}).")
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code == 401:
            refused = "refused the API key" if has_secret else "needs an API key, and none is set"
            words = server_message(exc)
            error = InvalidToken if has_secret else MissingCredentials
            return error(f"{what}: the server {refused} (401)" + (f" ({words})." if words else "."), hint=KEY_HINT)
        return from_status(exc.status_code, what=what, headers=exc.response.headers,
                           detail=server_message(exc) or None)
    return from_exception(exc, what=what)


def request_kwargs(spec: BackendSpec, messages: list[Message], params: GenerationParams) -> dict:
    """chat_completion arguments; defaults servers disagree on (top_p=1) are left out."""
    model = spec.model if spec.base_url else routed(spec)[1]
    kwargs: dict[str, Any] = {"messages": [m.to_json() for m in messages], "model": model, "stream": True,
              "max_tokens": params.max_new_tokens, "temperature": params.temperature,
              "stream_options": {"include_usage": True}}
    if params.top_p < 1:
        kwargs["top_p"] = params.top_p
    if params.seed is not None:
        kwargs["seed"] = params.seed
    if params.stop:
        kwargs["stop"] = list(params.stop)
    return kwargs


def refuses_stream_options(exc: BaseException) -> bool:
    """Whether a server answered 400/422 because it does not know `stream_options`."""
    from huggingface_hub.errors import HfHubHTTPError

    status: int | None
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status, text = exc.response.status_code, exc.server_message or str(exc)
    else:
        status, text = getattr(exc, "status_code", None), json.dumps(getattr(exc, "body", None)) + str(exc)
    return status in (400, 422) and "stream_options" in text


def open_stream(client, kwargs: dict):
    """Start the streamed request; a server that refuses `stream_options` is asked again without it."""
    try:
        return iter(client.chat_completion(**kwargs))
    except Exception as exc:
        if refuses_stream_options(exc):
            return iter(client.chat_completion(**{k: v for k, v in kwargs.items() if k != "stream_options"}))
        raise


def describe(spec: BackendSpec) -> str:
    return f"{spec.model or 'the server'} at {spec.base_url}" if spec.base_url else \
        f"{spec.model} via Inference Providers ({spec.provider or 'auto'})"


class HostedBackend:
    name: ClassVar[str] = "hosted"
    loads_weights: ClassVar[bool] = False

    def __init__(self, server_key: str | None = None):
        self.server_key = server_key  # the API key of the base URL's server, if it needs one

    def stream(self, spec: BackendSpec, messages: list[Message], params: GenerationParams, *,
               token: str | None, stop: threading.Event, on_progress=None) -> Iterator[Chunk]:
        what = describe(spec)
        client = make_client(spec, token, self.server_key)
        events: queue.Queue = queue.Queue()

        def read():  # in its own thread, so Stop is honoured even while the server is silent
            try:
                for chunk in open_stream(client, request_kwargs(spec, messages, params)):
                    events.put(("chunk", chunk))
                    if stop.is_set():
                        break
                events.put(("end", None))
            except BaseException as exc:
                events.put(("error", exc))

        reader = threading.Thread(target=read, name="hfdash-hosted-stream", daemon=True)
        reader.start()
        yield Chunk(sent=True)
        finish_reason: str | None = None
        has_usage = has_text = False
        failure: BaseException | None = None
        try:
            while not stop.is_set():
                try:
                    kind, item = events.get(timeout=POLL_S)
                except queue.Empty:
                    continue
                if kind == "end":
                    break
                if kind == "error":
                    failure = item
                    break
                if item.usage is not None and item.usage.completion_tokens is not None:
                    has_usage = True
                    yield Chunk(output_tokens=item.usage.completion_tokens, input_tokens=item.usage.prompt_tokens)
                for choice in item.choices or []:
                    finish_reason = choice.finish_reason or finish_reason
                    if choice.delta is not None and choice.delta.content:
                        has_text = True
                        yield Chunk(text=choice.delta.content)
        finally:
            client.close()  # closes the HTTP stream: the server stops generating for us
        if stop.is_set():
            return
        if failure is not None:
            error = server_error(failure, what=what, has_secret=client.has_secret) \
                if isinstance(client, ServerClient) else from_exception(failure, what=what)
            if not has_text or isinstance(failure, HfdashError):
                raise error
            # Dropped or timed out mid-answer: keep what came.
            if not isinstance(error, Timeout):
                error = Unavailable(f"{what}: {INCOMPLETE_NOTICE} ({type(failure).__name__}).")
            yield Chunk(notice=INCOMPLETE_NOTICE, finish_reason="incomplete", error=error)
        elif finish_reason is None and not has_usage:
            yield Chunk(notice=INCOMPLETE_NOTICE, finish_reason="incomplete",
                        error=Unavailable(f"{what}: {INCOMPLETE_NOTICE}."))
        else:
            yield Chunk(finish_reason="length" if finish_reason == "length" else "stop")
