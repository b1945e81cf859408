import streamlit as st

from hfdash import vocab
from hfdash.ui import fit_charts
from hfdash.ui.layout import page_setup

page_setup(vocab.HARDWARE_FIT)

st.title("Hardware fit")
st.caption("Will a model run on your hardware? Memory per precision from the model's own config (weights, "
           "KV cache, activations, overhead), against the devices you pick. The URL keeps your choices.")
fit_charts.render()
