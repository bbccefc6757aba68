"""Writing a file so that a crash or a failed write never leaves it half written: the one way ember does it.

The data goes to a fresh hidden temporary file in the target's folder, is flushed to disk, and is renamed over
the target; the folder itself is then synced so the rename survives a power cut. A failure at any point removes
the temporary file and leaves the old target as it was.
"""

from __future__ import annotations

import os
import re
import secrets
from typing import Any, Callable


def temporary_beside(path: str) -> str:
    """A fresh hidden temporary name in path's folder: .NAME.<random>.tmp."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")


_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")


def is_temporary(name: str) -> bool:
    """Whether a file name is one temporary_beside makes (a write that a killed process never finished)."""
    return bool(_TEMPORARY.fullmatch(name))


def remove_stale_temporaries(folder: str) -> None:
    """Remove the temporary files a killed writer left in folder (not recursive)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if is_temporary(name):
            remove_quietly(os.path.join(folder, name))


def write_atomic(path: str | os.PathLike, write: Callable[[Any], None]) -> None:
    """Call write(binary file) on a temporary file beside path, then rename it over path."""
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {path!r}: folder {folder!r} does not exist")
    tmp = temporary_beside(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    sync_folder(os.path.dirname(os.path.abspath(path)))


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write text (UTF-8) to path atomically."""
    data = text.encode("utf-8")
    write_atomic(path, lambda fh: fh.write(data))


def remove_quietly(path: str) -> None:
    """Remove path if it exists; a failure to remove is ignored (cleanup must not hide the real error)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def sync_folder(folder: str) -> None:
    """fsync a folder so a rename inside it survives a power cut (best effort: not every system allows it)."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
