"""Browse page speed in headless Chromium: from opening the URL to the results table on screen.

    python -m bench.bench_browse

A fresh `streamlit run app.py` serves the shipped snapshot (HF_HUB_OFFLINE=1). Each load is a new
browser context (no cache, new session). The first load after the server starts is reported on its
own; then each page is loaded 5 times and the median is reported, with the Home page as reference.
No target: the figures are reported.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.support.browser import launch
from tests.support.streamlit_app import start_streamlit

RUNS = 5
TABLE = '[data-testid="stDataFrame"] canvas'
PAGES = [
    # (label, path, what shows the page is ready)
    ("Home (reference)", "/", "text=Live source"),
    ("Browse, no filters", "/Browse", TABLE),
    ("Browse, filtered link", "/Browse?task=text-generation&min_params=1B&max_params=10B&min_likes=100"
                              "&sort=likes&limit=50", TABLE),
    ("Browse, chart view", "/Browse?task=text-generation&min_likes=100&limit=200&view=chart",
     '[data-testid="stPlotlyChart"] .main-svg'),
]


def load_seconds(browser, url: str, ready: str) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(ready, state="visible", timeout=60_000)
        return time.perf_counter() - start
    finally:
        context.close()


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = start_streamlit(Path(tmp), {"HF_HUB_OFFLINE": "1", "HFDASH_CONFIG_DIR": tmp})
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                first = load_seconds(browser, server.url + PAGES[1][1], PAGES[1][2])
                medians = {label: statistics.median(load_seconds(browser, server.url + path, ready)
                                                    for _ in range(RUNS))
                           for label, path, ready in PAGES}
                browser.close()
        finally:
            server.stop()
    reference = medians[PAGES[0][0]]
    print(f"Browse page load in headless Chromium, URL opened -> table shown (median of {RUNS}, new session each)")
    print(f"{'page':<26}{'median':>10}{'x Home':>9}")
    for label, seconds in medians.items():
        print(f"{label:<26}{seconds * 1000:>8.0f} ms{seconds / reference:>8.2f}x")
    print(f"{'Browse, first after start':<26}{first * 1000:>8.0f} ms{first / reference:>8.2f}x  (one run: imports,"
          f" snapshot load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
