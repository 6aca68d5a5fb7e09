"""Files on disk: caches written atomically, unreadable caches treated as missing, a bad disk told apart from
a corrupt index.

A cache file is written to a temporary file in the same folder, flushed to the disk (fsync) and renamed
over the old one, then the folder is synced too: after a power loss the name points at the whole old file
or the whole new one, never at a 0-byte file. A cache that cannot be read anyway is rebuilt, never fatal.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

# What a full, read-only or forbidden disk raises: the files are fine, only writing is not.
_STORAGE_ERRNOS = {errno.EROFS: "read-only", errno.ENOSPC: "full", errno.EDQUOT: "over its quota",
                   errno.EACCES: "not writable (permission denied)", errno.EPERM: "not writable (permission denied)"}


def storage_problem_of(error: BaseException) -> str | None:
    """"read-only", "full", … when ``error`` (or what caused it) is a disk that refuses writes."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in _STORAGE_ERRNOS:
            return _STORAGE_ERRNOS[error.errno]
        text = str(error).casefold()
        if "readonly database" in text or "read-only file system" in text:
            return "read-only"
        if "disk is full" in text or "no space left" in text:
            return "full"
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return None


def storage_problem(directory: Path) -> str | None:
    """Why ``directory`` (or its nearest existing parent) cannot take new data, or None when it can.

    Written and synced, not just checked with ``os.access``: root passes permission checks, and a full
    disk still lets a file be created empty.
    """
    target = directory
    while not target.exists() and target.parent != target:
        target = target.parent
    try:
        with tempfile.TemporaryFile(dir=target) as probe:
            probe.write(b"\0" * 4096)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return _STORAGE_ERRNOS.get(exc.errno or 0, f"not writable ({exc.strerror})")
    return None


def publish(built: Path, target: Path) -> None:
    """Move a finished file into place for good: its data synced, then the rename, then the folder."""
    with open(built, "rb+") as file:
        os.fsync(file.fileno())
    os.replace(built, target)
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself must reach the disk, or a power loss can undo it
    finally:
        os.close(folder)


def sqlite_is_healthy(database: Path) -> bool:
    """Whether a SQLite file opens read-only and passes ``quick_check``: readable data is never moved aside."""
    if not database.is_file() or database.stat().st_size == 0:
        return False  # SQLite reads an empty file as a healthy empty database: there is nothing to serve
    for options in ("mode=ro", "mode=ro&immutable=1"):  # immutable: a read-only disk has no -shm file to write
        try:
            with sqlite3.connect(f"file:{database}?{options}", uri=True) as connection:
                return connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc) or "malformed" in str(exc):
                return False
    return False


def copy_to_scratch(directory: Path) -> tempfile.TemporaryDirectory[str]:
    """A private writable copy of ``directory`` in the temp folder (removed with the returned object)."""
    scratch = tempfile.TemporaryDirectory(prefix="exchange-bot-index-")
    shutil.copytree(directory, Path(scratch.name) / directory.name)
    return scratch
