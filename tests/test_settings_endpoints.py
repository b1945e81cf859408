"""Endpoints and defaults: validated, saved per user in the config dir, reset; bad input saves nothing."""

from __future__ import annotations

import json

import pytest

from hfdash.config import Settings, load_settings, read_settings, save_settings, settings_path
from hfdash.errors import BadParameters, HfdashError
from tests.support.tokens import page_text, settings_app


def fill_form(app, **values):
    for key, value in values.items():
        widget = app.text_input(key=f"settings_{key}") if key in ("endpoint", "snapshot") else (
            app.text_area(key=f"settings_{key}") if key == "base_urls" else app.selectbox(key=f"settings_{key}"))
        widget.set_value(value)
    return app.button[[b.label for b in app.button].index("Save settings")].click().run()


def test_settings_form_saves_to_the_config_dir_and_shows_them_after_reload(tmp_path):
    snapshot = tmp_path / "mine.parquet"
    snapshot.write_bytes(b"PAR1")
    app = fill_form(settings_app(), endpoint=" http://127.0.0.1:9/ ", source="snapshot", snapshot=str(snapshot),
                    base_urls="http://127.0.0.1:8000/v1\n\nhttps://api.example.com/v1/\nhttp://127.0.0.1:8000/v1",
                    device="cpu", dtype="bfloat16")
    assert f"Settings saved to {settings_path()}" in page_text(app)
    assert settings_path().parent == tmp_path / "hfdash_config"
    saved = load_settings()
    assert saved == Settings(hub_endpoint="http://127.0.0.1:9", catalog_source="snapshot",
                             snapshot_path=str(snapshot),
                             base_urls=["http://127.0.0.1:8000/v1", "https://api.example.com/v1"],
                             local_device="cpu", local_dtype="bfloat16")
    assert saved.endpoint == "http://127.0.0.1:9"
    fresh = settings_app()
    assert fresh.text_input(key="settings_endpoint").value == "http://127.0.0.1:9"
    assert fresh.selectbox(key="settings_dtype").value == "bfloat16"


def test_settings_bad_urls_and_missing_snapshot_are_named_and_nothing_is_saved(tmp_path):
    save_settings(Settings(local_dtype="float16"))
    before = settings_path().read_text()
    app = fill_form(settings_app(), endpoint="huggingface.co", base_urls="http://ok:1/v1\nftp://x/v1\nnot a url",
                    snapshot=str(tmp_path / "missing.parquet"), dtype="float32")
    errors = [e.value for e in app.error]
    # One message per field (each drawn under its field), and a line saying nothing was saved.
    assert any(e.startswith("Hub endpoint: 'huggingface.co' is not an http(s) URL") for e in errors)
    assert any("'ftp://x/v1' is not an http(s) URL" in e and "'not a url' is not an http(s) URL" in e
               and "Hub endpoint" not in e for e in errors)
    assert any(e.startswith("Snapshot file not found") and "URL" not in e for e in errors)
    assert any("Nothing was saved" in e for e in errors)
    assert settings_path().read_text() == before
    assert app.text_area(key="settings_base_urls").value.startswith("http://ok:1/v1")  # what was typed stays


def test_settings_reset_to_defaults_clears_file_and_form():
    save_settings(Settings(hub_endpoint="http://127.0.0.1:9", local_device="cpu"))
    app = settings_app()
    assert app.selectbox(key="settings_device").value == "cpu"
    app = app.button(key="settings_reset").click().run()
    assert "Settings reset to the defaults" in page_text(app)
    assert not settings_path().exists()
    assert app.selectbox(key="settings_device").value == "auto"
    assert app.text_input(key="settings_endpoint").value == ""


def test_settings_unwritable_config_dir_is_a_clear_message(tmp_path, monkeypatch):
    blocker = tmp_path / "blocked"
    blocker.write_text("a file, not a folder")
    monkeypatch.setenv("HFDASH_CONFIG_DIR", str(blocker / "hfdash"))
    app = fill_form(settings_app(), device="cpu")
    errors = "\n".join(e.value for e in app.error)
    assert "Cannot write the settings file" in errors and "Nothing was saved" in errors
    assert blocker.read_text() == "a file, not a folder"


def test_settings_damaged_file_warns_and_falls_back_to_defaults():
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text("{not json")
    assert load_settings() == Settings()
    with pytest.raises(HfdashError, match="unreadable or damaged"):
        read_settings()
    app = settings_app()
    assert "unreadable or damaged" in "\n".join(e.value for e in app.error)
    assert not app.exception


def test_settings_file_with_invalid_values_is_reported():
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text(json.dumps({"local_device": "tpu", "catalog_source": "hub"}))
    with pytest.raises(HfdashError, match="Local device must be one of"):
        read_settings()
    assert load_settings() == Settings()


def test_settings_save_is_atomic_when_validation_fails():
    with pytest.raises(BadParameters, match="Catalog source"):
        save_settings(Settings(catalog_source="somewhere"))
    assert not settings_path().exists()


@pytest.mark.parametrize("page", ["app.py", "pages/1_Browse.py", "pages/2_Hardware_fit.py", "pages/3_Playground.py"])
def test_a_damaged_settings_file_is_shown_on_every_page(page):
    from streamlit.testing.v1 import AppTest

    from tests.support.tokens import REPO

    settings_path().parent.mkdir(parents=True)
    settings_path().write_text("{not json")
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    if page != "app.py":
        app.switch_page(page)
    app.run()
    banner = "\n".join(e.value for e in app.error)
    assert "Settings file damaged" in banner and "every page uses the defaults" in banner
    assert not app.exception


def test_saving_over_a_damaged_settings_file_asks_first():
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text('{"local_device": "cpu", "catalog_source": "hub", "base_urls": "oops"')
    app = fill_form(settings_app(), dtype="bfloat16")
    assert "Saving replaces it: confirm" in "\n".join(w.value for w in app.warning)
    assert settings_path().read_text().endswith('"oops"')  # untouched
    app = app.button(key="settings_replace_cancel").click().run()
    assert settings_path().read_text().endswith('"oops"')
    app = fill_form(app, dtype="bfloat16")
    app = app.button(key="settings_replace_confirm").click().run()
    assert load_settings().local_dtype == "bfloat16"
    assert f"Settings saved to {settings_path()}" in page_text(app)


def test_a_loopback_server_without_scheme_is_read_as_http_and_others_still_need_one():
    from hfdash.config import http_url

    assert http_url("localhost:8000", "Base URL") == "http://localhost:8000"
    assert http_url("127.0.0.1:8000/v1/", "Base URL") == "http://127.0.0.1:8000/v1"
    assert http_url("[::1]:8080/v1", "Base URL") == "http://[::1]:8080/v1"
    for remote in ("example.com:8000", "10.0.0.5:8000/v1", "localhost.example.com:80"):
        with pytest.raises(BadParameters, match="is not an http\\(s\\) URL"):
            http_url(remote, "Base URL")


def test_localhost_typed_on_the_page_is_saved_as_http():
    app = fill_form(settings_app(), base_urls="localhost:8000/v1")
    assert not app.error and not app.exception
    assert load_settings().base_urls == ["http://localhost:8000/v1"]
