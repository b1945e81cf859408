"""The Hardware-fit page: AppTest for inputs, charts, table and messages; a real browser on a fresh server."""

import json

import pytest
from playwright.sync_api import expect
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
    at = open_page(models=f"{SMOL},Qwen/Qwen3-8B", context="8192", devices="rtx-4090,h100,rtx-3060",
                   gpus="rtx-4090:1,h100:1,rtx-3060:2", mem="12")
    assert not at.exception and "Hardware fit" in at.title[0].value
    bars, curve = charts(at)
    models, precisions = bars["data"][0]["x"]
    assert set(models) == {SMOL, "Qwen/Qwen3-8B"} and {"bf16", "int4", "q4_k_m"} <= set(precisions)
    assert [trace["name"] for trace in bars["data"]] == ["Weights", "KV cache", "Activations", "Overhead"]
    assert "bytes" in bars["data"][1]["customdata"][0][0]  # hover carries exact figures
    assert "H100" in json.dumps(bars["layout"]["annotations"])  # a line per chosen device
    assert "RTX 3060 12 GB x 2" in json.dumps(bars["layout"]["annotations"])  # its own GPU count
    assert curve["layout"]["xaxis"]["type"] == "log"
    assert max(curve["data"][1]["x"]) == 40960  # up to Qwen3-8B's maximum context
    table = at.dataframe[0].value
    assert list(table["model"]) == [SMOL] * 4 + ["Qwen/Qwen3-8B"] * 4
    assert list(table["device"])[:4] == ["NVIDIA GeForce RTX 4090 24 GB", "NVIDIA H100 80 GB (SXM)",
                                         "NVIDIA GeForce RTX 3060 12 GB", "Custom 12 GiB"]
    assert list(table["GPUs"])[4:] == [1, 1, 2, 1]
    # Qwen3-8B at bf16 with 8,192 tokens needs ~18 GiB: two 12 GB cards, one of the big ones, not one 12 GiB.
    assert list(table["verdict"]) == ["fits on one"] * 6 + ["fits across 2", "does not fit"]
    speeds = list(table["decode speed (upper bound)"])
    assert "estimate" in speeds[0] and speeds[3] == "unknown (bandwidth not known)"  # custom size: no bandwidth
    assert "layer split" in speeds[6]  # transformers across two 3060s: one device's bandwidth
    assert set(table["runtime"]) == {"transformers"}
    assert at.query_params["context"] == "8192" and at.query_params["devices"] == "rtx-4090,h100,rtx-3060"
    assert at.query_params["mem"] == "12" and at.query_params["gpus"] == "rtx-4090:1,h100:1,rtx-3060:2"
    contexts = at.dataframe[1].value  # largest context per precision, per model and device
    row = contexts[(contexts["model"] == "Qwen/Qwen3-8B") & (contexts["device"] == "NVIDIA GeForce RTX 3060 12 GB")]
    assert row["fp32"].iloc[0] == "does not fit" and "(model max)" in row["q4_k_m"].iloc[0]
    assert row["best at 8,192"].iloc[0] != "none fits"


def test_a_model_below_the_chosen_context_stays_capped_with_a_note(offline):
    at = open_page(models=f"{SMOL},Qwen/Qwen3-8B", context="20000", devices="rtx-4090")
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["model"]) == [SMOL, "Qwen/Qwen3-8B"]
    assert list(table["context"]) == [8192, 20000]
    assert any("maximum context is 8,192 tokens: figured at 8,192, not 20,000" in c.value for c in at.caption)


def test_runtime_choice_changes_the_answer(offline):
    at = open_page(models="Qwen/Qwen3-8B", context="32768", devices="h100", runtime="vllm")
    table = at.dataframe[0].value
    assert list(table["runtime"]) == ["vllm"] and int(table["vLLM sequences at once"][0].replace(",", "")) >= 10
    bars = charts(at)[0]
    assert "q4_k_m" not in bars["data"][0]["x"][1]  # vLLM runs no GGUF precisions here
    at = open_page(models="Qwen/Qwen3-8B", context="32768", devices="rtx-3060", dtype="q4_k_m")
    assert list(at.dataframe[0].value["runtime"]) == ["llama.cpp"]  # auto: GGUF runs on llama.cpp
    assert any("258.50 MiB" in c.value for c in at.caption)  # the runtime's sources are named


def test_each_device_gets_the_estimate_for_its_kind(offline):
    from hfdash.catalog import get_model
    from hfdash.hardware.estimate import estimate_memory
    from hfdash.units import human_bytes

    at = open_page(models=SMOL, dtype="q4_0", context="8192", devices="rtx-3060,m4-pro-48gb")
    table = at.dataframe[0].value
    record = get_model(SMOL, source="snapshot")
    # llama.cpp on a GPU holds a CUDA context (300 MiB); on Apple silicon there is none.
    expected = [human_bytes(estimate_memory(record, dtype="q4_0", context=8192, device_kind=kind).total_bytes)
                for kind in ("gpu", "unified")]
    assert list(table["needs"]) == expected and expected[0] != expected[1]
    assert any("figured for a GPU (CUDA) (each verdict for its own device's kind)" in c.value for c in at.caption)


def test_a_machine_whose_memory_is_unknown_gets_a_message_not_a_verdict(offline, monkeypatch):
    from hfdash.hardware import local

    monkeypatch.setattr(local, "system_ram", lambda: (None, None))
    monkeypatch.setattr(local, "cuda_devices", lambda: ())
    at = open_page(models=SMOL, devices="this-machine,rtx-3060")
    assert not at.exception and not at.error
    assert "This machine (CPU RAM): its memory size is unknown, so it gets no verdict." in [w.value for w in at.warning]
    assert list(at.dataframe[0].value["device"]) == ["NVIDIA GeForce RTX 3060 12 GB"]  # the known device still answers


@pytest.mark.parametrize("params,field,message", [
    ({"context": "99999999999"}, "Context length", "outside 1-16,777,216; using 4,096"),
    ({"batch": "5000"}, "Batch", "outside 1-1,024; using 1"),
    ({"gpus": "100"}, "GPU count", "outside 1-64; using 1"),
    ({"mem": "99999"}, "Custom device memory", "outside 0-4,096; using 0"),
])
def test_absurd_link_figures_are_named_at_their_field(offline, params, field, message):
    at = open_page(models=SMOL, devices="rtx-4090", **params)
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any(field in w and message in w for w in warnings), warnings
    assert len(charts(at)) == 2  # the page still answers, with the default


def test_model_facts_are_read_once_per_session(offline, monkeypatch):
    from hfdash.hardware import hubfacts

    calls = []
    real = hubfacts.model_facts

    def counted(model_id, **kwargs):  # the real function, counted
        calls.append(model_id)
        return real(model_id, **kwargs)

    monkeypatch.setattr(hubfacts, "model_facts", counted)
    at = open_page(models=f"{SMOL},Qwen/Qwen3-8B", devices="rtx-4090")
    assert sorted(calls) == sorted([SMOL, "Qwen/Qwen3-8B"])
    at.number_input(key="context").set_value(2048).run()
    at.selectbox(key="dtype").set_value("int4").run()
    at.multiselect(key="fit_devices").set_value(["h100"]).run()
    assert len(calls) == 2 and not at.exception


def test_too_many_models_are_capped_with_a_message(offline):
    many = ",".join([SMOL, "Qwen/Qwen3-8B", "Qwen/Qwen3-4B", "Qwen/Qwen3-1.7B", "Qwen/Qwen3-0.6B",
                     "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-3B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct",
                     "Qwen/Qwen2.5-0.5B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"])
    at = open_page(models=many, devices="rtx-4090")
    assert any("10 models asked for: showing the first 8" in w.value for w in at.warning)
    assert len(set(at.dataframe[0].value["model"])) == 8


def test_changing_a_widget_changes_the_figures(offline):
    # The URL side of a widget change is the browser's (bound widgets): test_widgets_are_bound_to_the_url.
    at = open_page(models=SMOL)
    at.selectbox(key="dtype").set_value("int4").run()
    at.number_input(key="context").set_value(2048).run()
    assert "(int4)" in charts(at)[1]["data"][0]["name"]


def test_shortlist_feeds_the_page_when_the_link_names_no_models(offline):
    at = open_page(shortlist="Qwen/Qwen3-8B")
    assert at.text_input(key="models").value == "Qwen/Qwen3-8B"
    assert len(charts(at)) == 2


def test_bad_inputs_are_clear_messages_and_good_models_still_show(offline):
    at = open_page(models=f"nobody/no-such-model,{SMOL},Qwen/Qwen3-8B", context="20000", dtype="int3",
                   devices="rtx-4090,gtx-9999", batch="zero", runtime="ollama")
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "nobody/no-such-model" in errors and "not in the snapshot" in errors
    warnings = " ".join(w.value for w in at.warning)
    assert "dtype=int3" in warnings and "valid: fp32" in warnings
    assert "gtx-9999" in warnings and "Batch `zero` in the link is not a whole number" in warnings
    assert "ollama" in warnings
    assert len(charts(at)) == 2  # Qwen3-8B (max 40,960) still has its charts


def test_unknown_config_is_said_on_the_page(offline):
    at = open_page(models="google/gemma-3-4b-it")
    assert any("KV cache unknown" in c.value for c in at.caption)
    assert any("config source: the Hub config as scraped by llmfit (dropped: filler context)" in c.value
               for c in at.caption)


@pytest.mark.browser
def test_page_opened_directly_on_a_fresh_server_draws_both_charts(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    page.goto(f"{server.url}/Hardware_fit?models={SMOL}&devices=rtx-4090")
    wait_for_app(page, timeout=60_000)
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=60_000)
    assert page.locator(".js-plotly-plot").count() == 2
    page.locator('[data-testid="stDataFrame"]').nth(1).wait_for(timeout=60_000)  # drawn after the charts
    body = page.inner_text("body")
    assert "Hardware fit" in body and "Decode speed is an upper bound" in body and "Traceback" not in body
    assert page.locator('[data-testid="stDataFrame"]').count() == 2  # verdicts, largest context per precision
    assert "Largest context per precision" in body


@pytest.mark.browser
def test_widgets_are_bound_to_the_url_and_old_links_still_work(app_server, page):
    server = app_server(env={"HF_HUB_OFFLINE": "1"})
    # A link in the form the page writes: comma lists, per-device GPU counts, every input.
    page.goto(f"{server.url}/Hardware_fit?models={SMOL}&devices=rtx-4090,h100&gpus=rtx-4090:2,h100:1"
              "&dtype=fp16&runtime=auto&context=8192&batch=2&kv=auto&mem=12")
    wait_for_app(page, timeout=60_000)
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=60_000)
    expect(page.get_by_role("combobox", name="Precision (context chart and verdicts)")).to_have_value("fp16")
    expect(page.get_by_role("spinbutton", name="Context length (tokens)")).to_have_value("8192")
    expect(page.get_by_role("spinbutton", name="Batch")).to_have_value("2")
    expect(page.get_by_role("spinbutton", name="GPUs: rtx-4090")).to_have_value("2")
    expect(page.get_by_role("spinbutton", name="Custom device memory (GiB, 0 = none)")).to_have_value("12")

    context = page.get_by_role("spinbutton", name="Context length (tokens)")
    context.fill("2048")
    context.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('context') === '2048'",
                           timeout=30_000)
    page.get_by_role("combobox", name="Precision (context chart and verdicts)").click()
    page.get_by_role("option", name="int4", exact=True).click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('dtype') === 'int4'", timeout=30_000)
    expect(page.get_by_role("spinbutton", name="GPUs: rtx-4090")).to_have_value("2")

    page.reload()  # a new session from the address alone
    wait_for_app(page, timeout=60_000)
    expect(page.get_by_role("combobox", name="Precision (context chart and verdicts)")).to_have_value("int4",
                                                                                                       timeout=60_000)
    expect(page.get_by_role("spinbutton", name="Context length (tokens)")).to_have_value("2048")
    expect(page.get_by_role("spinbutton", name="GPUs: rtx-4090")).to_have_value("2")
    assert "Traceback" not in page.inner_text("body")
