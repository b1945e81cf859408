"""Fast decode for the engine on a GPU: the active requests sit in fixed slots of a static KV cache and step
through one compiled forward (CUDA graphs), as `generate(cache_implementation="static")` does for a single
request.

Every row writes its next token at one shared cache column (the cursor); a shorter request is left-padded
and masked. The compiled shape is (slots, length): it grows by doubling when more requests or tokens need
room, which compiles once more for the new shape. Prefill runs eagerly, one request at a time, and its
keys and values are copied into a free slot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel
    from transformers.cache_utils import Cache, DynamicLayer, StaticCache, StaticLayer

FIRST_SLOTS = 4
FIRST_LENGTH = 2048


def supported(model: PreTrainedModel) -> bool:
    """Whether the model's layers all fit one static cache that compiles: full attention, one KV per layer."""
    from transformers.cache_utils import StaticCache, StaticLayer

    if not getattr(model, "_can_compile_fullgraph", False):
        return False
    try:
        cache = StaticCache(config=model.config, max_cache_len=1)
    except (ValueError, TypeError, AttributeError):
        return False
    return bool(cache.layers) and all(type(layer) is StaticLayer for layer in cache.layers)


def _room(needed: int, held: int) -> int:
    """The next doubling of `held` that holds `needed`."""
    size = held
    while size < needed:
        size *= 2
    return size


class StaticSlots:
    """The active requests' decode state: row i of every tensor is the engine's i-th active request; rows past
    `rows` are free. `compiled` False runs the same steps eagerly (the CPU tests check the bookkeeping so)."""

    mergeable = True

    def __init__(self, model: PreTrainedModel, *, compiled: bool):
        self.model = model
        self.compiled = compiled
        self.forward: Any = model.get_compiled_call(None) if compiled else model
        self.cache: StaticCache | None = None
        self.keys: list[torch.Tensor] = []  # per layer, the cache's tensors: [slots, heads, length, dim]
        self.values: list[torch.Tensor] = []
        self.lengths: list[torch.Tensor] = []  # per layer, the cache's count of written columns
        self.rows = 0
        self.cursor = 0  # cache columns written; the next token goes to this column
        self.mask: torch.Tensor | None = None  # [slots, length]: 1 where a row has a real token
        self.positions: torch.Tensor | None = None  # [slots]: each row's next position id
        self.latest: torch.Tensor | None = None  # [slots, 1]: each row's last sampled token, not yet fed

    def join(self, prefill: Cache, length: int, token: int) -> None:
        """Add a request whose prompt of `length` tokens was prefilled into `prefill`, as the last row."""
        layers = [(keys, values) for _, keys, values in filled_layers(prefill)]
        self._make_room(self.rows + 1, max(self.cursor, length) + 1, layers)
        assert self.mask is not None and self.positions is not None and self.latest is not None
        if length > self.cursor:  # the new prompt is longer: everyone moves right to make it fit
            self._shift(length - self.cursor)
        row, start = self.rows, self.cursor - length
        for held, (keys, values) in zip(self._held(), layers, strict=True):
            held[0][row, :, start:self.cursor] = keys[0]
            held[1][row, :, start:self.cursor] = values[0]
        self.mask[row] = 0
        self.mask[row, start:self.cursor] = 1
        self.positions[row] = length
        self.latest[row, 0] = token
        self.rows += 1
        self._set_cursor(self.cursor)

    def step(self) -> torch.Tensor:
        """One decode step for every active row: their last-position logits, [rows, vocab]."""
        import torch

        self._make_room(self.rows, self.cursor + 1)
        assert self.mask is not None and self.positions is not None and self.latest is not None
        self.mask[:self.rows, self.cursor] = 1
        if self.compiled:  # a new decode step: CUDA graphs may reuse the last step's output memory
            torch.compiler.cudagraph_mark_step_begin()
        out = self.forward(input_ids=self.latest, attention_mask=self.mask, position_ids=self.positions[:, None],
                           past_key_values=self.cache, use_cache=True, logits_to_keep=1)
        self.cursor += 1
        self.positions[:self.rows] += 1
        return out.logits[:self.rows, -1]

    def set_latest(self, tokens: list[int]) -> None:
        assert self.latest is not None
        self.latest[:len(tokens), 0] = self.latest.new_tensor(tokens)

    def clear(self) -> None:
        """No request is active; the cache stays allocated (and its compiled shape usable)."""
        self.rows = self.cursor = 0
        if self.mask is not None:
            self._free_rows()

    def keep(self, rows: list[int]) -> None:
        """Keep these rows, moved to the front in this order; then drop columns no row needs any more."""
        import torch

        assert self.mask is not None and self.positions is not None and self.latest is not None
        index = torch.tensor(rows, device=self.mask.device)
        for held in (*self.keys, *self.values, self.mask, self.positions, self.latest):
            held[:len(rows)] = held[index]
        self.rows = len(rows)
        self._free_rows()
        used = self.mask[:self.rows, :self.cursor].any(dim=0).nonzero()
        unused = int(used[0]) if len(used) else self.cursor
        if unused:
            self._shift(-unused)
        self._set_cursor(self.cursor)

    def _make_room(self, slots: int, length: int,
                   layers: list[tuple[torch.Tensor, torch.Tensor]] | None = None) -> None:
        """Grow the cache (to the next doubling) so it holds `slots` rows of `length` columns."""
        import torch
        from transformers.cache_utils import StaticCache

        if self.mask is not None and slots <= self.mask.shape[0] and length <= self.mask.shape[1]:
            return
        held_slots, held_length = (FIRST_SLOTS, FIRST_LENGTH) if self.mask is None else self.mask.shape
        slots, length = _room(slots, held_slots), _room(length, held_length)
        old = self._held()
        layers = layers or old  # growing an existing cache: its own tensors give the shapes
        cache = StaticCache(config=self.model.config, max_cache_len=length)
        static = cast("list[StaticLayer]", cache.layers)  # all StaticLayer (`supported`)
        for layer, (keys, values) in zip(static, layers, strict=True):
            layer.lazy_initialization(keys[:1].expand(slots, -1, -1, -1), values[:1].expand(slots, -1, -1, -1))
        new = [(cast("torch.Tensor", layer.keys), cast("torch.Tensor", layer.values), layer.cumulative_length)
               for layer in static]
        mask = layers[0][0].new_zeros(slots, length, dtype=torch.long)
        positions = mask.new_zeros(slots)
        latest = mask.new_zeros(slots, 1)
        if old and self.mask is not None and self.positions is not None and self.latest is not None:
            rows, cursor = self.rows, self.cursor
            for (keys, values, _), (held_keys, held_values) in zip(new, old, strict=True):
                keys[:rows, :, :cursor] = held_keys[:rows, :, :cursor]
                values[:rows, :, :cursor] = held_values[:rows, :, :cursor]
            mask[:rows, :cursor] = self.mask[:rows, :cursor]
            positions[:rows], latest[:rows] = self.positions[:rows], self.latest[:rows]
        self.cache = cache
        self.keys, self.values, self.lengths = (list(tensors) for tensors in zip(*new, strict=True))
        self.mask, self.positions, self.latest = mask, positions, latest
        self._free_rows()
        self._set_cursor(self.cursor)

    def _shift(self, by: int) -> None:
        """Move the active rows' columns right (`by` > 0) or left (`by` < 0), together with the cursor."""
        assert self.mask is not None
        rows, cursor = self.rows, self.cursor
        source, target = (slice(0, cursor), slice(by, cursor + by)) if by > 0 else \
            (slice(-by, cursor), slice(0, cursor + by))
        for held in (*self.keys, *self.values):
            held[:rows, :, target] = held[:rows, :, source].clone()
        self.mask[:rows, target] = self.mask[:rows, source].clone()
        if by > 0:
            self.mask[:rows, :by] = 0
        self.cursor += by
        self.mask[:rows, self.cursor:] = 0

    def _free_rows(self) -> None:
        """Free rows attend to one column only, so that no row of the batch is fully masked."""
        assert self.mask is not None
        self.mask[self.rows:] = 0
        self.mask[self.rows:, 0] = 1

    def _set_cursor(self, cursor: int) -> None:
        for length in self.lengths:
            length.fill_(cursor)

    def _held(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return list(zip(self.keys, self.values, strict=True))


def filled_layers(cache: Cache) -> list[tuple[DynamicLayer, torch.Tensor, torch.Tensor]]:
    """Each layer of a prefill's cache with its keys and values: every layer a DynamicLayer, filled by the
    prefill (what both the dynamic batch and the static slots take in)."""
    from transformers.cache_utils import DynamicLayer

    filled = []
    for layer in cache.layers:
        if not isinstance(layer, DynamicLayer) or layer.keys is None or layer.values is None:
            raise TypeError(f"Only filled DynamicLayer caches can be padded and joined, not {type(layer).__name__}.")
        filled.append((layer, layer.keys, layer.values))
    return filled
