import streamlit as st

from hfdash import vocab
from hfdash.ui import compare, fit_charts, shortlist
from hfdash.ui.layout import page_setup

page_setup(vocab.HARDWARE_FIT)

st.title("Hardware fit")
st.caption("Will a model run on your hardware? Memory per precision from the model's own config (weights, "
           "KV cache, activations, overhead), against the devices you pick. The URL keeps your choices.")
fit_tab, compare_tab = st.tabs([shortlist.FIT_TAB, shortlist.COMPARE_TAB], key=shortlist.TAB_KEY, bind="query-params")
if fit_tab.open:
    with fit_tab:
        fit_charts.render()
if compare_tab.open:
    with compare_tab:
        compare.render()
