from hfdash.ui.layout import page_setup

page_setup("Hardware fit", "🧮")

import streamlit as st  # noqa: E402

from hfdash.ui import fit_charts  # noqa: E402

st.title("Hardware fit")
st.caption("Will a model run on your hardware? Memory per precision from the model's own config (weights, "
           "KV cache, activations, overhead), against the devices you pick. The URL keeps your choices.")
fit_charts.render()
