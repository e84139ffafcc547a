"""Composing the stages: ingest a file, reconcile seeds/ with the catalogue, publish dirty feeds."""

from __future__ import annotations

import array
import fnmatch
import functools
import hashlib
import html
import itertools
import logging
import os
import re
import stat
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, wait
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from feeds.catalog import Catalog, fixed_topics, id_slug
from feeds.errors import RejectedFile
from feeds.interrupted import Interrupted, marked_reading, take_interrupted
from feeds.lists import lists_pending, lists_written, mark_lists_pending, take_lists, write_lists
from feeds.model import (
    AtomPart,
    Config,
    Entry,
    FeedPage,
    FileRecord,
    FileStatus,
    StoredEntry,
    Tombstone,
    Topic,
)
from feeds.pages import render_entry_page, render_topic_page
from feeds.publish import (
    announce_written,
    flush_file_system,
    remove_file,
    write_files_atomically,
)
from feeds.render import (
    RENDERER,
    SUBSCRIPTION,
    assemble_atom,
    atom_entries_xml,
    feed_id,
    render_atom,
    render_json_feed,
    render_rss,
)
from feeds.topics import NAMES_VERSION, assign_topics

if TYPE_CHECKING:
    from feeds.teaching import Held
from feeds.urls import (
    ALL_SLUG,
    ENTRY_PAGES_DIR,
    REJECTED_SLUG,
    archive_path,
    entry_page_path,
    feed_path,
    site_url,
    topic_page_path,
)
from feeds.workers import reading_pool

log = logging.getLogger(__name__)

REJECTED_TITLE = "Rejected files"
_BATCH = 500
# Files read here rather than in worker processes when fewer than this.
PARALLEL_MIN = 64
_CHUNKS_PER_BATCH = 8
# Documents rendered before they are written, so memory stays flat at any size: 400 entry
# pages of a few KB, 12 archive pages of up to ~200 KB, 8 feeds with their formats and pages
# (each a few MB; each worker process holds one chunk, and its result, at a time).
_ENTRY_PAGE_CHUNK = 400
_ARCHIVE_CHUNK = 12
_FEED_CHUNK = 8
# Chunks sent to worker processes ahead of the one being written.
_RENDERS_IN_FLIGHT = 4
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconcileReport:
    """What one pass over `seeds/` did."""

    seen: int
    ingested: int
    rejected: int
    removed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishReport:
    """What one publish did: documents rendered, how many changed on disk, and the URLs of
    the subscription feeds that changed (for WebSub)."""

    rendered: int
    written: int
    changed_feeds: tuple[str, ...]


# Told of a reconcile's progress: files met so far, files ingested so far, live entries.
Progress = Callable[[int, int, int], None]


def open_catalog(config: Config) -> Catalog:
    """Open the catalogue in the configured state folder, with the configured id authority."""
    return Catalog.open(
        config.state_dir,
        id_authority=config.id_authority,
        auto_min_entries=config.auto_min_entries if config.auto_topics else 0,
        page_size=config.max_entries,
        auto_share=config.auto_min_share,
        auto_max=config.max_auto_topics,
    )


def update(
    catalog: Catalog,
    config: Config,
    *,
    now: datetime,
    workers: int = 1,
    lists: bool = True,
    progress: Progress | None = None,
    held: Held | None = None,
) -> PublishReport:
    """`seedfeed build`, and the daemon's start: settings, then seeds/, then learned topics,
    then public/ (with `lists` false, index.html and feeds.opml are left pending, as
    `publish_dirty` says). `progress` is told of each batch of files reconciled. With `held`
    (the daemon, which learns in the background), its model tags the entries, however old;
    else one is learned now if the examples changed."""
    # Imported here, not at the top: a rebuild with nothing to read or learn needs neither.
    from feeds.teaching import apply_learning

    apply_config(catalog, config)
    with reading_pool(workers, places=config.auto_topics) as pool:
        reconcile(catalog, config, now=now, pool=pool, progress=progress)
        apply_learning(catalog, config, held=held)
        return publish_dirty(catalog, config, now=now, pool=pool, lists=lists)


def apply_config(catalog: Catalog, config: Config) -> None:
    """Bring the catalogue in line with changed settings: re-read, re-tag or re-render.

    Each group of settings leaves a fingerprint in the catalogue, so a change made while
    seedfeed was down is applied at the next start, and only the work it calls for is done.
    """
    reading = _settings_key(
        config.boilerplate,
        config.timezone,
        config.summary_length,
        config.title_case,
        config.max_file_bytes,
    )
    tagging = _settings_key(
        config.taxonomy, config.auto_topics, config.auto_never, config.auto_merge, NAMES_VERSION
    )
    rendering = _settings_key(
        config.site_title,
        site_url(config),
        config.author,
        config.language,
        config.max_entries,
        config.formats,
        config.hub_url,
        config.entry_pages,
        str(config.public_dir.resolve()),
        RENDERER,
    )
    if catalog.setting("reading") not in (None, reading):
        log.info("reading settings changed: every file is read again")
        catalog.forget_file_stats()
    if catalog.setting("tagging") not in (None, tagging):
        log.info("taxonomy changed: entries are tagged again")
        retag(catalog, config)
    if catalog.setting("rendering") not in (None, rendering):
        log.info("site settings or renderer changed: every feed is rendered again")
        catalog.forget_atom_entries()
        catalog.mark_all_dirty()
    elif not (config.public_dir / "feeds" / f"{ALL_SLUG}.atom").is_file():
        log.info("public/ holds no feeds: every feed is rendered again")
        catalog.mark_all_dirty()
    elif catalog.setting(UNSYNCED) is not None:
        log.info("the first publish did not reach its end: every document is written again")
        catalog.mark_all_dirty()
    for key, value in (("reading", reading), ("tagging", tagging), ("rendering", rendering)):
        catalog.save_setting(key, value)


def _settings_key(*values: object) -> str:
    return hashlib.sha256(repr(values).encode("utf-8")).hexdigest()


def retag(catalog: Catalog, config: Config) -> int:
    """Give every stored entry its topics under the current taxonomy; return how many changed."""
    changed = 0
    with catalog.transaction():
        for entry_id, entry, rel_path in list(catalog.tagged_entries()):
            fixed = fixed_topics(entry)
            tagged = assign_topics(
                replace(entry, topics=(), candidates=()),
                rel_path=rel_path or Path(),
                config=config,
            )
            if tagged.topics != fixed or set(tagged.candidates) != set(entry.candidates):
                catalog.retag_entry(entry_id, tagged)
                changed += 1
    log.info("retagged entries=%d", changed)
    return changed


def is_ignored(rel_path: Path, patterns: tuple[str, ...]) -> bool:
    """True when any part of `rel_path` matches an ignore pattern (hidden, temp, editor files)."""
    matches = _ignore_matcher(patterns)
    return any(matches(part) for part in rel_path.parts)


@functools.cache
def _ignore_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """One compiled expression for all the shell patterns (fnmatch rules, case-sensitive)."""
    if not patterns:
        return lambda name: False
    expression = re.compile("|".join(fnmatch.translate(p) for p in patterns))
    return lambda name: expression.match(name) is not None


def scan_seeds(config: Config) -> Iterator[tuple[str, os.stat_result]]:
    """Every file under `seeds/` that is not ignored: its POSIX path relative to it, and its
    lstat. Symlinked folders are not followed (a symlinked file is returned, checked on reading).
    """
    ignored = _ignore_matcher(config.ignore)
    root = str(config.seeds_dir)
    stack = [""]
    while stack:
        folder = stack.pop()
        path = os.path.join(root, folder) if folder else root
        # Names only: a folder of 100k files would hold ~90 MB of DirEntry (~13 MB of
        # (name, kind) pairs).
        files: list[str] = []
        subfolders: list[str] = []
        try:
            with os.scandir(path) as scan:
                for child in scan:
                    if not ignored(child.name):
                        kind = subfolders if child.is_dir(follow_symlinks=False) else files
                        kind.append(child.name)
        except (FileNotFoundError, NotADirectoryError, PermissionError) as e:
            log.warning("folder not scanned path=%s error=%s", folder, e.strerror)
            continue
        prefix = f"{folder}/" if folder else ""
        files.sort()
        for name in files:
            try:
                yield prefix + name, os.lstat(os.path.join(path, name))
            except FileNotFoundError:
                continue
        stack.extend(prefix + name for name in sorted(subfolders, reverse=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class FileToRead:
    """A file that must be read: its path, its lstat, what the catalogue holds for it, and
    the path it was renamed from (when it came by a rename)."""

    rel_path: Path
    info: os.stat_result
    known: FileRecord | None
    moved_from: Path | None = None


def file_to_read(
    catalog: Catalog,
    config: Config,
    rel_path: Path,
    *,
    now: datetime,
    moved_from: Path | None = None,
) -> FileToRead | None:
    """The file at `rel_path` (a path that saw events) if it must be read; None when it is
    gone (it leaves the catalogue here) or unchanged.

    `moved_from` names the path the file was renamed from, when known: its stories keep
    their ids even if the file was edited too.
    """
    try:
        info = (config.seeds_dir / rel_path).lstat()
    except (FileNotFoundError, NotADirectoryError):
        forget_path(catalog, rel_path)
        return None
    known = catalog.file_record(catalog_name(rel_path))
    if not _needs_reading(catalog, rel_path, info, known, now=now):
        return None
    return FileToRead(rel_path=rel_path, info=info, known=known, moved_from=moved_from)


def store_readings(
    catalog: Catalog, todo: Sequence[FileToRead], readings: Iterable[Reading], *, now: datetime
) -> int:
    """Store what reading each file of `todo` gave; return how many changed the catalogue.
    Each file ingested is logged at debug level: a reconcile reports progress per batch."""
    changed = 0
    for file, reading in zip(todo, readings, strict=True):
        if store_reading(catalog, file, reading, now=now, level=logging.DEBUG):
            changed += 1
    return changed


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    """One file to read: where it is, whether it is a symlink, the hash the catalogue has."""

    rel_path: Path
    link: bool
    known_hash: str | None
    size: int
    mtime_ns: int


def _job_for(file: FileToRead) -> _Job:
    return _Job(
        rel_path=file.rel_path,
        link=stat.S_ISLNK(file.info.st_mode),
        known_hash=None if file.known is None else file.known.content_hash,
        size=file.info.st_size,
        mtime_ns=file.info.st_mtime_ns,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """What reading one file gave: its entries, why it cannot be used, or that it is gone."""

    content_hash: str | None = None
    entries: tuple[Entry, ...] = ()
    # `id_slug` of each entry's title: slugifying is done by the reader, not the writer.
    id_slugs: tuple[str, ...] = ()
    reason: str | None = None
    missing: bool = False
    unchanged: bool = False


def _needs_reading(
    catalog: Catalog,
    rel_path: Path,
    info: os.stat_result,
    known: FileRecord | None,
    *,
    now: datetime,
) -> bool:
    """False for a file whose stat shows no change, or whose name the catalogue cannot keep
    (it is recorded as rejected here), or whose reading seedfeed did not live through and
    that has not changed since (a rejected file is otherwise read at every reconcile)."""
    if known is not None and _unchanged(
        (known.size, known.mtime_ns, known.inode, known.stat_trusted), info
    ):
        return False
    if (
        known is not None
        and known.reason == _INTERRUPTED
        and (known.size, known.mtime_ns, known.inode)
        == (info.st_size, info.st_mtime_ns, info.st_ino)
    ):
        return False
    name = catalog_name(rel_path)
    if name != rel_path:
        _reject(
            catalog, name, info, known, "the file name is not valid UTF-8: rename the file", now=now
        )
        return False
    return True


def _read(config: Config, job: _Job, now: datetime) -> Reading:
    """Read, normalize and tag one file. No catalogue: it may run in a worker process."""
    mark = marked_reading(config.state_dir, job.rel_path, size=job.size, mtime_ns=job.mtime_ns)
    try:
        with mark:
            return _read_marked(config, job, now)
    except OSError as e:  # the mark itself could not be written
        return Reading(reason=f"cannot be read: {e.strerror}")


def _read_marked(config: Config, job: _Job, now: datetime) -> Reading:
    # Imported on the first file read (the worker processes' forkserver imports them at its
    # start, `feeds.workers._PRELOAD`), not by a rebuild that reads none.
    from feeds.ingest import read_document
    from feeds.normalize import split_entries

    try:
        if job.link:
            _check_inside_seeds(config.seeds_dir, job.rel_path)
        document = read_document(
            config.seeds_dir, job.rel_path, max_file_bytes=config.max_file_bytes
        )
        if document.content_hash == job.known_hash:
            return Reading(content_hash=document.content_hash, unchanged=True)
        entries = tuple(
            assign_topics(entry, rel_path=job.rel_path, config=config)
            for entry in split_entries(document, config=config, now=now)
        )
    except FileNotFoundError:
        return Reading(missing=True)
    except RejectedFile as rejection:
        return Reading(reason=rejection.reason)
    except OSError as e:
        return Reading(reason=f"cannot be read: {e.strerror}")
    return Reading(
        content_hash=document.content_hash,
        entries=entries,
        id_slugs=tuple(id_slug(entry.title) for entry in entries),
    )


def _read_all(config: Config, jobs: Sequence[_Job], now: datetime) -> list[Reading]:
    return [_read(config, job, now) for job in jobs]


def store_reading(
    catalog: Catalog,
    file: FileToRead,
    reading: Reading,
    *,
    now: datetime,
    level: int = logging.INFO,
) -> bool:
    """Store what reading a file gave, logging an ingested file at `level`. True if the
    catalogue changed."""
    if reading.missing:
        return forget_path(catalog, file.rel_path)
    if reading.reason is not None:
        return _reject(catalog, file.rel_path, file.info, file.known, reading.reason, now=now)
    record = _record_of(file.rel_path, file.info, reading.content_hash)
    if reading.unchanged:
        catalog.touch_file(record, now=now)
        return False
    ids = catalog.store_file(
        record, reading.entries, now=now, moved_from=file.moved_from, id_slugs=reading.id_slugs
    )
    log.log(level, "file ingested path=%s entries=%d", file.rel_path, len(ids))
    return True


def _reject(
    catalog: Catalog,
    rel_path: Path,
    info: os.stat_result,
    known: FileRecord | None,
    reason: str,
    *,
    now: datetime,
) -> bool:
    rejected = replace(_record_of(rel_path, info, None), status=FileStatus.REJECTED, reason=reason)
    if rejected == known:
        log.debug("file still rejected path=%s", rel_path)
        return False
    log.warning("file rejected path=%s reason=%s", rel_path, reason)
    catalog.reject_file(rejected, now=now)
    return True


def catalog_name(rel_path: Path) -> Path:
    """The path the catalogue keeps for a file: itself, or, for a name that is not UTF-8
    (SQLite text must be), a readable form with the stray bytes escaped (`caf\\xe9.txt`)."""
    return Path(_catalog_key(rel_path.as_posix()))


def _catalog_key(rel: str) -> str:
    if rel.isascii():
        return rel
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(rel).decode("utf-8", "backslashreplace")
    return rel


def forget_path(catalog: Catalog, rel_path: Path) -> bool:
    """A path left `seeds/` (a file, or a folder with everything in it)."""
    known = catalog.paths_under(catalog_name(rel_path))
    for path in known:
        catalog.forget_file(path)
        log.info("file removed path=%s", path)
    return bool(known)


def reconcile(
    catalog: Catalog,
    config: Config,
    *,
    now: datetime,
    pool: Executor | None = None,
    progress: Progress | None = None,
) -> ReconcileReport:
    """Bring the catalogue in line with `seeds/`: new, changed and removed files.

    Files are handled in batches of `_BATCH` per transaction: one commit per batch, and a
    crash loses at most the batch in hand (the next reconcile does it again). With a `pool`,
    a batch's files are read and normalized by its processes while this one stores the
    batch before it: it alone writes to the catalogue. `progress`, if given, is called after
    each batch is stored, with the files met and ingested so far and the live entries.
    """
    for interrupted in take_interrupted(config.state_dir):
        with catalog.transaction():
            _reject_interrupted(catalog, config, interrupted, now=now)
    held = catalog.file_count()
    if not held and catalog.is_empty():
        catalog.defer_indexes()  # built once at the end (see `feeds.indexes`)
    # The scan meets the catalogue's files batch by batch, and keeps an 8-byte hash of each
    # path it meets (the paths themselves would take ~25 MB at 100k files).
    met = _Met()
    seen = ingested = 0
    scan = scan_seeds(config)
    # While this process stores one batch, the pool reads the next.
    reading: tuple[list[FileToRead], Iterator[Reading]] | None = None
    # The first batch is small, so this process has files to store while the pool reads on.
    batch_size = PARALLEL_MIN
    while True:
        batch = list(itertools.islice(scan, batch_size))
        batch_size = _BATCH
        seen += len(batch)
        upcoming = None
        if batch:
            with catalog.transaction():
                todo = _select_changed(catalog, batch, met, now=now)
            upcoming = (todo, read_files(config, todo, now=now, pool=pool))
        if reading is not None:
            with catalog.transaction(savepoints=False):
                ingested += store_readings(catalog, *reading, now=now)
            log.info("reconciling seen=%d ingested=%d", seen - len(batch), ingested)
            if progress is not None:
                progress(seen - len(batch), ingested, catalog.topic_count(ALL_SLUG))
        if upcoming is None:
            break
        reading = upcoming
    catalog.build_deferred_indexes()
    # Each file the catalogue held was met once at most: if all were, none has left.
    gone = [] if met.known == held else [p for p in catalog.file_paths() if p not in met]
    with catalog.transaction():
        for rel in gone:
            catalog.forget_file(Path(rel))
            log.info("file removed path=%s", rel)
    rejected = catalog.counts().rejected
    log.info(
        "reconciled seen=%d ingested=%d removed=%d rejected=%d",
        seen,
        ingested,
        len(gone),
        rejected,
    )
    return ReconcileReport(seen=seen, ingested=ingested, rejected=rejected, removed=len(gone))


def _reject_interrupted(
    catalog: Catalog, config: Config, interrupted: Interrupted, *, now: datetime
) -> None:
    """Reject a file whose reading a process did not live through, if it is still the same
    file (an edited one is read again) and was not read since (by the daemon itself, after
    a worker process died)."""
    try:
        info = (config.seeds_dir / interrupted.rel_path).lstat()
    except (FileNotFoundError, NotADirectoryError):
        return
    if (info.st_size, info.st_mtime_ns) != (interrupted.size, interrupted.mtime_ns):
        return
    known = catalog.file_record(catalog_name(interrupted.rel_path))
    if (
        known is not None
        and known.status is FileStatus.OK
        and (known.size, known.mtime_ns) == (info.st_size, info.st_mtime_ns)
    ):
        return
    _reject(catalog, catalog_name(interrupted.rel_path), info, known, _INTERRUPTED, now=now)


_INTERRUPTED = "seedfeed stopped while reading it (out of memory?): not read again until it changes"


class _Met:
    """The catalogue's paths a scan has met so far: how many the catalogue knew, and a hash of
    every path met. A path is only ever taken for met when another's 64-bit hash is the same
    (about one chance in 10^14 for each file gone, among 100k files); the next process's
    reconcile, with other hashes, still finds it gone."""

    def __init__(self) -> None:
        self.known = 0
        self._hashes = array.array("q")
        self._lookup: frozenset[int] | None = None

    def add(self, rel_path: str, *, known: bool) -> None:
        self._hashes.append(hash(rel_path))
        self.known += known

    def __contains__(self, rel_path: str) -> bool:
        if self._lookup is None:
            self._lookup = frozenset(self._hashes)
        return hash(rel_path) in self._lookup


def _select_changed(
    catalog: Catalog,
    batch: list[tuple[str, os.stat_result]],
    met: _Met,
    *,
    now: datetime,
) -> list[FileToRead]:
    """The files of `batch` that must be read: new, or changed since the catalogue saw them.
    Each is added to `met`."""
    keys = [_catalog_key(rel) for rel, _ in batch]
    known = catalog.file_stats(keys)
    todo: list[FileToRead] = []
    for key, (rel, info) in zip(keys, batch, strict=True):
        stats = known.pop(key, None)
        met.add(key, known=stats is not None)
        # `_needs_reading` without a FileRecord, for the many files that did not change.
        if _unchanged(stats, info):
            continue
        rel_path = Path(rel)
        # `known` holds every file of the batch the catalogue has: one it lacks has no record.
        record = None if stats is None else catalog.file_record(Path(key))
        if _needs_reading(catalog, rel_path, info, record, now=now):
            todo.append(FileToRead(rel_path=rel_path, info=info, known=record))
    return todo


def read_files(
    config: Config,
    todo: Sequence[FileToRead],
    *,
    now: datetime,
    pool: Executor | None = None,
) -> Iterator[Reading]:
    """Read, normalize and tag the files of `todo`: spread over the pool's processes when
    there are enough of them (they start at once, and the readings come in order as they
    are iterated), else here."""
    jobs = [_job_for(file) for file in todo]
    if pool is None or len(jobs) < PARALLEL_MIN:
        return iter(_read_all(config, jobs, now))
    size = max(1, len(jobs) // _CHUNKS_PER_BATCH)
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    parts = pool.map(_read_all, [config] * len(chunks), chunks, [now] * len(chunks))
    return itertools.chain.from_iterable(parts)


def publish_dirty(
    catalog: Catalog,
    config: Config,
    *,
    now: datetime,
    lists: bool = True,
    pool: Executor | None = None,
    lock: threading.Lock | None = None,
    others: bool = True,
) -> PublishReport:
    """Render and write what changed, then clear its dirt: archive and entry pages, then the
    feeds in every format with their topic pages, then index.html and feeds.opml.

    Work goes in chunks of a few MB of documents, so memory stays flat on a cold build of any
    size; each chunk is written atomically, and dirt is cleared only after what it needs is
    written (a crash or a failed write redoes it at the next publish).
    With `lock` (the daemon's: the lock files are stored under), what is dirty is read, and
    documents are rendered, from a read-only connection of the publish's own (or the pool's
    connections) while files are stored; `catalog` is used only under the lock, briefly: to
    create a topic, and to clear what is written (when the lock is free, else at the end).
    Dirt marked after it was read stays for the next publish (see
    `Catalog.dirt_generation`). Every Atom feed then goes before the other formats and the
    topic pages (most readers poll the Atom feeds); with `others` false (the daemon, in a
    burst) those are left for a later publish, in `dirty_others`.
    With `lists` false, index.html and feeds.opml (which name every topic, so their cost grows
    with the catalogue) are only marked as pending: the daemon writes them apart, with
    `take_lists` and `write_lists`, so a drop reaches the feeds in time independent of the
    catalogue's size.
    """
    reader = None
    if lock is not None:
        reader = Catalog.open_reader(catalog.path.parent, page_size=catalog.page_size)
    first = lock is None and _first_publish(catalog, config)
    work = _Publishing(
        catalog=catalog,
        source=reader or catalog,
        lock=lock,
        config=config,
        now=now,
        pool=pool,
        others=others,
        durable=not first,
    )
    tally = _Tally(config)
    try:
        if work.source.has_dirty():
            try:
                _publish_changes(work, tally)
            finally:
                with work.holding():
                    work.clear_written()
                    mark_lists_pending(catalog)
    finally:
        if reader is not None:
            reader.close()
    if lists and lists_pending(catalog):
        taken = take_lists(catalog, config, now=now)
        tally.count(2, [path for path, _ in write_lists(catalog, taken, config)])
        lists_written(catalog, taken)
    if first:
        flush_file_system(config.public_dir)
        catalog.forget_setting(UNSYNCED)
    return tally.report()


# A setting present while a first publish is under way: its documents are written without an
# fsync each, and are durable only once it ends.
UNSYNCED = "first_publish_unsynced"


def _first_publish(catalog: Catalog, config: Config) -> bool:
    """Whether this publish is a first one: public/ holds no feeds yet (nobody has read any),
    or a first publish before it did not reach its end. Its documents are written without an
    fsync each (10k entry pages: one fsync and a folder fsync each) and made durable at once
    at its end. It is recorded in the catalogue before any document is written, so after a
    crash (`kill -9`, or the power) the next run knows the documents may not all be whole, and
    writes every one again (`apply_config`); the record goes only once all are durable.
    (SQLite's log keeps commits in order: the dirt a publish clears never outlives the record.)
    """
    if catalog.setting(UNSYNCED) is not None:
        return True
    if (config.public_dir / "feeds" / f"{ALL_SLUG}.atom").exists():
        return False
    catalog.save_setting(UNSYNCED, "1")
    return True


@dataclass(slots=True, kw_only=True)
class _Publishing:
    """One publish: the catalogue's writer (used under `lock`), the catalogue documents are
    rendered from, the topics met so far, and the dirt of what is written, still to clear."""

    catalog: Catalog
    source: Catalog
    lock: threading.Lock | None
    config: Config
    now: datetime
    pool: Executor | None
    others: bool = True
    # False in a first publish (see `_first_publish`): no fsync per document.
    durable: bool = True
    topics: dict[str, Topic | None] = field(default_factory=dict)
    upto: int = 0
    pages: list[tuple[str, int]] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)
    every_entry: bool = False
    atom_feeds: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    entry_xml: list[tuple[str, int, bytes]] = field(default_factory=list)

    def holding(self) -> AbstractContextManager[object]:
        return nullcontext() if self.lock is None else self.lock

    def topic_of(self, slug: str) -> Topic | None:
        """The topic of feed `slug`, created (under the lock) on its first publish; None if
        it has no entries."""
        if slug not in self.topics:
            titles = {ALL_SLUG: self.config.site_title, REJECTED_SLUG: REJECTED_TITLE}
            title = titles.get(slug)
            topic = self.source.settled_topic(slug, title=title)
            if topic is None:
                with self.holding():
                    topic = self.catalog.topic(slug, title=title, now=self.now)
            self.topics[slug] = topic
        return self.topics[slug]

    def topics_of(self, slugs: Sequence[str]) -> list[Topic]:
        return [topic for slug in slugs if (topic := self.topic_of(slug)) is not None]

    def published(
        self, render: Callable[..., dict[Path, bytes]], job_chunks: Iterable[Sequence[object]]
    ) -> Iterator[_Written]:
        """See `_published`; the chunks are taken as they are needed (a chunk's topics are
        looked up while the pool renders the chunks before it)."""
        return _published(
            self.pool,
            self.source,
            self.config,
            render,
            job_chunks,
            now=self.now,
            durable=self.durable,
        )

    def clear_when_free(self) -> None:
        """Clear the dirt of what is written so far if the lock is free; else it waits, so a
        publish never waits for a batch of files being stored."""
        if self.lock is None:
            self.clear_written()
        elif self.lock.acquire(blocking=False):
            try:
                self.clear_written()
            finally:
                self.lock.release()

    def clear_written(self) -> None:
        """Under the lock: clear the dirt of the documents written so far, as it stood when
        it was read (`upto`), and keep the Atom XML of the entries they rendered."""
        catalog, upto = self.catalog, self.upto
        with catalog.transaction():
            catalog.keep_atom_entries(self.entry_xml)
            catalog.clear_dirty_pages(self.pages, upto=upto)
            if self.every_entry:
                catalog.clear_all_dirty_entries(upto=upto)
            catalog.clear_dirty_entries(self.entries, upto=upto)
            # Atom first: a feed whose other documents are written too leaves both tables.
            catalog.atom_feeds_written(self.atom_feeds, upto=upto)
            catalog.clear_dirty(self.feeds, upto=upto)
        self.pages, self.entries, self.atom_feeds, self.feeds = [], [], [], []
        self.entry_xml = []
        self.every_entry = False


def _publish_changes(work: _Publishing, tally: _Tally) -> None:
    """Publish every dirty document. With a `pool`, archive pages and feeds are rendered by
    its processes, and written there."""
    source, config = work.source, work.config
    with source.snapshot():
        work.upto = source.dirt_generation()
        dirty_pages = source.dirty_pages()
        dirty_slugs = source.dirty_slugs()
        # Feeds whose Atom document a publish wrote before it ended (it failed, or seedfeed
        # stopped): their other documents are still to write.
        others = sorted(set(source.dirty_other_slugs()) | set(dirty_slugs))
    # `seedfeed build` renders each feed's documents together, from one read. The daemon
    # writes every Atom feed first (most readers poll them), then the other formats and the
    # topic pages (unless told to leave them); a feed whose Atom is out waits in dirty_others
    # meanwhile.
    if work.lock is None:
        feed_passes = [(others, _feed_documents, True)]
    else:
        feed_passes = [(dirty_slugs, _atom_only, False)]
        if work.others:
            feed_passes.append((others, _other_formats, True))
    # Feeds link to archive and entry pages, so those are written first, and pages of deleted
    # entries are removed only once no feed links to them.
    page_chunks = list(_chunks(dirty_pages, _ARCHIVE_CHUNK))
    archive_jobs = (
        [(topic, number) for slug, number in chunk if (topic := work.topic_of(slug)) is not None]
        for chunk in page_chunks
    )
    archives = work.published(_archive_documents, archive_jobs)
    for page_chunk, chunk_written in zip(page_chunks, archives, strict=True):
        tally.add(chunk_written)
        work.entry_xml += chunk_written.entry_xml
        work.pages += page_chunk
        work.clear_when_free()
    gone: list[tuple[str, Path]] = []
    # No pages to write, and none left to remove.
    work.every_entry = not config.entry_pages and not (config.public_dir / ENTRY_PAGES_DIR).exists()
    # The live entries of each chunk sent to be rendered, oldest first.
    sent: deque[list[str]] = deque()

    def page_chunks_of_entries() -> Iterator[list[tuple[str, str]]]:
        last = ""
        while not work.every_entry and (
            entries := source.dirty_entries(limit=_ENTRY_PAGE_CHUNK, after=last)
        ):
            pages = []
            for entry_id, entry_slug, live in entries:
                if live and config.entry_pages:
                    pages.append((entry_id, entry_slug))
                else:  # a deleted entry's page, or any page while entry pages are turned off
                    gone.append((entry_id, config.public_dir / entry_page_path(entry_slug)))
            sent.append([entry_id for entry_id, _, live in entries if live])
            last = entries[-1][0]
            yield pages

    for chunk_written in work.published(_entry_pages, page_chunks_of_entries()):
        tally.add(chunk_written)
        work.entries += sent.popleft()
        work.clear_when_free()
    for slugs, render, finished in feed_passes:
        slug_chunks = list(_chunks(slugs, _FEED_CHUNK))
        written_chunks = work.published(render, (work.topics_of(chunk) for chunk in slug_chunks))
        for slug_chunk, chunk_written in zip(slug_chunks, written_chunks, strict=True):
            tally.add(chunk_written)
            work.entry_xml += chunk_written.entry_xml
            (work.feeds if finished else work.atom_feeds).extend(slug_chunk)
            work.clear_when_free()
    for _, path in gone:
        remove_file(path)
    work.entries += [entry_id for entry_id, _ in gone]


class _Tally:
    """Counts the documents written (in worker processes or here) and remembers what changed,
    for the PublishReport."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._rendered = 0
        self._changed: list[Path] = []

    def add(self, written: _Written) -> None:
        """Count documents written elsewhere (by a worker process), and say what changed."""
        for path, size in written.changed:
            announce_written(path, size)
        self.count(written.rendered, [path for path, _ in written.changed])

    def count(self, rendered: int, changed: Iterable[Path]) -> None:
        """Count documents written, and logged, by another writer."""
        self._rendered += rendered
        self._changed += changed

    def report(self) -> PublishReport:
        public = self._config.public_dir
        feeds_dir = public / "feeds"
        changed_feeds = tuple(
            site_url(self._config) + path.relative_to(public).as_posix()
            for path in self._changed
            if path.parent == feeds_dir and not path.name.startswith("_")
        )
        return PublishReport(
            rendered=self._rendered,
            written=len(self._changed),
            changed_feeds=changed_feeds,
        )


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _render_atom_feed(
    catalog: Catalog, config: Config, topic: Topic, entry_xml: _EntryXml, *, now: datetime
) -> bytes:
    """A topic's Atom subscription document: its newest entries and its tombstones."""
    slug = topic.slug
    if slug == REJECTED_SLUG:
        # Its entries link nowhere: a rejected file has no page.
        without_pages = replace(config, entry_pages=False)
        return render_atom(topic, _rejection_entries(topic, catalog, config), config=without_pages)
    archived = catalog.archive_page_count(slug)
    return entry_xml.assemble(
        catalog,
        config,
        topic,
        catalog.current_atom_parts(slug),
        page=FeedPage(prev_archive=archived or None),
        tombstones=catalog.tombstones(
            slug, since=now - timedelta(days=config.tombstone_days), limit=config.max_entries
        ),
    )


def _render_other_documents(
    catalog: Catalog, config: Config, topic: Topic, newest: Sequence[StoredEntry]
) -> dict[Path, bytes]:
    """A topic's RSS and JSON Feed documents and its HTML page, holding `newest`."""
    public, slug = config.public_dir, topic.slug
    if slug == REJECTED_SLUG:
        return {}
    documents: dict[Path, bytes] = {}
    if "rss" in config.formats:
        documents[public / feed_path(slug, "rss")] = render_rss(topic, newest, config=config)
    if "json" in config.formats:
        documents[public / feed_path(slug, "json")] = render_json_feed(topic, newest, config=config)
    documents[public / topic_page_path(slug)] = render_topic_page(
        topic, newest, catalog.topic_count(slug), config=config
    )
    return documents


def _entry_pages(
    catalog: Catalog,
    config: Config,
    entries: Sequence[tuple[str, str]],
    *,
    now: datetime,
    entry_xml: _EntryXml,
) -> dict[Path, bytes]:
    """The pages of the entries `(entry_id, slug)`."""
    return {
        config.public_dir / entry_page_path(stored.slug): render_entry_page(stored, config=config)
        for stored in catalog.stored_entries([entry_id for entry_id, _ in entries])
    }


def _archive_documents(
    catalog: Catalog,
    config: Config,
    pages: Sequence[tuple[Topic, int]],
    *,
    now: datetime,
    entry_xml: _EntryXml,
) -> dict[Path, bytes]:
    """Archive pages (RFC 5005) `(topic, number)`, each only when that page is full."""
    documents: dict[Path, bytes] = {}
    for topic, number in pages:
        archived = catalog.archive_page_count(topic.slug)
        if number > archived:
            continue
        documents[config.public_dir / archive_path(topic.slug, number)] = entry_xml.assemble(
            catalog,
            config,
            topic,
            catalog.archive_atom_parts(topic.slug, number),
            page=FeedPage(
                number=number,
                prev_archive=number - 1 or None,
                next_archive=number + 1 if number < archived else None,
            ),
        )
    return documents


def _feed_documents(
    catalog: Catalog,
    config: Config,
    topics: Sequence[Topic],
    *,
    now: datetime,
    entry_xml: _EntryXml,
    atom: bool = True,
    others: bool = True,
) -> dict[Path, bytes]:
    """Documents of each of `topics`: its Atom feed, and its other formats and page."""
    documents: dict[Path, bytes] = {}
    for topic in topics:
        if atom:
            document = _render_atom_feed(catalog, config, topic, entry_xml, now=now)
            documents[config.public_dir / feed_path(topic.slug)] = document
        if others:
            newest = catalog.feed_entries(topic.slug, limit=config.max_entries)
            documents |= _render_other_documents(catalog, config, topic, newest)
    return documents


_atom_only = functools.partial(_feed_documents, others=False)
_other_formats = functools.partial(_feed_documents, atom=False)


class _EntryXml:
    """The Atom XML of the entries one chunk of a publish rendered: used again by the chunk's
    other documents, and handed back to be kept in the catalogue."""

    def __init__(self) -> None:
        self._rendered: dict[str, tuple[int, bytes]] = {}

    def assemble(
        self,
        catalog: Catalog,
        config: Config,
        topic: Topic,
        parts: Sequence[AtomPart],
        *,
        page: FeedPage = SUBSCRIPTION,
        tombstones: Sequence[Tombstone] = (),
    ) -> bytes:
        """The Atom document of `topic` holding the entries of `parts`: from their kept XML,
        rendering (together) only the entries that have none."""
        missing = {
            part.entry_id: part.revision
            for part in parts
            if part.xml is None and self._rendered.get(part.entry_id, (None,))[0] != part.revision
        }
        if missing:
            entries = catalog.stored_entries(list(missing))
            for entry, xml in zip(entries, atom_entries_xml(entries, config=config), strict=True):
                self._rendered[entry.entry_id] = (missing[entry.entry_id], xml)
        return assemble_atom(
            topic,
            [part.xml or self._rendered[part.entry_id][1] for part in parts],
            newest=max((part.updated for part in parts), default=None),
            config=config,
            page=page,
            tombstones=tombstones,
        )

    def rendered(self) -> tuple[tuple[str, int, bytes], ...]:
        """`(entry_id, revision, xml)` of each entry rendered."""
        return tuple((entry_id, rev, xml) for entry_id, (rev, xml) in self._rendered.items())


@dataclass(frozen=True, slots=True)
class _Written:
    """What writing a chunk of documents did: how many, which changed (with their sizes),
    and the Atom XML of the entries it rendered (`_EntryXml.rendered`), to keep."""

    rendered: int
    changed: tuple[tuple[Path, int], ...]
    entry_xml: tuple[tuple[str, int, bytes], ...]


def _render_and_write(
    catalog: Catalog,
    config: Config,
    render: Callable[..., dict[Path, bytes]],
    jobs: Sequence[object],
    now: datetime,
    durable: bool,
) -> _Written:
    entry_xml = _EntryXml()
    # One moment's catalogue, while another connection may be storing files.
    with catalog.snapshot():
        documents = render(catalog, config, jobs, now=now, entry_xml=entry_xml)
    changed = write_files_atomically(documents, announce=False, durable=durable)
    return _Written(
        len(documents),
        tuple((path, len(documents[path])) for path in changed),
        entry_xml.rendered(),
    )


def _published(
    pool: Executor | None,
    catalog: Catalog,
    config: Config,
    render: Callable[..., dict[Path, bytes]],
    job_chunks: Iterable[Sequence[object]],
    *,
    now: datetime,
    durable: bool,
) -> Iterator[_Written]:
    """`render(catalog, config, jobs, now=now)` for each chunk of jobs, written to disk, in
    order: here, or by the pool's processes (each reading the catalogue on its own and
    writing what it rendered; a few chunks ahead). A chunk is on disk once it is yielded."""
    if pool is None:
        for jobs in job_chunks:
            yield _render_and_write(catalog, config, render, jobs, now, durable)
        return
    pending: deque[Future[_Written]] = deque()
    chunks = iter(job_chunks)
    try:
        while True:
            for jobs in itertools.islice(chunks, _RENDERS_IN_FLIGHT - len(pending)):
                pending.append(pool.submit(_publish_in_worker, render, config, jobs, now, durable))
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        # Cut short: what has not started never does, and what has is waited for, so no
        # worker writes a document after this publish is over.
        for future in pending:
            future.cancel()
        wait(pending)


def _publish_in_worker(
    render: Callable[..., dict[Path, bytes]],
    config: Config,
    jobs: Sequence[object],
    now: datetime,
    durable: bool,
) -> _Written:
    """Run in a worker process: the catalogue is opened to read, for this chunk only."""
    reader = Catalog.open_reader(config.state_dir, page_size=config.max_entries)
    try:
        return _render_and_write(reader, config, render, jobs, now, durable)
    finally:
        reader.close()


def _rejection_entries(topic: Topic, catalog: Catalog, config: Config) -> list[StoredEntry]:
    """The operator feed: one entry per rejected file, its id fixed by the file's path."""
    entries = []
    for record, moment in catalog.rejections()[: config.max_entries]:
        path = record.rel_path.as_posix()
        key = hashlib.sha1(path.encode("utf-8")).hexdigest()[:16]
        reason = record.reason or "rejected"
        entries.append(
            StoredEntry(
                entry_id=f"{feed_id(topic, config=config)}/{key}",
                slug=key,
                title=f"Rejected: {path}",
                published=moment,
                updated=moment,
                summary=f"{path}: {reason}",
                content=f"<p><code>{html.escape(path)}</code>: {html.escape(reason)}</p>",
                place=None,
                author=None,
                link=None,
                topics=(),
                sources=(record.rel_path,),
            )
        )
    return entries


def _check_inside_seeds(seeds_dir: Path, rel_path: Path) -> None:
    """Refuse a path whose real location (after symlinks) lies outside `seeds/`."""
    try:
        real = (seeds_dir / rel_path).resolve(strict=True)
    except RuntimeError as e:
        raise RejectedFile(rel_path, "symlink loop") from e
    except OSError as e:
        if e.errno == 40:  # ELOOP
            raise RejectedFile(rel_path, "symlink loop") from e
        raise
    if not real.is_relative_to(seeds_dir.resolve()):
        raise RejectedFile(rel_path, "symlink to a path outside seeds/ (never published)")


def _unchanged(seen: tuple[int, int, int, bool] | None, info: os.stat_result) -> bool:
    """Whether a file the catalogue saw as `seen` (size, mtime_ns, inode, and whether its stat
    is to be trusted: see `Catalog.file_stats`) needs no second look: its lstat is the same (a
    symlink is read each time)."""
    return (
        seen is not None
        and seen[3]
        and not stat.S_ISLNK(info.st_mode)
        and seen[:3] == (info.st_size, info.st_mtime_ns, info.st_ino)
    )


def _record_of(rel_path: Path, info: os.stat_result, content_hash: str | None) -> FileRecord:
    return FileRecord(
        rel_path=rel_path,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        inode=info.st_ino,
        content_hash=content_hash,
        status=FileStatus.OK,
        reason=None,
    )
