"""One call to the Hub through huggingface_hub: its deadline, the offline switch, and its errors as ours.

Below the catalog, auth, hardware and inference packages, which all call the Hub.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar

from hfdash.errors import Timeout, from_exception

T = TypeVar("T")


def timeout_s() -> float:
    """Seconds to wait for the Hub (HFDASH_HUB_TIMEOUT, default 10)."""
    return float(os.environ.get("HFDASH_HUB_TIMEOUT") or 10)


def offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")


def hub_call(call: Callable[[], T], *, what: str, repo_id: str | None = None, deadline: float | None = None) -> T:
    """Run one huggingface_hub call in a worker thread with a deadline (listings and file lists take no
    timeout of their own), turning every failure into the one typed family (errors.from_exception)."""
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc

    seconds = deadline if deadline is not None else timeout_s() * 3
    worker = threading.Thread(target=work, daemon=True, name="hfdash-hub-call")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise Timeout(f"{what}: no complete answer in {seconds:g} s.")
    if "error" in outcome:
        error = outcome["error"]
        raise from_exception(error, what=what, repo_id=repo_id) from error
    return outcome["value"]
