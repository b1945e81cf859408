"""User settings, persisted per user in their config directory (never in the repo)."""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from hfdash.errors import BadParameters, HfdashError
from hfdash.safefile import sweep_stale_temps, write_atomically
from hfdash.vocab import LOCAL_DEVICES, LOCAL_DTYPES, hub_endpoint

SHIPPED_SNAPSHOT = Path(__file__).parent / "data" / "snapshot.parquet"
CATALOG_SOURCES = ("auto", "hub", "snapshot")
CATALOG_SOURCE_LABELS = {"auto": "auto (Hub, else snapshot)", "hub": "live Hub", "snapshot": "offline snapshot"}
# Where the server connects and what it reads: on a multi-user server only the operator sets these.
OPERATOR_FIELDS = ("hub_endpoint", "snapshot_path", "base_urls")
# Each user's own choices: on a multi-user server they live in the user's browser session.
PREFERENCE_FIELDS = ("catalog_source", "local_device", "local_dtype")


@dataclass
class Settings:
    hub_endpoint: str | None = None  # None: HF_ENDPOINT, else the public Hub
    catalog_source: str = "auto"
    snapshot_path: str | None = None  # None: the snapshot shipped with the app
    base_urls: list[str] = field(default_factory=list)  # saved OpenAI-compatible servers
    local_device: str = "auto"
    local_dtype: str = "auto"

    @property
    def endpoint(self) -> str:
        return hub_endpoint(self.hub_endpoint)

    @property
    def snapshot(self) -> Path:
        """The saved choice, else HFDASH_SNAPSHOT (e.g. a refreshed snapshot), else the shipped one."""
        chosen = self.snapshot_path or os.environ.get("HFDASH_SNAPSHOT")
        return Path(chosen) if chosen else SHIPPED_SNAPSHOT


def multi_user() -> bool:
    """HFDASH_MULTI_USER=1 (a server shared by several people): a session only ever uses the token it
    was given; the machine's HF_TOKEN / token file is neither used nor written from the page."""
    return os.environ.get("HFDASH_MULTI_USER", "").strip().lower() in ("1", "true", "yes")


def operator_secret_matches(candidate: str) -> bool:
    """Whether `candidate` is HFDASH_OPERATOR_SECRET (compared in constant time). Without that variable,
    nobody is an operator from the page: the operator's settings come from the settings file only."""
    secret = os.environ.get("HFDASH_OPERATOR_SECRET", "")
    return bool(secret) and hmac.compare_digest(candidate.encode(), secret.encode())


def config_dir() -> Path:
    if os.environ.get("HFDASH_CONFIG_DIR"):
        return Path(os.environ["HFDASH_CONFIG_DIR"])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "hfdash"


def cache_dir() -> Path:
    """Where the dashboard keeps its own files (converted model copies)."""
    if os.environ.get("HFDASH_CACHE_DIR"):
        return Path(os.environ["HFDASH_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hfdash"


def settings_path() -> Path:
    return config_dir() / "settings.json"


def http_url(value: str, what: str) -> str:
    """`value` without surrounding space or a trailing slash; BadParameters unless it is an http(s) URL.
    A loopback host without a scheme (`localhost:8000`) is read as http: a local server rarely has TLS, and
    nothing leaves the machine. Any other host needs its scheme written: guessing could send plain text."""
    url = value.strip().rstrip("/")
    if "://" not in url and _loopback(urlsplit(f"http://{url}").hostname):
        url = f"http://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        raise BadParameters(f"{what}: {value.strip()!r} is not an http(s) URL.",
                            hint="Write it like https://huggingface.co or http://127.0.0.1:8000/v1.")
    return url


class InvalidSettings(BadParameters):
    """Settings with problems; `fields` maps each Settings field at fault to its own message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__(" ".join(fields.values()), hint="Nothing was saved.")
        self.fields = fields


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def validated(settings: Settings) -> Settings:
    """A cleaned copy of `settings`; InvalidSettings naming every problem at once, each at its field."""
    problems: dict[str, str] = {}

    def check(name: str, fn):
        try:
            return fn()
        except BadParameters as exc:
            problems[name] = f"{problems[name]} {exc.message}" if name in problems else exc.message
            return None

    endpoint = check("hub_endpoint", lambda: http_url(settings.hub_endpoint, "Hub endpoint")) \
        if settings.hub_endpoint else None
    base_urls = [check("base_urls", lambda u=u: http_url(u, "Base URL")) for u in settings.base_urls if u.strip()]
    if settings.catalog_source not in CATALOG_SOURCES:
        problems["catalog_source"] = f"Catalog source must be one of {', '.join(CATALOG_SOURCES)}."
    snapshot = (settings.snapshot_path or "").strip() or None
    if snapshot and not Path(snapshot).expanduser().is_file():
        problems["snapshot_path"] = f"Snapshot file not found: {snapshot}."
    if settings.local_device not in LOCAL_DEVICES:
        problems["local_device"] = f"Local device must be one of {', '.join(LOCAL_DEVICES)}."
    if settings.local_dtype not in LOCAL_DTYPES:
        problems["local_dtype"] = f"Local dtype must be one of {', '.join(LOCAL_DTYPES)}."
    if problems:
        raise InvalidSettings(problems)
    return replace(settings, hub_endpoint=endpoint, snapshot_path=snapshot,
                   base_urls=list(dict.fromkeys(base_urls)))


class DamagedSettings(HfdashError):
    """The settings file could not be read; it is replaced only when the user confirms."""

    title = "Settings file damaged"


DAMAGED_HINT = "Until it is repaired, reset or saved again, every page uses the defaults."


def read_settings() -> Settings:
    """The saved settings; HfdashError if the file is unreadable or damaged."""
    path = settings_path()
    sweep_stale_temps(path.parent)
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError):  # nothing saved there (yet)
        return Settings()
    except (OSError, ValueError) as exc:
        raise DamagedSettings(f"The settings file {path} is unreadable or damaged ({exc}).",
                              hint=DAMAGED_HINT) from None
    known = {f.name for f in fields(Settings)}
    try:
        return validated(Settings(**{k: v for k, v in data.items() if k in known}))
    except (BadParameters, TypeError, AttributeError) as exc:
        raise DamagedSettings(f"The settings file {path} holds invalid values ({exc}).",
                              hint=DAMAGED_HINT) from None


def load_settings() -> Settings:
    """The saved settings, or the defaults if there are none or the file is damaged (never raises)."""
    try:
        return read_settings()
    except HfdashError:
        return Settings()


def save_settings(settings: Settings, *, replace_damaged: bool = False) -> Path:
    """Validate and save; BadParameters or HfdashError leave the saved file as it was. A damaged file is
    replaced only with `replace_damaged` (the user confirmed), else DamagedSettings."""
    path = settings_path()
    if not replace_damaged:
        try:
            read_settings()
        except HfdashError as exc:
            raise DamagedSettings(exc.message, hint="Saving replaces it: confirm to go ahead, or repair the "
                                                    "file first.") from None
    write_atomically(path, json.dumps(asdict(validated(settings)), indent=2), what="settings file",
                     hint="Make the folder writable or point HFDASH_CONFIG_DIR elsewhere.")
    return path


def reset_settings() -> Settings:
    """Back to the defaults (the settings file is removed)."""
    path = settings_path()
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise HfdashError(f"Cannot remove the settings file {path} ({exc.strerror}). Nothing was changed.") from None
    return Settings()
