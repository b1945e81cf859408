"""The URL parts a widget's `bind="query-params"` cannot hold, read and written in one place: a list in
one parameter (the shortlist, `devices=`), per-device counts (`gpus=`), a group of keys one page owns
(the Playground's `panes=2&p1.model=...`) and Browse's selected model. The text formats are plain
functions (hfdash/urlcodec.py, hfdash/inference/panes.py); this module only touches `st.query_params`.

Each URL change the script makes becomes a browser history entry, so `write` changes the URL only where
a value differs, and sets the changed values in one go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st


def get(key: str) -> str | None:
    return st.query_params.get(key)


def params() -> dict[str, str]:
    return st.query_params.to_dict()


def write(wanted: Mapping[str, str], *, owns: Callable[[str], bool] | None = None) -> None:
    """Make the URL carry `wanted`: each value that differs is set, an empty one removed, and so is any other
    key the caller `owns` (a group: the keys of a pane that is gone)."""
    url = st.query_params
    for key in [k for k in url if (k in wanted and not wanted[k]) or (k not in wanted and owns and owns(k))]:
        del url[key]
    changed = {key: value for key, value in wanted.items() if value and url.get(key) != value}
    if changed:
        url.update(changed)
