"""Compare: the shortlist as one table (licence, cheapest hosted price, memory and verdict) and its CLI."""

import csv
import io
import json
import os
import subprocess
import sys

from hfdash.catalog import get_model
from hfdash.catalog.records import ProviderOffer
from hfdash.hardware.compare import COLUMNS, Cheapest, cheapest, compare, table_rows, to_csv
from hfdash.hardware.local import find_device
from hfdash.hardware.hubfacts import many_model_facts
from tests.support.streamlit_app import REPO

QWEN = "Qwen/Qwen2.5-7B-Instruct"
LLAMA = "meta-llama/Llama-3.1-8B-Instruct"
DEEPSEEK = "deepseek-ai/DeepSeek-V3"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    return subprocess.run([sys.executable, "-m", "hfdash", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**env, "HF_HUB_OFFLINE": "1"})


def fit_json(model: str, *args: str) -> dict:
    done = run_cli("fit", model, "--source", "snapshot", "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_cheapest_price_per_side_may_come_from_different_providers():
    offers = (ProviderOffer("a", 0.30, 0.50), ProviderOffer("b", None, 0.40), ProviderOffer("c", 0.20, None),
              ProviderOffer("d"))
    assert cheapest(offers, "input") == Cheapest("c", 0.20)
    assert cheapest(offers, "output") == Cheapest("b", 0.40)
    assert cheapest((ProviderOffer("d"),), "input") is None and cheapest((), "output") is None


def test_rows_agree_with_the_fit_command_and_the_records_offers():
    models = [QWEN, LLAMA, DEEPSEEK, "nobody/no-such-model"]
    facts = many_model_facts(models, deadline_s=60, source="snapshot")
    rows = compare(models, facts, device=find_device("rtx-4090"), dtype="bf16", context=8192)
    assert [row.model for row in rows] == models
    for row in rows[:3]:
        fitted = fit_json(row.model, "--dtype", "bf16", "--context", "8192", "--device", "rtx-4090")
        assert row.memory_bytes == fitted["total_bytes"]
        assert row.verdict == fitted["verdict"]["status"]
        record = get_model(row.model, source="snapshot")
        assert (row.params, row.max_context, row.license) == (record.params, record.config.context_length,
                                                             record.license)
        inputs = [(o.input_per_1m, o.provider) for o in record.offers if o.input_per_1m is not None]
        assert inputs, f"{row.model} has priced offers in the snapshot"
        assert row.cheapest_input.price_per_1m == min(inputs)[0]
        assert set(row.providers) == {o.provider for o in record.offers}
    assert rows[0].verdict == "fits on one" and rows[2].verdict == "does not fit"
    assert rows[3].problem and "not in the snapshot" in rows[3].problem and rows[3].memory_bytes is None


def test_table_and_csv_keep_numbers_and_name_every_column():
    facts = many_model_facts([QWEN], deadline_s=60, source="snapshot")
    rows = compare([QWEN], facts, device=find_device("h100"), dtype="fp8", context=2048)
    table = table_rows(rows)
    assert list(table[0]) == list(COLUMNS)
    assert isinstance(table[0]["params"], int) and isinstance(table[0]["cheapest input $/1M"], float)
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert parsed[0]["model"] == QWEN and int(parsed[0]["memory bytes"]) == rows[0].memory_bytes
    assert parsed[0]["precision"] == "fp8" and parsed[0]["context"] == "2048"


def test_cli_table_and_csv():
    done = run_cli("compare", QWEN, DEEPSEEK, "no/such-model", "--device", "rtx-4090", "--context", "8192",
                   "--source", "snapshot")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "NVIDIA GeForce RTX 4090" in lines[0] and "input $/1M" in lines[0]
    assert QWEN in lines[1] and "fits on one" in lines[1] and "$" in lines[1]
    assert DEEPSEEK in lines[2] and "does not fit" in lines[2]
    assert any(line.startswith("no/such-model: ") and "not in the snapshot" in line for line in lines)

    done = run_cli("compare", QWEN, LLAMA, "--device", "h100", "--gpus", "2", "--dtype", "int4", "--csv",
                   "--source", "snapshot")
    assert done.returncode == 0, done.stderr
    parsed = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["model"] for r in parsed] == [QWEN, LLAMA] and {r["precision"] for r in parsed} == {"int4"}
    assert all(r["verdict"] == "fits on one" and float(r["cheapest output $/1M"]) > 0 for r in parsed)


def test_cli_bad_input_is_one_line():
    for args, words in ((("--dtype", "bf17"), "unknown dtype"), (("--device", "toaster"), "unknown device"),
                        (("--context", "0"), "context"), (("--gpus", "0"), "GPU count")):
        done = run_cli("compare", QWEN, *args)
        assert done.returncode == 2 and done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr, done.stderr
