"""Cache manager: lists the Hugging Face cache and converted copies; deletes after confirmation; refuses a
model loaded in memory."""

from __future__ import annotations

import os
import time

import pytest

from hfdash.cache import CONVERTED, HUB, delete_cached, list_cached
from hfdash.errors import BadParameters
from hfdash.safefile import TEMP_PREFIX
from hfdash.units import human_bytes
from tests.support.hf_cache import add_cached_model
from tests.support.tokens import page_text, settings_app


@pytest.fixture
def filled_cache(isolated_home, tmp_path, monkeypatch):
    """Two models in the HF cache under the test's HF_HOME and one converted copy in a private dashboard cache."""
    monkeypatch.setenv("HFDASH_CACHE_DIR", str(tmp_path / "dash_cache"))
    week_ago = time.time() - 7 * 86400
    add_cached_model(isolated_home / "hub", "acme/big", {"config.json": b"{}", "model.safetensors": b"x" * 3000},
                     accessed=week_ago)
    add_cached_model(isolated_home / "hub", "acme/small", {"model.safetensors": b"y" * 1000})
    converted = tmp_path / "dash_cache" / "converted" / "Tiny.Q4_0-0123abcd"
    converted.mkdir(parents=True)
    (converted / "model.safetensors").write_bytes(b"z" * 2000)
    return {"big": f"{HUB}:acme/big", "small": f"{HUB}:acme/small", "converted": f"{CONVERTED}:Tiny.Q4_0-0123abcd",
            "converted_path": converted, "hub": isolated_home / "hub"}


def test_cache_manager_lists_models_with_size_and_last_use(filled_cache):
    app = settings_app()
    table = app.dataframe[0].value
    assert list(table["Model"]) == ["acme/big", "Tiny.Q4_0-0123abcd", "acme/small"]  # biggest first
    assert list(table["Where"]) == [HUB, CONVERTED, HUB]
    assert list(table["Size on disk"]) == [human_bytes(3002), human_bytes(2000), human_bytes(1000)]
    week_ago = time.strftime("%Y-%m-%d", time.localtime(time.time() - 7 * 86400))
    assert table["Last used"][0].startswith(week_ago)
    assert "3 model(s)" in page_text(app)


def test_last_used_counts_a_write_when_access_times_are_not_kept(filled_cache):
    # A relatime/noatime mount: the file was written an hour ago but its access time is a month old.
    hour_ago, month_ago = time.time() - 3600, time.time() - 30 * 86400
    os.utime(filled_cache["converted_path"] / "model.safetensors", (month_ago, hour_ago))
    table = settings_app().dataframe[0].value
    shown = dict(zip(table["Model"], table["Last used"], strict=True))
    assert shown["Tiny.Q4_0-0123abcd"] == time.strftime("%Y-%m-%d %H:%M", time.localtime(hour_ago))
    assert set(table["In use"]) == {""}  # nothing loaded, none of them the embedded model


def test_a_conversion_still_being_staged_is_not_listed_as_a_model(filled_cache):
    staging = filled_cache["converted_path"].parent / f"{TEMP_PREFIX}4242-feedbeef"
    staging.mkdir()
    (staging / "model.safetensors").write_bytes(b"w" * 5000)
    assert [m.model_id for m in list_cached()] == ["acme/big", "Tiny.Q4_0-0123abcd", "acme/small"]


def test_cache_delete_asks_for_confirmation_then_reports_total_freed(filled_cache):
    app = settings_app()
    chosen = [filled_cache["big"], filled_cache["converted"]]
    app = app.multiselect(key="settings_cache_selection").set_value(chosen).run()
    app = app.button(key="settings_cache_delete").click().run()
    assert "Delete 2 model(s)" in "\n".join(w.value for w in app.warning)
    assert filled_cache["converted_path"].exists()  # nothing deleted before the confirmation
    app = app.button(key="settings_cache_confirm").click().run()
    assert f"Deleted 2 model(s); freed {human_bytes(5002)}" in page_text(app)
    assert not filled_cache["converted_path"].exists()
    assert not (filled_cache["hub"] / "models--acme--big").exists()
    assert [m.model_id for m in list_cached()] == ["acme/small"]
    assert list(app.dataframe[0].value["Model"]) == ["acme/small"]


def test_cache_delete_cancelled_keeps_everything(filled_cache):
    app = settings_app()
    app = app.multiselect(key="settings_cache_selection").set_value([filled_cache["small"]]).run()
    app = app.button(key="settings_cache_delete").click().run()
    app = app.button(key="settings_cache_cancel").click().run()
    assert not app.warning and len(list_cached()) == 3


def test_cache_delete_of_unknown_entry_deletes_nothing(filled_cache):
    with pytest.raises(BadParameters, match="Nothing was deleted"):
        delete_cached([filled_cache["small"], f"{HUB}:acme/gone"])
    assert len(list_cached()) == 3


def test_cache_empty_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("HFDASH_CACHE_DIR", str(tmp_path / "empty"))
    assert "No models are cached" in page_text(settings_app())


@pytest.mark.slow
def test_cache_refuses_to_delete_a_model_loaded_in_memory():
    """The real embedded model, loaded by the local backend (converted into the session's shared cache)."""
    from hfdash.inference.base import BackendSpec
    from hfdash.inference.local import load_model

    loaded = load_model(BackendSpec("local"), token=None)
    app = settings_app()
    copies = [o for o in app.multiselect(key="settings_cache_selection").options if "SmolLM2" in o]
    assert copies, "the converted copy of the loaded model is listed"
    key = next(m.key for m in list_cached() if m.model_id in loaded.cache_names)
    app = app.multiselect(key="settings_cache_selection").set_value([key]).run()
    app = app.button(key="settings_cache_delete").click().run()
    app = app.button(key="settings_cache_confirm").click().run()
    errors = "\n".join(e.value for e in app.error)
    assert "is loaded in memory" in errors and "nothing was deleted" in errors
    table = app.dataframe[0].value
    row = table[table["Model"].isin(loaded.cache_names)].iloc[0]
    assert row["In use"] == "loaded in memory, the embedded model" and row["Last used"] == "now"
    assert any(m.key == key for m in list_cached())
