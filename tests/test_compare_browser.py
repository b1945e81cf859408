"""The Compare tab in a real browser: the shortlist's prices and verdicts, its inputs in the URL, and the CSV."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from hfdash.catalog import get_model
from hfdash.hardware.compare import COLUMNS, compare, table_rows
from hfdash.hardware.local import find_device
from hfdash.hardware.hubfacts import many_model_facts
from tests.support.browser import wait_for_app
from tests.test_browse_browser import url_params

QWEN = "Qwen/Qwen2.5-7B-Instruct"
DEEPSEEK = "deepseek-ai/DeepSeek-V3"


def cell_at(page, column: str, row: int):
    """A cell of the data grid's accessible table (the grid itself is a canvas)."""
    return page.get_by_test_id(f"glide-cell-{COLUMNS.index(column)}-{row}")


def cell(page, column: str, row: int) -> str:
    return cell_at(page, column, row).text_content()


@pytest.mark.browser
def test_compare_shows_prices_and_verdicts_keeps_its_inputs_in_the_url_and_exports_csv(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    page.goto(f"{server.url}/Browse?shortlist={QWEN},{DEEPSEEK}")
    wait_for_app(page)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Compare table").click()
    device = page.get_by_role("combobox", name="Device")
    device.click()
    device.fill("rtx-4090")
    page.get_by_role("option", name="rtx-4090", exact=True).click()
    page.wait_for_function("() => location.search.includes('compare_device=rtx-4090')", timeout=30_000)
    expect(page.get_by_test_id("stMain")).to_contain_text("RTX 4090 24 GB at bf16", timeout=60_000)
    expect(page.get_by_test_id("glide-cell-0-1")).to_have_text(DEEPSEEK, timeout=30_000)
    assert cell(page, "model", 0) == QWEN
    # The grid's accessible copy is redrawn a moment after the run's caption: wait for it.
    expect(cell_at(page, "verdict", 0)).to_have_text("fits on one", timeout=30_000)
    expect(cell_at(page, "verdict", 1)).to_have_text("does not fit")
    record = get_model(QWEN, source="snapshot")
    assert float(cell(page, "cheapest input $/1M", 0)) == min(o.input_per_1m for o in record.offers
                                                                if o.input_per_1m is not None)

    # A precision picked on the page goes into the URL and into the figures.
    before = cell(page, "memory GiB", 0)
    page.get_by_role("combobox", name="Precision").click()
    page.get_by_role("option", name="int4", exact=True).click()
    page.wait_for_function("() => location.search.includes('compare_dtype=int4')", timeout=30_000)
    expect(page.get_by_test_id("stMain")).to_contain_text("RTX 4090 24 GB at int4", timeout=30_000)
    expect(cell_at(page, "memory GiB", 0)).not_to_have_text(before, timeout=30_000)
    assert float(cell(page, "memory GiB", 0)) < float(before)
    params = url_params(page)
    assert params["compare_device"] == "rtx-4090" and params["tab"] == "Compare"

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    exported = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    facts = many_model_facts([QWEN, DEEPSEEK], deadline_s=60, source="snapshot")
    expected = table_rows(compare([QWEN, DEEPSEEK], facts, device=find_device("rtx-4090"), dtype="int4",
                                  context=4096))
    assert [row["model"] for row in exported] == [QWEN, DEEPSEEK]
    for got, want in zip(exported, expected, strict=True):
        assert got["verdict"] == want["verdict"] and int(got["memory bytes"]) == want["memory bytes"]
        assert float(got["cheapest output $/1M"]) == want["cheapest output $/1M"]

    # The address alone brings the same inputs back in a new session.
    page.reload()
    wait_for_app(page)
    expect(page.get_by_test_id("stMain")).to_contain_text("RTX 4090 24 GB at int4", timeout=60_000)
    expect(page.get_by_role("combobox", name="Precision")).to_have_value("int4")
    assert "Traceback" not in page.inner_text("body")
