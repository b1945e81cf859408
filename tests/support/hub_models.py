"""`GET /api/models` and `GET /api/models/{repo_id}[/revision/{rev}]` on the loopback Hub, answering as
huggingface.co does (tests/data/recorded/README.md, "What a fake Hub must reproduce"):

- listing: a bare JSON array; `search` (substring of the id), `author`, `pipeline_tag`, `filter` (tags,
  ANDed: a library is a tag), `num_parameters=min:6B,max:128B`, `inference_provider` (one, a comma
  list, or `all`), `inference=warm`, `gated=True|False`; sorted descending by a camelCase key
  (`trendingScore` when none is asked); pages linked by an opaque keyset `cursor` in
  `Link: <full next URL>; rel="next"`, which repeats every parameter and names the sort;
- items carry the Hub's default fields, or with `expand` only `_id`, `id` and the asked keys that are
  set; an unknown `expand` value is a 400; `config=True` / `cardData=True` / `full=True` add fields;
- model_info: the default body (trimmed `config`: architectures, model_type, tokenizer_config; the
  full config.json is a file), `inferenceProviderMapping` as a dict keyed by provider; a missing repo
  is 401 without a token and 404 RepoNotFound with one; a renamed repo is a 307 keeping the query; a
  disabled one a 403; a gated repo's metadata is public but `/revision/{rev}` is gated like its files.

Stored repos (`hub.models`) are Hub JSON with every field the Hub can send; when a test leaves it
empty, the shipped snapshot's real records, read from its parquet file as plain rows (with pyarrow, not
the app's snapshot reader) and turned into that JSON here (`hub_json`). A stored repo may
carry `_files` (path -> bytes, a size, or a `Partial`), served by hub_repos.py, never sent as JSON.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import quote, urlencode

from tests.support.loopback_hub import NO_CREDENTIALS, Response, hub_error, route

DATA = Path(__file__).resolve().parents[1] / "data"
SHIPPED_SNAPSHOT = Path(__file__).resolve().parents[2] / "hfdash" / "data" / "snapshot.parquet"
MAX_PAGE = 1000
UNDATED = "2022-03-02T23:29:04.000Z"  # the Hub's createdAt for repos made before it stored dates
# The properties `expand` accepts (the Hub's list; huggingface_hub types them as ExpandModelProperty_T).
EXPAND_PROPERTIES = frozenset((
    "author", "baseModels", "cardData", "childrenModelCount", "config", "createdAt", "disabled", "downloads",
    "downloadsAllTime", "evalResults", "gated", "gguf", "inference", "inferenceProviderMapping", "lastModified",
    "library_name", "likes", "mask_token", "model-index", "pipeline_tag", "private", "resourceGroup",
    "safetensors", "sha", "siblings", "spaces", "tags", "transformersInfo", "trendingScore", "usedStorage",
    "widgetData"))
LIST_FIELDS = ("_id", "id", "likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag",
               "library_name", "createdAt", "modelId")
INFO_FIELDS = ("_id", "id", "private", "pipeline_tag", "library_name", "tags", "downloads", "likes", "modelId",
               "author", "sha", "lastModified", "gated", "disabled", "widgetData", "model-index", "config",
               "cardData", "transformersInfo", "siblings", "spaces", "createdAt", "safetensors", "inference",
               "usedStorage")
SORT_KEYS = ("trendingScore", "likes", "downloads", "createdAt", "lastModified", "likes30d")
# `apps=` asks for repos an app can run; the Hub knows them by their files' format.
APP_TAGS = {"ollama": "gguf", "llama.cpp": "gguf", "lmstudio": "gguf", "jan": "gguf", "mlx-lm": "mlx"}
_COUNT = re.compile(r"^(\d+(?:\.\d+)?)([KMBT]?)$", re.IGNORECASE)
_SCALE = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
# The JSON names of the config facts the snapshot keeps, as config.json spells them.
_CONFIG_JSON_NAMES = ("num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "hidden_size",
                      "vocab_size", "sliding_window", "num_experts", "kv_lora_rank", "qk_rope_head_dim",
                      "intermediate_size", "tie_word_embeddings")


@functools.cache
def real_configs() -> dict[str, dict]:
    """Repo id -> its real config.json facts (tests/data/configs/real-configs.jsonl)."""
    lines = (DATA / "configs" / "real-configs.jsonl").read_text().splitlines()
    return {entry["id"]: entry["config"] for entry in map(json.loads, lines)}


def hub_json(row: dict, index: int) -> dict:
    """A snapshot row (one model: its record and config columns) as the Hub's stored JSON. Facts the
    snapshot lacks are left out, except those the Hub always sends: a trending score of 0 and, for dates,
    the Hub's own value for repos older than its date records (the creation date stands in for an unknown
    last change). The repo's config.json is a file (its real one where known, else what the snapshot knows
    of it); the info's `config` is the Hub's trimmed view of it."""
    files = {"README.md": model_card(row)}
    known = {k: v for k, v in row.items() if v is not None}
    full = real_configs().get(row["id"])
    if full is None and "architecture" in known:  # llmfit's "architecture" is the config's model_type
        full = {"model_type": known["architecture"], **{k: known[k] for k in _CONFIG_JSON_NAMES if k in known}}
        if "context_length" in known:
            full["max_position_embeddings"] = known["context_length"]
    if full is not None:
        files["config.json"] = json.dumps(full).encode()
    data: dict = {
        "_id": f"{0x621ffdc036468d709f170000 + index:024x}", "id": row["id"], "modelId": row["id"],
        "author": row["id"].split("/")[0] if "/" in row["id"] else None,
        "sha": hashlib.sha1(row["id"].encode()).hexdigest(), "private": False, "disabled": False,
        "gated": "manual" if row["gated"] else False,
        "likes": row["likes"], "downloads": row["downloads"], "pipeline_tag": row["task"],
        "library_name": row["library"], "trendingScore": row["trending"] or 0,
        "createdAt": _timestamp(row["created_at"]) or UNDATED,
        "lastModified": _timestamp(row["last_modified"] or row["created_at"]) or UNDATED,
        "tags": [t for t in (row["library"], row["task"], *(row["languages"] or ()),
                             row["license"] and f"license:{row['license']}") if t],
        "model-index": None, "cardData": card_data(row),
        "config": trimmed_config(full or {}), "siblings": [{"rfilename": path} for path in files], "spaces": [],
        "usedStorage": sum(len(content) for content in files.values()), "_files": files,
    }
    if row["params"] is not None:
        data["safetensors"] = {"parameters": dict(row["dtype_params"] or {"BF16": row["params"]}),
                               "total": row["params"]}
    if row["providers"] is not None:
        ids = {offer["provider"]: offer["provider_model_id"] for offer in row["offers"] or ()}
        task = "conversational" if row["task"] in ("text-generation", "image-text-to-text") else row["task"]
        data["inferenceProviderMapping"] = [{"provider": name, "providerId": ids.get(name) or row["id"],
                                             "status": "live", "task": task} for name in row["providers"]]
        if row["providers"]:
            data["inference"] = "warm"
    return {k: v for k, v in data.items() if v is not None or k == "model-index"}


def card_data(row: dict) -> dict:
    """The card's metadata as the Hub parses it into `cardData` (recorded: `license`, `language` as a list)."""
    data: dict = {}
    if row["license"]:
        data["license"] = row["license"]
    if row["languages"]:
        data["language"] = list(row["languages"])
    return data


def model_card(row: dict) -> bytes:
    """A README.md as the Hub documents model cards: a YAML metadata block, then markdown. No README body
    was recorded, so this is built from that documented shape (huggingface.co/docs/hub/model-cards)."""
    meta = "".join(f"{key}: {json.dumps(value)}\n" for key, value in card_data(row).items())
    header = f"---\n{meta}---\n" if meta else ""
    return f"{header}# {row['id']}\n\nA model card, as its author wrote it.\n".encode()


def trimmed_config(config: dict) -> dict:
    """What model_info says of a config.json: its kind, never its sizes."""
    trimmed = {k: config[k] for k in ("architectures", "model_type") if k in config}
    return {**trimmed, "tokenizer_config": {}} if trimmed else {}


@functools.cache
def snapshot_models() -> tuple[dict, ...]:
    """The shipped snapshot's real records as stored Hub JSON (built once per test process); `_id`s
    rise with the id, so the Hub's tie order (by `_id`) is the id order."""
    import pyarrow.parquet as pq

    rows = sorted(pq.read_table(SHIPPED_SNAPSHOT).to_pylist(), key=lambda row: row["id"])
    return tuple(hub_json(row, index) for index, row in enumerate(rows))


def models(hub) -> list[dict]:
    """The stored repos; the snapshot's are copied in on first use, so a test may edit any of them."""
    if not hub.models:
        hub.models = [dict(m) for m in snapshot_models()]
    return hub.models


def find(hub, repo_id: str) -> dict | None:
    stored = models(hub)
    key = (id(stored), len(stored))
    if hub.__dict__.get("_index_key") != key:  # rebuilt when a test swaps or grows the list
        hub.__dict__["_index"] = {m["id"].lower(): m for m in stored}
        hub.__dict__["_index_key"] = key
    return hub.__dict__["_index"].get(repo_id.lower())


def add_model(hub, info: dict) -> dict:
    """Store a repo (Hub JSON); ids and defaults the Hub always sets are filled in."""
    repo_id = info["id"]
    stored = {"_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "modelId": repo_id,
              "author": repo_id.split("/")[0] if "/" in repo_id else None,
              "sha": hashlib.sha1(repo_id.encode()).hexdigest(), "private": False, "disabled": False, "gated": False,
              "likes": 0, "downloads": 0, "trendingScore": 0, "tags": [], "model-index": None, "cardData": {},
              "config": {}, "spaces": [], "createdAt": "2026-01-01T00:00:00.000Z",
              "lastModified": "2026-01-01T00:00:00.000Z", **info}
    stored = {k: v for k, v in stored.items() if v is not None or k == "model-index"}
    existing = find(hub, repo_id)
    stored_list = models(hub)
    if existing is not None:
        stored_list[next(i for i, m in enumerate(stored_list) if m is existing)] = stored
    else:
        stored_list.append(stored)
    hub.__dict__["_index"][repo_id.lower()] = stored  # keep the index current instead of rebuilding it
    hub.__dict__["_index_key"] = (id(stored_list), len(stored_list))
    return stored


def aliases(hub) -> dict[str, str]:
    """Legacy id -> repo id: the Hub answers 200 under the legacy id (`gpt2`)."""
    return hub.__dict__.setdefault("aliases", {})


def renamed(hub) -> dict[str, str]:
    """Old repo id -> new one: the Hub answers 307 to the new path."""
    return hub.__dict__.setdefault("renamed", {})


def parse_count(text: str) -> int | None:
    """The Hub's count syntax in `num_parameters`: digits with an optional K/M/B/T suffix."""
    found = _COUNT.match(text.strip())
    return int(float(found.group(1)) * _SCALE[found.group(2).upper()]) if found else None


def _timestamp(day: dt.date | None) -> str | None:
    return f"{day.isoformat()}T00:00:00.000Z" if day else None


def expand_of(request) -> list[str]:
    return request.query.get("expand[]", []) + request.query.get("expand", [])


def _bad_expand(expand: list[str]) -> Response | None:
    unknown = [value for value in expand if value not in EXPAND_PROPERTIES]
    return hub_error(400, f"Invalid expand value: {unknown[0]}") if unknown else None


def render(model: dict, fields: tuple[str, ...] | list[str], *, as_info: bool) -> dict:
    """The JSON the Hub sends for a stored repo: `_id`, `id` and the wanted fields that are set."""
    body = {k: model[k] for k in ("_id", "id", *fields) if k in model and (k == "_id" or not k.startswith("_"))}
    mapping = body.get("inferenceProviderMapping")
    if mapping is not None and as_info:  # model_info keys it by provider
        body["inferenceProviderMapping"] = {m["provider"]: {k: v for k, v in m.items() if k != "provider"}
                                            for m in mapping}
    elif mapping is not None:  # the listing keeps a list, each entry naming the repo
        body["inferenceProviderMapping"] = [{**m, "hfModelId": model["id"]} for m in mapping]
    return body


def _params_total(model: dict) -> int | None:
    for source in ("safetensors", "gguf"):
        if (total := (model.get(source) or {}).get("total")) is not None:
            return total
    return None


def _matches(model: dict, request, bounds: tuple[int | None, int | None]) -> bool:
    search = request.arg("search")
    if search and search.lower() not in model["id"].lower():
        return False
    author = request.arg("author")
    if author and (model.get("author") or "").lower() != author.lower():
        return False
    task = request.arg("pipeline_tag")
    if task and model.get("pipeline_tag") != task:
        return False
    wanted_tags = set(request.query.get("filter", [])) | {APP_TAGS[app] for app in request.query.get("apps", [])}
    if not wanted_tags <= set(model.get("tags", ())):
        return False
    low, high = bounds
    if low is not None or high is not None:
        total = _params_total(model)
        if total is None or (low is not None and total < low) or (high is not None and total > high):
            return False
    live = {m["provider"] for m in model.get("inferenceProviderMapping", ()) if m.get("status") == "live"}
    if provider := request.arg("inference_provider"):
        if not live if provider == "all" else not live & set(provider.split(",")):
            return False
    if request.arg("inference") == "warm" and model.get("inference") != "warm":
        return False
    if (gated := request.arg("gated")) is not None and (model.get("gated") is not False) != (gated.lower() == "true"):
        return False
    return True


def _bounds(spec: str | None) -> tuple[int | None, int | None] | None:
    """`min:6B,max:128B` -> (6e9, 1.28e11); None when it does not parse."""
    if not spec:
        return None, None
    found: dict[str, int | None] = {"min": None, "max": None}
    for part in spec.split(","):
        key, _, value = part.partition(":")
        if key.strip() not in found or (count := parse_count(value)) is None:
            return None
        found[key.strip()] = count
    return found["min"], found["max"]


def _cursor(model: dict, sort: str) -> str:
    keyset = {"$or": [{sort: model.get(sort), "_id": {"$gt": model["_id"]}}, {sort: {"$lt": model.get(sort)}}]}
    return base64.b64encode(json.dumps(keyset, separators=(",", ":")).encode()).decode()


def _after(found: list[dict], cursor: str) -> int | None:
    """Where the page after `cursor` starts, or None for a cursor this Hub did not hand out."""
    try:
        last_id = json.loads(base64.b64decode(cursor))["$or"][0]["_id"]["$gt"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return next((i + 1 for i, m in enumerate(found) if m["_id"] == last_id), None)


@route("HEAD", r"^/api/models$")
@route("GET", r"^/api/models$")
def list_models(hub, request, match) -> Response:
    expand = expand_of(request)
    if bad := _bad_expand(expand):
        return bad
    if unknown := [app for app in request.query.get("apps", []) if app not in APP_TAGS]:
        return hub_error(400, f"Invalid apps value: {unknown[0]}")
    sort = request.arg("sort") or "trendingScore"
    if sort not in SORT_KEYS:
        return hub_error(400, f"Invalid sort: {sort}")
    bounds = _bounds(request.arg("num_parameters"))
    if bounds is None:
        return hub_error(400, "Invalid num_parameters: expected min:<count>,max:<count> such as min:6B,max:128B")
    found = [m for m in models(hub) if _matches(m, request, bounds)]
    found.sort(key=lambda m: m["_id"])  # ties: ascending _id, as the keyset cursor reads them
    found.sort(key=lambda m: (m.get(sort) is not None, m.get(sort) or 0), reverse=True)
    start = 0
    if cursor := request.arg("cursor"):
        if (start := _after(found, cursor)) is None:
            return hub_error(400, "Invalid cursor")
    size = min(int(request.arg("limit") or MAX_PAGE), getattr(hub, "models_page_size", MAX_PAGE), MAX_PAGE)
    page = found[start:start + size]
    headers = {}
    if start + size < len(found) and page:
        pairs = [(k, v) for k, v in request.pairs if k != "cursor"]
        if not request.arg("sort"):
            pairs.append(("sort", sort))
        headers["link"] = f'<{hub.url}/api/models?{urlencode(pairs + [("cursor", _cursor(page[-1], sort))])}>; ' \
                          'rel="next"'
    if expand:
        fields = expand
    else:
        wanted = {"config": "config", "cardData": "cardData"}
        fields = list(LIST_FIELDS) + [f for arg, f in wanted.items() if (request.arg(arg) or "").lower() == "true"]
        if (request.arg("full") or "").lower() == "true":
            fields = list(INFO_FIELDS)
    return Response(200, [render(m, fields, as_info=False) for m in page], headers)


def missing(hub, request) -> Response:
    """A repo the caller cannot see: 401 without a token (the Hub won't say whether it exists), else 404."""
    if hub.account(request) is None:
        return hub_error(401, NO_CREDENTIALS)
    return hub_error(404, "Repository not found", "RepoNotFound")


def visible(hub, request, repo_id: str) -> tuple[dict | None, Response | None]:
    """The stored repo the caller may see, or the Hub's answer for one it may not."""
    model = find(hub, repo_id)
    owner = (hub.account(request) or {}).get("name")
    if model is None or (model.get("private") and model.get("author") != owner):
        return None, missing(hub, request)
    if model.get("disabled"):
        return None, hub_error(403, "Access to this resource is disabled.")
    return model, None


def gate(hub, request, model: dict) -> Response | None:
    """A gated repo's content: 401 anonymous, 403 for a token whose account was not granted access."""
    if model.get("gated") in (False, None):
        return None
    account = hub.account(request)
    repo_id = model["id"]
    if account is None:
        return hub_error(401, f"Access to model {repo_id} is restricted. You must have access to it and be "
                              "authenticated to access it. Please log in.", "GatedRepo")
    if account.get("name") in model.get("_granted", ()):
        return None
    return hub_error(403, f"Access to model {repo_id} is restricted and you are not in the authorized list. "
                          f"Visit https://huggingface.co/{repo_id} to ask for access.", "GatedRepo")


def _redirect(hub, request, repo_id: str, rest: str) -> Response | None:
    new = next((v for k, v in renamed(hub).items() if k.lower() == repo_id.lower()), None)
    if new is None:
        return None
    query = f"?{urlencode(request.pairs)}" if request.pairs else ""
    location = f"/api/models/{new}{rest}"
    return Response(307, f"Temporary Redirect. Redirecting to {location}{query}", {"location": location + query})


def _info(hub, request, repo_id: str, *, rest: str = "", sha: str | None = None) -> Response:
    if moved := _redirect(hub, request, repo_id, rest):
        return moved
    expand = expand_of(request)
    if bad := _bad_expand(expand):
        return bad
    legacy = next((v for k, v in aliases(hub).items() if k.lower() == repo_id.lower()), None)
    model, refused = visible(hub, request, legacy or repo_id)
    if refused:
        return refused
    body = render(model, expand or INFO_FIELDS, as_info=True)
    if legacy:  # answered under the id that was asked for
        body.update({k: repo_id for k in ("id", "modelId") if k in body})
    if sha and "sha" in body:
        body["sha"] = sha
    if _flag(request, "securityStatus"):
        body["securityRepoStatus"] = {"scansDone": True, "filesWithIssues": []}
    if _flag(request, "blobs") and "siblings" in body:
        body["siblings"] = [_blob(path, content) for path, content in model.get("_files", {}).items()]
    return Response(200, body)


def _flag(request, name: str) -> bool:
    return (request.arg(name) or "").lower() == "true"


def _blob(path: str, content) -> dict:
    """A sibling as `blobs=True` lists it: size and blob id, and the LFS pointer for weight files."""
    size = getattr(content, "size", content if isinstance(content, int) else len(content))
    entry = {"rfilename": path, "size": size, "blobId": hashlib.sha1(path.encode()).hexdigest()}
    if path.endswith((".gguf", ".safetensors", ".bin")):
        entry["lfs"] = {"sha256": hashlib.sha256(path.encode()).hexdigest(), "size": size, "pointerSize": 134}
    return entry


@route("GET", r"^/api/models/(?P<repo_id>[^/]+(?:/[^/]+)?)$")
def model_info(hub, request, match) -> Response:
    return _info(hub, request, match["repo_id"])


@route("GET", r"^/api/models/(?P<repo_id>[^/]+(?:/[^/]+)?)/revision/(?P<rev>[^/]+)$")
def model_info_at_revision(hub, request, match) -> Response:
    rest = f"/revision/{quote(match['rev'], safe='')}"
    if moved := _redirect(hub, request, match["repo_id"], rest):
        return moved
    model, refused = visible(hub, request, match["repo_id"])
    if refused:
        return refused
    if locked := gate(hub, request, model):
        return locked
    rev = match["rev"]
    if rev not in ("main", "HEAD", model["sha"], *model.get("_commits", ())):
        return hub_error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
    return _info(hub, request, match["repo_id"], rest=rest, sha=rev if rev not in ("main", "HEAD") else None)
