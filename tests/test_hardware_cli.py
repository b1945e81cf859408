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
    # google/gemma-3-4b-it is gated on the Hub and no copy of its config is sourced: the snapshot has none.
    done = fit("google/gemma-3-4b-it", "--dtype", "q4_k_m", "--batch", "2", "--kv-dtype", "q8_0", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["kv_cache_bytes"] is None and "verdict" not in result
    assert any("KV cache unknown" in note for note in result["notes"])
    assert (result["batch"], result["kv_dtype"], result["source"]) == (2, "q8_0", "snapshot")
    assert result["runtime"] == "llama.cpp"  # a GGUF precision


def test_gated_llama_has_its_real_limit_and_cache_offline():
    # The scrape had a filler 4,096 context and no layers; the sourced config has 131,072 and the geometry.
    done = fit("meta-llama/Llama-3.1-8B-Instruct", "--context", "32768", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["kv_cache_bytes"] == 2 * 32 * 8 * 128 * 32768 * 2
    assert "mlc-ai/mlc-llm" in result["sources"]["kv_cache"]


def test_llama_8b_at_128k_is_within_10_percent_of_a_measured_gpu_run():
    # Measured on a GPU (torch.cuda.max_memory_allocated, transformers generate): 45.6 GiB; the earlier
    # activation rule gave 55 GiB.
    done = fit("meta-llama/Llama-3.1-8B-Instruct", "--context", "131072", "--json")
    assert done.returncode == 0, done.stderr
    assert 0.9 < json.loads(done.stdout)["total_bytes"] / (45.6 * 2**30) < 1.1


def test_runtime_flag_and_the_issue_example_mistral_on_a_3060():
    # Mistral-7B-Instruct-v0.3 q4_k_m at 32k on llama.cpp: ~4 GiB of weights + 4 GiB of f16 KV + buffers.
    done = fit("mistralai/Mistral-7B-Instruct-v0.3", "--dtype", "q4_k_m", "--context", "32768",
               "--device", "rtx-3060", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["runtime"] == "llama.cpp" and result["kv_dtype"] == "fp16"
    assert 8.0 < result["total_bytes"] / 2**30 < 9.5
    assert result["verdict"]["status"] == "fits on one"
    hf = json.loads(fit("mistralai/Mistral-7B-Instruct-v0.3", "--dtype", "int4", "--context", "32768",
                        "--runtime", "transformers", "--json").stdout)
    assert hf["runtime"] == "transformers" and hf["total_bytes"] > result["total_bytes"] + 3 * 2**30


def test_llama_cpp_figures_follow_the_device_kind():
    from hfdash.hardware.estimate import LLAMA_CPP_FIXED
    from hfdash.hardware.local import this_machine

    args = ("HuggingFaceTB/SmolLM2-135M-Instruct", "--dtype", "q4_0", "--context", "8192", "--source", "snapshot")
    gpu, mac, here, bare = (json.loads(fit(*args, *device, "--json").stdout) for device in
                            (("--device", "rtx-3060"), ("--device", "m4-pro-48gb"), ("--device", "this-machine"), ()))
    assert (gpu["device_kind"], mac["device_kind"], bare["device_kind"]) == ("gpu", "unified", "gpu")
    assert gpu["overhead_bytes"] == 300 * 2**20 and mac["overhead_bytes"] == 64 * 2**20  # Metal: no CUDA context
    assert gpu["activation_bytes"] == mac["activation_bytes"] == bare["activation_bytes"]
    assert gpu["verdict"]["needs_bytes"] == gpu["total_bytes"] > mac["total_bytes"] == mac["verdict"]["needs_bytes"]
    # This machine: its CPU (RAM) where it has no GPU, as here: the compute pages a prompt writes, no CUDA context.
    kind = this_machine().device.kind
    assert here["device_kind"] == kind and here["overhead_bytes"] == LLAMA_CPP_FIXED[kind]
    if kind == "cpu":
        assert here["activation_bytes"] < gpu["activation_bytes"]
    names = {"cpu": "CPU (system RAM)", "gpu": "GPU (CUDA)"}
    assert f"figured for a {names[kind]}" in fit(*args, "--device", "this-machine").stdout


def test_max_context_table_and_best_precision():
    done = fit("meta-llama/Llama-3.1-8B-Instruct", "--device", "rtx-3060", "--context", "32768", "--max-context",
               "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    rows = {row["dtype"]: row for row in result["max_context"]}
    assert rows["bf16"]["max_context"] is None  # 15 GiB of weights on a 12 GB card
    assert rows["q4_k_m"]["runtime"] == "llama.cpp" and rows["q4_k_m"]["max_context"] > 32768
    best = rows[result["best_precision"]]
    assert best["max_context"] >= 32768
    text = fit("meta-llama/Llama-3.1-8B-Instruct", "--device", "rtx-3060", "--context", "32768", "--max-context")
    assert f"best precision at 32,768 tokens: {result['best_precision']}" in text.stdout


def test_vllm_answers_with_kv_room_and_sequences():
    done = fit("Qwen/Qwen3-8B", "--runtime", "vllm", "--context", "32768", "--device", "h100", "--json")
    assert done.returncode == 0, done.stderr
    vllm = json.loads(done.stdout)["vllm"]
    assert vllm["context"] == 32768 and vllm["max_sequences"] >= 10


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
    (["Qwen/Qwen3-8B", "--gpus", "0"], "GPU count must be between 1 and 64 (got 0)"),
    (["Qwen/Qwen3-8B", "--batch", "1e20", "--gpus", "1e14"], "batch must be between 1 and 1,024"),
    (["Qwen/Qwen3-8B", "--gpus", "1e14"], "GPU count must be between 1 and 64 (got 100,000,000,000,000)"),
    (["Qwen/Qwen3-8B", "--context", "99999999999"], "context must be at most 16,777,216 tokens"),
    (["Qwen/Qwen3-8B", "--runtime", "ollama"], "unknown runtime 'ollama'; valid: transformers, llama.cpp, vllm"),
    (["Qwen/Qwen3-8B", "--device", "0GiB"], "memory size must be between 0 and 4,096 GiB"),
    (["Qwen/Qwen3-8B", "--max-context"], "--max-context needs a --device"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(args, message):
    done = fit(*args, "--source", "snapshot")
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("command", [
    ["fit", "Qwen/Qwen3-8B", "--device", "this-machine", "--source", "snapshot"],
    ["fit", "Qwen/Qwen3-8B", "--device", "this-machine", "--max-context", "--source", "snapshot"],
    ["search", "--fits", "this-machine", "--source", "snapshot"],
])
def test_a_machine_whose_memory_is_unknown_is_one_line_and_exit_2(monkeypatch, capsys, command):
    # /proc/meminfo and sysconf both silent: nothing is said to fit a size nobody knows.
    from hfdash.cli import main
    from hfdash.hardware import local

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(local, "system_ram", lambda: (None, None))
    monkeypatch.setattr(local, "cuda_devices", lambda: ())
    assert main(command) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == ("error: This machine (CPU RAM): its memory size is unknown (/proc/meminfo), "
                                         "so nothing can be said to fit it.")
