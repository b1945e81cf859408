"""The engine's KV cache layer appends into spare room and stays correct when the engine replaces its
tensors (joining, dropping or trimming rows)."""

from __future__ import annotations

import torch

from hfdash.inference.local.engine import _growing_layer


def test_appends_match_concatenation_and_reuse_the_buffer():
    keys, values = torch.randn(2, 3, 5, 4), torch.randn(2, 3, 5, 4)
    layer = _growing_layer(keys, values)
    expected_keys, expected_values = keys, values
    storages = set()
    for _ in range(6):
        new_keys, new_values = torch.randn(2, 3, 1, 4), torch.randn(2, 3, 1, 4)
        got_keys, got_values = layer.update(new_keys, new_values)
        expected_keys = torch.cat([expected_keys, new_keys], dim=-2)
        expected_values = torch.cat([expected_values, new_values], dim=-2)
        assert torch.equal(got_keys, expected_keys) and torch.equal(got_values, expected_values)
        storages.add(got_keys.untyped_storage().data_ptr())
    assert len(storages) == 1  # one buffer with room for all six tokens: no copy per token
    assert layer.get_seq_length() == 11


def test_tensors_replaced_from_outside_start_a_new_buffer():
    layer = _growing_layer(torch.randn(3, 2, 4, 8), torch.randn(3, 2, 4, 8))
    layer.update(torch.randn(3, 2, 1, 8), torch.randn(3, 2, 1, 8))
    layer.batch_select_indices(torch.tensor([0, 2]))  # a row left the batch
    kept_keys, kept_values = layer.keys.clone(), layer.values.clone()
    new_keys, new_values = torch.randn(2, 2, 1, 8), torch.randn(2, 2, 1, 8)
    got_keys, got_values = layer.update(new_keys, new_values)
    assert got_keys.shape == (2, 2, 6, 8)
    assert torch.equal(got_keys, torch.cat([kept_keys, new_keys], dim=-2))
    assert torch.equal(got_values, torch.cat([kept_values, new_values], dim=-2))
