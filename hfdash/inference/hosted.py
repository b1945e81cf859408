"""Hosted backend: `huggingface_hub.InferenceClient` against HF Inference Providers or any
OpenAI-compatible server (TGI, vLLM, Ollama, `transformers serve`) given by base URL.

The HF token goes only to Hugging Face (providers, or a base URL on a Hugging Face host such as an
Inference Endpoint); any other base URL gets no Authorization header at all, so a self-hosted server
never sees the user's token.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import ClassVar, Iterator
from urllib.parse import urlsplit

from hfdash.errors import HfdashError, InvalidToken, Timeout, Unavailable, from_exception
from hfdash.inference.base import Answer, AnswerClock, BackendSpec, GenerationParams, Message

DEFAULT_TIMEOUT_S = 120.0  # per connect and per wait for the next chunk, not for the whole answer
POLL_S = 0.05  # how often the reader loop looks at the stop event
HF_HOSTS = ("huggingface.co", "hf.co", "huggingface.cloud", "hf.space")
INCOMPLETE_NOTICE = "the connection closed before the answer was complete"
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


def is_hf_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in HF_HOSTS)


def make_client(spec: BackendSpec, token: str | None):
    from huggingface_hub import InferenceClient

    if spec.base_url:
        if token and is_hf_host(spec.base_url):
            return InferenceClient(base_url=spec.base_url, token=token, timeout=timeout_s())
        # An empty header stops huggingface_hub adding HF_TOKEN / the saved token by itself.
        return InferenceClient(base_url=spec.base_url, timeout=timeout_s(), headers={"authorization": ""})
    if not token:
        raise InvalidToken("Hugging Face Inference Providers need an access token, and none is set.",
                           hint="Add one on the Settings page (with 'Make calls to Inference Providers'), "
                                "or use a base URL of your own server.")
    return InferenceClient(provider=routed(spec)[0], token=token, timeout=timeout_s())


def request_kwargs(spec: BackendSpec, messages: list[Message], params: GenerationParams) -> dict:
    """chat_completion arguments; defaults servers disagree on (top_p=1) are left out."""
    model = spec.model if spec.base_url else routed(spec)[1]
    kwargs = {"messages": [m.to_json() for m in messages], "model": model, "stream": True,
              "max_tokens": params.max_new_tokens, "temperature": params.temperature,
              "stream_options": {"include_usage": True}}
    if params.top_p < 1:
        kwargs["top_p"] = params.top_p
    if params.seed is not None:
        kwargs["seed"] = params.seed
    if params.stop:
        kwargs["stop"] = list(params.stop)
    return kwargs


def open_stream(client, kwargs: dict):
    """Start the streamed request; a server that refuses `stream_options` is asked again without it."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        return iter(client.chat_completion(**kwargs))
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (400, 422) and "stream_options" in (exc.server_message or str(exc)):
            return iter(client.chat_completion(**{k: v for k, v in kwargs.items() if k != "stream_options"}))
        raise


def describe(spec: BackendSpec) -> str:
    return f"{spec.model or 'the server'} at {spec.base_url}" if spec.base_url else \
        f"{spec.model} via Inference Providers ({spec.provider or 'auto'})"


class HostedBackend:
    name = "hosted"
    can_stream: ClassVar[bool] = True
    needs_token: ClassVar[bool] = True  # for Inference Providers; a base URL of your own needs none

    def stream(self, spec: BackendSpec, messages: list[Message], params: GenerationParams, *,
               token: str | None, stop: threading.Event, on_progress=None) -> Iterator[Answer]:
        what = describe(spec)
        client = make_client(spec, token)
        clock = AnswerClock()
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
        usage_tokens: int | None = None
        chunks = 0
        finished = False
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
                    usage_tokens = item.usage.completion_tokens
                for choice in item.choices or []:
                    finished = finished or choice.finish_reason is not None
                    if choice.delta is not None and choice.delta.content:
                        chunks += 1
                        yield clock.add(choice.delta.content)
        finally:
            client.close()  # closes the HTTP stream: the server stops generating for us
        if stop.is_set():
            yield clock.finish("stopped", output_tokens=usage_tokens, estimated_tokens=chunks)
        elif failure is not None:
            error = from_exception(failure, what=what)
            if not clock.text or isinstance(failure, HfdashError):
                raise error
            # Dropped or timed out mid-answer: keep what came.
            if not isinstance(error, Timeout):
                error = Unavailable(f"{what}: {INCOMPLETE_NOTICE} ({type(failure).__name__}).")
            clock.notices.append(INCOMPLETE_NOTICE)
            yield clock.finish("incomplete", output_tokens=usage_tokens, estimated_tokens=chunks, error=error)
        elif not finished and usage_tokens is None:
            clock.notices.append(INCOMPLETE_NOTICE)
            yield clock.finish("incomplete", estimated_tokens=chunks,
                               error=Unavailable(f"{what}: {INCOMPLETE_NOTICE}."))
        else:
            yield clock.finish("done", output_tokens=usage_tokens, estimated_tokens=chunks)
