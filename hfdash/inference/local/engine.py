"""One inference engine per loaded model, shared by every pane and session that uses the model.

A long-lived worker thread owns the model's compute. It steps all active requests together as one
left-padded batch over a shared KV cache; a new request is prefilled alone between two steps and then
joins the batch. A request leaves the batch when it ends, is stopped (at most the step already running
finishes), or nobody has read it for `ABANDONED_AFTER_S`. Callers only submit and read. Each request
samples with its own torch.Generator, so a seed gives the same answer whatever else shares the batch.

The batch lives on transformers' dynamic cache (`DynamicBatch`), or on a CUDA GPU in static cache slots
stepped through a compiled forward (static_decode.py): on this project's CPUs the static slots lose, since
every step pays for all slots and the cache's full length.

transformers' continuous-batching manager is not used: it takes one generation config per manager, so
greedy and sampled requests cannot share it, and it has no per-request seed.
"""

from __future__ import annotations

import atexit
import functools
import os
import queue
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hfdash.errors import Unavailable
from hfdash.inference.base import GenerationParams
from hfdash.inference.local.static_decode import StaticSlots, filled_layers

if TYPE_CHECKING:  # imported where used, at run time: loading this module must not load torch
    import torch
    from transformers import PreTrainedModel
    from transformers.cache_utils import Cache, DynamicLayer

# Operator limits for a shared server (environment variables, read at start).
MAX_GENERATIONS = max(1, int(os.environ.get("HFDASH_MAX_LOCAL_GENERATIONS") or 8))
MAX_NEW_TOKENS = max(1, int(os.environ.get("HFDASH_MAX_NEW_TOKENS") or 4096))
ABANDONED_AFTER_S = 10.0  # a request whose reader went away (no read for this long) is dropped
IDLE_WAIT_S = 0.5
WARM_UP_TOKENS = 4  # compiled with CUDA graphs, a shape runs eagerly once, is recorded, then replays

_generations = threading.BoundedSemaphore(MAX_GENERATIONS)
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


@atexit.register
def _stop_engines() -> None:
    """Let workers leave before the interpreter does: torch aborts if a thread is inside it at exit."""
    engines = list(_ENGINES)
    for engine in engines:
        engine.close()
        for request in engine._active:
            request.cancel.set()
    for engine in engines:
        engine.join(timeout=5)


def claim_generation() -> None:
    """Take one of the server's local generation slots (give it back with `release_generation`)."""
    if not _generations.acquire(blocking=False):
        raise Unavailable(f"This server is already generating {MAX_GENERATIONS} local answers, its limit "
                          f"(HFDASH_MAX_LOCAL_GENERATIONS).",
                          hint="Send again when one has finished, or use a hosted backend.")


def release_generation() -> None:
    _generations.release()


@dataclass(eq=False)
class Request:
    prompt: list[int]
    params: GenerationParams
    max_new: int
    stop: threading.Event  # the user's Stop
    min_new: int = 0  # an end-of-text token before this many new tokens is kept, and the answer goes on
    tokens: list[int] = field(default_factory=list)  # appended by the worker only
    finished: bool = False  # set by the worker after the last token
    error: BaseException | None = None
    news: threading.Event = field(default_factory=threading.Event)  # set after each change
    cancel: threading.Event = field(default_factory=threading.Event)  # the reader needs no more tokens
    read_at: float = field(default_factory=time.monotonic)
    generator: torch.Generator | None = None

    def unwanted(self) -> bool:
        return (self.stop.is_set() or self.cancel.is_set()
                or time.monotonic() - self.read_at > ABANDONED_AFTER_S)


class Engine:
    def __init__(self, model: PreTrainedModel, eos_ids: set[int], *, decode: str = "eager"):
        """`decode`: "eager" steps a dynamic cache; "compiled" steps static cache slots through a compiled
        forward (a CUDA GPU's fast path, static_decode.py); "static" is that without compiling."""
        _ENGINES.add(self)
        self.model = model
        self.eos_ids = eos_ids
        self.decode = decode
        self._pending: queue.Queue[Request] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        # The batch, touched by the worker thread only.
        self._active: list[Request] = []
        self._batch: DynamicBatch | StaticSlots = (DynamicBatch(model) if decode == "eager"
                                                    else StaticSlots(model, compiled=decode == "compiled"))

    def submit(self, prompt: list[int], params: GenerationParams, max_new: int,
               stop: threading.Event, *, min_new: int = 0) -> Request:
        import torch

        generator = torch.Generator()
        if params.seed is None:
            generator.seed()
        else:
            generator.manual_seed(params.seed)
        request = Request(prompt=prompt, params=params, max_new=max_new, stop=stop, min_new=min_new,
                          generator=generator)
        with self._lock:
            self._pending.put(request)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hfdash-engine", daemon=True)
                self._thread.start()
        return request

    def warm_up(self, prompt: list[int]) -> BaseException | None:
        """Run one short greedy request through the worker, so that a compiled forward is compiled (and its
        CUDA graph recorded) before a user waits on it; its error, if any."""
        request = self.submit(prompt, GenerationParams(temperature=0), WARM_UP_TOKENS, threading.Event(),
                              min_new=WARM_UP_TOKENS)
        while not request.finished:
            request.news.wait(IDLE_WAIT_S)
            request.news.clear()
            request.read_at = time.monotonic()
        return request.error

    def close(self) -> None:
        """The model left the pool: the worker ends once its requests are done."""
        self._closed = True

    # ---- the worker --------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._drop_unwanted()
            if not self._active:
                try:
                    request = self._pending.get(timeout=IDLE_WAIT_S)
                except queue.Empty:
                    with self._lock:
                        if self._closed and self._pending.empty():
                            self._thread = None
                            return
                    continue
                self._pending.put(request)  # admitted below, with any others waiting
            self._work()

    def _work(self) -> None:
        """Admit whoever is waiting, then one step. torch state is entered here only, never while idle,
        so an idle worker holds nothing torch must tear down at exit."""
        import torch

        with torch.inference_mode():
            while self._batch.mergeable or not self._active:  # join whoever is waiting, between steps
                try:
                    self._admit(self._pending.get_nowait())
                except queue.Empty:
                    break
            if self._active:
                self._step()

    def join(self, timeout: float) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _admit(self, request: Request) -> None:
        """Prefill one new request alone, emit its first token, then merge it into the batch."""
        import torch

        if request.unwanted():
            _finish(request)
            return
        try:
            ids = torch.tensor([request.prompt], device=self.model.device)
            out = self.model(input_ids=ids, use_cache=True, logits_to_keep=1)
            token = self._pick(request, out.logits[0, -1].float().cpu())
            if self._emit(request, token):
                self._batch.join(out.past_key_values, len(request.prompt), token)
                self._active.append(request)
        except BaseException as exc:  # reported to the request's reader; the others go on
            _finish(request, exc)

    def _step(self) -> None:
        """One decode step for the whole batch."""
        try:
            logits = self._batch.step().float().cpu()
        except BaseException as exc:
            for request in self._active:
                _finish(request, exc)
            self._reset()
            return
        keep, tokens = [], []
        for row, request in enumerate(self._active):
            token = self._pick(request, logits[row])
            if self._emit(request, token):
                keep.append(row)
                tokens.append(token)
        self._keep(keep)
        if keep:
            self._batch.set_latest(tokens)

    def _emit(self, request: Request, token: int) -> bool:
        """Hand the token to the reader; whether the request goes on."""
        if token in self.eos_ids and len(request.tokens) >= request.min_new:
            _finish(request)
            return False
        request.tokens.append(token)
        if len(request.tokens) >= request.max_new:
            _finish(request)
            return False
        request.news.set()
        return True

    @staticmethod
    def _pick(request: Request, logits: torch.Tensor) -> int:
        import torch

        params = request.params
        if params.greedy:
            return int(logits.argmax())
        probs = torch.softmax(logits / params.temperature, dim=-1)
        if params.top_p < 1:
            probs, order = probs.sort(descending=True)
            probs[probs.cumsum(0) - probs > params.top_p] = 0  # the smallest set that reaches top_p
            return int(order[torch.multinomial(probs, 1, generator=request.generator)])
        return int(torch.multinomial(probs, 1, generator=request.generator))

    def _drop_unwanted(self) -> None:
        keep = []
        for row, request in enumerate(self._active):
            if request.unwanted():
                _finish(request)
            else:
                keep.append(row)
        self._keep(keep)

    def _keep(self, rows: list[int]) -> None:
        """Keep only these rows of the batch (also called between steps, outside `_work`)."""
        import torch

        if len(rows) == len(self._active):  # every row stays
            return
        with torch.inference_mode():  # the batch's tensors are inference tensors, changed in place
            if rows:
                self._batch.keep(rows)
            else:
                self._batch.clear()
        self._active = [self._active[row] for row in rows]

    def _reset(self) -> None:
        self._keep([])


class DynamicBatch:
    """The active requests' shared decode state on a dynamic cache, one row per request, left-padded to a
    common length. Row i is the engine's i-th active request."""

    def __init__(self, model: PreTrainedModel):
        self.model = model
        self.cache: Cache | None = None  # the KV cache; None exactly when no request is active
        self.mask: torch.Tensor | None = None  # [batch, length]: 1 for real tokens, 0 for padding
        self.positions: torch.Tensor | None = None  # [batch]: each request's next position id
        self.latest: torch.Tensor | None = None  # [batch, 1]: each request's last sampled token, not yet fed
        self.mergeable = True  # False for caches that cannot be padded and joined (sliding windows)

    def clear(self) -> None:
        self.cache = self.mask = self.positions = self.latest = None
        self.mergeable = True

    def join(self, prefill: Cache, length: int, token: int) -> None:
        import torch
        import torch.nn.functional as F
        from transformers.cache_utils import DynamicLayer

        device = self.model.device
        mask = torch.ones(1, length, dtype=torch.long, device=device)
        position = torch.tensor([length], device=device)
        latest = torch.tensor([[token]], device=device)
        if self.cache is None or self.mask is None or self.positions is None or self.latest is None:
            # The first active request. Sliding windows cannot be padded and joined; a layer left empty
            # (shared KV) has nothing to pad.
            self.mergeable = all(type(layer) is DynamicLayer and layer.get_seq_length() > 0 for layer in prefill.layers)
            if self.mergeable:
                prefill.layers = [_growing_layer(keys, values) for _, keys, values in filled_layers(prefill)]
            self.cache, self.mask, self.positions, self.latest = prefill, mask, position, latest
            return
        ours, theirs = max(0, length - self.mask.shape[1]), max(0, self.mask.shape[1] - length)
        # left-pad the shorter side, then stack
        for (mine, keys, values), (_, new_keys, new_values) in zip(filled_layers(self.cache),
                                                                   filled_layers(prefill), strict=True):
            mine.keys = torch.cat([F.pad(keys, (0, 0, ours, 0)), F.pad(new_keys, (0, 0, theirs, 0))])
            mine.values = torch.cat([F.pad(values, (0, 0, ours, 0)), F.pad(new_values, (0, 0, theirs, 0))])
        self.mask = torch.cat([F.pad(self.mask, (ours, 0)), F.pad(mask, (theirs, 0))])
        self.positions = torch.cat([self.positions, position])
        self.latest = torch.cat([self.latest, latest])

    def step(self) -> torch.Tensor:
        import torch

        assert self.cache is not None and self.mask is not None and self.positions is not None
        mask = torch.cat([self.mask, self.mask.new_ones(self.mask.shape[0], 1)], dim=1)
        out = self.model(input_ids=self.latest, attention_mask=mask, position_ids=self.positions[:, None],
                         past_key_values=self.cache, use_cache=True, logits_to_keep=1)
        self.cache, self.mask = out.past_key_values, mask
        self.positions = self.positions + 1
        return out.logits[:, -1]

    def set_latest(self, tokens: list[int]) -> None:
        import torch

        self.latest = torch.tensor(tokens, device=self.model.device)[:, None]

    def keep(self, rows: list[int]) -> None:
        """Keep these rows, in this order; drop padding no row needs any more."""
        import torch

        assert self.cache is not None and self.mask is not None and self.positions is not None \
            and self.latest is not None
        index = torch.tensor(rows, device=self.model.device)
        self.cache.batch_select_indices(index)
        self.mask, self.positions, self.latest = self.mask[index], self.positions[index], self.latest[index]
        unused = int(self.mask.any(dim=0).nonzero()[0])
        if unused and self.mergeable:
            self.mask = self.mask[:, unused:]
            for layer, keys, values in filled_layers(self.cache):
                layer.keys, layer.values = keys[..., unused:, :], values[..., unused:, :]


def _growing_layer(keys: torch.Tensor, values: torch.Tensor) -> DynamicLayer:
    """A layer holding these keys and values that appends into spare room: a DynamicLayer copies the whole
    cache at every token, which for a batch of rows cost more than the step's matmuls on a CPU here."""
    grown = _growing_layer_class()()
    grown.lazy_initialization(keys, values)
    grown.keys, grown.values = keys, values
    return grown


@functools.cache
def _growing_layer_class() -> type[DynamicLayer]:
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):
        """Keys and values are views of larger buffers. The engine may replace `keys`/`values` (joining,
        dropping or trimming rows); the next update then starts new buffers from them."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self._room: tuple[torch.Tensor, torch.Tensor] | None = None
            self._views: tuple[torch.Tensor, torch.Tensor] | None = None

        def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
            assert self.keys is not None and self.values is not None  # made filled by `_growing_layer`
            length, added = self.keys.shape[-2], key_states.shape[-2]
            views = self._views
            room = self._room
            if (room is None or views is None or views[0] is not self.keys or views[1] is not self.values
                    or room[0].shape[-2] < length + added):
                room = self._room = (_with_room(self.keys, length + added), _with_room(self.values, length + added))
            keys, values = room
            keys[..., length:length + added, :] = key_states
            values[..., length:length + added, :] = value_states
            self.keys, self.values = keys[..., :length + added, :], values[..., :length + added, :]
            self._views = (self.keys, self.values)
            return self.keys, self.values

    return GrowingLayer


def _with_room(held: torch.Tensor, needed: int) -> torch.Tensor:
    """A buffer with `held` in front and room to grow (doubling, so appends copy O(1) per token on average)."""
    room = held.new_empty(*held.shape[:-2], max(2 * needed, needed + 64), held.shape[-1])
    room[..., :held.shape[-2], :] = held
    return room


def _finish(request: Request, error: BaseException | None = None) -> None:
    request.error = error
    request.finished = True
    request.news.set()
