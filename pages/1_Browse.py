import streamlit as st

from hfdash import vocab
from hfdash.ui import browse
from hfdash.ui.layout import page_setup

page_setup(vocab.BROWSE)

st.title("Browse")
st.caption("Search Hugging Face Hub models, live or on the offline snapshot. The URL keeps your filters: "
           "share it or reload it.")
browse.render()
