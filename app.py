"""hfdash home page. The other pages are in pages/."""

from hfdash.ui.layout import page_setup

page_setup("Home", "🤗")

import streamlit as st  # noqa: E402

st.title("hfdash")
