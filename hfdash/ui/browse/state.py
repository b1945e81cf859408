"""Browse's state: the filter widgets that live in the URL, the query they describe, the selected model.

Each filter widget is bound to the URL with Streamlit's `bind="query-params"`: its key is its URL name
(the CLI's flag names), a link fills it, a change writes it, and Back/Forward restore it. Streamlit drops
a link value the widget cannot hold; `note_link_values` reads the link first so the page can say which.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from hfdash.catalog.records import ANY_PROVIDER, BOUNDS, MAX_LIMIT, FitsOn, ModelQuery, Sort, check_bound
from hfdash.config import CATALOG_SOURCES
from hfdash.ui import url_state
from hfdash.units import parse_count

# Widget key = URL name, per ModelQuery field.
QUERY_KEYS = {
    "text": "query", "task": "task", "library": "library", "min_params": "min_params",
    "max_params": "max_params", "provider": "provider", "min_likes": "min_likes",
    "min_downloads": "min_downloads", "created_after": "created_after",
    "created_within_days": "created_within", "updated_after": "updated_after",
    "updated_within_days": "updated_within", "gated": "gated", "sort": "sort", "limit": "limit",
}
# The "fits on" filter (ModelQuery.fits), after the CLI's --fits flags; "fits_", as the Hardware fit page
# keeps its own "fit_" keys in the same session.
FITS_KEYS = {"device": "fits", "dtype": "fits_dtype", "context": "fits_context", "runtime": "fits_runtime"}
# Links from before the rename: their value is named, not silently dropped.
RENAMED_KEYS = {"fit_dtype": "fits_dtype", "fit_context": "fits_context", "fit_runtime": "fits_runtime"}
LICENSE_KEY = "license"
SOURCE_KEY = "source"
VIEW_KEY = "view"
# Not a widget: the table's or chart's selection, kept in the URL through url_state.
MODEL_KEY = "model"

VIEWS = ("table", "chart")
GATED = {"gated": True, "open": False}
AUTO_RUNTIME = "auto"
DEFAULT_QUERY = ModelQuery()
DEFAULT_FITS = FitsOn(device="")
DATE_RANGE = {"min_value": dt.date(1970, 1, 1), "max_value": dt.date(2100, 1, 1)}
# Whole-number fields: URL name -> (low, high).
WHOLE = {QUERY_KEYS[name]: BOUNDS[name] for name in
         ("min_likes", "min_downloads", "created_within_days", "updated_within_days", "limit")}
PROBLEMS_KEY = "_browse_link_problems"
# What a choice widget's options are, for "unknown device 'x'. Valid devices: ...".
CHOICE_NOUNS = {"task": "task", "provider": "provider", "gated": "gated value", "sort": "sort", "fits": "device",
                "fits_dtype": "precision", "fits_runtime": "runtime", "source": "source", "view": "view"}


@dataclass(frozen=True)
class BrowseState:
    query: ModelQuery
    source: str
    view: str
    model: str | None


def choices(tasks: list[str], providers: list[str]) -> dict[str, list[str]]:
    """The options of each choice widget, by URL name (a link value outside them is not used)."""
    from hfdash.hardware.devices import device_ids
    from hfdash.hardware.estimate import DTYPES, RUNTIMES

    return {
        "task": tasks, "provider": [ANY_PROVIDER, *providers], "gated": list(GATED),
        "sort": [s.value for s in Sort], "fits": device_ids(), "fits_dtype": list(DTYPES),
        "fits_runtime": [AUTO_RUNTIME, *RUNTIMES], SOURCE_KEY: list(CATALOG_SOURCES), VIEW_KEY: list(VIEWS),
    }


def _link_problem(key: str, raw: str, options: dict[str, list[str]]) -> str | None:
    from hfdash.hardware.estimate import MAX_CONTEXT

    if key in options and options[key] and raw not in options[key]:
        noun = CHOICE_NOUNS[key]
        return f"unknown {noun} '{raw}'. Valid {noun}s: {', '.join(options[key])}"
    if key in ("min_params", "max_params"):
        try:
            parse_bound(key, raw)
        except ValueError as err:
            return str(err)
    bounds = WHOLE.get(key) or ((1, MAX_CONTEXT) if key == "fits_context" else None)
    if bounds is not None:
        if not raw.isdigit():
            return f"'{raw}' is not a whole number"
        low, high = bounds
        if not low <= int(raw) <= high:
            return f"must be at least {low:,} (got {int(raw):,})" if int(raw) < low else \
                f"must be at most {high:,} (got {int(raw):,})"
    if key in ("created_after", "updated_after"):
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            return f"'{raw}' is not a date (YYYY-MM-DD)"
        if not DATE_RANGE["min_value"] <= day <= DATE_RANGE["max_value"]:
            return f"{raw} is outside {DATE_RANGE['min_value'].year}..{DATE_RANGE['max_value'].year}"
    return None


def note_link_values(options: dict[str, list[str]]) -> None:
    """Before the widgets read the link: remember each link value they will not be able to hold."""
    problems = st.session_state.setdefault(PROBLEMS_KEY, {})
    for key in (*QUERY_KEYS.values(), *FITS_KEYS.values(), SOURCE_KEY, VIEW_KEY):
        raw = url_state.get(key)
        if raw:
            problem = _link_problem(key, raw.strip(), options)
            if problem:
                problems[key] = problem
    for old, new in RENAMED_KEYS.items():
        if url_state.get(old) and not url_state.get(new):
            problems[new] = f"this link names it {old} (now {new}); set it here"


def link_problem(key: str) -> str | None:
    return st.session_state.get(PROBLEMS_KEY, {}).get(key)


def forget_link_problem(key: str) -> None:
    """The user changed the field: what the link said about it is behind us."""
    st.session_state.get(PROBLEMS_KEY, {}).pop(key, None)


def parse_bound(key: str, raw: str) -> int | None:
    """A typed parameter bound ('8B', '1.5e9'); ValueError saying what is wrong."""
    return check_bound(key, parse_count(raw)) if raw.strip() else None


def current(default_source: str) -> BrowseState:
    """What the widgets (already drawn this run) describe; a parameter bound that cannot be read is left out
    (its field says so)."""
    ss = st.session_state
    bounds = {}
    for name in ("min_params", "max_params"):
        try:
            bounds[name] = parse_bound(name, ss.get(name) or "")
        except ValueError:
            bounds[name] = None
    device = ss.get("fits")
    fits = None if not device else FitsOn(
        device=device, dtype=ss.get("fits_dtype") or DEFAULT_FITS.dtype,
        context=int(ss.get("fits_context") or DEFAULT_FITS.context),
        runtime=None if ss.get("fits_runtime") in (None, AUTO_RUNTIME) else ss["fits_runtime"])
    query = ModelQuery(
        text=(ss.get("query") or "").strip() or None, task=ss.get("task"),
        library=(ss.get("library") or "").strip() or None, min_params=bounds.get("min_params"),
        max_params=bounds.get("max_params"), provider=ss.get("provider"), min_likes=_whole(ss.get("min_likes")),
        min_downloads=_whole(ss.get("min_downloads")), created_after=ss.get("created_after"),
        created_within_days=_whole(ss.get("created_within")), updated_after=ss.get("updated_after"),
        updated_within_days=_whole(ss.get("updated_within")),
        gated=GATED.get(ss.get("gated") or ""), licenses=tuple(ss.get(LICENSE_KEY) or ()) or None, fits=fits,
        sort=Sort(ss.get("sort") or DEFAULT_QUERY.sort.value),
        limit=min(int(ss.get("limit") or DEFAULT_QUERY.limit), MAX_LIMIT))
    return BrowseState(query=query, source=ss.get(SOURCE_KEY) or default_source, view=ss.get(VIEW_KEY) or VIEWS[0],
                       model=selected_model())


def _whole(value) -> int | None:
    return None if value is None else int(value)


def selected_model() -> str | None:
    return url_state.get(MODEL_KEY) or None


def select_model(model_id: str | None) -> None:
    url_state.write({MODEL_KEY: model_id or ""})
