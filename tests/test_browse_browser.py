"""Browse in a real browser on a freshly started `streamlit run app.py`: filter, shortlist, reload, same state."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from hfdash import catalog
from hfdash.catalog.records import ModelQuery
from tests.support.browser import wait_for_app

TABLE = '[data-testid="stDataFrame"]'
SIDEBAR = '[data-testid="stSidebar"]'


def url_params(page) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}


def select_first_row(page) -> None:
    """Tick the first row's selection box: the data grid is a canvas, so click where it draws it."""
    box = page.locator(TABLE).first.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)


@pytest.mark.browser
def test_filter_and_shortlist_survive_a_reload(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})  # the Hub is not asked: the snapshot serves
    expected = [r.id for r in catalog.search(ModelQuery(text="qwen2.5", min_likes=1000), source="snapshot").records]
    page.goto(f"{server.url}/Browse")
    wait_for_app(page)
    page.locator(TABLE).first.wait_for(timeout=30_000)

    search = page.get_by_role("textbox", name="Search model ids")
    search.fill("qwen2.5")
    search.press("Enter")
    page.wait_for_function("() => location.search.includes('query=qwen2.5')", timeout=30_000)
    page.get_by_text("More filters").click()
    likes = page.get_by_role("spinbutton", name="Min likes")
    likes.fill("1000")
    likes.press("Enter")
    page.wait_for_function("() => location.search.includes('min_likes=1000')", timeout=30_000)
    wait_for_app(page)
    page.get_by_text(re.compile(r"models from")).first.wait_for(timeout=30_000)

    select_first_row(page)
    add = page.get_by_role("button", name="Add to shortlist")
    add.wait_for(timeout=30_000)
    assert expected[0] in page.locator("[data-testid=\"stMain\"] h3").first.inner_text()
    add.click()
    page.get_by_role("button", name="Remove from shortlist").wait_for(timeout=30_000)
    page.wait_for_function("() => location.search.includes('shortlist=')", timeout=30_000)
    sidebar = page.locator(SIDEBAR)
    assert "Shortlist (1)" in sidebar.inner_text() and expected[0] in sidebar.inner_text()
    before = url_params(page)
    assert before["query"] == "qwen2.5" and before["min_likes"] == "1000" and before["shortlist"] == expected[0]

    page.reload()
    wait_for_app(page)
    page.locator(TABLE).first.wait_for(timeout=30_000)
    assert page.get_by_role("textbox", name="Search model ids").input_value() == "qwen2.5"
    assert page.get_by_role("spinbutton", name="Min likes").input_value() == "1000"
    assert "Shortlist (1)" in page.locator(SIDEBAR).inner_text()
    assert expected[0] in page.locator(SIDEBAR).inner_text()
    page.get_by_role("button", name="Remove from shortlist").wait_for(timeout=30_000)  # detail panel is back
    assert url_params(page) == before
    assert "Traceback" not in page.inner_text("body")

    # The shortlist rides along to other pages, also through the sidebar's own page list.
    page.locator(SIDEBAR).get_by_role("link", name="Compare fit").click()
    page.wait_for_url(re.compile(r"/Hardware_fit\?"), timeout=30_000)
    # The link's models= is the field's own default here (the shortlist), so the bound field leaves it out.
    expect(page.get_by_role("textbox", name="Models (Hub ids, comma-separated)")).to_have_value(expected[0],
                                                                                              timeout=30_000)
    assert url_params(page)["shortlist"] == expected[0]
    page.locator(".st-key-nav").get_by_role("link", name="Browse").click()
    page.wait_for_url(re.compile(r"/Browse\?shortlist="), timeout=30_000)
    # The URL changes at the click; the sidebar is drawn again once the page's run starts.
    expect(page.locator(SIDEBAR)).to_contain_text(expected[0], timeout=30_000)


@pytest.mark.browser
def test_clicking_a_chart_point_opens_that_model(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    shown = {r.id for r in catalog.search(ModelQuery(task="text-generation", min_likes=5000, limit=5),
                                          source="snapshot").records}
    page.goto(f"{server.url}/Browse?view=chart&task=text-generation&min_likes=5000&limit=5")
    wait_for_app(page)
    point = page.locator('[data-testid="stPlotlyChart"] path.point').first
    point.wait_for(timeout=30_000)
    point.click(force=True)
    page.get_by_role("button", name="Add to shortlist").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stMain"] h3').first.inner_text() in shown
    assert url_params(page)["model"] in shown
