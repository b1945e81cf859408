"""The Compare tab of the Hardware-fit page: the shortlist as one sortable table, also as CSV.

Its device, precision and context are bound to the URL (`compare_device`, `compare_dtype`, `compare_context`).
"""

from __future__ import annotations

import streamlit as st

from hfdash.hardware.compare import compare, table_rows, to_csv
from hfdash.hardware.devices import THIS_MACHINE, device_ids
from hfdash.hardware.estimate import DTYPES, MAX_CONTEXT
from hfdash.hardware.local import find_device, this_machine
from hfdash.safetext import without_links
from hfdash.ui.fit_charts import MAX_MODELS, session_facts
from hfdash.ui.shortlist import get_shortlist

DEFAULT_CONTEXT = 4096
COLUMN_CONFIG = {
    "params": st.column_config.NumberColumn("params", format="compact"),
    "max context": st.column_config.NumberColumn("max context", format="localized"),
    "cheapest input $/1M": st.column_config.NumberColumn("cheapest input $/1M", format="dollar",
                                                         help="Lowest known price per 1M input tokens"),
    "cheapest output $/1M": st.column_config.NumberColumn("cheapest output $/1M", format="dollar",
                                                          help="Lowest known price per 1M output tokens"),
    "context": st.column_config.NumberColumn("context", format="localized", help="Tokens figured in the KV cache"),
    "memory GiB": st.column_config.NumberColumn("memory GiB", format="%.2f"),
    "memory bytes": None,  # in the CSV; GiB is enough on screen
    "memory used": st.column_config.NumberColumn("memory used", format="percent",
                                                 help="Of the usable memory of the devices used"),
}


def render() -> None:
    from hfdash.ui.session import call_token, user_settings

    ids = get_shortlist()
    cols = st.columns(3)
    device_id = cols[0].selectbox("Device", device_ids(), index=device_ids().index(THIS_MACHINE), key="compare_device",
                                  bind="query-params")
    dtype = cols[1].selectbox("Precision", DTYPES, index=DTYPES.index("bf16"), key="compare_dtype",
                              bind="query-params")
    context = cols[2].number_input("Context length (tokens)", min_value=1, max_value=MAX_CONTEXT, value=DEFAULT_CONTEXT,
                                   step=1024, key="compare_context", bind="query-params")
    if not ids:
        st.info("The shortlist is empty: add models on the Browse page to compare them here.")
        return
    if len(ids) > MAX_MODELS:
        st.warning(f"{len(ids)} models on the shortlist: comparing the first {MAX_MODELS}.")
        ids = ids[:MAX_MODELS]
    device = find_device(device_id)
    if device.memory_bytes <= 0:
        st.warning(f"{device.name}: its memory size is unknown, so the verdicts are missing.")
        return
    ram = this_machine().ram_total_bytes if device_id == THIS_MACHINE else None
    with st.spinner("Reading model facts…"):
        facts = session_facts(ids, user_settings(), call_token())
    rows = compare(ids, facts, device=device, dtype=dtype, context=int(context), ram_bytes=ram)
    for row in rows:
        if row.problem:
            st.warning(without_links(f"{row.model}: {row.problem}"))
    st.dataframe(table_rows(rows), column_config=COLUMN_CONFIG, hide_index=True, width="stretch")
    st.caption("Click a column header to sort. Memory and verdict: the Fit tab's estimate for one "
               f"{device.name} at {dtype}; a model whose maximum context is smaller is figured at its maximum. "
               "Prices: the lowest per 1M tokens among the providers that list one.")
    st.download_button("Download CSV", to_csv(rows), file_name="hfdash-compare.csv", mime="text/csv",
                       icon=":material/download:")
