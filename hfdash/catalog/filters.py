"""What a ModelQuery means, once, for both sources.

`conditions(query, today)` turns a query into simple conditions on ModelRecord fields. The snapshot
evaluates them vectorised (snapshot.py); the live source evaluates them per record (`matches`) on the
Hub's lazy iterator. Unknown (None) never matches; bounds are inclusive; "after" means on or after.

Text matches the repo id ignoring case and treating spaces, dashes, dots and underscores alike ("Llama 3.1"
finds "Llama-3.1-8B"): both sides are folded by `fold_text`. Parameter bounds compare with the size as
people read it (`displayed_count`: two significant digits, whole units from 10 up): a max of 8B keeps
Llama 3.1 8B's 8.03B (it reads 8.0B) but not 8.1B; a min of 1B keeps no 752M model (`params_range`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from hfdash.catalog.records import ANY_PROVIDER, MAX_COUNT, SORT_FIELD, ModelQuery, ModelRecord, Sort, field_label

# Human words for record fields, for notices and the "left out because unknown" counts ("config": what a
# fit is computed from).
FIELD_LABELS = {**{f.name: field_label(f.name) for f in fields(ModelRecord)}, "config": "memory fit (config facts)"}

# Where a source lacks a sort's field, the nearest sort it can serve (and it says so).
SORT_FALLBACK = {Sort.TRENDING: Sort.DOWNLOADS, Sort.UPDATED: Sort.CREATED,
                 Sort.LIKES: Sort.DOWNLOADS, Sort.DOWNLOADS: Sort.LIKES, Sort.CREATED: Sort.DOWNLOADS}


@dataclass(frozen=True)
class Condition:
    field: str  # a ModelRecord field
    # contains_ci (folded text) | eq | in | ge | le | between | any | has | fits (field "config": what a fit
    # is computed from)
    op: str
    value: Any = None


def conditions(query: ModelQuery, today: dt.date) -> list[Condition]:
    query.validate()
    found = []
    if query.text:
        found.append(Condition("id", "contains_ci", fold_text(query.text)))
    if query.task:
        found.append(Condition("task", "eq", query.task))
    if query.library:
        found.append(Condition("library", "eq", query.library))
    low, high = params_range(query)
    if low is not None:
        found.append(Condition("params", "ge", low))
    if high is not None:
        found.append(Condition("params", "le", high))
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
    if query.licenses:
        found.append(Condition("license", "in", tuple(sorted({name.lower() for name in query.licenses}))))
    if query.fits is not None:
        found.append(Condition("config", "fits", query.fits))
    return _merge_bounds(found)


# Characters a model name may use between its words, all folded to a dash.
SEPARATORS = " ._-"
_FOLD = str.maketrans({c: "-" for c in SEPARATORS})


def fold_text(text: str) -> str:
    """Lower case, every separator a dash: "Llama 3.1" and "llama_3-1" both read "llama-3-1"."""
    return text.lower().translate(_FOLD)


def params_range(query: ModelQuery) -> tuple[int | None, int | None]:
    """The inclusive range of raw parameter counts whose displayed size meets the bounds (one bisection
    each: `displayed_count` never decreases as the count grows)."""
    low = _first(lambda n: displayed_count(n) >= query.min_params) if query.min_params is not None else None
    high = _first(lambda n: displayed_count(n) > query.max_params) - 1 if query.max_params is not None else None
    return low, high


def displayed_count(count: int) -> int:
    """A parameter count as the size people read it: in its unit (K, M, B, T) to one decimal below 10 and
    whole from 10 up (8,030,261,248 reads 8.0B; 751,632,384 reads 752M), as Browse's table shows it."""
    for scale in (10**12, 10**9, 10**6, 10**3):
        if count >= scale:
            step = scale // 10 if count < 10 * scale else scale
            return (count + step // 2) // step * step
    return count


def _first(holds) -> int:
    """The smallest count in [0, MAX_COUNT + 1] for which `holds` (monotonic) is true."""
    low, high = 0, MAX_COUNT + 1
    while low < high:
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle + 1
    return low


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
        return cond.value in fold_text(value)
    if cond.op == "in":
        return value.lower() in cond.value
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
