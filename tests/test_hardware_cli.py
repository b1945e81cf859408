"""`python -m hfdash fit`: the JSON contract and the bad-input lines, run as a user runs it (offline snapshot)."""

import json
import os
import subprocess
import sys

import pytest

from tests.support.streamlit_app import REPO


def fit(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    return subprocess.run([sys.executable, "-m", "hfdash", "fit", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**env, "HF_HUB_OFFLINE": "1"})


def test_json_contract_with_a_device():
    done = fit("Qwen/Qwen3-8B", "--dtype", "bf16", "--context", "8192", "--device", "rtx-4090", "--gpus", "2",
               "--source", "snapshot", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["kv_cache_bytes"] == 2 * 36 * 8 * 128 * 8192 * 2
    assert result["weights_bytes"] == 8_190_735_360 * 2
    assert result["total_bytes"] == (result["weights_bytes"] + result["kv_cache_bytes"] + result["activation_bytes"]
                                     + result["overhead_bytes"])
    assert isinstance(result["notes"], list)
    assert result["verdict"]["device"] == "rtx-4090" and result["verdict"]["status"] == "fits on one"
    assert result["verdict"]["tokens_per_s_upper_bound"] > 0


def test_json_without_device_has_no_verdict_and_null_kv_when_config_unknown():
    # google/gemma-2-2b-it is gated on the Hub: the snapshot holds no config for it.
    done = fit("google/gemma-2-2b-it", "--dtype", "q4_k_m", "--batch", "2", "--kv-dtype", "q8_0", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["kv_cache_bytes"] is None and "verdict" not in result
    assert any("KV cache unknown" in note for note in result["notes"])
    assert (result["batch"], result["kv_dtype"], result["source"]) == (2, "q8_0", "snapshot")


def test_text_output_names_each_term():
    done = fit("HuggingFaceTB/SmolLM2-135M-Instruct", "--device", "this-machine")
    assert done.returncode == 0, done.stderr
    for label in ("weights", "KV cache", "overhead", "total", "This machine"):
        assert label in done.stdout


@pytest.mark.parametrize("args,message", [
    (["nobody/no-such-model"], "not in the snapshot"),
    (["Qwen/Qwen3-8B", "--context", "0"], "context must be a positive number"),
    (["Qwen/Qwen3-8B", "--context", "50000"], "beyond Qwen/Qwen3-8B's maximum of 40,960 tokens"),
    (["Qwen/Qwen3-8B", "--context", "lots"], "not a whole number"),
    (["Qwen/Qwen3-8B", "--dtype", "int3"], "valid: fp32, bf16, fp16, fp8, int8, int4, q8_0"),
    (["Qwen/Qwen3-8B", "--device", "gtx-9999"], "valid: rtx-3060"),
    (["Qwen/Qwen3-8B", "--kv-dtype", "int2"], "valid: fp32, bf16"),
    (["Qwen/Qwen3-8B", "--gpus", "0"], "at least 1"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(args, message):
    done = fit(*args, "--source", "snapshot")
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""
