"""The served app's CPU use, read from /proc for the `streamlit run` process (all its threads): an idle tab
costs nothing, and a tab closed mid-answer stops its generation within seconds."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.support.browser import wait_for_app, wait_for_words

IDLE_WINDOW_S = 20
IDLE_CPU_S = 0.5  # over the whole window; a watcher walking .venv took 60-100% of a core
GENERATING_CPU = 0.2  # cores: the server at work (a share of 2 busy shared cores)
IDLE_CPU = 0.05  # cores: what counts as idle again
STOPPED_WITHIN_S = 20  # SESSION_GONE_S (5 s) plus the watch tick and slow shared CI cores


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of the process, all threads (utime and stime, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_rate(pid: int, seconds: float) -> float:
    """Cores used over the next `seconds`."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


def opened(app_server, page, path: str):
    """A fresh `streamlit run` server, with `page` showing `path` on it."""
    server = app_server()
    page.goto(f"{server.url}{path}")
    wait_for_app(page, timeout=60_000)
    return server


@pytest.mark.browser
@pytest.mark.slow
def test_an_idle_tab_leaves_the_server_idle(app_server, page):
    server = opened(app_server, page, "/Settings")
    time.sleep(3)  # the first run's imports and caches settle
    used = cpu_rate(server.process.pid, IDLE_WINDOW_S) * IDLE_WINDOW_S
    assert page.get_by_role("heading", name="Settings").count()  # the tab is still open and showing the page
    assert used < IDLE_CPU_S, f"an idle tab cost the server {used:.2f} s of CPU in {IDLE_WINDOW_S} s"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_closing_the_tab_mid_answer_stops_its_generation(app_server, page, embedded_model_folder):
    server = opened(app_server, page, "/Playground?p1.max_new_tokens=2000&p1.temperature=0")
    prompt = page.get_by_label("Prompt", exact=True)
    prompt.fill("Write a very long story about a dragon and a knight.")
    prompt.press("Tab")
    wait_for_app(page)
    page.get_by_role("button", name="Send", exact=True).click()
    wait_for_words(page, 1, 12, timeout=700_000)  # the server loads the model first: minutes on busy shared cores
    generating = cpu_rate(server.process.pid, 2)
    assert generating > GENERATING_CPU, f"the server used {generating:.2f} cores while generating"

    page.close()
    closed = time.monotonic()
    while (rate := cpu_rate(server.process.pid, 2)) > IDLE_CPU:
        assert time.monotonic() - closed < STOPPED_WITHIN_S, f"still {rate:.2f} cores after the tab closed"
    assert "Traceback" not in server.log()
