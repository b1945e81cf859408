"""The shortlist in a real browser: it survives an address typed into the same tab; a new tab starts empty."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import wait_for_app
from tests.test_browse_browser import SIDEBAR, TABLE, select_first_row, url_params


@pytest.mark.browser
def test_shortlist_survives_a_typed_address_and_comes_back_via_the_sidebar(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    page.goto(f"{server.url}/Browse")
    wait_for_app(page)
    page.locator(TABLE).first.wait_for(timeout=30_000)
    select_first_row(page)
    page.get_by_role("button", name="Add to shortlist").click()
    page.get_by_role("button", name="Remove from shortlist").wait_for(timeout=30_000)
    chosen = page.locator('[data-testid="stMain"] h3').first.inner_text().strip()
    expect(page.locator(SIDEBAR)).to_contain_text("Shortlist (1)", timeout=30_000)

    # Typed into the address bar: a full load and a new Streamlit session, no `shortlist=` in the address.
    page.goto(f"{server.url}/Settings")
    wait_for_app(page)
    sidebar = page.locator(SIDEBAR)
    expect(sidebar).to_contain_text("Shortlist (1)", timeout=30_000)
    expect(sidebar).to_contain_text(chosen)
    page.wait_for_function("() => location.search.includes('shortlist=')", timeout=30_000)
    assert url_params(page)["shortlist"] == chosen

    page.locator(".st-key-nav").get_by_role("link", name="Browse").click()
    page.wait_for_url(re.compile(r"/Browse\?shortlist="), timeout=30_000)
    expect(page.locator(SIDEBAR)).to_contain_text("Shortlist (1)", timeout=30_000)
    expect(page.locator(SIDEBAR)).to_contain_text(chosen)
    assert "Traceback" not in page.inner_text("body")

    # Another tab is another session with its own copy: empty until a link carries the shortlist there.
    other = page.context.new_page()
    other.goto(f"{server.url}/Settings")
    wait_for_app(other)
    expect(other.locator(SIDEBAR)).to_contain_text("Shortlist (0)", timeout=30_000)
    other.goto(page.url)
    wait_for_app(other)
    expect(other.locator(SIDEBAR)).to_contain_text(chosen, timeout=30_000)
