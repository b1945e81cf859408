"""Settings' default local device and dtype are where a new local Playground pane starts."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from hfdash import vocab
from hfdash.config import Settings, save_settings
from hfdash.inference.base import BackendSpec
from hfdash.inference.panes import panes_from_query

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_new_local_panes_start_from_the_given_defaults_and_a_link_still_decides():
    local = BackendSpec("local", dtype="bfloat16", device="cpu")
    assert [p.spec for p in panes_from_query({}, local)] == [local]
    assert [p.spec.dtype for p in panes_from_query({"models": "a/b", "backend": "local"}, local)] == ["bfloat16"]
    assert [p.spec.dtype for p in panes_from_query({"panes": "2", "p1.dtype": "float16"}, local)] == [
        "float16", "bfloat16"]
    assert panes_from_query({"models": "Qwen/Qwen2.5-7B-Instruct"}, local)[0].spec.kind == "hosted"


def test_the_playground_opens_with_the_saved_default_device_and_dtype(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    save_settings(Settings(local_device="cpu", local_dtype="bfloat16"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(vocab.PLAYGROUND.script)
    at.run()
    assert not at.exception
    assert [s.value for s in at.selectbox if s.label == "dtype"] == ["bfloat16"]
    assert [s.value for s in at.selectbox if s.label == "Device"] == ["cpu"]
    assert at.query_params.get("p1.dtype") == "bfloat16"  # the URL says what the pane uses
