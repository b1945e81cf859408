"""The loopback Hub against the Hub's own recorded traffic (tests/data/recorded/, README there).

Every recorded Hub exchange is replayed, raw, against one loopback Hub that holds the repos, accounts
and states the recordings name (`recorded_world`): a gated repo, a renamed one, a legacy alias, a
disabled one, a GGUF repo... Each test compares what the recording pins down: the status, the headers
clients act on (X-Error-Code, X-Error-Message, Location, Link, RateLimit, Content-Type), the body's
shape (field names and JSON types; a projection or a fixture may name fewer fields than the Hub sends)
and, for live-test recordings, every fact the test asserted (`ASSERTED`: an assertion without a check
here fails). The router and legacy inference-host exchanges are not the Hub's API: tests/test_hub_contract_router.py
replays them into the hosted backend.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.hub_auth import user_record
from tests.support.hub_models import add_model, aliases, find, renamed
from tests.support.hub_repos import add_repo
from tests.support.tokens import new_token

RECORDED = Path(__file__).parent / "data" / "recorded"
PLACEHOLDERS = {"{namespace}/{missing}": "someone/missing-model", "{disabled_repo}": "someone/disabled-model",
                "{gguf_repo}": "ggml-org/gemma-3-1b-it-GGUF"}
# Fields the Hub sends only for some repos, or only since some date (README, "default body").
OPTIONAL = {"widgetData", "transformersInfo", "safetensors", "inference", "pipeline_tag", "library_name",
            "usedStorage", "isModelAuthor", "adapter", "adapterWeightsPath", "patterns", "securityRestrictions",
            "resourceGroups", "type"}
# Fields the Hub sends as null when unset (a repo without evaluation results).
NULLABLE = {"model-index"}
# Fields another recording proves that a documented shape leaves out (huggingface.js's live listing test).
UNDOCUMENTED = {"hfModelId"}
# Objects whose keys are data (provider names, dtypes, card fields), not field names.
KEYED_BY_DATA = {"inferenceProviderMapping", "parameters", "cardData", "tokenizer_config", "diffusers", "widgetData",
                 "transformersInfo"}
# Bodies that show only some of the fields the Hub sends.
PARTIAL_BODIES = {"json-projection", "json-fixture"}
# Recordings of an error text the Hub has reworded since; the first sentence still holds.
REWORDED = {"gated__api_revision__anonymous__401_GatedRepo"}


def _exchanges():
    found = []
    for path in sorted(RECORDED.glob("*.json")):
        found.append((path.stem, json.loads(path.read_text())))
    for path in sorted(RECORDED.glob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found.append((f"{path.stem}-{number:02d}", json.loads(line)))
    return [pytest.param(name, record, id=name) for name, record in found
            if record["request"]["url"].startswith("{HUB}")]


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _mapping_entries(item: dict) -> list[dict]:
    mapping = item.get("inferenceProviderMapping") or []
    return [{"provider": k, **v} for k, v in mapping.items()] if isinstance(mapping, dict) else mapping


# Each fact a live test asserted about the Hub's answer, as a check on the replayed body.
ASSERTED = {
    "len(items) > 100 (client follows Link pages, stops at 500)": lambda b: 100 < len(b) <= 500,
    "len(items) > 10": lambda b: len(b) > 10,
    'every id starts with "google/"': lambda b: all(i["id"].startswith("google/") for i in b),
    "len(items) > 1": lambda b: len(b) > 1,
    "every item has a sibling whose rfilename ends with .gguf":
        lambda b: all(any(s["rfilename"].endswith(".gguf") for s in i["siblings"]) for i in b),
    'first 10 ids contain "bert" (case-insensitive)': lambda b: all("bert" in i["id"].lower() for i in b[:10]),
    "exactly 5 items": lambda b: len(b) == 5,
    "1 < len(items) <= 10": lambda b: 1 < len(b) <= 10,
    'first item has BOTH "bert" and "jax" in tags': lambda b: {"bert", "jax"} <= set(b[0]["tags"]),
    "10 items": lambda b: len(b) == 10,
    "every item has trendingScore": lambda b: all("trendingScore" in i for i in b),
    "every item has createdAt": lambda b: all("createdAt" in i for i in b),
    "every item has downloads": lambda b: all("downloads" in i for i in b),
    "every item has likes": lambda b: all("likes" in i for i in b),
    "every item has config": lambda b: b and all("config" in i for i in b),
    "no item has config": lambda b: b and not any("config" in i for i in b),
    "author and id present": lambda b: b and all("author" in i and "id" in i for i in b),
    "downloads, createdAt, lastModified ABSENT":
        lambda b: not any(k in i for i in _items(b) for k in ("downloads", "createdAt", "lastModified")),
    "author and downloadsAllTime present": lambda b: b and all("author" in i and "downloadsAllTime" in i for i in b),
    "downloads ABSENT": lambda b: not any("downloads" in i for i in b),
    "HTTP 400": lambda b: True,  # the status itself is compared for every exchange
    'every item gated in ("auto", "manual")': lambda b: b and all(i["gated"] in ("auto", "manual") for i in b),
    "every item gated is false": lambda b: b and all(i["gated"] is False for i in b),
    ">=1 item": lambda b: len(b) >= 1,
    "inferenceProviderMapping non-empty; each entry has provider, providerId":
        lambda b: all(_mapping_entries(i) and all("provider" in m and "providerId" in m for m in _mapping_entries(i))
                      for i in b),
    ">0 items": lambda b: len(b) > 0,
    'each item has a mapping entry with provider == "hf-inference"':
        lambda b: all(any(m["provider"] == "hf-inference" for m in _mapping_entries(i)) for i in b),
    "2 items": lambda b: len(b) == 2,
    'tags include "gguf" AND "id"': lambda b: all({"gguf", "id"} <= set(i["tags"]) for i in b),
    'every id contains "t5"': lambda b: all("t5" in i["id"].lower() for i in b),
    'if inferenceProviderMapping is an array, its providers include "together"':
        lambda b: all(any(m["provider"] == "together" for m in _mapping_entries(i)) for i in b
                      if isinstance(i.get("inferenceProviderMapping"), list)),
    "each mapping has >=1 entry whose provider is together or replicate":
        lambda b: all(any(m["provider"] in ("together", "replicate") for m in _mapping_entries(i)) for i in b),
    "1 item": lambda b: len(b) == 1,
    "inferenceProviderMapping is a non-empty array":
        lambda b: all(isinstance(i["inferenceProviderMapping"], list) and i["inferenceProviderMapping"] for i in b),
    "each entry has non-empty string provider, hfModelId, providerId":
        lambda b: all(all(isinstance(m.get(k), str) and m[k] for k in ("provider", "hfModelId", "providerId"))
                      for i in b for m in i["inferenceProviderMapping"]),
    'tags include "mlx"': lambda b: all("mlx" in i["tags"] for i in b),
    "only huggingfacejs/test-model": lambda b: [i["id"] for i in b] == ["huggingfacejs/test-model"],
    "siblings rfilenames include .gitattributes and README.md":
        lambda b: {".gitattributes", "README.md"} <= {s["rfilename"] for s in b[0]["siblings"]},
    "createdAt == 2022-03-02T23:29:05Z": lambda b: _when(b["createdAt"]) == _when("2022-03-02T23:29:05Z"),
    "sha != f2c752cfc5c0ab6f4bdec59acea69eefbee381c2 (not the pinned commit)":
        lambda b: b["sha"] != "f2c752cfc5c0ab6f4bdec59acea69eefbee381c2",
    "sha == f2c752cfc5c0ab6f4bdec59acea69eefbee381c2": lambda b: b["sha"] == "f2c752cfc5c0ab6f4bdec59acea69eefbee381c2",
    "securityRepoStatus.scansDone is a bool": lambda b: isinstance(b["securityRepoStatus"]["scansDone"], bool),
    '"filesWithIssues" in securityRepoStatus': lambda b: "filesWithIssues" in b["securityRepoStatus"],
    "siblings carry size/blobId (and lfs for LFS files)":
        lambda b: all("size" in s and "blobId" in s for s in b["siblings"])
        and any("lfs" in s for s in b["siblings"]),
    "widgetData present in the default body": lambda b: "widgetData" in b,
    'author == "HuggingFaceH4"': lambda b: b["author"] == "HuggingFaceH4",
    "author present": lambda b: "author" in b,
    "downloadsAllTime present": lambda b: "downloadsAllTime" in b,
    "mapping non-empty; every entry has provider, provider_id; hf_model_id == repo id":
        lambda b: _mapping_entries(b) and all("providerId" in m for m in _mapping_entries(b)),
    '_id == "621ffdc036468d709f17434d"': lambda b: b["_id"] == "621ffdc036468d709f17434d",
    'id == "openai-community/gpt2"': lambda b: b["id"] == "openai-community/gpt2",
    "gated === false": lambda b: b["gated"] is False,
    "private === false": lambda b: b["private"] is False,
    'pipeline_tag == "text-generation"': lambda b: b["pipeline_tag"] == "text-generation",
    "downloads, likes are numbers": lambda b: all(type(b[k]) in (int, float) for k in ("downloads", "likes")),
    "lastModified parses as a date": lambda b: _when(b["lastModified"]) is not None,
    'author == "openai-community"': lambda b: b["author"] == "openai-community",
    'sha == "f27b190eeac4c2302d24068eabf5e9d6044389ae"':
        lambda b: b["sha"] == "f27b190eeac4c2302d24068eabf5e9d6044389ae",
    "mapping (normalised to array) non-empty": lambda b: bool(_mapping_entries(b)),
    'each entry has provider, providerId; hfModelId == "deepseek-ai/DeepSeek-R1-0528"':
        lambda b: all("providerId" in m for m in _mapping_entries(b)) and b["id"] == "deepseek-ai/DeepSeek-R1-0528",
}


def _items(body) -> list:
    return body if isinstance(body, list) else [body]


def _live(provider: str, task: str = "conversational", provider_id: str | None = None) -> dict:
    return {"provider": provider, "providerId": provider_id or "provider-model-id", "status": "live", "task": task}


def recorded_world(hub) -> dict[str, str]:
    """The repos and accounts the recordings name, with the facts they state. Returns tokens by role."""
    tokens = {"user": new_token(), "writer": new_token(), "oauth": new_token(), "scoped": new_token()}
    hub.users[tokens["user"]] = user_record("hub-user", orgs=("example-org",))
    hub.users[tokens["writer"]] = user_record("hub.js", role="write", token_name="ci-hub.js")
    hub.users[tokens["oauth"]] = user_record("alice", role="oauth")
    hub.users[tokens["scoped"]] = user_record("alice-scoped", orgs=("example-org",),
                                              permissions=("repo.content.read", "inference.serverless.write"))
    gpt2 = find(hub, "openai-community/gpt2")
    gpt2.update({"_id": "621ffdc036468d709f17434d", "_commits": ("f27b190eeac4c2302d24068eabf5e9d6044389ae",),
                 "library_name": "transformers", "inference": "warm"})
    aliases(hub)["gpt2"] = "openai-community/gpt2"
    renamed(hub).update({"bert-base-uncased": "google-bert/bert-base-uncased",
                         "meta-llama/Meta-Llama-3.1-8B-Instruct": "meta-llama/Llama-3.1-8B-Instruct"})
    find(hub, "meta-llama/Llama-3.1-8B-Instruct").update({"gated": "manual", "trendingScore": 100,
                                                          "inferenceProviderMapping": [
        _live("deepinfra", provider_id="meta-llama/Meta-Llama-3.1-8B-Instruct"), _live("novita")]})
    for repo_id in ("google/gemma-2-2b-it", "google/gemma-3-4b-pt", "mistralai/Mistral-7B-Instruct-v0.2"):
        add_repo(hub, repo_id, {".gitattributes": b"*.safetensors filter=lfs\n", "config.json": b"{}"}, gated=True)
    find(hub, "HuggingFaceH4/zephyr-7b-beta").update({"widgetData": [{"text": "Hi"}], "downloadsAllTime": 9_000_000})
    find(hub, "Qwen/Qwen2.5-72B-Instruct")["inferenceProviderMapping"] = [
        {**_live("featherless-ai"), "status": "error"}, _live("novita")]
    find(hub, "google/gemma-3-27b-it").update({"inference": "warm", "inferenceProviderMapping": [_live("scaleway")]})
    add_model(hub, {"id": "someone/disabled-model", "disabled": True})
    add_model(hub, {"id": "stabilityai/stable-diffusion-2-1", "pipeline_tag": "text-to-image",
                    "library_name": "diffusers", "tags": ["diffusers", "text-to-image"],
                    "config": {"diffusers": {"_class_name": "StableDiffusionPipeline"}},
                    "cardData": {"license": "openrail++"}, "siblings": [{"rfilename": "model_index.json"}],
                    "usedStorage": 1, "inference": "warm"})
    add_model(hub, {"id": "black-forest-labs/FLUX.1-dev", "pipeline_tag": "text-to-image", "gated": "auto",
                    "inferenceProviderMapping": [_live("fal-ai", "text-to-image"),
                                                 _live("replicate", "text-to-image")]})
    add_model(hub, {"id": "deepseek-ai/DeepSeek-R1-0528", "pipeline_tag": "text-generation", "trendingScore": 10**6,
                    "inferenceProviderMapping": [_live("novita"), _live("hf-inference")]})
    for repo_id, provider, task in [
            ("deepseek-ai/DeepSeek-V3-0324", "fireworks-ai", "text-generation"),
            ("Qwen/QwQ-32B", "fireworks-ai", "text-generation"),
            ("Wan-AI/Wan2.1-T2V-14B", "fal-ai", "text-to-video"), ("Lightricks/LTX-Video", "fal-ai", "text-to-video"),
            ("black-forest-labs/FLUX.1-schnell", "fal-ai", "text-to-image"),
            ("Qwen/Qwen2.5-VL-7B-Instruct", "nscale", "image-text-to-text"),
            ("meta-llama/Llama-3.3-70B-Instruct", "together", "text-generation"),
            ("Qwen/Qwen2.5-7B-Instruct", "hf-inference", "text-generation")]:
        stored = find(hub, repo_id) or add_model(hub, {"id": repo_id, "pipeline_tag": task})
        stored["pipeline_tag"] = task
        stored["inferenceProviderMapping"] = [*stored.get("inferenceProviderMapping", []), _live(provider)]
    for repo_id in ("Intel/dpt-large", "Intel/dpt-hybrid-midas"):
        add_model(hub, {"id": repo_id, "pipeline_tag": "depth-estimation", "library_name": "transformers"})
    for n in range(3):
        add_model(hub, {"id": f"someone/bert-jax-{n}", "tags": ["transformers", "jax", "bert"],
                        "config": {"architectures": ["BertModel"], "model_type": "bert", "tokenizer_config": {}}})
        add_model(hub, {"id": f"someone/bert-adapter-{n}", "tags": ["adapter-transformers", "bert"],
                        "config": {"architectures": ["BertModel"], "model_type": "bert", "tokenizer_config": {}}})
    for n in range(5):  # the most trending models, with an all-time download count
        add_model(hub, {"id": f"trending/model-{n}", "trendingScore": 10**7 - n, "downloadsAllTime": 10**6})
    for n in range(12):
        add_model(hub, {"id": f"mlx-community/model-{n}-4bit", "tags": ["mlx", "safetensors"], "library_name": "mlx"})
    for n in range(3):
        add_repo(hub, f"someone/model-{n}-GGUF", {"README.md": b"#", f"model-{n}-Q4_K_M.gguf": 10**9},
                 info={"tags": ["gguf", "id"], "library_name": "gguf"})
    add_repo(hub, PLACEHOLDERS["{gguf_repo}"], {"README.md": b"#", "gemma-3-1b-it-Q4_K_M.gguf": 806_058_272},
             info={"tags": ["gguf"], "gguf": {"total": 999_885_952, "architecture": "gemma3", "context_length": 32768,
                                              "bos_token": "<bos>", "eos_token": "<eos>"}})
    add_repo(hub, "huggingfacejs/test-model", {".gitattributes": b"*", "README.md": b"#"})
    add_repo(hub, "julien-c/dummy-unknown", {"config.json": b"{}", "pytorch_model.bin": 10**6},
             info={"createdAt": "2022-03-02T23:29:05.000Z",
                   "_commits": ("f2c752cfc5c0ab6f4bdec59acea69eefbee381c2",)})
    return tokens


# Which account replays a request that carried a token (`auth` names the recorded one's kind).
def _token_for(name: str, record: dict, tokens: dict[str, str]) -> str | None:
    header = record["request"].get("headers", {}).get("authorization")
    if header is None:
        return None
    auth = record["request"].get("auth", "")
    if "revoked" in auth or "malformed" in auth:
        return new_token()  # one the Hub never issued
    if "OAuth" in auth:
        return tokens["oauth"]
    if "fine_grained" in name:
        return tokens["scoped"]
    if "classic" in name:
        return tokens["writer"]
    return tokens["user"]


def _send(hub, method: str, target: str, token: str | None):
    parts = urlsplit(hub.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    connection.request(method, target, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def _target(url: str) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        url = url.replace(placeholder, value)
    return url.replace("{HUB}", "")


def _all_pages(hub, first_headers: dict, body: list, token: str | None, limit: int | None) -> list:
    """Follow `Link` as clients do, up to `limit` items."""
    items = list(body)
    link = first_headers.get("link")
    while link and (limit is None or len(items) < limit):
        url = re.match(r"<([^>]+)>", link).group(1)
        status, headers, raw = _send(hub, "GET", url.replace(hub.url, ""), token)
        assert status == 200
        items += json.loads(raw)
        link = headers.get("link")
    return items[:limit] if limit else items


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def shape_problems(recorded, served, where: str = "body", *, partial: bool = False) -> list[str]:
    """Where `served` differs from `recorded` in field names or JSON types (a recorded null is a masked value)."""
    if recorded is None or (served is None and where.rsplit(".", 1)[-1] in NULLABLE):
        return []
    if _kind(recorded) != _kind(served):
        return [f"{where}: {_kind(served)} where the Hub sends {_kind(recorded)}"]
    if isinstance(recorded, list):  # an empty list is a value like any other; items are compared when both have some
        return shape_problems(recorded[0], served[0], f"{where}[0]", partial=partial) if recorded and served else []
    if not isinstance(recorded, dict):
        return []
    name = where.rsplit(".", 1)[-1].split("[")[0]
    if name in KEYED_BY_DATA:
        if name != "inferenceProviderMapping" or not recorded or not served:
            return []
        sample = next(iter(recorded.values()))
        return [p for key, value in served.items()
                for p in shape_problems(sample, value, f"{where}.{key}", partial=partial)]
    problems = [f"{where}.{key}: missing" for key in recorded if key not in served and key not in OPTIONAL]
    if not partial:
        problems += [f"{where}.{key}: not sent by the Hub" for key in served if key not in recorded
                     and key not in OPTIONAL]
    for key in recorded.keys() & served.keys():
        problems += shape_problems(recorded[key], served[key], f"{where}.{key}", partial=partial)
    return problems


def documented_problems(shape, served, where: str = "body") -> list[str]:
    """A body known only by its documented shape: no field outside it, and each field of its type
    ("number (parameter count)", "bool? (...)": the first word; "?" marks an optional field)."""
    if isinstance(shape, list):
        return [p for n, item in enumerate(served) for p in documented_problems(shape[0], item, f"{where}[{n}]")]
    if isinstance(shape, dict):
        if not isinstance(served, dict):
            return [f"{where}: {_kind(served)} where the Hub documents an object"]
        return [p for key, value in served.items()
                for p in ([f"{where}.{key}: not in the documented shape"] if key not in shape.keys() | UNDOCUMENTED
                          else documented_problems(shape.get(key, "string"), value, f"{where}.{key}"))]
    word = shape.split()[0].rstrip("?")
    documented = "string" if "|" in word else word.replace("bool", "boolean")
    return [] if _kind(served) == documented else [f"{where}: {_kind(served)} where the Hub documents {documented}"]


def _link_names(link: str) -> list[str]:
    """The parameter names of a Link URL (a recorded one may be cut off after the cursor began)."""
    return [name for name, _ in parse_qsl(urlsplit(re.match(r"<([^>]+)", link).group(1)).query)]


@pytest.mark.parametrize("name, record", _exchanges())
def test_hub_contract(hub, name, record):
    tokens = recorded_world(hub)
    if name == "models_list__pagination_link_header__production_2025-09":
        hub.models_page_size = 1  # the recorded listing ran past its first page
    request, expected = record["request"], record["response"]
    token = _token_for(name, record, tokens)
    status, headers, raw = _send(hub, request["method"], _target(request["url"]), token)

    assert status == expected["status"]
    recorded_headers = expected.get("headers", {})
    for header in ("x-error-code", "location"):
        if header in recorded_headers:
            assert headers.get(header) == recorded_headers[header]
    if "x-error-message" in recorded_headers:
        if name in REWORDED:
            first = recorded_headers["x-error-message"].split(".")[0]
            assert headers["x-error-message"].startswith(first)
        else:
            assert headers.get("x-error-message") == recorded_headers["x-error-message"]
    if "content-type" in recorded_headers:
        assert headers["content-type"].split(";")[0] == recorded_headers["content-type"].split(";")[0]
    if "ratelimit" in recorded_headers:
        assert re.fullmatch(r'"api";r=\d+;t=\d+', headers["ratelimit"])
        assert re.fullmatch(r'"fixed window";"api";q=\d+;w=\d+', headers["ratelimit-policy"])
    if "access-control-expose-headers" in recorded_headers:
        assert {"Link", "X-Error-Code", "X-Error-Message"} <= set(headers["access-control-expose-headers"].split(","))
    if "link" in recorded_headers:
        link = headers["link"]
        assert re.fullmatch(rf'<{re.escape(hub.url)}/api/models\?[^>]+>; rel="next"', link)
        assert _link_names(link) == _link_names(recorded_headers["link"])
        cursor = dict(parse_qsl(urlsplit(link[1:link.index(">")]).query))["cursor"]
        assert "$or" in json.loads(base64.b64decode(cursor))  # a keyset on (sort field, _id), opaque to clients

    body_format = expected.get("body_format")
    if body_format in ("json", "json-reconstructed", "json-fixture", "json-inferred", "json-projection"):
        served = json.loads(raw)
        if expected["body"]:
            assert served, "the Hub answered with items; an empty answer would compare nothing"
        assert shape_problems(expected["body"], served, partial=body_format in PARTIAL_BODIES) == []
    elif body_format == "text":
        assert raw.decode() == expected["body"]
    if "documented_shape" in expected and status == 200:
        served = json.loads(raw)
        assert served and documented_problems(expected["documented_shape"], served) == []
    if expected.get("asserted"):
        served = json.loads(raw) if raw else None
        if request["url"].startswith("{HUB}/api/models?") and status == 200:
            limit = dict(parse_qsl(urlsplit(request["url"]).query)).get("limit")
            served = _all_pages(hub, headers, served, token, int(limit) if limit else None)
        failed = [fact for fact in expected["asserted"] if not ASSERTED[fact](served)]
        assert failed == []
