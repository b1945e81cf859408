"""Browse's view: the filter widgets (bound to the URL), the status line, the table and the chart."""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd
import streamlit as st

from hfdash.catalog.filters import FIELD_LABELS
from hfdash.catalog.records import (MAX_COUNT, MAX_LIMIT, MAX_WITHIN_DAYS, SORT_FIELD, Column, ModelRecord,
                                    SearchResult, Sort, column, format_value, table_columns)
from hfdash.config import CATALOG_SOURCE_LABELS, CATALOG_SOURCES
from hfdash.safetext import without_links
from hfdash.ui import url_state
from hfdash.ui.browse import state
from hfdash.ui.browse.state import (DATE_RANGE, DEFAULT_FITS, DEFAULT_QUERY, FITS_KEYS, LICENSE_KEY, QUERY_KEYS,
                                    SOURCE_KEY, VIEW_KEY, VIEWS)
from hfdash.units import human_count
from hfdash.vocab import model_url

BIND = "query-params"
TABLE_KEY = "browse_table"
CHART_KEY = "browse_chart"
SHOWN_IDS_KEY = "_browse_shown_ids"
PARAMS_HELP = ("A count such as 135M, 8B or 1.5e9; inclusive. Bounds compare at the precision the table shows: "
               "\"8B\" includes 8.03B, which shows as 8B.")
# Filters in "More filters" (URL names), for its "N set" label.
MORE_KEYS = ("library", "provider", "min_likes", "min_downloads", "created_after", "created_within", "updated_after",
             "updated_within", "gated", "fits")


def _note(key: str) -> None:
    """A link value this field could not hold, said at the field."""
    problem = state.link_problem(key)
    if problem:
        st.warning(without_links(f"From the link, not used: {key}: {problem}"))


def _bound(widget, label: str, key: str, **kwargs):
    """A filter widget bound to the URL under its key; changing it settles what the link said about it."""
    value = widget(label, key=key, bind=BIND, on_change=state.forget_link_problem, args=(key,), **kwargs)
    _note(key)
    return value


def render_filters(options: dict[str, list[str]], licenses: list[str], default_source: str) -> None:
    """The main filters in one row; the rest in an expander that opens when one of them is set."""
    search, task, license_, low, high, sort = st.columns([3, 2, 2, 1.4, 1.4, 1.5])
    with search:
        _bound(st.text_input, "Search model ids", QUERY_KEYS["text"], placeholder="e.g. qwen, Llama 3.1",
               help="Case-insensitive part of the repo id; spaces, dashes, dots and underscores match each other.")
    with task:
        _bound(st.selectbox, "Task", "task", options=options["task"], index=None, placeholder="any task")
    with license_:
        _bound(st.multiselect, "License", LICENSE_KEY, options=licenses, placeholder="any license",
               accept_new_options=True, help="The licence id on the Hub, e.g. apache-2.0, mit, llama3.1.")
    with low:
        _params_bound("Min parameters", "min_params", "no min")
    with high:
        _params_bound("Max parameters", "max_params", "no max")
    with sort:
        _bound(st.selectbox, "Sort by", "sort", options=options["sort"],
               index=options["sort"].index(DEFAULT_QUERY.sort.value), help="Descending; ties by id; unknown last.")
    # Before its widgets are drawn a link's values are only in the URL; after a change, only in session state.
    ss = st.session_state
    active = sum(ss.get(key) not in (None, "") or bool(url_state.get(key)) for key in MORE_KEYS)
    problems = any(state.link_problem(key) for key in (*QUERY_KEYS.values(), *FITS_KEYS.values(), SOURCE_KEY))
    label = f"More filters ({active} set)" if active else "More filters"
    with st.expander(label, expanded=bool(active or problems), icon=":material/tune:"):
        _more_filters(options, default_source)


def _more_filters(options: dict[str, list[str]], default_source: str) -> None:
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        _bound(st.text_input, "Library", "library", placeholder="e.g. transformers, gguf")
    with c2:
        _bound(st.selectbox, "Inference provider", "provider", options=options["provider"], index=None,
               placeholder="no filter", help="Hosted availability: any provider, or a named one.")
    with c3:
        _bound(st.number_input, "Min likes", "min_likes", min_value=0, max_value=MAX_COUNT, step=1, value=None,
               placeholder="any")
    with c4:
        _bound(st.number_input, "Min downloads (30 days)", "min_downloads", min_value=0, max_value=MAX_COUNT,
               step=1, value=None, placeholder="any")
    c1, c2, c3, c4, c5 = st.columns(5)
    with c1:
        _bound(st.date_input, "Created on or after", "created_after", value=None, format="YYYY-MM-DD", **DATE_RANGE)
    with c2:
        _bound(st.number_input, "Created within (days)", "created_within", min_value=0, max_value=MAX_WITHIN_DAYS,
               step=1, value=None, placeholder="any")
    with c3:
        _bound(st.date_input, "Updated on or after", "updated_after", value=None, format="YYYY-MM-DD", **DATE_RANGE)
    with c4:
        _bound(st.number_input, "Updated within (days)", "updated_within", min_value=0, max_value=MAX_WITHIN_DAYS,
               step=1, value=None, placeholder="any")
    with c5:
        _bound(st.selectbox, "Gated", "gated", options=options["gated"], index=None, placeholder="any")
    _fits_filter(options)
    c1, c2 = st.columns([1, 3])
    with c1:
        _bound(st.number_input, "Limit", "limit", min_value=1, max_value=MAX_LIMIT, step=10,
               value=DEFAULT_QUERY.limit)
    with c2:
        _bound(st.radio, "Source", SOURCE_KEY, options=options[SOURCE_KEY],
               index=CATALOG_SOURCES.index(default_source), horizontal=True,
               help=" · ".join(f"{s}: {CATALOG_SOURCE_LABELS[s]}" for s in CATALOG_SOURCES))


def _fits_filter(options: dict[str, list[str]]) -> None:
    """Fits on: a device, at a precision, context and runtime (the CLI's --fits flags)."""
    from hfdash.hardware.estimate import MAX_CONTEXT

    c1, c2, c3, c4 = st.columns(4)
    with c1:
        _bound(st.selectbox, "Fits on", "fits", options=options["fits"], index=None, placeholder="no filter",
               help="Only models whose estimated memory fits one such device; models whose fit is unknown "
                    "(no parameter count or KV-cache facts) are counted as left out.")
    with c2:
        _bound(st.selectbox, "at precision", "fits_dtype", options=options["fits_dtype"],
               index=options["fits_dtype"].index(DEFAULT_FITS.dtype))
    with c3:
        _bound(st.number_input, "at context (tokens)", "fits_context", min_value=1, max_value=MAX_CONTEXT, step=1024,
               value=DEFAULT_FITS.context)
    with c4:
        _bound(st.selectbox, "on runtime", "fits_runtime", options=options["fits_runtime"], index=0,
               help="auto: llama.cpp for GGUF precisions, transformers for the others.")


def _params_bound(label: str, key: str, placeholder: str) -> None:
    """A typed parameter bound; one that cannot be read is said at the field and left out of the search."""
    raw = _bound(st.text_input, label, key, placeholder=placeholder, help=PARAMS_HELP)
    if state.link_problem(key):
        return  # said already, as the link's
    try:
        state.parse_bound(key, raw)
    except ValueError as err:
        st.warning(without_links(f"Not used: {err}."))


def render_view_choice() -> str:
    return _bound(st.radio, "View", VIEW_KEY, options=list(VIEWS), index=0, horizontal=True,
                  label_visibility="collapsed")


# --- results ------------------------------------------------------------------------------

def _result_columns() -> tuple[Column, ...]:
    """The catalog's result-table columns, with the licence (a filter of this page) after the task."""
    columns = list(table_columns())
    after_task = next(i for i, c in enumerate(columns) if c.name == "task") + 1
    return (*columns[:after_task], column("license"), *columns[after_task:])


RESULT_COLUMNS = _result_columns()
WIDTHS: dict[str, Literal["small", "medium", "large"]] = {"id": "medium", "providers": "large"}  # else small


def _values(records: list[ModelRecord], col: Column, endpoint: str):
    values = [getattr(r, col.name) for r in records]
    if col.name == "id":
        return [model_url(v, endpoint) for v in values]
    if col.format in ("int", "count"):
        return pd.array(values, dtype="Int64")
    if col.format == "date":
        return pd.to_datetime(pd.Series(values, dtype="object"))
    if col.format == "list":
        return [format_value(v, col.format) for v in values]
    return values


def results_frame(records: list[ModelRecord], endpoint: str) -> pd.DataFrame:
    return pd.DataFrame({col.label: _values(records, col, endpoint) for col in RESULT_COLUMNS})


def _column_config(col: Column):
    width = WIDTHS.get(col.name, "small")
    if col.name == "id":
        return st.column_config.LinkColumn(col.label, display_text=r"^https?://[^/]+/(.*)$", width=width,
                                           help="Opens the model's page on the Hub")
    if col.format in ("int", "count"):
        return st.column_config.NumberColumn(col.label, format="compact" if col.format == "count" else "localized",
                                             help=col.help, width=width)
    if col.format == "date":
        return st.column_config.DateColumn(col.label, format="YYYY-MM-DD", help=col.help, width=width)
    return st.column_config.TextColumn(col.label, help=col.help, width=width)


TABLE_COLUMNS = {col.label: _column_config(col) for col in RESULT_COLUMNS}


def _on_table_select() -> None:
    rows = st.session_state[TABLE_KEY]["selection"]["rows"]
    ids = st.session_state.get(SHOWN_IDS_KEY, [])
    state.select_model(ids[rows[0]] if rows and rows[0] < len(ids) else None)


def _on_chart_select() -> None:
    points = st.session_state[CHART_KEY]["selection"]["points"]
    if points and points[0].get("customdata"):
        state.select_model(points[0]["customdata"][0])


def render_table(records: list[ModelRecord], endpoint: str) -> None:
    st.session_state[SHOWN_IDS_KEY] = [r.id for r in records]
    st.dataframe(results_frame(records, endpoint), key=TABLE_KEY, hide_index=True, column_config=TABLE_COLUMNS,
                 on_select=_on_table_select, selection_mode="single-row", width="stretch")
    st.caption("Select a row to see its details.")


# The chart's vertical axis: the sort's field, on a log scale where it is a count.
Y_LABELS = {field: column(field).label for field in SORT_FIELD.values()}
LOG_Y = ("trending", "likes", "downloads")


def _y_text(field: str, value) -> str:
    if field in ("likes", "downloads"):
        return f"{value:,}"
    if field == "trending":
        return f"{value:g}"
    return value.isoformat()


def _log_ticks(values: list[int]) -> tuple[list[int], list[str]]:
    """Powers of ten across `values`, labelled as the table writes counts (1B, not 1G)."""
    low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    ticks = [10**p for p in range(low, high + 1)]
    return ticks, [human_count(t) for t in ticks]


def chart_axis(records: list[ModelRecord], sort: Sort) -> str:
    """The sort's record field, or downloads where no record knows it (the source served another sort)."""
    field = SORT_FIELD[sort]
    return field if any(getattr(r, field) is not None for r in records) else SORT_FIELD[Sort.DOWNLOADS]


def chart_figure(records: list[ModelRecord], y: str):
    """Parameters against record field `y`; the records that cannot be placed are counted."""
    import plotly.express as px

    log_y = y in LOG_Y
    points = [r for r in records if r.params and getattr(r, y) is not None and (not log_y or getattr(r, y) > 0)]
    frame = pd.DataFrame({"id": [r.id for r in points], "parameters": [r.params for r in points],
                          y: [getattr(r, y) for r in points], "task": [r.task or "unknown" for r in points],
                          "params_text": [human_count(r.params) for r in points],
                          "y_text": [_y_text(y, getattr(r, y)) for r in points]})
    figure = px.scatter(frame, x="parameters", y=y, color="task", custom_data=["id", "params_text", "y_text"],
                        log_x=True, log_y=log_y, labels={"parameters": "Parameters", y: Y_LABELS[y], "task": "Task"})
    figure.update_traces(marker={"size": 10}, hovertemplate=(
        f"<b>%{{customdata[0]}}</b><br>Parameters: %{{customdata[1]}}<br>{Y_LABELS[y]}: %{{customdata[2]}}"
        "<extra>%{fullData.name}</extra>"))
    if points:
        ticks, labels = _log_ticks(list(frame["parameters"]))
        figure.update_xaxes(tickvals=ticks, ticktext=labels)
    figure.update_layout(height=520, margin={"t": 20})
    return figure, len(records) - len(points)


def render_chart(records: list[ModelRecord], sort: Sort) -> None:
    y = chart_axis(records, sort)
    figure, left_out = chart_figure(records, y)
    st.plotly_chart(figure, key=CHART_KEY, on_select=_on_chart_select, selection_mode="points", width="stretch")
    label = Y_LABELS[y].lower()
    note = f"Vertical axis: {label}, " + ("the sort order." if y == SORT_FIELD[sort] else
                                          f"as this source has no {Y_LABELS[SORT_FIELD[sort]].lower()} data.")
    note += " Click a point to see its details."
    if left_out:
        note += f" {left_out} not plotted: parameters or {label} unknown" + (" or zero (log axes)." if y in LOG_Y
                                                                             else ".")
    st.caption(note)


def render_status(result: SearchResult) -> None:
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
