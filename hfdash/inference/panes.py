"""The Playground's panes and their URL form, as plain functions over plain dicts (no Streamlit).

A pane set-up travels as `panes=N&pK.field=value` (only what differs from the defaults), or arrives as a
link `?models=a,b[&backend=local]`; a bad value falls back to the default and the pane says why.
"""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace

from hfdash.errors import BadParameters, HfdashError
from hfdash.inference import KINDS, BackendSpec, GenerationParams
from hfdash.inference.choice import BackendChoice
from hfdash.inference.export import Transcript
from hfdash.urlcodec import split_list
from hfdash.vocab import LOCAL_DEVICES, LOCAL_DTYPES

MAX_PANES = 4
MAX_BROWSER_INT = 2**53 - 1  # a number field holds integers exactly up to here (JavaScript's safe range)
# The URL keys the Playground owns besides its `pK.field` ones.
QUERY_KEYS = ("panes", "variants", "models", "backend")
_PANE_KEY = re.compile(r"^p(\d+)\.(\w+)$")
LOCAL = BackendSpec("local")  # the embedded model, device and dtype chosen by the backend


@dataclass
class Pane(Transcript):
    notices: list[str] = field(default_factory=list)  # problems in the URL it came from, until the next send
    refused: HfdashError | None = None  # why the last send did not start here (e.g. empty prompt)
    choice: BackendChoice | None = None  # for a linked model: the backend chosen for it, and why


def parse_stop(text: str) -> tuple[str, ...]:
    """Comma-separated stop strings; `\\n` and `\\t` stand for a newline and a tab."""
    parts = (part.strip().replace("\\n", "\n").replace("\\t", "\t") for part in text.split(","))
    return tuple(part for part in parts if part)


def format_stop(stop: tuple[str, ...]) -> str:
    return ", ".join(s.replace("\n", "\\n").replace("\t", "\\t") for s in stop)


def looks_local(model: str) -> bool:
    return model.endswith(".gguf") or model.startswith(("/", ".", "~"))


def pane_for_model(model: str | None, backend: str | None = None, local: BackendSpec = LOCAL) -> Pane:
    """A pane for an arrival link: hosted (provider auto) for a repo id unless local is asked for; without
    `backend`, `choose_backends` then picks the one that can run it. A local pane starts from `local` (the
    user's default device and dtype)."""
    if not model or backend == "local" or looks_local(model):
        return Pane(replace(local, model=model or None))
    return Pane(BackendSpec("hosted", model=model, provider="auto"))


def _choice(values: Mapping[str, str], name: str, allowed: tuple[str, ...], notices: list[str], where: str) -> str:
    value = values.get(name, allowed[0])
    if value in allowed:
        return value
    notices.append(f"{where}: {name} {value!r} is not one of {', '.join(allowed)}; using {allowed[0]}.")
    return allowed[0]


def _number(values: Mapping[str, str], name: str, kind: type, notices: list[str], where: str):
    default = getattr(GenerationParams(), name)
    if name not in values or values[name] == "":
        return default
    try:
        number = kind(values[name])
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        notices.append(f"{where}: {name} {values[name]!r} is not a number; using {_shown(default)}.")
        return default
    if abs(number) > MAX_BROWSER_INT:
        # Too large for the page's number field to hold; any other bad value stays, and the pane says why.
        try:
            GenerationParams(**{name: number}).validate()
        except BadParameters as err:
            notices.append(f"{where}: {err.message} Using {_shown(default)}.")
            return default
    return number


def _shown(default) -> str:
    return "none" if default is None else str(default)


def _pane_from_query(values: Mapping[str, str], number: int) -> Pane:
    where, notices = f"URL, pane {number}", typing.cast(list[str], [])
    spec = BackendSpec(kind=_choice(values, "kind", KINDS, notices, where),
                       model=values.get("model") or None, provider=values.get("provider") or None,
                       base_url=values.get("base_url") or None,
                       dtype=_choice(values, "dtype", LOCAL_DTYPES, notices, where),
                       device=_choice(values, "device", LOCAL_DEVICES, notices, where))
    params = GenerationParams(max_new_tokens=_number(values, "max_new_tokens", int, notices, where),
                              temperature=_number(values, "temperature", float, notices, where),
                              top_p=_number(values, "top_p", float, notices, where),
                              seed=_number(values, "seed", int, notices, where),
                              stop=parse_stop(values.get("stop", "")))
    return Pane(spec, system=values.get("system", ""), params=params, notices=notices)


def panes_from_query(query: Mapping[str, str], local: BackendSpec = LOCAL) -> list[Pane]:
    """Panes from `?models=a,b[&backend=local]`, else from `panes=N&pK.field=...`; one embedded local pane if empty.
    A pane the URL says nothing about is a new local pane, starting from `local`."""
    if "models" in query:
        models = split_list(query["models"], unique=False)
        panes = [pane_for_model(m, query.get("backend"), local) for m in models[:MAX_PANES]] or [
            pane_for_model(None, local=local)]
        if len(models) > MAX_PANES:
            panes[0].notices.append(f"{len(models)} models were linked; the Playground shows the first {MAX_PANES}.")
        return panes
    by_pane: dict[int, dict[str, str]] = {}
    for key, value in query.items():
        match = _PANE_KEY.match(key)
        if match and 1 <= int(match[1]) <= MAX_PANES:
            by_pane.setdefault(int(match[1]), {})[match[2]] = value
    try:
        count = int(query.get("panes", "0"))
    except ValueError:
        count = 0
    count = min(MAX_PANES, max(count, max(by_pane, default=1), 1))
    return [_pane_from_query(by_pane[n], n) if n in by_pane else pane_for_model(None, local=local)
            for n in range(1, count + 1)]


def pane_query(number: int, pane: Transcript) -> dict[str, str]:
    """The query keys of one pane: its backend spec and what differs from the default parameters."""
    out = {f"p{number}.{name}": value for name, value in pane.spec.to_query().items()}
    if pane.system:
        out[f"p{number}.system"] = pane.system
    defaults = GenerationParams()
    for param in fields(GenerationParams):
        value = getattr(pane.params, param.name)
        if value != getattr(defaults, param.name):
            out[f"p{number}.{param.name}"] = format_stop(value) if param.name == "stop" else str(value)
    return out


def playground_query(panes: Sequence[Transcript], variants: bool) -> dict[str, str]:
    out = {"panes": str(len(panes))}
    if variants:
        out["variants"] = "1"
    for number, pane in enumerate(panes, start=1):
        out.update(pane_query(number, pane))
    return out


def owns_key(key: str) -> bool:
    """Whether a URL key is the Playground's (so it goes when the set-up no longer has it)."""
    return key in QUERY_KEYS or _PANE_KEY.match(key) is not None
