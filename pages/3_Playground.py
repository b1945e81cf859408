import streamlit as st

from hfdash import vocab
from hfdash.ui.playground import render_playground
from hfdash.ui.layout import page_setup

page_setup(vocab.PLAYGROUND)

st.title("Playground")
st.caption("Chat with local and hosted models side by side: one prompt to every pane, or one per pane.")
render_playground()
