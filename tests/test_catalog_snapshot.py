"""The query semantics on the offline snapshot: every filter, bounds, ties, unknown values, notices."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from hfdash import catalog
from hfdash.catalog import filters, snapshot
from hfdash.catalog.records import ModelConfig, ModelQuery, ModelRecord, ProviderOffer, Sort
from hfdash.config import SHIPPED_SNAPSHOT, Settings
from hfdash.errors import BadParameters, NotFound, SnapshotError

TODAY = dt.date(2026, 6, 30)
D = dt.date


def rec(id, **kw) -> ModelRecord:
    return ModelRecord(id=id, **kw)


# Hand-made records with ties and unknowns where the tests need them.
RECORDS = [
    rec("acme/Alpha-7B", task="text-generation", library="transformers", params=7_000_000_000, likes=50,
        downloads=1000, created_at=D(2026, 6, 1), last_modified=D(2026, 6, 20), trending=5.0, gated=False,
        providers=("together",), offers=(ProviderOffer("together", 0.2, 0.2, "acme/Alpha-7B-Turbo", "hub"),)),
    rec("acme/beta-135m", task="text-generation", library="transformers", params=135_000_000, likes=50,
        downloads=1000, created_at=D(2026, 5, 31), last_modified=D(2026, 5, 1), trending=5.0, gated=True,
        providers=()),
    rec("zeta/Gamma-1.5B", task="text-generation-extra", library="gguf", params=1_500_000_000, likes=None,
        downloads=None, created_at=None, last_modified=None, trending=None, gated=None, providers=None),
    rec("Beta/other", task=None, params=None, likes=7, downloads=5, created_at=D(2025, 1, 1),
        providers=("deepinfra", "together")),
    rec("acme/alpha-tts", task="text-to-speech", params=82_000_000, likes=50, downloads=3000,
        created_at=D(2026, 6, 1), providers=(), config=ModelConfig(architecture="vits", context_length=512)),
]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Settings:
    path = tmp_path_factory.mktemp("snap") / "small.parquet"
    snapshot.write_snapshot(snapshot.records_to_table(RECORDS), path, sources={"test": "1"}, built="test")
    return Settings(snapshot_path=str(path))


def ids(small: Settings, **query) -> list[str]:
    return [r.id for r in run(small, **query).records]


def run(small: Settings, **query):
    return catalog.search(ModelQuery(**query), source="snapshot", settings=small, today=TODAY)


def test_round_trip_keeps_every_field(small):
    loaded = snapshot.load(small.snapshot)
    assert {r.id: r for r in loaded.records(range(loaded.size))} == {r.id: r for r in RECORDS}
    assert catalog.snapshot_info(small).date == D(2026, 6, 1)  # newest createdAt
    assert catalog.snapshot_info(small).rows == len(RECORDS)


def test_text_is_a_case_insensitive_substring_of_the_id(small):
    assert sorted(ids(small, text="ALPHA")) == ["acme/Alpha-7B", "acme/alpha-tts"]
    assert ids(small, text="beta/") == ["Beta/other"]  # "acme/beta-135m" has no "beta/"


def test_task_is_exact(small):
    assert sorted(ids(small, task="text-generation")) == ["acme/Alpha-7B", "acme/beta-135m"]


def test_parameter_bounds_are_inclusive_and_unknown_never_matches(small):
    assert sorted(ids(small, min_params=135_000_000, max_params=1_500_000_000)) == ["acme/beta-135m",
                                                                                    "zeta/Gamma-1.5B"]
    result = run(small, min_params=1)
    assert "Beta/other" not in [r.id for r in result.records]
    assert result.excluded_unknown == {"params": 1}


def test_min_likes_and_downloads(small):
    assert sorted(ids(small, min_likes=50)) == ["acme/Alpha-7B", "acme/alpha-tts", "acme/beta-135m"]
    assert ids(small, min_downloads=3000) == ["acme/alpha-tts"]
    assert run(small, min_likes=0).excluded_unknown == {"likes": 1}


def test_created_after_is_on_or_after(small):
    assert sorted(ids(small, created_after=D(2026, 6, 1))) == ["acme/Alpha-7B", "acme/alpha-tts"]
    assert "acme/beta-135m" in ids(small, created_after=D(2026, 5, 31))


def test_created_within_days_counts_from_today(small):
    assert sorted(ids(small, created_within_days=30)) == ["acme/Alpha-7B", "acme/alpha-tts", "acme/beta-135m"]
    assert sorted(ids(small, created_within_days=29)) == ["acme/Alpha-7B", "acme/alpha-tts"]
    # Both given: the later day wins.
    assert ids(small, created_within_days=400, created_after=D(2026, 6, 1), text="tts") == ["acme/alpha-tts"]


def test_updated_and_gated_and_library_filters(small):
    assert ids(small, updated_after=D(2026, 6, 1)) == ["acme/Alpha-7B"]
    assert ids(small, updated_within_days=60) == ["acme/Alpha-7B", "acme/beta-135m"]
    assert ids(small, gated=True) == ["acme/beta-135m"]
    assert ids(small, gated=False) == ["acme/Alpha-7B"]
    assert ids(small, library="gguf") == ["zeta/Gamma-1.5B"]


def test_providers_any_named_and_unknown(small):
    assert sorted(ids(small, provider="any")) == ["Beta/other", "acme/Alpha-7B"]
    assert ids(small, provider="deepinfra") == ["Beta/other"]
    result = run(small, provider="together")
    assert sorted(r.id for r in result.records) == ["Beta/other", "acme/Alpha-7B"]
    assert result.excluded_unknown == {"providers": 1}  # zeta: providers unknown, never a match


def test_excluded_unknown_counts_only_what_passed_the_other_filters(small):
    result = run(small, text="gamma", min_likes=1, min_params=1)
    assert result.records == []
    assert result.excluded_unknown == {"likes": 1}  # Gamma's params are known and pass; its likes are not


def test_sort_descending_ties_by_id_unknown_last(small):
    # likes: 50, 50, 50 tie -> ids ascending ("acme/Alpha-7B" < "acme/alpha-tts" < "acme/beta-135m"), 7, unknown.
    assert ids(small, sort=Sort.LIKES) == ["acme/Alpha-7B", "acme/alpha-tts", "acme/beta-135m", "Beta/other",
                                           "zeta/Gamma-1.5B"]
    assert ids(small, sort=Sort.DOWNLOADS) == ["acme/alpha-tts", "acme/Alpha-7B", "acme/beta-135m", "Beta/other",
                                               "zeta/Gamma-1.5B"]
    assert ids(small, sort=Sort.CREATED) == ["acme/Alpha-7B", "acme/alpha-tts", "acme/beta-135m", "Beta/other",
                                             "zeta/Gamma-1.5B"]
    assert ids(small, sort=Sort.UPDATED)[:2] == ["acme/Alpha-7B", "acme/beta-135m"]
    assert ids(small, sort=Sort.TRENDING, limit=2) == ["acme/Alpha-7B", "acme/beta-135m"]


def test_limit_cuts_after_sorting_and_total_counts_all_matches(small):
    result = run(small, sort=Sort.LIKES, limit=2)
    assert [r.id for r in result.records] == ["acme/Alpha-7B", "acme/alpha-tts"]
    assert result.total == 5


def test_shipped_snapshot_lacks_some_facts_and_says_so():
    result = catalog.search(ModelQuery(sort=Sort.TRENDING, library="transformers", limit=3), source="snapshot")
    assert result.records == []
    assert any("no library data" in n for n in result.notices)
    assert any("cannot sort by trending" in n and "sorted by downloads instead" in n for n in result.notices)
    for query in (ModelQuery(updated_within_days=30), ModelQuery(gated=False)):
        notices = catalog.search(query, source="snapshot").notices
        assert len(notices) == 1 and "the live Hub can apply it" in notices[0]
    updated = catalog.search(ModelQuery(sort=Sort.UPDATED, limit=3), source="snapshot")
    created = catalog.search(ModelQuery(sort=Sort.CREATED, limit=3), source="snapshot")
    assert [r.id for r in updated.records] == [r.id for r in created.records]
    assert "sorted by created instead" in updated.notices[0]


def test_shipped_snapshot_is_complete_and_labelled():
    info = catalog.snapshot_info()
    assert info.rows == 16_849 and info.date == D(2026, 10, 5)
    assert info.sources == {"llmfit": "1.1.17", "litellm": "1.110.2",
                            "configs": "configs/real-configs.jsonl (225 repos)"}
    qwen = catalog.get_model("Qwen/Qwen2.5-7B-Instruct", source="snapshot")
    assert qwen.task == "text-generation" and qwen.params == 7_615_616_512 and qwen.created_at == D(2024, 9, 16)
    assert qwen.config.num_key_value_heads == 4 and qwen.license == "apache-2.0"
    assert {o.provider for o in qwen.offers} >= {"deepinfra", "together"}
    assert all(o.source == "litellm catalog" and o.input_per_1m is not None for o in qwen.offers)
    together = next(o for o in qwen.offers if o.provider == "together")
    assert together.provider_model_id == "Qwen/Qwen2.5-7B-Instruct-Turbo"  # joined across the -Turbo suffix
    assert qwen.last_modified is None and qwen.trending is None and qwen.library is None and qwen.gated is None


def test_get_model_is_case_insensitive_and_not_found_says_where():
    assert catalog.get_model("qwen/qwen2.5-7b-instruct", source="snapshot").id == "Qwen/Qwen2.5-7B-Instruct"
    with pytest.raises(NotFound, match="not in the snapshot"):
        catalog.get_model("nobody/nothing", source="snapshot")


def test_vectorised_search_agrees_with_the_per_record_meaning():
    """Random queries over the real snapshot: snapshot.py's masks give what filters.matches/sort_key give."""
    loaded = snapshot.load(SHIPPED_SNAPSHOT)
    every = loaded.records(range(loaded.size))
    rng = random.Random(7)
    for _ in range(25):
        query = ModelQuery(
            text=rng.choice([None, "qwen", "LLAMA", "-it", "gemma-3"]),
            task=rng.choice([None, "text-generation", "image-text-to-text"]),
            min_params=rng.choice([None, 100_000_000, 1_000_000_000]),
            max_params=rng.choice([None, 8_000_000_000, 70_000_000_000]),
            provider=rng.choice([None, "any", "together", "deepinfra"]),
            min_likes=rng.choice([None, 0, 10, 500]), min_downloads=rng.choice([None, 1000]),
            created_within_days=rng.choice([None, 90, 365]),
            sort=rng.choice([Sort.LIKES, Sort.DOWNLOADS, Sort.CREATED]), limit=rng.choice([1, 20, 200]))
        conds = filters.conditions(query, TODAY)
        expected = sorted((r for r in every if all(filters.matches(r, c) for c in conds)),
                          key=filters.sort_key(query.sort))
        got = loaded.search(query, today=TODAY)
        assert [r.id for r in got.records] == [r.id for r in expected[:query.limit]], query
        assert got.total == len(expected)


@pytest.mark.parametrize("query, message", [
    (ModelQuery(task="text-gen"), "Valid tasks: .*text-generation"),
    (ModelQuery(provider="togetherai"), "Valid providers: any, .*together"),
    (ModelQuery(min_params=8_000_000_000, max_params=1_000_000_000), "larger than max parameters"),
    (ModelQuery(min_likes=-1), "cannot be negative"),
    (ModelQuery(limit=0), "limit must be at least 1"),
])
def test_bad_queries_say_what_is_valid(query, message):
    with pytest.raises(BadParameters, match=message):
        catalog.search(query, source="snapshot")


def test_bad_source_is_refused():
    with pytest.raises(BadParameters, match="Valid sources: auto, hub, snapshot"):
        catalog.search(ModelQuery(), source="cloud")


@pytest.mark.parametrize("content", [None, b"not a parquet file", b"PAR1" + b"\0" * 64 + b"PAR1"])
def test_missing_or_corrupt_snapshot_names_the_file_and_the_rebuild(tmp_path, content):
    path = tmp_path / "broken.parquet"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SnapshotError) as caught:
        catalog.search(ModelQuery(), source="snapshot", settings=Settings(snapshot_path=str(path)))
    message = caught.value.user_message()
    assert str(path) in message and "make snapshot" in message and "build_snapshot.py" in message


def test_parquet_without_hfdash_metadata_is_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"id": ["a/b"]}), path)
    with pytest.raises(SnapshotError, match="no hfdash snapshot metadata"):
        snapshot.load(path)


def test_loaded_snapshot_is_cached_until_the_file_changes(tmp_path):
    path = tmp_path / "s.parquet"
    snapshot.write_snapshot(snapshot.records_to_table(RECORDS[:2]), path, sources={}, built="test")
    first = snapshot.load(path)
    assert snapshot.load(path) is first
    snapshot.write_snapshot(snapshot.records_to_table(RECORDS), path, sources={}, built="test")
    assert snapshot.load(path).size == len(RECORDS)


def test_shipped_snapshot_has_the_current_schema():
    import pyarrow.parquet as pq

    shipped = pq.read_schema(SHIPPED_SNAPSHOT).remove_metadata()
    assert shipped == snapshot.SCHEMA, "the record types changed: rebuild the snapshot with `make snapshot`"


@pytest.mark.parametrize("text", ["Llama 3.1", "llama-3.1", "LLAMA_3_1", "llama.3.1"])
def test_text_treats_spaces_dashes_dots_and_underscores_alike(text):
    found = catalog.search(ModelQuery(text=text, limit=1000), source="snapshot")
    expected = catalog.search(ModelQuery(text="llama-3.1", limit=1000), source="snapshot")
    assert found.total == expected.total and found.total > 100
    assert [r.id for r in found.records] == [r.id for r in expected.records]
    assert "meta-llama/Llama-3.1-8B-Instruct" in [r.id for r in found.records]
    assert all(filters.fold_text("llama-3.1") in filters.fold_text(r.id) for r in found.records)


def test_a_size_bound_compares_with_the_size_people_read():
    eight = catalog.search(ModelQuery(text="Llama-3.1-8B", max_params=8_000_000_000, limit=1000), source="snapshot")
    assert "meta-llama/Llama-3.1-8B-Instruct" in [r.id for r in eight.records]  # 8,030,261,248 reads 8.0B
    assert all(r.params < 8_050_000_000 for r in eight.records)  # 8.05B reads 8.1B
    below = catalog.search(ModelQuery(text="Llama-3.1-8B", max_params=7_900_000_000, limit=1000), source="snapshot")
    assert "meta-llama/Llama-3.1-8B-Instruct" not in [r.id for r in below.records]
    one = catalog.search(ModelQuery(min_params=1_000_000_000, limit=1000), source="snapshot")
    assert min(r.params for r in one.records) >= 999_500_000  # 752M reads 752M, not 1B
    assert filters.params_range(ModelQuery(min_params=135_000_000, max_params=999)) == (134_500_000, 999)
    assert [filters.displayed_count(n) for n in (8_030_261_248, 751_632_384, 12_400_000_000)] == [
        8_000_000_000, 752_000_000, 12_000_000_000]


def test_licence_filter_takes_any_of_several_ids_ignoring_case():
    both = catalog.search(ModelQuery(licenses=("MIT", "apache-2.0"), limit=1000), source="snapshot")
    mit = catalog.search(ModelQuery(licenses=("mit",), limit=1000), source="snapshot")
    apache = catalog.search(ModelQuery(licenses=("apache-2.0",), limit=1000), source="snapshot")
    assert {r.license for r in both.records} == {"mit", "apache-2.0"}
    assert both.total == mit.total + apache.total and mit.total > 0 and apache.total > 0
    assert both.excluded_unknown["license"] > 0  # records with no licence are counted as left out


def test_known_licenses_are_the_snapshots_licence_ids():
    known = catalog.known_licenses()
    assert {"mit", "apache-2.0", "llama3.1"} <= set(known) and known == sorted(set(known))
    assert all(catalog.search(ModelQuery(licenses=(lic,), limit=1), source="snapshot").records for lic in known[:5])
