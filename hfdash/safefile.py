"""Every file the dashboard writes goes through here: all or nothing, never through a link.

A write goes to a new temporary file in the target's folder (created exclusively, never following a
link, owner-only until renamed), is flushed to disk, then renamed over the target. A target that is
a link, a folder or a device is refused. Temporary files carry TEMP_PREFIX and the writer's process
id, so one left behind by a killed process is found and removed the next time the folder is used.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from hfdash.errors import HfdashError

TEMP_PREFIX = ".hfdash-tmp-"
# A temp file this old is stale even if its process id now belongs to another process.
STALE_AFTER_S = 3600


def check_target(path: str | Path, *, what: str, hint: str = "") -> Path:
    """`path` as a Path if a file may be written there; HfdashError saying why not otherwise.

    Nothing is created or changed. The write checks again: this is for failing before slow work.
    """
    hint = hint or f"Give a path for the {what} that is a new or ordinary file."
    if not str(path).strip():
        raise HfdashError(f"No path given for the {what}. Nothing was saved.", hint=hint)
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError:
        raise HfdashError(f"Cannot write the {what} {path}: a part of the path is a file, not a folder. "
                          "Nothing was saved.", hint=hint) from None
    except OSError as exc:
        raise HfdashError(f"Cannot write the {what} {path} ({exc.strerror}). Nothing was saved.", hint=hint) from None
    if mode is not None and not stat.S_ISREG(mode):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise HfdashError(f"Refusing to replace {path}: it is {kind}. Nothing was saved.", hint=hint)
    for parent in path.absolute().parents:
        try:
            is_folder = stat.S_ISDIR(os.stat(parent).st_mode)
        except FileNotFoundError:
            continue  # created on write
        except OSError:
            break  # the write itself will say what is wrong
        if not is_folder:
            raise HfdashError(f"Cannot write the {what} {path}: {parent} is a file, not a folder. "
                              "Nothing was saved.", hint=hint)
        break
    return path


@contextlib.contextmanager
def replacing(path: str | Path, *, what: str, hint: str = "", file_mode: int = 0o600,
              dir_mode: int = 0o777) -> Iterator[BinaryIO]:
    """Yield a binary file; when the block ends without error it replaces `path` in one step.

    On any error (or interrupt) the temporary file is removed and `path` is left as it was. An
    OSError becomes one HfdashError naming `what` and the file.
    """
    path = check_target(path, what=what, hint=hint)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
        sweep_stale_temps(path.parent)
        tmp = path.parent / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}-{path.name}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fchmod(out.fileno(), file_mode)
            os.fsync(out.fileno())
        check_target(path, what=what, hint=hint)  # a link planted while we wrote is refused, not replaced
        os.replace(tmp, path)
        tmp = None
        _fsync_folder(path.parent)
    except OSError as exc:
        raise HfdashError(f"Cannot write the {what} {path} ({exc.strerror or exc}). Nothing was saved.",
                          hint=hint or None) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def write_atomically(path: str | Path, content: str | bytes, *, what: str, hint: str = "",
                     file_mode: int = 0o600, dir_mode: int = 0o777) -> None:
    """Write all of `content` to `path` or nothing (see `replacing`)."""
    data = content.encode() if isinstance(content, str) else content
    with replacing(path, what=what, hint=hint, file_mode=file_mode, dir_mode=dir_mode) as out:
        out.write(data)


@contextlib.contextmanager
def staging_folder(parent: str | Path) -> Iterator[Path]:
    """A new, empty temporary folder in `parent` to fill and rename into place; removed afterwards
    unless it was renamed away, and swept later if the process is killed meanwhile."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(parent)
    staging = parent / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
    staging.mkdir(mode=0o700)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def sweep_stale_temps(folder: str | Path) -> list[Path]:
    """Remove temporary files left in `folder` by writers that died; returns what was removed.

    A temp file of a live process (another writer, mid-write) is kept unless it is very old.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            pid = _writer_pid(entry.name)
            ours = stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)  # a link is never one we made
            if ours and pid is not None and _alive(pid) and now - info.st_mtime < STALE_AFTER_S:
                continue
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(entry.path)  # never follows links inside
            else:
                os.unlink(entry.path)  # a link is removed itself, its target untouched
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _writer_pid(name: str) -> int | None:
    head = name[len(TEMP_PREFIX):].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # our own temp files are removed by the writer that made them
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot open a folder for this, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
