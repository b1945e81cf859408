"""A loaded model is shared between sessions; access to a gated one is not: every use for a token passes
the Hub's access check, whether the model comes from the in-memory pool or the HF cache on disk, in this
process or a fresh one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hfdash.errors import Gated
from hfdash.inference import BackendSpec
from hfdash.inference.local import LoadedModel, choose_device, load_model
from hfdash.inference.local import access, loading
from hfdash.inference.local.engine import Engine
from tests.support.hf_cache import add_cached_model
from tests.support.hub_repos import add_repo
from tests.support.tokens import register_user

GATED_REPO = "example-org/gated-chat"
REPO = Path(__file__).resolve().parents[1]
CHAT_IN_FRESH_PROCESS = """
import sys
from hfdash.inference import BackendSpec, GenerationParams, Message, stream_answer
question = [Message("user", "What is the capital of France?")]
for answer in stream_answer(BackendSpec("local", model=sys.argv[1]), question,
                            GenerationParams(temperature=0, max_new_tokens=12), token=sys.argv[2] or None):
    pass
print(answer.status, type(answer.error).__name__ if answer.error else "-", answer.error.user_message()
      if answer.error else answer.text)
"""


@pytest.fixture(autouse=True)
def fresh_checks(monkeypatch):
    """No access verdict remembered from another test, and an empty model pool."""
    monkeypatch.setattr(access, "_granted", set())
    monkeypatch.setattr(access, "_refused", {})
    monkeypatch.setattr(loading, "POOL", loading.ModelPool(loading.MAX_LOADED))


@pytest.fixture
def shared_gated_model(hub):
    """The pool holds GATED_REPO as loaded by `owner`, whose token was granted access; so was `colleague`'s."""
    owner, colleague = register_user(hub, "owner"), register_user(hub, "colleague")
    add_repo(hub, GATED_REPO, {"config.json": b"{}"}, gated=True, granted=(owner, colleague))
    key = ("hub", GATED_REPO, "auto", choose_device("auto"))
    entry = LoadedModel(key=key, model_id=GATED_REPO, cache_names=frozenset({GATED_REPO}), model=object(),
                        tokenizer=object(), context_length=2048, dtype="float32", device="cpu",
                        engine=Engine(object(), set()), load_s=0.0)
    loading.POOL.put(entry)
    return entry, owner, colleague


def test_isolation_gated_model_loaded_by_one_session_is_refused_to_a_token_without_access(hub, shared_gated_model):
    entry, owner, colleague = shared_gated_model
    for stranger in (register_user(hub, "stranger"), None):
        with pytest.raises(Gated, match="gated"):
            load_model(BackendSpec("local", model=GATED_REPO), token=stranger)
    assert load_model(BackendSpec("local", model=GATED_REPO), token=owner) is entry
    assert load_model(BackendSpec("local", model=GATED_REPO), token=colleague) is entry
    assert load_model(BackendSpec("local", model=GATED_REPO), token=colleague) is entry  # remembered: no new check
    checked = [a for a in hub.authorizations(r"/auth-check$") if a]
    assert len(checked) == 3 and f"Bearer {owner}" in checked and checked.count(f"Bearer {colleague}") == 1


def test_isolation_refusal_is_remembered_for_that_token_only(hub, shared_gated_model):
    entry, owner, _ = shared_gated_model
    stranger = register_user(hub, "stranger")
    for _ in range(2):
        with pytest.raises(Gated):
            load_model(BackendSpec("local", model=GATED_REPO), token=stranger)
    assert hub.authorizations(r"/auth-check$").count(f"Bearer {stranger}") == 1
    assert load_model(BackendSpec("local", model=GATED_REPO), token=owner) is entry


@pytest.mark.slow
def test_isolation_gated_model_in_the_disk_cache_is_access_checked_in_a_fresh_process(
        hub, embedded_model_folder, isolated_home):
    owner = register_user(hub, "owner")
    add_repo(hub, GATED_REPO, {"config.json": b"{}"}, gated=True, granted=(owner,))
    repo = add_cached_model(isolated_home / "hub", GATED_REPO, {
        f.name: f.read_bytes() for f in embedded_model_folder.iterdir() if f.suffix != ".safetensors"})
    snapshot = next((repo / "snapshots").iterdir())
    for weights in embedded_model_folder.glob("*.safetensors"):
        (snapshot / weights.name).symlink_to(weights)
    env = {**os.environ, "PYTHONPATH": str(REPO),
           "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}

    def chat(token: str, **extra) -> str:
        done = subprocess.run([sys.executable, "-c", CHAT_IN_FRESH_PROCESS, GATED_REPO, token], cwd=REPO,
                              env={**env, **extra}, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip().splitlines()[-1]

    assert chat(register_user(hub, "stranger")).startswith("error Gated")
    assert chat("").startswith("error Gated")
    answered = chat(owner)
    assert answered.startswith("done -") and "Paris" in answered
    # Offline nobody can check the token, so a gated model in the cache is refused, even to its owner.
    offline = chat(owner, HF_HUB_OFFLINE="1")
    assert offline.startswith("error Unavailable") and "check that your token may use it" in offline
    assert "Traceback" not in offline
