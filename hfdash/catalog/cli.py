"""`python -m hfdash search ...` and `python -m hfdash snapshot ...`: the catalog service on the command line.

The search flags are a contract other checks rely on (issue 2): keep their names and meanings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path

from hfdash.catalog.details import ModelDetails
from hfdash.catalog.records import (MAX_LIMIT, FitsOn, ModelQuery, SearchResult, Sort, cell, check_bound, config_rows,
                                    detail_rows, format_value, table_columns)
from hfdash.config import CATALOG_SOURCES
from hfdash.units import human_bytes, human_count, parse_count
from hfdash.vocab import model_url

DEFAULT_REFRESH_LIMIT = 20_000
CARD_PREVIEW_LINES = 15
# Control characters (terminal escapes among them) in untrusted text; newlines and tabs stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def register(subparsers) -> None:
    search = subparsers.add_parser(
        "search", help="search models on the live Hub or the offline snapshot",
        description="Search models. Parameter counts accept 135M, 1.5B or 7e9. They compare with a model's size as "
                    "people read it, two significant digits (whole units from 10 up): --max-params 8B keeps an "
                    "8.03B model (it reads 8.0B) but not 8.1B; --min-params 1B keeps no 752M model.")
    search.add_argument("--query", metavar="TEXT",
                        help="part of the repo id, ignoring case; spaces, dashes, dots and underscores match each "
                             "other ('llama 3.1' finds Llama-3.1-8B)")
    search.add_argument("--task", metavar="TAG", help="exact pipeline tag, e.g. text-generation")
    search.add_argument("--library", metavar="NAME", help="library, e.g. transformers")
    search.add_argument("--min-params", metavar="N", type=_bounded(_count, "min_params"),
                        help="at least N parameters (135M, 1.5B, 7e9), by the size a model reads")
    search.add_argument("--max-params", metavar="N", type=_bounded(_count, "max_params"),
                        help="at most N parameters, by the size a model reads (8B keeps 8.03B)")
    search.add_argument("--provider", metavar="NAME|any", help="served by this inference provider, or by any")
    search.add_argument("--min-likes", metavar="N", type=_bounded(_whole, "min_likes"), help="at least N likes")
    search.add_argument("--min-downloads", metavar="N", type=_bounded(_whole, "min_downloads"),
                        help="at least N downloads (last 30 days)")
    search.add_argument("--created-after", metavar="YYYY-MM-DD", type=_day, help="created on or after this day")
    search.add_argument("--created-within", metavar="DAYS", type=_bounded(_whole, "created_within_days"),
                        help="created in the last DAYS days")
    search.add_argument("--updated-after", metavar="YYYY-MM-DD", type=_day, help="updated on or after this day")
    search.add_argument("--updated-within", metavar="DAYS", type=_bounded(_whole, "updated_within_days"),
                        help="updated in the last DAYS days")
    search.add_argument("--gated", choices=("yes", "no"), help="only gated models, or only open ones")
    search.add_argument("--license", metavar="ID[,ID]", type=_licenses,
                        help="any of these licences, as the Hub names them (apache-2.0, mit, llama3.1, ...)")
    search.add_argument("--fits", metavar="DEVICE",
                        help="only models whose estimated memory fits this device (id, this-machine or 48GiB); "
                             "models whose fit is unknown are counted as left out")
    search.add_argument("--fit-dtype", metavar="D", default="bf16", help="precision for --fits (default bf16)")
    search.add_argument("--fit-context", metavar="N", type=_positive, default=4096,
                        help="context for --fits (default 4096)")
    search.add_argument("--fit-runtime", metavar="R", default=None,
                        help="transformers|llama.cpp|vllm for --fits (default: llama.cpp for GGUF precisions)")
    search.add_argument("--sort", choices=[s.value for s in Sort], default=Sort.DOWNLOADS.value,
                        help="descending; ties by id; unknown values last (default: downloads)")
    search.add_argument("--limit", metavar="N", type=_bounded(_whole, "limit"), default=20,
                        help=f"at most N models, up to {MAX_LIMIT:,} (default 20)")
    search.add_argument("--source", choices=CATALOG_SOURCES, default=None,
                        help="where to search (default: the saved setting, normally auto = Hub, else snapshot)")
    search.add_argument("--json", action="store_true", help="print a JSON array of model objects")
    search.set_defaults(run=run_search)

    refresh = subparsers.add_parser("snapshot", help="write a new offline snapshot from the live Hub",
                                    description="Write a snapshot of the Hub's most downloaded models, in the "
                                                "shipped format. Point the app at it with HFDASH_SNAPSHOT=PATH "
                                                "or on the Settings page.")
    refresh.add_argument("--out", metavar="PATH", required=True, type=_out_path,
                         help="parquet file to write (a new or ordinary file; never a link or device)")
    refresh.add_argument("--limit", metavar="N", type=_positive, default=DEFAULT_REFRESH_LIMIT,
                         help=f"at most N models (default {DEFAULT_REFRESH_LIMIT:,})")
    refresh.add_argument("--task", metavar="T", help="only models of this pipeline tag")
    refresh.set_defaults(run=run_snapshot)

    details = subparsers.add_parser("details", help="one model's facts, model card, tags, languages, base model "
                                                    "and quantized variants",
                                    description="One model's details, from the live Hub or the offline snapshot "
                                                "(which has no model cards).")
    details.add_argument("model_id", metavar="ID", help="repo id, e.g. Qwen/Qwen2.5-7B-Instruct")
    details.add_argument("--source", choices=CATALOG_SOURCES, default=None,
                         help="where to look (default: the saved setting, normally auto = Hub, else snapshot)")
    details.add_argument("--card", action="store_true",
                         help=f"print the whole model card (default: its first {CARD_PREVIEW_LINES} lines)")
    details.add_argument("--json", action="store_true", help="print one JSON object")
    details.set_defaults(run=run_details)


def run_search(args) -> int:
    from hfdash.auth import ambient_token
    from hfdash.catalog import service
    from hfdash.config import load_settings

    settings = load_settings()
    query = ModelQuery(
        text=args.query, task=args.task, library=args.library, min_params=args.min_params,
        max_params=args.max_params, provider=args.provider, min_likes=args.min_likes,
        min_downloads=args.min_downloads, created_after=args.created_after,
        created_within_days=args.created_within, updated_after=args.updated_after,
        updated_within_days=args.updated_within, gated=None if args.gated is None else args.gated == "yes",
        licenses=args.license,
        fits=FitsOn(device=args.fits, dtype=args.fit_dtype, context=args.fit_context, runtime=args.fit_runtime)
        if args.fits else None,
        sort=Sort(args.sort), limit=args.limit)
    result = service.search(query, source=args.source or settings.catalog_source, token=ambient_token(),
                            settings=settings)
    if args.json:
        json.dump([record.to_json() for record in result.records], sys.stdout, indent=2)
        print()
        print(describe(result), file=sys.stderr)
    else:
        print(table(result))
        print(describe(result))
    return 0


def run_snapshot(args) -> int:
    from tqdm import tqdm

    from hfdash.auth import ambient_token
    from hfdash.catalog import hub, service, snapshot
    from hfdash.config import load_settings

    settings = load_settings()
    service.validate(ModelQuery(task=args.task), settings)
    records = list(tqdm(hub.iter_models(settings=settings, token=ambient_token(), limit=args.limit, task=args.task),
                        total=args.limit, unit="model", desc="Reading the Hub", file=sys.stderr))
    info = snapshot.write_snapshot(
        snapshot.records_to_table(records), args.out,
        sources={"hub": settings.endpoint, "fetched": dt.date.today().isoformat(), "task": args.task},
        built="python -m hfdash snapshot")
    print(f"wrote {info.path}: {info.rows:,} models, newest created {info.date or 'unknown'}. "
          f"Use it with HFDASH_SNAPSHOT={info.path} or on the Settings page.")
    return 0


def run_details(args) -> int:
    from hfdash.auth import ambient_token
    from hfdash.catalog.details import model_details
    from hfdash.config import load_settings

    settings = load_settings()
    found = model_details(args.model_id, source=args.source or settings.catalog_source, token=ambient_token(),
                          settings=settings)
    if args.json:
        json.dump(_json_details(found), sys.stdout, indent=2)
        print()
    else:
        print(details_text(found, whole_card=args.card, endpoint=settings.endpoint))
    return 0


def _json_details(found: ModelDetails) -> dict:
    return {"source": found.source, "record": found.record.to_json(), "card_text": found.card_text,
            "card_note": found.card_note, "tags": _list(found.tags), "languages": _list(found.languages),
            "base_models": _list(found.base_models),
            "quantized": None if found.quantized is None else [vars(v) | {"formats": _list(v.formats)}
                                                               for v in found.quantized],
            "notices": list(found.notices)}


def _list(values: tuple | None) -> list | None:
    return None if values is None else list(values)


def details_text(found: ModelDetails, *, whole_card: bool, endpoint: str) -> str:
    """The detail rows, config facts, relations and card as terminal text; untrusted text loses its control
    characters (a card cannot move the cursor or recolour the terminal)."""
    record = found.record
    rows = [*detail_rows(record), *config_rows(record.config, known_only=True),
            ("Tags", format_value(found.tags, "list")), ("Base models", format_value(found.base_models, "list"))]
    width = max(len(label) for label, _ in rows)
    lines = [_printable(record.id), model_url(record.id, endpoint), ""]
    lines += [f"{label.ljust(width)}  {_printable(text)}" for label, text in rows]
    lines += ["", *_variant_lines(found.quantized), ""]
    if found.card_text is None:
        lines.append(f"Model card: {found.card_note}")
    else:
        card = _printable(found.card_text).strip("\n").splitlines()
        shown = card if whole_card else card[:CARD_PREVIEW_LINES]
        lines += ["Model card:", *("  " + line for line in shown)]
        if len(shown) < len(card):
            lines.append(f"  ({len(card) - len(shown)} more lines: --card prints all)")
        if found.card_note:
            lines.append(f"  ({found.card_note})")
    lines += ["", f"source: {'the live Hub' if found.source == 'hub' else 'the offline snapshot'}"]
    lines += [f"notice: {notice}" for notice in found.notices]
    return "\n".join(lines)


def _variant_lines(variants) -> list[str]:
    if variants is None:
        return ["Quantized variants: unknown to this source"]
    if not variants:
        return ["Quantized variants: none listed"]
    lines = [f"Quantized variants ({len(variants)}):"]
    for v in variants:
        facts = [format_value(v.formats, "list"), f"{human_count(v.params)} params" if v.params else None,
                 f"{human_bytes(v.storage_bytes)} in the repo" if v.storage_bytes is not None else None,
                 f"{v.downloads:,} downloads" if v.downloads is not None else None]
        lines.append(f"  {_printable(v.id)}  " + " · ".join(f for f in facts if f))
    return lines


def _printable(text: str) -> str:
    return _CONTROL.sub("", text)


def describe(result: SearchResult) -> str:
    """Which source answered, the snapshot's date, how many left out as unknown, and every notice."""
    date = result.snapshot_date.isoformat() if result.snapshot_date else "unknown"
    source = "the live Hub" if result.source == "hub" else "the offline snapshot"
    shown = f"{len(result.records)} shown" + (f" of {result.total:,} matching" if result.total is not None else "")
    lines = [f"source: {source} · snapshot date {date} · {shown}"]
    if result.excluded_unknown:
        from hfdash.catalog.filters import FIELD_LABELS

        left_out = ", ".join(f"{n:,} with unknown {FIELD_LABELS[f]}" for f, n in result.excluded_unknown.items())
        lines.append(f"left out: {left_out}")
    lines += [f"notice: {notice}" for notice in result.notices]
    return "\n".join(lines)


def table(result: SearchResult) -> str:
    if not result.records:
        return "No model matches. Loosen a filter."
    columns = table_columns()
    header = tuple(c.heading for c in columns)
    rows = [tuple(cell(r, c, unknown="?") for c in columns) for r in result.records]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {i for i, c in enumerate(columns) if c.format in ("int", "count")}
    lines = ["  ".join(text.rjust(w) if i in right else text.ljust(w)
                       for i, (text, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _count(text: str) -> int:
    try:
        return parse_count(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _bounded(parse, field: str):
    """An argparse type: `parse`, then the query field's bounds, which the Browse page shares."""
    def check(text: str) -> int:
        try:
            return check_bound(field, parse(text))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return check


def _licenses(text: str) -> tuple[str, ...]:
    names = tuple(name.strip().lower() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("give at least one licence id, e.g. apache-2.0 or mit,apache-2.0")
    return names


def _out_path(text: str) -> Path:
    from hfdash.errors import HfdashError
    from hfdash.safefile import check_target

    try:
        return check_target(text, what="snapshot")
    except HfdashError as err:
        raise argparse.ArgumentTypeError(err.user_message()) from None


def _whole(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"cannot be negative: {text!r}")
    return value


def _positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from None
