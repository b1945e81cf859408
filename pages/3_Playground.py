from hfdash.ui.layout import page_setup

page_setup("Playground", "💬")

import streamlit as st  # noqa: E402

from hfdash.ui.playground import render_playground  # noqa: E402

st.title("Playground")
st.caption("Chat with local and hosted models side by side: one prompt to every pane, or one per pane.")
render_playground()
