"""Safe files: all or nothing, never through a link, no temporary file left behind, even after SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hfdash import auth, config, safefile
from hfdash.errors import HfdashError
from tests.support.tokens import new_token


def _temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(safefile.TEMP_PREFIX))


def test_a_write_replaces_the_file_whole_with_the_mode_asked_and_leaves_no_temp(tmp_path):
    target = tmp_path / "deep" / "er" / "file.json"
    safefile.write_atomically(target, "first", what="test file")
    safefile.write_atomically(target, "second", what="test file", file_mode=0o644)
    assert target.read_text() == "second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert _temps(target.parent) == []


def test_a_failure_while_writing_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with safefile.replacing(target, what="test file") as out:
            out.write(b"half of the new")
            raise RuntimeError("the writer failed")
    assert target.read_text() == "old"
    assert _temps(tmp_path) == []


@pytest.mark.parametrize("kind", ["symlink", "folder", "device"])
def test_links_folders_and_devices_are_never_replaced(tmp_path, kind):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    target = {"symlink": tmp_path / "link", "folder": tmp_path / "dir", "device": Path("/dev/null")}[kind]
    if kind == "symlink":
        target.symlink_to(victim)
    elif kind == "folder":
        target.mkdir()
    with pytest.raises(HfdashError, match="Refusing to replace"):
        safefile.write_atomically(target, "evil", what="test file")
    assert victim.read_text() == "precious"
    assert target.is_symlink() or target.is_dir() or target.is_char_device()
    assert _temps(tmp_path) == []


def test_a_path_under_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(HfdashError, match="is a file, not a folder"):
        safefile.write_atomically(tmp_path / "file" / "out.txt", "x", what="test file")


def test_planted_temp_names_are_not_followed(tmp_path):
    """A link planted under the old predictable name, or under our prefix, is never written through."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    target = tmp_path / "snapshot.parquet"
    (tmp_path / "snapshot.parquet.tmp").symlink_to(victim)
    planted = tmp_path / f"{safefile.TEMP_PREFIX}1-000000000000-snapshot.parquet"
    planted.symlink_to(victim)
    safefile.write_atomically(target, "new", what="test file")
    assert target.read_text() == "new" and not target.is_symlink()
    assert victim.read_text() == "precious"
    assert not planted.is_symlink()  # swept: we never make links, whatever process id the name carries


KILLED_SAVER = textwrap.dedent("""
    import sys
    from hfdash import auth
    auth.save_token(sys.argv[1])
    print("saving", flush=True)
    while True:
        auth.save_token(sys.argv[1])
""")


def _kill_while_saving(home: Path, token: str, rounds: int) -> int:
    """SIGKILL a process saving the token over and over, `rounds` times; how many kills left a temp file
    holding the token (each next saver sweeps the previous one's, so they are counted between rounds)."""
    env = {**os.environ, "HF_HOME": str(home)}
    left = 0
    for _ in range(rounds):
        saver = subprocess.Popen([sys.executable, "-c", KILLED_SAVER, token], env=env, stdout=subprocess.PIPE,
                                 text=True)
        assert saver.stdout.readline().strip() == "saving"
        time.sleep(random.uniform(0, 0.02))
        saver.send_signal(signal.SIGKILL)
        saver.wait(timeout=30)
        saver.stdout.close()
        left += any(token in p.read_text() for p in _temps(home) if p.is_file())
    return left


def _files_holding(folder: Path, token: str) -> list[str]:
    return [p.name for p in folder.iterdir() if p.is_file() and token in p.read_text(errors="replace")]


def test_no_temp_file_holding_the_token_survives_sigkill_and_the_next_start(isolated_home):
    token = new_token()
    left = _kill_while_saving(isolated_home, token, rounds=25)
    assert left > 0, "no kill landed mid-write: the test did not exercise the window"
    assert not any(p.is_symlink() for p in isolated_home.iterdir())
    # The next start looks for the machine's token, which sweeps the folder first.
    started = subprocess.run([sys.executable, "-c", "from hfdash import auth; print(auth.ambient_token() is not None)"],
                             env={**os.environ, "HF_HOME": str(isolated_home)}, capture_output=True, text=True,
                             timeout=60)
    assert started.stdout.strip() == "True", started.stderr
    assert _temps(isolated_home) == []
    assert _files_holding(isolated_home, token) == ["token"]


def test_deleting_the_saved_token_after_sigkills_leaves_no_copy_of_it(isolated_home):
    token = new_token()
    _kill_while_saving(isolated_home, token, rounds=10)
    assert auth.remove_saved_token()
    assert _files_holding(isolated_home, token) == []
    assert _temps(isolated_home) == []


def test_the_settings_folder_is_swept_when_settings_are_read(tmp_path):
    folder = config.settings_path().parent
    folder.mkdir(parents=True)
    stale = folder / f"{safefile.TEMP_PREFIX}999999999-abcdef-settings.json"
    stale.write_text("{}")
    config.load_settings()
    assert not stale.exists()


def test_a_live_writers_temp_is_kept(tmp_path):
    """Two processes saving at once: one's sweep must not pull the other's temp file from under it."""
    live = tmp_path / f"{safefile.TEMP_PREFIX}{os.getppid()}-abcdef-file"
    live.write_text("in progress")
    dead = tmp_path / f"{safefile.TEMP_PREFIX}999999999-abcdef-file"
    dead.write_text("left by a killed writer")
    assert safefile.sweep_stale_temps(tmp_path) == [dead]
    assert live.exists()


def test_a_staging_folder_is_gone_after_use_and_a_killed_writers_is_swept(tmp_path):
    with safefile.staging_folder(tmp_path) as staging:
        (staging / "weights").write_text("half")
        assert staging.is_dir() and staging.name.startswith(safefile.TEMP_PREFIX)
    assert not staging.exists()
    left = tmp_path / f"{safefile.TEMP_PREFIX}999999999-abcdef"
    (left / "sub").mkdir(parents=True)
    with safefile.staging_folder(tmp_path):
        assert not left.exists()
