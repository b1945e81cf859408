"""A model's config.json (as the Hub serves it) turned into the typed `ModelConfig`, once, at the edge.

Real configs spell the same fact several ways (GPT-2 `n_layer`, Llama `num_hidden_layers`, multimodal
models nest the language model under `text_config`), and sliding-window attention has four
conventions; this module knows them so the estimator, the catalog and the local backend need not.
"""

from __future__ import annotations

from hfdash.catalog.records import ModelConfig

_NESTED_TEXT = ("text_config", "llm_config", "language_config")
_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx",
                 "model_max_length")
_LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers")
_HEAD_KEYS = ("num_attention_heads", "n_head", "num_heads")
_KV_HEAD_KEYS = ("num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num")
_HIDDEN_KEYS = ("hidden_size", "n_embd", "d_model")
_INTERMEDIATE_KEYS = ("intermediate_size", "n_inner", "ffn_dim", "ffn_hidden_size")
_EXPERT_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")
_ACTIVE_EXPERT_KEYS = ("num_experts_per_tok", "moe_topk", "num_selected_experts", "top_k_experts")


def resolve_defaults(config: dict) -> dict:
    """config.json as transformers loads it: keys it omits take the defaults of transformers' config class
    for its `model_type` (nested `text_config` included), e.g. Gemma 3's head_dim 256 and 5:1 sliding
    pattern. A model_type transformers does not know is returned as it is. Imports transformers (slow):
    call it at build time or once per fetched config, never at import time."""
    model_type = config.get("model_type")
    if not isinstance(model_type, str):
        return config
    from transformers import CONFIG_MAPPING
    from transformers.utils import logging

    if model_type not in CONFIG_MAPPING:
        return config
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # RoPE validation warnings about the source's own values
    try:
        resolved = CONFIG_MAPPING[model_type](**{k: v for k, v in config.items() if k != "model_type"}).to_dict()
    except (TypeError, ValueError, KeyError, AttributeError):
        return config  # a config its own class rejects is read as stated
    finally:
        logging.set_verbosity(verbosity)
    return {**resolved, "architectures": config.get("architectures") or resolved.get("architectures")}


def _first_int(config: dict, keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _text_part(config: dict) -> dict:
    """The language model's own fields: a nested text config wins, the outer one fills gaps."""
    for key in _NESTED_TEXT:
        nested = config.get(key)
        if isinstance(nested, dict) and nested:
            return {**config, **nested}
    return config


def sliding_window_layers(config: dict, layers: int | None) -> tuple[int | None, int | None]:
    """(window, how many layers use it) under each convention real configs use; (None, None) = none."""
    window = _first_int(config, ("sliding_window", "sliding_window_size", "attention_window_size"))
    if window is None or config.get("use_sliding_window") is False:
        return None, None
    layer_types = config.get("layer_types")
    if isinstance(layer_types, list) and layer_types:  # gpt-oss, Gemma 3 (new), Qwen3 (new)
        return window, sum(1 for kind in layer_types if "sliding" in str(kind))
    if layers is None:
        return window, None
    model_type = config.get("model_type")
    pattern = _first_int(config, ("sliding_window_pattern", "sliding_window_pattern_size"))
    if pattern is None and model_type in ("gemma3", "gemma3_text"):
        pattern = 6  # transformers' Gemma 3 default
    if pattern is not None:  # Gemma 3, Cohere 2: every pattern-th layer is global, the rest slide
        return window, layers - layers // pattern
    if model_type == "gemma2":  # alternating, layer 0 slides
        return window, (layers + 1) // 2
    max_window_layers = _first_int(config, ("max_window_layers",))
    if config.get("use_sliding_window") is True and max_window_layers is not None:
        # Qwen2/Qwen3: layers from max_window_layers upward slide.
        return window, max(0, layers - max_window_layers)
    return window, layers  # Mistral v0.1, Phi-3: every layer slides


def _quantization(config: dict) -> tuple[str | None, int | None]:
    quant = config.get("quantization_config")
    if isinstance(quant, dict):
        method = quant.get("quant_method")
        bits = quant.get("bits") or quant.get("w_bit") or quant.get("weight_bits")
        if quant.get("load_in_4bit"):
            bits = 4
        elif quant.get("load_in_8bit"):
            bits = 8
        elif method == "fp8":
            bits = 8
        elif method == "mxfp4":
            bits = 4
        return (str(method) if method else None), (int(bits) if isinstance(bits, int) else None)
    mlx = config.get("quantization")  # MLX community repos
    if isinstance(mlx, dict) and isinstance(mlx.get("bits"), int):
        return "mlx", mlx["bits"]
    return None, None


def config_from_json(config: dict, *, source: str | None = None) -> ModelConfig:
    """ModelConfig from config.json; every field the config does not state stays None."""
    text = _text_part(config)
    layers = _first_int(text, _LAYER_KEYS)
    heads = _first_int(text, _HEAD_KEYS)
    hidden = _first_int(text, _HIDDEN_KEYS)
    kv_heads = _first_int(text, _KV_HEAD_KEYS)
    if kv_heads is None and heads is not None:
        # No KV-head count means multi-query if flagged, else classic multi-head attention.
        kv_heads = 1 if text.get("multi_query") else heads
    head_dim = _first_int(text, ("head_dim", "attention_head_size"))
    if head_dim is None and hidden is not None and heads:
        head_dim = hidden // heads
    experts = _first_int(text, _EXPERT_KEYS)
    window, window_layers = sliding_window_layers(text, layers)
    method, bits = _quantization(config)
    tie = text.get("tie_word_embeddings")
    architectures = config.get("architectures")
    return ModelConfig(
        architecture=config.get("model_type") or (architectures[0] if architectures else None),
        context_length=_first_int(text, _CONTEXT_KEYS),
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=head_dim,
        hidden_size=hidden,
        vocab_size=_first_int(text, ("vocab_size", "padded_vocab_size", "n_vocab")),
        sliding_window=window,
        sliding_window_layers=window_layers,
        is_moe=experts is not None and experts > 1,
        num_experts=experts,
        active_experts=_first_int(text, _ACTIVE_EXPERT_KEYS) if experts else None,
        kv_lora_rank=_first_int(text, ("kv_lora_rank",)),
        qk_rope_head_dim=_first_int(text, ("qk_rope_head_dim",)),
        qk_nope_head_dim=_first_int(text, ("qk_nope_head_dim",)),
        v_head_dim=_first_int(text, ("v_head_dim",)),
        intermediate_size=_first_int(text, _INTERMEDIATE_KEYS),
        tie_word_embeddings=tie if isinstance(tie, bool) else None,
        quant_method=method,
        quant_bits=bits,
        facts_source=source,
    )
