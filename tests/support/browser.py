"""Debian's chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import shutil

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        raise RuntimeError("Debian's chromium is missing: scripts/ensure_chromium.sh installs it")
    return path


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)


def wait_for_app(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished a run: the app view is there and nothing is running."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout)


def wait_for_words(page, message: int, words: int, timeout: float = 180_000) -> None:
    """Wait until chat message number `message` (0-based, in page order) shows more than `words` words.
    Looked up afresh on each poll: a live pane's fragment redraws its elements."""
    page.wait_for_function(
        "([n, words]) => { const m = document.querySelectorAll('[data-testid=\"stChatMessage\"]')[n];"
        " return !!m && m.innerText.split(/\\s+/).length > words; }", arg=[message, words], timeout=timeout)
