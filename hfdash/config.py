"""User settings, persisted per user in their config directory (never in the repo)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

DEFAULT_ENDPOINT = "https://huggingface.co"
SHIPPED_SNAPSHOT = Path(__file__).parent / "data" / "snapshot.parquet"
CATALOG_SOURCES = ("auto", "hub", "snapshot")


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
        return (self.hub_endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")

    @property
    def snapshot(self) -> Path:
        return Path(self.snapshot_path) if self.snapshot_path else SHIPPED_SNAPSHOT


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


def load_settings() -> Settings:
    path = settings_path()
    if not path.exists():
        return Settings()
    known = {f.name for f in fields(Settings)}
    data = json.loads(path.read_text())
    return Settings(**{k: v for k, v in data.items() if k in known})


def save_settings(settings: Settings) -> Path:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2))
    tmp.replace(path)  # never a half-written file
    return path
