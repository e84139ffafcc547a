"""The daemon: a watchdog observer, a settle queue, scheduled publish and reconcile jobs."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver

from feeds.build import (
    PARALLEL_MIN,
    FileToRead,
    PublishReport,
    Reading,
    apply_config,
    file_to_read,
    forget_path,
    is_ignored,
    open_catalog,
    publish_dirty,
    read_files,
    reconcile,
    store_reading,
    update,
)
from feeds.catalog import Catalog
from feeds.errors import CatalogError, ConfigError, PublishError
from feeds.learned import save_learned
from feeds.lessons import model_in_catalog
from feeds.lists import lists_pending, lists_written, take_lists, write_lists
from feeds.model import Config
from feeds.publish import remove_stale_temp_files
from feeds.teaching import (
    Lesson,
    apply_lesson,
    held_model,
    learn_from_catalog,
    learn_in_worker,
    look_at_examples,
    retag_all,
    tag_pending,
)
from feeds.topics.learning import Learned, load_library
from feeds.urls import served_url, serves_everywhere
from feeds.workers import start_reading_pool, warm_reading_pool
from watcher.learn_timing import LearnTiming
from watcher.lock import hold_state_lock
from watcher.notify import send_notification, watchdog_interval
from watcher.observe import start_observer
from watcher.serve import ServerProcess
from watcher.websub import notify_hub

log = logging.getLogger(__name__)

# After a quiet period, size and mtime are compared once more this much later.
_STAT_RECHECK = 0.05
_IDLE_WAIT = 1.0
# index.html and feeds.opml name every topic; in a busy daemon they are written at most this
# often, and with a large catalogue less often still: they take at most 1/20 of the time.
# Their own job writes them, so a drop's publish never waits for them.
_LISTS_EVERY = 2.0
_LISTS_SHARE = 0.05
_LISTS_JOB = "lists"
# How often (seconds) the daemon checks that its server process lives, to start it again.
_SERVER_CHECK = 1.0
# Files stored in one transaction: a burst goes in batches, so memory stays bounded and
# publishing can run between them.
_BATCH_FILES = 500
_PUBLISH_JOB = "publish"
# In a burst, publishes write the Atom feeds (with archive and entry pages) and leave the
# feeds' RSS, JSON Feed and topic pages until the burst is stored, or this many seconds.
_OTHERS_LAG = 2.0
# Worker processes that read a burst's files stop after this many seconds without a batch.
_POOL_IDLE = 5.0
# The examples are looked at (their key: a query and a hash, no text) this many seconds after
# a batch is stored, at most once in that time.
_LOOK_DELAY = 1.0
# Topics are learned again once the examples have not changed for this many seconds (a burst
# of examples is learned from once, after it; drops that teach nothing never hold it off) ...
_LEARN_SETTLE = 2.0
# ... but no later than this after they were first seen changed (examples that keep coming
# never hold learning off for good).
_LEARN_MAX_WAIT = 10.0
_LEARN_JOB = "learn"
# Settings a running daemon cannot take over; a reload logs that they need a restart.
_RESTART_ONLY = frozenset({"seeds_dir", "public_dir", "state_dir", "host", "port", "polling"})


@dataclass(slots=True)
class _Pending:
    first: float
    due: float
    snapshot: tuple[int, int] | None
    immediate: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class _Batch:
    """Files sent to be read (`readings` None: read when the batch is finished), and every
    path they are at or under: a batch naming one of those waits until this one is stored."""

    todo: list[FileToRead]
    readings: Iterator[Reading] | None
    now: datetime
    paths: frozenset[Path]
    # Some file left the catalogue as the batch was sorted out (it had left `seeds/`).
    removed: bool = False


class SettleQueue:
    """Paths that saw events, each handed out once it has settled.

    A path settles when no event came for `settle` seconds and its size and mtime held still
    between two looks; a path named by a rename is ready at once (the rename was atomic); a
    path still changing after `settle_limit` seconds is handed out anyway, so a file that
    keeps growing is read as it is and again once it settles.
    """

    def __init__(self, settle: float, settle_limit: float) -> None:
        self.settle = settle
        self.settle_limit = settle_limit
        self._lock = threading.Lock()
        self._pending: dict[Path, _Pending] = {}
        self._origins: dict[Path, Path] = {}
        self.wakeup = threading.Event()

    def add(self, path: Path, *, immediate: bool = False, moved_from: Path | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            if moved_from is not None:
                self._origins[path] = moved_from
            earlier = self._pending.get(path)
            first = now if earlier is None else earlier.first
            self._pending[path] = _Pending(
                first=first,
                due=now if immediate else now + self.settle,
                snapshot=None,
                immediate=immediate,
            )
        self.wakeup.set()

    def take_origin(self, path: Path) -> Path | None:
        """The path `path` was last renamed from, if it came by a rename (asked once)."""
        with self._lock:
            return self._origins.pop(path, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def take_due(self, limit: int) -> list[Path]:
        """Up to `limit` paths that have settled, in the order their events came."""
        now = time.monotonic()
        ready: list[Path] = []
        with self._lock:
            for path, pending in list(self._pending.items()):
                if len(ready) >= limit:
                    break
                if pending.due > now:
                    if now - pending.first < self.settle_limit:
                        continue
                elif not pending.immediate:
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
            return min(
                (min(p.due, p.first + self.settle_limit) for p in self._pending.values()),
                default=None,
            )


def _size_and_mtime(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


_SETTLING_EVENTS = (
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileAttribEvent,
    FileDeletedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
)


def _is_folder(path: Path) -> bool:
    """A folder itself, not a link to one (one look: lstat)."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


class _SeedsHandler(FileSystemEventHandler):
    """Records the paths that events name; the worker does the work."""

    def __init__(self, queue: SettleQueue, seeds_dir: Path, ignore: tuple[str, ...]) -> None:
        self._queue = queue
        self._seeds_dir = seeds_dir
        self._ignore = ignore

    def on_any_event(self, event: FileSystemEvent) -> None:
        log.debug(
            "watch event type=%s path=%s dest=%s", event.event_type, event.src_path, event.dest_path
        )
        # A path that appears by rename is complete: it is read at once. A path that goes away
        # waits `settle` like a write: editors save by renaming the file aside and writing it
        # anew, and the story must be edited in place, not deleted and added back.
        # A rename inside seeds/ is handled whole and at once: the old name goes, then the new
        # one comes, taking over the stories (and ids) the old one held.
        if isinstance(event, FileMovedEvent | DirMovedEvent):
            src = Path(os.fsdecode(event.src_path)) if event.src_path else None
            dest = Path(os.fsdecode(event.dest_path)) if event.dest_path else None
            kept = dest is not None and self._watched(dest)
            if src is not None:
                self._queue.add(src, immediate=kept)
            if dest is not None:
                self._queue.add(dest, immediate=True, moved_from=src)
        elif isinstance(event, _SETTLING_EVENTS):
            self._queue.add(Path(os.fsdecode(event.src_path)))

    def _watched(self, path: Path) -> bool:
        """A path seedfeed reads: under `seeds/` and not an ignored (temporary) name."""
        try:
            rel_path = path.relative_to(self._seeds_dir)
        except ValueError:
            return False
        return not is_ignored(rel_path, self._ignore)


class _OverflowAlarm(logging.Handler):
    """Turns watchdog's 'queue overflowed' warning into a reconcile: events were lost."""

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        super().__init__(level=logging.WARNING)
        self._on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self._on_overflow()


_OVERFLOW_LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify")


def _check_site_url(config: Config) -> None:
    """Say once, at start, when the links in public/ name another address than the one served:
    a `base_url` set for a proxy in front, or an address that serves every interface (links
    then name `localhost`)."""
    served = served_url(config.host, config.port)
    if config.base_url is not None and config.base_url != served:
        log.info(
            "links name base_url, which differs from the address served base_url=%s served=%s",
            config.base_url,
            served,
        )
    elif config.base_url is None and serves_everywhere(config.host):
        log.warning(
            "serving on every interface while links name localhost; set [site] base_url to "
            "the address readers use url=%s",
            served,
        )


class Daemon:
    """`seedfeed run`: keeps `public/` in step with `seeds/` until told to stop."""

    def __init__(
        self,
        config: Config,
        *,
        serve: bool,
        reload_config: Callable[[], Config] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._config = config
        self._serve = serve
        self._reload_config = reload_config
        self._clock = clock or (lambda: datetime.now(UTC))
        self._queue = SettleQueue(config.settle, config.settle_limit)
        self._stop = threading.Event()
        self._reload_wanted = threading.Event()
        self._reconcile_wanted = threading.Event()
        self._catalog_lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._lists_due = 0.0
        # Set when files are stored: a publish running then publishes again once it is done.
        self._publish_wanted = threading.Event()
        # Set while a burst is stored (see _OTHERS_LAG), and when other formats were last out.
        self._bursting = threading.Event()
        self._others_published = 0.0
        self._pool: ProcessPoolExecutor | None = None
        self._pool_used = 0.0
        # Held to start or stop the worker processes, and by a publish that uses them.
        self._pool_lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None
        # The model that tags drops (topics taught by example); replaced whole when the
        # background job has learned a new one.
        self._learned: Learned | None = None
        # While a lesson is learned: the entries tagged meanwhile with the model before it.
        self._tagged_meanwhile: list[str] | None = None
        self._learn_wanted = threading.Event()
        # When the next look at the examples is due (None: none is scheduled), under its lock.
        self._look_due: float | None = None
        # When the first batch since the last look was stored (monotonic; None: none was).
        self._look_asked: float | None = None
        self._look_lock = threading.Lock()
        # The learning job's own: when changed examples are to be learned from.
        self._timing = LearnTiming(settle=_LEARN_SETTLE, max_wait=_LEARN_MAX_WAIT)
        # The process that learns, started (importing scikit-learn) while the examples settle.
        self._learn_pool: ProcessPoolExecutor | None = None

    # -- control, safe from signal handlers and other threads --------------------------------

    def stop(self) -> None:
        """Stop taking events, finish the file in hand, publish, and return from `run`."""
        self._stop.set()
        self._queue.wakeup.set()

    def request_reload(self) -> None:
        """Read the configuration again (SIGHUP), between two files."""
        self._reload_wanted.set()
        self._queue.wakeup.set()

    def request_reconcile(self) -> None:
        """Rescan `seeds/` soon: events were lost."""
        self._reconcile_wanted.set()
        self._queue.wakeup.set()

    # -- running -----------------------------------------------------------------------------

    def run(self) -> None:
        config = self._config
        config.seeds_dir.mkdir(parents=True, exist_ok=True)
        with hold_state_lock(config.state_dir):
            self._catalog = open_catalog(config)
            try:
                self._run(self._catalog)
            finally:
                self._catalog.close()
                self._catalog = None

    def _run(self, catalog: Catalog) -> None:
        config = self._config
        remove_stale_temp_files(config.public_dir)
        alarm = _OverflowAlarm(self.request_reconcile)
        for name in _OVERFLOW_LOGGERS:
            logging.getLogger(name).addHandler(alarm)
        server = ServerProcess(config.public_dir, config.host, config.port) if self._serve else None
        if server is not None:
            _check_site_url(config)
        observer = self._start_observer()
        scheduler = BackgroundScheduler(timezone=UTC)
        self._scheduler = scheduler
        # The model kept in the state folder, read once: it tags the drops until the learning
        # job has learned a new one.
        held = held_model(config)
        self._learned = held.learned
        try:
            try:
                with self._catalog_lock:
                    report = update(catalog, config, now=self._clock(), lists=False, held=held)
                self._announce(report)
                # Written as the lists job writes them, so its next turn waits its share of
                # time rather than coming with the first drops.
                self._publish_lists(catalog)
            except PublishError as e:
                # public/ full or unwritable: seeds/ is reconciled, and what is unwritten stays
                # dirty for the publish job, which writes it once it can.
                log.error("publish failed, retrying while watching: %s", e)
            # What start-up left alive (modules, settings, caches) stays for good: out of the
            # garbage collector's sight, its full collections no longer walk it each time.
            gc.collect()
            gc.freeze()
            self._schedule(scheduler)
            scheduler.start()
            self._learn_soon(delay=0)
            if (os.cpu_count() or 1) > 1:
                warm_reading_pool(places=config.auto_topics)
            if server is not None:
                config.public_dir.mkdir(parents=True, exist_ok=True)
                server.start()
                scheduler.add_job(
                    server.keep_serving,
                    "interval",
                    seconds=_SERVER_CHECK,
                    id="serve",
                    max_instances=1,
                    coalesce=True,
                )
            log.info("watching seeds=%s public=%s", config.seeds_dir, config.public_dir)
            send_notification("READY=1\nSTATUS=watching " + str(config.seeds_dir))
            self._work()
        finally:
            send_notification("STOPPING=1")
            observer.stop()
            if scheduler.running:
                scheduler.shutdown(wait=True)
            self._process(self._queue.take_due(_BATCH_FILES))
            self._stop_reading_pool()
            self._end_learning_pool()
            self._publish()
            if server is not None:
                server.stop()
            observer.join(timeout=5)
            for name in _OVERFLOW_LOGGERS:
                logging.getLogger(name).removeHandler(alarm)
            log.info("stopped")

    def _start_observer(self) -> BaseObserver:
        handler = _SeedsHandler(self._queue, self._config.seeds_dir, self._config.ignore)
        return start_observer(
            handler,
            self._config.seeds_dir,
            polling=self._config.polling,
            events=[FileMovedEvent, DirMovedEvent, *_SETTLING_EVENTS],
        )

    def _schedule(self, scheduler: BackgroundScheduler) -> None:
        config = self._config
        scheduler.add_job(
            self._publish_feeds,
            "interval",
            seconds=config.publish_every,
            id=_PUBLISH_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(config.publish_every * 10)),
        )
        scheduler.add_job(
            self._write_lists_if_due,
            "interval",
            seconds=min(config.publish_every, _LISTS_EVERY) or _LISTS_EVERY,
            id=_LISTS_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(_LISTS_EVERY * 10)),
        )
        scheduler.add_job(
            self.request_reconcile,
            "interval",
            seconds=config.reconcile_every,
            id="reconcile",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(config.reconcile_every)),
        )
        interval = watchdog_interval()
        if interval is not None:
            scheduler.add_job(
                send_notification,
                "interval",
                args=["WATCHDOG=1"],
                seconds=interval,
                id="watchdog",
                max_instances=1,
                coalesce=True,
            )

    def _work(self) -> None:
        while not self._stop.is_set():
            if self._reload_wanted.is_set():
                self._reload_wanted.clear()
                self._reload()
            if self._reconcile_wanted.is_set():
                self._reconcile_wanted.clear()
                self._reconcile()
            self._process(self._queue.take_due(_BATCH_FILES))
            self._stop_reading_pool(idle_only=True)
            next_due = self._queue.next_due()
            wait = _IDLE_WAIT if next_due is None else next_due - time.monotonic()
            self._queue.wakeup.wait(timeout=min(max(wait, 0.005), _IDLE_WAIT))
            self._queue.wakeup.clear()

    def _process(self, paths: list[Path]) -> None:
        """Bring the files at `paths`, and the files due after them, into the catalogue.

        Which files to read is decided under the lock; they are read outside it (by worker
        processes when there are many, as in a burst), and what they gave is stored in one
        transaction. While one batch is read, the next is sorted out and sent to be read too,
        unless it names a file of the batch in hand: that one is stored first.
        """
        batch = self._begin(paths)
        while batch is not None:
            if len(batch.todo) >= PARALLEL_MIN:
                self._bursting.set()
            more = [] if self._stop.is_set() else self._queue.take_due(_BATCH_FILES)
            if not more or not batch.paths.isdisjoint(more):
                self._finish(batch)
                batch = self._begin(more)
                continue
            upcoming = self._begin(more)
            self._finish(batch)
            batch = upcoming
        if self._bursting.is_set():
            # Stored: what the burst's publishes left comes out now.
            self._bursting.clear()
            self._publish_soon()

    def _begin(self, paths: list[Path]) -> _Batch | None:
        """Decide which files of `paths` to read, and send them to the worker processes when
        there are enough of them (else they are read when the batch is finished)."""
        if not paths:
            return None
        catalog = self._require_catalog()
        config = self._config
        now = self._clock()
        todo: list[FileToRead] = []
        removed = False
        with self._storing(catalog):
            # A folder renamed in names its files, and so may their own events: each once.
            changed: dict[Path, Path | None] = {}
            for rel_path, moved_from in self._changed_paths(catalog, paths):
                changed[rel_path] = changed.get(rel_path) or moved_from
            for rel_path, moved_from in changed.items():
                try:
                    file = file_to_read(catalog, config, rel_path, now=now, moved_from=moved_from)
                except Exception:
                    log.exception("file failed path=%s", rel_path)
                    continue
                if file is not None:
                    todo.append(file)
                elif not os.path.lexists(config.seeds_dir / rel_path):
                    removed = True  # forgotten by file_to_read
        named = set(paths)
        for file in todo:
            named.add(config.seeds_dir / file.rel_path)
            named.update(config.seeds_dir / folder for folder in file.rel_path.parents)
        readings = None
        pool = self._reading_pool(len(todo))
        if pool is not None:
            try:
                readings = read_files(config, todo, now=now, pool=pool)
            except Exception:
                log.exception("worker processes failed, reading here files=%d", len(todo))
                self._stop_reading_pool(broken=True)
        return _Batch(
            todo=todo, readings=readings, now=now, paths=frozenset(named), removed=removed
        )

    def _finish(self, batch: _Batch) -> None:
        """Store what reading the files of `batch` gave, in one transaction.

        Each file ingested is logged; in a burst (a batch of `PARALLEL_MIN` files or more) at
        debug level, with one line per batch: a line per file cost 0.2 s of a 2.7 s burst of
        5,000, in the interpreter lock the files are stored under."""
        catalog = self._require_catalog()
        readings = self._collect(batch)
        burst = len(batch.todo) >= PARALLEL_MIN
        ingested = 0
        try:
            with self._storing(catalog):
                for file, reading in zip(batch.todo, readings, strict=True):
                    if reading is None:
                        continue
                    try:
                        level = logging.DEBUG if burst else logging.INFO
                        ingested += store_reading(
                            catalog, file, reading, now=batch.now, level=level
                        )
                    except CatalogError:
                        raise
                    except Exception:
                        log.exception("file failed path=%s", file.rel_path)
                self._tag_learned(catalog)
        except CatalogError as e:
            # The state folder full, say: none of the batch is recorded, and the periodic
            # reconcile reads its files again.
            log.error("batch not stored files=%d: %s", len(batch.todo), e)
            return
        if burst:
            log.info("batch stored files=%d ingested=%d", len(batch.todo), ingested)
        self._publish_soon()
        if ingested or batch.removed:  # an example may have gone: its topic is learned again
            self._learn_soon()

    def _collect(self, batch: _Batch) -> list[Reading | None]:
        """The readings of `batch`'s files, reading them here if the worker processes did not;
        a file whose reading fails is logged with its traceback and left out (None)."""
        if batch.readings is not None:
            try:
                return list(batch.readings)
            except Exception:
                log.exception("worker processes failed, reading here files=%d", len(batch.todo))
                self._stop_reading_pool(broken=True)
        readings: list[Reading | None] = []
        for file in batch.todo:
            try:
                readings.extend(read_files(self._config, [file], now=batch.now))
            except Exception:
                log.exception("file failed path=%s", file.rel_path)
                readings.append(None)
        return readings

    @contextmanager
    def _storing(self, catalog: Catalog) -> Iterator[None]:
        """The catalogue's lock and a transaction."""
        with self._catalog_lock, catalog.transaction():
            yield

    def _changed_paths(
        self, catalog: Catalog, paths: list[Path]
    ) -> Iterator[tuple[Path, Path | None]]:
        """The files (relative to `seeds/`) that `paths` name, each with the path it was
        renamed from, if known: a folder stands for the files under it."""
        seeds = self._config.seeds_dir
        ignore = self._config.ignore
        for path in paths:
            if self._stop.is_set() and path != paths[0]:
                self._queue.add(path, immediate=True)
                continue
            try:
                rel_path = path.relative_to(seeds)
            except ValueError:
                continue
            if rel_path == Path() or is_ignored(rel_path, ignore):
                continue
            origin = self._queue.take_origin(path)
            if not _is_folder(path):
                moved_from = None
                if origin is not None and origin.is_relative_to(seeds):
                    moved_from = origin.relative_to(seeds)
                yield rel_path, moved_from
                continue
            try:
                if catalog.file_record(rel_path) is not None:
                    forget_path(catalog, rel_path)
                children = sorted(path.rglob("*"))
            except Exception:
                log.exception("folder failed path=%s", rel_path)
                continue
            for child in children:
                child_rel = child.relative_to(seeds)
                if (child.is_file() or child.is_symlink()) and not is_ignored(child_rel, ignore):
                    yield child_rel, None

    def _reading_pool(self, files: int) -> ProcessPoolExecutor | None:
        """Worker processes for a batch of `files`: started for the first batch big enough to
        be worth them, kept while batches come, stopped after `_POOL_IDLE` seconds without."""
        workers = os.cpu_count() or 1
        if files < PARALLEL_MIN or workers < 2:
            return None
        pool = self._pool
        if pool is None:
            # Started (or stopped) only while no publish uses them.
            with self._pool_lock:
                if self._pool is None:
                    log.info("reading files in worker processes workers=%d", workers)
                    self._pool = start_reading_pool(workers, places=self._config.auto_topics)
                pool = self._pool
        self._pool_used = time.monotonic()
        return pool

    @contextmanager
    def _lending_pool(self) -> Iterator[ProcessPoolExecutor | None]:
        """The worker processes if they run, kept running until the block ends."""
        self._pool_lock.acquire()
        pool = self._pool
        if pool is None:
            self._pool_lock.release()
            yield None
            return
        try:
            yield pool
        finally:
            self._pool_lock.release()

    def _stop_reading_pool(self, *, idle_only: bool = False, broken: bool = False) -> None:
        """Stop the worker processes; with `idle_only`, only if no batch came for
        `_POOL_IDLE` seconds and no publish uses them (the next look stops them then).

        `broken`: a worker died. One killed while it held the lock of the pool's queue of
        work leaves the others waiting for that lock forever, and a worker started for a
        task sent as the pool broke may never be told to stop: stopping the pool would wait
        for them for good, so they are killed first (no other thread uses the pool now)."""
        if not self._pool_lock.acquire(blocking=not idle_only):
            return
        try:
            if self._pool is None:
                return
            if idle_only and time.monotonic() - self._pool_used < _POOL_IDLE:
                return
            if broken:
                for worker in multiprocessing.active_children():
                    worker.kill()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        finally:
            self._pool_lock.release()

    def _publish_soon(self) -> None:
        """Run the publish job now rather than at its next tick: a drop reaches the feeds at
        once. The job runs one at a time: if it is running (files are stored while it
        publishes), it publishes again as soon as it is done, rather than at its next tick."""
        self._publish_wanted.set()
        scheduler = self._scheduler
        if scheduler is not None and scheduler.running:
            scheduler.modify_job(_PUBLISH_JOB, next_run_time=datetime.now(UTC))

    def _publish_feeds(self) -> None:
        """The publish job, again while files were stored as it ran."""
        while True:
            self._publish_wanted.clear()
            self._publish(lists=False)
            if not self._publish_wanted.is_set() or self._stop.is_set():
                return

    def _write_lists_if_due(self) -> None:
        if time.monotonic() >= self._lists_due:
            try:
                self._publish_lists(self._require_catalog())
            except PublishError as e:
                log.error("writing index.html and feeds.opml failed: %s", e)
            except Exception:
                log.exception("writing index.html and feeds.opml failed")

    def _publish(self, *, lists: bool = True) -> None:
        """Publish what is dirty, then (with `lists`) index.html and feeds.opml."""
        catalog = self._require_catalog()
        config = self._config
        try:
            # The catalogue's lock is held only to create topics and clear what is written:
            # files are stored while it publishes. While a burst keeps worker processes, they
            # render and write the documents too.
            started = time.monotonic()
            # In a burst, every publish would render each feed's RSS, JSON Feed and page again
            # while the workers are needed to read files: those wait for its end (or a while).
            others = not self._bursting.is_set() or started >= self._others_published + _OTHERS_LAG
            with self._lending_pool() as pool:
                report = publish_dirty(
                    catalog,
                    config,
                    now=self._clock(),
                    lists=False,
                    pool=pool,
                    lock=self._catalog_lock,
                    others=others,
                )
            if others:
                self._others_published = started
            self._announce(report)
            if lists:
                self._publish_lists(catalog)
        except BrokenProcessPool:
            log.exception("publish failed: a worker process died; the next runs without them")
            self._stop_reading_pool(broken=True)
        except PublishError as e:
            log.error("publish failed: %s", e)
        except Exception:
            log.exception("publish failed")

    def _publish_lists(self, catalog: Catalog) -> None:
        """index.html and feeds.opml name every topic: streamed from a read-only connection's
        snapshot, outside the lock, so files are stored meanwhile."""
        started = time.monotonic()
        config = self._config
        with self._catalog_lock:
            if not lists_pending(catalog):
                return
            lists = take_lists(catalog, config, now=self._clock())
        reader = Catalog.open_reader(config.state_dir, page_size=catalog.page_size)
        try:
            write_lists(reader, lists, config, give_way=self._wait_for_storing)
        finally:
            reader.close()
        with self._catalog_lock:
            lists_written(catalog, lists)
        ended = time.monotonic()
        self._lists_due = ended + max(_LISTS_EVERY, (ended - started) / _LISTS_SHARE)

    def _wait_for_storing(self) -> None:
        """Wait while files are stored or published: the lock is held for both."""
        with self._catalog_lock:
            pass

    def _announce(self, report: PublishReport) -> None:
        """Tell the WebSub hub, if one is configured, which subscription feeds changed."""
        if self._config.hub_url and report.changed_feeds:
            notify_hub(self._config.hub_url, report.changed_feeds)

    def _reconcile(self) -> None:
        catalog = self._require_catalog()
        try:
            with self._catalog_lock:
                report = reconcile(catalog, self._config, now=self._clock())
                self._tag_learned(catalog)
        except Exception:
            log.exception("reconcile failed")
            return
        if report.ingested or report.removed:
            self._learn_soon()

    # -- topics taught by example ------------------------------------------------------------

    def _learn_in_worker(self, config: Config) -> Lesson | None:
        """Learn in a worker process of its own (the one started while the examples settled,
        if any); None if the daemon stops meanwhile (the worker is killed: stopping never
        waits for learning)."""
        pool = self._learning_pool()
        try:
            future = pool.submit(learn_in_worker, config)
            while not self._stop.wait(0.1):
                if future.done():
                    return future.result()
            for process in list(pool._processes.values()):
                process.kill()
            return None
        finally:
            self._end_learning_pool()

    def _learning_pool(self) -> ProcessPoolExecutor:
        """The learning job's worker process, started now if it is not yet, importing what
        learning uses at once (a second or two of scikit-learn)."""
        if self._learn_pool is None:
            self._learn_pool = start_reading_pool(1)
            self._learn_pool.submit(load_library)
        return self._learn_pool

    def _end_learning_pool(self) -> None:
        pool, self._learn_pool = self._learn_pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _tag_learned(self, catalog: Catalog) -> None:
        """Under the lock: give the entries just stored their learned topics with the model
        in hand (a failure leaves them waiting, for the next batch or start)."""
        try:
            tag_pending(catalog, self._learned, tagged=self._tagged_meanwhile)
        except Exception:
            log.exception("tagging learned topics failed")

    def _learn_soon(self, *, delay: float = _LOOK_DELAY) -> None:
        """Look at the examples `delay` seconds from now, or when a look already asked for is
        due if that is sooner."""
        self._learn_wanted.set()
        scheduler = self._scheduler
        due = time.time() + delay
        with self._look_lock:
            if self._look_asked is None:
                self._look_asked = time.monotonic()
            if scheduler is None or not scheduler.running:
                return
            if self._look_due is not None and self._look_due <= due:
                return
            self._look_due = due
            scheduler.add_job(
                self._learn,
                "date",
                run_date=datetime.fromtimestamp(due, UTC),
                id=_LEARN_JOB,
                replace_existing=True,
                misfire_grace_time=None,
            )

    def _learn(self) -> None:
        """The learning job: when the examples (or the `[learn]` settings) changed and then
        settled, learn again in a process of its own (the daemon's memory and interpreter
        lock stay with the drops), keep the model, tag drops with it from then on, and give
        every stored entry its learned topics under it (only the feeds of entries that change
        are published again). Runs again at once if asked while it ran."""
        catalog = self._require_catalog()
        while self._learn_wanted.is_set() and not self._stop.is_set():
            with self._look_lock:
                self._look_due = None
                asked, self._look_asked = self._look_asked, None
            self._learn_wanted.clear()
            config = self._config
            reader = Catalog.open_reader(config.state_dir, page_size=catalog.page_size)
            try:
                learned = self._learned
                key, taught = look_at_examples(reader, config)
                if learned is None or learned.key != key:
                    now = time.monotonic()
                    wait = self._timing.wait(key, now=now, since=now if asked is None else asked)
                    if wait > 0:  # look again then, the learning process started meanwhile
                        if taught:
                            self._learning_pool()
                        self._learn_wanted.set()
                        self._stop.wait(wait)
                        continue
                    self._timing.reset()
                    with self._catalog_lock:
                        self._tagged_meanwhile = []
                    if taught:
                        lesson = self._learn_in_worker(config)
                        if lesson is None:
                            return
                    else:  # nothing to fit: quick, and no process to start
                        self._end_learning_pool()
                        lesson = learn_from_catalog(reader, config)
                        save_learned(config.state_dir, lesson.learned)
                    with self._catalog_lock:
                        self._learned = lesson.learned
                        meanwhile, self._tagged_meanwhile = self._tagged_meanwhile or [], None
                    changed = apply_lesson(
                        catalog, lesson, lock=self._catalog_lock, tagged_meanwhile=meanwhile
                    )
                else:
                    self._timing.reset()
                    self._end_learning_pool()
                    if model_in_catalog(reader) != learned.key:
                        changed = retag_all(
                            catalog, learned, reader=reader, lock=self._catalog_lock
                        )
                    else:
                        changed = 0
                if changed:
                    self._publish_soon()
            except Exception:
                log.exception("learning topics failed")
            finally:
                self._tagged_meanwhile = None
                reader.close()

    def _reload(self) -> None:
        """Take over a changed seedfeed.toml; a broken one leaves the running one in place."""
        if self._reload_config is None:
            return
        old = self._config
        try:
            new = self._reload_config()
        except ConfigError as e:
            log.error("config reload failed, keeping the running configuration error=%s", e)
            return
        changed = [f.name for f in fields(Config) if getattr(old, f.name) != getattr(new, f.name)]
        frozen = [name for name in changed if name in _RESTART_ONLY]
        if frozen:
            log.warning("config change needs a restart to apply keys=%s", ",".join(frozen))
            new = replace(new, **{name: getattr(old, name) for name in frozen})
        log.info("config reloaded changed=%s", ",".join(changed) or "nothing")
        self._config = new
        self._queue.settle = new.settle
        self._queue.settle_limit = new.settle_limit
        catalog = self._require_catalog()
        try:
            with self._catalog_lock:
                catalog.tune_auto_topics(
                    new.auto_min_entries if new.auto_topics else 0,
                    new.auto_min_share,
                    new.max_auto_topics,
                )
                apply_config(catalog, new)
        except Exception:
            log.exception("config reload failed to apply")
        self._reconcile()
        self._learn_soon(delay=0)

    def _require_catalog(self) -> Catalog:
        if self._catalog is None:
            raise RuntimeError("the daemon is not running")
        return self._catalog
