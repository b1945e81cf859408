"""Shared fixtures. Tests never touch the user's machine: HF_HOME and the config dir are temporary."""

from __future__ import annotations

import importlib
import os
import pkgutil

import pytest

from tests.support import loopback_hub


@pytest.fixture(scope="session", autouse=True)
def shared_cache_dir(tmp_path_factory):
    """One dashboard cache for the whole run, so the embedded model is converted once, not per test."""
    path = tmp_path_factory.mktemp("hfdash_cache")
    os.environ["HFDASH_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "hf_home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HFDASH_CONFIG_DIR", str(tmp_path / "hfdash_config"))
    for name in ("HF_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return home


def _load_hub_routes() -> None:
    import tests.support as support

    for module in pkgutil.iter_modules(support.__path__):
        if module.name.startswith("hub_"):
            importlib.import_module(f"tests.support.{module.name}")


@pytest.fixture
def hub(monkeypatch):
    """A running loopback Hub; HF_ENDPOINT points at it for this test (env and the library's constant)."""
    _load_hub_routes()
    server = loopback_hub.LoopbackHub().start()
    from huggingface_hub import constants

    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    # File URLs come from a template built at import from the endpoint then: point it here too.
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        server.url + "/{repo_id}/resolve/{revision}/{filename}")
    from hfdash.catalog import sources

    # A new server may reuse the port of one an earlier test took down: nothing is remembered about it.
    monkeypatch.setattr(sources, "_unreachable", {})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.support.browser import launch

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


@pytest.fixture
def app_server(tmp_path):
    """A factory: `app_server(env={...})` starts a fresh `streamlit run app.py`; all are stopped after the test."""
    from tests.support.streamlit_app import start_streamlit

    started = []

    def start(env: dict[str, str] | None = None):
        base_env = {"HFDASH_CONFIG_DIR": str(tmp_path / "app_config"), "HF_HOME": str(tmp_path / "app_hf_home"),
                    "HF_HUB_DISABLE_TELEMETRY": "1"}
        server = start_streamlit(tmp_path, {**base_env, **(env or {})})
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def embedded_model_folder():
    """The embedded model converted once (GGUF -> safetensors) into the session's cache."""
    from hfdash.inference.local import embedded_folder

    return embedded_folder()


@pytest.fixture(scope="session")
def transformers_serve(embedded_model_folder, tmp_path_factory):
    """A real `transformers serve` on 127.0.0.1 serving the embedded model; `.base_url`, `.model`, `.log()`."""
    from tests.support.openai_server import start_transformers_serve

    server = start_transformers_serve(embedded_model_folder, tmp_path_factory.mktemp("serve"))
    yield server
    server.stop()


@pytest.fixture
def fault_server():
    """A FAKE OpenAI-compatible server (tests/support/fault_server.py) that fails on demand by model name
    and records every request's Authorization header and body."""
    from tests.support.fault_server import FaultServer

    with FaultServer() as server:
        yield server
