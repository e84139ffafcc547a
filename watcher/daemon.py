"""The daemon: a watchdog observer, a settle queue, scheduled publish and reconcile jobs."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from apscheduler.schedulers.background import BackgroundScheduler
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.inotify import InotifyObserver

from feeds.build import forget_path, ingest_file, is_ignored, open_catalog, publish_dirty, reconcile
from feeds.catalog import Catalog
from feeds.errors import SeedfeedError
from feeds.model import Config
from feeds.publish import remove_stale_temp_files
from watcher.serve import PublicServer

log = logging.getLogger(__name__)

LOCK_NAME = "daemon.lock"
# How long to wait after a quiet period before comparing size and mtime once more.
_STAT_RECHECK = 0.1
_WORKER_TICK = 0.02


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
                f"(it holds {path}); stop it first, or give --state another folder"
            ) from e
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


@dataclass(slots=True)
class _Pending:
    due: float
    snapshot: tuple[int, int] | None
    immediate: bool


class SettleQueue:
    """Paths that saw events, each due once it has been quiet for `settle` seconds."""

    def __init__(self, settle: float) -> None:
        self._settle = settle
        self._lock = threading.Lock()
        self._pending: dict[Path, _Pending] = {}
        self.wakeup = threading.Event()

    def add(self, path: Path, *, immediate: bool = False) -> None:
        delay = 0.0 if immediate else self._settle
        with self._lock:
            self._pending[path] = _Pending(
                due=time.monotonic() + delay, snapshot=None, immediate=immediate
            )
        self.wakeup.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def take_due(self) -> list[Path]:
        """The paths that are quiet and whose size and mtime held still since the last look."""
        now = time.monotonic()
        ready: list[Path] = []
        with self._lock:
            for path, pending in list(self._pending.items()):
                if pending.due > now:
                    continue
                if pending.immediate:
                    ready.append(path)
                    del self._pending[path]
                    continue
                current = _size_and_mtime(path)
                if current is not None and current != pending.snapshot:
                    pending.snapshot = current
                    pending.due = now + _STAT_RECHECK
                    continue
                ready.append(path)
                del self._pending[path]
        return ready

    def next_due(self) -> float | None:
        with self._lock:
            return min((p.due for p in self._pending.values()), default=None)


def _size_and_mtime(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


class _SeedsHandler(FileSystemEventHandler):
    """Records the paths that events name; the worker does the work."""

    def __init__(self, queue: SettleQueue) -> None:
        self._queue = queue

    def on_any_event(self, event: FileSystemEvent) -> None:
        log.debug(
            "watch event type=%s path=%s dest=%s", event.event_type, event.src_path, event.dest_path
        )
        if isinstance(event, FileMovedEvent | DirMovedEvent):
            if event.src_path:
                self._queue.add(Path(os.fsdecode(event.src_path)), immediate=True)
            if event.dest_path:
                self._queue.add(Path(os.fsdecode(event.dest_path)), immediate=True)
        elif isinstance(event, FileDeletedEvent | DirDeletedEvent):
            self._queue.add(Path(os.fsdecode(event.src_path)), immediate=True)
        elif isinstance(
            event, FileCreatedEvent | FileModifiedEvent | FileClosedEvent | DirCreatedEvent
        ):
            self._queue.add(Path(os.fsdecode(event.src_path)))


class Daemon:
    """`seedfeed run`: keeps `public/` in step with `seeds/` until told to stop."""

    def __init__(
        self, config: Config, *, serve: bool, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._config = config
        self._serve = serve
        self._clock = clock or (lambda: datetime.now(UTC))
        self._queue = SettleQueue(config.settle)
        self._stop = threading.Event()
        self._catalog_lock = threading.Lock()
        self._catalog: Catalog | None = None

    def stop(self) -> None:
        """Ask the daemon to finish the file in hand, publish, and return from `run`."""
        self._stop.set()
        self._queue.wakeup.set()

    def run(self) -> None:
        config = self._config
        config.seeds_dir.mkdir(parents=True, exist_ok=True)
        with hold_state_lock(config.state_dir):
            self._catalog = open_catalog(config)
            try:
                self._run(self._catalog)
            finally:
                self._catalog.close()

    def _run(self, catalog: Catalog) -> None:
        config = self._config
        remove_stale_temp_files(config.public_dir)
        observer = InotifyObserver(generate_full_events=True)
        observer.schedule(_SeedsHandler(self._queue), str(config.seeds_dir), recursive=True)
        observer.start()
        server = PublicServer(config.public_dir, config.host, config.port) if self._serve else None
        scheduler = BackgroundScheduler(timezone=UTC)
        try:
            self._reconcile()
            self._publish()
            scheduler.add_job(
                self._publish,
                "interval",
                seconds=config.publish_every,
                id="publish",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(config.publish_every * 5)),
            )
            scheduler.add_job(
                self._reconcile,
                "interval",
                seconds=config.reconcile_every,
                id="reconcile",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(config.reconcile_every)),
            )
            scheduler.start()
            if server is not None:
                config.public_dir.mkdir(parents=True, exist_ok=True)
                server.start()
            log.info("watching seeds=%s public=%s", config.seeds_dir, config.public_dir)
            self._work()
        finally:
            observer.stop()
            if scheduler.running:
                scheduler.shutdown(wait=True)
            self._drain()
            self._publish()
            if server is not None:
                server.stop()
            observer.join(timeout=5)
            log.info("stopped")

    def _work(self) -> None:
        while not self._stop.is_set():
            self._process(self._queue.take_due())
            next_due = self._queue.next_due()
            timeout = 1.0 if next_due is None else max(0.0, next_due - time.monotonic())
            self._queue.wakeup.wait(timeout=min(max(timeout, _WORKER_TICK), 1.0))
            self._queue.wakeup.clear()

    def _drain(self) -> None:
        """On the way out: whatever is already due gets handled, nothing new is waited for."""
        self._process(self._queue.take_due())

    def _process(self, paths: list[Path]) -> None:
        if not paths:
            return
        catalog = self._require_catalog()
        seeds = self._config.seeds_dir
        with self._catalog_lock:
            for path in paths:
                try:
                    rel_path = path.relative_to(seeds)
                except ValueError:
                    continue
                if rel_path == Path(".") or is_ignored(rel_path, self._config.ignore):
                    continue
                try:
                    self._process_one(catalog, rel_path)
                except Exception:
                    log.exception("file failed path=%s", rel_path)

    def _process_one(self, catalog: Catalog, rel_path: Path) -> None:
        path = self._config.seeds_dir / rel_path
        now = self._clock()
        if path.is_dir() and not path.is_symlink():
            if catalog.file_record(rel_path) is not None:
                forget_path(catalog, rel_path)
            for child in sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink()):
                child_rel = child.relative_to(self._config.seeds_dir)
                if not is_ignored(child_rel, self._config.ignore):
                    ingest_file(catalog, self._config, child_rel, now=now)
            return
        if not path.exists() and not path.is_symlink():
            forget_path(catalog, rel_path)
            return
        ingest_file(catalog, self._config, rel_path, now=now)

    def _publish(self) -> None:
        catalog = self._require_catalog()
        try:
            with self._catalog_lock:
                publish_dirty(catalog, self._config, now=self._clock())
        except Exception:
            log.exception("publish failed")

    def _reconcile(self) -> None:
        catalog = self._require_catalog()
        try:
            with self._catalog_lock:
                reconcile(catalog, self._config, now=self._clock())
        except Exception:
            log.exception("reconcile failed")

    def _require_catalog(self) -> Catalog:
        if self._catalog is None:
            raise RuntimeError("the daemon is not running")
        return self._catalog
