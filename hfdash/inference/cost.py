"""What a hosted answer cost: the answer's token usage times the providers' per-1M-token prices.

With provider "auto" (or a router policy) the provider that answered is not known, so the cost is the range
over the providers that serve the model; ":cheapest" is the lowest of them.
"""

from __future__ import annotations

from hfdash.catalog.records import ProviderOffer
from hfdash.inference.base import BackendSpec, Stats


def offer_cost(offer: ProviderOffer, input_tokens: int, output_tokens: int) -> float | None:
    if offer.input_per_1m is None or offer.output_per_1m is None:
        return None
    return (input_tokens * offer.input_per_1m + output_tokens * offer.output_per_1m) / 1_000_000


def usd(amount: float) -> str:
    return f"${amount:.2f}" if amount >= 0.01 else f"${amount:.6f}"


def cost_text(spec: BackendSpec, offers: tuple[ProviderOffer, ...], stats: Stats) -> str | None:
    """'cost $0.000123' (or a range by provider); None when the server's usage or the prices are unknown."""
    if spec.kind != "hosted" or spec.base_url or stats.input_tokens is None or stats.tokens_estimated:
        return None
    costs = {offer.provider: cost for offer in offers
             if (cost := offer_cost(offer, stats.input_tokens, stats.output_tokens)) is not None}
    if not costs:
        return None
    if spec.provider in costs:
        return f"cost {usd(costs[spec.provider])} ({spec.provider})"
    low, high = min(costs.values()), max(costs.values())
    if spec.provider == "cheapest" or low == high:
        return f"cost {usd(low)}"
    return f"cost {usd(low)}–{usd(high)} (by provider)"
