"""The facts the estimator needs about one model, live from the Hub or from the offline snapshot.

Live mode reads metadata only, never weights: the catalog's record (`model_info`), the repo's file
list with sizes (GGUF files become precision options), `config.json` and, when the record lacks
per-dtype counts, the safetensors headers (`get_safetensors_metadata` reads a few KB per shard).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields, replace

from hfdash.auth import hub_token_arg
from hfdash.catalog.modelconfig import config_from_json, resolve_defaults
from hfdash.catalog.records import ModelConfig, ModelRecord
from hfdash.config import Settings, load_settings
from hfdash.errors import Gated, HfdashError, Timeout, Unavailable, from_exception
from hfdash.hardware.estimate import PRECISIONS

_GGUF_QUANT = re.compile(r"(?:^|[-_.])((?:I?Q\d(?:_[A-Z0-9]+)*)|BF16|F16|F32)(?=[-_.])", re.IGNORECASE)
_FLOAT_GGUF = {"f32": "fp32", "f16": "fp16", "bf16": "bf16"}


@dataclass(frozen=True)
class GgufFile:
    """One real .gguf file in the repo: its size is the weights' size at that precision."""

    path: str
    size: int
    quant: str  # as named in the file, e.g. "Q4_K_M", "IQ4_XS"; "?" when the name does not say
    dtype: str  # the estimator precision used for the KV cache and compute width

    @property
    def label(self) -> str:
        return f"{self.quant} · {self.path}"


@dataclass(frozen=True)
class ModelFacts:
    record: ModelRecord
    source: str  # "hub" or "snapshot"
    gguf_files: tuple[GgufFile, ...] = ()
    notes: tuple[str, ...] = ()

    def gguf_for(self, dtype: str) -> GgufFile | None:
        """The repo's real file at this precision (a multi-part file counts as its parts' sum)."""
        return next((f for f in self.gguf_files if f.quant.lower() == dtype.lower()), None)


def gguf_files(paths_and_sizes: list[tuple[str, int]]) -> tuple[GgufFile, ...]:
    """GGUF weight files with their quant; split parts (-00001-of-00003) are summed into one option."""
    totals: dict[str, int] = {}
    for path, size in paths_and_sizes:
        if not path.lower().endswith(".gguf") or "mmproj" in path.lower():
            continue
        key = re.sub(r"-\d{5}-of-\d{5}(?=\.gguf$)", "", path)
        totals[key] = totals.get(key, 0) + size
    files = []
    for path, size in sorted(totals.items(), key=lambda item: item[1]):
        match = _GGUF_QUANT.search(path.rsplit("/", 1)[-1])
        quant = match.group(1).upper() if match else "?"
        dtype = quant.lower() if quant.lower() in PRECISIONS else _FLOAT_GGUF.get(quant.lower(), "q4_k_m")
        files.append(GgufFile(path=path, size=size, quant=quant, dtype=dtype))
    return tuple(files)


def merge_config(base: ModelConfig, better: ModelConfig) -> ModelConfig:
    """config.json's facts win; the record's fill what it does not state (e.g. active parameters)."""
    return replace(base, **{f.name: getattr(better, f.name) for f in fields(better)
                            if getattr(better, f.name) is not None})


def model_facts(model_id: str, *, source: str = "auto", token: str | None = None,
                settings: Settings | None = None) -> ModelFacts:
    from hfdash.catalog import get_model
    from hfdash.catalog.hub import offline

    settings = settings or load_settings()
    if source == "snapshot" or (source == "auto" and offline()):
        return ModelFacts(get_model(model_id, source="snapshot", settings=settings), "snapshot")
    try:
        return _live_facts(model_id, token=token, settings=settings)
    except (Unavailable, Timeout) as err:
        if source == "hub":
            raise
        record = get_model(model_id, source="snapshot", settings=settings)
        return ModelFacts(record, "snapshot", notes=(f"Hub not reachable ({err.message}): snapshot figures.",))


def many_model_facts(model_ids: list[str], *, deadline_s: float, source: str = "auto", token: str | None = None,
                     settings: Settings | None = None) -> dict[str, ModelFacts | HfdashError]:
    """Facts for several models fetched at once, all within one deadline: a model not answered by then
    gets a Timeout, the others their facts or their own error."""
    import concurrent.futures as cf

    settings = settings or load_settings()
    found: dict[str, ModelFacts | HfdashError] = {}
    pool = cf.ThreadPoolExecutor(max_workers=max(1, min(8, len(model_ids))), thread_name_prefix="model-facts")
    futures = {pool.submit(model_facts, m, source=source, token=token, settings=settings): m for m in model_ids}
    done, late = cf.wait(futures, timeout=deadline_s)
    for future in done:
        error = future.exception()
        found[futures[future]] = future.result() if error is None else (
            error if isinstance(error, HfdashError) else from_exception(error, what="Reading model facts"))
    for future in late:
        found[futures[future]] = Timeout(f"{futures[future]}: no answer within {deadline_s:.0f} s.")
    pool.shutdown(wait=False, cancel_futures=True)  # late calls finish in the background, unread
    return {m: found[m] for m in model_ids}


def _live_facts(model_id: str, *, token: str | None, settings: Settings) -> ModelFacts:
    from huggingface_hub import HfApi

    from hfdash.catalog import get_model

    record = get_model(model_id, source="hub", token=token, settings=settings)
    api = HfApi(endpoint=settings.endpoint, token=hub_token_arg(token))
    notes: list[str] = []
    what = f"Reading {model_id}'s files"
    try:
        files = [(f.path, f.size) for f in api.list_repo_tree(model_id, recursive=True) if hasattr(f, "size")]
    except Exception as exc:  # noqa: BLE001 - turned into the typed family at this edge
        raise from_exception(exc, what=what, repo_id=model_id) from exc
    names = {path for path, _ in files}
    if "config.json" in names:
        try:
            path = api.hf_hub_download(model_id, "config.json")
            with open(path, encoding="utf-8") as handle:
                config = config_from_json(resolve_defaults(json.load(handle)), source="config.json on the Hub")
                record = replace(record, config=merge_config(record.config, config))
        except Exception as exc:  # noqa: BLE001
            err = from_exception(exc, what="config.json", repo_id=model_id)
            if not isinstance(err, Gated):
                raise err from exc
            notes.append(f"config.json is gated: accept the terms at {err.url} (and use that account's token) "
                         "to see the KV cache.")
    if record.dtype_params is None and any(n.endswith(".safetensors") for n in names):
        record = _with_safetensors_counts(api, record, notes)
    return ModelFacts(record, "hub", gguf_files(files), tuple(notes))


def _with_safetensors_counts(api, record: ModelRecord, notes: list[str]) -> ModelRecord:
    try:
        counts = api.get_safetensors_metadata(record.id).parameter_count
    except Exception as exc:  # noqa: BLE001 - optional refinement: the record's total still stands
        notes.append(f"Per-dtype parameter counts unavailable "
                     f"({from_exception(exc, what='safetensors headers', repo_id=record.id).message}).")
        return record
    return replace(record, dtype_params=dict(counts), params=record.params or sum(counts.values()))
