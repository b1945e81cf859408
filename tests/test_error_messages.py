"""Error messages read once: a message never repeats its title, and the title names the real cause."""

from __future__ import annotations

import httpx2
import openai
import pytest

from hfdash.auth import check_token
from hfdash.catalog import get_model
from hfdash.errors import InvalidToken, MissingCredentials, TooLarge
from hfdash.hardware.guard import ensure_fits_locally
from hfdash.inference.base import BackendSpec
from hfdash.inference.hosted import make_client, server_error
from tests.support.tokens import new_token


def as_shown(err) -> str:
    """How the pages show an error: its title, then its message."""
    return f"{err.title}: {err.user_message()}"


def test_too_large_names_itself_once():
    record = get_model("deepseek-ai/DeepSeek-V3", source="snapshot")
    with pytest.raises(TooLarge) as caught:
        ensure_fits_locally(record, dtype="bfloat16", context=4096)
    shown = as_shown(caught.value)
    assert shown.lower().count("too large") == 1, shown
    assert "deepseek-ai/DeepSeek-V3" in shown and "needs about" in shown


def test_refused_token_names_itself_once(hub):
    with pytest.raises(InvalidToken) as caught:
        check_token(new_token(), endpoint=hub.url)
    shown = as_shown(caught.value)
    assert shown.lower().count("invalid token") == 1 and "does not accept this token" in shown, shown


def test_no_token_for_inference_providers_is_not_called_invalid():
    with pytest.raises(MissingCredentials) as caught:
        make_client(BackendSpec(kind="hosted", model="meta-llama/Llama-3.1-8B-Instruct"), token=None)
    shown = as_shown(caught.value)
    assert "invalid" not in shown.lower() and "none is set" in shown, shown
    assert isinstance(caught.value, InvalidToken)  # callers that catch token problems still catch it


@pytest.mark.parametrize("has_secret, error, words", [
    (False, MissingCredentials, "needs an API key, and none is set"),
    (True, InvalidToken, "refused the API key"),
])
def test_a_server_401_says_whether_a_key_was_missing_or_refused(has_secret, error, words):
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    refused = openai.AuthenticationError("401", response=httpx2.Response(401, request=request), body=None)
    err = server_error(refused, what="Chat", has_secret=has_secret)
    assert type(err) is error and words in err.user_message()
    assert ("invalid" in as_shown(err).lower()) == has_secret
