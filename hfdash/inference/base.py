"""The types every chat backend shares, and the protocol a backend implements.

A backend implements one method, `stream`, that yields `Chunk`s: text deltas, token usage, how the answer
ended; its `loads_weights` says whether time before the request is sent is load time. `stream_answer`
(hfdash/inference/__init__.py) owns the clock and turns the chunks into the growing `Answer`; a backend's
errors end that stream as a final Answer with status "error", never mid-stream.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import ClassVar, Protocol
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from hfdash.errors import BadParameters, HfdashError
from hfdash.vocab import EMBEDDED_MODEL, LOCAL_DEVICES, LOCAL_DTYPES

ROLES = ("system", "user", "assistant")
KINDS = ("local", "hosted")
MAX_NEW_TOKENS_LIMIT = 32768
MAX_STOP_STRINGS = 4  # OpenAI-compatible servers accept at most four


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str

    def to_json(self) -> dict:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int = 256
    temperature: float = 0.7  # 0 = greedy
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def validate(self) -> GenerationParams:
        """Raise BadParameters naming the allowed range; return self for chaining."""
        if not 1 <= self.max_new_tokens <= MAX_NEW_TOKENS_LIMIT:
            raise BadParameters(f"max new tokens must be between 1 and {MAX_NEW_TOKENS_LIMIT} "
                                f"(got {self.max_new_tokens}).")
        if not 0 <= self.temperature <= 2:
            raise BadParameters(f"temperature must be between 0 and 2 (got {self.temperature}).")
        if not 0 < self.top_p <= 1:
            raise BadParameters(f"top_p must be above 0 and at most 1 (got {self.top_p}).")
        if self.seed is not None and not 0 <= self.seed < 2**32:
            raise BadParameters(f"seed must be between 0 and {2**32 - 1} (got {self.seed}).")
        if len(self.stop) > MAX_STOP_STRINGS or any(not s for s in self.stop):
            raise BadParameters(f"give at most {MAX_STOP_STRINGS} non-empty stop strings.")
        return self


@dataclass(frozen=True)
class BackendSpec:
    """Which model to talk to, and how. Serialisable to and from a URL query (`to_query` / `from_query`)."""

    kind: str  # "local" | "hosted"
    model: str | None = None  # repo id, local folder or .gguf path; None + local = the embedded default
    provider: str | None = None  # hosted through HF Inference Providers: "auto" or a provider name
    base_url: str | None = None  # hosted through any OpenAI-compatible server (TGI, vLLM, Ollama, transformers serve)
    dtype: str = "auto"  # local only
    device: str = "auto"  # local only

    def validate(self) -> BackendSpec:
        if self.kind not in KINDS:
            raise BadParameters(f"backend must be one of {', '.join(KINDS)} (got {self.kind!r}).")
        if self.kind == "local":
            if self.dtype not in LOCAL_DTYPES:
                raise BadParameters(f"dtype must be one of {', '.join(LOCAL_DTYPES)} (got {self.dtype!r}).")
            if self.device not in LOCAL_DEVICES:
                raise BadParameters(f"device must be one of {', '.join(LOCAL_DEVICES)} (got {self.device!r}).")
        else:
            if self.base_url:
                parts = urlsplit(self.base_url)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    raise BadParameters(f"base URL must look like http://host:port/v1 (got {self.base_url!r}).")
            elif not self.model:
                raise BadParameters("a hosted backend needs a model id (or a base URL of a server).")
        return self

    @property
    def label(self) -> str:
        """Short, token-free description for a pane header or the CLI."""
        if self.kind == "local":
            return f"local · {self.model or EMBEDDED_MODEL + ' (embedded)'}"
        where = self.base_url or f"provider {self.provider or 'auto'}"
        return f"hosted · {self.model or 'server default'} · {where}"

    def to_query(self) -> dict[str, str]:
        """The fields that differ from the defaults, as strings (for the Playground's URL)."""
        defaults = BackendSpec(kind=self.kind)
        out = {"kind": self.kind}
        for name in ("model", "provider", "base_url", "dtype", "device"):
            value = getattr(self, name)
            if value != getattr(defaults, name):
                out[name] = value
        return out

    @classmethod
    def from_query(cls, query: dict[str, str]) -> BackendSpec:
        """Inverse of `to_query`; raises BadParameters on an unknown kind/dtype/device or a bad URL."""
        spec = cls(kind=query.get("kind", "local"),
                   model=query.get("model") or None,
                   provider=query.get("provider") or None,
                   base_url=query.get("base_url") or None,
                   dtype=query.get("dtype") or "auto",
                   device=query.get("device") or "auto")
        return spec.validate()


@dataclass
class Stats:
    ttft_s: float | None  # time to first token; None if no token came
    total_s: float
    output_tokens: int
    tokens_estimated: bool  # True when counted from text, not by a tokenizer or the server's usage
    tokens_per_s: float | None  # after the first token; None if fewer than two tokens
    load_s: float | None = None  # local models: fetching/loading before the request was sent (0 if loaded)
    input_tokens: int | None = None  # the prompt's tokens, when the tokenizer or the server's usage says

    @property
    def load_part(self) -> str:
        """'load 3.20 s · ' when this answer waited for its model to load, else ''."""
        return f"load {self.load_s:.2f} s · " if self.load_s else ""

    def summary(self) -> str:
        approx = "~" if self.tokens_estimated else ""
        ttft = f"{self.ttft_s:.2f} s" if self.ttft_s is not None else "n/a"
        rate = f"{self.tokens_per_s:.1f} tok/s" if self.tokens_per_s is not None else "n/a tok/s"
        return (f"{approx}{self.output_tokens} tokens · {self.load_part}first token {ttft} · {rate} · "
                f"total {self.total_s:.2f} s")


STATUSES = ("streaming", "done", "stopped", "incomplete", "error")
FINISH_REASONS = ("stop", "length", "incomplete")  # a natural end (or a stop string), max new tokens, cut short


@dataclass(frozen=True)
class Chunk:
    """What a backend yields. Text is appended to the answer; the other fields are facts about it."""

    text: str = ""
    sent: bool = False  # the request has just been sent (after any model load): the answer's clock starts
    notice: str | None = None  # e.g. "no chat template: plain text"
    output_tokens: int | None = None  # exact count so far (a tokenizer, or the server's usage)
    input_tokens: int | None = None
    finish_reason: str | None = None  # one of FINISH_REASONS, at the end
    error: HfdashError | None = None  # with finish_reason "incomplete": why the answer was cut short


@dataclass
class Answer:
    """The answer so far. Each yield is a new object, so a caller may keep any of them."""

    text: str = ""
    status: str = "streaming"  # "streaming" | "done" | "stopped" | "incomplete" | "error"
    error: HfdashError | None = None
    stats: Stats | None = None
    notices: list[str] = field(default_factory=list)  # e.g. "no chat template: plain text"
    finish_reason: str | None = None  # "length": cut off at max new tokens

    @property
    def cut_off(self) -> bool:
        return self.finish_reason == "length"

    @property
    def final(self) -> bool:
        return self.status != "streaming"


class Backend(Protocol):
    name: ClassVar[str]
    loads_weights: ClassVar[bool]  # time before the request is sent is reported as load time

    def stream(self, spec: BackendSpec, messages: list[Message], params: GenerationParams, *,
               token: str | None, stop: threading.Event,
               on_progress: Callable[[str, float | None], None] | None = None) -> Iterator[Chunk]:
        """Yield chunks; return soon after `stop` is set. May raise HfdashError (caught by stream_answer)."""
        ...


def estimate_tokens(text: str) -> int:
    """Rough count when neither a tokenizer nor the server says: about 4 characters per token."""
    return max(1, round(len(text) / 4)) if text else 0


class AnswerClock:
    """Builds the growing Answer from a backend's chunks, and its timing: started when stream_answer is
    called; the answer's own clock restarts when the request is sent (a model load is reported apart)."""

    def __init__(self, *, loads_weights: bool = False):
        self.started = time.perf_counter()
        self.loads_weights = loads_weights
        self.sent_at: float | None = None
        self.first_at: float | None = None
        self.text = ""
        self.notices: list[str] = []
        self.chunks = 0  # text chunks, the token estimate when no exact count comes
        self.output_tokens: int | None = None
        self.input_tokens: int | None = None
        self.finish_reason: str | None = None
        self.error: HfdashError | None = None

    def add(self, chunk: Chunk) -> Answer | None:
        """Take in one chunk; the grown Answer when it brought text, else None."""
        if chunk.sent and self.sent_at is None:
            self.sent_at = time.perf_counter()
        if chunk.notice:
            self.notices.append(chunk.notice)
        if chunk.output_tokens is not None:
            self.output_tokens = chunk.output_tokens
        if chunk.input_tokens is not None:
            self.input_tokens = chunk.input_tokens
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
            self.error = chunk.error
        if not chunk.text:
            return None
        if self.first_at is None:
            self.first_at = time.perf_counter()
        self.text += chunk.text
        self.chunks += 1
        return self.snapshot("streaming")

    def snapshot(self, status: str, *, error: HfdashError | None = None) -> Answer:
        return Answer(text=self.text, status=status, error=error, notices=list(self.notices))

    def finish(self, status: str, *, error: HfdashError | None = None) -> Answer:
        """The final answer with stats. Without an exact output count (tokenizer or server usage) the count is
        the number of text chunks, else guessed from the text; either way labelled as estimated."""
        end = time.perf_counter()
        begun = self.sent_at if self.sent_at is not None else self.started
        load_s = (round(begun - self.started, 2) or None) if self.loads_weights else None  # None: loaded already
        estimated = self.output_tokens is None
        tokens = (self.chunks or estimate_tokens(self.text)) if self.output_tokens is None else self.output_tokens
        ttft = self.first_at - begun if self.first_at is not None else None
        rate = None
        if self.first_at is not None and tokens > 1 and end > self.first_at:
            rate = (tokens - 1) / (end - self.first_at)
        stats = Stats(ttft_s=ttft, total_s=end - begun, output_tokens=tokens, tokens_estimated=estimated,
                      tokens_per_s=rate, load_s=load_s, input_tokens=self.input_tokens)
        finish_reason = self.finish_reason if status in ("done", "incomplete") else None
        return replace(self.snapshot(status, error=error), stats=stats, finish_reason=finish_reason)
