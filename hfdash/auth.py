"""Which token a call uses and where it may go, checking a token, the standard token file, and the
API keys of OpenAI-compatible servers outside Hugging Face.

Services take the token explicitly; nothing reads a process-wide one for them. No function here
logs, prints or puts a token or a key in an error message.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from hfdash.config import config_dir
from hfdash.errors import BadParameters, HfdashError, InvalidToken
from hfdash.safefile import sweep_stale_temps, write_atomically

TOKEN_FILE_MODE = 0o600
TOKEN_DIR_MODE = 0o700
INFERENCE_PERMISSION = "inference.serverless.write"
# User access tokens (classic, fine-grained and OAuth) are "hf_" and letters/digits.
TOKEN_PATTERN = re.compile(r"^hf_[A-Za-z0-9_]{20,}$")
# Real ones are 37 characters ("hf_" + 34; OAuth ones a few more). 256 leaves room for a longer format yet
# refuses a pasted page or file, which would otherwise travel to the Hub in a header.
MAX_TOKEN_LENGTH = 256
CREATE_TOKEN_URL = "https://huggingface.co/settings/tokens"
# Hugging Face's own API and inference router: the HF token goes to these (over https) without asking.
# An exact list, not a suffix: anyone can create a Space (*.hf.space) or an Inference Endpoint.
HF_API_HOSTS = frozenset({"huggingface.co", "hf.co", "router.huggingface.co", "api-inference.huggingface.co"})
# Servers that users run on Hugging Face: the token goes there only if the user opts in for the host.
OPT_IN_HOST_SUFFIXES = (".hf.space", ".huggingface.cloud")
SERVER_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,512}$")  # printable ASCII, no spaces


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def token_goes_to(url: str, *, hub_endpoint: str) -> bool:
    """Whether the HF token may be sent to `url` without asking: https on one of Hugging Face's own API
    hosts, or the Hub endpoint the operator configured (HF_ENDPOINT or the settings file; a loopback
    Hub in tests, a company mirror), which is trusted as configured, on its exact scheme, host and port."""
    origin = _origin(url)
    return origin == _origin(hub_endpoint) or (origin[0] == "https" and origin[1] in HF_API_HOSTS and origin[2] == 443)


def opt_in_host(url: str) -> str | None:
    """The host of a Space or Inference Endpoint reached over https (the user may choose to send it their
    token); None for anything else, plain http included."""
    scheme, host, _ = _origin(url)
    return host if scheme == "https" and host.endswith(OPT_IN_HOST_SUFFIXES) else None


def ambient_token() -> str | None:
    """The machine owner's token: HF_TOKEN, else the saved token file. For the CLI and as a page default.
    HfdashError if the token file is there but cannot be read (e.g. it is a folder)."""
    from huggingface_hub import get_token

    sweep_stale_temps(token_file().parent)
    try:
        return get_token()
    except OSError as exc:
        raise HfdashError(f"Cannot read the token file {token_file()} ({exc.strerror}).",
                          hint="It must be a readable file: remove or fix it, then save a token again.") from None


def hub_token_arg(token: str | None) -> str | bool:
    """What to pass as `token=` to huggingface_hub: False stops it reading HF_TOKEN or the token file itself."""
    return token or False


def clean_token(raw: str | None) -> str:
    """The pasted token without surrounding whitespace/newlines; BadParameters if it can't be a Hub token."""
    token = (raw or "").strip()
    if not token:
        raise BadParameters("No token entered.", hint=f"Paste an access token from {CREATE_TOKEN_URL}.")
    if token.startswith("api_org"):
        raise BadParameters("This is an organisation API token; the Hub only accepts personal user tokens.",
                            hint=f"Create a user access token at {CREATE_TOKEN_URL}.")
    if len(token) > MAX_TOKEN_LENGTH:
        raise BadParameters(f"This is too long for a Hugging Face access token ({len(token):,} characters; "
                            f"they are about 37, at most {MAX_TOKEN_LENGTH}).",
                            hint=f"Copy just the token from {CREATE_TOKEN_URL}.")
    if not TOKEN_PATTERN.match(token):
        raise BadParameters("This is not a Hugging Face access token: they start with 'hf_' followed by "
                            "letters and digits, without spaces.",
                            hint=f"Copy it again from {CREATE_TOKEN_URL}.")
    return token


@dataclass(frozen=True)
class TokenInfo:
    """What the Hub says about a token (never the token itself)."""

    user: str
    fullname: str | None
    orgs: list[str] = field(default_factory=list)
    role: str | None = None  # "read", "write" or "fineGrained"; None for a browser-login token
    token_name: str | None = None
    can_call_providers: bool | None = False  # None: the Hub does not say (browser-login tokens)
    browser_login: bool = False  # made by `hf auth login` in a browser (OAuth): no role or permissions stated
    expires_at: str | None = None


def inference_allowed(access_token: dict) -> bool:
    """Whether a token may call Inference Providers: classic tokens may; fine-grained ones need the
    'Make calls to Inference Providers' permission, granted globally or on the user's own account."""
    if access_token.get("role") != "fineGrained":
        return access_token.get("role") in ("read", "write")
    fine = access_token.get("fineGrained") or {}
    if INFERENCE_PERMISSION in (fine.get("global") or []):
        return True
    return any(INFERENCE_PERMISSION in (scope.get("permissions") or [])
               and (scope.get("entity") or {}).get("type") == "user"
               for scope in fine.get("scoped") or [])


def token_info(whoami: dict) -> TokenInfo:
    auth = whoami.get("auth") or {}
    access = auth.get("accessToken") or {}
    browser_login = auth.get("type") == "oauth"
    return TokenInfo(user=whoami.get("name") or "?", fullname=whoami.get("fullname"),
                     orgs=[org.get("name") for org in whoami.get("orgs") or [] if org.get("name")],
                     role=access.get("role"), token_name=access.get("displayName"),
                     can_call_providers=None if browser_login else inference_allowed(access),
                     browser_login=browser_login, expires_at=auth.get("expiresAt"))


def check_token(token: str, *, endpoint: str) -> TokenInfo:
    """Ask the Hub at `endpoint` who this token belongs to. InvalidToken for a revoked/expired/unknown one."""
    from huggingface_hub import HfApi

    from hfdash.hubcall import hub_call, timeout_s

    try:  # whoami takes no timeout of its own
        whoami = hub_call(lambda: HfApi(endpoint=endpoint).whoami(token=token), what="Checking the token",
                          deadline=timeout_s())
    except InvalidToken:
        raise InvalidToken("The Hub does not accept this token (revoked, expired or mistyped). Nothing was saved.",
                           hint=f"Create a new one at {CREATE_TOKEN_URL}.") from None
    return token_info(whoami)


def token_file() -> Path:
    """The standard Hugging Face token file (under HF_HOME), read by every Hugging Face tool."""
    from huggingface_hub import constants

    return Path(constants.HF_TOKEN_PATH)


def env_token_set() -> bool:
    return bool((os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or "").strip())


def saved_token() -> str | None:
    sweep_stale_temps(token_file().parent)
    try:
        return token_file().read_text().strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise HfdashError(f"Cannot read the token file {token_file()} ({exc.strerror}).") from None


def save_token(token: str) -> Path:
    """Write the token file as `huggingface_hub.login` does: owner-only (0600, folder 0700), all or nothing."""
    path = token_file()
    write_atomically(path, token, what="token file", file_mode=TOKEN_FILE_MODE, dir_mode=TOKEN_DIR_MODE,
                     hint="Check that the folder is writable, or keep the token for this session only.")
    return path


def remove_saved_token() -> bool:
    """Delete the token file (log out). True if there was one."""
    path = token_file()
    sweep_stale_temps(path.parent)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise HfdashError(f"Cannot delete the token file {path} ({exc.strerror}).") from None
    return True


# --- API keys of OpenAI-compatible servers outside Hugging Face ------------------------------------

def clean_server_key(raw: str | None) -> str:
    """The pasted key without surrounding whitespace; BadParameters (never quoting it) if it can't be one."""
    key = (raw or "").strip()
    if not key:
        raise BadParameters("No API key entered.")
    if not SERVER_KEY_PATTERN.match(key):
        raise BadParameters("An API key is 1 to 512 printable characters without spaces.")
    return key


def server_keys_file() -> Path:
    return config_dir() / "server-keys.json"


def _saved_server_keys() -> dict[str, str]:
    path = server_keys_file()
    try:
        keys = json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except (OSError, ValueError):
        raise HfdashError(f"Cannot read the server keys file {path}; no saved key is used.",
                          hint="Delete it and save the keys again.") from None
    return {url: key for url, key in keys.items() if isinstance(url, str) and isinstance(key, str)} \
        if isinstance(keys, dict) else {}


def saved_server_key(base_url: str) -> str | None:
    return _saved_server_keys().get(base_url)


def servers_with_saved_keys() -> list[str]:
    return sorted(_saved_server_keys())


def _write_server_keys(keys: dict[str, str]) -> None:
    write_atomically(server_keys_file(), json.dumps(keys, indent=2), what="server keys file",
                     file_mode=TOKEN_FILE_MODE, dir_mode=TOKEN_DIR_MODE,
                     hint="Check that the folder is writable, or keep the key for this session only.")


def save_server_key(base_url: str, key: str) -> Path:
    """Save a server's key, owner-only (0600), next to the settings."""
    _write_server_keys({**_saved_server_keys(), base_url: key})
    return server_keys_file()


def remove_server_key(base_url: str) -> bool:
    keys = _saved_server_keys()
    if keys.pop(base_url, None) is None:
        return False
    _write_server_keys(keys)
    return True
