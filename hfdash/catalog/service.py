"""One search over either source; which one answers is `sources.answer`'s policy."""

from __future__ import annotations

import datetime as dt

from hfdash.catalog import hub, snapshot
from hfdash.catalog.records import ANY_PROVIDER, ModelQuery, ModelRecord, SearchResult
from hfdash.catalog.snapshot import SnapshotInfo
from hfdash.catalog.sources import answer, check_source
from hfdash.config import Settings, load_settings
from hfdash.errors import BadParameters, NotFound, SnapshotError

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


def search(query: ModelQuery, *, source: str = "auto", token: str | None = None,
           settings: Settings | None = None, today: dt.date | None = None) -> SearchResult:
    """One search, from the source `sources.answer` picks; a fallback's reason is the first notice."""
    settings = settings or load_settings()
    today = today or dt.date.today()
    check_source(source)
    validate(query, settings)
    found = answer(source, endpoint=settings.endpoint,
                   live=lambda: hub.search(query, settings=settings, token=token, today=today),
                   offline=lambda: snapshot.load(settings.snapshot).search(query, today=today))
    result = found.value
    if found.notice:
        result.notices.insert(0, found.notice)
    if result.source == "hub":
        result.snapshot_date = _snapshot_date(settings)
    return result


def get_model(model_id: str, *, source: str = "auto", token: str | None = None,
              settings: Settings | None = None) -> ModelRecord:
    """One model's record. Raises NotFound, Gated, InvalidToken, ... (HfdashError) with a user-facing message."""
    settings = settings or load_settings()
    return answer(source, endpoint=settings.endpoint,
                  live=lambda: hub.get_model(model_id, settings=settings, token=token),
                  offline=lambda: snapshot_record(model_id, settings)).value


def snapshot_record(model_id: str, settings: Settings) -> ModelRecord:
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


def known_licenses(settings: Settings | None = None) -> list[str]:
    """The licence ids the snapshot's models carry (the Hub has no list of them)."""
    return _snapshot_values(settings, "license")


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
