"""The Browse page, Home and the shortlist driven by AppTest: widgets in, what the user reads out.

Expected rows come from the catalog service over the shipped snapshot; each test also checks the rows
against the filter itself, so a page that shows the service's rows for the wrong query fails.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from hfdash import catalog
from hfdash.catalog.filters import displayed_count
from hfdash.catalog.records import ModelQuery, Sort
from hfdash.units import human_count
from tests.support.tokens import register_user

REPO = Path(__file__).resolve().parents[1]
WITH_OFFERS = "Qwen/Qwen2.5-7B-Instruct"  # in the snapshot with litellm-catalog providers and prices


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def open_page(page: str = "pages/1_Browse.py", **params: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    if page != "app.py":
        at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def shown_ids(at: AppTest) -> list[str]:
    # Each row links to the model's page on the Hub in use: the id is the link's path.
    return [unquote(urlsplit(url).path[1:]) for url in at.dataframe(key="browse_table").value["Model"]]


def snapshot_ids(**query) -> list[str]:
    return [r.id for r in catalog.search(ModelQuery(**query), source="snapshot").records]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_filters_set_in_widgets_show_matching_rows(offline):
    at = open_page(source="snapshot")
    assert not at.exception
    at.selectbox(key="task").set_value("text-generation")
    at.text_input(key="min_params").set_value("1B")
    at.text_input(key="max_params").set_value("10B")
    at.number_input(key="min_likes").set_value(100)
    at.run()

    assert not at.exception
    table = at.dataframe(key="browse_table").value
    assert len(table) == 20
    assert set(table["Task"]) == {"text-generation"}
    # Bounds compare with the size as people read it (1.0B .. 10B), as the table shows it.
    assert table["Parameters"].map(displayed_count).between(10**9, 10 * 10**9).all()
    assert (table["Likes"] >= 100).all()
    assert shown_ids(at) == snapshot_ids(task="text-generation", min_params=10**9, max_params=10 * 10**9,
                                         min_likes=100)
    assert "from **the offline snapshot**" in texts(at.markdown)


def test_query_string_prefills_every_filter(offline):
    at = open_page(query="qwen", task="text-generation", min_params="1.5B", max_params="8B", provider="any",
                   min_likes="50", created_after="2024-06-01", sort="likes", limit="5", source="snapshot")
    assert not at.exception and not at.warning
    assert at.text_input(key="query").value == "qwen"
    assert at.selectbox(key="task").value == "text-generation"
    assert (at.text_input(key="min_params").value, at.text_input(key="max_params").value) == ("1.5B", "8B")
    assert at.selectbox(key="provider").value == "any"
    assert at.number_input(key="min_likes").value == 50
    assert at.date_input(key="created_after").value == dt.date(2024, 6, 1)
    assert at.selectbox(key="sort").value == "likes"
    assert at.number_input(key="limit").value == 5
    assert at.radio(key="source").value == "snapshot"

    ids = shown_ids(at)
    assert 0 < len(ids) <= 5 and all("qwen" in i.lower() for i in ids)
    likes = list(at.dataframe(key="browse_table").value["Likes"])
    assert likes == sorted(likes, reverse=True)
    assert ids == snapshot_ids(text="qwen", task="text-generation", min_params=1_500_000_000, max_params=8 * 10**9,
                               provider="any", min_likes=50, created_after=dt.date(2024, 6, 1), sort=Sort.LIKES,
                               limit=5)


def test_min_above_max_says_so_and_keeps_the_link(offline):
    at = open_page(min_params="10B", max_params="1B", source="snapshot")
    assert not at.exception
    assert "larger than max parameters" in texts(at.error)
    assert not at.dataframe
    assert at.query_params["min_params"] == "10B" and at.query_params["max_params"] == "1B"


def test_unusable_link_values_are_named_and_the_rest_still_searches(offline):
    at = open_page(min_likes="lots", task="not-a-task", min_downloads="1000", source="snapshot")
    assert not at.exception
    warnings = texts(at.warning)
    assert "min_likes: 'lots' is not a whole number" in warnings
    assert "unknown task 'not-a-task'" in warnings and "text-generation" in warnings
    assert shown_ids(at) == snapshot_ids(min_downloads=1000)


def test_empty_results_name_the_filter_to_loosen(offline):
    at = open_page(task="text-generation", min_likes="100000000", source="snapshot")
    assert not at.exception and not at.dataframe
    warning = texts(at.warning)
    assert "No models match" in warning and "**min likes**" in warning and "**task**" not in warning


def test_detail_panel_links_carry_the_model_and_add_to_shortlist(offline):
    at = open_page(model=WITH_OFFERS, source="snapshot", task="text-generation")
    assert not at.exception
    assert WITH_OFFERS in texts(at.subheader)
    links = {link.value: link.proto.query_string for link in at.main.get("page_link")}
    assert links["Check hardware fit"] == "models=Qwen%2FQwen2.5-7B-Instruct"
    assert links["Try in playground"] == "models=Qwen%2FQwen2.5-7B-Instruct"
    offers = at.dataframe[-1].value
    assert {"deepinfra", "together"} <= set(offers["Provider"])
    assert set(offers["Source"]) == {"litellm catalog"}
    assert offers["Input $/1M tokens"].notna().all()

    at.button(key="browse_shortlist_toggle").click().run()
    assert not at.exception
    assert at.query_params["shortlist"] == WITH_OFFERS
    assert WITH_OFFERS in texts(at.sidebar.markdown)
    sidebar_links = {link.value: link.proto.query_string for link in at.sidebar.get("page_link")}
    assert sidebar_links["Compare fit"] == "shortlist=Qwen%2FQwen2.5-7B-Instruct&models=Qwen%2FQwen2.5-7B-Instruct"
    assert "models=Qwen%2FQwen2.5-7B-Instruct" in sidebar_links["Try side by side"]
    # Page links from the detail panel carry the shortlist too, so it survives navigation.
    links = {link.value: link.proto.query_string for link in at.main.get("page_link")}
    assert links["Check hardware fit"].startswith("shortlist=Qwen%2FQwen2.5-7B-Instruct&")
    assert at.button(key="browse_shortlist_toggle").label == "Remove from shortlist"


def test_chart_plots_the_same_results_against_the_sort_with_readable_hover(offline):
    at = open_page(view="chart", task="text-generation", min_likes="1000", source="snapshot")
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    assert spec["layout"]["xaxis"]["type"] == "log" and spec["layout"]["yaxis"]["type"] == "log"
    assert spec["layout"]["yaxis"]["title"]["text"] == "Downloads (30 days)"  # the default sort
    plotted = {point[0]: point[1] for trace in spec["data"] for point in trace["customdata"]}
    assert set(plotted) == set(snapshot_ids(task="text-generation", min_likes=1000))
    params = {r.id: r.params for r in catalog.search(ModelQuery(task="text-generation", min_likes=1000),
                                                     source="snapshot").records}
    assert plotted == {model_id: human_count(params[model_id]) for model_id in plotted}  # "6.74B", not 6738418000
    assert "Parameters: %{customdata[1]}" in spec["data"][0]["hovertemplate"]

    at.selectbox(key="sort").set_value("likes").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["yaxis"]["title"]["text"] == "Likes"
    likes = {r.id: r.likes for r in catalog.search(ModelQuery(task="text-generation", min_likes=1000, sort=Sort.LIKES),
                                                   source="snapshot").records}
    assert {p[0]: p[2] for t in spec["data"] for p in t["customdata"]} == {i: f"{n:,}" for i, n in likes.items()}


def test_live_hub_answers_when_it_is_up(hub):
    at = open_page(task="text-generation", min_likes="1000", source="hub")
    assert not at.exception and not at.error
    assert "from **the live Hub**" in texts(at.markdown)
    assert shown_ids(at) == snapshot_ids(task="text-generation", min_likes=1000)


def test_live_hub_choice_shows_the_hub_error_and_no_snapshot_answer(hub):
    hub.fail(r"^/api/models", 503, times=100)
    at = open_page(task="text-generation", source="hub")
    assert not at.exception
    assert "503" in texts(at.error) and "Traceback" not in texts(at.error)
    assert "offline snapshot" not in texts(at.markdown) + texts(at.info)  # never a silent fallback
    assert not at.dataframe


def test_auto_answers_from_the_snapshot_with_a_notice_when_the_hub_fails(hub):
    hub.fail(r"^/api/models", 503, times=100)
    at = open_page(task="text-generation", source="auto")
    assert not at.exception and not at.error
    assert "from **the offline snapshot**" in texts(at.markdown)
    assert "the live Hub could not be used" in texts(at.info) and "503" in texts(at.info)
    assert shown_ids(at) == snapshot_ids(task="text-generation")


def test_home_says_which_source_answers_and_describes_the_snapshot(offline):
    at = open_page("app.py")
    assert not at.exception
    page = texts(at.markdown)
    info = catalog.snapshot_info()
    assert f"{info.rows:,} models" in page and info.date.isoformat() in page
    assert "answered by the offline snapshot" in page
    assert "HF_HUB_OFFLINE" in texts(at.info)
    assert [link.value for link in at.main.get("page_link")] == ["Browse", "Hardware fit", "Playground", "Settings"]


def test_shortlist_from_the_url_is_in_the_sidebar_of_every_page_and_in_its_links(offline):
    ids = [WITH_OFFERS, "Qwen/Qwen3-8B"]
    at = open_page("pages/4_Settings.py", shortlist=",".join(ids))
    assert not at.exception
    assert "Shortlist (2)" in texts(at.sidebar.subheader)
    links = {link.value: link.proto.query_string for link in at.sidebar.get("page_link")}
    assert links["Compare fit"].endswith("models=Qwen%2FQwen2.5-7B-Instruct%2CQwen%2FQwen3-8B")

    at.sidebar.button(key=f"shortlist_remove:{WITH_OFFERS}").click().run()
    assert at.query_params["shortlist"] == "Qwen/Qwen3-8B"
    assert "Shortlist (1)" in texts(at.sidebar.subheader)
    at.sidebar.button(key="shortlist_clear").click().run()
    assert "shortlist" not in at.query_params
    assert "Shortlist (0)" in texts(at.sidebar.subheader)


def test_shortlist_facts_side_by_side(offline):
    at = open_page("app.py", shortlist=f"{WITH_OFFERS},Qwen/Qwen3-8B,no-such/model")
    at.sidebar.button(key="shortlist_facts").click().run()
    assert not at.exception
    facts = at.dataframe[0].value
    assert list(facts.columns) == [WITH_OFFERS, "Qwen/Qwen3-8B"]
    assert facts.loc["Parameters", WITH_OFFERS] == "7.62B" and facts.loc["Architecture", "Qwen/Qwen3-8B"] == "qwen3"
    assert "no-such/model" in texts(at.warning)


def test_a_sessions_token_is_not_shared_through_the_search_cache(hub):
    token = register_user(hub, "first-session")
    first = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    first.switch_page("pages/1_Browse.py")
    first.session_state["hf_token"] = token
    first.query_params.update(source="hub", task="text-generation")
    first.run()
    assert not first.exception and "from **the live Hub**" in texts(first.markdown)
    assert f"Bearer {token}" in hub.authorizations(r"^/api/models$")
    asked = len(hub.authorizations(r"^/api/models$"))

    second = open_page(source="hub", task="text-generation")  # another browser session, no token
    assert not second.exception and shown_ids(second) == shown_ids(first)
    own = hub.authorizations(r"^/api/models$")[asked:]
    assert own and all(auth is None for auth in own)  # it asked the Hub itself, without the first one's token
    assert "hf_token" not in second.session_state


def test_unreadable_snapshot_is_a_clear_message_naming_the_file(offline, tmp_path, monkeypatch):
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet")
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({"snapshot_path": str(broken)}))
    monkeypatch.setenv("HFDASH_CONFIG_DIR", str(config))
    at = open_page(source="snapshot")
    assert not at.exception and not at.dataframe
    assert str(broken) in texts(at.error) and "build_snapshot.py" in texts(at.error)


def test_licence_filter_and_column(offline):
    at = open_page(source="snapshot", task="text-generation", license="mit")
    assert not at.exception
    table = at.dataframe(key="browse_table").value
    assert len(table) == 20 and set(table["License"]) == {"mit"}
    mit = [r.id for r in catalog.search(ModelQuery(task="text-generation", limit=1000), source="snapshot").records
           if r.license == "mit"]
    assert shown_ids(at) == mit[:20]
    assert "**20** of **" in texts(at.markdown)  # the catalog counts every licensed match
    assert at.multiselect(key="license").value == ["mit"]


def test_offline_details_say_the_card_needs_the_hub_and_list_the_snapshots_gguf_copies(offline):
    at = open_page(source="snapshot", model=WITH_OFFERS)
    assert not at.exception
    assert "The model card needs the Hub" in texts(at.info)
    copies = catalog.get_model(WITH_OFFERS, source="snapshot").gguf_copies
    assert copies and f"**Quantized variants** ({len(copies)})" in texts(at.markdown)
    assert all(f"`{copy}`" in texts(at.markdown) for copy in copies)
    fit_links = [link.proto.query_string for link in at.main.get("page_link") if link.value == "Hardware fit"]
    assert [q.rsplit("models=", 1)[1] for q in fit_links] == [quote(copy, safe="") for copy in copies]


def test_a_licence_that_empties_the_results_is_named_to_loosen(offline):
    at = open_page(source="snapshot", task="text-generation", query="qwen", license="no-such-licence")
    assert not at.exception and not at.dataframe
    warning = texts(at.warning)
    assert "**licence**" in warning and "**task**" not in warning


@pytest.mark.parametrize("sort, title, axis", [("created", "Created", "date"),
                                               ("trending", "Downloads (30 days)", "log")])  # the snapshot has none
def test_chart_axis_follows_a_date_or_score_sort(offline, sort, title, axis):
    at = open_page(view="chart", sort=sort, source="snapshot")
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["yaxis"]["title"]["text"] == title
    assert spec["layout"]["yaxis"].get("type", "date") == axis
    plotted = {point[0] for trace in spec["data"] for point in trace["customdata"]}
    assert plotted and plotted <= set(snapshot_ids(sort=Sort(sort)))
