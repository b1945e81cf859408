"""The GGUF header reader on a real GGUF file (the embedded SmolLM2-135M-Instruct) and on bad input."""

import pytest

from hfdash.hardware.ggufmeta import FIRST_READ_BYTES, config_from_metadata, parse_metadata, read_metadata


@pytest.fixture(scope="module")
def real_gguf() -> bytes:
    from hfdash.inference.local import embedded_gguf

    with open(embedded_gguf(), "rb") as handle:
        return handle.read(4 << 20)


def test_a_real_headers_model_keys_are_read_from_its_first_bytes(real_gguf):
    asked = []

    def first_bytes(count: int) -> bytes:
        asked.append(count)
        return real_gguf[:count]

    metadata = read_metadata(first_bytes)
    assert asked == [FIRST_READ_BYTES]
    assert metadata["general.architecture"] == "llama" and metadata["llama.block_count"] == 30
    assert not [key for key in metadata if key.startswith("tokenizer.")]  # stopped before the long arrays
    config = config_from_metadata(metadata)
    assert (config.num_hidden_layers, config.num_attention_heads, config.num_key_value_heads, config.head_dim,
            config.context_length, config.vocab_size) == (30, 9, 3, 64, 8192, 49152)


def test_a_header_cut_short_asks_for_more_and_other_bytes_are_refused(real_gguf):
    assert parse_metadata(real_gguf[:200]) is None  # ends inside the metadata: read more
    with pytest.raises(ValueError, match="not a GGUF file"):
        parse_metadata(b"PK\x03\x04" + bytes(100))
    with pytest.raises(ValueError, match="does not end within the first 200 bytes"):
        read_metadata(lambda count: real_gguf[:200])  # a server that stops sending
