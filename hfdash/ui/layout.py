"""What every page starts with: the page list, page config, the page links and the shortlist in the sidebar."""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage
from streamlit.runtime.pages_manager import PagesManager

from hfdash import auth, vocab
from hfdash.config import multi_user, read_settings
from hfdash.errors import HfdashError
from hfdash.safetext import without_links
from hfdash.ui import home, session, shortlist

NAV_KEY = "nav"  # the links' container carries the CSS class st-key-nav


def streamlit_page(spec: vocab.PageSpec) -> StreamlitPage:
    """The st.Page for `spec`: the same object serves st.navigation and every link to the page."""
    if spec == vocab.HOME:
        return st.Page(_home, title=spec.title, icon=spec.icon, url_path=spec.title, default=True)
    return st.Page(spec.script, title=spec.title, icon=spec.icon, url_path=spec.url_path)


def _navigation() -> StreamlitPage:
    # The sidebar links are our own (they carry the shortlist), so Streamlit's menu stays hidden.
    return st.navigation([streamlit_page(spec) for spec in vocab.PAGES], position="hidden")


def run_page() -> None:
    """app.py's whole job: the page list, then the page the URL names (which calls page_setup first)."""
    st.set_page_config(layout="wide")
    _navigation().run()


def page_setup(spec: vocab.PageSpec) -> None:
    """What every page starts with: its tab title and icon, links to every page, the shortlist, settings
    problems."""
    if PagesManager.uses_pages_directory:
        # Until some run has called st.navigation, Streamlit treats pages/ as legacy pages and runs this
        # file without app.py (a fresh server opened on a page's URL), under another page hash, so its
        # widgets would lose their first edit: declare the pages, then run again as app.py would.
        _navigation()
        if st.context.headers:  # a browser's session (a script run without one, e.g. AppTest, keeps its run)
            st.rerun()
    st.set_page_config(page_title=f"{spec.title} · hfdash", page_icon=spec.icon, layout="wide")
    with st.sidebar.container(key=NAV_KEY):
        for linked in vocab.PAGES:
            shortlist.page_link(streamlit_page(linked), linked.title)
    shortlist.render_sidebar()
    settings_banner()
    _token_file_problem()


def _home() -> None:
    page_setup(vocab.HOME)
    home.render()


def settings_banner() -> None:
    """A damaged settings file is said on every page, not only on Settings (where it can be reset)."""
    try:
        read_settings()
    except HfdashError as exc:
        st.error(f"**{exc.title}**: {exc.user_message()} Reset or replace it on the Settings page.")


def _token_file_problem() -> None:
    """A saved token file that cannot be read is left out of every call; each page says so."""
    if session.session_token() or multi_user() or auth.env_token_set():
        return  # the file is not used
    try:
        auth.ambient_token()
    except HfdashError as err:
        st.warning(without_links(f"{err.user_message()} Until then, calls go without a token."))
