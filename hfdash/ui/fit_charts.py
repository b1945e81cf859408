"""The Hardware-fit page: inputs kept in the URL, the Plotly figures and the verdict table.

Figures are plain functions of `ModelFit` results so tests can read them without a browser.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Final

import plotly.graph_objects as go
import streamlit as st

from hfdash.hardware.devices import MAX_MEMORY_GIB, THIS_MACHINE, Device, custom_device, device_ids, shipped_devices
from hfdash.hardware.estimate import DEVICE_KIND_NAMES, DTYPES, GIB, KV_DTYPES, MAX_BATCH, MAX_CONTEXT, RUNTIMES
from hfdash.hardware.hubfacts import ModelFacts
from hfdash.hardware.local import find_device, this_machine
from hfdash.hardware.report import ModelFit, fit_model
from hfdash.safetext import without_links
from hfdash.hardware.reverse import best_precision
from hfdash.hardware.verdict import MAX_GPUS
from hfdash.ui import url_state
from hfdash.units import human_bytes
from hfdash.urlcodec import join_gpu_counts, join_list, split_gpu_counts, split_list
from hfdash.vocab import EMBEDDED_MODEL

TERMS = (("Weights", "weights_bytes", "#4C78A8"), ("KV cache", "kv_cache_bytes", "#F58518"),
         ("Activations", "activation_bytes", "#54A24B"), ("Overhead", "overhead_bytes", "#B279A2"))
DEFAULT_MODEL = EMBEDDED_MODEL
DEFAULT_DEVICES = "this-machine,rtx-4090"
LINE_COLOURS = ("#E45756", "#222222", "#72B7B2", "#EECA3B", "#9D755D", "#FF9DA6")
AUTO = "auto"
GPUS_KEY = "fit_gpus_"  # + device id: that device's GPU count
FACTS_KEY = "fit_facts"  # this session's model facts, per (model, source, token fingerprint)
MAX_MODELS = 8  # models compared at once: more makes unreadable charts and many Hub calls
FACTS_DEADLINES = 3  # all models' facts within this many Hub timeouts


def _hover(label: str, value: int | None) -> str:
    if value is None:
        return f"{label}: unknown (not in the total)"
    return f"{label}: {human_bytes(value)} ({value:,} bytes)"


def _device_lines(fig: go.Figure, devices: list[tuple[Device, int]]) -> None:
    for (device, gpus), colour in zip(devices, itertools.cycle(LINE_COLOURS), strict=False):
        count = 1 if device.kind == "cpu" else gpus
        usable = device.usable_bytes * count
        name = device.name + (f" x {count}" if count > 1 else "")
        fig.add_hline(y=usable / GIB, line_dash="dash", line_color=colour,
                      annotation_text=f"{name}: {human_bytes(usable)} usable", annotation_position="top left")


def precision_bars(fits: list[ModelFit], devices: list[tuple[Device, int]]) -> go.Figure:
    """Stacked weights / KV / activations / overhead per precision (and per real GGUF file), per model."""
    rows = [(fit.model_id, label, estimate) for fit in fits for label, estimate in fit.bars]
    fig = go.Figure()
    x = [[model for model, _, _ in rows], [label for _, label, _ in rows]]
    for label, key, colour in TERMS:
        values = [getattr(estimate, key) for _, _, estimate in rows]
        fig.add_bar(
            name=label, x=x, y=[(v or 0) / GIB for v in values], marker_color=colour,
            customdata=[[_hover(label, v), human_bytes(e.total_bytes), f"{e.total_bytes:,}"]
                        for v, (_, _, e) in zip(values, rows, strict=True)],
            hovertemplate="%{x}<br>%{customdata[0]}<br>total %{customdata[1]} (%{customdata[2]} bytes)"
                          "<extra></extra>")
    _device_lines(fig, devices)
    fig.update_layout(barmode="stack", yaxis_title="memory (GiB)", legend_title_text="term",
                      margin={"t": 30}, height=480)
    return fig


def context_curve(fits: list[ModelFit], devices: list[tuple[Device, int]]) -> go.Figure:
    """Total memory against context length (log axis up to each model's maximum) at the chosen precision."""
    fig = go.Figure()
    for fit in fits:
        if not fit.curve:
            continue
        fig.add_scatter(
            name=f"{fit.model_id} ({fit.chosen_label})", mode="lines+markers",
            x=[e.context for e in fit.curve], y=[e.total_bytes / GIB for e in fit.curve],
            customdata=[[human_bytes(e.total_bytes), f"{e.total_bytes:,}", _hover("KV cache", e.kv_cache_bytes)]
                        for e in fit.curve],
            hovertemplate="%{x:,} tokens<br>total %{customdata[0]} (%{customdata[1]} bytes)<br>%{customdata[2]}"
                          "<extra>%{fullData.name}</extra>")
    _device_lines(fig, devices)
    fig.update_layout(xaxis_type="log", xaxis_title="context length (tokens, log scale)",
                      yaxis_title="total memory (GiB)", margin={"t": 30}, height=420)
    return fig


def verdict_rows(fits: list[ModelFit]) -> list[dict]:
    rows = []
    for fit in fits:
        if fit.chosen is None:  # no figures, so no verdicts
            continue
        for i, v in enumerate(fit.verdicts):
            row = {
                "model": fit.model_id, "precision": fit.chosen_label, "runtime": fit.chosen.runtime,
                "context": fit.context, "device": v.device.name, "GPUs": v.gpus, "verdict": v.status,
                "headroom": v.band, "memory used": f"{v.usage:.0%}", "needs": human_bytes(v.needs_bytes),
                "decode speed (upper bound)": v.speed_label,
            }
            if fit.vllm:
                capacity = fit.vllm[i]
                row["vLLM KV room"] = human_bytes(capacity.kv_budget_bytes)
                row["vLLM sequences at once"] = ("unknown" if capacity.sequences is None
                                                 else f"{capacity.sequences:,}")
            rows.append(row)
    return rows


def context_rows(fits: list[ModelFit], context: int) -> list[dict]:
    """Per model and device: the largest context each precision allows, and the best precision at `context`."""
    rows = []
    for fit in fits:
        for device, table in fit.contexts:
            row = {"model": fit.model_id, "device": device.name}
            for entry in table:
                if entry.max_context is None:
                    cell = "does not fit"
                else:
                    cell = f"{entry.max_context:,}" + (" (model max)" if entry.model_limit else "")
                    cell += "" if entry.kv_known else " (KV unknown)"
                row[entry.dtype] = cell
            best = best_precision(table, context)
            row[f"best at {context:,}"] = best.dtype if best else "none fits"
            rows.append(row)
    return rows


# Widgets bound to the URL (`bind="query-params"`): the key is the URL parameter. (key, default, min, max)
# of the whole-number ones; a value they cannot take is dropped by Streamlit, so the page names it first.
BIND: Final = "query-params"
NUMBERS: tuple[tuple[str, int, int, int], ...] = (
    ("context", 4096, 1, MAX_CONTEXT), ("batch", 1, 1, MAX_BATCH), ("mem", 0, 0, MAX_MEMORY_GIB))
CHOICES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("dtype", DTYPES, "bf16"), ("runtime", (AUTO, *RUNTIMES), AUTO), ("kv", (AUTO, *KV_DTYPES), AUTO))
FIELD_LABELS = {"context": "Context length", "batch": "Batch", "mem": "Custom device memory", "gpus": "GPU count"}
# Not bound: links carry `devices=a,b` and `gpus=a:2,b:4`, which a multiselect's repeated parameters and
# one number input per device cannot express; these two are seeded from the URL and written through url_state.
DEVICES_KEY = "fit_devices"


def _int_value(key: str, raw: str, default: int, minimum: int, maximum: int, problems: dict[str, str]) -> int:
    """A whole number from the link, or the default with a message kept for that field."""
    try:
        value = int(raw)
    except ValueError:
        problems[key] = f"{FIELD_LABELS[key]} `{raw}` in the link is not a whole number; using {default:,}."
        return default
    if not minimum <= value <= maximum:
        problems[key] = (f"{FIELD_LABELS[key]} `{raw}` in the link is outside {minimum:,}-{maximum:,}; "
                         f"using {default:,}.")
        return default
    return value


def _link_problems(problems: list[str], field_problems: dict[str, str]) -> None:
    """Name the link values the bound widgets will drop (on the run that brings them)."""
    for name, valid, fallback in CHOICES:
        raw = url_state.get(name)
        if raw is not None and raw not in valid:
            problems.append(f"`{name}={raw}` in the link is not valid (valid: {', '.join(valid)}); using {fallback}.")
    for name, default, minimum, maximum in NUMBERS:
        raw = url_state.get(name)
        if raw is not None:
            _int_value(name, raw, default, minimum, maximum, field_problems)


def _initial_devices(problems: list[str], field_problems: dict[str, str]) -> None:
    """Seed the devices and their GPU counts from the URL the first time this page runs in the session."""
    devices = split_list(url_state.get("devices") or DEFAULT_DEVICES)
    unknown = [d for d in devices if d not in device_ids()]
    if unknown:
        problems.append(f"Unknown device(s) in the link: {', '.join(unknown)} (valid: {', '.join(device_ids())}).")
    devices = [d for d in devices if d in device_ids()]
    st.session_state.setdefault(DEVICES_KEY, devices)
    linked = split_gpu_counts(url_state.get("gpus"), devices)
    for device in devices:
        count = _int_value("gpus", linked[device], 1, 1, MAX_GPUS, field_problems) if device in linked else 1
        st.session_state.setdefault(GPUS_KEY + device, count)


def _write_devices_url() -> None:
    state = st.session_state
    gpus = {d: state.get(GPUS_KEY + d, 1) for d in state[DEVICES_KEY] if d != THIS_MACHINE}
    url_state.write({"devices": join_list(state[DEVICES_KEY]), "gpus": join_gpu_counts(gpus)})


def device_name(device_id: str) -> str:
    return "This machine" if device_id == THIS_MACHINE else next(d.name for d in shipped_devices() if d.id == device_id)


def session_facts(models: list[str], settings, token: str | None) -> dict:
    """Model facts, kept per model, source and token for the session: a rerun that changes only the
    device, context or precision asks the Hub nothing. Missing ones are fetched together, one deadline."""
    from hfdash.hubcall import timeout_s
    from hfdash.hardware.hubfacts import many_model_facts

    cache = st.session_state.setdefault(FACTS_KEY, {})
    who = hashlib.sha256(token.encode()).hexdigest()[:16] if token else ""
    keys = {m: (m, settings.catalog_source, who) for m in models}
    missing = [m for m in models if keys[m] not in cache]
    found = many_model_facts(missing, deadline_s=FACTS_DEADLINES * timeout_s(), source=settings.catalog_source,
                             token=token, settings=settings) if missing else {}
    for model, facts in found.items():
        if isinstance(facts, ModelFacts):
            cache[keys[model]] = facts
    return {m: cache.get(keys[m]) or found[m] for m in models}


def _field_note(container, key: str, field_problems: dict[str, str]) -> None:
    if key in field_problems:
        container.warning(field_problems[key])


def render() -> None:
    """The page body: inputs (seeded from and written back to the URL), both charts, the tables."""
    from hfdash.ui.session import call_token, user_settings

    from hfdash.ui.shortlist import get_shortlist

    problems: list[str] = []
    field_problems: dict[str, str] = {}
    _link_problems(problems, field_problems)
    _initial_devices(problems, field_problems)
    left, right = st.columns([3, 2])
    typed = left.text_input("Models (Hub ids, comma-separated)", value=",".join(get_shortlist()) or DEFAULT_MODEL,
                            key="models", bind=BIND,
                            help=f"Filled from a Browse link or your shortlist; type any Hub id (up to {MAX_MODELS}).")
    chosen_devices = left.multiselect("Devices", device_ids(), key=DEVICES_KEY, format_func=device_name)
    gpu_devices = [d for d in chosen_devices if d != THIS_MACHINE]
    if gpu_devices:
        gpu_cols = left.columns(min(4, len(gpu_devices)))
        for i, device_id in enumerate(gpu_devices):
            gpu_cols[i % len(gpu_cols)].number_input(f"GPUs: {device_id}", min_value=1, max_value=MAX_GPUS, step=1,
                                                     key=GPUS_KEY + device_id)
    _field_note(left, "gpus", field_problems)
    memory = left.number_input("Custom device memory (GiB, 0 = none)", min_value=0, max_value=MAX_MEMORY_GIB, step=1,
                               value=0, key="mem", bind=BIND)
    _field_note(left, "mem", field_problems)
    cols = right.columns(2)
    dtype = cols[0].selectbox("Precision (context chart and verdicts)", DTYPES, index=DTYPES.index("bf16"),
                              key="dtype", bind=BIND)
    runtime_choice = cols[1].selectbox("Runtime", [AUTO, *RUNTIMES], key="runtime", bind=BIND,
                                       help="auto: llama.cpp for GGUF precisions, transformers for the others.")
    context = right.number_input("Context length (tokens)", min_value=1, max_value=MAX_CONTEXT, step=1024,
                                 value=4096, key="context", bind=BIND)
    _field_note(right, "context", field_problems)
    cols = right.columns(2)
    batch = cols[0].number_input("Batch", min_value=1, max_value=MAX_BATCH, step=1, value=1, key="batch", bind=BIND)
    kv = cols[1].selectbox("KV-cache dtype", [AUTO, *KV_DTYPES], key="kv", bind=BIND)
    _field_note(right, "batch", field_problems)

    models = split_list(typed)
    _write_devices_url()
    for problem in problems:
        st.warning(without_links(problem))
    if not models:
        st.info("Type a model id above, or add models to the shortlist on the Browse page.")
        return
    if len(models) > MAX_MODELS:
        st.warning(f"{len(models)} models asked for: showing the first {MAX_MODELS}. Compare fewer at a time.")
        models = models[:MAX_MODELS]

    state = st.session_state
    devices = [(find_device(d), 1 if d == THIS_MACHINE else int(state.get(GPUS_KEY + d, 1))) for d in chosen_devices]
    if memory > 0:
        devices.append((custom_device(memory), 1))
    for device in (device for device, _ in devices if device.memory_bytes <= 0):
        st.warning(f"{device.name}: its memory size is unknown, so it gets no verdict.")
    devices = [(device, count) for device, count in devices if device.memory_bytes > 0]
    hardware = this_machine() if THIS_MACHINE in chosen_devices else None
    settings = user_settings()
    runtime = None if runtime_choice == AUTO else runtime_choice
    with st.spinner("Reading model facts…"):
        facts = session_facts(models, settings, call_token())
    fits = [fit_model(m, dtype=dtype, context=int(context), batch=int(batch),
                      kv_dtype=None if kv == AUTO else kv, devices=devices,
                      ram_bytes=hardware.ram_total_bytes if hardware else None, runtime=runtime,
                      source=settings.catalog_source, settings=settings, facts=facts[m])
            for m in models]
    for fit in fits:
        if fit.error is not None:
            st.error(f"**{without_links(fit.model_id)}**: {without_links(fit.error.user_message())}")
        elif fit.facts is not None and fit.facts.source == "snapshot":
            st.caption(without_links(f"{fit.model_id}: figures from the offline snapshot."))
        if fit.facts is not None:
            facts_source = fit.facts.record.config.facts_source or "unknown"
            st.caption(without_links(f"{fit.model_id}: config source: {facts_source}."))
        for note in [*(fit.facts.notes if fit.facts else ()), *fit.notes]:
            st.caption(without_links(f"{fit.model_id}: {note}"))
        if fit.chosen is not None:
            for note in fit.chosen.notes:
                st.caption(without_links(f"{fit.model_id}: {note}"))
    shown = [fit for fit in fits if fit.bars]
    if not shown:
        return
    st.subheader("Memory per precision")
    st.plotly_chart(precision_bars(shown, devices), width="stretch")
    st.subheader("Total memory against context length")
    st.plotly_chart(context_curve(shown, devices), width="stretch")
    st.subheader("Verdicts")
    rows = verdict_rows(shown)
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
        st.caption("Decode speed is an upper bound: memory bandwidth / bytes read per token (active weights "
                   "+ KV cache), shown also where it does not fit. Across GPUs it adds their bandwidth only for "
                   "a tensor-parallel split (vLLM); a layer split (transformers, llama.cpp) reads one device at a "
                   "time. Headroom: ≤85% comfortable, ≤98% tight (vLLM: its 90% share), above no.")
        st.subheader("Largest context per precision")
        st.dataframe(context_rows(shown, int(context)), hide_index=True, width="stretch")
        first = shown[0].chosen
        assert first is not None  # shown models have bars, so a chosen estimate
        sources = dict(first.sources)
        st.caption(f"Runtime {first.runtime}, figured for a {DEVICE_KIND_NAMES[first.device_kind]} (each verdict "
                   f"for its own device's kind): working buffers from {sources['activations']}; "
                   f"overhead {sources['overhead']}.")
    else:
        st.info("Pick a device (or enter a custom memory size) to see verdicts.")
