"""Fill a Hugging Face cache folder with the on-disk layout `huggingface_hub` downloads produce
(blobs, snapshots/<commit>/ symlinks, refs/main), so `scan_cache_dir` reads it like a real one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def add_cached_model(hub_cache: Path, repo_id: str, files: dict[str, bytes], *, accessed: float | None = None,
                     commit: str | None = None) -> Path:
    repo = hub_cache / f"models--{repo_id.replace('/', '--')}"
    commit = commit or hashlib.sha1(repo_id.encode()).hexdigest()
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for name, content in files.items():
        blob = repo / "blobs" / hashlib.sha256(content).hexdigest()
        blob.write_bytes(content)
        if accessed is not None:
            os.utime(blob, (accessed, accessed))
        (snapshot / name).symlink_to(os.path.relpath(blob, snapshot))
    return repo
