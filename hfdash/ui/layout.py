"""What every page starts with: page config, the page links and the shortlist in the sidebar."""

from __future__ import annotations

import streamlit as st

from hfdash import auth
from hfdash.config import multi_user, read_settings
from hfdash.errors import HfdashError
from hfdash.safetext import without_links
from hfdash.ui import session, shortlist

PAGES = (
    ("app.py", "Home", ":material/home:"),
    ("pages/1_Browse.py", "Browse", ":material/search:"),
    ("pages/2_Hardware_fit.py", "Hardware fit", ":material/memory:"),
    ("pages/3_Playground.py", "Playground", ":material/chat:"),
    ("pages/4_Settings.py", "Settings", ":material/settings:"),
)
NAV_KEY = "nav"  # the links' container carries the CSS class st-key-nav


def page_setup(title: str, icon: str) -> None:
    st.set_page_config(page_title=f"{title} · hfdash", page_icon=icon, layout="wide")
    with st.sidebar.container(key=NAV_KEY):
        for path, label, link_icon in PAGES:
            shortlist.page_link(path, label, icon=link_icon)
    shortlist.render_sidebar()
    settings_banner()
    _token_file_problem()


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
