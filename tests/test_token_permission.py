"""A token without the Inference Providers permission: the Settings page says so up front (see
test_token_settings_page), and a hosted call answered 403 names the missing permission."""

from __future__ import annotations

from hfdash.errors import Forbidden
from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer
from tests.support.fault_server import FaultServer
from tests.support.tokens import new_token


def test_token_without_inference_permission_403_names_the_permission():
    server = FaultServer().start()  # FAKE: answers 403 as the router does for such a token
    try:
        answers = list(stream_answer(BackendSpec("hosted", model="fail-403", base_url=server.url),
                                     [Message("user", "Hi")], GenerationParams(), token=new_token()))
    finally:
        server.stop()
    final = answers[-1]
    assert final.status == "error" and isinstance(final.error, Forbidden)
    assert "403" in final.error.user_message()
    assert "Make calls to Inference Providers" in final.error.user_message()
