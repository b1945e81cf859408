"""Server API keys on the Settings page and the Playground's token choice, driven with AppTest: a key is
kept for the session unless saving is asked (0600), never shown again; a Space gets the token only after
the user turns it on for that host, named on the switch; 'Copy as code' follows the same choice."""

from __future__ import annotations

import stat
from pathlib import Path

from streamlit.testing.v1 import AppTest

from hfdash import auth
from hfdash.config import Settings, save_settings
from tests.support.tokens import page_text, settings_app

APP = str(Path(__file__).resolve().parents[1] / "app.py")
SERVER = "http://127.0.0.1:8000/v1"
KEY = "sk-page-key-0123456789"
TOKEN = "hf_pageSecret0123456789abcdef"


def use_key(app, key: str, where: str = "session"):
    app.selectbox(key="settings_key_server").set_value(SERVER)
    app.text_input(key="settings_key_input").input(key)
    if where != "session":
        app.radio(key="settings_key_where").set_value(where)
    return app.button(key="settings_key_use").click().run()


def test_a_server_key_is_kept_for_the_session_only_by_default(tmp_path):
    save_settings(Settings(base_urls=[SERVER]))
    app = use_key(settings_app(), KEY)
    assert f"API key for {SERVER} kept for this browser session only" in page_text(app)
    assert app.session_state["server_keys"] == {SERVER: KEY}
    assert app.text_input(key="settings_key_input").value == ""  # the field is emptied
    written = [p for p in tmp_path.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert written == []
    assert KEY not in page_text(app)


def test_a_saved_server_key_is_owner_only():
    save_settings(Settings(base_urls=[SERVER]))
    app = use_key(settings_app(), KEY, where="saved")
    assert stat.S_IMODE(auth.server_keys_file().stat().st_mode) == 0o600
    assert auth.saved_server_key(SERVER) == KEY
    app = app.button(key="settings_key_forget_0").click().run()
    assert auth.saved_server_key(SERVER) is None


def test_a_key_for_hugging_face_itself_is_refused():
    app = settings_app()
    app.selectbox(key="settings_key_server").set_value("Other URL…")
    app = app.run()
    app.text_input(key="settings_key_url").input("https://router.huggingface.co/v1")
    app.text_input(key="settings_key_input").input(KEY)
    app = app.button(key="settings_key_use").click().run()
    assert "gets your Hugging Face token, never a server key" in "\n".join(e.value for e in app.error)
    assert "server_keys" not in app.session_state or not app.session_state["server_keys"]


def playground(base_url: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/3_Playground.py")
    at.query_params.update({"p1.kind": "hosted", "p1.base_url": base_url, "p1.model": "m"})
    at.session_state["hf_token"] = TOKEN
    return at.run()


def snippet(at) -> str:
    return at.code[0].value


def test_a_space_gets_the_token_only_after_the_user_turns_it_on_for_that_host():
    at = playground("https://alice-chat.hf.space/v1")
    switch = at.toggle(key="pg0_token_opt_in")
    assert switch.label == "Send my Hugging Face token to alice-chat.hf.space" and switch.value is False
    assert "HF_TOKEN" not in snippet(at)
    at = switch.set_value(True).run()
    assert 'api_key=os.environ["HF_TOKEN"]' in snippet(at)
    assert TOKEN not in snippet(at)


def test_a_space_over_http_is_offered_no_token():
    at = playground("http://alice-chat.hf.space/v1")
    assert not [t for t in at.toggle if t.key == "pg0_token_opt_in"]
    assert "Nothing is sent to authenticate" in "\n".join(c.value for c in at.caption)
    assert "HF_TOKEN" not in snippet(at)
