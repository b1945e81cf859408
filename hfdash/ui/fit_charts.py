"""The Hardware-fit page: inputs kept in the URL, the Plotly figures and the verdict table.

Figures are plain functions of `ModelFit` results so tests can read them without a browser.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from hfdash.hardware.devices import THIS_MACHINE, Device, custom_device, device_ids, find_device, shipped_devices
from hfdash.hardware.estimate import DTYPES, GIB, KV_DTYPES
from hfdash.hardware.local import this_machine
from hfdash.hardware.report import ModelFit, fit_model
from hfdash.safetext import without_links
from hfdash.units import human_bytes

TERMS = (("Weights", "weights_bytes", "#4C78A8"), ("KV cache", "kv_cache_bytes", "#F58518"),
         ("Activations", "activation_bytes", "#54A24B"), ("Overhead", "overhead_bytes", "#B279A2"))
DEFAULT_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_DEVICES = "this-machine,rtx-4090"
LINE_COLOURS = ("#E45756", "#222222", "#72B7B2", "#EECA3B", "#9D755D", "#FF9DA6")


def _hover(label: str, value: int | None) -> str:
    if value is None:
        return f"{label}: unknown (not in the total)"
    return f"{label}: {human_bytes(value)} ({value:,} bytes)"


def _device_lines(fig: go.Figure, devices: list[Device], gpus: int) -> None:
    for device, colour in zip(devices, LINE_COLOURS * 8):
        count = 1 if device.kind == "cpu" else gpus
        usable = device.usable_bytes * count
        name = device.name + (f" x {count}" if count > 1 else "")
        fig.add_hline(y=usable / GIB, line_dash="dash", line_color=colour,
                      annotation_text=f"{name}: {human_bytes(usable)} usable", annotation_position="top left")


def precision_bars(fits: list[ModelFit], devices: list[Device], gpus: int) -> go.Figure:
    """Stacked weights / KV / activations / overhead per precision (and per real GGUF file), per model."""
    rows = [(fit.model_id, label, estimate) for fit in fits for label, estimate in fit.bars]
    fig = go.Figure()
    x = [[model for model, _, _ in rows], [label for _, label, _ in rows]]
    for label, key, colour in TERMS:
        values = [getattr(estimate, key) for _, _, estimate in rows]
        fig.add_bar(
            name=label, x=x, y=[(v or 0) / GIB for v in values], marker_color=colour,
            customdata=[[_hover(label, v), human_bytes(e.total_bytes), f"{e.total_bytes:,}"]
                        for v, (_, _, e) in zip(values, rows)],
            hovertemplate="%{x}<br>%{customdata[0]}<br>total %{customdata[1]} (%{customdata[2]} bytes)"
                          "<extra></extra>")
    _device_lines(fig, devices, gpus)
    fig.update_layout(barmode="stack", yaxis_title="memory (GiB)", legend_title_text="term",
                      margin={"t": 30}, height=480)
    return fig


def context_curve(fits: list[ModelFit], devices: list[Device], gpus: int) -> go.Figure:
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
    _device_lines(fig, devices, gpus)
    fig.update_layout(xaxis_type="log", xaxis_title="context length (tokens, log scale)",
                      yaxis_title="total memory (GiB)", margin={"t": 30}, height=420)
    return fig


def verdict_rows(fits: list[ModelFit]) -> list[dict]:
    rows = []
    for fit in fits:
        for v in fit.verdicts:
            rows.append({
                "model": fit.model_id, "precision": fit.chosen_label, "device": v.device.name, "GPUs": v.gpus,
                "verdict": v.status, "headroom": v.band, "memory used": f"{v.usage:.0%}",
                "needs": human_bytes(fit.chosen.total_bytes), "decode speed (upper bound)": v.speed_label,
            })
    return rows


def _int_param(name: str, default: int, problems: list[str], *, minimum: int = 1) -> int:
    raw = st.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"`{name}={raw}` in the link is not a whole number; using {default}.")
        return default
    if value < minimum:
        problems.append(f"`{name}={raw}` in the link must be at least {minimum}; using {default}.")
        return default
    return value


def _choice_param(name: str, valid: list[str], default: str, problems: list[str]) -> str:
    raw = st.query_params.get(name)
    if raw is None or raw in valid:
        return raw or default
    problems.append(f"`{name}={raw}` in the link is not valid (valid: {', '.join(valid)}); using {default}.")
    return default


def _initial_state(problems: list[str]) -> None:
    """Seed the widgets from the URL the first time this page runs in the session (or after a link)."""
    from hfdash.ui.shortlist import get_shortlist

    devices = [d for d in (st.query_params.get("devices") or DEFAULT_DEVICES).split(",") if d]
    unknown = [d for d in devices if d not in device_ids()]
    if unknown:
        problems.append(f"Unknown device(s) in the link: {', '.join(unknown)} (valid: {', '.join(device_ids())}).")
    defaults = {
        "fit_models": st.query_params.get("models") or ",".join(get_shortlist()) or DEFAULT_MODEL,
        "fit_dtype": _choice_param("dtype", list(DTYPES), "bf16", problems),
        "fit_context": _int_param("context", 4096, problems),
        "fit_batch": _int_param("batch", 1, problems),
        "fit_kv": _choice_param("kv", ["auto", *KV_DTYPES], "auto", problems),
        "fit_devices": [d for d in devices if d in device_ids()],
        "fit_gpus": _int_param("gpus", 1, problems),
        "fit_memory": _int_param("mem", 0, problems, minimum=0),
    }
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)


def _write_url(models: list[str]) -> None:
    state = st.session_state
    wanted = {"models": ",".join(models), "dtype": state.fit_dtype, "context": str(state.fit_context),
              "batch": str(state.fit_batch), "kv": state.fit_kv, "devices": ",".join(state.fit_devices),
              "gpus": str(state.fit_gpus), "mem": str(state.fit_memory)}
    changed = {k: v for k, v in wanted.items() if st.query_params.get(k) != v}
    if changed:
        st.query_params.update(changed)


def _device_name(device_id: str) -> str:
    return "This machine" if device_id == THIS_MACHINE else next(d.name for d in shipped_devices() if d.id == device_id)


def render() -> None:
    """The page body: inputs (seeded from and written back to the URL), both charts, the verdict table."""
    from hfdash.ui.session import call_token, user_settings

    problems: list[str] = []
    _initial_state(problems)
    left, right = st.columns([3, 2])
    left.text_input("Models (Hub ids, comma-separated)", key="fit_models",
                    help="Filled from a Browse link or your shortlist; type any Hub id.")
    left.multiselect("Devices", device_ids(), key="fit_devices", format_func=_device_name)
    cols = left.columns(2)
    cols[0].number_input("GPUs of each device", min_value=1, max_value=64, step=1, key="fit_gpus")
    cols[1].number_input("Custom device memory (GiB, 0 = none)", min_value=0, max_value=4096, step=1,
                         key="fit_memory")
    right.selectbox("Precision (context chart and verdicts)", DTYPES, key="fit_dtype")
    right.number_input("Context length (tokens)", min_value=1, max_value=10_000_000, step=1024, key="fit_context")
    cols = right.columns(2)
    cols[0].number_input("Batch", min_value=1, max_value=1024, step=1, key="fit_batch")
    cols[1].selectbox("KV-cache dtype", ["auto", *KV_DTYPES], key="fit_kv")

    models = list(dict.fromkeys(m.strip() for m in st.session_state.fit_models.split(",") if m.strip()))
    _write_url(models)
    for problem in problems:
        st.warning(without_links(problem))
    if not models:
        st.info("Type a model id above, or add models to the shortlist on the Browse page.")
        return

    state = st.session_state
    devices = [find_device(d) for d in state.fit_devices]
    if state.fit_memory > 0:
        devices.append(custom_device(state.fit_memory))
    hardware = this_machine() if THIS_MACHINE in state.fit_devices else None
    settings = user_settings()
    with st.spinner("Reading model facts…"):
        fits = [fit_model(m, dtype=state.fit_dtype, context=int(state.fit_context), batch=int(state.fit_batch),
                          kv_dtype=None if state.fit_kv == "auto" else state.fit_kv, devices=devices,
                          gpus=int(state.fit_gpus), ram_bytes=hardware.ram_total_bytes if hardware else None,
                          source=settings.catalog_source, token=call_token(), settings=settings)
                for m in models]
    for fit in fits:
        if fit.error is not None:
            st.error(f"**{without_links(fit.model_id)}**: {without_links(fit.error.user_message())}")
        elif fit.facts.source == "snapshot":
            st.caption(without_links(f"{fit.model_id}: figures from the offline snapshot."))
        for note in (fit.facts.notes if fit.facts else ()):
            st.caption(without_links(f"{fit.model_id}: {note}"))
        if fit.chosen is not None:
            for note in fit.chosen.notes:
                st.caption(without_links(f"{fit.model_id}: {note}"))
    shown = [fit for fit in fits if fit.bars]
    if not shown:
        return
    st.subheader("Memory per precision")
    st.plotly_chart(precision_bars(shown, devices, int(state.fit_gpus)), width="stretch")
    st.subheader("Total memory against context length")
    st.plotly_chart(context_curve(shown, devices, int(state.fit_gpus)), width="stretch")
    st.subheader("Verdicts")
    rows = verdict_rows(shown)
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
        st.caption("Decode speed is an upper bound: memory bandwidth / bytes read per token (active weights "
                   "+ KV cache). Real speed is lower. Headroom: ≤85% comfortable, ≤98% tight, above no.")
    else:
        st.info("Pick a device (or enter a custom memory size) to see verdicts.")
