"""The shared vocabulary: one name per fact, and the places that must follow it do."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from hfdash import vocab
from hfdash.config import Settings, validated
from hfdash.errors import BadParameters, Gated
from hfdash.hardware.estimate import PRECISIONS
from hfdash.inference.base import BackendSpec

REPO = Path(__file__).resolve().parents[1]
MIRROR = "http://127.0.0.1:9"  # never contacted: the Browse page below reads the offline snapshot


def test_every_page_file_is_declared_once_and_every_url_is_distinct():
    files = {f"pages/{p.name}" for p in (REPO / "pages").glob("*.py")}
    assert {spec.script for spec in vocab.FEATURE_PAGES} == files
    assert len({spec.url_path for spec in vocab.PAGES}) == len(vocab.PAGES)
    assert vocab.HOME.url_path == "" and (REPO / vocab.HOME.script).is_file()


def test_the_estimator_knows_every_local_float_dtype_as_a_float_precision():
    for torch_name, estimator_name in vocab.FLOAT_DTYPES.items():
        assert PRECISIONS[estimator_name].kind == "float", torch_name
    # fp32 is four bytes a weight, the 16-bit ones two: the table pairs the right names.
    bits = {torch_name: PRECISIONS[name].bits_per_weight for torch_name, name in vocab.FLOAT_DTYPES.items()}
    assert bits == {"float32": 32, "bfloat16": 16, "float16": 16}


def test_local_dtypes_and_devices_are_what_backends_and_settings_accept():
    for dtype in vocab.LOCAL_DTYPES:
        for device in vocab.LOCAL_DEVICES:
            BackendSpec("local", dtype=dtype, device=device).validate()
            validated(Settings(local_dtype=dtype, local_device=device))
    with pytest.raises(BadParameters, match="float32"):
        BackendSpec("local", dtype="fp32").validate()
    with pytest.raises(BadParameters, match="Local dtype must be one of auto, float32"):
        validated(Settings(local_dtype="fp32"))


def test_model_urls_follow_the_endpoint_in_use(monkeypatch):
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert vocab.model_url("Qwen/Qwen2.5-7B-Instruct") == "https://huggingface.co/Qwen/Qwen2.5-7B-Instruct"
    assert vocab.model_url("a/b c", "http://mirror:8080/") == "http://mirror:8080/a/b%20c"
    monkeypatch.setenv("HF_ENDPOINT", MIRROR + "/")
    assert Settings().endpoint == MIRROR
    assert Settings(hub_endpoint="https://hub.example").endpoint == "https://hub.example"
    assert Gated("gated", repo_id="meta-llama/Llama-3.1-8B").url == f"{MIRROR}/meta-llama/Llama-3.1-8B"


def test_browse_links_models_on_the_configured_endpoint(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", MIRROR)
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.switch_page(vocab.BROWSE.script)
    at.query_params.update(source="snapshot", shortlist="Qwen/Qwen2.5-7B-Instruct", model="Qwen/Qwen2.5-7B-Instruct")
    at.run()
    assert not at.exception
    links = list(at.dataframe(key="browse_table").value["Model"])
    assert links and all(link.startswith(MIRROR + "/") for link in links)
    detail = "\n".join(str(m.value) for m in at.main.markdown)
    sidebar = "\n".join(str(m.value) for m in at.sidebar.markdown)
    for shown in (detail, sidebar):  # the detail panel's "Open on the Hub" and the shortlist's link
        assert f"]({MIRROR}/Qwen/Qwen2.5-7B-Instruct)" in shown
    assert "huggingface.co" not in detail + sidebar
    st.cache_data.clear()
