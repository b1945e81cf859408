"""`GET /api/models` and `GET /api/models/{repo_id}` on the loopback Hub, answering as huggingface.co does.

Data: `hub.models` (Hub API JSON objects); when a test leaves it empty, the real records of the shipped
snapshot, converted to the Hub's JSON (`hub_json`). Listing honours search, author, pipeline_tag,
filter, num_parameters, inference_provider, gated, sort/direction, limit and expand / expand[]; pages
are linked with `Link: <...cursor=N>; rel="next"` (page size: `hub.models_page_size`, default 1000).

Other route modules add facts to a model's info without editing this file: `model_extra(hub)[repo_id]`
is merged into that model's `/api/models/{repo_id}` answer (config, siblings, gated, ...). Paths below
`/api/models/{repo_id}/...` are left to them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from urllib.parse import urlencode

from hfdash.catalog.records import ModelRecord
from hfdash.units import parse_count
from tests.support.loopback_hub import Response, route

MAX_PAGE = 1000
# Fields /api/models returns when no expand[] is asked for (as the Hub does).
DEFAULT_LIST_FIELDS = ("id", "likes", "downloads", "trendingScore", "pipeline_tag", "library_name", "tags",
                       "createdAt", "private")
SORT_KEYS = {"downloads": "downloads", "likes": "likes", "createdAt": "createdAt", "created_at": "createdAt",
             "lastModified": "lastModified", "last_modified": "lastModified", "trendingScore": "trendingScore",
             "trending_score": "trendingScore"}


def hub_json(record: ModelRecord) -> dict:
    """A ModelRecord as the Hub's API JSON: unknown facts are left out, as the Hub leaves them out."""
    data: dict = {"_id": hashlib.sha1(record.id.encode()).hexdigest()[:24], "id": record.id, "modelId": record.id,
                  "author": record.id.split("/")[0] if "/" in record.id else None, "private": False,
                  "likes": record.likes, "downloads": record.downloads, "pipeline_tag": record.task,
                  "library_name": record.library, "trendingScore": record.trending,
                  "createdAt": _timestamp(record.created_at), "lastModified": _timestamp(record.last_modified),
                  "gated": None if record.gated is None else ("manual" if record.gated else False)}
    tags = [t for t in (record.library, record.task) if t]
    if record.license:
        tags.append(f"license:{record.license}")
    data["tags"] = tags
    if record.params is not None:
        data["safetensors"] = {"parameters": record.dtype_params or {"BF16": record.params}, "total": record.params}
    if record.providers is not None:
        ids = {offer.provider: offer.provider_model_id for offer in record.offers}
        data["inferenceProviderMapping"] = [
            {"provider": name, "providerId": ids.get(name) or record.id, "status": "live",
             "task": "conversational" if record.task in ("text-generation", "image-text-to-text") else record.task}
            for name in record.providers]
    config = {k: v for k, v in vars(record.config).items() if v is not None}
    if config:
        if "architecture" in config:
            config["architectures"] = [config.pop("architecture")]
        if "context_length" in config:
            config["max_position_embeddings"] = config.pop("context_length")
        data["config"] = config
    return {k: v for k, v in data.items() if v is not None}


@functools.cache
def snapshot_models() -> tuple[dict, ...]:
    """The shipped snapshot's real records as Hub JSON (built once per test process)."""
    from hfdash.catalog import snapshot
    from hfdash.config import SHIPPED_SNAPSHOT

    loaded = snapshot.load(SHIPPED_SNAPSHOT)
    return tuple(hub_json(record) for record in loaded.records(range(loaded.size)))


def models(hub) -> list[dict] | tuple[dict, ...]:
    return hub.models or snapshot_models()


def model_extra(hub) -> dict[str, dict]:
    """repo id -> fields merged into that model's info answer (other route modules fill it)."""
    return hub.__dict__.setdefault("model_extra", {})


def _timestamp(day: dt.date | None) -> str | None:
    return f"{day.isoformat()}T00:00:00.000Z" if day else None


def _token_refused(hub, request) -> Response | None:
    """With accounts defined (hub.users), any other token is refused, as the Hub refuses an invalid one."""
    header = request.authorization or ""
    if hub.users and header.startswith("Bearer ") and header[len("Bearer "):] not in hub.users:
        return Response(401, {"error": "Invalid credentials in Authorization header"},
                        {"x-error-message": "Invalid credentials in Authorization header"})
    return None


def _expanded(model: dict, expand: list[str] | None, default: tuple[str, ...] | None) -> dict:
    keep = set(expand) if expand else set(default) if default else None
    if keep is None:
        return dict(model)
    return {k: v for k, v in model.items() if k in keep or k in ("_id", "id")}


def _expand_arg(request) -> list[str]:
    return request.query.get("expand[]", []) + request.query.get("expand", [])


def _num_parameters(spec: str) -> tuple[int | None, int | None]:
    bounds: dict[str, int] = {}
    for part in spec.split(","):
        key, _, value = part.partition(":")
        bounds[key.strip()] = parse_count(value.strip())
    return bounds.get("min"), bounds.get("max")


def _keep(model: dict, request) -> bool:
    search = request.arg("search")
    if search and search.lower() not in model["id"].lower():
        return False
    author = request.arg("author")
    if author and model.get("author", "").lower() != author.lower():
        return False
    task = request.arg("pipeline_tag")
    if task and model.get("pipeline_tag") != task:
        return False
    for wanted in request.query.get("filter", []):
        if wanted not in model.get("tags", ()) and wanted != model.get("library_name"):
            return False
    if spec := request.arg("num_parameters"):
        low, high = _num_parameters(spec)
        total = (model.get("safetensors") or {}).get("total")
        if total is None or (low is not None and total < low) or (high is not None and total > high):
            return False
    if provider := request.arg("inference_provider"):
        live = {m["provider"] for m in model.get("inferenceProviderMapping", ()) if m.get("status") == "live"}
        if not live if provider == "all" else not live & set(provider.split(",")):
            return False
    if (gated := request.arg("gated")) is not None:
        is_gated = model.get("gated") not in (None, False)
        if "gated" not in model or is_gated != (gated.lower() == "true"):
            return False
    return True


def _ordered(found: list[dict], sort: str | None, direction: str | None) -> list[dict]:
    """Descending (direction -1, the default) with ties by id; models lacking the field come last."""
    found = sorted(found, key=lambda m: m["id"])
    if not sort:
        return found
    key = SORT_KEYS.get(sort)
    if key is None:
        return found
    known = [m for m in found if m.get(key) is not None]
    unknown = [m for m in found if m.get(key) is None]
    known.sort(key=lambda m: m[key], reverse=direction != "1")  # stable even reversed: ties keep id order
    return known + unknown


@route("GET", r"^/api/models$")
def list_models(hub, request, match) -> Response:
    if refused := _token_refused(hub, request):
        return refused
    found = _ordered([m for m in models(hub) if _keep(m, request)], request.arg("sort"), request.arg("direction"))
    page_size = min(int(request.arg("limit") or MAX_PAGE), getattr(hub, "models_page_size", MAX_PAGE), MAX_PAGE)
    start = int(request.arg("cursor") or 0)
    page = found[start:start + page_size]
    headers = {}
    if start + page_size < len(found):
        query = [(k, v) for k, values in request.query.items() if k != "cursor" for v in values]
        headers["link"] = f'<{hub.url}/api/models?{urlencode(query + [("cursor", start + page_size)])}>; rel="next"'
    expand = _expand_arg(request)
    return Response(200, [_expanded(m, expand, DEFAULT_LIST_FIELDS) for m in page], headers)


@route("GET", r"^/api/models/(?P<repo_id>[^/]+(?:/[^/]+)?)$")
def model_info(hub, request, match) -> Response:
    if refused := _token_refused(hub, request):
        return refused
    wanted = match["repo_id"].lower()
    model = next((m for m in models(hub) if m["id"].lower() == wanted), None)
    if model is None:
        return Response(404, {"error": "Repository not found"},
                        {"x-error-code": "RepoNotFound", "x-error-message": "Repository not found"})
    model = {**model, **model_extra(hub).get(model["id"], {})}
    if isinstance(model.get("inferenceProviderMapping"), list):  # model_info answers a dict keyed by provider
        model["inferenceProviderMapping"] = {m["provider"]: {k: v for k, v in m.items() if k != "provider"}
                                             for m in model["inferenceProviderMapping"]}
    return Response(200, _expanded(model, _expand_arg(request), None))
