"""Every page's URL works when opened directly on a freshly started server (no fallback navigation)."""

import pytest
from playwright.sync_api import expect

from hfdash import vocab
from tests.support.browser import wait_for_app

HEADINGS = {vocab.HOME: "hfdash"}


@pytest.mark.browser
@pytest.mark.parametrize("spec", vocab.PAGES, ids=lambda spec: spec.url_path or "home")
def test_page_url_opens_directly_on_fresh_server(app_server, page, spec):
    server = app_server()
    page.goto(f"{server.url}/{spec.url_path}")
    wait_for_app(page)
    heading = page.locator("h1").first
    heading.wait_for(timeout=30_000)
    assert HEADINGS.get(spec, spec.title) in heading.inner_text()
    expect(page).to_have_title(f"{spec.title} · hfdash", timeout=15_000)
    assert "Page not found" not in page.content()
    assert "Traceback" not in page.inner_text("body")
    # The sidebar links every page at its own URL (relative to the app's root).
    links = page.locator(".st-key-nav a")
    expect(links).to_have_count(len(vocab.PAGES), timeout=15_000)
    assert [link.get_attribute("href") for link in links.all()] == [linked.url_path for linked in vocab.PAGES]
    # ...and they lead somewhere: Home from any page, the page itself from Home.
    target = vocab.BROWSE if spec == vocab.HOME else vocab.HOME
    links.nth(vocab.PAGES.index(target)).click()
    expect(page.locator("h1").first).to_contain_text(HEADINGS.get(target, target.title), timeout=30_000)
    expect(page).to_have_title(f"{target.title} · hfdash", timeout=15_000)
    assert "Page not found" not in page.content()
