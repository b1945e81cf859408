"""A REAL `transformers serve` process on 127.0.0.1 serving the embedded model from its converted folder.

    server = start_transformers_serve(folder)   # waits for GET /health
    server.base_url, server.model               # what a BackendSpec(kind="hosted") needs
    server.stop()
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 180  # loading torch + the model on 2 busy cores


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServeProcess:
    process: subprocess.Popen
    port: int
    model: str
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


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
    server = ServeProcess(process, port, str(model_folder), log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"transformers serve exited with {process.returncode}:\n{server.log()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"transformers serve did not answer /health in {START_TIMEOUT_S} s:\n{server.log()[-3000:]}")
