"""Which source answers: one policy for search, model records, model facts and details, used by the
service, the Hardware-fit facts, the Browse page and the CLI alike.

- "snapshot": the offline snapshot only.
- "hub": the live Hub only. Its error is raised as it is (a clear message), never replaced by a snapshot
  answer: the user asked for live data.
- "auto": the live Hub; when it cannot be used (unreachable, timing out, refusing the token, rate-limited,
  HF_HUB_OFFLINE) the snapshot answers with a notice saying why. An answer about the model itself (not
  found, gated, bad parameters) stands: the snapshot must not contradict the Hub. An unreachable Hub is
  not asked again for RECHECK_HUB_AFTER_S, so each page rerun doesn't wait for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from hfdash.config import CATALOG_SOURCES
from hfdash.errors import BadParameters, Gated, HfdashError, NotFound, Timeout, Unavailable

T = TypeVar("T")

RECHECK_HUB_AFTER_S = 30.0
# Errors that are the Hub's answer about the thing asked for, not a failure to reach it.
HUB_ANSWERS = (NotFound, Gated, BadParameters)

_unreachable: dict[str, tuple[float, HfdashError]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Answer(Generic[T]):
    value: T
    source: str  # "hub" or "snapshot"
    notice: str | None = None  # why the snapshot answered instead of the Hub (auto only)


def check_source(source: str) -> None:
    if source not in CATALOG_SOURCES:
        raise BadParameters(f"Unknown catalog source {source!r}. Valid sources: {', '.join(CATALOG_SOURCES)}.")


def answer(source: str, *, endpoint: str, live: Callable[[], T], offline: Callable[[], T]) -> Answer[T]:
    """`live()` or `offline()` as `source` says; raises HfdashError with a user-fit message."""
    check_source(source)
    if source == "snapshot":
        return Answer(offline(), "snapshot")
    if source == "auto" and (remembered := recently_unreachable(endpoint)):
        return Answer(offline(), "snapshot", fallback_notice(remembered))
    try:
        return Answer(live(), "hub")
    except HfdashError as err:
        if isinstance(err, (Unavailable, Timeout)):
            with _lock:
                _unreachable[endpoint] = (time.monotonic(), err)
        if source == "hub" or isinstance(err, HUB_ANSWERS):
            raise
        return Answer(offline(), "snapshot", fallback_notice(err))


def fallback_notice(err: HfdashError) -> str:
    return f"Showing the offline snapshot: the live Hub could not be used. {err.user_message()}"


def recently_unreachable(endpoint: str) -> HfdashError | None:
    with _lock:
        seen = _unreachable.get(endpoint)
        if seen and time.monotonic() - seen[0] < RECHECK_HUB_AFTER_S:
            return seen[1]
        _unreachable.pop(endpoint, None)
    return None
