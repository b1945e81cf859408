"""Repo files on the loopback Hub, answering as huggingface.co does for the requests `huggingface_hub`
makes without downloading weights:

- `GET /api/models/{repo}/tree/{rev}[/{path}]`: the file list with sizes (`list_repo_tree`);
- `HEAD|GET /{repo}/resolve/{rev}/{path}`: a file, with the ETag / X-Repo-Commit headers
  `hf_hub_download` and `file_exists` read, and `Range: bytes=a-b` as `get_safetensors_metadata` asks
  for the safetensors header;
- a gated repo: 403 with `X-Error-Code: GatedRepo` on its files, as the Hub answers before the terms
  are accepted (its model info stays public).

A file is bytes (served) or an int (a size only: a multi-GB .gguf is listed, never served).
Tests add repos with `add_repo(hub, ...)`; resolve requests for other repos fall through to any later route.
"""

from __future__ import annotations

import hashlib
import json
import struct

from tests.support import loopback_hub
from tests.support.hub_models import model_extra, models, snapshot_models
from tests.support.loopback_hub import Response, route

_ELEMENT_BYTES = {"F64": 8, "F32": 4, "BF16": 2, "F16": 2, "I32": 4, "U32": 4, "I8": 1, "U8": 1, "F8_E4M3": 1}


def repos(hub) -> dict[str, dict]:
    return hub.__dict__.setdefault("repo_files", {})


def add_repo(hub, repo_id: str, files: dict[str, bytes | int], *, gated: bool = False,
             granted: tuple[str, ...] = (), info: dict | None = None) -> None:
    """Serve `files` for `repo_id`; `info` (Hub model JSON) makes a repo the snapshot lacks known to model_info.
    A gated repo lets through only the tokens in `granted` (accounts that accepted its terms)."""
    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    repos(hub)[repo_id] = {"files": files, "gated": gated, "granted": set(granted), "commit": commit}
    extra = {"gated": "auto" if gated else False, "sha": commit,
             "siblings": [{"rfilename": path} for path in files]}
    if any(m["id"] == repo_id for m in models(hub)):
        model_extra(hub)[repo_id] = {**model_extra(hub).get(repo_id, {}), **extra, **(info or {})}
        return
    if not hub.models:  # keep serving the snapshot's models beside the new one
        hub.models = list(snapshot_models())
    hub.models.append({"_id": commit[:24], "id": repo_id, **extra, **(info or {})})


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


def _file_entry(path: str, content: bytes | int) -> dict:
    size = content if isinstance(content, int) else len(content)
    oid = hashlib.sha1(path.encode()).hexdigest()
    entry = {"type": "file", "oid": oid, "size": size, "path": path}
    if path.endswith((".gguf", ".safetensors")):
        entry["lfs"] = {"oid": hashlib.sha256(path.encode()).hexdigest(), "size": size, "pointerSize": 134}
    return entry


@route("GET", r"^/api/models/(?P<repo_id>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$")
def tree(hub, request, match) -> Response:
    repo = repos(hub).get(match["repo_id"])
    if repo is None:
        return Response(404, {"error": "Repository not found"}, {"x-error-code": "RepoNotFound"})
    prefix = (match["path"] or "").strip("/")
    entries = [_file_entry(path, content) for path, content in repo["files"].items()
               if not prefix or path.startswith(prefix + "/")]
    return Response(200, entries)


def _fall_through(hub, request, handler) -> Response:
    mine = next(i for i, (method, _, h) in enumerate(loopback_hub.ROUTES) if h is handler and method == request.method)
    later = loopback_hub.ROUTES[mine + 1:]
    for method, pattern, other in later:
        found = pattern.match(request.path)
        if method == request.method and found:
            return other(hub, request, found)
    return Response(404, {"error": "Not Found"}, {"x-error-code": "EntryNotFound"})


def _range(content: bytes, header: str | None) -> tuple[int, bytes, dict]:
    if not header or not header.startswith("bytes="):
        return 200, content, {}
    start, _, end = header[len("bytes="):].partition("-")
    first, last = int(start), min(int(end) if end else len(content) - 1, len(content) - 1)
    return 206, content[first:last + 1], {"content-range": f"bytes {first}-{last}/{len(content)}"}


def _gate(repo: dict, request, repo_id: str) -> Response | None:
    """The Hub's 403 for a gated repo, unless the request's token was granted access."""
    token = (request.authorization or "").removeprefix("Bearer ")
    if not repo["gated"] or token in repo["granted"]:
        return None
    message = f"Access to model {repo_id} is restricted. You must have access to it and be authenticated."
    return Response(403, {"error": message}, {"x-error-code": "GatedRepo", "x-error-message": message})


@route("GET", r"^/api/models/(?P<repo_id>[^/]+/[^/]+)/auth-check$")
def auth_check(hub, request, match) -> Response:
    repo = repos(hub).get(match["repo_id"])
    if repo is None:
        return Response(404, {"error": "Repository not found"}, {"x-error-code": "RepoNotFound"})
    return _gate(repo, request, match["repo_id"]) or Response(200, {})


def resolve(hub, request, match) -> Response:
    repo = repos(hub).get(match["repo_id"])
    if repo is None:
        return _fall_through(hub, request, resolve)
    if (refused := _gate(repo, request, match["repo_id"])) is not None:
        return refused
    content = repo["files"].get(match["path"])
    if not isinstance(content, bytes):
        return Response(404, {"error": "Entry not found"}, {"x-error-code": "EntryNotFound"})
    status, body, headers = _range(content, request.headers.get("range"))
    etag = hashlib.sha1(content).hexdigest()
    return Response(status, body, {**headers, "etag": f'"{etag}"', "x-repo-commit": repo["commit"],
                                   "accept-ranges": "bytes"})


RESOLVE = r"^/(?P<repo_id>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"
route("GET", RESOLVE)(resolve)
route("HEAD", RESOLVE)(resolve)
