"""One browser history entry per Browse view, so Back and Forward step through the user's filter changes.

Streamlit (1.67) writes a bound widget's change with `history.replaceState`: the URL is right, but Back
skips every earlier view. And when the user leaves for another page, it first writes the Browse URL
without Browse's parameters (their widgets are gone), so Back would land on a bare Browse. This script,
run once per browser tab, turns a Browse URL write that follows the user's input on a widget into a new
entry, drops the Browse URL writes that follow a click on a page link, and keeps the page a link opens
at one entry when it then writes its own parameters (Streamlit pushes that write: the Hardware fit page
settles its URL on its first run). Streamlit's own Back/Forward handling (`is_history_navigation`) then
restores each view's widgets from its URL.
"""

from __future__ import annotations

import streamlit as st

# A URL write within this long after a click or key press counts as following it.
USER_INPUT_WINDOW_MS = 1500

SCRIPT = """<script>
(() => {
  if (window.hfdashBrowseHistory) return;
  window.hfdashBrowseHistory = true;
  let lastInput = 0, onLink = false;
  for (const type of ["pointerdown", "keydown", "change"]) {
    window.addEventListener(type, (event) => {
      lastInput = Date.now();
      onLink = !!(event.target.closest && event.target.closest("a"));
    }, true);
  }
  const push = history.pushState.bind(history), replace = history.replaceState.bind(history);
  const onBrowse = (url) => {
    const next = url ? new URL(url, location.href) : null;
    return next && next.pathname === location.pathname && /\\/Browse$/.test(location.pathname)
      && Date.now() - lastInput < WINDOW_MS;
  };
  const samePage = (url) => !!url && new URL(url, location.href).pathname === location.pathname;
  history.pushState = (state, unused, url) => {
    if (onBrowse(url) && onLink) return;
    // The page a link opened writing its own parameters: still the entry the link made.
    if (samePage(url) && onLink && Date.now() - lastInput < WINDOW_MS) return replace(state, unused, url);
    push(state, unused, url);
  };
  history.replaceState = (state, unused, url) => {
    if (onBrowse(url) && onLink) return;
    const changed = url && new URL(url, location.href).search !== location.search;
    (onBrowse(url) && changed ? push : replace)(state, unused, url);
  };
})();
</script>""".replace("WINDOW_MS", str(USER_INPUT_WINDOW_MS))


def keep_one_entry_per_view() -> None:
    st.html(SCRIPT, unsafe_allow_javascript=True)
