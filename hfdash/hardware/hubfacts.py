"""The facts the estimator needs about one model, live from the Hub or from the offline snapshot.

Live mode reads metadata only, never weights: the catalog's record (`model_info`: for a GGUF repo its
parameter count and architecture come from the Hub's `gguf` metadata), the repo's file list with
sizes (GGUF files become precision options), `config.json` or, for a GGUF-only repo, the header of its
smallest GGUF file (byte-range requests, ggufmeta.py), and, when the record lacks per-dtype counts,
the safetensors headers (`get_safetensors_metadata` reads a few KB per shard). A gated repo whose
config cannot be read borrows the KV facts of a public GGUF copy (the Hub's
`base_model:quantized:<repo>` tag), else of the snapshot's record, and says so. Every Hub call goes
through `hub_call`: one deadline, one error mapping.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields, replace

from hfdash.auth import hub_token_arg
from hfdash.hubcall import hub_call, timeout_s
from hfdash.catalog.modelconfig import config_from_json, resolve_defaults
from hfdash.catalog.records import ModelConfig, ModelRecord
from hfdash.config import Settings, load_settings
from hfdash.errors import Gated, HfdashError, Timeout, from_exception
from hfdash.hardware.estimate import PRECISIONS
from hfdash.hardware.ggufmeta import config_from_metadata, read_metadata

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
    """The facts from the source `catalog.sources.answer` picks; a fallback's reason is a note."""
    from hfdash.catalog.service import snapshot_record
    from hfdash.catalog.sources import answer

    settings = settings or load_settings()
    found = answer(source, endpoint=settings.endpoint,
                   live=lambda: _live_facts(model_id, token=token, settings=settings),
                   offline=lambda: ModelFacts(snapshot_record(model_id, settings), "snapshot"))
    if found.notice:
        return replace(found.value, notes=(found.notice, *found.value.notes))
    return found.value


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
    files = _files(api, model_id, token)
    names = {path for path, _ in files}
    ggufs = gguf_files(files)
    if "config.json" in names:
        try:
            path = hub_call(lambda: api.hf_hub_download(model_id, "config.json", etag_timeout=timeout_s()),
                            what="config.json", repo_id=model_id)
            with open(path, encoding="utf-8") as handle:
                config = config_from_json(resolve_defaults(json.load(handle)), source="config.json on the Hub")
                record = replace(record, config=merge_config(record.config, config))
        except Gated as err:
            record = _borrowed_config(api, record, err, token=token, settings=settings, notes=notes)
    elif ggufs:
        smallest = min(ggufs, key=lambda f: f.size)
        try:
            config = gguf_header_config(model_id, smallest.path, token=token, settings=settings)
            record = replace(record, config=merge_config(record.config, config))
            notes.append(f"Layer and head counts from the header of {smallest.path}.")
        except (HfdashError, ValueError) as err:
            notes.append(f"The GGUF header of {smallest.path} could not be read ({err}): KV cache unknown.")
    if record.dtype_params is None and any(n.endswith(".safetensors") for n in names):
        record = _with_safetensors_counts(api, record, notes)
    return ModelFacts(record, "hub", ggufs, tuple(notes))


def _files(api, repo_id: str, token: str | None) -> list[tuple[str, int]]:
    return hub_call(lambda: [(f.path, f.size) for f in api.list_repo_tree(repo_id, recursive=True,
                                                                          token=hub_token_arg(token))
                             if hasattr(f, "size")], what=f"Reading {repo_id}'s files", repo_id=repo_id)


def gguf_header_config(repo_id: str, path: str, *, token: str | None, settings: Settings) -> ModelConfig:
    """The config facts in a GGUF file's header, read from the Hub with byte-range requests."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    url = hf_hub_url(repo_id, path, endpoint=settings.endpoint)
    headers = build_hf_headers(token=hub_token_arg(token))

    def first_bytes(count: int) -> bytes:
        response = get_session().get(url, headers={**headers, "Range": f"bytes=0-{count - 1}"},
                                     timeout=timeout_s(), follow_redirects=True)
        hf_raise_for_status(response)
        return response.content

    metadata = hub_call(lambda: read_metadata(first_bytes), what=f"Reading the header of {path}", repo_id=repo_id)
    return config_from_metadata(metadata)


def _borrowed_config(api, record: ModelRecord, err: Gated, *, token: str | None, settings: Settings,
                     notes: list[str]) -> ModelRecord:
    """A gated repo's KV facts from a public GGUF copy of it, else from the snapshot; each says where from."""
    from hfdash.catalog import get_model
    gated = f"config.json is gated (accept the terms at {err.url} and use that account's token to read it)"
    try:
        copies = hub_call(lambda: [m.id for m in api.list_models(
            filter=[f"base_model:quantized:{record.id}", "gguf"], sort="downloads", limit=3,
            token=hub_token_arg(token))], what=f"Finding public GGUF copies of {record.id}")
        for copy in copies:
            ggufs = gguf_files(_files(api, copy, token))
            if ggufs:
                config = gguf_header_config(copy, min(ggufs, key=lambda f: f.size).path, token=token,
                                            settings=settings)
                notes.append(f"{gated}; layer and head counts from its public GGUF copy {copy}.")
                return replace(record, config=merge_config(record.config, config))
    except (HfdashError, ValueError):
        pass  # no readable copy: the snapshot's record, or nothing
    try:
        known = get_model(record.id, source="snapshot", settings=settings).config
    except HfdashError:
        known = ModelConfig()
    if known.num_hidden_layers:
        notes.append(f"{gated}; layer and head counts from the offline snapshot's record.")
        return replace(record, config=merge_config(known, record.config))
    notes.append(f"{gated}, and no public copy states them: KV cache unknown.")
    return record


def _with_safetensors_counts(api, record: ModelRecord, notes: list[str]) -> ModelRecord:
    try:
        counts = hub_call(lambda: api.get_safetensors_metadata(record.id).parameter_count,
                          what="safetensors headers", repo_id=record.id)
    except HfdashError as err:  # optional refinement: the record's total still stands
        notes.append(f"Per-dtype parameter counts unavailable ({err.message}).")
        return record
    return replace(record, dtype_params=dict(counts), params=record.params or sum(counts.values()))
