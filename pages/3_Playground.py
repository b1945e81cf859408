from hfdash.ui.layout import page_setup

page_setup("Playground", "💬")

import streamlit as st  # noqa: E402

st.title("Playground")
