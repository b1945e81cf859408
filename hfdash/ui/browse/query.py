"""Browse's search: one call to the catalog, and what to loosen when nothing matches.

The query's meaning (size bounds at the displayed precision, text folding, licences) is the catalog's own.
"""

from __future__ import annotations

from collections.abc import Callable

from hfdash.catalog.records import ModelQuery, SearchResult
from hfdash.config import Settings
from hfdash.errors import HfdashError, from_exception
from hfdash.ui import catalog_cache
from hfdash.ui.browse.state import DEFAULT_QUERY

# Filters a user can loosen when nothing matches: label -> the fields it clears.
LOOSENABLE = {
    "search text": ("text",), "task": ("task",), "library": ("library",), "licence": ("licenses",),
    "parameters": ("min_params", "max_params"), "provider": ("provider",), "min likes": ("min_likes",),
    "min downloads": ("min_downloads",), "created": ("created_after", "created_within_days"),
    "updated": ("updated_after", "updated_within_days"), "gated": ("gated",), "fits on": ("fits",),
}


def search(query: ModelQuery, source: str, settings: Settings) -> SearchResult:
    """Raises the service's HfdashError family."""
    try:
        return catalog_cache.search(query, source, settings)
    except HfdashError:
        raise
    except Exception as exc:  # anything the service did not map still reaches the user as a message
        raise from_exception(exc, what="Searching") from exc


def loosen_suggestions(query: ModelQuery, search_one: Callable[[ModelQuery], SearchResult]) -> list[str]:
    """Active filters that, dropped alone, would give results."""
    found = []
    for label, names in LOOSENABLE.items():
        if all(getattr(query, n) == getattr(DEFAULT_QUERY, n) for n in names):
            continue
        loosened = query.with_(limit=1, **{n: getattr(DEFAULT_QUERY, n) for n in names})
        if search_one(loosened).records:
            found.append(label)
    return found
