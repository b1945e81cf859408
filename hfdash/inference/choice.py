"""Which backend a linked model opens in (`?models=a,b` from Browse's shortlist), and why.

Local when the model fits this machine (the hardware guard's estimate) and its weights are cached or can
be downloaded; else hosted when an Inference Provider serves it and a token is set; else the pane cannot
run it now, and says why and what to do. Pure: the caller looks the facts up.
"""

from __future__ import annotations

from dataclasses import dataclass

from hfdash.catalog.records import ModelRecord
from hfdash.errors import HfdashError, Unavailable
from hfdash.inference.base import BackendSpec



@dataclass(frozen=True)
class LinkFacts:
    """What the choice rests on, looked up by the caller."""

    record: ModelRecord | None  # None: the catalog could not say (lookup_error tells why)
    cached: bool  # its weights are in the local model cache
    hub_reachable: bool  # a download could start (not offline)
    has_token: bool  # this session has a Hugging Face token for Inference Providers
    lookup_error: HfdashError | None = None
    device: str = "cpu"


@dataclass(frozen=True)
class BackendChoice:
    spec: BackendSpec
    reason: str  # why this backend (shown on the pane)
    cannot_run: HfdashError | None = None  # set when neither backend can run it now: why, and what to do


def providers_of(record: ModelRecord | None) -> tuple[str, ...]:
    if record is None:
        return ()
    return tuple(dict.fromkeys([*(record.providers or ()), *(offer.provider for offer in record.offers)]))


def choose_backend(model_id: str, facts: LinkFacts) -> BackendChoice:
    from hfdash.hardware import check_fits_locally
    from hfdash.inference.local.placement import GUARD_CONTEXT, smallest_dtype
    from hfdash.units import human_bytes
    from hfdash.vocab import FLOAT_DTYPES

    local = BackendSpec("local", model=model_id)
    hosted = BackendSpec("hosted", model=model_id, provider="auto")
    record = facts.record
    fit, size_error = None, facts.lookup_error
    if record is not None:
        context = min(GUARD_CONTEXT, record.config.context_length or GUARD_CONTEXT)
        dtype = FLOAT_DTYPES[smallest_dtype("auto", facts.device)]  # the guard's own first check
        try:
            fit = check_fits_locally(record, dtype=dtype, context=context, device=facts.device)
        except HfdashError as err:  # e.g. no parameter count: its memory cannot be estimated
            size_error = err
    providers = providers_of(record)
    served = ", ".join(providers[:3]) + (" and others" if len(providers) > 3 else "")

    if fit is not None and fit.fits and (facts.cached or facts.hub_reachable):
        where = "its weights are in the local cache" if facts.cached else "its weights can be downloaded"
        return BackendChoice(local, f"Local: it fits this machine (about {human_bytes(fit.estimate.total_bytes)}) "
                                    f"and {where}.")
    if providers and facts.has_token:
        why_not_local = "it does not fit this machine" if fit is not None and not fit.fits else \
            "it cannot be run locally now"
        return BackendChoice(hosted, f"Hosted: {served} serve it and your token is set; {why_not_local}.")

    problems = []
    if fit is None:
        problems.append("its size is unknown" + (f" ({size_error.message})" if size_error else ""))
    elif fit is not None and not fit.fits:
        problems.append(f"it does not fit this machine: {fit.message}")
    else:
        problems.append("its weights are not cached and the Hub cannot be reached")
    if providers:
        problems.append(f"{served} serve it, but no Hugging Face token is set")
        hint = "Add a token on the Settings page to use it hosted, or pick a smaller model."
        spec = hosted
    else:
        problems.append("no Inference Provider serves it")
        hint = "Pick a smaller model, or a server of your own (Hosted, Server)."
        spec = local
    error = Unavailable(f"{model_id} cannot run here now: " + "; ".join(problems) + ".", hint=hint)
    return BackendChoice(spec, error.message, cannot_run=error)
