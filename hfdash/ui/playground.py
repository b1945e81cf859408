"""The Playground: 1 to 4 panes, each its own backend, model, system prompt and parameters.

State: the pane set-up lives in the URL (`panes=2&p1.kind=local&p2.temperature=0`, or an arrival link
`?models=a,b[&backend=local]`; the codec is hfdash/inference/panes.py, written through hfdash/ui/url_state.py)
and in this session's `st.session_state`; histories and the running
generation live only in session state (per browser session; the token never leaves it). Widgets take
their starting values from the Pane (`value=` / `index=`), so a widget re-created after a page switch
starts from the pane's set-up, never from Streamlit's default (0.0 would be a bad top_p).

Streaming: each pane's `stream_answer` runs in its own worker thread and writes its latest Answer into a
`Slot` (local panes on one model share its engine, hfdash/inference/local/engine.py); workers never call
Streamlit. Each live pane is an `st.fragment(run_every=...)` that redraws its slot; no script run waits
on a generation. Every run, full or fragment, first files a finished run's answers, so after a Stop
click, Streamlit's own header Stop or a reconnect, the page shows each pane's real state and Send works.
A session whose browser is gone for `SESSION_GONE_S` has its generations stopped.
"""

from __future__ import annotations

import functools
import threading
import time
import typing
from dataclasses import replace

import streamlit as st

from hfdash.auth import opt_in_host
from hfdash.config import load_settings, multi_user
from hfdash.errors import BadParameters, HfdashError, Timeout, Unavailable
from hfdash.catalog.records import ModelRecord, ProviderOffer
from hfdash.inference import KINDS, Answer, BackendSpec, GenerationParams, check_messages, stream_answer
from hfdash.inference.choice import LinkFacts, choose_backend
from hfdash.inference.cost import cost_text
from hfdash.inference.export import Transcript, Turn, export_json, export_markdown, params_line, stats_line
from hfdash.inference.hosted import ROUTER_POLICIES
from hfdash.inference.panes import (MAX_PANES, Pane, format_stop, looks_local, owns_key, panes_from_query,
                                    parse_stop, playground_query)
from hfdash.inference.snippets import code_snippet
from hfdash.safetext import has_links_or_images, without_links
from hfdash.serving import check_reachable
from hfdash.vocab import EMBEDDED_MODEL, LOCAL_DEVICES, LOCAL_DTYPES
from hfdash.ui import url_state
from hfdash.ui.session import (call_token, sends_token, server_key_for, server_secret_for, set_token_opt_in,
                               token_opted_in, user_settings)

LIVE_REFRESH_S = 0.5  # how often a live pane redraws (each redraw is a short script run)
SESSION_GONE_S = 5.0  # a disconnected session keeps generating this long (a reconnect finds it running)
PANES_KEY, RUN_KEY, SEND_KEY, PROMPT_KEY, VARIANTS_KEY, VARIANTS_ON_KEY, COUNT_KEY = (
    "pg_panes", "pg_run", "pg_send", "pg_prompt", "pg_variants", "pg_variants_on", "pg_count")
VIA_PROVIDERS, VIA_SERVER = "Inference Providers", "Server (base URL)"
OTHER_SERVER = "Other URL…"
IMAGES_KEY = "images_"  # + the turn's number: that answer's "Show images and links" toggle
_STATUS_BADGE: dict[str, tuple[str, typing.Literal["orange", "red"]]] = {
    "stopped": ("Stopped", "orange"), "incomplete": ("Incomplete", "orange"), "error": ("Error", "red")}
CUT_OFF_BADGE = "Cut off at the token limit"
SYSTEM_PREVIEW_CHARS = 160
# The page's Stop stops generations; Streamlit's header Stop only stops a script run, and would flicker in
# and out with every live redraw, so it is hidden here.
HIDE_HEADER_STOP = '<style>[data-testid="stStatusWidget"] button { display: none; }</style>'


class Slot:
    """One pane's running generation. Written by its worker thread, read by the script thread."""

    def __init__(self, prompt: str, session_id: str | None = None, offers: tuple[ProviderOffer, ...] = ()):
        self.prompt = prompt
        self.session_id = session_id  # the browser session it answers; None outside a served app
        self.offers = offers  # a hosted model's prices, for the answer's cost
        self.spec: BackendSpec | None = None
        self.stop = threading.Event()
        self.answer = Answer()
        self.progress: tuple[str, float | None] | None = None  # local model fetch / conversion / load
        self.thread: threading.Thread | None = None

    def start(self, transcript: Transcript, token: str | None, server_key: str | None = None) -> None:
        """Run the transcript's next call; its set-up is read now, so later edits apply to the next send."""
        self.spec = transcript.spec
        args = (transcript.spec, transcript.messages_for(self.prompt), transcript.params, token, server_key)
        self.thread = threading.Thread(target=self._work, args=args,
                                       name="hfdash-pane", daemon=True)
        self.thread.start()
        _SESSION_WATCH.add(self)

    def _work(self, spec, messages, params, token, server_key) -> None:
        for answer in stream_answer(spec, messages, params, token=token, server_key=server_key, stop=self.stop,
                                    on_progress=self._on_progress):
            self.answer = answer

    def _on_progress(self, what: str, fraction: float | None) -> None:
        self.progress = (what, fraction)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def cost(self) -> str | None:
        stats = self.answer.stats
        return cost_text(self.spec, self.offers, stats) if stats is not None and self.spec is not None else None


class Run:
    """One Send: a slot per pane that sends. Filed into the panes' histories exactly once, by whichever
    script run (full or fragment) first sees it finished: with Streamlit's fast reruns a stopping script run
    and its successor can overlap, so filing takes a lock."""

    def __init__(self, slots: dict[int, Slot]):
        self.slots = slots
        self.filed = False
        self._lock = threading.Lock()

    @property
    def finished(self) -> bool:
        return not any(slot.running for slot in self.slots.values())

    def stop(self) -> None:
        for slot in self.slots.values():
            slot.stop.set()

    def file(self, panes: list[Pane]) -> bool:
        """Move the finished answers into the panes' histories, once; whether the run is filed now."""
        with self._lock:
            if not self.filed and self.finished:
                for index, slot in self.slots.items():
                    if index < len(panes):
                        panes[index].turns.append(Turn(slot.prompt, slot.answer, slot.cost))
                self.filed = True
            return self.filed


class SessionWatch:
    """Stops the generations of sessions whose browser has gone (tab closed, connection lost) for
    `SESSION_GONE_S`: one thread, running only while some slot is."""

    def __init__(self):
        self._slots: set[Slot] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, slot: Slot) -> None:
        with self._lock:
            self._slots.add(slot)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="hfdash-session-watch", daemon=True)
                self._thread.start()

    def _watch(self) -> None:
        gone_since: dict[Slot, float] = {}
        while True:
            time.sleep(1.0)
            with self._lock:
                self._slots = {slot for slot in self._slots if slot.running}
                if not self._slots:
                    self._thread = None
                    return
                slots = list(self._slots)
            now = time.monotonic()
            for slot in slots:
                if session_alive(slot.session_id):
                    gone_since.pop(slot, None)
                elif now - gone_since.setdefault(slot, now) >= SESSION_GONE_S:
                    slot.stop.set()


def session_alive(session_id: str | None) -> bool:
    """Whether the browser session is connected (Streamlit keeps a disconnected one for a reconnect)."""
    from streamlit import runtime

    if session_id is None or not runtime.exists():
        return True
    return runtime.get_instance().is_active_session(session_id)


def _session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


_SESSION_WATCH = SessionWatch()


def link_facts(model_id: str) -> LinkFacts:
    """What choosing a linked model's backend needs: its record (live Hub first: whether it answers says
    whether a download could start), its cache state, and whether this session has a token."""
    from hfdash.catalog.hub import offline
    from hfdash.hardware.local import this_machine
    from hfdash.inference.local.sources import cached_snapshot, folder_record
    from hfdash.ui.catalog_cache import current_settings, get_model

    settings = current_settings()
    record: ModelRecord | None = None
    error: HfdashError | None = None
    reachable = not offline()
    for source in ("hub", "snapshot") if settings.catalog_source == "auto" else (settings.catalog_source,):
        try:
            record = get_model(model_id, source, settings)
            break
        except (Unavailable, Timeout) as err:
            error = err
            reachable = reachable and source != "hub"
        except HfdashError as err:  # the Hub answered (not found, gated): the snapshot must not contradict it
            error = err
            break
    cached = cached_snapshot(model_id)
    if cached is not None and (record is None or record.params is None):
        weights = folder_record(cached, model_id)  # its cached weights say its size
        record = weights if record is None else replace(record, params=weights.params, config=weights.config)
    return LinkFacts(record=record, cached=cached is not None, hub_reachable=reachable,
                     has_token=call_token() is not None, lookup_error=error,
                     device="cuda" if this_machine().gpus else "cpu")


def choose_backends(panes: list[Pane]) -> None:
    """Open each linked Hub model in the backend that can run it now (hfdash/inference/choice.py)."""
    for pane in panes:
        model = pane.spec.model
        if model and not looks_local(model):
            pane.choice = choose_backend(model, link_facts(model))
            pane.spec = pane.choice.spec


# ---- session state ----

def _widget_key(index: int, name: str) -> str:
    return f"pg{index}_{name}"


def _forget_pane_widgets(index: int) -> None:
    prefix = _widget_key(index, "")
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


def _stop_run() -> None:
    run = st.session_state.get(RUN_KEY)
    if run is not None:
        run.stop()


def _set_panes(panes: list[Pane]) -> None:
    _stop_run()
    st.session_state.pop(RUN_KEY, None)
    for index in range(MAX_PANES):
        _forget_pane_widgets(index)
    st.session_state[PANES_KEY] = panes
    st.session_state.pop(COUNT_KEY, None)  # the widget starts again from the new panes


def _session_panes() -> list[Pane]:
    """This session's panes: from the URL on arrival (or on an arrival link), then from session state."""
    if PANES_KEY not in st.session_state or url_state.get("models") is not None:
        query = url_state.params()
        defaults = user_settings()
        panes = panes_from_query(query, BackendSpec("local", dtype=defaults.local_dtype, device=defaults.local_device))
        if "models" in query and not query.get("backend"):
            choose_backends(panes)
        _set_panes(panes)
        st.session_state[VARIANTS_ON_KEY] = query.get("variants") == "1"
        st.session_state.pop(VARIANTS_KEY, None)
    return st.session_state[PANES_KEY]


def _resize(panes: list[Pane], count: int) -> None:
    """New panes copy the last pane's set-up (same model, other settings is a common comparison)."""
    while len(panes) < count:
        last = panes[-1]
        _forget_pane_widgets(len(panes))
        panes.append(Pane(last.spec, system=last.system, params=last.params))
    run = st.session_state.get(RUN_KEY)
    for index, slot in run.slots.items() if run is not None else ():
        if index >= count:  # a pane taken away stops answering
            slot.stop.set()
    del panes[count:]


def _clear_history(index: int) -> None:
    panes = st.session_state[PANES_KEY]
    if index < len(panes):
        panes[index].turns.clear()
        panes[index].refused = None
    images = _widget_key(index, IMAGES_KEY)
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(images)]:
        del st.session_state[key]  # a later answer in the same place starts with its images off


def _request_send() -> None:
    st.session_state[SEND_KEY] = True


def _request_resend(index: int, edited_key: str | None = None) -> None:
    """Send this pane's last prompt again (regenerate), or its edited text, in place of its last turn."""
    pane = st.session_state[PANES_KEY][index]
    prompt = st.session_state.get(edited_key, "") if edited_key else pane.turns[-1].prompt
    st.session_state[SEND_KEY] = {index: prompt}


# ---- widgets ----

@functools.cache
def provider_options() -> tuple[str, ...]:
    from huggingface_hub.inference._providers import PROVIDER_T

    return ("auto", *ROUTER_POLICIES, *typing.get_args(PROVIDER_T))


PROVIDER_LABELS = {"auto": "auto (the router's choice)", "fastest": "fastest (:fastest)",
                   "cheapest": "cheapest (:cheapest)"}
PROVIDER_HELP = ("auto: the Hugging Face router picks the fastest provider serving the model, unless your account "
                 "has set a preference order at https://hf.co/settings/inference-providers (then the first one "
                 "there). fastest / cheapest ask the router for that policy; a provider's name sends the request "
                 "to that provider only.")


@st.cache_data(ttl=60, show_spinner=False)
def _popular_chat_models(kind: str, source: str) -> list[str]:
    """The most downloaded text-generation models (served by a provider, for hosted panes); token-free."""
    from hfdash.catalog import search
    from hfdash.catalog.records import ANY_PROVIDER, ModelQuery

    query = ModelQuery(task="text-generation", provider=ANY_PROVIDER if kind == "hosted" else None, limit=30)
    try:
        return [record.id for record in search(query, source=source).records]
    except HfdashError:
        return []


def model_options(kind: str, current: str | None) -> list[str]:
    """What the model picker offers: "" (the embedded model, or a server's default), the current model,
    the shortlist, loaded and cached models, then popular chat models from the catalog; no repeats."""
    from hfdash.cache import HUB, list_cached, loaded_model_ids
    from hfdash.ui.catalog_cache import current_settings
    from hfdash.ui.shortlist import get_shortlist

    try:
        cached = [model.model_id for model in list_cached() if model.kind == HUB]
    except HfdashError:
        cached = []
    popular = _popular_chat_models(kind, current_settings().catalog_source)
    return list(dict.fromkeys(["", current or "", *get_shortlist(), *sorted(loaded_model_ids()), *cached, *popular]))


def _hosted_setup(index: int, spec: BackendSpec, model: str | None, saved_urls: list[str]) -> BackendSpec:
    key = functools.partial(_widget_key, index)
    via = st.radio("Via", (VIA_PROVIDERS, VIA_SERVER), index=int(spec.base_url is not None), key=key("via"),
                   horizontal=True)
    if via == VIA_PROVIDERS:
        provider = spec.provider or "auto"
        options = provider_options() if provider in provider_options() else (*provider_options(), provider)
        return BackendSpec("hosted", model=model, provider=st.selectbox(
            "Provider", options, index=options.index(provider), key=key("provider"), help=PROVIDER_HELP,
            format_func=lambda name: PROVIDER_LABELS.get(name, name)))
    # On a shared server only the operator's servers can be picked (hfdash.serving); a linked other URL
    # is listed so that the pane can say why it is refused.
    extra = OTHER_SERVER if not multi_user() else (spec.base_url if spec.base_url not in saved_urls else None)
    servers = (*saved_urls, extra) if extra else tuple(saved_urls)
    chosen = servers.index(spec.base_url) if spec.base_url in servers else len(servers) - 1
    server = st.selectbox("Server", servers, key=key("server"), help="Saved servers come from the Settings page.",
                          index=chosen if servers else None)
    server = server or ""
    if server == OTHER_SERVER:
        server = st.text_input("Base URL", value=spec.base_url or "", key=key("base_url"),
                               placeholder="http://127.0.0.1:8000/v1").strip()
    if server:
        _token_choice(index, server)
    # An empty URL is kept as "" (not None) so the pane can say it is missing.
    return BackendSpec("hosted", model=model, base_url=server)


def _token_choice(index: int, base_url: str) -> None:
    """Say which secret this server gets; a Space or Inference Endpoint gets the token only if asked, per session."""
    host = opt_in_host(base_url)
    if host:
        on = st.toggle(f"Send my Hugging Face token to {host}", value=token_opted_in(host),
                       key=_widget_key(index, "token_opt_in"),
                       help="Only for a Space or Inference Endpoint you trust: whoever runs it can use your token.")
        set_token_opt_in(host, on)
    elif sends_token(base_url):
        st.caption("Hugging Face's own host: your Hugging Face token is sent.")
    elif server_key_for(base_url):
        st.caption("This server's API key (from Settings) is sent; your Hugging Face token is not.")
    else:
        st.caption("Nothing is sent to authenticate: no Hugging Face token, no API key (set one in Settings).")


def _params_setup(index: int, params: GenerationParams) -> GenerationParams:
    key = functools.partial(_widget_key, index)
    first, second, third = st.columns(3)
    max_new_tokens = first.number_input("Max new tokens", value=params.max_new_tokens, step=1,
                                        key=key("max_new_tokens"))
    temperature = second.number_input("Temperature", value=float(params.temperature), step=0.1, format="%.2f",
                                      key=key("temperature"), help="0 = greedy (deterministic).")
    top_p = third.number_input("top_p", value=float(params.top_p), step=0.05, format="%.2f", key=key("top_p"))
    first, second = st.columns([1, 2])
    seed = first.number_input("Seed", value=params.seed, step=1, key=key("seed"), placeholder="none")
    stop = second.text_input("Stop strings", value=format_stop(params.stop), key=key("stop"),
                             placeholder="e.g. \\n\\n, END",
                             help="Comma-separated; \\n is a newline. At most 4.")
    return GenerationParams(max_new_tokens=int(max_new_tokens), temperature=temperature, top_p=top_p,
                            seed=None if seed is None else int(seed), stop=parse_stop(stop))


def _setup_problem(pane: Pane) -> HfdashError | None:
    spec, params = pane.spec, pane.params
    if pane.choice is not None and pane.choice.cannot_run is not None and spec == pane.choice.spec:
        return pane.choice.cannot_run  # until the user picks another model or backend
    if spec.kind == "hosted" and spec.base_url == "":
        return BadParameters("type the server's base URL, or pick a saved server.")
    try:
        spec.validate()
        check_reachable(spec)
        params.validate()
    except HfdashError as err:
        return err
    return None


def _pane_setup(index: int, pane: Pane, saved_urls: list[str]) -> HfdashError | None:
    """Draw the pane's set-up widgets, copy their values into the pane; return what stops it sending."""
    key = functools.partial(_widget_key, index)
    st.subheader(f"Pane {index + 1}")
    header = st.empty()  # filled after the widgets, so it names the set-up this run will send with
    # Open until the first send, then folded so the conversation is in view.
    busy = RUN_KEY in st.session_state or st.session_state.get(SEND_KEY, False)
    with st.expander("Set-up", expanded=not (pane.turns or busy)):
        kind = st.radio("Backend", KINDS, index=KINDS.index(pane.spec.kind), key=key("kind"), horizontal=True,
                        format_func={"local": "Local (transformers)", "hosted": "Hosted"}.get)
        options = model_options(kind, pane.spec.model)
        picked = st.selectbox(
            "Model", options, index=options.index(pane.spec.model or ""), key=key("model"), accept_new_options=True,
            format_func=lambda name: name or (f"{EMBEDDED_MODEL} (embedded)" if kind == "local" else "server default"),
            help="Type to search your shortlist, loaded and cached models and the Hub's most downloaded chat "
                 "models, or type any id. Local: a Hub repo id, a local folder or a .gguf file. Hosted: a Hub "
                 "repo id (server default: a server that serves one model).",
        )
        model = (picked or "").strip() or None
        if kind == "local":
            left, right = st.columns(2)
            dtype = left.selectbox("dtype", LOCAL_DTYPES, index=LOCAL_DTYPES.index(pane.spec.dtype), key=key("dtype"))
            device = right.selectbox("Device", LOCAL_DEVICES, index=LOCAL_DEVICES.index(pane.spec.device),
                                     key=key("device"))
            pane.spec = BackendSpec("local", model=model, dtype=dtype, device=device)
        else:
            pane.spec = _hosted_setup(index, pane.spec, model, saved_urls)
        pane.system = st.text_area("System prompt", value=pane.system, key=key("system"), height=68)
        pane.params = _params_setup(index, pane.params)
    header.caption(without_links(setup_line(pane)))
    if pane.choice is not None and pane.choice.cannot_run is None and pane.spec == pane.choice.spec:
        st.caption(without_links(pane.choice.reason))
    problem = _setup_problem(pane)
    if problem is not None:
        st.warning(f"**{problem.title}**: {without_links(problem.user_message())}")
    for notice in pane.notices:
        st.warning(without_links(notice))
    return problem


def setup_line(pane: Transcript) -> str:
    """The pane's set-up in three short lines (shown above it even when the set-up panel is folded)."""
    system = " ".join(pane.system.split())
    if len(system) > SYSTEM_PREVIEW_CHARS:
        system = system[:SYSTEM_PREVIEW_CHARS - 1] + "…"
    return f"{pane.spec.label}  \n{params_line(pane.params)}  \nSystem prompt: {system or 'none'}"


def _answer_view(answer: Answer, progress: tuple[str, float | None] | None = None,
                 images_key: str | None = None, cost: str | None = None) -> None:
    """Draw an answer. Its links and images are inert (an image's address could carry the chat to
    whoever wrote the prompt that asked for it) unless the user asks to see them, per filed answer."""
    if progress is not None and not answer.final and not answer.text:
        what, fraction = progress
        st.progress(fraction or 0.0, text=without_links(what))
    if answer.text:
        trusted = (images_key is not None and has_links_or_images(answer.text)
                   and st.toggle("Show images and links", key=images_key,
                                 help="The browser will load the images this answer names."))
        st.markdown(answer.text if trusted else without_links(answer.text))
    elif not answer.final:
        st.caption("Generating…")
    for notice in answer.notices:
        st.info(without_links(notice))
    if answer.status in _STATUS_BADGE:
        label, color = _STATUS_BADGE[answer.status]
        st.badge(label, color=color)
    if answer.cut_off:
        st.badge(CUT_OFF_BADGE, color="gray")
    if answer.error is not None:
        st.error(f"**{answer.error.title}**: {without_links(answer.error.user_message())}")
    if answer.stats is not None and (answer.text or answer.status != "error"):  # no figures for a failed call
        st.caption(stats_line(answer.stats, cost))


def _turn_view(turn: Turn, images_key: str | None = None) -> None:
    with st.chat_message("user"):
        st.markdown(turn.prompt)
    with st.chat_message("assistant"):
        _answer_view(turn.answer, images_key=images_key, cost=turn.cost)


def _snippet_messages(pane: Pane, typed: str):
    """What 'Copy as code' reproduces: the next send if a prompt is typed, else the last call."""
    if typed.strip():
        return pane.messages_for(typed)
    messages = pane.history()
    if messages and messages[-1].role == "assistant":
        return messages[:-1]
    return [*messages, *pane.messages_for("Hello!")[len(messages):]]


def _prompt_for(index: int, variants: bool) -> str:
    return st.session_state.get(_widget_key(index, "prompt") if variants else PROMPT_KEY, "") or ""


# ---- the run ----

def _offers(spec: BackendSpec) -> tuple[ProviderOffer, ...]:
    """The providers' prices for a model on Inference Providers, from the catalog (none if it cannot say)."""
    from hfdash.ui.catalog_cache import current_settings, get_model

    if spec.kind != "hosted" or spec.base_url or not spec.model:
        return ()
    settings = current_settings()
    try:
        return get_model(spec.model, settings.catalog_source, settings).offers
    except HfdashError:
        return ()


def _start_run(panes: list[Pane], problems: list[HfdashError | None], variants: bool,
               resend: dict[int, str] | None = None) -> None:
    """Start one worker per pane that can send; panes that cannot say why. Clears the sent prompts.
    `resend` ({pane: prompt}) sends in those panes only, in place of their last turn (regenerate, edit)."""
    token = call_token()
    session_id = _session_id()
    run: dict[int, Slot] = {}
    for index, pane in enumerate(panes):
        if resend is not None and index not in resend:
            continue
        prompt = resend[index] if resend is not None else _prompt_for(index, variants)
        replaced = pane.turns.pop() if resend is not None and pane.turns else None
        pane.notices.clear()
        pane.refused = problems[index]
        if pane.refused is None:
            try:
                check_messages(pane.messages_for(prompt))
            except HfdashError as err:
                pane.refused = err
        if pane.refused is None:
            run[index] = Slot(prompt, session_id, offers=_offers(pane.spec))
            run[index].start(pane, token, server_secret_for(pane.spec.base_url))
            st.session_state.pop(_widget_key(index, "edited"), None)  # its editor starts from the new prompt
        elif replaced is not None:
            pane.turns.append(replaced)  # a refused resend loses nothing
    if run:
        st.session_state[RUN_KEY] = Run(run)
        if resend is not None:
            return
        if variants:
            for index in run:
                st.session_state[_widget_key(index, "prompt")] = ""
        elif len(run) == len(panes):  # a refused pane keeps the shared prompt for another try
            st.session_state[PROMPT_KEY] = ""


def _current_run(panes: list[Pane]) -> Run | None:
    """This session's live run; a finished one is filed into the histories and forgotten."""
    run = st.session_state.get(RUN_KEY)
    if run is not None and run.file(panes):
        st.session_state.pop(RUN_KEY, None)
        return None
    return run


@st.fragment(run_every=LIVE_REFRESH_S)
def _live_exchange(index: int) -> None:
    """One pane's exchange while its run is live; redrawn every LIVE_REFRESH_S without rerunning the page.
    Once the run has ended (or another script run filed it), each redraw asks for a whole-page run until
    one draws the page without this fragment: a single request can be lost when a click's fast rerun
    stops the script run that made it."""
    run = st.session_state.get(RUN_KEY)
    if run is None or index not in run.slots or run.file(st.session_state[PANES_KEY]):
        st.rerun()  # the whole page: filed answers in the history, Send enabled
    slot = run.slots[index]
    with st.chat_message("user"):
        st.markdown(slot.prompt)
    with st.chat_message("assistant"):
        _answer_view(slot.answer, slot.progress, cost=slot.cost)


# ---- the page ----

def _toolbar(panes: list[Pane]) -> bool:
    left, right = st.columns([2, 5])
    count = left.radio("Panes", range(1, MAX_PANES + 1), index=len(panes) - 1, key=COUNT_KEY, horizontal=True)
    _resize(panes, count)
    variants = right.toggle("A different prompt per pane", value=st.session_state[VARIANTS_ON_KEY], key=VARIANTS_KEY)
    st.session_state[VARIANTS_ON_KEY] = variants  # remembered past page switches, like the panes
    return variants


def _controls(panes: list[Pane], variants: bool, running: bool) -> None:
    if not variants:
        st.text_area("Prompt", key=PROMPT_KEY, height=100, placeholder="Sent to every pane.")
    send, stop, as_json, as_markdown = st.columns([1, 1, 1.4, 1.4])
    send.button("Send", type="primary", on_click=_request_send, disabled=running, width="stretch")
    stop.button("Stop", on_click=_stop_run, disabled=not running, width="stretch")
    as_json.download_button("Export JSON", export_json(panes), file_name="playground.json",
                            mime="application/json", on_click="ignore", width="stretch")
    as_markdown.download_button("Export Markdown", export_markdown(panes), file_name="playground.md",
                                mime="text/markdown", on_click="ignore", width="stretch")


def _last_turn_actions(index: int, pane: Pane) -> None:
    """Regenerate the last answer, or edit the last prompt and send it again; earlier turns stay."""
    key = functools.partial(_widget_key, index)
    again, edit = st.columns(2)
    again.button("Regenerate", key=key("regenerate"), on_click=_request_resend, args=(index,), width="stretch",
                 help="Ask again with the same prompt; the new answer replaces the last one.")
    with edit.popover("Edit last message", width="stretch"):
        st.text_area("Last message", value=pane.turns[-1].prompt, key=key("edited"), height=100)
        st.button("Send edited", key=key("send_edited"), type="primary", on_click=_request_resend,
                  args=(index, key("edited")))


def _pane_body(index: int, pane: Pane, slot: Slot | None, variants: bool) -> None:
    """History, the live exchange, the pane's own prompt, 'Copy as code'."""
    if pane.refused is not None:
        st.error(f"**{pane.refused.title}**: {without_links(pane.refused.user_message())}")
    for number, turn in enumerate(pane.turns):
        _turn_view(turn, images_key=_widget_key(index, f"{IMAGES_KEY}{number}"))
    if slot is not None:
        _live_exchange(index)
    elif pane.turns:
        _last_turn_actions(index, pane)
    if variants:
        st.text_area(f"Prompt for pane {index + 1}", key=_widget_key(index, "prompt"), height=80)
    base_url = pane.spec.base_url or ""
    with st.expander("Copy as code"):
        st.code(code_snippet(pane.spec, _snippet_messages(pane, _prompt_for(index, variants)), pane.params,
                             sends_token=bool(base_url) and sends_token(base_url),
                             has_server_key=bool(base_url) and server_key_for(base_url) is not None),
                language="python")
    st.button("Clear history", key=_widget_key(index, "clear"), on_click=_clear_history, args=(index,),
              disabled=not pane.turns or slot is not None)


def render_playground() -> None:
    st.html(HIDE_HEADER_STOP)
    panes = _session_panes()
    variants = _toolbar(panes)
    controls = st.container()
    saved_urls = list(load_settings().base_urls)
    columns = st.columns(len(panes))
    problems = []
    for index, (column, pane) in enumerate(zip(columns, panes, strict=True)):
        with column:
            problems.append(_pane_setup(index, pane, saved_urls))
    run = _current_run(panes)  # e.g. it ended while no fragment was drawing
    send = st.session_state.pop(SEND_KEY, False)
    if send and run is None:
        _start_run(panes, problems, variants, resend=send if isinstance(send, dict) else None)
        run = st.session_state.get(RUN_KEY)
    with controls:
        _controls(panes, variants, running=run is not None)
    for index, (column, pane) in enumerate(zip(columns, panes, strict=True)):
        with column:
            _pane_body(index, pane, run.slots.get(index) if run is not None else None, variants)
    url_state.write(playground_query(panes, variants), owns=owns_key)
