"""Live model facts through the real huggingface_hub client against the loopback Hub: config.json,
safetensors headers (packed int4 unpacked), GGUF files with their real sizes, gated and unknown repos."""

import json
import subprocess
import sys

import pytest

from hfdash.config import Settings
from hfdash.errors import NotFound
from hfdash.hardware import estimate_memory, model_facts
from hfdash.hardware.report import fit_model
from tests.support import real_configs as real
from tests.support.hub_auth import user_record
from tests.support.hub_models import real_configs
from tests.support.hub_repos import Partial, add_repo, gguf_head, safetensors_header
from tests.support.streamlit_app import REPO

GGUF_REPO = "bartowski/Qwen3-8B-GGUF"
GGUF_SIZES = {"Qwen3-8B-Q2_K.gguf": 3_281_731_968, "Qwen3-8B-Q4_K_M.gguf": 5_027_783_488,
              "Qwen3-8B-Q8_0.gguf": 8_709_519_168, "Qwen3-8B-IQ4_XS.gguf": 4_563_546_400}
GPTQ_REPO = "someone/Qwen3-8B-GPTQ-Int4"


@pytest.fixture
def live(hub):
    qwen3_head = gguf_head(real.QWEN3_8B)
    add_repo(hub, GGUF_REPO, {"README.md": b"# GGUF", **{path: Partial(qwen3_head, size)
                                                         for path, size in GGUF_SIZES.items()}})
    config = {**real.QWEN3_8B, "quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128}}
    # A GPTQ layer as stored: qweight packs 8 four-bit weights per I32; scales in F16.
    header = safetensors_header({"model.layers.0.mlp.down_proj.qweight": ("I32", [1536, 4096]),
                                 "model.layers.0.mlp.down_proj.scales": ("F16", [96, 4096]),
                                 "model.embed_tokens.weight": ("F16", [151936, 4096])})
    add_repo(hub, GPTQ_REPO, {"config.json": json.dumps(config).encode(), "model.safetensors": header})
    add_repo(hub, "google/gemma-3-1b-it", {"config.json": json.dumps(real.GEMMA3_1B).encode(),
                                           "model.safetensors": 2_000_000_000}, gated=True)
    return hub


def settings_for(hub) -> Settings:
    return Settings(hub_endpoint=hub.url)


def test_gguf_repo_lists_its_real_files_as_precisions(live):
    facts = model_facts(GGUF_REPO, source="hub", settings=settings_for(live))
    assert facts.source == "hub"
    assert [(f.path, f.size, f.quant) for f in facts.gguf_files] == [
        ("Qwen3-8B-Q2_K.gguf", 3_281_731_968, "Q2_K"), ("Qwen3-8B-IQ4_XS.gguf", 4_563_546_400, "IQ4_XS"),
        ("Qwen3-8B-Q4_K_M.gguf", 5_027_783_488, "Q4_K_M"), ("Qwen3-8B-Q8_0.gguf", 8_709_519_168, "Q8_0")]
    file = facts.gguf_for("q4_k_m")
    assert estimate_memory(facts.record, dtype="q4_k_m", file_bytes=file.size).weights_bytes == 5_027_783_488
    # The KV facts come from the smallest file's header, read by byte ranges, never the whole file.
    assert (facts.record.config.num_hidden_layers, facts.record.config.num_key_value_heads) == (36, 8)
    reads = [r for r in live.requests if ".gguf" in r.path and "/resolve/" in r.path]
    assert reads and all(r.headers["range"].startswith("bytes=0-") for r in reads)
    assert {r.path.rsplit("/", 1)[-1] for r in reads} == {"Qwen3-8B-Q2_K.gguf"}
    assert "Layer and head counts from the header of Qwen3-8B-Q2_K.gguf." in facts.notes


def test_config_json_and_safetensors_headers_are_read_without_weights(live):
    facts = model_facts(GPTQ_REPO, source="hub", settings=settings_for(live))
    record = facts.record
    assert record.config.num_key_value_heads == 8 and record.config.quant_method == "gptq"
    assert record.dtype_params == {"I32": 1536 * 4096, "F16": 96 * 4096 + 151936 * 4096}
    est = estimate_memory(record, dtype="int4", context=8192)
    assert est.params == 1536 * 4096 * 8 + 96 * 4096 + 151936 * 4096  # unpacked, not the packed count
    assert est.kv_cache_bytes == 2 * 36 * 8 * 128 * 8192 * 2
    ranged = [r for r in live.requests if r.path.endswith("model.safetensors") and r.method == "GET"]
    assert ranged and all(r.headers.get("range", "").startswith("bytes=") for r in ranged)


def test_gated_repo_keeps_the_weights_estimate_and_links_to_its_terms(live):
    facts = model_facts("google/gemma-3-1b-it", source="hub", settings=settings_for(live))
    assert any("gated" in note and f"{live.url}/google/gemma-3-1b-it" in note for note in facts.notes)


def test_unknown_model_live_and_offline(live):
    with pytest.raises(NotFound, match="not found"):
        model_facts("nobody/no-such-model", source="hub", settings=settings_for(live))
    fit = fit_model("nobody/no-such-model", dtype="bf16", context=1024, source="snapshot")
    assert isinstance(fit.error, NotFound) and "not in the snapshot" in fit.error.user_message()


def test_fit_model_offers_each_gguf_file_and_curves_at_the_chosen_one(live):
    fit = fit_model(GGUF_REPO, dtype="q4_k_m", context=4096, source="hub", settings=settings_for(live))
    # The repo states no safetensors count, so its real files are the only precisions on offer.
    assert [label for label, _ in fit.bars] == ["Q2_K · Qwen3-8B-Q2_K.gguf", "IQ4_XS · Qwen3-8B-IQ4_XS.gguf",
                                                 "Q4_K_M · Qwen3-8B-Q4_K_M.gguf", "Q8_0 · Qwen3-8B-Q8_0.gguf"]
    assert fit.chosen_label == "Q4_K_M · Qwen3-8B-Q4_K_M.gguf"
    assert {e.weights_bytes for e in fit.curve} == {5_027_783_488}


def test_cli_reads_the_hub_and_uses_the_real_gguf_file(live):
    done = subprocess.run([sys.executable, "-m", "hfdash", "fit", GGUF_REPO, "--dtype", "q4_k_m", "--source", "hub",
                           "--json"], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**_env(), "HF_ENDPOINT": live.url})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["weights_bytes"] == 5_027_783_488 and result["source"] == "hub"
    assert any("Qwen3-8B-Q4_K_M.gguf" in note for note in result["notes"])


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HF_HUB_OFFLINE")}


def test_gguf_repo_facts_come_from_the_hubs_gguf_metadata_and_the_real_files_header(hub):
    from hfdash.inference.local import embedded_gguf

    real_file = embedded_gguf()  # SmolLM2-135M-Instruct, Q4_1: a real GGUF file
    repo = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
    add_repo(hub, repo, {"README.md": b"# GGUF",
                         real_file.name: Partial(real_file.read_bytes()[:4 << 20], real_file.stat().st_size)},
             info={"library_name": "gguf", "tags": ["gguf"],
                   "gguf": {"total": 134_515_008, "architecture": "llama", "context_length": 8192}})
    facts = model_facts(repo, source="hub", settings=settings_for(hub))
    config = facts.record.config
    assert facts.record.params == 134_515_008 and config.architecture == "llama"
    assert (config.num_hidden_layers, config.num_attention_heads, config.num_key_value_heads,
            config.hidden_size) == (30, 9, 3, 576)
    assert facts.gguf_files[0].size == real_file.stat().st_size
    served = sum(int(r.headers["range"].split("-")[1]) + 1 for r in hub.requests if r.path.endswith(".gguf"))
    assert served <= 64 * 1024  # the header's model keys lie in the first 64 KiB of a 98 MB file
    est = estimate_memory(facts.record, dtype="q4_0", context=8192, file_bytes=facts.gguf_files[0].size)
    assert est.kv_cache_bytes == 2 * 30 * 3 * 64 * 8192 * 2


def test_gated_repo_without_access_borrows_the_kv_facts_of_a_public_gguf_copy(hub):
    gated, copy = "meta-llama/Llama-3.1-8B-Instruct", "unsloth/Llama-3.1-8B-Instruct-GGUF"
    config = real_configs()[gated]
    add_repo(hub, gated, {"config.json": json.dumps(config).encode(), "model.safetensors": 16_060_522_496},
             gated=True)
    add_repo(hub, copy, {"Llama-3.1-8B-Instruct-Q4_K_M.gguf": Partial(gguf_head(config), 4_920_734_016)},
             info={"tags": ["gguf", f"base_model:quantized:{gated}"], "downloads": 10})
    token = "hf_" + "a" * 34
    hub.users[token] = user_record("no-access")  # an account that did not accept the terms: 403
    facts = model_facts(gated, source="hub", token=token, settings=settings_for(hub))
    assert (facts.record.config.num_hidden_layers, facts.record.config.num_key_value_heads) == (32, 8)
    (note,) = [n for n in facts.notes if "gated" in n]
    assert f"{hub.url}/{gated}" in note and f"public GGUF copy {copy}" in note
    assert estimate_memory(facts.record, dtype="bf16", context=8192).kv_cache_bytes == 2 * 32 * 8 * 128 * 8192 * 2


def test_gated_repo_without_a_public_copy_says_the_kv_cache_is_unknown(live):
    facts = model_facts("google/gemma-3-1b-it", source="hub", settings=settings_for(live))
    (note,) = [n for n in facts.notes if "gated" in n]
    assert f"{live.url}/google/gemma-3-1b-it" in note  # the terms are on the endpoint in use
