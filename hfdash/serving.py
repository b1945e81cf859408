"""What a multi-user server (HFDASH_MULTI_USER) lets a visitor make it reach: the operator's saved
servers only, and local models by Hub id only. The refusals say what is allowed, never what exists on
the server or its network, and are decided before anything is contacted or opened."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hfdash.config import load_settings, multi_user
from hfdash.errors import BadParameters, Forbidden

if TYPE_CHECKING:  # hfdash.inference calls check_reachable: a runtime import back would be a cycle
    from hfdash.inference.base import BackendSpec

HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_reachable(spec: BackendSpec) -> None:
    """Raise unless a visitor of a multi-user server may use `spec`; anything goes on a single-user one."""
    if not multi_user():
        return
    if spec.kind == "hosted" and spec.base_url and spec.base_url.rstrip("/") not in load_settings().base_urls:
        raise Forbidden("This shared server talks only to the servers its operator saved.",
                        hint="Pick one of them in the pane's Server list.")
    if spec.kind == "local" and spec.model and (not HUB_ID.match(spec.model) or ".." in spec.model):
        raise BadParameters("On this shared server a local model is given by its Hub id (owner/name) only.")
