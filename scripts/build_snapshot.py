"""Build the shipped offline snapshot from the real Hub records in a source folder.

    python scripts/build_snapshot.py --src ../shared/data/hub --out hfdash/data/snapshot.parquet

The folder holds llmfit's scrape of Hub records (`llmfit-<version>-hf_models.json`), litellm's price
catalog (`litellm-<version>-model_prices.json`) and real `config.json` facts of popular repos
(`configs/real-configs.jsonl`, each line citing its source); see the PROVENANCE.md files there. Only Hub
facts are kept; llmfit's own estimates are dropped, and so are the scraper's fillers and derived values
(see `scrub`), which become unknown. A real config replaces the scraped facts, its missing keys resolved
to transformers' defaults. Hosted availability is joined from litellm on the repo id and labelled
"litellm catalog". Same input (and transformers version) -> same bytes.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import io
import datetime as dt
import json
import re
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hfdash.catalog.modelconfig import config_from_json, resolve_defaults  # noqa: E402
from hfdash.catalog.records import ModelConfig, ModelRecord, ProviderOffer  # noqa: E402
from hfdash.catalog.snapshot import records_to_table, write_snapshot  # noqa: E402
from hfdash.errors import HfdashError  # noqa: E402
from hfdash.safefile import check_target  # noqa: E402
from hfdash.hardware.hubfacts import merge_config  # noqa: E402

LITELLM_SOURCE = "litellm catalog"
# litellm provider key -> the Hub's Inference Provider name (huggingface_hub's PROVIDER_T) where they differ.
HUB_PROVIDER_NAMES = {"together_ai": "together", "fireworks_ai": "fireworks-ai", "featherless_ai": "featherless-ai",
                      "fal_ai": "fal-ai"}
# Providers that list Hub models under their repo id (PROVENANCE.md).
HUB_SERVING_PROVIDERS = ("deepinfra", "together_ai", "novita", "nebius", "hyperbolic", "nscale", "scaleway",
                         "replicate", "baseten", "fireworks_ai", "cerebras", "groq", "featherless_ai",
                         "sambanova", "cohere", "ovhcloud")
# What providers add around a repo id: a path prefix, or a serving-variant suffix.
ID_PREFIXES = ("accounts/fireworks/models/",)
ID_SUFFIXES = ("-turbo", "-fast", "-fp8", "-fp4")
REAL_CONFIGS = "configs/real-configs.jsonl"
# Sources that cached only some keys of a config: their gaps are unknown, not transformers' defaults.
PARTIAL_SOURCES = ("RahulSChand/gpu_poor:",)
# The scraper's stand-ins (configs/PROVENANCE.md): a gated repo's context with no config read at all.
FILLER_CONTEXT = 4096
# Multi-head latent attention: the scraped head_dim (hidden / heads) means nothing for the cache.
MLA_ARCHITECTURES = ("deepseek_v2", "deepseek_v3", "kimi_k2")
# A GGUF repo's count below this share of a same-shape sibling's was read from one shard or file.
PACKED_SHARE = 0.5
# The scrape names its config facts as ModelConfig does; where they come from is said separately.
CONFIG_KEYS = tuple(f.name for f in fields(ModelConfig) if f.name != "facts_source")


def source_file(src: Path, pattern: str) -> tuple[Path, str]:
    """The one file matching `<name>-<version>-...`, and its version."""
    found = sorted(src.glob(pattern))
    if len(found) != 1:
        sys.exit(f"error: expected exactly one {pattern} in {src}, found {len(found)}")
    version = re.match(r"^[a-z]+-(\d[\w.]*?)-", found[0].name).group(1)
    return found[0], version


@dataclass(frozen=True)
class RealConfigs:
    """The sourced configs, parsed, and what they tell about the scraper's derived values per architecture."""

    configs: dict[str, ModelConfig]  # repo id -> facts (source included)
    same_as: dict[str, str]  # repo id -> the repo whose config it carries
    # (architecture, hidden size or None for any) -> contexts that are a real limit x its RoPE factor
    rope_products: dict[tuple[str, int | None], set[int]]


def real_configs(path: Path) -> RealConfigs:
    configs, same_as, rope_products = {}, {}, collections.defaultdict(set)
    limits = collections.defaultdict(set)
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        raw = entry["config"]
        partial = entry["source"].startswith(PARTIAL_SOURCES)
        resolved = raw if partial else resolve_defaults(raw)
        source = entry["source"] + (f"; the config of {entry['same_as']}" if entry.get("same_as") else "")
        config = config_from_json(resolved, source=source)
        configs[entry["id"]] = config
        if entry.get("same_as"):
            same_as[entry["id"]] = entry["same_as"]
        arch = config.architecture
        text = {**resolved, **(resolved.get("text_config") or {})}
        rope = text.get("rope_scaling") or text.get("rope_parameters") or {}
        rope = rope.get("full_attention", rope) if isinstance(rope, dict) else {}
        factor = rope.get("factor") if isinstance(rope, dict) else None
        if config.context_length:
            limits[arch].add(config.context_length)
            if isinstance(factor, (int, float)) and factor > 1:
                # The limit x factor marks the whole architecture; the pre-scaling length x factor only the
                # same width (EXAONE 3.5: 8,192 x 8), as shorter real limits are common.
                rope_products[(arch, None)].add(int(config.context_length * factor))
                original = rope.get("original_max_position_embeddings")
                if isinstance(original, int):
                    rope_products[(arch, config.hidden_size)].add(int(original * factor))
    # A product that is itself some sourced model's real limit is not evidence of anything.
    return RealConfigs(configs, same_as, {key: products - limits[key[0]] for key, products in rope_products.items()})


@functools.cache
def class_head_dim(model_type: str) -> int | None:
    """transformers' own head_dim default where its config class sets one apart from hidden / heads (Gemma:
    256), else None (the class computes hidden / heads, as the scraper did, or transformers lacks it)."""
    from transformers import CONFIG_MAPPING
    from transformers.utils import logging

    if model_type not in CONFIG_MAPPING:
        return None

    sizes = {"hidden_size": 3000, "num_attention_heads": 10}  # no real default: computed gives 300
    logging.set_verbosity_error()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # some audio config classes print themselves
            text = CONFIG_MAPPING[model_type](**sizes).get_text_config()
            if getattr(text, "hidden_size", None) != 3000:  # multimodal: the sizes belong in text_config
                text = CONFIG_MAPPING[model_type](text_config=sizes).get_text_config()
        head_dim = getattr(text, "head_dim", None)
    except Exception:  # noqa: BLE001 - a class that rejects these sizes says nothing either way
        return None
    return head_dim if isinstance(head_dim, int) and head_dim != 300 else None


def scrub(raw: dict, real: RealConfigs, siblings: dict[tuple, list[int]]) -> tuple[ModelConfig, int | None, list[str]]:
    """The scraped config facts and parameter count with the scraper's fillers and derived values made
    unknown (configs/PROVENANCE.md): what was dropped is returned as reasons."""
    facts = {key: raw.get(key) for key in CONFIG_KEYS}
    params = raw.get("parameters_raw")
    arch, context, dropped = facts["architecture"], facts["context_length"], []
    if context == FILLER_CONTEXT and facts["num_hidden_layers"] is None:
        dropped.append("filler context")
    elif context in real.rope_products.get((arch, None), set()) | real.rope_products.get(
            (arch, facts["hidden_size"]), set()):
        dropped.append("context multiplied by the RoPE factor")
    elif facts["vocab_size"] is None and facts["num_hidden_layers"] is not None:
        dropped.append("fallback context")  # the text config was not read (Gemma 3: 8,192 and no vocab)
    if dropped:
        facts["context_length"] = None
    heads, hidden, head_dim = facts["num_attention_heads"], facts["hidden_size"], facts["head_dim"]
    own_default = class_head_dim(arch) if isinstance(arch, str) else None
    if head_dim is not None and (arch in MLA_ARCHITECTURES or (
            own_default is not None and head_dim != own_default and heads and hidden and head_dim == hidden // heads)):
        facts["head_dim"] = None
        dropped.append("head_dim computed as hidden / heads")
    same_shape = siblings.get(_shape(raw), [])
    if "gguf" in raw["name"].lower() and params and same_shape and params < PACKED_SHARE * max(same_shape):
        params = facts["active_parameters"] = None
        dropped.append("parameter count of one GGUF file")
    source = "the Hub config as scraped by llmfit" + (f" (dropped: {', '.join(dropped)})" if dropped else "")
    return ModelConfig(**facts, facts_source=source), params, dropped


def _shape(raw: dict) -> tuple:
    return tuple(raw.get(key) for key in ("architecture", "num_hidden_layers", "hidden_size", "vocab_size"))


def same_shape_params(raw_models: list[dict]) -> dict[tuple, list[int]]:
    """Parameter counts of non-GGUF repos per (architecture, layers, hidden, vocab), all four known."""
    found = collections.defaultdict(list)
    for raw in raw_models:
        if "gguf" not in raw["name"].lower() and raw.get("parameters_raw") and all(_shape(raw)):
            found[_shape(raw)].append(raw["parameters_raw"])
    return found


def hub_record(raw: dict, offers: tuple[ProviderOffer, ...], config: ModelConfig, params: int | None) -> ModelRecord:
    """One llmfit entry -> a ModelRecord of Hub facts only (unknown = None, never 0)."""
    task = raw.get("pipeline_tag")
    released = raw.get("release_date")
    return ModelRecord(
        id=raw["name"],
        task=None if task in (None, "", "unknown") else task,
        params=params,
        likes=raw.get("hf_likes"),
        downloads=raw.get("hf_downloads"),
        created_at=dt.date.fromisoformat(released) if released else None,
        license=raw.get("license") or None,
        providers=tuple(sorted({offer.provider for offer in offers})),
        offers=offers,
        languages=tuple(raw["languages"]) if raw.get("languages") else None,
        gguf_copies=tuple(source["repo"] for source in raw["gguf_sources"]) if raw.get("gguf_sources") else None,
        config=config,
    )


def record_config(raw: dict, real: RealConfigs, siblings: dict,
                  params_by_id: dict[str, int | None]) -> tuple[ModelConfig, int | None, list[str]]:
    """A sourced config wins; the scrape (scrubbed) fills only what the config does not state, such as
    the active parameter count. A GGUF count read from one file gives way to the count of the repo whose
    config it carries, where that is known."""
    scraped, params, dropped = scrub(raw, real, siblings)
    sourced = real.configs.get(raw["name"])
    if sourced is None:
        return scraped, params, dropped
    base = real.same_as.get(raw["name"])
    if params is None and base and params_by_id.get(base):
        params = params_by_id[base]
        sourced = replace(sourced, facts_source=f"{sourced.facts_source}; parameter count of {base}")
    # The scraped shape facts describe the same config: a sourced one that lacks them leaves them unknown.
    kept = {"active_parameters": scraped.active_parameters} if scraped.is_moe else {}
    return merge_config(ModelConfig(**kept), sourced), params, dropped


def litellm_offers(catalog: dict, ids: list[str]) -> dict[str, list[ProviderOffer]]:
    """Repo id -> offers, matching litellm's `provider/<repo id>` keys case-insensitively.

    A key matches a repo id exactly, or after dropping a known prefix or suffix when the exact form
    does not exist. Keys without an `org/name` part are not joined: a bare name is ambiguous.
    """
    by_lower = collections.defaultdict(list)
    for repo_id in ids:
        by_lower[repo_id.lower()].append(repo_id)
    found: dict[tuple[str, str], tuple[int, str, ProviderOffer]] = {}
    for key in sorted(catalog):
        entry = catalog[key]
        provider = entry.get("litellm_provider") if isinstance(entry, dict) else None
        if provider not in HUB_SERVING_PROVIDERS or not key.startswith(provider + "/"):
            continue
        model = key[len(provider) + 1:]
        for rank, candidate in enumerate(_candidates(model)):
            if candidate in by_lower:
                offer = ProviderOffer(provider=HUB_PROVIDER_NAMES.get(provider, provider),
                                      input_per_1m=_per_million(entry.get("input_cost_per_token")),
                                      output_per_1m=_per_million(entry.get("output_cost_per_token")),
                                      provider_model_id=model, source=LITELLM_SOURCE)
                for repo_id in by_lower[candidate]:
                    # One offer per provider and model: the exact id wins over a variant, then key order.
                    slot = (repo_id, offer.provider)
                    if slot not in found or (rank, key) < found[slot][:2]:
                        found[slot] = (rank, key, offer)
                break
    offers = collections.defaultdict(list)
    for (repo_id, _), (_, _, offer) in sorted(found.items()):
        offers[repo_id].append(offer)
    return offers


def _candidates(model: str) -> list[str]:
    lowered = model.lower()
    for prefix in ID_PREFIXES:
        if lowered.startswith(prefix):
            lowered = lowered[len(prefix):]
    if "/" not in lowered:
        return []
    return [lowered] + [lowered[: -len(suffix)] for suffix in ID_SUFFIXES if lowered.endswith(suffix)]


def _per_million(per_token) -> float | None:
    return round(float(per_token) * 1_000_000, 6) if per_token is not None else None


def build(src: Path, out: Path) -> None:
    models_path, llmfit_version = source_file(src, "llmfit-*-hf_models.json")
    prices_path, litellm_version = source_file(src, "litellm-*-model_prices.json")
    raw_models = json.loads(models_path.read_text())
    ids = [raw["name"] for raw in raw_models]
    duplicates = [repo_id for repo_id, n in collections.Counter(ids).items() if n > 1]
    if duplicates:
        sys.exit(f"error: {models_path.name} repeats {len(duplicates)} ids, e.g. {duplicates[:3]}; "
                 "refusing to guess which record is right")
    folded = [repo_id for repo_id, n in collections.Counter(i.lower() for i in ids).items() if n > 1]
    offers = litellm_offers(json.loads(prices_path.read_text()), ids)
    configs_path = src / REAL_CONFIGS
    if not configs_path.is_file():
        sys.exit(f"error: {configs_path} is missing (real config.json facts; see PROVENANCE.md there)")
    real = real_configs(configs_path)
    siblings = same_shape_params(raw_models)
    params_by_id = {raw["name"]: raw.get("parameters_raw") for raw in raw_models}
    records, dropped = [], collections.Counter()
    for raw in raw_models:
        config, params, reasons = record_config(raw, real, siblings, params_by_id)
        dropped.update(reasons)
        records.append(hub_record(raw, tuple(offers.get(raw["name"], ())), config, params))
    info = write_snapshot(records_to_table(records), out,
                          sources={"llmfit": llmfit_version, "litellm": litellm_version,
                                   "configs": f"{REAL_CONFIGS} ({len(real.configs)} repos)"},
                          built="scripts/build_snapshot.py")
    print(f"wrote {out}: {info.rows:,} models (all of {len(raw_models):,}), {len(offers):,} with hosted offers "
          f"from the litellm catalog, {sum(r.id in real.configs for r in records):,} with a sourced config, "
          f"newest created {info.date}, {out.stat().st_size / 1e6:.1f} MB")
    print("scraped values made unknown: " + ", ".join(f"{reason} {n:,}" for reason, n in sorted(dropped.items())))
    if folded:
        # The Hub resolves ids case-insensitively, so these are one repo scraped under two spellings.
        # The issue asks for every source record; both rows stay and an exact-id lookup finds each.
        print(f"note: kept {len(folded)} ids that differ only in letter case (one Hub repo each, "
              f"listed twice by the source): {folded}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, required=True,
                        help="folder with the llmfit and litellm JSON files and configs/real-configs.jsonl")
    parser.add_argument("--out", type=Path, required=True, help="parquet file to write")
    args = parser.parse_args(argv)
    try:
        build(args.src, check_target(args.out, what="snapshot"))
    except HfdashError as err:
        print(f"error: {err.user_message()}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
