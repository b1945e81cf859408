"""The live source: the real HfApi over HTTP against the loopback Hub (seeded with the snapshot's real records)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from huggingface_hub import HfApi

from hfdash import catalog
from hfdash.catalog import hub as live
from hfdash.catalog import sources
from hfdash.catalog.records import ModelQuery, Sort
from hfdash.errors import InvalidToken, NotFound, RateLimited, Timeout, Unavailable
from tests.support.hub_auth import user_record

TODAY = dt.date(2026, 10, 5)

# Queries whose filters and sorts both sources can serve.
SHARED_QUERIES = [
    ModelQuery(text="qwen", task="text-generation", min_params=1_000_000_000, max_params=8_000_000_000,
               sort=Sort.LIKES, limit=10),
    ModelQuery(provider="any", sort=Sort.DOWNLOADS, limit=30),
    ModelQuery(provider="together", min_likes=100, sort=Sort.CREATED, limit=10),
    ModelQuery(text="llama", min_downloads=10_000, created_after=dt.date(2025, 1, 1), sort=Sort.DOWNLOADS, limit=15),
    ModelQuery(task="text-to-speech", created_within_days=120, sort=Sort.LIKES, limit=5),
    ModelQuery(max_params=200_000_000, min_likes=300, sort=Sort.LIKES, limit=50),
    ModelQuery(text="Llama 3.1", max_params=8_000_000_000, sort=Sort.LIKES, limit=10),  # spaces fold; 8B keeps 8.03B
    ModelQuery(text="qwen2_5", licenses=("apache-2.0",), sort=Sort.DOWNLOADS, limit=10),
    ModelQuery(licenses=("mit", "llama3.1"), min_likes=200, sort=Sort.LIKES, limit=10),
]


@pytest.mark.parametrize("query", SHARED_QUERIES, ids=lambda q: f"sort={q.sort.value}")
def test_both_sources_give_the_same_ids(hub, query):
    from_hub = catalog.search(query, source="hub", today=TODAY)
    from_snapshot = catalog.search(query, source="snapshot", today=TODAY)
    assert from_hub.source == "hub" and from_snapshot.source == "snapshot"
    assert from_snapshot.records, "a comparison of two empty lists proves nothing"
    assert [r.id for r in from_hub.records] == [r.id for r in from_snapshot.records]
    assert from_hub.snapshot_date == dt.date(2026, 10, 5)  # the page shows it whichever source answered


def test_server_side_filters_travel_as_hub_query_parameters(hub):
    catalog.search(ModelQuery(text="qwen", task="text-generation", library="transformers", min_params=135_000_000,
                              max_params=7_000_000_000, provider="any", gated=False, sort=Sort.TRENDING, limit=3),
                   source="hub", today=TODAY)
    listing = [r for r in hub.requests if r.path == "/api/models" and r.arg("limit") != "1"][-1]
    assert listing.arg("search") == "qwen" and listing.arg("pipeline_tag") == "text-generation"
    assert listing.arg("filter") == "transformers" and listing.arg("num_parameters") == "min:134500000,max:7049999999"
    assert listing.arg("inference_provider") == "all" and listing.arg("gated").lower() == "false"
    assert listing.arg("sort") == "trendingScore" and listing.arg("limit") == "3"
    expanded = listing.query.get("expand", []) + listing.query.get("expand[]", [])
    assert {"downloads", "likes", "createdAt", "safetensors", "inferenceProviderMapping", "gated"} <= set(expanded)


def test_text_licence_and_size_travel_as_the_hub_understands_them(hub):
    result = catalog.search(ModelQuery(text="Llama 3.1", licenses=("llama3.1",), max_params=8_000_000_000, limit=5),
                            source="hub", today=TODAY)
    listing = [r for r in hub.requests if r.path == "/api/models" and r.arg("limit") != "1"][-1]
    assert listing.arg("search") == "Llama"  # the Hub's search is a plain substring: one word, folded text checked
    assert listing.query["filter"] == ["license:llama3.1"]  # a licence is a tag to the Hub
    assert listing.arg("num_parameters") == "max:8049999999"
    assert "meta-llama/Llama-3.1-8B-Instruct" in [r.id for r in result.records]  # 8.03B reads 8.0B
    assert all(r.license == "llama3.1" and "llama-3-1" in r.id.lower().replace(".", "-") for r in result.records)
    catalog.search(ModelQuery(licenses=("mit", "apache-2.0"), limit=3), source="hub", today=TODAY)
    listing = [r for r in hub.requests if r.path == "/api/models" and r.arg("limit") != "1"][-1]
    assert "filter" not in listing.query  # tags are ANDed by the Hub: several licences are checked here


def test_client_side_filters_follow_link_pages_and_stop_at_limit(hub):
    hub.models_page_size = 200
    query = ModelQuery(min_likes=500, sort=Sort.CREATED, limit=12)  # the 12th match is the ~1,460th newest
    result = catalog.search(query, source="hub", today=TODAY)
    pages = [r for r in hub.requests if r.path == "/api/models" and r.arg("limit") != "1"]
    assert len(pages) >= 2 and pages[1].arg("cursor")  # followed the Link header's opaque cursor
    assert len(result.records) == 12 and all(r.likes >= 500 for r in result.records)
    assert [r.id for r in result.records] == [r.id for r in catalog.search(query, source="snapshot").records]
    assert len(pages) == 8  # stopped at the page holding the 12th match instead of reading all 85


def test_page_cap_is_stated(hub, monkeypatch):
    monkeypatch.setattr(live, "SCAN_CAP", 100)
    result = catalog.search(ModelQuery(min_likes=5000, sort=Sort.CREATED, limit=20), source="hub", today=TODAY)
    assert len(result.records) < 20
    assert any("checked the first 100 models" in n for n in result.notices)


def test_live_records_carry_hub_only_facts(hub):
    hub.models = [{
        "_id": "6698d8a0653e4babe21e1e7d", "id": "acme/Live-1B", "modelId": "acme/Live-1B", "author": "acme",
        "pipeline_tag": "text-generation", "library_name": "transformers", "likes": 3, "downloads": 40,
        "createdAt": "2026-01-02T10:00:00.000Z", "lastModified": "2026-03-04T10:00:00.000Z", "trendingScore": 12.5,
        "gated": "manual", "private": False, "tags": ["transformers", "text-generation", "license:apache-2.0"],
        "safetensors": {"parameters": {"BF16": 1_200_000_000}, "total": 1_200_000_000},
        "inferenceProviderMapping": [{"provider": "together", "providerId": "acme/Live-1B", "status": "live",
                                      "task": "conversational"}]}]
    result = catalog.search(ModelQuery(updated_after=dt.date(2026, 3, 1), gated=True, library="transformers",
                                       sort=Sort.TRENDING), source="hub", today=TODAY)
    assert result.notices == [
        "The Hub matches the library as a tag: models tagged 'transformers' are included even when their main "
        "library (the Library column) is another.",
        "Of the models the Hub returned for the other filters (1), 1 also match last-updated date."]
    (record,) = result.records
    assert (record.last_modified, record.trending, record.gated, record.library) == (dt.date(2026, 3, 4), 12.5,
                                                                                      True, "transformers")
    assert record.providers == ("together",) and record.offers[0].source == "hub"
    assert record.license == "apache-2.0" and record.dtype_params == {"BF16": 1_200_000_000}


def test_only_expanded_fields_come_back(hub):
    (info,) = HfApi(endpoint=hub.url).list_models(search="Qwen2.5-7B-Instruct", expand=["likes"], limit=1,
                                                  token=False)
    assert info.likes is not None and info.downloads is None and info.safetensors is None


def test_get_model_reads_model_info_with_its_trimmed_config(hub):
    record = catalog.get_model("qwen/qwen2.5-7b-instruct", source="hub")
    assert record.id == "Qwen/Qwen2.5-7B-Instruct" and record.params == 7_615_616_512
    # model_info's config says what kind of model it is, never its sizes (those are in config.json).
    assert record.config.architecture == "qwen2" and record.config.num_key_value_heads is None
    assert set(record.providers) >= {"deepinfra", "together"}
    with pytest.raises(NotFound):
        catalog.get_model("nobody/nothing", source="hub")
    with pytest.raises(NotFound):  # the Hub said so: auto must not answer from the snapshot instead
        catalog.get_model("nobody/nothing")


def test_token_is_sent_only_when_given(hub, monkeypatch):
    hub.users["hf_given"] = user_record("someone")
    monkeypatch.setenv("HF_TOKEN", "hf_ambient_should_not_be_read")
    catalog.search(ModelQuery(limit=1), source="hub")
    catalog.search(ModelQuery(limit=1), source="hub", token="hf_given")
    auths = hub.authorizations(r"^/api/models$")
    half = len(auths) // 2
    assert set(auths[:half]) == {None} and set(auths[half:]) == {"Bearer hf_given"}


@pytest.mark.parametrize("status, error, words", [
    (503, Unavailable, "unavailable"),
    (500, Unavailable, "unavailable"),
])
def test_hub_server_errors_are_typed_and_auto_falls_back(hub, status, error, words):
    hub.fail(r"^/api/models$", status)  # FAKE: a real Hub fails on no one's schedule
    with pytest.raises(error) as caught:
        catalog.search(ModelQuery(limit=3), source="hub")
    assert words in caught.value.user_message()
    hub.fail(r"^/api/models$", status)
    result = catalog.search(ModelQuery(limit=3))
    assert result.source == "snapshot" and len(result.records) == 3
    assert "offline snapshot" in result.notices[0] and words in result.notices[0]


def test_rate_limit_says_when_to_retry_from_the_hubs_ratelimit_header(hub):
    hub.rate_quota, hub.rate_window_s = 0, 60  # the window's quota is spent: the Hub answers 429, r=0
    with pytest.raises(RateLimited) as caught:
        catalog.search(ModelQuery(limit=3), source="hub")
    assert 55 <= caught.value.retry_after <= 60 and "Retry in" in caught.value.user_message()
    result = catalog.search(ModelQuery(limit=3))
    assert result.source == "snapshot" and "rate limited" in result.notices[0]


def test_a_search_says_when_the_hubs_request_quota_is_nearly_spent(hub):
    from huggingface_hub.utils import get_session

    hub.rate_quota = 10
    assert catalog.search(ModelQuery(limit=1), source="hub").notices == []
    for _ in range(hub.rate_quota):  # other calls spend the window's quota down to 2 left
        answer = get_session().get(f"{hub.url}/api/models", params={"limit": 1})
        if answer.headers["ratelimit"].startswith('"api";r=2;'):
            break
    result = catalog.search(ModelQuery(limit=1), source="hub")  # its first request leaves 1 of 10
    assert result.source == "hub" and len(result.records) == 1
    assert result.notices[0].startswith("The Hub allows 1 more API requests in its current window (of 10)")


def test_invalid_token_is_refused_by_the_hub(hub):
    hub.users["hf_valid"] = user_record("someone")
    with pytest.raises(InvalidToken):
        catalog.search(ModelQuery(limit=1), source="hub", token="hf_wrong")
    assert catalog.search(ModelQuery(limit=1), source="hub", token="hf_valid").source == "hub"


def test_a_hub_that_hangs_times_out_and_auto_falls_back(hub, monkeypatch):
    monkeypatch.setenv("HFDASH_HUB_TIMEOUT", "0.5")
    hub.hang(r"^/api/models$", 2.0)
    with pytest.raises(Timeout):
        catalog.search(ModelQuery(limit=3), source="hub")
    hub.hang(r"^/api/models$", 2.0)
    result = catalog.search(ModelQuery(limit=3))
    assert result.source == "snapshot" and "no answer in time" in result.notices[0]


def test_a_hub_that_is_down_falls_back(hub):
    hub.stop()
    with pytest.raises(Unavailable, match="could not connect"):
        catalog.search(ModelQuery(limit=3), source="hub")
    result = catalog.search(ModelQuery(limit=3))
    assert result.source == "snapshot" and "could not connect" in result.notices[0]
    assert catalog.get_model("Qwen/Qwen2.5-7B-Instruct").id == "Qwen/Qwen2.5-7B-Instruct"  # from the snapshot


def test_offline_mode_never_contacts_the_hub(hub, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    result = catalog.search(ModelQuery(limit=2))
    assert result.source == "snapshot" and "HF_HUB_OFFLINE" in result.notices[0]
    assert not [r for r in hub.requests if r.path.startswith("/api/models")]


def test_an_unreachable_hub_is_not_asked_again_at_once(hub, monkeypatch):
    hub.fail(r"^/api/models$", 503)
    assert catalog.search(ModelQuery(limit=1)).source == "snapshot"
    asked = len(hub.requests)
    again = catalog.search(ModelQuery(limit=1))
    assert again.source == "snapshot" and "unavailable" in again.notices[0]
    assert len(hub.requests) == asked  # answered from the snapshot without waiting for the Hub
    assert catalog.search(ModelQuery(limit=1), source="hub").source == "hub"  # an explicit choice asks
    monkeypatch.setattr(sources, "RECHECK_HUB_AFTER_S", 0.0)
    assert catalog.search(ModelQuery(limit=1)).source == "hub"


def test_one_policy_for_model_facts_too_over_a_stopped_hub(hub, monkeypatch):
    from hfdash.hardware.hubfacts import model_facts

    hub.stop()
    with pytest.raises(Unavailable, match="could not connect"):
        model_facts("Qwen/Qwen2.5-7B-Instruct", source="hub")
    monkeypatch.setattr(sources, "RECHECK_HUB_AFTER_S", 0.0)  # auto asks the Hub itself
    facts = model_facts("Qwen/Qwen2.5-7B-Instruct", source="auto")
    assert facts.source == "snapshot" and "could not connect" in facts.notes[0]
    assert "the live Hub could not be used" in facts.notes[0]


def test_the_hubs_answer_about_a_model_stands_in_auto(hub):
    hub.users["hf_someone"] = user_record("someone")
    with pytest.raises(NotFound):
        catalog.get_model("acme/no-such-model", token="hf_someone")  # not replaced by a snapshot lookup


def test_a_bound_on_the_sorted_field_ends_the_scan_early(hub):
    hub.models_page_size = 200
    query = ModelQuery(min_likes=5000, sort=Sort.LIKES, limit=50)
    result = catalog.search(query, source="hub", today=TODAY)
    pages = [r for r in hub.requests if r.path == "/api/models" and r.arg("limit") != "1"]
    assert len(pages) == 1  # the first page already reaches models under 5,000 likes
    expected = catalog.search(query, source="snapshot")
    assert len(expected.records) < 50 and [r.id for r in result.records] == [r.id for r in expected.records]
    assert result.notices == []


def test_get_model_falls_back_to_the_snapshot_only_when_the_hub_fails(hub):
    hub.fail(r"^/api/models/", 503)
    with pytest.raises(Unavailable):
        catalog.get_model("Qwen/Qwen2.5-7B-Instruct", source="hub")
    hub.fail(r"^/api/models/", 503)
    record = catalog.get_model("Qwen/Qwen2.5-7B-Instruct")
    assert record.offers[0].source == "litellm catalog"  # the snapshot's record, not the Hub's


def test_the_hub_is_asked_again_once_the_pause_is_over(hub, monkeypatch):
    monkeypatch.setattr(sources, "RECHECK_HUB_AFTER_S", 0.5)
    hub.fail(r"^/api/models$", 503)
    assert catalog.search(ModelQuery(limit=1)).source == "snapshot"
    time.sleep(0.3)
    assert catalog.search(ModelQuery(limit=1)).source == "snapshot"  # within the pause: not asked
    time.sleep(0.3)
    assert catalog.search(ModelQuery(limit=1)).source == "hub"  # 0.6 s after the failure: asked again


def test_record_from_model_info_keeps_what_the_hub_said():
    from huggingface_hub.hf_api import ModelInfo

    info = ModelInfo(id="org/m", gated="auto", likes=1, downloads=2, trendingScore=3,
                     createdAt="2026-01-02T10:00:00.000Z", lastModified="2026-02-03T10:00:00.000Z",
                     tags=["transformers", "license:mit"], library_name="transformers",
                     safetensors={"parameters": {"BF16": 10, "F32": 2}, "total": 12},
                     inferenceProviderMapping=[
                         {"provider": "together", "providerId": "org/m-Turbo", "status": "live", "task": "x"},
                         {"provider": "novita", "providerId": "org/m", "status": "staging", "task": "x"}])
    record = live.record_from_model_info(info)
    assert (record.gated, record.likes, record.downloads, record.trending) == (True, 1, 2, 3.0)
    assert (record.created_at, record.last_modified) == (dt.date(2026, 1, 2), dt.date(2026, 2, 3))
    assert (record.license, record.library, record.params) == ("mit", "transformers", 12)
    assert record.providers == ("together",)  # staging is not served to users yet
    assert record.offers[0].provider_model_id == "org/m-Turbo" and record.dtype_params == {"BF16": 10, "F32": 2}
    bare = live.record_from_model_info(ModelInfo(id="org/bare"))
    assert (bare.task, bare.params, bare.likes, bare.providers, bare.gated) == (None, None, None, None, None)
    assert live.record_from_model_info(ModelInfo(id="org/open", gated=False)).gated is False


def test_library_filter_keeps_the_hubs_tag_matches_and_says_so(hub):
    from tests.support.hub_models import add_model

    # A sentence-transformers model tagged `transformers`: the Hub returns it for filter=transformers.
    add_model(hub, {"id": "sentence-transformers/all-MiniLM-L6-v2", "library_name": "sentence-transformers",
                    "pipeline_tag": "sentence-similarity", "likes": 4000, "downloads": 90_000_000,
                    "tags": ["sentence-transformers", "pytorch", "transformers", "bert", "sentence-similarity"]})
    add_model(hub, {"id": "acme/onnx-only", "library_name": "onnx", "tags": ["onnx"], "likes": 10})
    result = catalog.search(ModelQuery(library="transformers", text="MiniLM-L6", limit=5), source="hub", today=TODAY)
    assert [(r.id, r.library) for r in result.records] == [("sentence-transformers/all-MiniLM-L6-v2",
                                                            "sentence-transformers")]
    assert any("matches the library as a tag" in n for n in result.notices)
    listing = [r for r in hub.requests if r.path == "/api/models" and r.arg("limit") != "1"][-1]
    assert listing.query["filter"] == ["transformers"]


def test_gguf_only_repos_pass_the_parameter_filter_with_their_gguf_count(hub):
    from tests.support.hub_models import add_model

    add_model(hub, {"id": "acme/Tiny-GGUF", "library_name": "gguf", "tags": ["gguf"], "likes": 5,
                    "gguf": {"total": 1_235_814_432, "architecture": "llama", "context_length": 131072}})
    result = catalog.search(ModelQuery(text="Tiny-GGUF", min_params=1_000_000_000, max_params=2_000_000_000),
                            source="hub", today=TODAY)
    (record,) = result.records
    assert (record.params, record.config.architecture, record.config.context_length) == (1_235_814_432, "llama",
                                                                                          131072)
