"""Writing rendered documents into `public/`: atomically, and only when the bytes change.

A reader (or the HTTP server) sees the old file or the new one, never half of one;
an unchanged document is not rewritten, so its mtime and ETag stay put.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

TEMP_PATTERN = ".*.tmp"


def temp_path(path: Path) -> Path:
    """The hidden temp file `write_atomically` uses beside `path`."""
    return path.with_name(f".{path.name}.tmp")


def _holds(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> bool:
    """Put `data` at `path` by temp file, fsync and rename; False if it already held them."""
    if _holds(path, data):
        log.debug("unchanged path=%s bytes=%d", path, len(data))
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    log.info("written path=%s bytes=%d", path, len(data))
    return True


def write_files_atomically(files: Mapping[Path, bytes]) -> list[Path]:
    """Write many documents atomically in one go; return the paths whose bytes changed.

    Every changed document goes to its temp file first; one flush of the file system makes
    them all durable (instead of one fsync each); then each is renamed into place and each
    folder is synced once. A reader sees each file whole, old or new.
    """
    changed = [path for path, data in files.items() if not _holds(path, data)]
    if not changed:
        return []
    written: list[Path] = []
    try:
        for path in changed:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp_path(path).write_bytes(files[path])
            written.append(path)
        _flush_file_system(changed[0].parent, [temp_path(p) for p in changed])
        for path in changed:
            os.replace(temp_path(path), path)
    except BaseException:
        for path in written:
            temp_path(path).unlink(missing_ok=True)
        raise
    for folder in sorted({path.parent for path in changed}):
        _fsync_dir(folder)
    for path in changed:
        log.info("written path=%s bytes=%d", path, len(files[path]))
    return changed


@cache
def _syncfs() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name, use_errno=True) if name else None
    return getattr(libc, "syncfs", None)


def _flush_file_system(folder: Path, paths: list[Path]) -> None:
    """Make `paths` durable: syncfs(2) on their file system where there is one, else fsync each."""
    syncfs = _syncfs()
    if syncfs is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in paths:
        with open(path, "rb") as f:
            os.fsync(f.fileno())


def remove_stale_temp_files(public_dir: Path) -> int:
    """Delete the temp files an interrupted write left under `public_dir`; how many."""
    if not public_dir.is_dir():
        return 0
    removed = 0
    for tmp in sorted(public_dir.rglob(TEMP_PATTERN)):
        if tmp.is_file() and not tmp.is_symlink():
            tmp.unlink(missing_ok=True)
            log.warning("stale temp file removed path=%s", tmp)
            removed += 1
    return removed


def remove_file(path: Path) -> bool:
    """Delete a published file (a feed that must disappear); True if it was there."""
    try:
        path.unlink()
    except FileNotFoundError:
        log.debug("already absent path=%s", path)
        return False
    _fsync_dir(path.parent)
    log.info("removed path=%s", path)
    return True
