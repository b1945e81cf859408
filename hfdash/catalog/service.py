"""One search over either source. "auto" asks the live Hub and falls back to the snapshot, saying why."""

from __future__ import annotations

import datetime as dt
import time

from hfdash.catalog import hub, snapshot
from hfdash.catalog.records import ANY_PROVIDER, ModelQuery, ModelRecord, SearchResult
from hfdash.catalog.snapshot import SnapshotInfo
from hfdash.config import CATALOG_SOURCES, Settings, load_settings
from hfdash.errors import BadParameters, Gated, HfdashError, NotFound, SnapshotError, Timeout, Unavailable

# The Hub's pipeline tags (its task filter); a snapshot may add tags of its own.
HUB_TASKS = (
    "any-to-any", "audio-classification", "audio-text-to-text", "audio-to-audio", "automatic-speech-recognition",
    "depth-estimation", "document-question-answering", "feature-extraction", "fill-mask", "graph-ml",
    "image-classification", "image-feature-extraction", "image-segmentation", "image-text-to-image",
    "image-text-to-text", "image-text-to-video", "image-to-3d", "image-to-image", "image-to-text",
    "image-to-video", "keypoint-detection", "mask-generation", "multiple-choice", "object-detection", "other",
    "question-answering", "reinforcement-learning", "robotics", "sentence-similarity", "summarization",
    "table-question-answering", "table-to-text", "tabular-classification", "tabular-regression",
    "tabular-to-text", "text-classification", "text-generation", "text-ranking", "text-retrieval",
    "text-to-3d", "text-to-audio", "text-to-image", "text-to-speech", "text-to-video", "text2text-generation",
    "time-series-forecasting", "token-classification", "translation", "unconditional-image-generation",
    "video-classification", "video-text-to-text", "video-to-video", "visual-document-retrieval",
    "visual-question-answering", "voice-activity-detection", "zero-shot-classification",
    "zero-shot-image-classification", "zero-shot-object-detection",
)


# An unreachable Hub is not asked again for a while, so each page rerun doesn't wait for it (auto only).
RECHECK_HUB_AFTER_S = 30.0
_unreachable: dict[str, tuple[float, HfdashError]] = {}


def search(query: ModelQuery, *, source: str = "auto", token: str | None = None,
           settings: Settings | None = None, today: dt.date | None = None) -> SearchResult:
    settings = settings or load_settings()
    today = today or dt.date.today()
    _check_source(source)
    validate(query, settings)
    if source == "snapshot":
        return snapshot.load(settings.snapshot).search(query, today=today)
    if source == "auto" and (remembered := _recently_unreachable(settings.endpoint)):
        return _from_snapshot_because(remembered, query, settings, today)
    try:
        result = hub.search(query, settings=settings, token=token, today=today)
    except HfdashError as err:
        if isinstance(err, (Unavailable, Timeout)):
            _unreachable[settings.endpoint] = (time.monotonic(), err)
        if source == "hub":
            raise
        return _from_snapshot_because(err, query, settings, today)
    result.snapshot_date = _snapshot_date(settings)
    return result


def _from_snapshot_because(err: HfdashError, query: ModelQuery, settings: Settings, today: dt.date) -> SearchResult:
    result = snapshot.load(settings.snapshot).search(query, today=today)
    result.notices.insert(0, f"Showing the offline snapshot: the live Hub could not be used. {err.user_message()}")
    return result


def get_model(model_id: str, *, source: str = "auto", token: str | None = None,
              settings: Settings | None = None) -> ModelRecord:
    """One model's record. Raises NotFound, Gated, InvalidToken, ... (HfdashError) with a user-facing message."""
    settings = settings or load_settings()
    _check_source(source)
    if source != "snapshot":
        try:
            return hub.get_model(model_id, settings=settings, token=token)
        except (NotFound, Gated, BadParameters):
            raise  # the Hub answered; the snapshot must not contradict it
        except HfdashError:
            if source == "hub":
                raise
    record = snapshot.load(settings.snapshot).get(model_id)
    if record is None:
        raise NotFound(f"{model_id} is not in the snapshot ({settings.snapshot.name}).",
                       hint="Check the id, or connect to the Hub to look it up live.")
    return record


def snapshot_info(settings: Settings | None = None) -> SnapshotInfo:
    settings = settings or load_settings()
    return snapshot.load(settings.snapshot).info


def known_tasks(settings: Settings | None = None) -> list[str]:
    return sorted(set(HUB_TASKS) | set(_snapshot_values(settings, "task")))


def known_providers(settings: Settings | None = None) -> list[str]:
    """The Hub's Inference Providers plus any provider the snapshot lists (from the litellm catalog)."""
    from typing import get_args

    from huggingface_hub.inference._providers import PROVIDER_T

    settings = settings or load_settings()
    try:
        listed = snapshot.load(settings.snapshot).provider_names
    except SnapshotError:
        listed = []
    return sorted(set(get_args(PROVIDER_T)) | set(listed))


def validate(query: ModelQuery, settings: Settings) -> None:
    """Raise BadParameters for a bad query, naming what is valid."""
    query.validate()
    if query.task is not None and query.task not in (tasks := known_tasks(settings)):
        raise BadParameters(f"Unknown task {query.task!r}. Valid tasks: {', '.join(tasks)}.")
    if query.provider is not None and query.provider != ANY_PROVIDER \
            and query.provider not in (providers := known_providers(settings)):
        raise BadParameters(f"Unknown provider {query.provider!r}. Valid providers: "
                            f"{ANY_PROVIDER}, {', '.join(providers)}.")


def forget_unreachable_hubs() -> None:
    """Ask the Hub again on the next auto search (e.g. after the user fixed the network or the endpoint)."""
    _unreachable.clear()


def _recently_unreachable(endpoint: str) -> HfdashError | None:
    seen = _unreachable.get(endpoint)
    if seen and time.monotonic() - seen[0] < RECHECK_HUB_AFTER_S:
        return seen[1]
    _unreachable.pop(endpoint, None)
    return None


def _check_source(source: str) -> None:
    if source not in CATALOG_SOURCES:
        raise BadParameters(f"Unknown catalog source {source!r}. Valid sources: {', '.join(CATALOG_SOURCES)}.")


def _snapshot_values(settings: Settings | None, column: str) -> list[str]:
    settings = settings or load_settings()
    try:
        return snapshot.load(settings.snapshot).values(column)
    except SnapshotError:
        return []


def _snapshot_date(settings: Settings) -> dt.date | None:
    try:
        return snapshot.load(settings.snapshot).info.date
    except SnapshotError:
        return None
