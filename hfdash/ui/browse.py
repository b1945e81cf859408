"""The Browse page: filter widgets <-> ModelQuery <-> URL query string, results table, chart, detail panel.

The URL is the page's state: a new URL (first load, reload, pasted link) fills the widgets; after
that the widgets are the truth and are written back to the URL on every run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

import pandas as pd
import streamlit as st

from hfdash.catalog.filters import FIELD_LABELS
from hfdash.catalog.records import (ANY_PROVIDER, BOUNDS, MAX_COUNT, MAX_LIMIT, MAX_WITHIN_DAYS, FitsOn, ModelQuery,
                                    ModelRecord, SearchResult, Sort, check_bound)
from hfdash.config import CATALOG_SOURCE_LABELS, CATALOG_SOURCES, Settings
from hfdash.errors import BadParameters, HfdashError, from_exception
from hfdash.safetext import without_links
from hfdash.ui import catalog_cache, model_facts, shortlist
from hfdash.units import human_count, parse_count
from hfdash.vocab import model_url

# Parameter slider stops, log-like, with an open end on both sides.
PARAM_STEPS = [parse_count(s) for s in
               "100M 200M 500M 1B 2B 3B 5B 8B 10B 15B 20B 30B 50B 70B 100B 200B 500B 1T".split()]
NO_MIN, NO_MAX = 0, 10**18
VIEWS = ("table", "chart")
Y_AXES = ("downloads", "likes")
GATED = {"any": None, "gated": True, "open": False}
GATED_LABELS = {"any": "any", "gated": "gated only", "open": "not gated"}
NO_PROVIDER_FILTER = ""
ANY_TASK = ""
DEFAULT_QUERY = ModelQuery()
NO_FIT_DEVICE = ""
AUTO_RUNTIME = "auto"
DATE_RANGE = {"min_value": dt.date(1970, 1, 1), "max_value": dt.date(2100, 1, 1), "format": "YYYY-MM-DD"}

# URL key per ModelQuery field; the names follow the CLI's flags.
URL_KEYS = {
    "text": "query", "task": "task", "library": "library", "min_params": "min_params",
    "max_params": "max_params", "provider": "provider", "min_likes": "min_likes",
    "min_downloads": "min_downloads", "created_after": "created_after",
    "created_within_days": "created_within", "updated_after": "updated_after",
    "updated_within_days": "updated_within", "gated": "gated", "sort": "sort", "limit": "limit",
}
# The "fits on" filter (ModelQuery.fits) in the URL, named as the CLI's --fits flags.
FITS_URL_KEYS = {"device": "fits", "dtype": "fit_dtype", "context": "fit_context", "runtime": "fit_runtime"}
PAGE_KEYS = ("source", "view", "y", "model")
ALL_URL_KEYS = (*URL_KEYS.values(), *FITS_URL_KEYS.values(), *PAGE_KEYS)

# Filters a user can loosen when nothing matches: label -> the fields it clears.
LOOSENABLE = {
    "search text": ("text",), "task": ("task",), "library": ("library",),
    "parameters": ("min_params", "max_params"), "provider": ("provider",), "min likes": ("min_likes",),
    "min downloads": ("min_downloads",), "created": ("created_after", "created_within_days"),
    "updated": ("updated_after", "updated_within_days"), "gated": ("gated",), "fits on": ("fits",),
}


@dataclass(frozen=True)
class BrowseState:
    query: ModelQuery
    source: str
    view: str = "table"
    y: str = "downloads"
    model: str | None = None


# --- URL <-> state (pure) -------------------------------------------------------------------

def _url_value(name: str, value) -> str:
    if name in ("min_params", "max_params"):
        short = human_count(value)
        return short if parse_count(short) == value else str(value)  # human units unless they round
    if name == "gated":
        return "gated" if value else "open"
    if isinstance(value, Sort):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def state_to_params(state: BrowseState, default_source: str) -> dict[str, str]:
    """Only what differs from the defaults, so links stay short."""
    params = {URL_KEYS[f.name]: _url_value(f.name, getattr(state.query, f.name)) for f in fields(ModelQuery)
              if f.name in URL_KEYS and getattr(state.query, f.name) != getattr(DEFAULT_QUERY, f.name)}
    if state.query.fits is not None:
        fits, default = state.query.fits, FitsOn(device="")
        params.update({key: str(getattr(fits, name)) for name, key in FITS_URL_KEYS.items()
                       if name == "device" or getattr(fits, name) != getattr(default, name)})
    page = {"source": (state.source, default_source), "view": (state.view, VIEWS[0]),
            "y": (state.y, Y_AXES[0]), "model": (state.model, None)}
    params.update({key: value for key, (value, default) in page.items() if value != default})
    return params


def _parse_field(name: str, raw: str, tasks: list[str], providers: list[str]):
    if name in ("min_params", "max_params"):
        return check_bound(name, parse_count(raw))
    if name in BOUNDS:
        if not raw.isdigit():
            raise ValueError(f"'{raw}' is not a whole number")
        return check_bound(name, int(raw))
    if name in ("created_after", "updated_after"):
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is not a date (YYYY-MM-DD)") from None
        if not DATE_RANGE["min_value"] <= day <= DATE_RANGE["max_value"]:
            raise ValueError(f"{raw} is outside {DATE_RANGE['min_value'].year}..{DATE_RANGE['max_value'].year}")
        return day
    if name == "sort":
        try:
            return Sort(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is not one of {', '.join(s.value for s in Sort)}") from None
    if name == "gated":
        if raw not in ("gated", "open"):
            raise ValueError(f"'{raw}' is not 'gated' or 'open'")
        return GATED[raw]
    if name == "task" and tasks and raw not in tasks:
        raise ValueError(f"unknown task '{raw}'. Valid tasks: {', '.join(tasks)}")
    if name == "provider" and raw != ANY_PROVIDER and providers and raw not in providers:
        raise ValueError(f"unknown provider '{raw}'. Valid: any, {', '.join(providers)}")
    return raw


def params_to_state(params: Mapping[str, str], default_source: str, *, tasks: list[str] = (),
                    providers: list[str] = ()) -> tuple[BrowseState, list[str]]:
    """The state a link describes, and one message per value that could not be used."""
    values, problems = {}, []
    for name, key in URL_KEYS.items():
        raw = (params.get(key) or "").strip()
        if not raw:
            continue
        try:
            values[name] = _parse_field(name, raw, list(tasks), list(providers))
        except ValueError as err:
            problems.append(f"{key}: {err}")
    fits = _parse_fits(params, problems)
    if fits is not None:
        values["fits"] = fits
    page = {}
    for key, allowed in (("source", CATALOG_SOURCES), ("view", VIEWS), ("y", Y_AXES)):
        raw = params.get(key)
        if raw and raw not in allowed:
            problems.append(f"{key}: '{raw}' is not one of {', '.join(allowed)}")
        elif raw:
            page[key] = raw
    state = BrowseState(query=ModelQuery(**values), source=page.get("source", default_source),
                        view=page.get("view", VIEWS[0]), y=page.get("y", Y_AXES[0]),
                        model=params.get("model") or None)
    return state, problems


def _parse_fits(params: Mapping[str, str], problems: list[str]) -> FitsOn | None:
    """The "fits on" filter a link describes; a part that cannot be used drops the filter, said once."""
    from hfdash.hardware.fitsfilter import check

    raw = {name: (params.get(key) or "").strip() for name, key in FITS_URL_KEYS.items()}
    if not raw["device"]:
        return None
    context = raw["context"] or str(FitsOn(device="").context)
    if not context.isdigit():
        problems.append(f"fit_context: '{context}' is not a whole number")
        return None
    fits = FitsOn(device=raw["device"], dtype=raw["dtype"] or FitsOn(device="").dtype, context=int(context),
                  runtime=raw["runtime"] or None)
    try:
        check(fits)
    except BadParameters as err:
        problems.append(f"fits: {err.message}")
        return None
    return fits


# --- widgets ------------------------------------------------------------------------------

W = "browse_"  # widget key prefix
URL_SEEN_KEY = "_browse_url"
PROBLEMS_KEY = "_browse_link_problems"
SELECTED_KEY = W + "model"
SHOWN_IDS_KEY = "_browse_shown_ids"
PARAMS_SEED_KEY = "_browse_params_seed"
LINK_ERROR_KEY = "_browse_link_error"
SEED_COUNT_KEY = "_browse_seed_count"


def _current_url_params() -> dict[str, str]:
    return {key: st.query_params[key] for key in ALL_URL_KEYS if key in st.query_params}


def _seed_widgets(state: BrowseState) -> None:
    q, ss = state.query, st.session_state
    ss[W + "text"] = q.text or ""
    ss[W + "task"] = q.task or ANY_TASK
    ss[W + "library"] = q.library or ""
    # A range select_slider only stays a range when built with `value=`, so it is seeded through a new
    # key (a fresh widget) and its value rather than through session state.
    ss[PARAMS_SEED_KEY] = (NO_MIN if q.min_params is None else q.min_params,
                           NO_MAX if q.max_params is None else q.max_params)
    ss[SEED_COUNT_KEY] = ss.get(SEED_COUNT_KEY, 0) + 1
    ss[W + "provider"] = q.provider or NO_PROVIDER_FILTER
    for name in ("min_likes", "min_downloads", "created_after", "created_within_days", "updated_after",
                 "updated_within_days", "limit"):
        ss[W + name] = getattr(q, name)
    ss[W + "gated"] = next(key for key, value in GATED.items() if value == q.gated)
    fits = q.fits or FitsOn(device=NO_FIT_DEVICE)
    ss[W + "fits"], ss[W + "fit_dtype"], ss[W + "fit_context"] = fits.device, fits.dtype, fits.context
    ss[W + "fit_runtime"] = fits.runtime or AUTO_RUNTIME
    ss[W + "sort"] = q.sort.value
    ss[W + "source"] = state.source
    ss[W + "view"] = state.view
    ss[W + "y"] = state.y
    ss[SELECTED_KEY] = state.model


def _sync_from_url(settings: Settings, tasks: list[str], providers: list[str]) -> None:
    params = _current_url_params()
    if params != st.session_state.get(URL_SEEN_KEY) or W + "sort" not in st.session_state:
        state, problems = params_to_state(params, settings.catalog_source, tasks=tasks, providers=providers)
        _seed_widgets(state)
        st.session_state[URL_SEEN_KEY] = params
        st.session_state[PROBLEMS_KEY] = problems
        try:
            state.query.validate()
        except BadParameters as err:
            # The widgets cannot show this (the slider orders its ends), so say it before they do.
            st.session_state[LINK_ERROR_KEY] = err.user_message()


def _write_url(state: BrowseState, default_source: str) -> None:
    params = state_to_params(state, default_source)
    for key in ALL_URL_KEYS:
        if key in params:
            if st.query_params.get(key) != params[key]:
                st.query_params[key] = params[key]
        elif key in st.query_params:
            del st.query_params[key]
    if params != st.session_state.get(URL_SEEN_KEY):
        st.session_state[PROBLEMS_KEY] = []  # the link's problems are behind us once the user edits
    st.session_state[URL_SEEN_KEY] = params


def _param_label(value: int) -> str:
    return {NO_MIN: "no min", NO_MAX: "no max"}.get(value) or human_count(value)


def _with_current(options: list[str], current: str) -> list[str]:
    """A selectbox's options, keeping a current value that the known lists lack."""
    return options if current in options else [*options, current]


def _render_filters(tasks: list[str], providers: list[str]) -> BrowseState:
    ss = st.session_state
    # A link may carry a bound between the slider's stops: offer it rather than lose it.
    params_key = f"{W}params_{ss[SEED_COUNT_KEY]}"
    stops = sorted({NO_MIN, NO_MAX, *PARAM_STEPS, *ss.get(params_key, ss[PARAMS_SEED_KEY])})
    task_options = _with_current([ANY_TASK, *tasks], ss[W + "task"])
    provider_options = _with_current([NO_PROVIDER_FILTER, ANY_PROVIDER, *providers], ss[W + "provider"])

    with st.container(border=True):
        c1, c2, c3, c4 = st.columns(4)
        c1.text_input("Search model ids", key=W + "text", placeholder="e.g. qwen, llama",
                      help="Case-insensitive substring of the repo id.")
        c2.selectbox("Task", task_options, key=W + "task", format_func=lambda t: t or "any task")
        c3.text_input("Library", key=W + "library", placeholder="e.g. transformers, gguf")
        c4.selectbox("Inference provider", provider_options, key=W + "provider",
                     format_func=lambda p: {NO_PROVIDER_FILTER: "no filter", ANY_PROVIDER: "any provider"}.get(p, p),
                     help="Hosted availability: any provider, or a named one.")
        c1, c2, c3 = st.columns([2, 1, 1])
        low, high = c1.select_slider("Parameters", stops, value=ss[PARAMS_SEED_KEY], key=params_key,
                                     format_func=_param_label,
                                     help="Inclusive range (M = million, B = billion, T = trillion).")
        c2.number_input("Min likes", min_value=0, max_value=MAX_COUNT, step=1, key=W + "min_likes",
                        placeholder="any")
        c3.number_input("Min downloads (30 days)", min_value=0, max_value=MAX_COUNT, step=1,
                        key=W + "min_downloads", placeholder="any")
        c1, c2, c3, c4, c5 = st.columns(5)
        c1.date_input("Created on or after", key=W + "created_after", **DATE_RANGE)
        c2.number_input("Created within (days)", min_value=0, max_value=MAX_WITHIN_DAYS, step=1,
                        key=W + "created_within_days", placeholder="any")
        c3.date_input("Updated on or after", key=W + "updated_after", **DATE_RANGE)
        c4.number_input("Updated within (days)", min_value=0, max_value=MAX_WITHIN_DAYS, step=1,
                        key=W + "updated_within_days", placeholder="any")
        c5.selectbox("Gated", list(GATED), key=W + "gated", format_func=GATED_LABELS.get)
        _render_fits_filter()
        c1, c2, c3 = st.columns([1, 1, 2])
        c1.selectbox("Sort by", [s.value for s in Sort], key=W + "sort", format_func=str.capitalize,
                     help="Descending; ties by id; unknown values last.")
        c2.number_input("Limit", min_value=1, max_value=MAX_LIMIT, step=10, key=W + "limit")
        c3.radio("Source", CATALOG_SOURCES, key=W + "source", horizontal=True, format_func=CATALOG_SOURCE_LABELS.get)

    query = ModelQuery(
        text=ss[W + "text"].strip() or None, task=ss[W + "task"] or None,
        library=ss[W + "library"].strip() or None,
        min_params=None if low == NO_MIN else low, max_params=None if high == NO_MAX else high,
        provider=ss[W + "provider"] or None, min_likes=ss[W + "min_likes"],
        min_downloads=ss[W + "min_downloads"], created_after=ss[W + "created_after"],
        created_within_days=ss[W + "created_within_days"], updated_after=ss[W + "updated_after"],
        updated_within_days=ss[W + "updated_within_days"], gated=GATED[ss[W + "gated"]],
        fits=FitsOn(device=ss[W + "fits"], dtype=ss[W + "fit_dtype"], context=int(ss[W + "fit_context"]),
                    runtime=None if ss[W + "fit_runtime"] == AUTO_RUNTIME else ss[W + "fit_runtime"])
        if ss[W + "fits"] != NO_FIT_DEVICE else None,
        sort=Sort(ss[W + "sort"]), limit=int(ss[W + "limit"] or DEFAULT_QUERY.limit))
    return BrowseState(query=query, source=ss[W + "source"], view=ss.get(W + "view", VIEWS[0]),
                       y=ss.get(W + "y", Y_AXES[0]), model=ss.get(SELECTED_KEY))


def _render_fits_filter() -> None:
    """Fits on: a device, at a precision, context and runtime (the CLI's --fits flags)."""
    from hfdash.hardware.devices import device_ids
    from hfdash.hardware.estimate import DTYPES, MAX_CONTEXT, RUNTIMES

    ss = st.session_state
    c1, c2, c3, c4 = st.columns(4)
    c1.selectbox("Fits on", _with_current([NO_FIT_DEVICE, *device_ids()], ss[W + "fits"]), key=W + "fits",
                 format_func=lambda d: d or "no filter",
                 help="Only models whose estimated memory fits one such device; models whose fit is unknown "
                      "(no parameter count or KV-cache facts) are counted as left out.")
    c2.selectbox("at precision", DTYPES, key=W + "fit_dtype")
    c3.number_input("at context (tokens)", min_value=1, max_value=MAX_CONTEXT, step=1024, key=W + "fit_context")
    c4.selectbox("on runtime", [AUTO_RUNTIME, *RUNTIMES], key=W + "fit_runtime",
                 help="auto: llama.cpp for GGUF precisions, transformers for the others.")


# --- searching ----------------------------------------------------------------------------

def _search(query: ModelQuery, source: str, settings: Settings) -> SearchResult:
    try:
        return catalog_cache.search(query, source, settings)
    except HfdashError:
        raise
    except Exception as exc:  # anything the service did not map still reaches the user as a message
        raise from_exception(exc, what="Searching") from exc


def run_search(query: ModelQuery, source: str, settings: Settings) -> SearchResult | None:
    """Search; which source answers (and any fallback notice) is the catalog's source policy. A failure is
    shown as a message; None when nothing answered."""
    try:
        return _search(query, source, settings)
    except HfdashError as err:
        st.error(without_links(err.user_message()))
        return None


def loosen_suggestions(query: ModelQuery, search: Callable[[ModelQuery], SearchResult]) -> list[str]:
    """Active filters that, dropped alone, would give results."""
    found = []
    for label, names in LOOSENABLE.items():
        if all(getattr(query, n) == getattr(DEFAULT_QUERY, n) for n in names):
            continue
        loosened = query.with_(limit=1, **{n: getattr(DEFAULT_QUERY, n) for n in names})
        if search(loosened).records:
            found.append(label)
    return found


# --- results ------------------------------------------------------------------------------

def results_frame(records: list[ModelRecord], endpoint: str) -> pd.DataFrame:
    return pd.DataFrame({
        "Model": [model_url(r.id, endpoint) for r in records],
        "Task": [r.task for r in records],
        "Parameters": pd.array([r.params for r in records], dtype="Int64"),
        "Likes": pd.array([r.likes for r in records], dtype="Int64"),
        "Downloads": pd.array([r.downloads for r in records], dtype="Int64"),
        "Created": pd.to_datetime(pd.Series([r.created_at for r in records], dtype="object")),
        "Providers": [model_facts.providers_text(r.providers) for r in records],
    })


TABLE_COLUMNS = {
    "Model": st.column_config.LinkColumn("Model", display_text=r"^https?://[^/]+/(.*)$", width="large",
                                         help="Opens the model's page on the Hub"),
    "Parameters": st.column_config.NumberColumn("Parameters", format="compact"),
    "Likes": st.column_config.NumberColumn("Likes", format="localized"),
    "Downloads": st.column_config.NumberColumn("Downloads", format="localized", help="Last 30 days"),
    "Created": st.column_config.DateColumn("Created", format="YYYY-MM-DD"),
}


def _on_table_select() -> None:
    rows = st.session_state[W + "table"]["selection"]["rows"]
    ids = st.session_state.get(SHOWN_IDS_KEY, [])
    st.session_state[SELECTED_KEY] = ids[rows[0]] if rows and rows[0] < len(ids) else None


def _on_chart_select() -> None:
    points = st.session_state[W + "chart"]["selection"]["points"]
    if points and points[0].get("customdata"):
        st.session_state[SELECTED_KEY] = points[0]["customdata"][0]


def _render_table(records: list[ModelRecord]) -> None:
    st.dataframe(results_frame(records, catalog_cache.current_settings().endpoint), key=W + "table", hide_index=True, column_config=TABLE_COLUMNS,
                 on_select=_on_table_select, selection_mode="single-row", width="stretch")
    st.caption("Select a row to see its details.")


def chart_figure(records: list[ModelRecord], y: str):
    """Parameters against downloads or likes on log axes; the records that cannot be placed are counted."""
    import plotly.express as px

    points = [r for r in records if r.params and getattr(r, y)]
    frame = pd.DataFrame({"id": [r.id for r in points], "parameters": [r.params for r in points],
                          y: [getattr(r, y) for r in points], "task": [r.task or "unknown" for r in points]})
    figure = px.scatter(frame, x="parameters", y=y, color="task", hover_name="id", custom_data=["id"],
                        log_x=True, log_y=True, labels={"parameters": "Parameters", y: y.capitalize(),
                                                        "task": "Task"})
    figure.update_traces(marker={"size": 10})
    figure.update_layout(height=520, margin={"t": 20})
    return figure, len(records) - len(points)


def _render_chart(records: list[ModelRecord]) -> None:
    y = st.radio("Vertical axis", Y_AXES, key=W + "y", horizontal=True, format_func=str.capitalize)
    figure, left_out = chart_figure(records, y)
    st.plotly_chart(figure, key=W + "chart", on_select=_on_chart_select, selection_mode="points",
                    width="stretch")
    note = "Click a point to see its details."
    if left_out:
        note += f" {left_out} not plotted: parameters or {y} unknown or zero (log axes)."
    st.caption(note)


def _render_status(result: SearchResult) -> None:
    where = {"hub": "the live Hub", "snapshot": "the offline snapshot"}.get(result.source, result.source)
    shown = len(result.records)
    line = f"**{shown}** models" if result.total is None or result.total == shown else \
        f"**{shown}** of **{result.total:,}** matching models"
    line += f" from **{where}**"
    if result.snapshot_date:
        line += f" · snapshot of {result.snapshot_date.isoformat()}"
    left_out = {k: v for k, v in result.excluded_unknown.items() if v}
    if left_out:
        line += " · left out because the filtered field is unknown: " + ", ".join(
            f"{FIELD_LABELS.get(field, field)} {count:,}" for field, count in left_out.items())
    st.markdown(line)
    for notice in result.notices:
        st.info(without_links(notice))


def _render_empty(query: ModelQuery, result: SearchResult, settings: Settings) -> None:
    def search(loosened: ModelQuery) -> SearchResult:
        return catalog_cache.search(loosened, result.source, settings)

    try:
        hints = loosen_suggestions(query, search)
    except HfdashError as err:
        st.warning(without_links(f"No models match these filters ({err.user_message()})"))
        return
    if hints:
        st.warning("No models match these filters. Loosen " + " or ".join(f"**{h}**" for h in hints)
                   + " to get results.")
    elif query == DEFAULT_QUERY:
        st.warning("This source has no models.")
    else:
        st.warning("No models match these filters, and loosening any single one is not enough: "
                   "clear several filters.")


# --- detail panel -------------------------------------------------------------------------

def _close_detail() -> None:
    st.session_state[SELECTED_KEY] = None


def _render_detail(model_id: str, result: SearchResult, settings: Settings) -> None:
    listed = next((r for r in result.records if r.id == model_id), None)
    try:
        record = catalog_cache.get_model(model_id, result.source, settings)
    except HfdashError as err:
        if listed is None:
            st.warning(without_links(f"{model_id}: {err.user_message()}"))
            st.button("Close", key=W + "close", on_click=_close_detail)
            return
        record = listed
        st.caption(without_links(f"Details from the search results only: {err.user_message()}"))
    with st.container(border=True):
        head, close = st.columns([8, 1], vertical_alignment="center")
        head.subheader(without_links(record.id))
        close.button("Close", key=W + "close", on_click=_close_detail, icon=":material/close:")
        hub, fit, play, keep = st.columns(4, vertical_alignment="center")
        hub.markdown(f"[Open on the Hub]({model_url(record.id, settings.endpoint)})")
        with fit:
            shortlist.page_link(shortlist.HARDWARE_FIT_PAGE, "Check hardware fit", models=[record.id],
                                icon=":material/memory:")
        with play:
            shortlist.page_link(shortlist.PLAYGROUND_PAGE, "Try in playground", models=[record.id],
                                icon=":material/chat:")
        with keep:
            shortlist.toggle_button(record.id, key=W + "shortlist_toggle")
        overview, config, offers = st.columns([1, 1, 2])
        with overview:
            st.markdown("**Overview**")
            _facts_table(model_facts.overview_facts(record))
        with config:
            st.markdown("**Config**")
            facts = model_facts.config_facts(record.config, known_only=True)
            if facts:
                _facts_table(facts)
            else:
                st.caption("No config facts known for this model.")
        with offers:
            st.markdown("**Hosted providers and prices** (USD per 1M tokens)")
            if record.offers:
                st.dataframe(model_facts.offers_frame(record), hide_index=True, width="stretch")
            elif record.providers is None:
                st.caption("Hosted availability is unknown to this source.")
            else:
                st.caption("No hosted provider known for this model.")


def _facts_table(facts: dict[str, str]) -> None:
    st.dataframe(pd.DataFrame(list(facts.items()), columns=["Fact", "Value"]), hide_index=True, width="stretch")


# --- the page -----------------------------------------------------------------------------

def _known_lists(settings: Settings) -> tuple[list[str], list[str]]:
    try:
        return catalog_cache.known_tasks(settings), catalog_cache.known_providers(settings)
    except HfdashError as err:
        st.error(without_links(err.user_message()))
        return [], []


def render() -> None:
    settings = catalog_cache.current_settings()
    tasks, providers = _known_lists(settings)
    _sync_from_url(settings, tasks, providers)
    for problem in st.session_state.get(PROBLEMS_KEY, []):
        st.warning(without_links(f"From the link, not used: {problem}"))
    state = _render_filters(tasks, providers)
    link_error = st.session_state.pop(LINK_ERROR_KEY, None)
    if link_error:
        # The link stays as it was until the user changes a filter.
        st.error(without_links(f"This link's filters cannot be searched: {link_error} "
                                 "Change a filter to search again."))
        return
    _write_url(state, settings.catalog_source)
    try:
        query = state.query.validate()
    except BadParameters as err:
        st.error(without_links(err.user_message()))
        return
    result = run_search(query, state.source, settings)
    if result is None:
        return
    _render_status(result)
    if not result.records:
        _render_empty(query, result, settings)
        return
    st.session_state[SHOWN_IDS_KEY] = [r.id for r in result.records]
    view = st.radio("View", VIEWS, key=W + "view", horizontal=True, format_func=str.capitalize,
                    label_visibility="collapsed")
    if view == "table":
        _render_table(result.records)
    else:
        _render_chart(result.records)
    if st.session_state.get(SELECTED_KEY):
        _render_detail(st.session_state[SELECTED_KEY], result, settings)
