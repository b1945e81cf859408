"""The Settings page's token set-up, driven with AppTest against the loopback Hub's real whoami-v2 route."""

from __future__ import annotations

import stat

import pytest

from hfdash.auth import token_file
from tests.support.tokens import enter_token, new_token, page_text, register_user, settings_app


def test_valid_token_shows_user_orgs_role_and_inference_permission(hub):
    token = register_user(hub, "alice", fullname="Alice Martin", orgs=("acme", "lab"),
                          permissions=("repo.content.read", "inference.serverless.write"))
    app = enter_token(settings_app(), token)
    text = page_text(app)
    assert not app.exception
    assert "Token accepted for **alice**" in text
    assert "Alice Martin" in text and "acme, lab" in text
    assert "role **fineGrained**" in text and "Inference Providers: **allowed**" in text
    assert hub.authorizations("whoami") == [f"Bearer {token}"]


def test_token_without_inference_permission_says_which_permission_is_missing(hub):
    token = register_user(hub, "bob", permissions=("repo.content.read",))
    text = page_text(enter_token(settings_app(), token))
    assert "Inference Providers: **not allowed**" in text
    assert "Make calls to Inference Providers" in text


def test_classic_read_token_may_call_providers(hub):
    token = register_user(hub, "carol", role="read")
    assert "Inference Providers: **allowed**" in page_text(enter_token(settings_app(), token))


def test_invalid_token_shows_invalid_token_and_saves_nothing(hub):
    unknown = new_token()
    app = enter_token(settings_app(), unknown, where="saved")
    assert "does not accept this token" in "\n".join(e.value for e in app.error)
    assert not app.exception
    assert app.text_input(key="settings_token_input").value == ""  # a refused token is not kept
    assert not token_file().exists()
    assert "hf_token" not in app.session_state
    assert "No token" in page_text(app)


def test_token_is_trimmed_of_whitespace_and_newlines(hub):
    token = register_user(hub, "dora")
    app = enter_token(settings_app(), f"  {token}\n")
    assert "Token accepted for **dora**" in page_text(app)
    assert hub.authorizations("whoami") == [f"Bearer {token}"]


@pytest.mark.parametrize("raw, message", [
    ("", "No token entered"),
    ("   \n", "No token entered"),
    ("my password", "not a Hugging Face access token"),
    ("hf_short", "not a Hugging Face access token"),
    ("hf_abc def0123456789012345678901", "not a Hugging Face access token"),
    ("api_org_0123456789abcdefghijklmnopqrstu", "organisation API token"),
    ("hf_" + "a" * 9_997, "too long for a Hugging Face access token (10,000 characters"),
])
def test_token_bad_input_is_refused_before_asking_the_hub(hub, raw, message):
    app = enter_token(settings_app(), raw)
    assert message in "\n".join(e.value for e in app.error)
    assert not app.exception
    assert hub.authorizations("whoami") == []
    assert not token_file().exists()


def test_session_only_token_is_not_written_to_disk(hub, isolated_home, tmp_path):
    token = register_user(hub, "erin")
    app = enter_token(settings_app(), token)
    assert "kept for this browser session only" in page_text(app)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    assert written == []


def test_saved_token_lands_in_token_file_with_mode_0600(hub, isolated_home):
    token = register_user(hub, "frank")
    app = enter_token(settings_app(), token, where="saved")
    path = isolated_home / "token"
    assert token_file() == path
    assert path.read_text() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert f"saved to {path}" in page_text(app)


def test_saved_token_can_be_deleted_and_the_session_logs_out_too(hub, isolated_home):
    token = register_user(hub, "gina")
    app = enter_token(settings_app(), token, where="saved")
    app = app.button(key="settings_token_delete").click().run()
    assert not (isolated_home / "token").exists()
    assert "The saved token was deleted" in page_text(app)
    assert "hf_token" not in app.session_state


def test_log_out_of_session_forgets_the_token(hub):
    token = register_user(hub, "hank")
    app = enter_token(settings_app(), token)
    app = app.button(key="settings_logout").click().run()
    assert "hf_token" not in app.session_state
    assert "Logged out of this browser session" in page_text(app)


def test_hf_token_in_environment_is_said_to_override_a_saved_token(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", new_token())
    assert "HF_TOKEN is set in the dashboard's environment: it overrides a saved token" in page_text(settings_app())


def test_revoked_token_401_is_invalid_token_and_keeps_the_previous_one(hub):
    first = register_user(hub, "ivan")
    app = enter_token(settings_app(), first)
    revoked = register_user(hub, "ivan")
    del hub.users[revoked]  # revoked on the Hub after it was copied
    app = enter_token(app, revoked)
    assert "does not accept this token" in "\n".join(e.value for e in app.error)
    assert app.session_state["hf_token"] == first


def test_unwritable_token_dir_is_a_clear_message_and_nothing_is_saved(hub, isolated_home):
    token = register_user(hub, "judy")
    # A file where the token folder should be: unwritable even for root, unlike a chmod.
    isolated_home.parent.mkdir(parents=True, exist_ok=True)
    isolated_home.write_text("not a folder")
    app = enter_token(settings_app(), token, where="saved")
    errors = "\n".join(e.value for e in app.error)
    assert "Cannot write the token file" in errors and "Nothing was saved" in errors
    assert isolated_home.read_text() == "not a folder"
    assert token not in "".join(p.read_text(errors="replace") for p in isolated_home.parent.rglob("*") if p.is_file())
    assert "hf_token" not in app.session_state


def test_hub_unreachable_while_checking_token_is_a_clear_message(hub):
    token = register_user(hub, "kim")
    hub.fail("whoami", 503)
    app = enter_token(settings_app(), token)
    assert "unavailable" in "\n".join(e.value for e in app.error)
    assert not app.exception and "hf_token" not in app.session_state
    # The Hub could not judge it: the field keeps the token for another try.
    assert app.text_input(key="settings_token_input").value == token


def test_that_a_saved_token_serves_every_session_is_said_on_the_page(hub):
    assert "A saved token is used by every browser session of this dashboard" in page_text(settings_app())
    app = enter_token(settings_app(), register_user(hub, "lena"), where="saved")
    assert "used by every browser session of this dashboard that has no token of its own" in \
        "\n".join(w.value for w in app.warning)


def test_hub_that_hangs_while_checking_token_times_out_with_a_clear_message(hub, monkeypatch):
    token = register_user(hub, "lee")
    monkeypatch.setenv("HFDASH_HUB_TIMEOUT", "0.5")
    hub.hang("whoami", 3.0)
    app = enter_token(settings_app(), token)
    assert "Checking the token: no complete answer in 0.5 s." in "\n".join(e.value for e in app.error)
    assert not app.exception and "hf_token" not in app.session_state


def test_browser_login_token_says_the_hub_does_not_state_its_permissions(hub):
    token = register_user(hub, "dora", role="oauth")
    text = page_text(enter_token(settings_app(), token))
    assert "This session uses the token of **dora**" in text
    assert "made by browser login (`hf auth login`), expires 2027-08-05" in text
    assert "Inference Providers: **the Hub does not say**" in text and "role **unknown**" not in text
    assert "does not say what a browser-login token may do" in text
