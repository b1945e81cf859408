"""What every page starts with."""

from __future__ import annotations

import streamlit as st


def page_setup(title: str, icon: str) -> None:
    st.set_page_config(page_title=f"{title} · hfdash", page_icon=icon, layout="wide")
    from hfdash.ui.shortlist import render_sidebar

    render_sidebar()
