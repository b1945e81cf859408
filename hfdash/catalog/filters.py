"""What a ModelQuery means, once, for both sources.

`conditions(query, today)` turns a query into simple conditions on ModelRecord fields. The snapshot
evaluates them vectorised (snapshot.py); the live source evaluates them per record (`matches`) on the
Hub's lazy iterator. Unknown (None) never matches; bounds are inclusive; "after" means on or after.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from hfdash.catalog.records import ANY_PROVIDER, SORT_FIELD, ModelQuery, ModelRecord, Sort, field_label

# Human words for record fields, for notices and the "left out because unknown" counts ("config": what a
# fit is computed from).
FIELD_LABELS = {**{f.name: field_label(f.name) for f in fields(ModelRecord)}, "config": "memory fit (config facts)"}

# Where a source lacks a sort's field, the nearest sort it can serve (and it says so).
SORT_FALLBACK = {Sort.TRENDING: Sort.DOWNLOADS, Sort.UPDATED: Sort.CREATED,
                 Sort.LIKES: Sort.DOWNLOADS, Sort.DOWNLOADS: Sort.LIKES, Sort.CREATED: Sort.DOWNLOADS}


@dataclass(frozen=True)
class Condition:
    field: str  # a ModelRecord field
    op: str  # contains_ci | eq | ge | le | any | has | fits (field "config": what a fit is computed from)
    value: Any = None


def conditions(query: ModelQuery, today: dt.date) -> list[Condition]:
    query.validate()
    found = []
    if query.text:
        found.append(Condition("id", "contains_ci", query.text.lower()))
    if query.task:
        found.append(Condition("task", "eq", query.task))
    if query.library:
        found.append(Condition("library", "eq", query.library))
    if query.min_params is not None:
        found.append(Condition("params", "ge", query.min_params))
    if query.max_params is not None:
        found.append(Condition("params", "le", query.max_params))
    if query.provider:
        found.append(Condition("providers", "any") if query.provider == ANY_PROVIDER
                     else Condition("providers", "has", query.provider))
    if query.min_likes is not None:
        found.append(Condition("likes", "ge", query.min_likes))
    if query.min_downloads is not None:
        found.append(Condition("downloads", "ge", query.min_downloads))
    if (created := query.created_since(today)) is not None:
        found.append(Condition("created_at", "ge", created))
    if (updated := query.updated_since(today)) is not None:
        found.append(Condition("last_modified", "ge", updated))
    if query.gated is not None:
        found.append(Condition("gated", "eq", query.gated))
    if query.fits is not None:
        found.append(Condition("config", "fits", query.fits))
    return _merge_bounds(found)


def _merge_bounds(found: list[Condition]) -> list[Condition]:
    """One condition per field, so results can say which field left a model out: a lower and an upper
    bound on the same field (min and max parameters) become one "between"."""
    merged: dict[str, Condition] = {}
    for cond in found:
        other = merged.get(cond.field)
        if other is None:
            merged[cond.field] = cond
        else:
            low, high = (other, cond) if other.op == "ge" else (cond, other)
            merged[cond.field] = Condition(cond.field, "between", (low.value, high.value))
    return list(merged.values())


def matches(record: ModelRecord, cond: Condition) -> bool:
    if cond.op == "fits":
        from hfdash.hardware.fitsfilter import record_fits

        return record_fits(record, cond.value) is True
    value = getattr(record, cond.field)
    if value is None:
        return False
    if cond.op == "contains_ci":
        return cond.value in value.lower()
    if cond.op == "eq":
        return value == cond.value
    if cond.op == "ge":
        return value >= cond.value
    if cond.op == "le":
        return value <= cond.value
    if cond.op == "between":
        return cond.value[0] <= value <= cond.value[1]
    if cond.op == "any":
        return len(value) > 0
    if cond.op == "has":
        return cond.value in value
    raise AssertionError(f"unhandled condition {cond}")


def sort_key(sort: Sort):
    """Descending by the sort's field, ties by id ascending, unknown last."""
    field = SORT_FIELD[sort]

    def key(record: ModelRecord):
        value = getattr(record, field)
        if value is None:
            return (1, 0, record.id)
        number = value.toordinal() if isinstance(value, dt.date) else value
        return (0, -number, record.id)
    return key


def lacks_notice(field: str, source: str) -> str:
    label = FIELD_LABELS[field]
    return (f"{source[0].upper()}{source[1:]} has no {label} data, so the {label} filter matches no model here; "
            f"the live Hub can apply it.")
