"""`pip install .` in a fresh venv gives the `hfdash` command, with the snapshot and device table inside."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_pip_install_gives_the_hfdash_command(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # The dependencies are those already installed for the tests; the package itself comes from the checkout.
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.run([venv / "bin" / "python", "-c", purelib], check=True, capture_output=True,
                               text=True).stdout.strip())
    (site / "test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([venv / "bin" / "pip", "install", "-q", "--no-deps", str(ROOT)], check=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"  # not the checkout, so only the installed copy can be imported
    elsewhere.mkdir()

    def hfdash(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([venv / "bin" / "hfdash", *args], cwd=elsewhere, capture_output=True, text=True,
                              timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"})

    shown = hfdash("--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: hfdash")
    for command in ("search", "fit", "compare", "chat"):
        assert command in shown.stdout
    found = hfdash("search", "--limit", "2", "--source", "snapshot", "--json")
    assert found.returncode == 0, found.stderr
    assert found.stdout.count('"id"') == 2
    where = subprocess.run([venv / "bin" / "python", "-c", "import hfdash; print(hfdash.__file__)"], cwd=elsewhere,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site))
