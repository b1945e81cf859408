"""scripts/build_snapshot.py on a small source folder shaped like the real one (llmfit + litellm JSON)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hfdash.catalog import snapshot

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_snapshot.py"
HUB_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hub"
# Real records and real sourced configs, chosen for the scraper's fillers and derived values they show.
REAL_RECORDS = ("meta-llama/Llama-3.1-8B-Instruct", "google/gemma-3-27b-it", "google/gemma-3-1b-it",
                "google/gemma-3-4b-it", "unsloth/gemma-3-4b-it", "gaunernst/gemma-3-12b-it-int4-awq",
                "openai/gpt-oss-20b", "unsloth/gpt-oss-20b-GGUF", "deepseek-ai/DeepSeek-R1")
REAL_CONFIGS = ("meta-llama/Llama-3.1-8B-Instruct", "google/gemma-3-27b-it", "google/gemma-3-1b-it",
                "openai/gpt-oss-20b", "unsloth/gpt-oss-20b-GGUF")

LLMFIT = [
    {"name": "Qwen/Qwen2.5-7B-Instruct", "provider": "qwen", "parameter_count": "7.6B", "parameters_raw": 7615616512,
     "min_ram_gb": 9.0, "recommended_ram_gb": 16.0, "min_vram_gb": 8.0, "quantization": "Q4_K_M", "format": "gguf",
     "context_length": 32768, "use_case": "Chat", "capabilities": ["tools"], "pipeline_tag": "text-generation",
     "architecture": "qwen2", "hf_downloads": 8347612, "hf_likes": 2411, "release_date": "2024-09-16",
     "num_hidden_layers": 28, "num_attention_heads": 28, "num_key_value_heads": 4, "head_dim": 128,
     "hidden_size": 3584, "vocab_size": 152064, "license": "apache-2.0"},
    {"name": "acme/tiny", "provider": "acme", "parameter_count": "0K", "parameters_raw": 2, "min_ram_gb": 1.0,
     "recommended_ram_gb": 2.0, "min_vram_gb": 0.5, "quantization": "Q4_K_M", "context_length": 4096,
     "use_case": "General", "capabilities": [], "pipeline_tag": "unknown", "architecture": "h_model",
     "hf_downloads": 0, "hf_likes": 0, "release_date": "", "_discovered": True},
    {"name": "deepseek-ai/DeepSeek-V3", "provider": "deepseek", "parameter_count": "671B",
     "parameters_raw": 671026419200, "min_ram_gb": 400.0, "recommended_ram_gb": 700.0, "min_vram_gb": 380.0,
     "quantization": "Q4_K_M", "context_length": 163840, "use_case": "Chat", "capabilities": [],
     "pipeline_tag": "text-generation", "architecture": "deepseek_v3", "hf_downloads": 500000, "hf_likes": 4000,
     "release_date": None, "is_moe": True, "num_experts": 256, "active_experts": 8,
     "active_parameters": 37000000000},
]
LITELLM = {
    "sample_spec": {"litellm_provider": "one of https://docs.litellm.ai/docs/providers"},
    "deepinfra/Qwen/Qwen2.5-7B-Instruct": {"litellm_provider": "deepinfra", "input_cost_per_token": 4e-08,
                                          "output_cost_per_token": 1e-07, "mode": "chat"},
    "together_ai/Qwen/Qwen2.5-7B-Instruct-Turbo": {"litellm_provider": "together_ai", "input_cost_per_token": 3e-07,
                                                  "output_cost_per_token": 3e-07, "mode": "chat"},
    "novita/qwen/qwen2.5-7b-instruct": {"litellm_provider": "novita", "input_cost_per_token": 7e-08,
                                        "output_cost_per_token": 7e-08, "mode": "chat"},
    "fireworks_ai/accounts/fireworks/models/deepseek-ai/deepseek-v3": {
        "litellm_provider": "fireworks_ai", "input_cost_per_token": 9e-07, "output_cost_per_token": 9e-07},
    "fireworks_ai/accounts/fireworks/models/deepseek-v3": {"litellm_provider": "fireworks_ai",
                                                           "input_cost_per_token": 1e-06},  # bare name: not joined
    "openai/gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 2.5e-06},
}


def build(src: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--src", str(src), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def source(tmp_path) -> Path:
    src = tmp_path / "hub"
    src.mkdir()
    (src / "llmfit-9.9.9-hf_models.json").write_text(json.dumps(LLMFIT))
    (src / "litellm-1.2.3-model_prices.json").write_text(json.dumps(LITELLM))
    (src / "configs").mkdir()
    (src / "configs" / "real-configs.jsonl").write_text("")
    return src


@pytest.fixture
def real_source(tmp_path) -> Path:
    """A source folder holding real llmfit records and real sourced configs, cut to a few repos."""
    src = tmp_path / "hub"
    (src / "configs").mkdir(parents=True)
    records = [r for r in json.loads((HUB_DATA / "llmfit-1.1.17-hf_models.json").read_text())
               if r["name"] in REAL_RECORDS]
    (src / "llmfit-1.1.17-hf_models.json").write_text(json.dumps(records))
    (src / "litellm-1.2.3-model_prices.json").write_text("{}")
    lines = [line for line in (HUB_DATA / "configs" / "real-configs.jsonl").read_text().splitlines()
             if json.loads(line)["id"] in REAL_CONFIGS]
    (src / "configs" / "real-configs.jsonl").write_text("\n".join(lines) + "\n")
    return src


def test_real_configs_replace_fillers_and_defaults_resolve_like_transformers(real_source, tmp_path):
    out = tmp_path / "s.parquet"
    done = build(real_source, out)
    assert done.returncode == 0, done.stderr
    assert "5 with a sourced config" in done.stdout
    loaded = snapshot.load(out)
    llama = loaded.get("meta-llama/Llama-3.1-8B-Instruct").config
    # The scrape had a filler 4,096 and no layer facts for this gated repo; the sourced config has them.
    assert (llama.context_length, llama.num_hidden_layers, llama.num_key_value_heads, llama.head_dim) == \
        (131072, 32, 8, 128)
    assert llama.facts_source.startswith("mlc-ai/mlc-llm:python/mlc_llm/model/model_preset.py@")
    # Gemma 3 27B's config omits max_position_embeddings, vocab and the sliding pattern: transformers'
    # Gemma3TextConfig defaults fill them (5 sliding layers to 1 global).
    gemma27 = loaded.get("google/gemma-3-27b-it").config
    assert (gemma27.context_length, gemma27.vocab_size, gemma27.head_dim) == (131072, 262208, 128)
    assert (gemma27.sliding_window, gemma27.sliding_window_layers, gemma27.num_hidden_layers) == (1024, 52, 62)
    gemma1 = loaded.get("google/gemma-3-1b-it").config
    assert (gemma1.head_dim, gemma1.sliding_window_layers) == (256, 22)  # 1152 / 4 would be 288
    assert loaded.get("openai/gpt-oss-20b").config.sliding_window_layers == 12
    # Not sourced: the filler context is unknown, never 4,096.
    gated = loaded.get("google/gemma-3-4b-it").config
    assert gated.context_length is None and "filler context" in gated.facts_source
    # 131,072 x RoPE factor 8 is not a context limit.
    assert loaded.get("unsloth/gemma-3-4b-it").config.context_length is None
    awq = loaded.get("gaunernst/gemma-3-12b-it-int4-awq").config
    assert awq.head_dim is None and awq.context_length is None  # 3840 / 16 = 240 and a fallback 8,192
    assert loaded.get("deepseek-ai/DeepSeek-R1").config.head_dim is None  # MLA: hidden / heads means nothing
    # One GGUF file's count (1.8B) gives way to the count of the repo whose config it carries.
    gguf = loaded.get("unsloth/gpt-oss-20b-GGUF")
    assert gguf.params == loaded.get("openai/gpt-oss-20b").params == 20_914_757_184
    assert "parameter count of openai/gpt-oss-20b" in gguf.config.facts_source
    assert build(real_source, tmp_path / "again.parquet").returncode == 0
    assert (tmp_path / "again.parquet").read_bytes() == out.read_bytes()


def test_a_gguf_count_far_below_its_same_shape_sibling_is_unknown(source, tmp_path):
    shape = {"architecture": "llama", "num_hidden_layers": 32, "hidden_size": 4096, "vocab_size": 128256,
             "context_length": 131072, "pipeline_tag": "text-generation"}
    rows = [{"name": "acme/Model-8B", "parameters_raw": 8_030_261_248, **shape},
            {"name": "acme/Model-8B-GGUF", "parameters_raw": 1_050_673_152, **shape},
            {"name": "acme/Model-8B-Q8-GGUF", "parameters_raw": 8_030_261_248, **shape}]
    (source / "llmfit-9.9.9-hf_models.json").write_text(json.dumps(rows))
    out = tmp_path / "g.parquet"
    assert build(source, out).returncode == 0
    loaded = snapshot.load(out)
    assert loaded.get("acme/Model-8B-GGUF").params is None
    assert "one GGUF file" in loaded.get("acme/Model-8B-GGUF").config.facts_source
    assert loaded.get("acme/Model-8B-Q8-GGUF").params == 8_030_261_248


def test_build_keeps_hub_facts_joins_offers_and_is_deterministic(source, tmp_path):
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    done = build(source, first)
    assert done.returncode == 0, done.stderr
    assert "3 models (all of 3)" in done.stdout
    assert build(source, second).returncode == 0
    assert first.read_bytes() == second.read_bytes()

    loaded = snapshot.load(first)
    assert loaded.info.sources == {"llmfit": "9.9.9", "litellm": "1.2.3",
                                   "configs": "configs/real-configs.jsonl (0 repos)"}
    assert loaded.info.date == dt.date(2024, 9, 16)
    qwen, tiny, deepseek = (loaded.get(i) for i in ("Qwen/Qwen2.5-7B-Instruct", "acme/tiny", "deepseek-ai/DeepSeek-V3"))
    assert (qwen.params, qwen.likes, qwen.downloads, qwen.created_at) == (7615616512, 2411, 8347612,
                                                                          dt.date(2024, 9, 16))
    assert qwen.config.num_key_value_heads == 4 and qwen.config.context_length == 32768
    offers = {o.provider: o for o in qwen.offers}
    assert sorted(offers) == ["deepinfra", "novita", "together"] == list(qwen.providers)
    assert offers["together"].provider_model_id == "Qwen/Qwen2.5-7B-Instruct-Turbo"
    assert offers["deepinfra"].input_per_1m == pytest.approx(0.04) and offers["deepinfra"].output_per_1m == 0.1
    assert {o.source for o in qwen.offers} == {"litellm catalog"}
    assert deepseek.providers == ("fireworks-ai",) and deepseek.offers[0].input_per_1m == pytest.approx(0.9)
    assert deepseek.created_at is None and deepseek.config.is_moe and deepseek.config.active_parameters == 37e9
    # "unknown" task and an empty date are unknown, not values; no catalog entry = no providers listed.
    assert (tiny.task, tiny.created_at, tiny.providers, tiny.offers) == (None, None, (), ())
    # llmfit's own guesses are not shipped; facts the source lacks are null.
    columns = set(loaded.table.column_names)
    assert not columns & {"min_ram_gb", "recommended_ram_gb", "min_vram_gb", "quantization", "use_case",
                          "capabilities", "parameter_count", "format"}
    assert all(loaded.table[name].null_count == 3 for name in ("library", "gated", "last_modified", "trending"))


def test_duplicate_ids_fail_loudly(source, tmp_path):
    (source / "llmfit-9.9.9-hf_models.json").write_text(json.dumps(LLMFIT + LLMFIT[:1]))
    done = build(source, tmp_path / "x.parquet")
    assert done.returncode != 0 and "repeats 1 ids" in done.stderr
    assert not (tmp_path / "x.parquet").exists()
