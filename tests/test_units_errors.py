"""Shared units and the typed error family."""

import pytest

from hfdash import errors
from hfdash.units import human_bytes, human_count, parse_count


@pytest.mark.parametrize("text,expected", [
    ("135M", 135_000_000), ("1.5B", 1_500_000_000), ("7e9", 7_000_000_000), ("2t", 2 * 10**12),
    ("500K", 500_000), ("42", 42), (" 8 B ", 8_000_000_000), (3.0, 3),
])
def test_parse_count(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "1.5G", "-1B", "B7", "1e400", float("inf")])
def test_parse_count_rejects(text):
    with pytest.raises(ValueError):
        parse_count(text)


@pytest.mark.parametrize("n,expected", [
    (None, "?"), (999, "999"), (100_000_000, "100M"), (135_000_000, "135M"), (1_500_000_000, "1.5B"),
    (7_240_000_000, "7.24B"),
    (70_550_000_000, "70.5B"), (1_000_000_000_000, "1T"),
])
def test_human_count(n, expected):
    assert human_count(n) == expected


def test_human_bytes():
    assert human_bytes(None) == "?"
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(16 * 1024**3) == "16.0 GiB"


@pytest.mark.parametrize("status,cls", [
    (401, errors.InvalidToken), (402, errors.PaymentRequired), (403, errors.Forbidden),
    (404, errors.NotFound), (422, errors.BadParameters), (429, errors.RateLimited),
    (503, errors.Unavailable), (504, errors.Timeout),
])
def test_from_status_maps_each_status(status, cls):
    err = errors.from_status(status, what="Search")
    assert type(err) is cls
    assert err.user_message().startswith("Search:")


def test_rate_limit_reads_retry_after():
    err = errors.from_status(429, what="Search", headers={"retry-after": "17"})
    assert err.retry_after == 17
    assert "Retry in 17 s" in err.user_message()


def test_gated_links_to_terms():
    err = errors.from_status(403, what="Load", repo_id="meta-llama/Llama-3.1-8B", detail="Access to model is gated")
    assert isinstance(err, errors.Gated)
    assert "https://huggingface.co/meta-llama/Llama-3.1-8B" in err.user_message()
