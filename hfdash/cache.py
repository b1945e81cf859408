"""The models on disk: the Hugging Face cache (under the current HF_HOME) and the dashboard's converted copies.

    items = list_cached()                      # sorted, biggest first
    freed = delete_cached([items[0].key])      # bytes freed; refuses a model loaded in memory
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hfdash.config import cache_dir
from hfdash.errors import BadParameters, HfdashError
from hfdash.safefile import TEMP_PREFIX
from hfdash.units import human_bytes

HUB = "Hugging Face cache"
CONVERTED = "converted copy"


@dataclass(frozen=True)
class CachedModel:
    kind: str  # HUB or CONVERTED
    model_id: str
    path: Path
    size_on_disk: int
    # POSIX time of the last read or write of its files; None when nothing is inside. Written files count
    # too: a mount with relatime or noatime updates access times rarely or never.
    last_used: float | None
    revisions: tuple[str, ...] = ()  # commit hashes (Hub cache only)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.model_id}"


def hub_cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def converted_dir() -> Path:
    return cache_dir() / "converted"


def _hub_models() -> list[CachedModel]:
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(hub_cache_dir())
    except CacheNotFound:
        return []
    return [CachedModel(HUB, repo.repo_id, Path(repo.repo_path), repo.size_on_disk,
                        max(repo.last_accessed, repo.last_modified), tuple(rev.commit_hash for rev in repo.revisions))
            for repo in info.repos if repo.repo_type == "model"]


def _converted_models() -> list[CachedModel]:
    root = converted_dir()
    if not root.is_dir():
        return []
    models = []
    # A conversion in progress (or left by a killed one) stages under TEMP_PREFIX: not a model yet.
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(TEMP_PREFIX)):
        stats = [f.stat() for f in folder.rglob("*") if f.is_file()]
        models.append(CachedModel(CONVERTED, folder.name, folder, sum(s.st_size for s in stats),
                                  max((max(s.st_atime, s.st_mtime) for s in stats), default=None)))
    return models


def list_cached() -> list[CachedModel]:
    """Every cached model, biggest first. HfdashError if a cache folder cannot be read."""
    try:
        models = _hub_models() + _converted_models()
    except OSError as exc:
        raise HfdashError(f"Cannot read the model cache ({exc.strerror}: {exc.filename}).") from None
    return sorted(models, key=lambda m: m.size_on_disk, reverse=True)


# Who holds models in memory reports here (the local backend, when it is first imported), so the cache
# can refuse to delete them without importing the backend itself.
_IN_MEMORY: list[Callable[[], set[str]]] = []


def report_in_memory(names: Callable[[], set[str]]) -> None:
    """Register a function naming the models some part of this process holds in memory."""
    _IN_MEMORY.append(names)


def loaded_model_ids() -> set[str]:
    """Models held in memory in this process (none while the local backend was never used)."""
    return set().union(*(names() for names in _IN_MEMORY))


def delete_cached(keys: list[str]) -> int:
    """Delete the cached models with these keys; the bytes freed. Refuses (BadParameters, nothing deleted)
    when one is loaded in memory or a key is unknown."""
    by_key = {m.key: m for m in list_cached()}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise BadParameters(f"Not in the cache (any more): {', '.join(unknown)}. Nothing was deleted.")
    chosen = [by_key[k] for k in dict.fromkeys(keys)]
    loaded = loaded_model_ids()
    busy = [m.model_id for m in chosen if m.model_id in loaded]
    if busy:
        raise BadParameters(f"{', '.join(busy)} is loaded in memory for the Playground, so nothing was deleted.",
                            hint="Restart the dashboard to unload it, then delete it.")
    hashes = [h for m in chosen if m.kind == HUB for h in m.revisions]
    problem: str | None = None
    try:
        if hashes:
            from huggingface_hub import scan_cache_dir

            scan_cache_dir(hub_cache_dir()).delete_revisions(*hashes).execute()
        for model in chosen:
            if model.kind == CONVERTED:
                shutil.rmtree(model.path)
    except OSError as exc:
        problem = f"{exc.strerror}: {exc.filename}"
    # Measured, not predicted: the library only logs a file it could not delete.
    chosen_keys = {m.key for m in chosen}
    left = {m.key: m.size_on_disk for m in list_cached() if m.key in chosen_keys}
    freed = sum(m.size_on_disk for m in chosen) - sum(left.values())
    if problem or left:
        raise HfdashError(f"Could not delete everything ({problem or ', '.join(left)}); "
                          f"{human_bytes(freed)} were freed.")
    return freed
