"""The CLI contract (issue 2, item 6), run as a user runs it: `python -m hfdash search ...` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hfdash import catalog
from hfdash.catalog import snapshot
from hfdash.catalog.filters import fold_text
from hfdash.catalog.records import ModelQuery, Sort
from hfdash.units import parse_count
from tests.support.hub_auth import user_record

CONTRACT_KEYS = {"id", "task", "params", "likes", "downloads", "created_at", "providers"}


def hfdash(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hfdash", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_json_output_is_the_contract_shape_and_says_the_source():
    done = hfdash("search", "--query", "qwen", "--min-params", "1.5B", "--max-params", "8e9", "--provider", "any",
                  "--sort", "likes", "--limit", "3", "--source", "snapshot", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    expected = catalog.search(ModelQuery(text="qwen", min_params=1_500_000_000, max_params=8_000_000_000,
                                         provider="any", sort=Sort.LIKES, limit=3), source="snapshot")
    assert [row["id"] for row in rows] == [r.id for r in expected.records]
    assert all(CONTRACT_KEYS <= row.keys() for row in rows)
    first = rows[0]
    assert first["id"] == "Qwen/Qwen2.5-7B-Instruct" and first["created_at"] == "2024-09-16"
    assert isinstance(first["params"], int) and "together" in first["providers"]
    assert "source: the offline snapshot" in done.stderr and "snapshot date 2026-10-05" in done.stderr


def test_table_output_is_readable_and_says_the_source():
    done = hfdash("search", "--task", "text-to-speech", "--sort", "trending", "--limit", "2", "--source", "snapshot")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["id", "task", "params", "likes", "downloads", "created", "providers"]
    assert len([line for line in lines if "text-to-speech" in line]) == 2
    assert "source: the offline snapshot · snapshot date 2026-10-05" in done.stdout
    assert "notice: The snapshot has no trending score" in done.stdout


def test_live_hub_through_the_cli_gives_the_snapshots_ids(hub):
    hub.users["hf_from_the_environment"] = user_record("someone")
    args = ("search", "--query", "llama", "--min-downloads", "10000", "--created-after", "2025-01-01",
            "--limit", "5", "--json")
    live = hfdash(*args, "--source", "hub", env={"HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_from_the_environment"})
    offline = hfdash(*args, "--source", "snapshot")
    assert live.returncode == 0, live.stderr
    assert "source: the live Hub" in live.stderr
    assert set(hub.authorizations(r"^/api/models$")) == {"Bearer hf_from_the_environment"}  # HF_TOKEN honoured
    assert "hf_from_the_environment" not in live.stdout + live.stderr
    assert [r["id"] for r in json.loads(live.stdout)] == [r["id"] for r in json.loads(offline.stdout)]


def test_auto_falls_back_when_the_hub_is_down_and_says_why(hub):
    url = hub.url
    hub.stop()
    done = hfdash("search", "--limit", "1", "--json", env={"HF_ENDPOINT": url})
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 1
    assert "source: the offline snapshot" in done.stderr and "could not connect" in done.stderr


def test_an_explicit_live_hub_choice_fails_with_the_hubs_error_not_the_snapshot(hub):
    url = hub.url
    hub.stop()
    done = hfdash("search", "--limit", "1", "--json", "--source", "hub", env={"HF_ENDPOINT": url})
    assert done.returncode == 2 and done.stdout == ""
    assert "could not connect" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, words", [
    (("--min-params", "lots"), "argument --min-params: not a parameter count: 'lots'"),
    (("--sort", "stars"), "argument --sort: invalid choice: 'stars'"),
    (("--created-after", "2024-13-01"), "not a date in YYYY-MM-DD form"),
    (("--limit", "0"), "argument --limit: must be at least 1"),
    (("--min-likes", "-3"), "argument --min-likes: cannot be negative"),
    (("--source", "cloud"), "argument --source: invalid choice"),
    (("--colour",), "unrecognized arguments: --colour"),
    (("--min-params", "8B", "--max-params", "1B"), "min parameters (8,000,000,000) is larger than max parameters"),
    (("--task", "text-gen"), "Unknown task 'text-gen'. Valid tasks:"),
    (("--provider", "togetherai"), "Unknown provider 'togetherai'. Valid providers: any,"),
    (("--min-params", "1e400"), "argument --min-params: not a parameter count: '1e400' is too large"),
    (("--created-within", "99999999999"), "argument --created-within: must be at most 36,500 (got 99,999,999,999)"),
    (("--updated-within", "1000000000"), "argument --updated-within: must be at most 36,500"),
    (("--limit", "10000000"), "argument --limit: must be at most 1,000 (got 10,000,000)"),
    (("--min-downloads", "99999999999999999999"), "argument --min-downloads: must be at most"),
])
def test_bad_flags_and_values_give_one_line_and_exit_2(args, words):
    done = hfdash("search", "--source", "snapshot", *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_task_and_provider_list_the_valid_ones():
    task = hfdash("search", "--task", "chat", "--source", "snapshot").stderr
    assert "text-generation" in task and "image-text-to-text" in task
    provider = hfdash("search", "--provider", "nope", "--source", "snapshot").stderr
    assert all(name in provider for name in ("together", "fireworks-ai", "deepinfra", "featherless-ai"))


def test_missing_snapshot_offline_names_the_file_and_the_rebuild(tmp_path):
    missing = tmp_path / "gone.parquet"
    done = hfdash("search", "--source", "snapshot", env={"HFDASH_SNAPSHOT": str(missing)})
    assert done.returncode == 2
    assert str(missing) in done.stderr and "make snapshot" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("text, count", [("135M", 135_000_000), ("1.5B", 1_500_000_000), ("7e9", 7_000_000_000),
                                         ("2T", 2_000_000_000_000), ("350", 350), ("0.5b", 500_000_000)])
def test_parameter_counts_parse_in_human_units(text, count):
    assert parse_count(text) == count


def test_snapshot_refresh_writes_the_same_format_from_the_live_hub(hub, tmp_path):
    out = tmp_path / "fresh.parquet"
    done = hfdash("snapshot", "--out", str(out), "--limit", "25", "--task", "text-generation",
                  env={"HF_ENDPOINT": hub.url})
    assert done.returncode == 0, done.stderr
    assert "25/25" in done.stderr  # the progress bar
    loaded = snapshot.load(out)
    assert loaded.size == 25 and loaded.info.sources["hub"] == hub.url
    assert pq.read_schema(out).remove_metadata() == snapshot.SCHEMA
    top = catalog.search(ModelQuery(task="text-generation", sort=Sort.DOWNLOADS, limit=25), source="snapshot")
    assert sorted(loaded.table["id"].to_pylist()) == sorted(r.id for r in top.records)
    # The app and the CLI can be pointed at it.
    again = hfdash("search", "--source", "snapshot", "--limit", "25", "--json", env={"HFDASH_SNAPSHOT": str(out)})
    assert len(json.loads(again.stdout)) == 25 and f"snapshot date {loaded.info.date}" in again.stderr


def test_snapshot_refresh_with_bad_task_exits_2():
    done = hfdash("snapshot", "--out", "x.parquet", "--task", "nonsense")
    assert done.returncode == 2 and "Valid tasks" in done.stderr


def test_snapshot_refresh_with_the_hub_down_writes_nothing(hub, tmp_path):
    url = hub.url
    hub.stop()
    out = tmp_path / "never.parquet"
    done = hfdash("snapshot", "--out", str(out), "--limit", "5", env={"HF_ENDPOINT": url})
    assert done.returncode == 2 and "could not connect" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_a_reader_that_stops_early_gets_no_traceback():
    """`search --json | head -c 100`: the pipe closes under the CLI."""
    search = subprocess.Popen([sys.executable, "-m", "hfdash", "search", "--source", "snapshot", "--json",
                               "--limit", "1000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert len(search.stdout.read(100)) == 100
    search.stdout.close()
    stderr = search.stderr.read().decode()
    assert search.wait(timeout=60) == 2
    assert stderr.strip().splitlines() == ["error: the output was closed before all of it was written."]


@pytest.mark.parametrize("out", ["", "folder", "file/under.parquet", "/dev/null", "link.parquet"])
def test_snapshot_out_refuses_what_it_must_not_replace_before_asking_the_hub(tmp_path, out):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("a file")
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "link.parquet").symlink_to(victim)
    before = sorted(p.name for p in tmp_path.iterdir())
    done = subprocess.run([sys.executable, "-m", "hfdash", "snapshot", "--out", out], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env={**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9",
                                                         "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "argument --out:" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before and victim.read_text() == "precious"
    assert Path("/dev/null").is_char_device()


def test_snapshot_refresh_does_not_follow_a_planted_tmp_link(hub, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    out = tmp_path / "fresh.parquet"
    (tmp_path / "fresh.parquet.tmp").symlink_to(victim)
    done = hfdash("snapshot", "--out", str(out), "--limit", "5", env={"HF_ENDPOINT": hub.url})
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "precious"
    assert snapshot.load(out).size == 5 and not out.is_symlink()


def test_details_from_the_live_hub_show_the_card_without_terminal_escapes(hub):
    from tests.support.hub_repos import add_repo

    add_repo(hub, "acme/escapes", {"README.md": b"---\nlicense: mit\n---\n# Hello\n\x1b[2J\x1b[31mred\x1b[0m text\n"},
             info={"cardData": {"license": "mit", "language": "en"}, "tags": ["license:mit", "en"],
                   "pipeline_tag": "text-generation"})
    done = hfdash("details", "acme/escapes", "--source", "hub", env={"HF_ENDPOINT": hub.url})
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "[31mred[0m text" in done.stdout  # shown as text, never obeyed
    assert "Languages            en" in done.stdout and "License              mit" in done.stdout
    assert "Quantized variants: none listed" in done.stdout and "source: the live Hub" in done.stdout
    as_json = json.loads(hfdash("details", "acme/escapes", "--source", "hub", "--json",
                                env={"HF_ENDPOINT": hub.url}).stdout)
    assert as_json["card_text"] == "# Hello\n\x1b[2J\x1b[31mred\x1b[0m text\n"  # JSON keeps it raw (escaped by JSON)
    assert as_json["record"]["id"] == "acme/escapes" and as_json["quantized"] == []


def test_details_offline_list_gguf_copies_and_say_the_card_needs_the_hub():
    done = hfdash("details", "OpenPipe/Llama-3.1-8B-Instruct", "--source", "snapshot")
    assert done.returncode == 0, done.stderr
    assert "Parameters           8.03B" in done.stdout
    assert "unsloth/Llama-3.1-8B-Instruct-GGUF  gguf · 6.43B params" in done.stdout
    assert "Model card: The model card needs the Hub" in done.stdout
    missing = hfdash("details", "acme/not-a-model", "--source", "snapshot")
    assert missing.returncode == 2 and "not in the snapshot" in missing.stderr and "Traceback" not in missing.stderr


def test_search_licence_flag_filters_both_ways_the_same(hub):
    args = ("search", "--license", "mit,Apache-2.0", "--query", "qwen 2.5", "--limit", "5", "--json")
    offline = hfdash(*args, "--source", "snapshot")
    live = hfdash(*args, "--source", "hub", env={"HF_ENDPOINT": hub.url})
    assert offline.returncode == 0 and live.returncode == 0, offline.stderr + live.stderr
    rows = json.loads(offline.stdout)
    assert rows and {r["license"] for r in rows} <= {"mit", "apache-2.0"}
    assert all("qwen-2-5" in fold_text(r["id"]) for r in rows)
    assert [r["id"] for r in json.loads(live.stdout)] == [r["id"] for r in rows]
