"""Browse's search: the query as the user reads it, one call to the catalog, and what to loosen when empty.

Three things the catalog's ModelQuery does not yet express are applied here: parameter bounds compared
at the precision the table shows, a search text whose spaces stand for dashes, and the licence filter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import replace

from hfdash.catalog.records import MAX_LIMIT, ModelQuery, SearchResult
from hfdash.config import Settings
from hfdash.errors import HfdashError, from_exception
from hfdash.ui import catalog_cache
from hfdash.ui.browse.state import DEFAULT_QUERY

# Filters a user can loosen when nothing matches: label -> the fields it clears.
LOOSENABLE = {
    "search text": ("text",), "task": ("task",), "library": ("library",),
    "parameters": ("min_params", "max_params"), "provider": ("provider",), "min likes": ("min_likes",),
    "min downloads": ("min_downloads",), "created": ("created_after", "created_within_days"),
    "updated": ("updated_after", "updated_within_days"), "gated": ("gated",), "fits on": ("fits",),
}
LICENSE_LABEL = "licence"
LICENSE_SCOPE_NOTICE = (f"The licence filter looks at the first {MAX_LIMIT:,} models in this order; "
                        "narrow the other filters to reach further.")


def display_step(count: float) -> float:
    """The table's rounding step at `count`: two significant digits in K/M/B/T, whole units from 10 up
    (8.03B shows as 8B, 6.74B as 6.7B, 14.8B as 15B)."""
    if count < 1:
        return 1
    unit = 10 ** (3 * (int(math.log10(count)) // 3))
    return unit / 10 if count / unit < 10 else unit


def displayed_bounds(low: int | None, high: int | None) -> tuple[int | None, int | None]:
    """Inclusive raw bounds that keep every count the table shows within [low, high]: "8B" as a maximum
    keeps 8.03B, which the table shows as 8B."""
    if low is not None and low > 0:
        step = display_step(low)
        shown = math.ceil(low / step - 1e-9) * step  # the smallest shown value at or above `low`
        low = math.ceil(shown - display_step(shown - 1) / 2)
    if high is not None:
        step = display_step(high)
        shown = math.floor(high / step + 1e-9) * step  # the largest shown value at or below `high`
        high = math.ceil(shown + display_step(shown) / 2) - 1
    return low, high


def search_text(text: str | None) -> str | None:
    """Spaces in the search text stand for the dashes repo ids use: "Llama 3.1" finds llama-3.1 models."""
    return re.sub(r"\s+", "-", text.strip()) if text else text


def as_searched(query: ModelQuery) -> ModelQuery:
    """The query as the catalog must run it to match what the user reads on the page."""
    low, high = displayed_bounds(query.min_params, query.max_params)
    return query.with_(text=search_text(query.text), min_params=low, max_params=high)


def search(query: ModelQuery, licenses: tuple[str, ...], source: str, settings: Settings) -> SearchResult:
    """Raises the service's HfdashError family."""
    try:
        if not licenses:
            return catalog_cache.search(as_searched(query), source, settings)
        # Licence is matched on the results: ask for the most the catalog gives, keep the licensed ones.
        result = catalog_cache.search(as_searched(query).with_(limit=MAX_LIMIT), source, settings)
        kept = [r for r in result.records if r.license in licenses]
        counted = result.total is not None and result.total <= MAX_LIMIT
        notices = result.notices if counted else [*result.notices, LICENSE_SCOPE_NOTICE]
        return replace(result, records=kept[:query.limit], total=len(kept) if counted else None, notices=notices)
    except HfdashError:
        raise
    except Exception as exc:  # anything the service did not map still reaches the user as a message
        raise from_exception(exc, what="Searching") from exc


def loosen_suggestions(query: ModelQuery, licenses: tuple[str, ...],
                       search_one: Callable[[ModelQuery, tuple[str, ...]], SearchResult]) -> list[str]:
    """Active filters that, dropped alone, would give results."""
    found = []
    for label, names in LOOSENABLE.items():
        if all(getattr(query, n) == getattr(DEFAULT_QUERY, n) for n in names):
            continue
        loosened = query.with_(limit=1, **{n: getattr(DEFAULT_QUERY, n) for n in names})
        if search_one(loosened, licenses).records:
            found.append(label)
    if licenses and search_one(query.with_(limit=1), ()).records:
        found.append(LICENSE_LABEL)
    return found
