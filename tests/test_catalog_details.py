"""Model details (card, tags, languages, base model, quantized variants): the real HfApi over HTTP against the
loopback Hub, and the offline snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hfdash.catalog import sources
from hfdash.catalog.details import CARD_NEEDS_HUB, model_details
from hfdash.errors import Unavailable
from tests.support.hub_models import add_model, find
from tests.support.hub_repos import add_repo

RECORDED = Path(__file__).parent / "data" / "recorded"
BASE = "meta-llama/Llama-3.1-8B-Instruct"  # in the snapshot, with GGUF copies listed by its source
RAW_CARD = (b"---\nlicense: mit\nlanguage:\n- en\n- fr\nbase_model: mistralai/Mistral-7B-v0.1\n---\n"
            b"# Card\n\n<img src=x onerror=alert(1)> [site](https://example.com)\n")


def add_quantized_copy(hub, repo_id: str, base: str, *, storage: int, params: int, downloads: int) -> None:
    """A GGUF repo as the Hub lists it: its card's base_model relation is a tag, its size `usedStorage`."""
    add_model(hub, {"id": repo_id, "library_name": "gguf", "downloads": downloads, "usedStorage": storage,
                    "tags": ["gguf", f"base_model:{base}", f"base_model:quantized:{base}", "region:us"],
                    "gguf": {"total": params, "architecture": "llama", "context_length": 131072}})


def test_live_details_come_from_the_card_and_the_hubs_relations(hub):
    add_quantized_copy(hub, "bartowski/Llama-3.1-8B-Instruct-GGUF", BASE, storage=94_000_000_000,
                       params=8_030_261_248, downloads=90_000)
    add_quantized_copy(hub, "unsloth/Llama-3.1-8B-Instruct-GGUF", BASE, storage=70_000_000_000,
                       params=8_030_261_248, downloads=120_000)
    details = model_details(BASE, source="hub")
    assert details.source == "hub" and details.record.id == BASE
    assert details.card_text is not None and details.card_text.startswith(f"# {BASE}")  # metadata block removed
    assert "license:llama3.1" in details.tags
    assert [(v.id, v.storage_bytes, v.params, v.formats) for v in details.quantized] == [
        ("unsloth/Llama-3.1-8B-Instruct-GGUF", 70_000_000_000, 8_030_261_248, ("gguf",)),
        ("bartowski/Llama-3.1-8B-Instruct-GGUF", 94_000_000_000, 8_030_261_248, ("gguf",))]  # most downloaded first
    listing = [r for r in hub.requests if r.path == "/api/models" and r.arg("limit") != "1"][-1]
    assert listing.query["filter"] == [f"base_model:quantized:{BASE}"]
    assert {"gguf", "usedStorage"} <= set(listing.query.get("expand", []) + listing.query.get("expand[]", []))
    assert [r.path for r in hub.requests if "/resolve/" in r.path][-1] == f"/{BASE}/resolve/main/README.md"


def test_the_card_is_returned_raw_and_read_from_the_cache_the_second_time(hub):
    add_repo(hub, "acme/raw-card", {"README.md": RAW_CARD},
             info={"cardData": {"license": "mit", "language": ["en", "fr"],
                                "base_model": "mistralai/Mistral-7B-v0.1"},
                   "tags": ["transformers", "en", "fr", "license:mit", "base_model:mistralai/Mistral-7B-v0.1"]})
    first = model_details("acme/raw-card", source="hub")
    assert first.card_text == RAW_CARD.decode().split("---\n", 2)[2]  # unescaped: the page renders it safely
    assert first.languages == ("en", "fr") and first.base_models == ("mistralai/Mistral-7B-v0.1",)
    assert first.quantized == ()  # the Hub lists none: known to have none
    downloads = [r for r in hub.requests if r.method == "GET" and r.path.endswith("/README.md")]
    second = model_details("acme/raw-card", source="hub")
    assert second.card_text == first.card_text
    assert [r for r in hub.requests if r.method == "GET" and r.path.endswith("/README.md")] == downloads


def test_the_recorded_zephyr_card_data_gives_its_languages_and_base_model(hub):
    recorded = json.loads((RECORDED / "model_info__HuggingFaceH4_zephyr-7b-beta__default__2024-03.json").read_text())
    body = recorded["response"]["body"]
    add_model(hub, {k: v for k, v in body.items() if k != "siblings"})
    details = model_details("HuggingFaceH4/zephyr-7b-beta", source="hub")
    assert details.languages == ("en",) and details.base_models == ("mistralai/Mistral-7B-v0.1",)
    assert details.tags == tuple(body["tags"])
    assert details.card_text is None and "no model card" in details.card_note  # the recording has no README


def test_a_card_that_does_not_come_in_time_is_a_note_not_a_failure(hub, monkeypatch):
    find(hub, BASE)  # the loopback Hub builds its repos on first use: not part of the timed answer
    monkeypatch.setenv("HFDASH_HUB_TIMEOUT", "0.5")
    hub.hang(r"/resolve/main/README\.md$", 2.0, times=3)
    details = model_details(BASE, source="hub")
    assert details.card_text is None and "could not be read" in details.card_note
    assert details.record.id == BASE


def test_offline_details_say_the_card_needs_the_hub_and_list_the_snapshots_gguf_copies():
    details = model_details("OpenPipe/Llama-3.1-8B-Instruct", source="snapshot")
    assert details.source == "snapshot" and details.card_text is None and details.card_note == CARD_NEEDS_HUB
    (copy,) = details.quantized
    assert copy.id == "unsloth/Llama-3.1-8B-Instruct-GGUF" and copy.formats == ("gguf",)
    assert copy.params == 6_430_916_608 and copy.storage_bytes is None  # the copy's own record; no sizes offline
    assert details.base_models is None and details.tags is None  # unknown offline, not "none"


def test_details_follow_the_source_policy_over_a_stopped_hub(hub, monkeypatch):
    hub.stop()
    with pytest.raises(Unavailable, match="could not connect"):
        model_details(BASE, source="hub")
    monkeypatch.setattr(sources, "RECHECK_HUB_AFTER_S", 0.0)  # auto asks the Hub itself
    details = model_details(BASE, source="auto")
    assert details.source == "snapshot" and "could not connect" in details.notices[0]
    assert details.card_note == CARD_NEEDS_HUB
