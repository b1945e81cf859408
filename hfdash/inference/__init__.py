"""Chat with a model, local (transformers) or hosted (InferenceClient), behind one call.

    for answer in stream_answer(BackendSpec("local"), [Message("user", "Hi")], GenerationParams(),
                                token=None, stop=stop_event):
        show(answer.text)           # grows after each text delta
    answer.status, answer.stats     # the last one is final: done | stopped | incomplete | error

Errors (bad input, a model too large for this machine, HTTP failures) arrive as a final
`Answer(status="error", error=HfdashError)`, never raised mid-stream. Setting `stop` ends generation
within one token step and keeps the partial text (status "stopped").

Nothing here imports torch or transformers at import time; the local backend does so on first use.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from collections.abc import Callable, Iterator

from hfdash.errors import BadParameters, HfdashError
from hfdash.inference.base import (
    KINDS,
    ROLES,
    STATUSES,
    Answer,
    AnswerClock,
    Backend,
    BackendSpec,
    Chunk,
    GenerationParams,
    Message,
    Stats,
)
from hfdash.serving import check_reachable

# Called while a local model is fetched, converted or loaded: (what is happening, fraction 0..1 or None).
Progress = Callable[[str, float | None], None]

__all__ = [
    "KINDS", "ROLES", "STATUSES", "Answer", "Backend", "BackendSpec", "Chunk",
    "GenerationParams", "Message", "Progress", "Stats", "backend_for", "check_messages", "preload",
    "stream_answer",
]


def backend_for(spec: BackendSpec, *, server_key: str | None = None) -> Backend:
    """The backend object for a spec's kind."""
    if spec.kind == "local":
        from hfdash.inference.local import LocalBackend

        return LocalBackend()
    from hfdash.inference.hosted import HostedBackend

    return HostedBackend(server_key)


def check_messages(messages: list[Message]) -> list[Message]:
    """Raise BadParameters unless the conversation ends with a non-empty user message."""
    for message in messages:
        if message.role not in ROLES:
            raise BadParameters(f"message role must be one of {', '.join(ROLES)} (got {message.role!r}).")
    if not messages or messages[-1].role != "user" or not messages[-1].content.strip():
        raise BadParameters("the prompt is empty: type something to send.")
    return messages


def stream_answer(spec: BackendSpec, messages: list[Message], params: GenerationParams, *,
                  token: str | None, server_key: str | None = None, stop: threading.Event | None = None,
                  on_progress: Progress | None = None) -> Iterator[Answer]:
    """Yield the growing Answer after each text delta; the last one is final, with stats. The backend
    yields chunks; the timing (load, first token, tokens/s) is measured here, the same for every backend.

    `token` is this caller's Hugging Face token (hosted providers, Hugging Face's own hosts and gated
    local downloads); `server_key` is the API key of a base URL's server outside Hugging Face. Neither is
    logged or shown. `on_progress` reports download / conversion / load of a local model.
    """
    stop = stop or threading.Event()
    clock = AnswerClock()
    try:
        spec.validate()
        check_reachable(spec)
        params.validate()
        check_messages(messages)
        backend = backend_for(spec, server_key=server_key)
        clock.loads_weights = backend.loads_weights
        for chunk in backend.stream(spec, messages, params, token=token, stop=stop, on_progress=on_progress):
            if stop.is_set():  # the answer's text ends as the user saw it when they pressed Stop
                chunk = replace(chunk, text="")
            answer = clock.add(chunk)
            if answer is not None:
                yield answer
    except HfdashError as err:
        yield clock.finish("error", error=err)  # keeps what already streamed
        return
    except Exception as exc:  # a library failure we did not foresee: still one clear line, never a traceback
        from hfdash.errors import from_exception

        yield clock.finish("error", error=from_exception(exc, what=spec.label))
        return
    if stop.is_set():
        yield clock.finish("stopped")
    elif clock.finish_reason == "incomplete":
        yield clock.finish("incomplete", error=clock.error)
    elif clock.finish_reason is None:  # a backend must say how the answer ended; guard the contract
        yield clock.finish("error", error=HfdashError(f"{spec.label}: the answer ended without a final status."))
    else:
        yield clock.finish("done")


def preload(spec: BackendSpec, *, token: str | None, on_progress: Progress | None = None) -> None:
    """Fetch, convert and load a local model ahead of the first prompt (raises HfdashError). No-op for hosted."""
    spec.validate()
    check_reachable(spec)
    if spec.kind == "local":
        from hfdash.inference.local import load_model

        load_model(spec, token=token, on_progress=on_progress)
