"""Which token a call uses. Services take the token explicitly; nothing reads a process-wide one for them."""

from __future__ import annotations


def ambient_token() -> str | None:
    """The machine owner's token: HF_TOKEN, else the saved token file. For the CLI and as a page default."""
    from huggingface_hub import get_token

    return get_token()


def hub_token_arg(token: str | None) -> str | bool:
    """What to pass as `token=` to huggingface_hub: False stops it reading HF_TOKEN or the token file itself."""
    return token or False
