"""The Hardware-fit page: AppTest for inputs, charts, table and messages; a real browser on a fresh server."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.browser import wait_for_app
from tests.support.streamlit_app import REPO

PAGE = "pages/2_Hardware_fit.py"
SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def open_page(**params) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90)
    at.switch_page(PAGE)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def charts(at: AppTest) -> list[dict]:
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def test_models_from_the_link_give_both_charts_and_a_verdict_per_device(offline):
    at = open_page(models=f"{SMOL},Qwen/Qwen3-8B", context="8192", devices="rtx-4090,h100", gpus="2", mem="12")
    assert not at.exception and "Hardware fit" in at.title[0].value
    bars, curve = charts(at)
    models, precisions = bars["data"][0]["x"]
    assert set(models) == {SMOL, "Qwen/Qwen3-8B"} and {"bf16", "int4", "q4_k_m"} <= set(precisions)
    assert [trace["name"] for trace in bars["data"]] == ["Weights", "KV cache", "Activations", "Overhead"]
    assert "bytes" in bars["data"][1]["customdata"][0][0]  # hover carries exact figures
    assert "H100" in json.dumps(bars["layout"]["annotations"])  # a line per chosen device
    assert curve["layout"]["xaxis"]["type"] == "log"
    assert max(curve["data"][1]["x"]) == 40960  # up to Qwen3-8B's maximum context
    table = at.dataframe[0].value
    assert list(table["model"]) == [SMOL] * 3 + ["Qwen/Qwen3-8B"] * 3
    assert list(table["device"])[:3] == ["NVIDIA GeForce RTX 4090 24 GB", "NVIDIA H100 80 GB (SXM)", "Custom 12 GiB"]
    # Qwen3-8B at bf16 with 8,192 tokens needs ~18.5 GiB: two 12 GiB cards, one of the others.
    assert list(table["verdict"]) == ["fits on one"] * 5 + ["fits across 2"]
    speeds = list(table["decode speed (upper bound)"])
    assert "estimate" in speeds[0] and speeds[2] == "unknown (bandwidth not known)"  # custom size: no bandwidth
    assert at.query_params["context"] == "8192" and at.query_params["devices"] == "rtx-4090,h100"
    assert at.query_params["mem"] == "12"


def test_changing_a_widget_updates_the_url(offline):
    at = open_page(models=SMOL)
    at.selectbox(key="fit_dtype").set_value("int4").run()
    at.number_input(key="fit_context").set_value(2048).run()
    assert at.query_params["dtype"] == "int4" and at.query_params["context"] == "2048"
    assert "(int4)" in charts(at)[1]["data"][0]["name"]


def test_shortlist_feeds_the_page_when_the_link_names_no_models(offline):
    at = open_page(shortlist="Qwen/Qwen3-8B")
    assert at.text_input(key="fit_models").value == "Qwen/Qwen3-8B"
    assert len(charts(at)) == 2


def test_bad_inputs_are_clear_messages_and_good_models_still_show(offline):
    at = open_page(models=f"nobody/no-such-model,{SMOL},Qwen/Qwen3-8B", context="20000", dtype="int3",
                   devices="rtx-4090,gtx-9999", batch="zero")
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "nobody/no-such-model" in errors and "not in the snapshot" in errors
    assert "context 20,000 is beyond HuggingFaceTB/SmolLM2-135M-Instruct's maximum of 8,192 tokens" in errors
    warnings = " ".join(w.value for w in at.warning)
    assert "dtype=int3" in warnings and "valid: fp32" in warnings
    assert "gtx-9999" in warnings and "batch=zero" in warnings
    assert len(charts(at)) == 2  # Qwen3-8B (max 40,960) still has its charts


def test_unknown_config_is_said_on_the_page(offline):
    at = open_page(models="google/gemma-2-2b-it")
    assert any("KV cache unknown" in c.value for c in at.caption)


@pytest.mark.browser
def test_page_opened_directly_on_a_fresh_server_draws_both_charts(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    page.goto(f"{server.url}/Hardware_fit?models={SMOL}&devices=rtx-4090")
    wait_for_app(page, timeout=60_000)
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=60_000)
    assert page.locator(".js-plotly-plot").count() == 2
    body = page.inner_text("body")
    assert "Hardware fit" in body and "Decode speed is an upper bound" in body and "Traceback" not in body
    assert page.locator('[data-testid="stDataFrame"]').count() == 1  # the verdict table
