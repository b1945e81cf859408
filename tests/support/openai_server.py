"""A REAL `transformers serve` process on 127.0.0.1 serving the embedded model from its converted folder.

    server = start_transformers_serve(folder, log_dir)   # waits for GET /health
    server.base_url, server.model               # what a BackendSpec(kind="hosted") needs
    server.stop()
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.streamlit_app import StreamlitServer, free_port, wait_until_healthy

START_TIMEOUT_S = 180  # loading torch + the model on 2 busy cores


@dataclass
class ServeProcess(StreamlitServer):  # the same process handling: log(), stop()
    port: int = 0
    model: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def serve_command() -> list[str]:
    """The `transformers` console script of this venv (next to this Python)."""
    script = Path(sys.executable).with_name("transformers")
    return [str(script if script.exists() else shutil.which("transformers") or "transformers"), "serve"]


def start_transformers_serve(model_folder: Path, log_dir: Path) -> ServeProcess:
    port = free_port()
    log_path = log_dir / f"transformers-serve-{port}.log"
    env = {**os.environ, "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_OFFLINE": "1"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*serve_command(), "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32",
             "--log-level", "warning", str(model_folder)],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    server = ServeProcess(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path, port=port,
                          model=str(model_folder))
    wait_until_healthy(server, f"{server.url}/health", START_TIMEOUT_S, "transformers serve")
    return server
