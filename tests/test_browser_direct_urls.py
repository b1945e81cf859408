"""Every page's URL works when opened directly on a freshly started server (no fallback navigation)."""

import pytest

from tests.support.browser import wait_for_app

PAGES = {"": "hfdash", "Browse": "Browse", "Hardware_fit": "Hardware fit", "Playground": "Playground",
         "Settings": "Settings"}


@pytest.mark.browser
@pytest.mark.parametrize("path", list(PAGES))
def test_page_url_opens_directly_on_fresh_server(app_server, page, path):
    server = app_server()
    page.goto(f"{server.url}/{path}")
    wait_for_app(page)
    heading = page.locator("h1").first
    heading.wait_for(timeout=30_000)
    assert PAGES[path] in heading.inner_text()
    assert "Page not found" not in page.content()
    assert "Traceback" not in page.inner_text("body")
