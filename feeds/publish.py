"""Writing rendered documents into `public/`: atomically, and only when the bytes change.

A reader (or the HTTP server) sees the old file or the new one, never half of one;
an unchanged document is not rewritten, so its mtime and ETag stay put.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from feeds.errors import PublishError

log = logging.getLogger(__name__)

TEMP_PATTERN = ".*.tmp"


def temp_path(path: Path) -> Path:
    """The hidden temp file a document is written to before it is renamed to `path`."""
    return path.with_name(f".{path.name}.tmp")


def _holds(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def _fsync(path: Path) -> None:
    """Make a file's data, or a folder's entries, durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_files_atomically(
    files: Mapping[Path, bytes], *, announce: bool = True, durable: bool = True
) -> list[Path]:
    """Write many documents atomically in one go; return the paths whose bytes changed (and,
    with `announce`, log each).

    Every changed document goes to its temp file, each is made durable (the fsyncs run side by
    side, so the file system commits them together), then each is renamed into place and each
    folder is synced once. A reader sees each file whole, old or new. With `durable` false (a
    first publish: nobody has read anything of it yet) there is no fsync: the caller makes
    them durable all at once at its end (`flush_file_system`).
    """
    changed = [path for path, data in files.items() if not _holds(path, data)]
    if not changed:
        return []
    written: list[Path] = []
    try:
        for folder in {path.parent for path in changed}:
            folder.mkdir(parents=True, exist_ok=True)
        for path in changed:
            written.append(path)
            _write_file(temp_path(path), files[path])
        if durable:
            list(_sync_pool().map(_fsync, [temp_path(p) for p in changed]))
        for path in changed:
            _advance_mtime(temp_path(path), path)
            os.replace(temp_path(path), path)
    except BaseException as e:
        for path in written:
            temp_path(path).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise _unwritable(written[-1] if written else changed[0], e) from e
        raise
    if durable:
        for folder in sorted({path.parent for path in changed}):
            _fsync(folder)
    if announce:
        for path in changed:
            announce_written(path, len(files[path]))
    return changed


def write_stream_atomically(path: Path, chunks: Iterable[bytes]) -> int | None:
    """Write a document too big to hold in memory from its `chunks`, atomically; return its
    size if its bytes changed, else None (the file is left as it was, mtime and all).

    The chunks go to the temp file as they come; it is compared with the published file block
    by block, then made durable and renamed into place as `write_files_atomically` does.
    """
    temp = temp_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(temp, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            size = out.tell()
        if _same_bytes(temp, path):
            temp.unlink()
            return None
        _fsync(temp)
        _advance_mtime(temp, path)
        os.replace(temp, path)
    except BaseException as e:
        temp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise _unwritable(path, e) from e
        raise
    _fsync(path.parent)
    return size


def flush_file_system(folder: Path) -> None:
    """Make every file written on the file system of `folder` durable, in one call: syncfs(2)
    where the C library has it (Linux), else sync(2). The durability point of a first publish,
    whose thousands of documents are written without an fsync each."""
    import ctypes  # only here: a publish of a few documents never needs it

    syncfs = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
    if syncfs is None:
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            error = ctypes.get_errno()
            raise _unwritable(folder, OSError(error, os.strerror(error)))
    finally:
        os.close(fd)


def _unwritable(path: Path, error: OSError) -> PublishError:
    """What to tell the user about a document that could not be written."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = "the file system is full: free space on it"
    else:
        advice = "check that public/ and its folders can be written"
    return PublishError(
        f"cannot write {path}: {error.strerror or error}; {advice}. Nothing is lost: every "
        "document is written at the next publish (the running daemon retries by itself; "
        "else run `seedfeed build`)"
    )


def _same_bytes(new: Path, old: Path) -> bool:
    try:
        if new.stat().st_size != old.stat().st_size:
            return False
        with open(new, "rb") as a, open(old, "rb") as b:
            while block := a.read(_COMPARE_BLOCK):
                if block != b.read(_COMPARE_BLOCK):
                    return False
        return True
    except FileNotFoundError:
        return False


_COMPARE_BLOCK = 1 << 20


def announce_written(path: Path, size: int) -> None:
    """Log a document written to `public/` (its bytes changed)."""
    log.info("written path=%s bytes=%d", path, size)


_SYNC_THREADS = 8
SYNC_THREAD_PREFIX = "seedfeed-fsync"
_sync_pool_lock = threading.Lock()
_sync_pool_started: ThreadPoolExecutor | None = None


def _sync_pool() -> ThreadPoolExecutor:
    """This process's threads for fsyncs, started once (a pool per call started up to eight
    threads for every chunk of documents: a tenth of the workers' CPU in a burst)."""
    global _sync_pool_started
    with _sync_pool_lock:
        if _sync_pool_started is None:
            _sync_pool_started = ThreadPoolExecutor(
                max_workers=_SYNC_THREADS, thread_name_prefix=SYNC_THREAD_PREFIX
            )
        return _sync_pool_started


def _forget_sync_pool() -> None:
    """In a forked child: the parent's pool came along without its threads."""
    global _sync_pool_lock, _sync_pool_started
    _sync_pool_lock = threading.Lock()
    _sync_pool_started = None


os.register_at_fork(after_in_child=_forget_sync_pool)


def _advance_mtime(new: Path, old: Path) -> None:
    """Give a replacement a later whole second than the file it replaces.

    HTTP dates (Last-Modified) count whole seconds, and readers that poll with
    If-Modified-Since drop a response that is not newer: two versions within one second would
    look the same to them.
    """
    try:
        before = old.stat().st_mtime_ns // _SECOND
    except FileNotFoundError:
        return
    info = new.stat()
    if info.st_mtime_ns // _SECOND <= before:
        os.utime(new, ns=(info.st_atime_ns, (before + 1) * _SECOND))


_SECOND = 1_000_000_000


def _write_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


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
    _fsync(path.parent)
    log.info("removed path=%s", path)
    return True
