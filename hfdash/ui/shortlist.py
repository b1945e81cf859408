"""The shortlist: models collected while browsing, kept for the session and in the URL."""

from __future__ import annotations

import streamlit as st

QUERY_KEY = "shortlist"


def get_shortlist() -> list[str]:
    if "shortlist" not in st.session_state:
        raw = st.query_params.get(QUERY_KEY, "")
        st.session_state.shortlist = [m for m in raw.split(",") if m]
    return st.session_state.shortlist


def render_sidebar() -> None:
    with st.sidebar:
        st.subheader("Shortlist")
        for model_id in get_shortlist():
            st.write(model_id)
