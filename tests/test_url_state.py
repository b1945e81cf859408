"""The URL parts widgets cannot bind: their text formats (plain functions) and the one writer for them."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from hfdash.urlcodec import join_gpu_counts, join_list, split_gpu_counts, split_list

REPO = Path(__file__).resolve().parents[1]


def test_lists_keep_order_and_drop_blanks_and_repeats_unless_asked_to_keep_them():
    assert split_list(" a/b, c/d,,a/b ") == ["a/b", "c/d"]
    assert split_list("a/b,a/b", unique=False) == ["a/b", "a/b"]
    assert split_list(None) == [] and split_list("") == []
    assert split_list(join_list(["x/1", "y/2"])) == ["x/1", "y/2"]


def test_gpu_counts_name_each_device_or_all_of_them_and_leave_the_numbers_to_the_page():
    devices = ["rtx-4090", "h100"]
    assert split_gpu_counts("rtx-4090:2,h100:4", devices) == {"rtx-4090": "2", "h100": "4"}
    assert split_gpu_counts("3", devices) == {"rtx-4090": "3", "h100": "3"}
    assert split_gpu_counts("3,h100:x,gtx-9999:2", devices) == {"rtx-4090": "3", "h100": "x"}
    assert split_gpu_counts(None, devices) == {}
    assert split_gpu_counts(join_gpu_counts({"rtx-4090": 2, "h100": 1}), devices) == {"rtx-4090": "2", "h100": "1"}


def _writer(wanted: dict, owned_prefix: str | None) -> None:
    from hfdash.ui import url_state

    owns = None if owned_prefix is None else (lambda key: key.startswith(owned_prefix))
    url_state.write(wanted, owns=owns)


def _url_after(start: dict[str, str], wanted: dict[str, str], owned_prefix: str | None = None) -> dict[str, str]:
    at = AppTest.from_function(_writer, args=(wanted, owned_prefix))
    at.query_params.update(start)
    at.run()
    assert not at.exception
    return {key: value[-1] if isinstance(value, list) else value for key, value in at.query_params.items()}


def test_write_sets_what_differs_removes_empty_values_and_the_owned_keys_no_longer_wanted():
    start = {"shortlist": "a/b", "p1.model": "m", "p2.model": "n", "context": "4096"}
    assert _url_after(start, {"shortlist": "a/b,c/d", "p1.model": "m"}, owned_prefix="p") == {
        "shortlist": "a/b,c/d", "p1.model": "m", "context": "4096"}
    assert _url_after(start, {"shortlist": ""}) == {"p1.model": "m", "p2.model": "n", "context": "4096"}


def test_only_url_state_touches_the_query_params_in_the_app():
    touching = sorted(str(path.relative_to(REPO)) for path in [*REPO.glob("hfdash/**/*.py"), *REPO.glob("pages/*.py"),
                                                               REPO / "app.py"]
                      if re.search(r"\bst\.query_params\b", path.read_text()))
    assert touching == ["hfdash/ui/url_state.py"]
