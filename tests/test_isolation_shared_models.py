"""A loaded model is shared between sessions; access to a gated one is not: each new token is checked."""

from __future__ import annotations

import pytest

from hfdash.errors import Gated
from hfdash.inference import BackendSpec
from hfdash.inference.local import POOL, LoadedModel, choose_device, load_model, token_fingerprint
from tests.support.hub_repos import add_repo
from tests.support.tokens import register_user

GATED_REPO = "example-org/gated-chat"


@pytest.fixture
def shared_gated_model(hub):
    """The pool holds GATED_REPO as loaded by `owner`, whose token was granted access; so was `colleague`'s."""
    owner, colleague = register_user(hub, "owner"), register_user(hub, "colleague")
    add_repo(hub, GATED_REPO, {"config.json": b"{}"}, gated=True, granted=(owner, colleague))
    key = ("hub", GATED_REPO, "auto", choose_device("auto"))
    entry = LoadedModel(key=key, model_id=GATED_REPO, cache_names=frozenset({GATED_REPO}), model=object(),
                        tokenizer=object(), context_length=2048, dtype="float32", device="cpu",
                        restricted=True, allowed={token_fingerprint(owner)})
    POOL.put(entry)
    yield entry, owner, colleague
    POOL.clear()


def test_isolation_gated_model_loaded_by_one_session_is_refused_to_a_token_without_access(hub, shared_gated_model):
    entry, owner, _ = shared_gated_model
    for stranger in (register_user(hub, "stranger"), None):
        with pytest.raises(Gated, match="gated"):
            load_model(BackendSpec("local", model=GATED_REPO), token=stranger)
    assert load_model(BackendSpec("local", model=GATED_REPO), token=owner) is entry
    # The owner was known: only the strangers' checks reached the Hub.
    assert len(hub.authorizations(r"/auth-check$")) == 2


def test_isolation_gated_model_is_shared_with_another_token_that_has_access(hub, shared_gated_model):
    entry, _, colleague = shared_gated_model
    assert load_model(BackendSpec("local", model=GATED_REPO), token=colleague) is entry
    assert load_model(BackendSpec("local", model=GATED_REPO), token=colleague) is entry
    assert hub.authorizations(r"/auth-check$") == [f"Bearer {colleague}"]  # checked once, then remembered
