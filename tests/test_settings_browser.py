"""The Settings page in a real browser: Enter submits the token, and each bad field says so at the field."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import wait_for_app
from tests.support.tokens import register_user


@pytest.mark.browser
def test_enter_in_the_token_field_checks_it(hub, app_server, page):
    token = register_user(hub, "alice", fullname="Alice Martin")
    server = app_server(env={"HF_ENDPOINT": hub.url})
    page.goto(f"{server.url}/Settings")
    wait_for_app(page)
    field = page.get_by_role("textbox", name="Access token", exact=True)
    field.fill(token)
    field.press("Enter")  # no click on "Check and use token"
    expect(page.get_by_test_id("stMain")).to_contain_text("Token accepted for alice", timeout=30_000)
    assert hub.authorizations("whoami") == [f"Bearer {token}"]
    expect(field).to_have_value("")  # the field does not hold the token any more


@pytest.mark.browser
def test_each_bad_field_shows_its_own_error_under_it_and_keeps_what_was_typed(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    page.goto(f"{server.url}/Settings")
    wait_for_app(page)
    endpoint = page.get_by_role("textbox", name="Hub endpoint")
    endpoint.fill("huggingface.co")
    urls = page.get_by_role("textbox", name="OpenAI-compatible base URLs for the Playground, one per line")
    urls.fill("localhost:8000/v1\nftp://x/v1")
    page.get_by_role("button", name="Save settings").click()
    alerts = page.get_by_test_id("stAlertContentError")
    expect(alerts.filter(has_text="Nothing was saved")).to_have_count(1, timeout=30_000)
    endpoint_error = alerts.filter(has_text="Hub endpoint: 'huggingface.co' is not an http(s) URL")
    urls_error = alerts.filter(has_text="'ftp://x/v1' is not an http(s) URL")
    expect(endpoint_error).to_have_count(1)
    expect(urls_error).to_have_count(1)
    assert "localhost" not in urls_error.inner_text()  # a loopback host without http:// is accepted

    def top(locator) -> float:
        return locator.bounding_box()["y"]

    # Each message sits right under its own field, above the next one.
    snapshot = page.get_by_role("textbox", name="Snapshot file")
    assert top(endpoint) < top(endpoint_error) < top(snapshot)
    assert top(urls) < top(urls_error) < top(page.get_by_text("Default local device"))
    expect(endpoint).to_have_value("huggingface.co")
    assert "Traceback" not in page.inner_text("body")
