"""float16 weights on a CPU, packed for fbgemm: the embedded model answers as in float32, batched panes
answer as alone, and a model whose large weights are not linear layers is not packed."""

from __future__ import annotations

import json

import pytest
import torch

from hfdash.inference import BackendSpec, GenerationParams, Message
from hfdash.inference.local import cpu_fp16, load_model, placement
from tests.support.chat import all_answers, panes_at_once


CAPITAL = [Message("user", "What is the capital of France?")]
STORY = [Message("user", "Write a very long story about a dragon and a knight.")]


def test_packed_linear_matches_float32_within_fp16_rounding():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.ReLU(), torch.nn.Linear(96, 8, bias=False))
    x = torch.randn(5, 3, 64)
    expected = model(x)
    packed = cpu_fp16.pack(model)
    assert [type(m).__name__ for m in packed] == ["PackedLinear", "ReLU", "PackedLinear"]
    got = packed(x)
    assert got.shape == expected.shape and got.dtype == torch.float32
    assert torch.allclose(got, expected, atol=2e-2, rtol=1e-2)


def test_a_model_whose_big_weights_are_not_linear_layers_is_not_packed():
    class Experts(torch.nn.Module):  # fused expert weights, as some MoE models hold them
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(8, 64, 64))
            self.router = torch.nn.Linear(64, 8)

    assert not cpu_fp16.packable(Experts())
    assert cpu_fp16.packable(torch.nn.Sequential(torch.nn.Embedding(10, 64), torch.nn.Linear(64, 64)))


@pytest.mark.slow
def test_float16_on_a_cpu_runs_packed_and_answers_like_float32(embedded_model_folder):
    spec = BackendSpec("local", dtype="float16")
    loaded = load_model(spec, token=None)
    assert loaded.dtype == "float16" and type(loaded.model.lm_head).__name__ == "PackedLinear"
    params = GenerationParams(temperature=0, max_new_tokens=16)
    packed = all_answers(spec, CAPITAL, params)[-1]
    full = all_answers(BackendSpec("local", dtype="float32"), CAPITAL, params)[-1]
    assert packed.status == "done" and "Paris" in packed.text
    assert packed.text == full.text


@pytest.mark.slow
def test_packed_panes_batched_on_one_model_answer_as_alone(embedded_model_folder):
    spec = BackendSpec("local", dtype="float16")
    params = GenerationParams(temperature=0, max_new_tokens=16)
    systems = ["Be brief.", "Answer like a pirate.", "You are a poet."]
    alone = [all_answers(spec, [Message("system", s), *STORY], params)[-1].text for s in systems]
    together = panes_at_once(spec, systems, STORY, params)
    assert [a.status for a in together] == ["done"] * 3
    assert [a.text for a in together] == alone


def test_auto_times_all_three_cpu_layouts_and_keeps_the_fastest(tmp_path, monkeypatch):
    monkeypatch.setenv("HFDASH_CACHE_DIR", str(tmp_path))
    shape = placement.ProxyShape(hidden=64, intermediate=128, heads=4, kv_heads=2, head_dim=16, vocab=256)
    seconds = placement.decode_seconds(shape)
    assert set(seconds) == {"float32", "bfloat16", "float16"} and all(s > 0 for s in seconds.values())
    chosen = placement.cpu_dtype(shape)
    verdicts = json.loads((tmp_path / "cpu_dtype.json").read_text())
    (kept,) = verdicts.values()
    assert kept["dtype"] == chosen == min(kept["seconds"], key=kept["seconds"].get)
