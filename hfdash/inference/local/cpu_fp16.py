"""float16 weights on a CPU: every `nn.Linear` packed for fbgemm's fp16 GEMM, activations in float32.

On CPUs without native bf16 (AVX2 here), torch's bf16 and fp32 matmuls cost about linearly in the batch
size for a decode step's few rows, so panes batched on one model barely share work. fbgemm's packed fp16
GEMM reads half the bytes of fp32 and serves 4 rows for little more than 1 (measured in
`bench/bench_inference.py`). It is chosen only where it measures fastest (`placement.cpu_dtype`).
"""

from __future__ import annotations

import functools
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# Parameters outside the packed layers that may stay in float32: embeddings and norms are small; a model
# whose large weights are not `nn.Linear` (fused MoE experts) would double in size, so it is not packed.
MAX_UNPACKED_SHARE = 0.35


def available() -> bool:
    import torch

    return (hasattr(torch, "fbgemm_linear_fp16_weight_fp32_activation")
            and "fbgemm" in torch.backends.quantized.supported_engines)


@functools.cache
def _packed_linear_class():
    import torch

    class PackedLinear(torch.nn.Module):
        """A frozen `nn.Linear` with its weight packed as fp16 for fbgemm; float32 in and out."""

        def __init__(self, linear: torch.nn.Linear):
            super().__init__()
            weight = linear.weight.detach().float()
            self.out_features, self.in_features = weight.shape
            with warnings.catch_warnings():  # torch marks the fbgemm fp16 ops deprecated; 2.13 ships them
                warnings.simplefilter("ignore")
                self.packed = torch.fbgemm_pack_gemm_matrix_fp16(weight)
            self.bias = None if linear.bias is None else linear.bias.detach().float()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = torch.fbgemm_linear_fp16_weight_fp32_activation(
                    x.reshape(-1, self.in_features).float(), self.packed, self.bias)
            return out.reshape(*x.shape[:-1], self.out_features)

    return PackedLinear


def packable(model: torch.nn.Module) -> bool:
    """Whether packing leaves only a small share of the weights (embeddings, norms) in float32."""
    import torch

    total = sum(p.numel() for p in model.parameters())
    linear = {id(m.weight) for m in model.modules() if type(m) is torch.nn.Linear}
    unpacked = sum(p.numel() for p in model.parameters() if id(p) not in linear)
    return total > 0 and unpacked <= MAX_UNPACKED_SHARE * total


def pack(model: torch.nn.Module) -> torch.nn.Module:
    """Replace each `nn.Linear` in place, then bring the rest (embeddings, norms) to float32 in place."""
    import torch

    packed_linear = _packed_linear_class()
    linears = [(parent, name, child) for parent in model.modules() for name, child in parent.named_children()
               if type(child) is torch.nn.Linear]
    # Packing takes about a second per 150M parameters on one core here; torch releases the GIL while it packs.
    with ThreadPoolExecutor(max_workers=torch.get_num_threads(), thread_name_prefix="hfdash-pack") as pool:
        packed = list(pool.map(lambda item: packed_linear(item[2]), linears))
    for (parent, name, _), layer in zip(linears, packed, strict=True):
        setattr(parent, name, layer)
    return model.float()
