from hfdash.ui.layout import page_setup

page_setup("Browse", "🔎")

import streamlit as st  # noqa: E402

st.title("Browse")
