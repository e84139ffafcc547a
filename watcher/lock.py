"""The state folder's lock: one seedfeed process (daemon or build) per catalogue."""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from feeds.errors import SeedfeedError

log = logging.getLogger(__name__)

LOCK_NAME = "daemon.lock"


class AlreadyRunning(SeedfeedError):
    """Another seedfeed process holds the state folder."""


@contextmanager
def hold_state_lock(state_dir: Path) -> Iterator[None]:
    """Hold the state folder's lock for the duration, or raise AlreadyRunning at once."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_NAME
    handle: IO[str] = open(path, "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise AlreadyRunning(
                f"another seedfeed process is using the state folder {state_dir} "
                f"(it holds the lock {path}); stop it first, or give --state another folder"
            ) from e
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()
