from hfdash.ui.layout import page_setup

page_setup("Browse", "🔎")

import streamlit as st  # noqa: E402

from hfdash.ui import browse  # noqa: E402

st.title("Browse")
st.caption("Search Hugging Face Hub models, live or on the offline snapshot. The URL keeps your filters: "
           "share it or reload it.")
browse.render()
