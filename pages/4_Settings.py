from hfdash.ui.layout import page_setup

page_setup("Settings", "⚙️")

import streamlit as st  # noqa: E402

from hfdash.ui.settings import render_settings  # noqa: E402

st.title("Settings")
render_settings()
