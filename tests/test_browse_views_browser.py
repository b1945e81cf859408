"""Browse in a real browser: Back/Forward through views, the licence and size filters, the search text,
and the details of a model with quantized variants from the (loopback) live Hub.

The table is a canvas; its cells are read from the grid's accessibility cells, which hold the raw values.
Expected rows come from the shipped snapshot's own table (pyarrow), not from the page's code.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pyarrow.compute as pc
import pytest
from playwright.sync_api import expect

from hfdash.catalog import snapshot
from hfdash.config import load_settings
from tests.support import hub_models
from tests.support.browser import wait_for_app

TABLE = '[data-testid="stDataFrame"]'
MAIN = '[data-testid="stMain"]'
HUB = "https://huggingface.co/"
STATUS = re.compile(r"models? from")
LIMIT = 10
pytestmark = pytest.mark.browser


def url_params(page) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}


def open_browse(page, server, query: str = "source=snapshot") -> None:
    """With at most LIMIT rows: the grid lays out (and so exposes) only the rows in view."""
    page.goto(f"{server.url}/Browse?{query}&limit={LIMIT}")
    wait_for_app(page)
    page.locator(TABLE).first.wait_for(timeout=60_000)


def settle(page) -> None:
    """Wait for the run a change started, and for its table."""
    wait_for_app(page, timeout=60_000)
    page.locator(TABLE).first.wait_for(timeout=60_000)


def shown_ids(page) -> list[str]:
    cells = page.locator(f'{TABLE} [role="gridcell"]').all_inner_texts()
    return [cell.removeprefix(HUB) for cell in cells if cell.startswith(HUB)]


def expect_ids(page, expected: list[str], timeout_s: float = 60) -> None:
    """The grid redraws a moment after the run: wait until it shows `expected`."""
    deadline = time.monotonic() + timeout_s
    while (shown := shown_ids(page)) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    assert shown == expected


def status(page) -> str:
    return page.locator(MAIN).get_by_text(STATUS).first.inner_text()


def search_box(page):
    return page.get_by_role("textbox", name="Search model ids")


def type_into(page, name: str, text: str, url_has: str) -> None:
    box = page.get_by_role("textbox", name=name)
    box.fill(text)
    box.press("Enter")
    page.wait_for_function("(part) => location.search.includes(part)", arg=url_has, timeout=30_000)
    settle(page)


def snapshot_ids(keep, limit: int = LIMIT, by: str = "downloads") -> list[str]:
    """Ids of the snapshot rows where `keep(table)` holds, highest `by` first (ties by id, unknown last)."""
    table = snapshot.load(load_settings().snapshot).table
    rows = table.filter(keep(table)).select(["id", by]).to_pylist()
    rows.sort(key=lambda r: (r[by] is None, -(r[by] or 0), r["id"]))
    return [r["id"] for r in rows[:limit]]


def test_back_and_forward_step_through_each_view(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    qwen = pc.match_substring(pc.utf8_lower(snapshot.load(load_settings().snapshot).table["id"]), "qwen")
    views = [("", "", snapshot_ids(lambda t: pc.is_valid(t["id"]))), ("qwen", "", snapshot_ids(lambda t: qwen)),
             ("qwen", "1B", snapshot_ids(lambda t: pc.and_(qwen, pc.less(t["params"], 1_050_000_000))))]
    open_browse(page, server)
    expect_ids(page, views[0][2])
    type_into(page, "Search model ids", "qwen", "query=qwen")
    expect_ids(page, views[1][2])
    type_into(page, "Max parameters", "1B", "max_params=1B")  # shown as at most 1B: below 1.05B
    expect_ids(page, views[2][2])

    def shows(view) -> None:
        expect(search_box(page)).to_have_value(view[0], timeout=60_000)
        expect(page.get_by_role("textbox", name="Max parameters")).to_have_value(view[1], timeout=60_000)
        settle(page)
        expect_ids(page, view[2])

    for step, view in ((page.go_back, views[1]), (page.go_back, views[0]), (page.go_forward, views[1]),
                       (page.go_forward, views[2])):
        step()
        shows(view)
    assert "Traceback" not in page.inner_text("body")


@pytest.mark.parametrize("other", ["Settings", "Hardware fit"])
def test_back_from_another_page_lands_on_browse_with_its_own_parameters(app_server, page, other):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    open_browse(page, server, "source=snapshot&query=qwen&sort=likes")
    expected = snapshot_ids(lambda t: pc.match_substring(pc.utf8_lower(t["id"]), "qwen"), by="likes")
    expect_ids(page, expected)
    before = (url_params(page), status(page))
    page.locator(".st-key-nav").get_by_role("link", name=other).click()
    page.wait_for_function("(path) => location.pathname.endsWith(path)", arg=other.replace(" ", "_"),
                           timeout=30_000)
    wait_for_app(page, timeout=60_000)
    page.go_back()
    page.wait_for_function("() => location.pathname.endsWith('/Browse')", timeout=30_000)
    settle(page)
    assert url_params(page) == before[0] == {"source": "snapshot", "query": "qwen", "sort": "likes",
                                             "limit": str(LIMIT)}
    expect(search_box(page)).to_have_value("qwen", timeout=30_000)
    expect_ids(page, expected)
    assert status(page) == before[1]


def test_licence_filter_shows_only_that_licence(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    open_browse(page, server)
    page.get_by_role("combobox", name="License").fill("llama3.1")
    page.get_by_role("option", name="llama3.1", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.search.includes('license=llama3.1')", timeout=30_000)
    settle(page)
    expect_ids(page, snapshot_ids(lambda t: pc.equal(t["license"], "llama3.1")))  # waits for the new rows
    cells = page.locator(f'{TABLE} [role="gridcell"]').all_inner_texts()
    assert "llama3.1" in cells and "apache-2.0" not in cells


def test_8b_as_both_bounds_keeps_what_the_table_shows_as_8b(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    open_browse(page, server, "source=snapshot&query=llama")
    type_into(page, "Min parameters", "8B", "min_params=8B")
    type_into(page, "Max parameters", "8B", "max_params=8B")
    # What the table shows as 8B: 7.95B up to, not including, 8.05B.
    expect_ids(page, snapshot_ids(lambda t: pc.and_(
        pc.and_(pc.greater_equal(t["params"], 7_950_000_000), pc.less(t["params"], 8_050_000_000)),
        pc.match_substring(pc.utf8_lower(t["id"]), "llama"))))
    assert "meta-llama/Llama-3.1-8B-Instruct" in shown_ids(page)  # 8,030,261,248 parameters, shown as 8B


def test_a_space_in_the_search_matches_a_dash(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    open_browse(page, server)
    type_into(page, "Search model ids", "Llama 3.1", "query=Llama+3.1")
    expect_ids(page, snapshot_ids(lambda t: pc.match_substring(pc.utf8_lower(t["id"]), "llama-3.1")))
    assert "meta-llama/Llama-3.1-8B-Instruct" in shown_ids(page)


BASE = "Qwen/Qwen2.5-7B-Instruct"
VARIANT = "someone/Qwen2.5-7B-Instruct-GGUF"
CARD = """---
license: apache-2.0
---
# Qwen2.5-7B-Instruct

Qwen2.5 is the latest series of Qwen large language models.

<img src="https://tracker.example/pixel.png" onerror="alert(1)">
[Click me](https://evil.example/steal) and https://evil.example/bare
"""


def test_details_show_card_relations_and_variants_with_fit_links(hub, app_server, page):
    base = hub_models.find(hub, BASE)
    hub_models.add_model(hub, {**base, "tags": [*base["tags"], "en", "zh", "base_model:finetune:Qwen/Qwen2.5-7B"],
                               "cardData": {"license": "apache-2.0", "language": ["en", "zh"],
                                            "base_model": "Qwen/Qwen2.5-7B"},
                               "_files": {**base["_files"], "README.md": CARD.encode()}})
    hub_models.add_model(hub, {"id": VARIANT, "library_name": "gguf", "usedStorage": 4_683_073_184,
                               "tags": ["gguf", f"base_model:quantized:{BASE}"]})
    server = app_server()
    open_browse(page, server, f"source=hub&query=Qwen2.5-7B-Instruct&model={BASE}")
    main = page.locator(MAIN)
    expect(main.get_by_text("Quantized variants (1)")).to_be_visible(timeout=60_000)
    expect(main.get_by_text("Qwen2.5 is the latest series of Qwen large language models.").first).to_be_visible()
    expect(main.get_by_text(VARIANT)).to_be_visible()
    expect(main.get_by_text("4.4 GiB")).to_be_visible()
    assert "Qwen/Qwen2.5-7B" in main.inner_text() and "zh" in main.inner_text()
    fit = main.get_by_role("link", name="Hardware fit").last
    assert fit.get_attribute("href").endswith("Hardware_fit?models=someone%2FQwen2.5-7B-Instruct-GGUF")

    main.get_by_text("Model card").click()
    expect(main.get_by_text("[Click me]", exact=False)).to_be_visible(timeout=30_000)  # shown as typed, inert
    assert main.locator('a[href*="evil.example"]').count() == 0
    assert main.locator('img[src*="tracker.example"]').count() == 0
    assert '<img src="https://tracker.example/pixel.png"' in main.inner_text()
    assert "Traceback" not in page.inner_text("body")
