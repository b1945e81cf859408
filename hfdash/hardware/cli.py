"""`python -m hfdash fit MODEL_ID ...`: the memory estimate (and a verdict for a device) in text or JSON."""

from __future__ import annotations

import argparse
import json

from hfdash.catalog.records import ModelRecord
from hfdash.config import CATALOG_SOURCES
from hfdash.errors import BadParameters
from hfdash.units import human_bytes


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def register(subparsers) -> None:
    from hfdash.hardware.estimate import DTYPES

    parser = subparsers.add_parser("fit", help="will a model fit: memory per term, and a verdict for a device")
    parser.add_argument("model_id", metavar="MODEL_ID")
    parser.add_argument("--dtype", default="bf16", help=f"weights precision: {'|'.join(DTYPES)} (default bf16)")
    parser.add_argument("--context", type=_whole_number, default=4096, help="tokens held in the KV cache")
    parser.add_argument("--batch", type=_whole_number, default=1, help="sequences at once")
    parser.add_argument("--kv-dtype", default=None, help="KV-cache dtype (default: fp16, or the weights' float dtype)")
    parser.add_argument("--device", default=None,
                        help="a device id (see the list on a wrong name), this-machine, or a size such as 48GiB")
    parser.add_argument("--gpus", type=_whole_number, default=1, help="how many of the device")
    parser.add_argument("--source", choices=CATALOG_SOURCES, default="auto")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args) -> int:
    from hfdash.auth import ambient_token
    from hfdash.hardware.devices import THIS_MACHINE, find_device
    from hfdash.hardware.estimate import estimate_memory, precision
    from hfdash.hardware.hubfacts import model_facts
    from hfdash.hardware.local import this_machine
    from hfdash.hardware.verdict import verdict

    spec = precision(args.dtype)  # bad names fail before any network call
    if args.gpus < 1:
        raise BadParameters(f"--gpus must be at least 1 (got {args.gpus}).")
    device = find_device(args.device) if args.device else None
    facts = model_facts(args.model_id, source=args.source, token=ambient_token())
    gguf = facts.gguf_for(spec.name)
    estimate = estimate_memory(facts.record, dtype=spec.name, context=args.context, batch=args.batch,
                               kv_dtype=args.kv_dtype, file_bytes=gguf.size if gguf else None)
    notes = [*facts.notes, *estimate.notes]
    if gguf:
        notes.insert(0, f"Weights: the repo's real file {gguf.path} ({gguf.size:,} bytes).")
    result = {**estimate.to_json(), "source": facts.source, "notes": notes}
    if device is not None:
        ram = this_machine().ram_total_bytes if args.device.strip().lower() == THIS_MACHINE else None
        result["verdict"] = verdict(estimate, device, gpus=args.gpus, ram_bytes=ram).to_json()
    print(json.dumps(result, indent=2) if args.json else _text(facts.record, result))
    return 0


def _text(record: ModelRecord, result: dict) -> str:
    lines = [f"{record.id} at {result['dtype']}, {result['context']:,} tokens x {result['batch']} "
             f"(KV cache {result['kv_dtype']}, source: {result['source']})"]
    for label, key in (("weights", "weights_bytes"), ("KV cache", "kv_cache_bytes"),
                       ("activations", "activation_bytes"), ("overhead", "overhead_bytes"), ("total", "total_bytes")):
        value = result[key]
        lines.append(f"  {label:<12} {human_bytes(value) if value is not None else 'unknown':>10}")
    if "verdict" in result:
        v = result["verdict"]
        speed = (f"≤ {v['tokens_per_s_upper_bound']:,.0f} tokens/s (estimate)"
                 if v["tokens_per_s_upper_bound"] else "speed bound unknown")
        lines.append(f"  {v['device_name']} x {v['gpus']}: {v['status']} ({v['band']}, "
                     f"{v['usage']:.0%} of usable memory); {speed}")
    lines += [f"  note: {note}" for note in result["notes"]]
    return "\n".join(lines)
