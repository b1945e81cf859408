"""Start `streamlit run app.py` on a free loopback port, as a user would, and stop it afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StreamlitServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """Everything the server printed (stdout and stderr)."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_streamlit(log_dir: Path, env: dict[str, str] | None = None, timeout: float = 60) -> StreamlitServer:
    port = free_port()
    log_path = log_dir / f"streamlit-{port}.log"
    process = subprocess.Popen(
        # `make run`'s command and .streamlit/config.toml; only the port differs, so tests can run side by side.
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
        cwd=REPO, env={**os.environ, **(env or {})},
        stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
    )
    server = StreamlitServer(f"http://127.0.0.1:{port}", process, log_path)
    wait_until_healthy(server, f"{server.url}/_stcore/health", timeout, "streamlit")
    return server


def wait_until_healthy(server: StreamlitServer, health_url: str, timeout: float, name: str) -> None:
    """Poll `health_url` until it answers 200; if the process exits or time runs out, stop it and raise with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{name} exited with {server.process.returncode}:\n{server.log()[-3000:]}")
        try:
            with urllib.request.urlopen(health_url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer {health_url} in {timeout} s:\n{server.log()[-3000:]}")
