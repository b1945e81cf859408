"""A GGUF file's model facts from its header, read with byte-range requests instead of the whole file.

A GGUF file starts with its key/value metadata (`{arch}.block_count`, `{arch}.attention.head_count_kv`,
...); the architecture's keys come before the tokenizer's long arrays, so the first few KB usually
hold everything the estimator needs. The header is parsed here with the `gguf` package's value types;
reading stops at the tokenizer, or after `MAX_HEAD_BYTES`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from hfdash.catalog.records import ModelConfig

FIRST_READ_BYTES = 64 * 1024
MAX_HEAD_BYTES = 16 * 1024 * 1024
# GGUF key (after "{arch}.") -> ModelConfig field.
CONFIG_KEYS = {
    "block_count": "num_hidden_layers",
    "context_length": "context_length",
    "embedding_length": "hidden_size",
    "feed_forward_length": "intermediate_size",
    "vocab_size": "vocab_size",
    "attention.head_count": "num_attention_heads",
    "attention.head_count_kv": "num_key_value_heads",
    "attention.key_length": "head_dim",
    "attention.sliding_window": "sliding_window",
    "attention.kv_lora_rank": "kv_lora_rank",
    "expert_count": "num_experts",
    "expert_used_count": "active_experts",
}


class _Short(Exception):
    """The bytes read so far end inside the header."""


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise _Short
        chunk = self.data[self.at:self.at + size]
        self.at += size
        return chunk

    def unpack(self, fmt: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))[0]

    def string(self) -> str:
        return self.take(self.unpack("Q")).decode("utf-8", errors="replace")

    def value(self, kind: int):
        from gguf import GGUFValueType

        kind = GGUFValueType(kind)
        if kind == GGUFValueType.STRING:
            return self.string()
        if kind == GGUFValueType.ARRAY:
            item_kind, count = self.unpack("I"), self.unpack("Q")
            return [self.value(item_kind) for _ in range(count)]
        return self.unpack(_SCALAR_FORMATS[kind.name])


_SCALAR_FORMATS = {"UINT8": "B", "INT8": "b", "UINT16": "H", "INT16": "h", "UINT32": "I", "INT32": "i",
                   "FLOAT32": "f", "BOOL": "?", "UINT64": "Q", "INT64": "q", "FLOAT64": "d"}


def parse_metadata(data: bytes) -> dict | None:
    """The header's key/values up to the tokenizer's; None when `data` ends before that point.
    ValueError for bytes that are not a GGUF file."""
    reader = _Reader(data)
    try:
        if reader.take(4) != b"GGUF":
            raise ValueError("not a GGUF file (no GGUF magic number)")
        version = reader.unpack("I")
        count_format = "I" if version == 1 else "Q"
        reader.unpack(count_format)  # tensor count
        kv_count = reader.unpack(count_format)
        found: dict = {}
        for _ in range(kv_count):
            key = reader.string()
            if key.startswith("tokenizer.") and "general.architecture" in found:
                break
            found[key] = reader.value(reader.unpack("I"))
        return found
    except _Short:
        return None


def read_metadata(fetch: Callable[[int], bytes]) -> dict:
    """Parse a GGUF header through `fetch(n)` (the file's first n bytes), asking for more as needed."""
    size = FIRST_READ_BYTES
    while True:
        data = fetch(size)
        found = parse_metadata(data)
        if found is not None:
            return found
        if len(data) < size or size >= MAX_HEAD_BYTES:
            raise ValueError(f"the GGUF header does not end within the first {len(data):,} bytes")
        size *= 4


def config_from_metadata(metadata: dict) -> ModelConfig:
    """The estimator's config facts a GGUF header states (per-layer head counts: the largest)."""
    arch = metadata.get("general.architecture")
    facts: dict = {"architecture": arch}
    for key, name in CONFIG_KEYS.items():
        value = metadata.get(f"{arch}.{key}")
        if isinstance(value, list):
            value = max(value, default=None)
        if value is not None:
            facts[name] = int(value)
    if facts.get("num_experts"):
        facts["is_moe"] = True
    if "head_dim" not in facts and facts.get("hidden_size") and facts.get("num_attention_heads"):
        facts["head_dim"] = facts["hidden_size"] // facts["num_attention_heads"]  # llama.cpp's rule without key_length
    return ModelConfig(**facts)
