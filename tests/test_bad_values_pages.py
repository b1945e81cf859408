"""Values no widget can hold, from a link or the machine, are a message on the page: never a traceback,
never a silent change. The limits are the CLI's (tests/test_catalog_cli.py checks the same values there)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from hfdash import catalog
from hfdash.catalog.records import ModelQuery

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def open_page(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if page != "app.py":
        at.switch_page(page)
    at.query_params.update(params)
    return at.run()


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


@pytest.mark.parametrize("key, value, words", [
    ("min_params", "1e400", "min_params: not a parameter count: '1e400' is too large"),
    ("created_within", "99999999999", "created_within: must be at most 36,500 (got 99,999,999,999)"),
    ("updated_within", "1000000000", "updated_within: must be at most 36,500 (got 1,000,000,000)"),
    ("limit", "10000000", "limit: must be at most 1,000 (got 10,000,000)"),
    ("min_likes", "99999999999999999999", "min_likes: must be at most 1,000,000,000,000,000"),
])
def test_browse_names_an_out_of_range_link_value_and_searches_without_it(key, value, words):
    at = open_page("pages/1_Browse.py", source="auto", task="text-generation", **{key: value})
    assert not at.exception
    assert words in texts(at.warning) and "From the link, not used" in texts(at.warning)
    assert "Hub did not answer" not in texts(at.error)  # the value is blamed, not the Hub
    shown = [url.removeprefix("https://huggingface.co/") for url in at.dataframe(key="browse_table").value["Model"]]
    assert shown == [r.id for r in catalog.search(ModelQuery(task="text-generation"), source="snapshot").records]


@pytest.mark.parametrize("name, value, words", [
    ("seed", "99999999999999999999999",
     "seed must be between 0 and 4294967295 (got 99999999999999999999999). Using none."),
    ("max_new_tokens", "99999999999999999999", "max new tokens must be between 1 and"),
    ("temperature", "1e400", "temperature '1e400' is not a number; using 0.7."),
])
def test_playground_says_which_link_value_it_could_not_hold(name, value, words):
    at = open_page("pages/3_Playground.py", **{f"p1.{name}": value})
    assert not at.exception
    assert words in texts(at.warning)


def test_a_token_file_that_is_a_folder_is_a_message_on_home_and_hardware_fit(isolated_home):
    (isolated_home / "token").mkdir(parents=True)
    for page in ("app.py", "pages/2_Hardware_fit.py"):
        at = open_page(page, models="Qwen/Qwen2.5-7B-Instruct")
        assert not at.exception, page
        assert f"Cannot read the token file {isolated_home / 'token'} (Is a directory)" in texts(at.warning)
    assert at.get("plotly_chart"), "the page still draws its charts without the token"
