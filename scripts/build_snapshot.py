"""Build the shipped offline snapshot from the real Hub records in a source folder.

    python scripts/build_snapshot.py --src ../shared/data/hub --out hfdash/data/snapshot.parquet

The folder holds llmfit's scrape of Hub records (`llmfit-<version>-hf_models.json`) and litellm's price
catalog (`litellm-<version>-model_prices.json`); see PROVENANCE.md there. Only Hub facts are kept;
llmfit's own estimates are dropped. Hosted availability is joined from litellm on the repo id and
labelled "litellm catalog". Same input -> same bytes.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hfdash.catalog.records import ModelConfig, ModelRecord, ProviderOffer  # noqa: E402
from hfdash.catalog.snapshot import records_to_table, write_snapshot  # noqa: E402
from hfdash.errors import HfdashError  # noqa: E402
from hfdash.safefile import check_target  # noqa: E402

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
CONFIG_KEYS = ("architecture", "context_length", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
               "head_dim", "hidden_size", "vocab_size", "is_moe", "num_experts", "active_experts",
               "active_parameters")


def source_file(src: Path, pattern: str) -> tuple[Path, str]:
    """The one file matching `<name>-<version>-...`, and its version."""
    found = sorted(src.glob(pattern))
    if len(found) != 1:
        sys.exit(f"error: expected exactly one {pattern} in {src}, found {len(found)}")
    version = re.match(r"^[a-z]+-(\d[\w.]*?)-", found[0].name).group(1)
    return found[0], version


def hub_record(raw: dict, offers: tuple[ProviderOffer, ...]) -> ModelRecord:
    """One llmfit entry -> a ModelRecord of Hub facts only (unknown = None, never 0)."""
    task = raw.get("pipeline_tag")
    released = raw.get("release_date")
    return ModelRecord(
        id=raw["name"],
        task=None if task in (None, "", "unknown") else task,
        params=raw.get("parameters_raw"),
        likes=raw.get("hf_likes"),
        downloads=raw.get("hf_downloads"),
        created_at=dt.date.fromisoformat(released) if released else None,
        license=raw.get("license") or None,
        providers=tuple(sorted({offer.provider for offer in offers})),
        offers=offers,
        config=ModelConfig(**{key: raw.get(key) for key in CONFIG_KEYS}),
    )


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
    records = [hub_record(raw, tuple(offers.get(raw["name"], ()))) for raw in raw_models]
    info = write_snapshot(records_to_table(records), out,
                          sources={"llmfit": llmfit_version, "litellm": litellm_version},
                          built="scripts/build_snapshot.py")
    print(f"wrote {out}: {info.rows:,} models (all of {len(raw_models):,}), {len(offers):,} with hosted offers "
          f"from the litellm catalog, newest created {info.date}, {out.stat().st_size / 1e6:.1f} MB")
    if folded:
        # The Hub resolves ids case-insensitively, so these are one repo scraped under two spellings.
        # The issue asks for every source record; both rows stay and an exact-id lookup finds each.
        print(f"note: kept {len(folded)} ids that differ only in letter case (one Hub repo each, "
              f"listed twice by the source): {folded}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, required=True, help="folder with the llmfit and litellm JSON files")
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
