"""A shortlist as one table: what each model is, who hosts it at what price, and whether it fits a device.

The fit columns come from `fit_model`, the Hardware-fit page's own estimator; the prices from the
records' provider offers. Rows are plain values (numbers stay numbers) so a table can sort them and a
CSV keeps them exact.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from hfdash.catalog.records import ProviderOffer
from hfdash.errors import HfdashError
from hfdash.hardware.devices import Device
from hfdash.hardware.estimate import GIB
from hfdash.hardware.hubfacts import ModelFacts
from hfdash.hardware.report import fit_model


@dataclass(frozen=True)
class Cheapest:
    provider: str
    price_per_1m: float


@dataclass(frozen=True)
class CompareRow:
    model: str
    params: int | None = None
    max_context: int | None = None
    license: str | None = None
    providers: tuple[str, ...] = ()
    cheapest_input: Cheapest | None = None
    cheapest_output: Cheapest | None = None
    precision: str | None = None  # the precision, or the repo's real GGUF file, the memory is figured at
    context: int | None = None  # the context figured: the one asked for, or the model's maximum below it
    memory_bytes: int | None = None
    verdict: str | None = None
    memory_used: float | None = None  # share of the usable memory of the devices used
    problem: str | None = None  # why the model has no figures


def cheapest(offers: tuple[ProviderOffer, ...], side: str) -> Cheapest | None:
    """The lowest known price per 1M tokens on one side ("input" or "output"), and who asks it."""
    priced = [(getattr(o, f"{side}_per_1m"), o.provider) for o in offers if getattr(o, f"{side}_per_1m") is not None]
    if not priced:
        return None
    price, provider = min(priced)
    return Cheapest(provider, price)


def compare_row(model_id: str, facts: ModelFacts | HfdashError, *, device: Device, gpus: int = 1, dtype: str,
                context: int, ram_bytes: int | None = None) -> CompareRow:
    fit = fit_model(model_id, dtype=dtype, context=context, devices=[(device, gpus)], ram_bytes=ram_bytes,
                    facts=facts)
    if fit.error is not None or fit.facts is None or fit.chosen is None:
        return CompareRow(model_id, problem=fit.error.user_message() if fit.error else "no figures")
    record = fit.facts.record
    offers = record.offers
    verdict = fit.verdicts[0]
    return CompareRow(
        model_id, params=record.params, max_context=record.config.context_length, license=record.license,
        providers=tuple(dict.fromkeys(o.provider for o in offers)) or tuple(record.providers or ()),
        cheapest_input=cheapest(offers, "input"), cheapest_output=cheapest(offers, "output"),
        precision=fit.chosen_label, context=fit.context, memory_bytes=fit.chosen.total_bytes,
        verdict=verdict.status, memory_used=round(verdict.usage, 4))


def compare(model_ids: list[str], facts: dict[str, ModelFacts | HfdashError], *, device: Device, gpus: int = 1,
            dtype: str, context: int, ram_bytes: int | None = None) -> list[CompareRow]:
    """One row per model, in the order given; `facts` as `many_model_facts` returns them."""
    return [compare_row(m, facts[m], device=device, gpus=gpus, dtype=dtype, context=context,
                        ram_bytes=ram_bytes) for m in model_ids]


def _price(quote: Cheapest | None) -> tuple[float | None, str | None]:
    return (quote.price_per_1m, quote.provider) if quote else (None, None)


# Column names of the table and the CSV: what decides first, so a narrow screen shows it.
COLUMNS = ("model", "verdict", "memory GiB", "memory used", "cheapest input $/1M", "input provider",
           "cheapest output $/1M", "output provider", "params", "max context", "license", "providers", "precision",
           "context", "memory bytes", "problem")


def table_rows(rows: list[CompareRow]) -> list[dict]:
    """Rows as dicts keyed by COLUMNS: numbers as numbers, an unknown value as None."""
    out = []
    for row in rows:
        input_price, input_provider = _price(row.cheapest_input)
        output_price, output_provider = _price(row.cheapest_output)
        values = (row.model, row.verdict, None if row.memory_bytes is None else round(row.memory_bytes / GIB, 2),
                  row.memory_used, input_price, input_provider, output_price, output_provider, row.params,
                  row.max_context, row.license, ", ".join(row.providers) or None, row.precision, row.context,
                  row.memory_bytes, row.problem)
        out.append(dict(zip(COLUMNS, values, strict=True)))
    return out


def to_csv(rows: list[CompareRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table_rows(rows))
    return buffer.getvalue()

