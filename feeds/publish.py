"""Writing rendered documents into `public/`: atomically, and only when the bytes change.

A reader (or the HTTP server) sees the old file or the new one, never half of one;
an unchanged document is not rewritten, so its mtime and ETag stay put.
"""

from __future__ import annotations

import logging
import os
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
