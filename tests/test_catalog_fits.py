"""The "fits on" filter: vectorised over the snapshot, the same answer as the estimator per record (the
live Hub's path), and the CLI flags."""

import datetime as dt
import json
import os
import random
import subprocess
import sys

import pytest

from hfdash.catalog import snapshot
from hfdash.catalog.filters import fold_text
from hfdash.catalog.records import FitsOn, ModelQuery
from hfdash.config import SHIPPED_SNAPSHOT
from hfdash.errors import BadParameters
from hfdash.hardware.estimate import estimate_memory
from hfdash.hardware.fitsfilter import record_fits
from tests.support.streamlit_app import REPO

TODAY = dt.date(2026, 10, 5)
NAMED = ("deepseek-ai/DeepSeek-V3", "google/gemma-3-27b-it", "openai/gpt-oss-20b", "meta-llama/Llama-3.1-8B-Instruct",
         "Qwen/Qwen3-30B-A3B")


@pytest.fixture(scope="module")
def shipped():
    return snapshot.load(SHIPPED_SNAPSHOT)


@pytest.mark.parametrize("spec", [
    FitsOn(device="rtx-3060", dtype="q4_k_m", context=32768),
    FitsOn(device="rtx-4090", dtype="bf16", context=4096),
    FitsOn(device="h100", dtype="int4", context=131072, runtime="vllm"),
    FitsOn(device="m4-pro-48gb", dtype="fp8", context=8192),
    FitsOn(device="this-machine", dtype="q4_k_m", context=8192),  # this machine's kind: no GPU here, the CPU
])
def test_vectorised_fit_is_the_estimators_answer_row_by_row(shipped, spec):
    result = shipped.search(ModelQuery(fits=spec, limit=5), today=TODAY)
    fits, known = shipped._fit(spec)
    # Random rows, plus MLA, sliding-window, MoE and sourced-config rows by name.
    named = [int(shipped._ids_containing(fold_text(i)).nonzero()[0][0]) for i in NAMED]
    rows = named + random.Random(7).sample(range(shipped.size), 400)
    for row, record in zip(rows, shipped.records(rows), strict=True):
        assert record_fits(record, spec) == (bool(fits[row]) if known[row] else None), record.id
    assert result.total == int(fits.sum())
    assert result.excluded_unknown["config"] == int((~known).sum())  # unknown fit: left out and counted
    for record in result.records:  # what is listed fits, by the estimator's own total
        estimate = estimate_memory(record, dtype=spec.dtype, context=spec.context, runtime=spec.runtime)
        assert estimate.kv_cache_bytes is not None


@pytest.mark.parametrize("kind", ["gpu", "cpu", "unified"])
@pytest.mark.parametrize("dtype,runtime,context", [("q4_k_m", "llama.cpp", 32768), ("bf16", "transformers", 16384)])
def test_vectorised_totals_equal_the_estimators_on_each_device_kind(shipped, kind, dtype, runtime, context):
    from hfdash.hardware.fitsfilter import columns, totals

    spec = FitsOn(device="rtx-3060", dtype=dtype, context=context, runtime=runtime)
    total = totals(*columns(shipped.table), spec, kind)
    # DeepSeek-V2-Lite: MLA whose attention on CPU outgrows its MLP at this context.
    named = [int(shipped._ids_containing(fold_text(i)).nonzero()[0][0]) for i in (*NAMED, "DeepSeek-V2-Lite")]
    rows = named + random.Random(11).sample(range(shipped.size), 300)
    compared = 0
    for row, record in zip(rows, shipped.records(rows), strict=True):
        try:
            estimate = estimate_memory(record, dtype=dtype, context=context, runtime=runtime, device_kind=kind)
        except BadParameters:  # no parameter count, or the model's maximum is below the context
            continue
        if estimate.kv_cache_bytes is not None:
            assert total[row] == estimate.total_bytes, record.id
            compared += 1
    assert compared > 100


def test_what_fits_a_small_card_at_a_long_context(shipped):
    spec = FitsOn(device="rtx-3060", dtype="q4_k_m", context=32768)

    def fits(model_id: str) -> bool:
        found = shipped.search(ModelQuery(text=model_id, fits=spec, limit=1000), today=TODAY).records
        return model_id in {r.id for r in found}

    assert fits("meta-llama/Llama-3.1-8B-Instruct")  # real config from a sourced copy: 131,072 max
    assert fits("Qwen/Qwen3-8B")
    assert not fits("Qwen/Qwen3-32B")  # 18 GiB of weights
    assert not fits("google/gemma-3-4b-it")  # gated, no config sourced: unknown, so left out
    # A model whose own maximum is below the context does not fit it.
    assert not fits("openai-community/gpt2")


@pytest.mark.parametrize("spec,message", [
    (FitsOn(device="gtx-9999"), "unknown device 'gtx-9999'"),
    (FitsOn(device="rtx-3060", dtype="int3"), "unknown dtype 'int3'"),
    (FitsOn(device="rtx-3060", context=0), "context must be a positive number"),
    (FitsOn(device="rtx-3060", runtime="ollama"), "unknown runtime 'ollama'"),
])
def test_bad_filter_is_a_clear_message(shipped, spec, message):
    with pytest.raises(BadParameters, match=message):
        shipped.search(ModelQuery(fits=spec), today=TODAY)


def search(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hfdash", "search", "--source", "snapshot", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_cli_fits_flags_give_the_same_models_as_the_filter(shipped):
    done = search("--fits", "rtx-3060", "--fit-dtype", "q4_k_m", "--fit-context", "32768", "--task",
                  "text-generation", "--limit", "30", "--json")
    assert done.returncode == 0, done.stderr
    ids = [model["id"] for model in json.loads(done.stdout)]
    query = ModelQuery(task="text-generation", fits=FitsOn(device="rtx-3060", dtype="q4_k_m", context=32768),
                       limit=30)
    assert ids == [r.id for r in shipped.search(query, today=TODAY).records]
    assert "with unknown memory fit (config facts)" in done.stderr


@pytest.mark.parametrize("args,message", [
    (["--fits", "gtx-9999"], "unknown device 'gtx-9999'"),
    (["--fits", "rtx-3060", "--fit-runtime", "ollama"], "unknown runtime 'ollama'"),
    (["--fits", "rtx-3060", "--fit-context", "0"], "must be at least 1"),
])
def test_cli_bad_fits_flags_are_one_line_and_exit_2(args, message):
    done = search(*args)
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def open_browse(**params: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.switch_page("pages/1_Browse.py")
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def browse_ids(at) -> list[str]:
    return [url.removeprefix("https://huggingface.co/") for url in at.dataframe(key="browse_table").value["Model"]]


def test_browse_fits_filter_shows_what_the_cli_lists(monkeypatch):
    import streamlit as st

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    st.cache_data.clear()
    at = open_browse(source="snapshot", task="text-generation", limit="30", fits="rtx-3060", fits_dtype="q4_k_m",
                     fits_context="32768")
    assert not at.exception
    done = search("--fits", "rtx-3060", "--fit-dtype", "q4_k_m", "--fit-context", "32768", "--task",
                  "text-generation", "--limit", "30", "--json")
    assert browse_ids(at) == [model["id"] for model in json.loads(done.stdout)]
    page_text = " ".join(str(e.value) for e in [*at.caption, *at.markdown, *at.info])
    assert "memory fit (config facts)" in page_text  # how many were left out as unknown
    # Set from the widgets (the browser writes them to the URL under the CLI's flag names).
    at.selectbox(key="fits").set_value("h100").run()
    at.selectbox(key="fits_dtype").set_value("fp8").run()
    at.selectbox(key="fits_runtime").set_value("vllm").run()
    assert "Qwen/Qwen3-32B" in browse_ids(at.number_input(key="limit").set_value(300).run())
    st.cache_data.clear()


def test_browse_bad_fits_link_is_named_and_dropped(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    at = open_browse(source="snapshot", fits="gtx-9999")
    assert not at.exception
    assert any("fits: unknown device 'gtx-9999'" in w.value for w in at.warning)
    assert at.selectbox(key="fits").value is None


def test_browse_fits_on_a_machine_whose_memory_is_unknown_says_so(monkeypatch):
    from hfdash.hardware import local

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(local, "system_ram", lambda: (None, None))
    monkeypatch.setattr(local, "cuda_devices", lambda: ())
    at = open_browse(source="snapshot", fits="this-machine")
    assert not at.exception
    assert [e.value for e in at.error] == ["This machine (CPU RAM): its memory size is unknown (/proc/meminfo), so "
                                           "nothing can be said to fit it."]


@pytest.mark.parametrize("model_id,context,source", [
    ("meta-llama/Llama-3.1-8B-Instruct", "131,072", "mlc-ai/mlc-llm:python/mlc_llm/model/model_preset.py@"),
    ("google/gemma-3-4b-it", "unknown", "the Hub config as scraped by llmfit (dropped: filler context)"),
])
def test_browse_details_show_the_context_and_where_the_facts_come_from(monkeypatch, model_id, context, source):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    at = open_browse(source="snapshot", model=model_id)
    assert not at.exception
    config = next(frame.value for frame in at.dataframe if "Config source" in list(frame.value.iloc[:, 0]))
    facts = dict(zip(config.iloc[:, 0], config.iloc[:, 1], strict=True))
    assert facts["Context length"] == context
    assert facts["Config source"].startswith(source)


def test_filter_columns_read_from_arrow_buffers_equal_arrows_own_values(shipped):
    import math

    import pyarrow as pa

    from hfdash.hardware.estimate import MLA_ARCHITECTURES
    from hfdash.hardware.fitsfilter import COLUMNS, columns

    # A slice across two chunks: offsets into the buffers and bit-packed validity and booleans are exercised.
    table = pa.concat_tables([shipped.table.slice(3, 701), shipped.table.slice(1000, 333)])
    values, mla = columns(table)
    for name in COLUMNS:
        expected = [math.nan if v is None else float(v) for v in table[name].to_pylist()]
        got = values[name].tolist()
        assert all((math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(got, expected, strict=True)), name
    assert mla.tolist() == [a in MLA_ARCHITECTURES for a in table["architecture"].to_pylist()]
