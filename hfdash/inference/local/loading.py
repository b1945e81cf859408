"""Loading a local model once and sharing it: a process-wide pool of loaded models (bounded, least
recently used evicted), each with its inference engine.

Loading a model never holds up another: each model has its own loading lock, the fit guard runs on the
record before any download or dtype measurement, and a Hub model that is neither cached nor reachable
fails at once.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfdash.cache import report_in_memory
from hfdash.errors import HfdashError
from hfdash.inference.base import BackendSpec
from hfdash.inference.local import cpu_fp16, static_decode
from hfdash.inference.local.access import check_access
from hfdash.inference.local.engine import Engine
from hfdash.inference.local.placement import choose_device, choose_dtype, guard, smallest_dtype
from hfdash.inference.local.sources import (Progress, Source, cached_snapshot, convert_gguf, converted_folder,
                                            download, embedded_gguf, folder_record, gguf_record, hub_record, locate,
                                            not_cached_offline)
from hfdash.vocab import EMBEDDED_MODEL

MAX_LOADED = max(1, int(os.environ.get("HFDASH_MAX_LOADED_MODELS", "2")))


@dataclass
class LoadedModel:
    key: tuple
    model_id: str  # what the user named (repo id, folder, GGUF path, or the embedded id)
    cache_names: frozenset[str]  # names the on-disk cache lists it under (repo id, converted folder)
    model: Any  # a transformers model and tokenizer, imported on first use only
    tokenizer: Any
    context_length: int | None
    dtype: str
    device: str
    engine: Engine
    load_s: float  # fetching, converting and loading, when it was loaded


class ModelPool:
    """Loaded models shared across sessions: at most `size`, least recently used evicted. Thread-safe."""

    def __init__(self, size: int):
        self.size = size
        self._models: OrderedDict[tuple, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple) -> LoadedModel | None:
        with self._lock:
            entry = self._models.get(key)
            if entry is not None:
                self._models.move_to_end(key)
            return entry

    def put(self, entry: LoadedModel) -> None:
        with self._lock:
            self._models[entry.key] = entry
            self._models.move_to_end(entry.key)
            while len(self._models) > self.size:
                _, evicted = self._models.popitem(last=False)
                evicted.engine.close()  # answers still streaming finish first

    def loading_lock(self, key: tuple) -> threading.Lock:
        """One loader per model: a second session asking for it waits and then shares it."""
        with self._lock:
            return self._loading.setdefault(key, threading.Lock())

    def names(self) -> set[str]:
        with self._lock:
            return {name for entry in self._models.values() for name in (entry.model_id, *entry.cache_names)}


POOL = ModelPool(MAX_LOADED)


def loaded_models() -> set[str]:
    """Names of the models held in memory (the cache page refuses to delete these)."""
    return POOL.names()


report_in_memory(loaded_models)


def load_model(spec: BackendSpec, *, token: str | None, on_progress: Progress | None = None) -> LoadedModel:
    """The loaded model for `spec`, from the pool or loaded now (after the hardware guard agrees).
    A Hub model passes the Hub's access check for `token` first, every time (access.py)."""
    source = locate(spec)
    device = choose_device(spec.device)
    key = (source.kind, str(source.path or source.model_id), spec.dtype, device)
    entry = POOL.get(key)
    if entry is None:
        with POOL.loading_lock(key):
            entry = POOL.get(key)
            if entry is None:
                entry = _load(source, key, spec.dtype, device, token, on_progress)  # checks this token
                POOL.put(entry)
                return entry
    if source.kind == "hub":
        check_access(source.model_id, token, cached=True)  # in memory, so as good as cached
    return entry


def embedded_folder(on_progress: Progress | None = None) -> Path:
    """The embedded model as a transformers folder (converted now if this is the first use), e.g. for
    `transformers serve`."""
    gguf_path = embedded_gguf()
    folder = converted_folder(gguf_path)
    if folder.is_dir():
        return folder
    guard(gguf_record(gguf_path, EMBEDDED_MODEL), "float32", "cpu")
    return convert_gguf(gguf_path, on_progress)


def _load(source: Source, key: tuple, requested_dtype: str, device: str, token: str | None,
          on_progress: Progress | None) -> LoadedModel:
    started = time.perf_counter()
    cache_names = {source.model_id}
    cached = None
    if source.kind == "hub":
        cached = cached_snapshot(source.model_id)
        record = folder_record(cached, source.model_id) if cached else _hub_record(source.model_id, token)
    elif source.kind == "gguf":
        converted = converted_folder(source.local_path())
        # The converted copy's headers read in milliseconds; parsing the GGUF takes seconds.
        record = folder_record(converted, source.model_id) if converted.is_dir() else \
            gguf_record(source.local_path(), source.model_id)
    else:
        record = folder_record(source.local_path(), source.model_id)
    guard(record, smallest_dtype(requested_dtype, device), device)  # before any download or measurement
    if source.kind == "hub":
        check_access(source.model_id, token, cached=cached is not None)
        folder = cached or download(source.model_id, token, on_progress)
    elif source.kind == "gguf":
        folder = converted_folder(source.local_path())
        if not folder.is_dir():
            guard(record, "float32", device)  # conversion dequantizes to float32 in memory
            folder = convert_gguf(source.local_path(), on_progress)
        cache_names.add(folder.name)
    else:
        folder = source.local_path()
    if on_progress:  # choosing the dtype may first time both on this CPU (once per machine and shape)
        on_progress(f"Loading {source.model_id} on {device}", None)
    dtype = choose_dtype(requested_dtype, device, record)
    guard(record, dtype, device)
    try:
        model, tokenizer, dtype = _from_folder(folder, dtype, device)
    except HfdashError:
        raise
    except Exception as exc:
        raise HfdashError(f"Could not load {source.model_id} with transformers: {type(exc).__name__}: {exc}") from None
    from hfdash.catalog.modelconfig import config_from_json

    context = config_from_json(model.config.to_dict()).context_length
    engine = _engine(model, tokenizer, device, source.model_id, on_progress)
    return LoadedModel(key=key, model_id=source.model_id, cache_names=frozenset(cache_names), model=model,
                       tokenizer=tokenizer, context_length=context, dtype=dtype, device=device, engine=engine,
                       load_s=time.perf_counter() - started)


def _engine(model, tokenizer, device: str, model_id: str, on_progress: Progress | None) -> Engine:
    """The model's engine. On a CUDA GPU it decodes through a compiled forward over a static cache, compiled
    now (while the pane shows the load) rather than on a user's first answer."""
    eos = eos_ids(model, tokenizer)
    if device != "cuda" or not static_decode.supported(model):
        return Engine(model, eos)
    if on_progress:
        on_progress(f"Compiling {model_id} for fast decode on the GPU (once per model, about a minute)", None)
    engine = Engine(model, eos, decode="compiled")
    failure = engine.warm_up([next(iter(eos), 0)])
    if failure is None:
        return engine
    engine.close()
    if on_progress:  # eager decode still answers, only slower
        on_progress(f"Fast decode is not available for {model_id} ({type(failure).__name__}); decoding eagerly",
                    None)
    return Engine(model, eos)


def _hub_record(repo_id: str, token: str | None):
    from hfdash.hubcall import offline

    try:
        return hub_record(repo_id, token)
    except HfdashError:
        if offline():
            raise not_cached_offline(repo_id) from None  # the snapshot does not know it either
        raise


def _from_folder(folder: Path, dtype: str, device: str):
    """Model, tokenizer and the dtype it holds; on a GPU the weights load straight onto it (no copy through
    the CPU). float16 on a CPU is packed for fbgemm where it can be, else held as bfloat16."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype), trust_remote_code=False,
                                                 device_map=None if device == "cpu" else device)
    if device == "cpu" and dtype == "float16":
        if cpu_fp16.available() and cpu_fp16.packable(model):
            cpu_fp16.pack(model)
        else:  # torch's own fp16 matmuls are slow on a CPU
            model.bfloat16()
            dtype = "bfloat16"
    return model.eval(), tokenizer, dtype


def eos_ids(model, tokenizer) -> set[int]:
    """The tokens that end an answer: the generation config's (one or several) and the tokenizer's."""
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = set(configured if isinstance(configured, (list, tuple)) else [configured])
    ids.add(tokenizer.eos_token_id)
    return {int(i) for i in ids if i is not None}
