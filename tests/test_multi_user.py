"""A multi-user server (HFDASH_MULTI_USER=1): where the server connects and what it reads is the
operator's (HFDASH_OPERATOR_SECRET); a visitor's own defaults stay in their session; a visitor cannot
make the server reach a URL or a path of their choosing, and the refusals reveal nothing about either."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from hfdash.config import Settings, load_settings, save_settings, settings_path
from hfdash.errors import BadParameters, Forbidden
from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer
from tests.support.tokens import page_text, register_user, settings_app

APP = str(Path(__file__).resolve().parents[1] / "app.py")
SECRET = "operator-secret-for-tests"
EVIL = "http://127.0.0.1:9/evil"


@pytest.fixture
def shared(monkeypatch):
    monkeypatch.setenv("HFDASH_MULTI_USER", "1")
    monkeypatch.setenv("HFDASH_OPERATOR_SECRET", SECRET)


def save_form(app, **values):
    for key, value in values.items():
        widget = app.text_area(key=f"settings_{key}") if key == "base_urls" else (
            app.text_input(key=f"settings_{key}") if key in ("endpoint", "snapshot") else
            app.selectbox(key=f"settings_{key}"))
        widget.set_value(value)
    return app.button[[b.label for b in app.button].index("Save settings")].click().run()


def sign_in(app, secret: str):
    app.text_input(key="settings_operator_secret").input(secret)
    return app.button(key="settings_operator_in").click().run()


def test_a_visitor_cannot_change_where_the_server_connects(shared, hub):
    app = settings_app()
    assert all(app.text_input(key=f"settings_{k}").disabled for k in ("endpoint", "snapshot"))
    assert app.text_area(key="settings_base_urls").disabled
    # Even values forged past the disabled fields (straight into the session's widget state) change nothing.
    app.session_state["settings_endpoint"] = EVIL
    app.session_state["settings_base_urls"] = EVIL
    app = save_form(app, source="snapshot")
    assert not settings_path().exists()
    assert load_settings().endpoint == hub.url and load_settings().base_urls == []
    assert "Your defaults are set for this browser session" in page_text(app)


def test_a_visitors_defaults_live_in_their_session_only(shared):
    app = save_form(settings_app(), source="snapshot", dtype="bfloat16")
    assert app.selectbox(key="settings_source").value == "snapshot"
    assert not settings_path().exists()
    assert settings_app().selectbox(key="settings_source").value == "auto"  # another session: the defaults


def test_the_operator_signs_in_with_the_secret_and_then_sets_the_servers(shared, hub):
    app = sign_in(settings_app(), "not-the-secret")
    assert "That is not the operator secret" in "\n".join(e.value for e in app.error)
    assert app.text_input(key="settings_endpoint").disabled
    app = sign_in(app, SECRET)
    assert "Signed in as the operator" in page_text(app)
    app = save_form(app, base_urls="http://127.0.0.1:8000/v1")
    assert load_settings().base_urls == ["http://127.0.0.1:8000/v1"]
    assert SECRET not in settings_path().read_text()


def test_without_an_operator_secret_nobody_signs_in_from_the_page(shared, monkeypatch):
    monkeypatch.delenv("HFDASH_OPERATOR_SECRET")
    app = settings_app()
    assert not [w for w in app.text_input if w.key == "settings_operator_secret"]
    assert app.text_input(key="settings_endpoint").disabled


def test_the_cache_manager_is_the_operators(shared):
    app = settings_app()
    assert "managed by its operator" in page_text(app)
    assert not [b for b in app.button if b.key == "settings_cache_delete"]


def test_the_token_check_names_the_endpoint_it_talks_to(shared, hub):
    token = register_user(hub, "alice")
    app = settings_app()
    app.text_input(key="settings_token_input").input(token)
    app = app.button(key="settings_token_check").click().run()
    assert f"Token accepted for **alice** by the Hub at `{hub.url}`" in page_text(app)


PROMPT = [Message("user", "hi")]


def test_a_visitor_cannot_make_the_server_call_a_url_of_their_choice(shared, fault_server):
    save_settings(Settings(base_urls=["http://127.0.0.1:8000/v1"]))
    spec = BackendSpec("hosted", model="ok", base_url=fault_server.url)
    answer = list(stream_answer(spec, PROMPT, GenerationParams(), token=None))[-1]
    assert isinstance(answer.error, Forbidden) and "servers its operator saved" in answer.error.message
    assert fault_server.requests == []  # not even contacted


def test_the_operators_saved_server_is_used(shared, fault_server):
    save_settings(Settings(base_urls=[fault_server.url]))
    spec = BackendSpec("hosted", model="ok", base_url=fault_server.url)
    assert list(stream_answer(spec, PROMPT, GenerationParams(), token=None))[-1].status == "done"


@pytest.mark.parametrize("model", ["/etc", "/no/such/folder", "./hfdash", "hfdash/data/../data", "~/models",
                                   "/tmp/model.gguf", "a/b/c"])
def test_local_paths_are_refused_the_same_way_whether_they_exist_or_not(shared, model):
    answer = list(stream_answer(BackendSpec("local", model=model), PROMPT, GenerationParams(), token=None))[-1]
    assert isinstance(answer.error, BadParameters)
    assert answer.error.message == "On this shared server a local model is given by its Hub id (owner/name) only."


def test_a_crafted_playground_link_to_another_server_is_refused_in_the_pane(shared):
    save_settings(Settings(base_urls=["http://127.0.0.1:8000/v1"]))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/3_Playground.py")
    at.query_params.update({"p1.kind": "hosted", "p1.base_url": "http://evil.hf.space/v1", "p1.model": "m"})
    at.run()
    assert "servers its operator saved" in "\n".join(w.value for w in at.warning)
    assert not at.exception
