"""The shortlist: models collected while browsing, kept in session state, in the URL (`shortlist=`) and
in the browser tab's sessionStorage.

Session state is the truth within a session; the URL copy makes it survive a reload and travel in a
shared link or a new tab. A typed address without it (`/Settings`) loads a new session: the tab's
stored copy brings it back. Pages link to each other with `link_params()` so the shortlist rides along.
"""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from hfdash import vocab
from hfdash.errors import HfdashError
from hfdash.safetext import without_links
from hfdash.ui import catalog_cache, model_facts, url_state
from hfdash.urlcodec import join_list, split_list

QUERY_KEY = "shortlist"
STATE_KEY = "shortlist"
# The URL value this session last wrote or adopted, to tell a pasted link from our own write.
URL_SEEN_KEY = "_shortlist_url"
# True while a new session without `shortlist=` in its URL may still adopt the tab's stored copy.
RESTORE_KEY = "_shortlist_restore"
STORE_KEY = "shortlist_store"
# sessionStorage is per tab: a typed address or reload in the tab keeps it, another tab has its own.
_STORE_JS = """
export default function({ data, setTriggerValue }) {
  const key = "hfdash.shortlist";
  if (data.restore) {
    const saved = window.sessionStorage.getItem(key);
    if (saved) setTriggerValue("saved", saved);
  } else {
    window.sessionStorage.setItem(key, data.ids);
  }
}
"""
_tab_store = st.components.v2.component("hfdash_shortlist_store", js=_STORE_JS)
HARDWARE_FIT_PAGE = vocab.HARDWARE_FIT.script
PLAYGROUND_PAGE = vocab.PLAYGROUND.script
# The Hardware-fit page's tabs, bound to the URL as `tab=`.
TAB_KEY = "tab"
FIT_TAB, COMPARE_TAB = "Fit", "Compare"


def _write_url(ids: list[str]) -> None:
    value = join_list(ids)
    url_state.write({QUERY_KEY: value})
    st.session_state[URL_SEEN_KEY] = value


def _set(ids: list[str]) -> None:
    st.session_state[STATE_KEY] = ids
    st.session_state[RESTORE_KEY] = False
    _write_url(ids)


def get_shortlist() -> list[str]:
    raw = url_state.get(QUERY_KEY)
    if STATE_KEY not in st.session_state or (raw is not None and raw != st.session_state.get(URL_SEEN_KEY)):
        # A new session, or a link carrying a shortlist was opened: the URL wins.
        st.session_state[RESTORE_KEY] = raw is None and STATE_KEY not in st.session_state
        st.session_state[STATE_KEY] = split_list(raw)
    ids = st.session_state[STATE_KEY]
    # A link or typed URL without the shortlist must not drop it: put it back.
    _write_url(ids)
    return list(ids)


def add(model_id: str) -> None:
    ids = get_shortlist()
    if model_id not in ids:
        _set(ids + [model_id])


def remove(model_id: str) -> None:
    _set([m for m in get_shortlist() if m != model_id])


def clear() -> None:
    _set([])


def _adopt_stored() -> None:
    """The tab's stored shortlist arrived: a new session takes it unless it has made its own since."""
    saved = st.session_state[STORE_KEY].get("saved")
    if saved and st.session_state.get(RESTORE_KEY):
        # The URL is written in the run (get_shortlist): a callback's query-param write does not reach the page.
        st.session_state[STATE_KEY] = split_list(saved)
        st.session_state[RESTORE_KEY] = False


def _sync_tab_store(ids: list[str]) -> None:
    _tab_store(key=STORE_KEY, data={"restore": bool(st.session_state.get(RESTORE_KEY)), "ids": join_list(ids)},
               on_saved_change=_adopt_stored, height=0)


def link_params(models: list[str] | None = None) -> dict[str, str]:
    """Query params for a link to another page: the shortlist always, and `models=` when given."""
    params = {}
    ids = get_shortlist()
    if ids:
        params[QUERY_KEY] = join_list(ids)
    if models:
        params["models"] = join_list(models)
    return params


def page_link(page: str | StreamlitPage, label: str, *, models: list[str] | None = None, **kwargs) -> None:
    st.page_link(page, label=label, query_params=link_params(models), **kwargs)


def toggle_button(model_id: str, *, key: str) -> None:
    """'Add to shortlist' or, when it is already there, 'Remove from shortlist'."""
    if model_id in get_shortlist():
        st.button("Remove from shortlist", key=key, on_click=remove, args=(model_id,), icon=":material/remove:")
    else:
        st.button("Add to shortlist", key=key, on_click=add, args=(model_id,), icon=":material/add:",
                  type="primary")


@st.dialog("Shortlist side by side", width="large")
def _side_by_side_dialog(ids: list[str]) -> None:
    render_side_by_side(ids)


def render_side_by_side(ids: list[str]) -> None:
    settings = catalog_cache.current_settings()
    records = []
    for model_id in ids:
        try:
            records.append(catalog_cache.get_model(model_id, settings.catalog_source, settings))
        except HfdashError as err:
            st.warning(without_links(f"{model_id}: {err.user_message()}"))
    if records:
        st.dataframe(model_facts.side_by_side(records), width="stretch", height="content")


def render_sidebar() -> None:
    ids = get_shortlist()
    endpoint = catalog_cache.current_settings().endpoint
    with st.sidebar:
        _sync_tab_store(ids)
        st.subheader(f"Shortlist ({len(ids)})")
        if not ids:
            st.caption("Empty: add models from the Browse page.")
            return
        for model_id in ids:
            name, button = st.columns([5, 1], vertical_alignment="center")
            # The id comes from the URL: escaped as the text, quoted in the address, which stays on the Hub.
            name.markdown(f"[{without_links(model_id)}]({vocab.model_url(model_id, endpoint)})")
            button.button(":material/close:", key=f"shortlist_remove:{model_id}", on_click=remove,
                          args=(model_id,), help=f"Remove {without_links(model_id)} from the shortlist",
                          type="tertiary")
        page_link(HARDWARE_FIT_PAGE, "Compare fit", models=ids, icon=":material/memory:")
        st.page_link(HARDWARE_FIT_PAGE, label="Compare table", query_params={**link_params(), TAB_KEY: COMPARE_TAB},
                     icon=":material/table_chart:")
        page_link(PLAYGROUND_PAGE, "Try side by side", models=ids, icon=":material/chat:")
        if st.button("Facts side by side", key="shortlist_facts", icon=":material/table:"):
            _side_by_side_dialog(ids)
        st.button("Clear shortlist", key="shortlist_clear", on_click=clear, icon=":material/delete:")
