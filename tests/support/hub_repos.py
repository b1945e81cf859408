"""Repo files on the loopback Hub, answering as huggingface.co does for the requests `huggingface_hub`
makes:

- `GET /api/models/{repo}/tree/{rev}[/{path}]`: the file list with sizes (`list_repo_tree`);
- `HEAD|GET /{repo}/resolve/{rev}/{path}`: a file, with the ETag / X-Repo-Commit headers
  `hf_hub_download` reads, and `Range: bytes=a-b` answered 206 with `Content-Range`;
- `GET /api/models/{repo}/auth-check`: 200, or the gated answer;
- a gated repo's files: 401 `GatedRepo` without a token, 403 `GatedRepo` for an account not granted
  access (its model info stays public); a missing repo: 401 without a token, 404 `RepoNotFound` with one;
  a missing file: 404 `EntryNotFound`.

A file is bytes (served), an int (a size only: a multi-GB file is listed, never served) or a `Partial`
(a real file's first bytes and its full size: ranges within the head are served, e.g. a GGUF header).
Tests add repos with `add_repo(hub, ...)`; the snapshot's repos hold a README.md and their config.json.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass

from tests.support.hub_models import add_model, find, gate, missing, visible
from tests.support.loopback_hub import Response, hub_error, route

_ELEMENT_BYTES = {"F64": 8, "F32": 4, "BF16": 2, "F16": 2, "I32": 4, "U32": 4, "I8": 1, "U8": 1, "F8_E4M3": 1}


@dataclass(frozen=True)
class Partial:
    """A file known by its first bytes and its full size."""

    head: bytes
    size: int


def add_repo(hub, repo_id: str, files: dict[str, bytes | int | Partial], *, gated: bool = False,
             granted: tuple[str, ...] = (), info: dict | None = None) -> dict:
    """Store `repo_id` with `files` (its siblings) and `info` (more Hub JSON). A gated repo lets through
    the accounts of the tokens in `granted` (registered users who accepted its terms)."""
    unknown = [token for token in granted if token not in hub.users]
    assert not unknown, "granted tokens must belong to registered users (hub.users)"
    stored = find(hub, repo_id) or {}
    keep = {k: v for k, v in stored.items() if k not in ("_files", "siblings", "_granted")}
    return add_model(hub, {**keep, "id": repo_id, "gated": "auto" if gated else keep.get("gated", False),
                           "_granted": {hub.users[token]["name"] for token in granted}, "_files": files,
                           "siblings": [{"rfilename": path} for path in files],
                           "usedStorage": sum(_size(content) for content in files.values()), **(info or {})})


def safetensors_header(tensors: dict[str, tuple[str, list[int]]]) -> bytes:
    """A real safetensors file prefix: 8-byte little-endian header size, then the JSON header."""
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        size = _ELEMENT_BYTES[dtype]
        for dim in shape:
            size *= dim
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded


def gguf_head(config: dict) -> bytes:
    """The header a GGUF conversion of a model with this config.json writes (llama.cpp's key names), with
    no tensors: enough for a reader of the metadata, as a `Partial`'s head."""
    import tempfile
    from pathlib import Path

    import gguf

    arch = config["model_type"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "head.gguf"
        writer = gguf.GGUFWriter(str(path), arch)
        writer.add_block_count(config["num_hidden_layers"])
        writer.add_context_length(config["max_position_embeddings"])
        writer.add_embedding_length(config["hidden_size"])
        writer.add_feed_forward_length(config["intermediate_size"])
        writer.add_head_count(config["num_attention_heads"])
        writer.add_head_count_kv(config["num_key_value_heads"])
        if config.get("head_dim"):
            writer.add_key_length(config["head_dim"])
        writer.add_vocab_size(config["vocab_size"])
        writer.add_tokenizer_model("gpt2")
        writer.add_token_list([f"t{n}" for n in range(config["vocab_size"])])
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.close()
        return path.read_bytes()


def _size(content: bytes | int | Partial) -> int:
    if isinstance(content, Partial):
        return content.size
    return content if isinstance(content, int) else len(content)


def _file_entry(path: str, content: bytes | int | Partial) -> dict:
    size = _size(content)
    entry = {"type": "file", "oid": hashlib.sha1(path.encode()).hexdigest(), "size": size, "path": path}
    if path.endswith((".gguf", ".safetensors")):
        entry["lfs"] = {"oid": hashlib.sha256(path.encode()).hexdigest(), "size": size, "pointerSize": 134}
    return entry


@route("GET", r"^/api/models/(?P<repo_id>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$")
def tree(hub, request, match) -> Response:
    model, refused = visible(hub, request, match["repo_id"])
    if refused:
        return refused
    prefix = (match["path"] or "").strip("/")
    return Response(200, [_file_entry(path, content) for path, content in model.get("_files", {}).items()
                          if not prefix or path.startswith(prefix + "/")])


@route("GET", r"^/api/models/(?P<repo_id>[^/]+/[^/]+)/auth-check$")
def auth_check(hub, request, match) -> Response:
    model, refused = visible(hub, request, match["repo_id"])
    return refused or gate(hub, request, model) or Response(200, {})


def _range(content: bytes | Partial, header: str | None) -> tuple[int, bytes, dict] | None:
    """(status, body, headers) for a plain or ranged read; None when it reaches past a Partial's head."""
    head, size = (content.head, content.size) if isinstance(content, Partial) else (content, len(content))
    if not header or not header.startswith("bytes="):
        return (200, head, {}) if len(head) == size else None
    start, _, end = header[len("bytes="):].partition("-")
    first, last = int(start), min(int(end) if end else size - 1, size - 1)
    if last >= len(head):
        return None
    return 206, head[first:last + 1], {"content-range": f"bytes {first}-{last}/{size}"}


def resolve(hub, request, match) -> Response:
    model = find(hub, match["repo_id"])
    if model is None:
        return missing(hub, request)
    if locked := gate(hub, request, model):
        return locked
    content = model.get("_files", {}).get(match["path"])
    if content is None:
        return hub_error(404, "Entry not found", "EntryNotFound")
    headers = {"etag": f'"{hashlib.sha1(match["path"].encode() + model["sha"].encode()).hexdigest()}"',
               "x-repo-commit": model["sha"], "accept-ranges": "bytes"}
    if request.method == "HEAD":
        return Response(200, b"", {**headers, "content-length": str(_size(content))})
    served = None if isinstance(content, int) else _range(content, request.headers.get("range"))
    if served is None:  # FAKE limit: only the bytes a test gave are served; a full read of a big file fails loudly
        return hub_error(416, f"The loopback Hub holds no bytes of {match['path']} past its head")
    status, body, extra = served
    return Response(status, body, {**headers, **extra})


RESOLVE = r"^/(?P<repo_id>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"
route("GET", RESOLVE)(resolve)
route("HEAD", RESOLVE)(resolve)
