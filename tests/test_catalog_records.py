"""One record definition: the snapshot's columns, the JSON, the table and the detail rows all follow the
dataclass fields and their display metadata."""

from __future__ import annotations

from dataclasses import fields

import pyarrow.parquet as pq

from hfdash.catalog import records, snapshot
from hfdash.catalog.records import ModelConfig, ModelRecord
from hfdash.config import SHIPPED_SNAPSHOT


def shipped(model_id: str) -> ModelRecord:
    record = snapshot.load(SHIPPED_SNAPSHOT).get(model_id)
    assert record is not None
    return record


def test_every_field_is_a_column_and_a_json_key_and_survives_a_round_trip():
    names = [f.name for f in fields(ModelRecord)]
    assert snapshot.SCHEMA.names == [n for n in names if n != "config"] + [f.name for f in fields(ModelConfig)]
    record = shipped("google/gemma-3-270m")
    assert list(record.to_json()) == names
    assert list(record.to_json()["config"]) == [f.name for f in fields(ModelConfig)]
    assert snapshot.row_to_record(snapshot.record_to_row(record)) == record


def test_detail_rows_read_as_people_read_them():
    record = shipped("google/gemma-3-270m")
    rows = dict(records.detail_rows(record))
    assert rows["Parameters"] == "268M" and rows["Likes"] == f"{record.likes:,}"
    assert rows["Created"] == "2025-08-05" and rows["License"] == "gemma"
    assert rows["Gated"] == "unknown" and rows["Providers"] == "none"  # unknown is said, never zero
    assert "Model" not in rows and "Hosted offers" not in rows  # the id is the heading; offers have a table
    config = dict(records.config_rows(record.config, known_only=True))
    assert config["Context length"] == "unknown"  # a missing limit must read as unknown, not vanish
    assert "Layers" not in config or config["Layers"] != "unknown"


def test_table_columns_are_the_cli_header():
    assert [c.heading for c in records.table_columns()] == ["id", "task", "params", "likes", "downloads", "created",
                                                             "providers"]
    record = shipped("google/gemma-3-270m")
    assert [records.cell(record, c) for c in records.table_columns()][:3] == ["google/gemma-3-270m",
                                                                              "text-generation", "268M"]


def test_the_snapshot_source_lists_languages_and_gguf_copies():
    assert shipped("google/gemma-3-270m").gguf_copies == ("ggml-org/gemma-3-270m-GGUF",)
    known = snapshot.load(SHIPPED_SNAPSHOT).table["languages"]
    assert known.null_count < len(known)  # some records carry them


def test_a_snapshot_written_before_the_optional_columns_still_loads(tmp_path):
    table = snapshot.records_to_table([shipped("google/gemma-3-270m")]).drop_columns(["languages", "gguf_copies"])
    path = tmp_path / "older.parquet"
    snapshot.write_snapshot(table, path, sources={}, built="test")
    assert "gguf_copies" not in pq.read_schema(path).names
    loaded = snapshot.load(path).get("google/gemma-3-270m")
    assert loaded is not None and loaded.gguf_copies is None and loaded.languages is None
