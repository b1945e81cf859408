import streamlit as st

from hfdash import vocab
from hfdash.ui.settings import render_settings
from hfdash.ui.layout import page_setup

page_setup(vocab.SETTINGS)

st.title("Settings")
render_settings()
