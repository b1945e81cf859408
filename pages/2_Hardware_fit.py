from hfdash.ui.layout import page_setup

page_setup("Hardware fit", "🧮")

import streamlit as st  # noqa: E402

st.title("Hardware fit")
