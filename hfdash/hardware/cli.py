"""`python -m hfdash fit MODEL_ID ...`: the memory estimate (and a verdict for a device) in text or JSON;
`python -m hfdash compare ID ID ...`: several models in one table (prices, memory, verdict), or CSV."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal, InvalidOperation

from hfdash.catalog.records import ModelRecord
from hfdash.config import CATALOG_SOURCES
from hfdash.errors import BadParameters
from hfdash.units import human_bytes

COMPARE_DEADLINES = 3  # all models' facts within this many Hub timeouts, as on the page


def _whole_number(text: str) -> int:
    """An integer, also written as 1e6; how large is for the estimator's limits to say."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(value)


def register(subparsers) -> None:
    from hfdash.hardware.estimate import DTYPES, RUNTIMES

    parser = subparsers.add_parser("fit", help="will a model fit: memory per term, and a verdict for a device")
    parser.add_argument("model_id", metavar="MODEL_ID")
    parser.add_argument("--dtype", default="bf16", help=f"weights precision: {'|'.join(DTYPES)} (default bf16)")
    parser.add_argument("--context", type=_whole_number, default=4096, help="tokens held in the KV cache")
    parser.add_argument("--batch", type=_whole_number, default=1, help="sequences at once")
    parser.add_argument("--kv-dtype", default=None,
                        help="KV-cache dtype (default: the runtime's: llama.cpp fp16, else the weights' float dtype)")
    parser.add_argument("--runtime", default=None,
                        help=f"{'|'.join(RUNTIMES)} (default: llama.cpp for GGUF precisions, else transformers)")
    parser.add_argument("--device", default=None,
                        help="a device id (see the list on a wrong name), this-machine, or a size such as 48GiB")
    parser.add_argument("--gpus", type=_whole_number, default=1, help="how many of the device")
    parser.add_argument("--max-context", action="store_true",
                        help="with --device: the largest context per precision, and the best precision at --context")
    parser.add_argument("--source", choices=CATALOG_SOURCES, default="auto")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)

    parser = subparsers.add_parser("compare", help="models side by side: licence, cheapest hosted price, memory "
                                                   "and verdict on one device")
    parser.add_argument("model_ids", metavar="MODEL_ID", nargs="+")
    parser.add_argument("--device", default="this-machine",
                        help="a device id, this-machine (default) or a size such as 48GiB")
    parser.add_argument("--gpus", type=_whole_number, default=1, help="how many of the device")
    parser.add_argument("--dtype", default="bf16", help=f"weights precision: {'|'.join(DTYPES)} (default bf16)")
    parser.add_argument("--context", type=_whole_number, default=4096, help="tokens held in the KV cache")
    parser.add_argument("--source", choices=CATALOG_SOURCES, default="auto")
    parser.add_argument("--csv", action="store_true", help="print CSV (numbers unformatted) instead of a table")
    parser.set_defaults(run=run_compare)


def run_compare(args) -> int:
    from hfdash.auth import ambient_token
    from hfdash.catalog.hub import timeout_s
    from hfdash.hardware.compare import compare, to_csv
    from hfdash.hardware.devices import THIS_MACHINE
    from hfdash.hardware.local import find_device
    from hfdash.hardware.estimate import check_context_range, precision
    from hfdash.hardware.hubfacts import many_model_facts
    from hfdash.hardware.local import this_machine
    from hfdash.hardware.verdict import check_gpus

    spec = precision(args.dtype)
    check_context_range(args.context)
    check_gpus(args.gpus)
    device = find_device(args.device)
    models = list(dict.fromkeys(args.model_ids))
    ram = this_machine().ram_total_bytes if args.device.strip().lower() == THIS_MACHINE else None
    facts = many_model_facts(models, deadline_s=COMPARE_DEADLINES * timeout_s(), source=args.source,
                             token=ambient_token())
    rows = compare(models, facts, device=device, gpus=args.gpus, dtype=spec.name, context=args.context,
                   ram_bytes=ram)
    print(to_csv(rows) if args.csv else _compare_text(rows, device.name, args.gpus), end="" if args.csv else "\n")
    return 0


def _compare_text(rows, device_name: str, gpus: int) -> str:
    from hfdash.units import human_count

    def price(quote) -> str:
        return f"${quote.price_per_1m:g} ({quote.provider})" if quote else "-"

    header = ("model", "params", "max context", "license", "input $/1M", "output $/1M", "precision", "memory",
              f"on {device_name}" + (f" x {gpus}" if gpus > 1 else ""))
    table = [header]
    problems = []
    for row in rows:
        if row.problem:
            problems.append(f"{row.model}: {row.problem}")
            table.append((row.model, *["-"] * (len(header) - 1)))
            continue
        table.append((row.model, human_count(row.params), f"{row.max_context:,}" if row.max_context else "?",
                      row.license or "?", price(row.cheapest_input), price(row.cheapest_output), row.precision,
                      human_bytes(row.memory_bytes), f"{row.verdict} ({row.memory_used:.0%})"))
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
             for line in table]
    return "\n".join(lines + problems)


def run(args) -> int:
    from hfdash.auth import ambient_token
    from hfdash.hardware.devices import THIS_MACHINE
    from hfdash.hardware.estimate import (DEFAULT_DEVICE_KIND, check_batch, check_context_range, estimate_memory,
                                          precision, runtime_name)
    from hfdash.hardware.hubfacts import model_facts
    from hfdash.hardware.local import find_device, this_machine
    from hfdash.hardware.reverse import best_precision, context_table, vllm_capacity
    from hfdash.hardware.verdict import check_gpus, verdict

    # Bad names and absurd figures fail before any network call, with the page's limits.
    spec = precision(args.dtype)
    runtime = runtime_name(args.runtime, spec.name)
    check_context_range(args.context)
    check_batch(args.batch)
    check_gpus(args.gpus)
    device = find_device(args.device) if args.device else None
    if args.max_context and device is None:
        raise BadParameters("--max-context needs a --device to fit into.")
    facts = model_facts(args.model_id, source=args.source, token=ambient_token())
    gguf = facts.gguf_for(spec.name)
    estimate = estimate_memory(facts.record, dtype=spec.name, context=args.context, batch=args.batch,
                               kv_dtype=args.kv_dtype, file_bytes=gguf.size if gguf else None, runtime=runtime,
                               device_kind=device.kind if device else DEFAULT_DEVICE_KIND)
    notes = [*facts.notes, *estimate.notes]
    if gguf:
        notes.insert(0, f"Weights: the repo's real file {gguf.path} ({gguf.size:,} bytes).")
    result = {**estimate.to_json(), "source": facts.source, "notes": notes}
    if device is not None:
        ram = this_machine().ram_total_bytes if args.device.strip().lower() == THIS_MACHINE else None
        result["verdict"] = verdict(estimate, device, gpus=args.gpus, ram_bytes=ram).to_json()
        if runtime == "vllm":
            result["vllm"] = vllm_capacity(estimate, device, args.gpus).to_json()
    if args.max_context and device is not None:
        table = context_table(facts.record, device, gpus=args.gpus, batch=args.batch, runtime=args.runtime)
        best = best_precision(table, args.context)
        result["max_context"] = [row.to_json() for row in table]
        result["best_precision"] = best.dtype if best else None
    print(json.dumps(result, indent=2) if args.json else _text(facts.record, result))
    return 0


def _text(record: ModelRecord, result: dict) -> str:
    from hfdash.hardware.estimate import DEVICE_KIND_NAMES

    lines = [f"{record.id} at {result['dtype']} on {result['runtime']}, {result['context']:,} tokens x "
             f"{result['batch']} (KV cache {result['kv_dtype']}, figured for a "
             f"{DEVICE_KIND_NAMES[result['device_kind']]}, source: {result['source']})"]
    for label, key, term in (("weights", "weights_bytes", "weights"), ("KV cache", "kv_cache_bytes", "kv_cache"),
                             ("activations", "activation_bytes", "activations"),
                             ("overhead", "overhead_bytes", "overhead"), ("total", "total_bytes", None)):
        value = result[key]
        figure = human_bytes(value) if value is not None else "unknown"
        lines.append(f"  {label:<12} {figure:>10}" + (f"  ({result['sources'][term]})" if term else ""))
    if "verdict" in result:
        v = result["verdict"]
        speed = (f"≤ {v['tokens_per_s_upper_bound']:,.0f} tokens/s (estimate"
                 + (", if it fitted)" if v["status"] == "does not fit" else ")")
                 if v["tokens_per_s_upper_bound"] else "speed bound unknown")
        lines.append(f"  {v['device_name']} x {v['gpus']}: {v['status']} ({v['band']}, "
                     f"{v['usage']:.0%} of usable memory); {speed}")
    if "vllm" in result:
        vllm = result["vllm"]
        fit = "unknown (KV cache unknown)" if vllm["max_sequences"] is None else f"{vllm['max_sequences']:,}"
        lines.append(f"  vLLM KV room: {human_bytes(vllm['kv_budget_bytes'])}; sequences of "
                     f"{vllm['context']:,} tokens at once: {fit}")
    if "max_context" in result:
        lines.append("  largest context per precision on this device:")
        for row in result["max_context"]:
            if row["max_context"] is None:
                figure = "does not fit"
            else:
                figure = f"{row['max_context']:,} tokens" + (" (the model's maximum)" if row["model_limit"] else "")
                figure += "" if row["kv_known"] else " (KV cache unknown: not counted)"
            lines.append(f"    {row['dtype']:<7} {row['runtime']:<12} {figure}")
        best = result["best_precision"]
        lines.append(f"  best precision at {result['context']:,} tokens: {best or 'none fits'}")
    lines += [f"  note: {note}" for note in result["notes"]]
    return "\n".join(lines)
