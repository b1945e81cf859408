"""Values that travel in one URL parameter as text: a list (`shortlist=a/b,c/d`) and GPU counts per device
(`gpus=rtx-4090:2,h100:4`). Plain functions, so a link is read the same by every page and by tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


def split_list(raw: str | None, *, unique: bool = True) -> list[str]:
    """'a/b, c/d,,a/b' -> ['a/b', 'c/d'] (blanks dropped, order kept; repeats kept when not `unique`)."""
    items = [part.strip() for part in (raw or "").split(",") if part.strip()]
    return list(dict.fromkeys(items)) if unique else items


def join_list(items: Iterable[str]) -> str:
    return ",".join(items)


def split_gpu_counts(raw: str | None, devices: Sequence[str]) -> dict[str, str]:
    """The count text per device of `devices` that `raw` names: `2` names each, `rtx-4090:2,h100:4` one each
    (a later part wins). Devices it does not name are left out; the caller checks the numbers."""
    counts: dict[str, str] = {}
    for part in split_list(raw, unique=False):
        device, _, number = part.rpartition(":")
        for target in [device] if device else devices:
            if target in devices:
                counts[target] = number
    return counts


def join_gpu_counts(counts: Mapping[str, int]) -> str:
    return join_list(f"{device}:{count}" for device, count in counts.items())
