"""The Hub's access check for a local model from a Hub repo, per user token.

Every use of a Hub model for a token passes the Hub's check first, whether the weights come from the
shared in-memory pool, the HF cache on disk or a fresh download: a restricted (gated or private) repo
answers only tokens the Hub lets read it. A grant is remembered per (repo, token fingerprint) for this
process; a refusal only for that token and only for `REFUSAL_TTL_S` (accepting the terms takes effect).

Whether a repo is public (anyone may read it) is recorded in the cache folder, since it is needed
offline: with the Hub offline or unreachable, a cached model is used only if an earlier check on this
machine found it public. A gated or private model, or one never checked here, is refused offline,
because nobody can then tell whether this user's token may read it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time

from hfdash.errors import HfdashError, Timeout, Unavailable, from_exception
from hfdash.inference.local.sources import not_cached_offline
from hfdash.safefile import write_atomically

REFUSAL_TTL_S = 60.0
CONNECT_TIMEOUT_S = 2.0  # an unreachable Hub is known quickly, so an uncached model fails in seconds
PUBLIC, RESTRICTED = "public", "restricted"

_lock = threading.Lock()
_granted: set[tuple[str, str]] = set()
_refused: dict[tuple[str, str], tuple[float, HfdashError]] = {}


def token_fingerprint(token: str | None) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def check_access(repo_id: str, token: str | None, *, cached: bool) -> None:
    """Return if `token` may read `repo_id`; raise Gated / NotFound / Unavailable (HfdashError) if not.
    `cached`: the weights are in the HF cache (without them, an offline Hub is an error at once)."""
    from hfdash.hubcall import offline

    key = (repo_id, token_fingerprint(token))
    with _lock:
        if key in _granted:
            return
        refused = _refused.get(key)
        if refused and time.monotonic() - refused[0] < REFUSAL_TTL_S:
            raise refused[1]
    if offline():
        _offline_verdict(repo_id, cached)
        return
    try:
        try:
            _ask_hub(repo_id, None)
            _remember(repo_id, PUBLIC)
        except (Unavailable, Timeout):
            raise
        except HfdashError:
            _remember(repo_id, RESTRICTED)
            if not token:
                raise
            _ask_hub(repo_id, token)
    except (Unavailable, Timeout):
        _offline_verdict(repo_id, cached)  # the Hub cannot be reached: decide as offline
        return
    except HfdashError as err:
        with _lock:
            _refused[key] = (time.monotonic(), err)
        raise
    with _lock:
        _granted.add(key)


def _ask_hub(repo_id: str, token: str | None) -> None:
    """One auth-check request with a timeout and no retries (huggingface_hub's own call has neither)."""
    import httpx2
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    from hfdash.auth import hub_token_arg
    from hfdash.hubcall import timeout_s
    from hfdash.config import load_settings

    what = f"Checking access to {repo_id}"
    try:
        response = get_session().get(f"{load_settings().endpoint}/api/models/{repo_id}/auth-check",
                                     headers=build_hf_headers(token=hub_token_arg(token)),
                                     timeout=httpx2.Timeout(timeout_s(), connect=CONNECT_TIMEOUT_S))
        hf_raise_for_status(response)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a typed, user-facing error
        raise from_exception(exc, what=what, repo_id=repo_id) from None


def _offline_verdict(repo_id: str, cached: bool) -> None:
    if not cached:
        raise not_cached_offline(repo_id)
    if _recorded().get(repo_id) != PUBLIC:
        raise Unavailable(f"{repo_id} is in the local cache, but the Hub cannot be reached to check that your "
                          f"token may use it (it is gated or private, or was never checked on this machine).",
                          hint="Connect to the Hub once; a public model then also works offline.")


def _path():
    from hfdash.config import cache_dir

    return cache_dir() / "hub_access.json"


def _recorded() -> dict[str, str]:
    try:
        return json.loads(_path().read_text())
    except (OSError, ValueError):
        return {}


def _remember(repo_id: str, verdict: str) -> None:
    with _lock:
        recorded = _recorded()
        if recorded.get(repo_id) == verdict:
            return
        recorded[repo_id] = verdict
        try:
            write_atomically(_path(), json.dumps(recorded, indent=1, sort_keys=True), what="Hub access record",
                             file_mode=0o644)
        except HfdashError:
            pass  # checked online again next time
