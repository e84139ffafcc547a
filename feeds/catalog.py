"""The catalogue: SQLite tables of files, entries, topics; mints entry ids; tracks dirty feeds."""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slugify import slugify

from feeds import autotopics, indexes
from feeds.errors import CatalogError
from feeds.lessons import Lessons
from feeds.model import (
    AtomPart,
    Entry,
    FileRecord,
    FileStatus,
    StoredEntry,
    Tombstone,
    Topic,
    TopicMatch,
    TopicSource,
)
from feeds.urls import ALL_SLUG, REJECTED_SLUG

log = logging.getLogger(__name__)

CATALOG_NAME = "catalog.sqlite3"
# The settings key of the bars automatic topics were last settled with ("on off").
_AUTO_BARS = "auto_bars"
SCHEMA_VERSION = 7

# What waits for the next publish: feeds, feeds whose Atom is out but not their other
# formats, archive pages, entry pages.
_DIRTY_TABLES = ("dirty", "dirty_others", "dirty_pages", "dirty_entries")
# Marking dirt again moves it to the transaction's generation.
_MARK_FEED = (
    "INSERT INTO dirty (slug, gen) VALUES (?, ?) "
    "ON CONFLICT (slug) DO UPDATE SET gen = excluded.gen"
)
_MARK_ENTRY_PAGE = (
    "INSERT INTO dirty_entries (entry_id, gen) VALUES (?, ?) "
    "ON CONFLICT (entry_id) DO UPDATE SET gen = excluded.gen"
)
_MARK_ARCHIVE_PAGE = (
    "INSERT INTO dirty_pages (slug, page, gen) VALUES (?, ?, ?) "
    "ON CONFLICT (slug, page) DO UPDATE SET gen = excluded.gen"
)

# Why an entry has an automatic topic (`seedfeed inspect --explain`), as SQL over its
# candidate `c` and the topic's row `a` in auto_topics.
_AUTO_REASON = (
    "'auto: the entry is about \"' || c.label || '\" (in its title or lead, or named again)' "
    "|| CASE WHEN c.slug != a.slug THEN ', one name of \"' || a.label || '\"' ELSE '' END"
)

# An entry's Atom XML no longer holds: it is dropped and its revision moves on. An entry
# without a row reads as revision 0, so the row a change creates starts at 1.
_ATOM_ENTRY_CHANGED = (
    "INSERT INTO atom_entries (entry_id, revision) VALUES ({entry}.entry_id, 1) "
    "ON CONFLICT (entry_id) DO UPDATE SET revision = revision + 1, xml = NULL"
)

_LEARN_PENDING = "INSERT OR IGNORE INTO learn_pending (entry_id) VALUES ({entry}.entry_id)"

# MIGRATIONS[n] takes the schema from version n to n + 1.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE files (
            rel_path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            inode INTEGER NOT NULL,
            content_hash TEXT,
            status TEXT NOT NULL,
            reason TEXT,
            first_seen TEXT NOT NULL,
            changed TEXT NOT NULL)""",
        """CREATE TABLE entries (
            entry_id TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            slug TEXT NOT NULL,
            title TEXT NOT NULL,
            published TEXT NOT NULL,
            updated TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            summary TEXT NOT NULL,
            content TEXT NOT NULL,
            body TEXT NOT NULL,
            place TEXT,
            author TEXT,
            link TEXT,
            format TEXT NOT NULL,
            declared_topics TEXT NOT NULL,
            live INTEGER NOT NULL)""",
        "CREATE INDEX entries_by_fingerprint ON entries (fingerprint)",
        "CREATE INDEX entries_newest "
        "ON entries (live, updated DESC, published DESC, entry_id DESC)",
        """CREATE TABLE sources (
            rel_path TEXT NOT NULL,
            position INTEGER NOT NULL,
            entry_id TEXT NOT NULL REFERENCES entries (entry_id),
            PRIMARY KEY (rel_path, position))""",
        "CREATE INDEX sources_by_entry ON sources (entry_id)",
        # What a file held when it went away: a file saved anew under the same name (editors
        # rename the old one aside first) keeps its stories' ids by title or position.
        """CREATE TABLE former_sources (
            rel_path TEXT NOT NULL,
            position INTEGER NOT NULL,
            entry_id TEXT NOT NULL REFERENCES entries (entry_id),
            PRIMARY KEY (rel_path, position))""",
        """CREATE TABLE entry_topics (
            entry_id TEXT NOT NULL REFERENCES entries (entry_id),
            slug TEXT NOT NULL,
            title TEXT NOT NULL,
            source TEXT NOT NULL,
            reason TEXT NOT NULL,
            updated TEXT NOT NULL,
            published TEXT NOT NULL,
            PRIMARY KEY (entry_id, slug))""",
        # A topic's newest entries straight from the index, whatever the topic's size.
        "CREATE INDEX entry_topics_newest "
        "ON entry_topics (slug, updated DESC, published DESC, entry_id DESC)",
        """CREATE TABLE candidates (
            entry_id TEXT NOT NULL REFERENCES entries (entry_id),
            slug TEXT NOT NULL,
            label TEXT NOT NULL,
            PRIMARY KEY (entry_id, slug))""",
        "CREATE INDEX candidates_by_slug ON candidates (slug, entry_id)",
        "CREATE TABLE auto_topics (slug TEXT PRIMARY KEY, label TEXT NOT NULL)",
        """CREATE TABLE topics (
            slug TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            created TEXT NOT NULL)""",
        "CREATE UNIQUE INDEX entries_by_slug ON entries (slug)",
        """CREATE TABLE memberships (
            slug TEXT NOT NULL,
            entry_id TEXT NOT NULL REFERENCES entries (entry_id),
            seq INTEGER NOT NULL,
            left_at TEXT,
            PRIMARY KEY (slug, entry_id))""",
        "CREATE UNIQUE INDEX memberships_by_seq ON memberships (slug, seq)",
        "CREATE TABLE topic_counts (slug TEXT PRIMARY KEY, entries INTEGER NOT NULL)",
        "CREATE INDEX memberships_by_entry ON memberships (entry_id)",
        "CREATE TABLE dirty (slug TEXT PRIMARY KEY)",
        "CREATE TABLE dirty_entries (entry_id TEXT PRIMARY KEY)",
        "CREATE TABLE dirty_pages (slug TEXT NOT NULL, page INTEGER NOT NULL, "
        "PRIMARY KEY (slug, page))",
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    # What a publish reads for one feed, found without walking all of the feed's rows: its
    # tombstones, and the title its entries give it.
    (
        "CREATE INDEX memberships_left ON memberships (slug, left_at DESC, entry_id) "
        "WHERE left_at IS NOT NULL",
        "CREATE INDEX entry_topics_titles ON entry_topics (slug, source, title)",
        # Feeds whose Atom document is written but not yet their other formats and page.
        "CREATE TABLE dirty_others (slug TEXT PRIMARY KEY)",
    ),
    (
        # Each mark of dirt says which write transaction made it: a publish renders outside
        # the lock, and clears only the dirt it saw, not dirt marked again while it rendered.
        *(f"ALTER TABLE {t} ADD COLUMN gen INTEGER NOT NULL DEFAULT 0" for t in _DIRTY_TABLES),
        # A topic's newest live entries straight from the index, however many of its entries
        # were deleted (their rows stay, keeping their ids): each topic row follows its entry.
        "ALTER TABLE entry_topics ADD COLUMN live INTEGER NOT NULL DEFAULT 0",
        "UPDATE entry_topics SET live = "
        "(SELECT e.live FROM entries e WHERE e.entry_id = entry_topics.entry_id)",
        "DROP INDEX entry_topics_newest",
        "CREATE INDEX entry_topics_newest "
        "ON entry_topics (slug, updated DESC, published DESC, entry_id DESC) WHERE live",
        "CREATE TRIGGER entry_topics_follow_live AFTER UPDATE OF live ON entries BEGIN "
        "UPDATE entry_topics SET live = NEW.live WHERE entry_id = NEW.entry_id; END",
    ),
    (
        # Each entry's Atom <entry> XML, rendered once and kept: a feed or archive page is
        # assembled from it. Whatever changes what it shows (the entry's text, dates, links or
        # topics; the entry leaving every file) drops it and moves its revision on, and XML
        # rendered from an earlier revision is never kept (see `keep_atom_entries`).
        """CREATE TABLE atom_entries (
            entry_id TEXT PRIMARY KEY REFERENCES entries (entry_id),
            revision INTEGER NOT NULL DEFAULT 0,
            xml BLOB)""",
        "CREATE TRIGGER atom_entries_follow_text "
        "AFTER UPDATE OF slug, title, published, updated, summary, content, author, link "
        f"ON entries BEGIN {_ATOM_ENTRY_CHANGED.format(entry='NEW')}; END",
        "CREATE TRIGGER atom_entries_follow_deletion AFTER UPDATE OF live ON entries "
        f"WHEN NOT NEW.live BEGIN {_ATOM_ENTRY_CHANGED.format(entry='NEW')}; END",
        "CREATE TRIGGER atom_entries_follow_new_topics AFTER INSERT ON entry_topics "
        f"BEGIN {_ATOM_ENTRY_CHANGED.format(entry='NEW')}; END",
        "CREATE TRIGGER atom_entries_follow_lost_topics AFTER DELETE ON entry_topics "
        f"BEGIN {_ATOM_ENTRY_CHANGED.format(entry='OLD')}; END",
        "CREATE TRIGGER atom_entries_follow_topic_titles AFTER UPDATE OF slug, title "
        f"ON entry_topics BEGIN {_ATOM_ENTRY_CHANGED.format(entry='NEW')}; END",
    ),
    # Automatic topics that are one thing under several names ("EC" and "European
    # Community"): each merged name and the topic it went to; and the names an entry is
    # about that another topic holds (a taxonomy rule's phrase), for `seedfeed topics`.
    (
        # kind: "acronym" (an acronym and its long form) or "piece" (a piece of a longer
        # name: its spelling is never the topic's title).
        "CREATE TABLE auto_merges (slug TEXT PRIMARY KEY, topic TEXT NOT NULL, "
        "kind TEXT NOT NULL, reason TEXT NOT NULL)",
        "CREATE INDEX auto_merges_by_topic ON auto_merges (topic)",
        """CREATE TABLE held_names (
            entry_id TEXT NOT NULL REFERENCES entries (entry_id),
            slug TEXT NOT NULL,
            label TEXT NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (entry_id, slug))""",
        "CREATE INDEX held_names_by_slug ON held_names (slug)",
    ),
    (
        # A subscription document holds every entry no archive page holds, and a page is out
        # once a page's worth joined after it (`Catalog._archived`): every feed is rendered
        # again. The last page a feed had under the former rule stays on disk, unlinked.
        "INSERT INTO dirty (slug, gen) SELECT DISTINCT slug, 0 FROM memberships WHERE true "
        "ON CONFLICT (slug) DO NOTHING",
        # Every text an entry had before an edit: a deleted story dropped again as it was
        # before the edit gets its id back (see `_match`).
        """CREATE TABLE former_fingerprints (
            fingerprint TEXT NOT NULL,
            entry_id TEXT NOT NULL REFERENCES entries (entry_id),
            PRIMARY KEY (fingerprint, entry_id))""",
        "CREATE TRIGGER former_fingerprints_follow_edits AFTER UPDATE OF fingerprint ON entries "
        "WHEN OLD.fingerprint != NEW.fingerprint BEGIN "
        "INSERT OR IGNORE INTO former_fingerprints (fingerprint, entry_id) "
        "VALUES (OLD.fingerprint, OLD.entry_id); END",
    ),
    (
        # Entries whose learned topics are to be worked out (feeds/lessons.py): new ones, ones
        # whose text changed or that came back, and ones that lost a topic of another source
        # (their other topics are never overridden by a learned one, so that may change it).
        "CREATE TABLE learn_pending (entry_id TEXT PRIMARY KEY)",
        "INSERT INTO learn_pending (entry_id) SELECT entry_id FROM entries WHERE live",
        "CREATE TRIGGER learn_pending_new AFTER INSERT ON entries "
        f"BEGIN {_LEARN_PENDING.format(entry='NEW')}; END",
        "CREATE TRIGGER learn_pending_text AFTER UPDATE OF title, body ON entries "
        f"BEGIN {_LEARN_PENDING.format(entry='NEW')}; END",
        "CREATE TRIGGER learn_pending_back AFTER UPDATE OF live ON entries WHEN NEW.live "
        f"BEGIN {_LEARN_PENDING.format(entry='NEW')}; END",
        "CREATE TRIGGER learn_pending_topics AFTER DELETE ON entry_topics "
        f"WHEN OLD.source != 'learned' BEGIN {_LEARN_PENDING.format(entry='OLD')}; END",
    ),
)

_STORED_CACHE_SIZE = 512
# Entry ids per `IN (...)` list: well under SQLite's limit of bound parameters.
_IN_LIST = 500
_TITLE_SOURCES = tuple(
    source.value
    for source in (
        TopicSource.TAXONOMY,
        TopicSource.EXPLICIT,
        TopicSource.FOLDER,
        TopicSource.AUTO,
        TopicSource.LEARNED,
    )
)
# A file whose mtime lies less than this before the moment it was stored (the start of the
# batch that read it) may have been written again since in the same timestamp tick, with
# the same size: its stat proves nothing, and it is read again until it is older than that
# (timestamps tick every few ms on Linux file systems, every 2 s on FAT).
RACY_SECONDS = 2
# Whether a file's stat tells a change (`FileRecord.stat_trusted`): it was used, and its
# mtime lies at least RACY_SECONDS before the moment it was stored.
_STAT_TRUSTED = (
    f"(status = 'ok' AND mtime_ns <= "
    f"(julianday(changed) - 2440587.5) * 86400e9 - {RACY_SECONDS * 1_000_000_000})"
)
_FILE_COLUMNS = f"rel_path, size, mtime_ns, inode, content_hash, status, reason, {_STAT_TRUSTED}"
_ENTRY_SELECT = (
    "e.entry_id, e.slug, e.title, e.published, e.updated, e.summary, e.content, e.place, "
    "e.author, e.link"
)
_ATOM_PART_SELECT = "e.entry_id, e.updated, coalesce(a.revision, 0), a.xml"
# The same from a topic's row (which holds its entry's `updated`).
_TOPIC_ATOM_PART_SELECT = "t.entry_id, t.updated, coalesce(a.revision, 0), a.xml"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Held:
    """An entry a file held before it changed."""

    entry_id: str
    fingerprint: str
    title: str
    shared: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogCounts:
    """What `seedfeed status` and `seedfeed build` report."""

    files: int
    rejected: int
    entries: int
    topics: int
    unpublished: int = 0  # feeds, archive pages and entry pages waiting for the next publish


@functools.lru_cache(maxsize=16384)
def _topic_match(slug: str, title: str, source: str, reason: str) -> TopicMatch:
    """One TopicMatch for all the entries that share it (they are many, and immutable)."""
    return TopicMatch(slug=slug, title=title, source=TopicSource(source), reason=reason)


@functools.lru_cache(maxsize=64)
def stamp(moment: datetime) -> str:
    """The catalogue's text form of an aware datetime: UTC, fixed width, sortable.

    Kept for the last few moments: a batch of files is stored at one `now`, stamped
    several times per file."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _add_functions(db: sqlite3.Connection) -> None:
    """SQL functions seedfeed's queries use: `casefold`, Python's Unicode case folding (SQLite's
    `lower` folds ASCII only), so the catalogue lists topics in the order readers expect."""
    db.create_function("casefold", 1, _casefold, deterministic=True)


def _casefold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def _file_record(row: sqlite3.Row | tuple[object, ...]) -> FileRecord:
    return FileRecord(
        rel_path=Path(str(row[0])),
        size=int(str(row[1])),
        mtime_ns=int(str(row[2])),
        inode=int(str(row[3])),
        content_hash=None if row[4] is None else str(row[4]),
        status=FileStatus(str(row[5])),
        reason=None if row[6] is None else str(row[6]),
        stat_trusted=bool(row[7]),
    )


# Topics the catalogue works out itself rather than take from a reading: automatic names
# (here) and learned topics (feeds/lessons.py).
_WORKED_OUT = (TopicSource.AUTO, TopicSource.LEARNED)


def fixed_topics(entry: Entry) -> tuple[TopicMatch, ...]:
    """The topics an entry's reading gave it: none the catalogue works out itself."""
    return tuple(t for t in entry.topics if t.source not in _WORKED_OUT)


class Catalog:
    """One open catalogue. One owner at a time; every change goes through `transaction`."""

    def __init__(
        self,
        db: sqlite3.Connection,
        path: Path,
        *,
        id_authority: str,
        auto_min_entries: int,
        page_size: int,
        clock: Callable[[], datetime],
        auto_share: float = 0.0,
        auto_max: int = 0,
    ) -> None:
        self._db = db
        self.path = path
        self._id_authority = id_authority
        self._auto_min = auto_min_entries
        self._auto_share = auto_share
        self._auto_max = auto_max
        self.page_size = page_size
        self._clock = clock
        self._touched_entries: set[str] = set()
        # Entries inserted by the transaction in hand: none can have a membership yet.
        self._minted_entries: set[str] = set()
        # StoredEntry values by id, for entries that appear in several feeds of one publish;
        # an entry leaves it as soon as anything about it changes here, and all leave when
        # another connection commits (`_stored_version`, SQLite's `data_version` they were
        # read at): a reader's next snapshot may hold an edit this connection never made.
        self._stored: OrderedDict[str, StoredEntry] = OrderedDict()
        self._stored_version = -1
        self._savepoints = True
        self._touched_candidates: set[str] = set()
        self._depth = 0
        # The generation of the write transaction in hand (or the last one): dirt it marks
        # carries it.
        self._gen = 0

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        state_dir: Path,
        *,
        id_authority: str,
        auto_min_entries: int,
        page_size: int = 50,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        auto_share: float = 0.0,
        auto_max: int = 0,
    ) -> Catalog:
        """Open the catalogue in `state_dir`, creating and migrating it as needed.

        `auto_min_entries` is how many live entries a candidate needs to become a topic
        (0 turns automatic topics off), `auto_share` the share of the live entries it needs
        when that is more, and `auto_max` the most automatic topics (0: no cap); `page_size`
        is the number of entries per feed document
        and per archive page; `clock` stamps the moment an entry leaves a feed.
        """
        path = state_dir / CATALOG_NAME
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CatalogError(f"cannot create the state folder {state_dir}: {e}") from e
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            _add_functions(db)
            db.execute("PRAGMA busy_timeout=5000")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            # A batch of 500 files touches many pages: keep them in memory until the commit
            # rather than spilling them to the WAL (8 MB at most: a 10k cold build is as fast
            # as with 32 MB, and the daemon's memory stays small).
            db.execute("PRAGMA cache_size=-8192")
            db.execute("PRAGMA temp_store=MEMORY")
            # Copy the WAL into the database every 64 MB rather than every 4 MB: a batch of
            # 500 files writes a few MB, and each copy ends with fsyncs (a 10k cold build spent
            # 0.45 s in COMMIT with the default, 0.22 s with this).
            db.execute("PRAGMA wal_autocheckpoint=16384")
            catalog = cls(
                db,
                path,
                id_authority=id_authority,
                auto_min_entries=auto_min_entries,
                page_size=page_size,
                clock=clock,
                auto_share=auto_share,
                auto_max=auto_max,
            )
            catalog._build_deferred_indexes()  # a first load seedfeed did not live through
            catalog._migrate()
            catalog._gen = catalog.dirt_generation()
            catalog.tune_auto_topics(auto_min_entries, auto_share, auto_max)
        except sqlite3.OperationalError as e:
            raise CatalogError(
                f"cannot open the catalogue {path}: {e}. Check that the state folder is "
                "writable and that no other program holds the file."
            ) from e
        except sqlite3.DatabaseError as e:
            raise CatalogError(
                f"cannot open the catalogue {path}: {e}. If it is damaged, move the state folder "
                "aside and run `seedfeed build` to rebuild it from seeds/ "
                "(entries would get new ids)."
            ) from e
        return catalog

    @classmethod
    def open_reader(cls, state_dir: Path, *, page_size: int) -> Catalog:
        """Open the catalogue in `state_dir` only to read it (a worker process rendering
        pages): nothing is created or migrated, and any write fails."""
        path = state_dir / CATALOG_NAME
        try:
            db = sqlite3.connect(
                f"{path.absolute().as_uri()}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            _add_functions(db)
            db.execute("PRAGMA busy_timeout=5000")
            db.execute("PRAGMA query_only=ON")
        except sqlite3.DatabaseError as e:
            raise CatalogError(f"cannot read the catalogue {path}: {e}") from e
        return cls(
            db,
            path,
            id_authority="",
            auto_min_entries=0,
            page_size=page_size,
            clock=lambda: datetime.now(UTC),
        )

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"the catalogue {self.path} has schema version {version}, newer than this "
                f"seedfeed knows ({SCHEMA_VERSION}): upgrade seedfeed, "
                "or give --state another folder"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in _MIGRATIONS[target - 1]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={target}")
            log.info("catalogue migrated path=%s version=%d", self.path, target)

    def defer_indexes(self) -> None:
        """Before a first bulk load: drop the indexes it does without (`feeds.indexes`), to
        be built once by `build_deferred_indexes` at its end."""
        with self.transaction():
            indexes.drop_deferrable(self._db)

    def build_deferred_indexes(self) -> None:
        with self.transaction():
            if indexes.build_deferred(self._db):
                log.info("catalogue indexes built after the first load path=%s", self.path)

    def _build_deferred_indexes(self) -> None:
        """On opening, before any migration: the indexes a first load dropped, if it ended
        before it built them."""
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version:
            self.build_deferred_indexes()

    @contextmanager
    def transaction(self, *, savepoints: bool = True) -> Iterator[None]:
        """All writes inside land together or not at all, also across a crash.

        A transaction inside another is a savepoint: its failure undoes it alone. With
        `savepoints` false, the ones inside this transaction are not: any failure undoes all
        of it (a batch of a cold build, where a failure ends the build anyway).
        """
        if self._db.in_transaction:
            if not self._savepoints:
                yield
                return
            self._depth += 1
            savepoint = f"nested_{self._depth}"
            self._db.execute(f"SAVEPOINT {savepoint}")
            try:
                yield
            except BaseException:
                self._db.execute(f"ROLLBACK TO {savepoint}")
                self._db.execute(f"RELEASE {savepoint}")
                raise
            finally:
                self._depth -= 1
            self._db.execute(f"RELEASE {savepoint}")
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._gen += 1
        self._savepoints = savepoints
        try:
            yield
            self._settle_auto_topics()
            self._sync_memberships()
            self._db.execute("COMMIT")
        except BaseException as e:
            if self._db.in_transaction:  # SQLite may have rolled it back already
                self._db.execute("ROLLBACK")
            self._touched_candidates.clear()
            self._touched_entries.clear()
            self._minted_entries.clear()
            if (
                isinstance(e, sqlite3.OperationalError)
                and e.sqlite_errorcode == sqlite3.SQLITE_FULL
            ):
                raise CatalogError(
                    f"the catalogue {self.path} cannot record anything: the file system of the "
                    "state folder is full. Nothing was taken: free space there, and the files "
                    "not recorded are read at the next reconcile (or `seedfeed build`)"
                ) from e
            raise
        finally:
            self._savepoints = True

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see the catalogue as of one moment, while other connections write
        (WAL): a document built from many queries is consistent."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    @property
    def lessons(self) -> Lessons:
        """The queries of topics taught by example (`feeds.lessons`), on this connection."""
        return Lessons(self._db, self._mark_entry_dirty)

    # -- settings ----------------------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def save_setting(self, key: str, value: str) -> None:
        with self.transaction():
            self._put_setting(key, value)

    def forget_setting(self, key: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM settings WHERE key = ?", (key,))

    def _put_setting(self, key: str, value: str) -> None:
        """`save_setting` inside a transaction already open."""
        self._db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- files -------------------------------------------------------------------------------

    def paths_under(self, rel_path: Path) -> list[Path]:
        """The known files at `rel_path` or below it (a folder that went away)."""
        rel = rel_path.as_posix()
        # Everything below "a/b" sorts from "a/b/" up to, not including, "a/b0" ("0" follows "/").
        rows = self._db.execute(
            "SELECT rel_path FROM files WHERE rel_path = ? OR (rel_path >= ? AND rel_path < ?) "
            "ORDER BY rel_path",
            (rel, rel + "/", rel + "0"),
        )
        return [Path(r[0]) for r in rows]

    def file_stats(self, rel_paths: Sequence[str]) -> dict[str, tuple[int, int, int, bool]]:
        """(size, mtime_ns, inode, stat_trusted) of each file of `rel_paths` (POSIX paths)
        the catalogue knows, as in its FileRecord: for the scan, which compares them with
        every file's lstat (a FileRecord apiece would add ~0.5 s to a rebuild of 100k
        unchanged files)."""
        return {
            str(r[0]): (int(r[1]), int(r[2]), int(r[3]), bool(r[4]))
            for r in self._rows_in(
                f"SELECT rel_path, size, mtime_ns, inode, {_STAT_TRUSTED} "
                "FROM files WHERE rel_path",
                rel_paths,
            )
        }

    def is_empty(self) -> bool:
        """Whether no entry was ever stored."""
        return self._db.execute("SELECT 1 FROM entries LIMIT 1").fetchone() is None

    def file_count(self) -> int:
        (count,) = self._db.execute("SELECT count(*) FROM files").fetchone()
        return int(count)

    def file_paths(self) -> Iterator[str]:
        """The POSIX path of every file the catalogue knows, one at a time."""
        for (rel_path,) in self._db.execute("SELECT rel_path FROM files"):
            yield str(rel_path)

    def file_record(self, rel_path: Path) -> FileRecord | None:
        row = self._db.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE rel_path = ?", (rel_path.as_posix(),)
        ).fetchone()
        return None if row is None else _file_record(row)

    def rejections(self) -> list[tuple[FileRecord, datetime]]:
        """Every rejected file with the moment it was (last) rejected, newest first."""
        rows = self._db.execute(
            f"SELECT {_FILE_COLUMNS}, changed FROM files WHERE status = ? "
            "ORDER BY changed DESC, rel_path",
            (FileStatus.REJECTED.value,),
        )
        return [(_file_record(row), _moment(row[8])) for row in rows]

    def rejected_files(self) -> list[FileRecord]:
        rows = self._db.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE status = ? ORDER BY rel_path",
            (FileStatus.REJECTED.value,),
        )
        return [_file_record(row) for row in rows]

    def forget_file_stats(self) -> None:
        """Make the next reconcile read every file again (after a change of reading settings)."""
        with self.transaction():
            self._db.execute("UPDATE files SET size = -1, content_hash = NULL")

    def touch_file(self, record: FileRecord, *, now: datetime) -> None:
        """Remember new stat values of a file whose bytes did not change, seen at `now`."""
        with self.transaction():
            self._db.execute(
                "UPDATE files SET size = ?, mtime_ns = ?, inode = ?, changed = ? "
                "WHERE rel_path = ?",
                (
                    record.size,
                    record.mtime_ns,
                    record.inode,
                    stamp(now),
                    record.rel_path.as_posix(),
                ),
            )

    def _save_file(self, record: FileRecord, now: datetime) -> bool:
        """Record a file's stat and status; whether the catalogue knew it before."""
        before = self._db.execute(
            "SELECT status, reason FROM files WHERE rel_path = ?", (record.rel_path.as_posix(),)
        ).fetchone()
        was_rejected = before is not None and before[0] == FileStatus.REJECTED.value
        if was_rejected or record.status is FileStatus.REJECTED:
            self._mark_feeds([REJECTED_SLUG])
        self._db.execute(
            "INSERT INTO files (rel_path, size, mtime_ns, inode, content_hash, status, reason, "
            "first_seen, changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (rel_path) DO UPDATE SET size = excluded.size, "
            "mtime_ns = excluded.mtime_ns, inode = excluded.inode, "
            "content_hash = excluded.content_hash, status = excluded.status, "
            "reason = excluded.reason, changed = excluded.changed",
            (
                record.rel_path.as_posix(),
                record.size,
                record.mtime_ns,
                record.inode,
                record.content_hash,
                record.status.value,
                record.reason,
                stamp(now),
                stamp(now),
            ),
        )
        return before is not None

    # -- storing -----------------------------------------------------------------------------

    def store_file(
        self,
        record: FileRecord,
        entries: Sequence[Entry],
        *,
        now: datetime,
        moved_from: Path | None = None,
        id_slugs: Sequence[str] = (),
    ) -> list[str]:
        """Make `entries` the entries of the file `record`; return their ids in order.

        `id_slugs`, if given, are `id_slug` of each entry's title, worked out where the file
        was read (a worker process): a new entry's id starts from it.

        A story keeps its id when the same story is stored already (same fingerprint, from this
        file or any other, live or deleted; or a deleted story's text before an edit), or when
        it replaces a story this file holds (or held when it went away; or, for a file renamed,
        that `moved_from` held) with the same title or, failing that, at the same position.
        """
        rel = record.rel_path.as_posix()
        with self.transaction():
            # Only a file the catalogue has (its `files` row) has sources.
            holding = self._held_entries(rel) if self._save_file(record, now) else []
            held = holding or self._formerly_held_entries(rel)
            if not held and moved_from is not None:
                origin = moved_from.as_posix()
                held = self._held_entries(origin) or self._formerly_held_entries(origin)
            ids: list[str] = []
            minted: set[str] = set()
            for position, entry in enumerate(entries):
                entry_id = self._match(entry, held, position, set(ids))
                if entry_id is None:
                    base = id_slugs[position] if id_slugs else id_slug(entry.title)
                    entry_id = self._insert_entry(entry, base, now)
                    minted.add(entry_id)
                elif entry_id not in ids:
                    self._update_entry(entry_id, entry, now)
                if entry_id not in ids:
                    ids.append(entry_id)
            if holding:
                self._db.execute("DELETE FROM sources WHERE rel_path = ?", (rel,))
            # A minted entry's page is marked already.
            self._sources_changed(sorted(({h.entry_id for h in held} ^ set(ids)) - minted))
            self._db.executemany(
                "INSERT INTO sources (rel_path, position, entry_id) VALUES (?, ?, ?)",
                [(rel, position, entry_id) for position, entry_id in enumerate(ids)],
            )
            # A new entry is live from the start: this file holds it.
            self._refresh_liveness([h.entry_id for h in held] + [i for i in ids if i not in minted])
        return ids

    def reject_file(self, record: FileRecord, *, now: datetime) -> None:
        """Record a file that cannot be used; entries it held before leave the feeds."""
        if self.file_record(record.rel_path) == record:
            return
        with self.transaction():
            self._save_file(record, now)
            self._drop_sources(record.rel_path.as_posix())

    def forget_file(self, rel_path: Path) -> None:
        """A file left `seeds/`: its entries leave the feeds; their rows stay, keeping the ids."""
        rel = rel_path.as_posix()
        with self.transaction():
            self._drop_sources(rel)
            gone = self._db.execute(
                "DELETE FROM files WHERE rel_path = ? RETURNING status", (rel,)
            ).fetchone()
            if gone is not None and gone[0] == FileStatus.REJECTED.value:
                self._mark_feeds([REJECTED_SLUG])

    def _drop_sources(self, rel: str) -> None:
        held = [h.entry_id for h in self._held_entries(rel)]
        if held:
            self._db.execute("DELETE FROM former_sources WHERE rel_path = ?", (rel,))
            self._db.execute(
                "INSERT INTO former_sources (rel_path, position, entry_id) "
                "SELECT rel_path, position, entry_id FROM sources WHERE rel_path = ?",
                (rel,),
            )
        self._db.execute("DELETE FROM sources WHERE rel_path = ?", (rel,))
        self._sources_changed(held)
        self._refresh_liveness(held)

    def _held_entries(self, rel: str) -> list[_Held]:
        """The stories a file holds, each marked `shared` when another file holds it too."""
        rows = self._db.execute(
            "SELECT e.entry_id, e.fingerprint, e.title, EXISTS (SELECT 1 FROM sources o "
            "WHERE o.entry_id = s.entry_id AND o.rel_path != s.rel_path) FROM sources s "
            "JOIN entries e USING (entry_id) WHERE s.rel_path = ? ORDER BY s.position",
            (rel,),
        )
        return [_Held(entry_id=r[0], fingerprint=r[1], title=r[2], shared=bool(r[3])) for r in rows]

    def _formerly_held_entries(self, rel: str) -> list[_Held]:
        """The stories a file held when it went away, if none of them lives on elsewhere."""
        rows = self._db.execute(
            "SELECT e.entry_id, e.fingerprint, e.title FROM former_sources f "
            "JOIN entries e USING (entry_id) WHERE f.rel_path = ? AND NOT e.live "
            "ORDER BY f.position",
            (rel,),
        )
        return [_Held(entry_id=r[0], fingerprint=r[1], title=r[2]) for r in rows]

    def _match(
        self, entry: Entry, held: Sequence[_Held], position: int, taken: set[str]
    ) -> str | None:
        for h in held:
            if h.fingerprint == entry.fingerprint:
                return h.entry_id
        # A story stored with this text, else a deleted story dropped again as it was before
        # an edit (while the edit lives, its former text is a story of its own, as below):
        # one statement, as most stories of a first build have neither.
        row = self._db.execute(
            "SELECT entry_id FROM (SELECT 0 AS former, entry_id, live, first_seen "
            "FROM entries WHERE fingerprint = ?1 UNION ALL "
            "SELECT 1, e.entry_id, e.live, e.first_seen FROM former_fingerprints f "
            "JOIN entries e USING (entry_id) WHERE f.fingerprint = ?1 AND NOT e.live) "
            "ORDER BY former, live DESC, first_seen, entry_id LIMIT 1",
            (entry.fingerprint,),
        ).fetchone()
        if row is not None:
            return str(row[0])
        # An edited story keeps its id, unless another file still holds the old text: then
        # that text keeps the id and the edit is a story of its own.
        own = [h for h in held if not h.shared and h.entry_id not in taken]
        for h in own:
            if h.title == entry.title:
                return h.entry_id
        if position < len(held) and held[position] in own:
            return held[position].entry_id
        return None

    def _mint_id(self, base: str, now: datetime) -> tuple[str, str]:
        prefix = f"tag:{self._id_authority},{now.astimezone(UTC):%Y-%m-%d}:"
        slug, counter = base, 1
        while self._db.execute("SELECT 1 FROM entries WHERE slug = ?", (slug,)).fetchone():
            counter += 1
            slug = f"{base}-{counter}"
        return prefix + slug, slug

    def _insert_entry(self, entry: Entry, base: str, now: datetime) -> str:
        """A new entry, its id minted from `base`: live from the start (its file holds it),
        so its feeds are dirty."""
        entry_id, slug = self._mint_id(base, now)
        self._db.execute(
            "INSERT INTO entries (entry_id, fingerprint, slug, title, published, updated, "
            "first_seen, summary, content, body, place, author, link, format, declared_topics, "
            "live) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (
                entry_id,
                entry.fingerprint,
                slug,
                entry.title,
                stamp(entry.published or now),
                stamp(now),
                stamp(now),
                entry.summary,
                entry.content,
                entry.body,
                entry.place,
                entry.author,
                entry.link,
                entry.format,
                json.dumps(list(entry.declared_topics)),
            ),
        )
        self._save_topics(entry_id, entry)  # which touches its candidate names, too
        self._mark_entry_dirty(entry_id)
        self._minted_entries.add(entry_id)
        log.debug("entry minted entry_id=%s", entry_id)
        return entry_id

    def _update_entry(self, entry_id: str, entry: Entry, now: datetime) -> None:
        """Store a new version of an entry; `updated` moves only when what readers see changed."""
        row = self._db.execute(
            "SELECT title, published, first_seen, summary, content, place, author, link "
            "FROM entries WHERE entry_id = ?",
            (entry_id,),
        ).fetchone()
        published = stamp(entry.published) if entry.published else str(row[2])
        shown = (
            entry.title,
            published,
            entry.summary,
            entry.content,
            entry.place,
            entry.author,
            entry.link,
        )
        text_changed = shown != (row[0], row[1], row[3], row[4], row[5], row[6], row[7])
        topics_changed = self._topics_differ(entry_id, entry)
        if text_changed:
            self._mark_entry_dirty(entry_id)
            self._db.execute(
                "UPDATE entries SET fingerprint = ?, title = ?, published = ?, summary = ?, "
                "content = ?, body = ?, place = ?, author = ?, link = ?, format = ?, "
                "declared_topics = ?, updated = ? WHERE entry_id = ?",
                (
                    entry.fingerprint,
                    entry.title,
                    published,
                    entry.summary,
                    entry.content,
                    entry.body,
                    entry.place,
                    entry.author,
                    entry.link,
                    entry.format,
                    json.dumps(list(entry.declared_topics)),
                    stamp(now),
                    entry_id,
                ),
            )
            self._db.execute(
                "UPDATE entry_topics SET updated = ?, published = ? WHERE entry_id = ?",
                (stamp(now), published, entry_id),
            )
        if topics_changed:
            self.retag_entry(entry_id, entry)
        elif text_changed:
            self._mark_entry_dirty(entry_id)

    def tagged_entries(self) -> Iterator[tuple[str, Entry, Path | None]]:
        """Every stored entry as an Entry (with its current topics), and its first source."""
        rows = self._db.execute(
            "SELECT entry_id, title, published, summary, content, body, fingerprint, format, "
            "place, author, link, declared_topics, "
            "(SELECT min(rel_path) FROM sources s WHERE s.entry_id = e.entry_id) "
            "FROM entries e ORDER BY entry_id"
        ).fetchall()
        for row in rows:
            entry_id = str(row[0])
            topics = self._entry_topics(entry_id)
            candidates = tuple(
                str(r[0])
                for r in self._db.execute(
                    "SELECT label FROM candidates WHERE entry_id = ? ORDER BY label", (entry_id,)
                )
            )
            entry = Entry(
                title=str(row[1]),
                published=_moment(str(row[2])),
                summary=str(row[3]),
                content=str(row[4]),
                body=str(row[5]),
                fingerprint=str(row[6]),
                format=str(row[7]),
                place=row[8],
                author=row[9],
                link=row[10],
                declared_topics=tuple(json.loads(row[11])),
                topics=topics,
                candidates=candidates,
            )
            yield entry_id, entry, None if row[12] is None else Path(row[12])

    def retag_entry(self, entry_id: str, entry: Entry) -> None:
        """Replace an entry's topics and candidates; both its old and new feeds become dirty."""
        self._mark_entry_dirty(entry_id)
        self._touched_candidates.update(
            r[0]
            for r in self._db.execute("SELECT slug FROM candidates WHERE entry_id = ?", (entry_id,))
        )
        self._db.execute("DELETE FROM entry_topics WHERE entry_id = ?", (entry_id,))
        self._db.execute("DELETE FROM candidates WHERE entry_id = ?", (entry_id,))
        self._db.execute("DELETE FROM held_names WHERE entry_id = ?", (entry_id,))
        self._save_topics(entry_id, entry)
        self._mark_entry_dirty(entry_id)

    def _topics_differ(self, entry_id: str, entry: Entry) -> bool:
        stored = {
            tuple(r)
            for r in self._db.execute(
                "SELECT slug, title, source, reason FROM entry_topics "
                "WHERE entry_id = ? AND source NOT IN (?, ?)",
                (entry_id, *(source.value for source in _WORKED_OUT)),
            )
        }
        wanted = {(t.slug, t.title, t.source.value, t.reason) for t in fixed_topics(entry)}
        if stored != wanted:
            return True
        stored_labels = {
            tuple(r)
            for r in self._db.execute(
                "SELECT slug, label FROM candidates WHERE entry_id = ?", (entry_id,)
            )
        }
        return stored_labels != set(_candidate_labels(entry).items())

    def _save_topics(self, entry_id: str, entry: Entry) -> None:
        self._db.executemany(
            "INSERT INTO entry_topics "
            "(entry_id, slug, title, source, reason, updated, published, live) "
            "SELECT entry_id, ?, ?, ?, ?, updated, published, live FROM entries "
            "WHERE entry_id = ?",
            [(t.slug, t.title, t.source.value, t.reason, entry_id) for t in fixed_topics(entry)],
        )
        if entry.held_names:
            from feeds.topics.names import spelling_key

            self._db.executemany(
                "INSERT OR IGNORE INTO held_names (entry_id, slug, label, reason) "
                "VALUES (?, ?, ?, ?)",
                [(entry_id, spelling_key(name), name, why) for name, why in entry.held_names],
            )
        labels = _candidate_labels(entry)
        if not labels:  # (the entry's candidates, if it had any, are gone)
            return
        self._db.executemany(
            "INSERT INTO candidates (entry_id, slug, label) VALUES (?, ?, ?)",
            [(entry_id, slug, label) for slug, label in labels.items()],
        )
        self._touched_candidates.update(labels)
        self._db.execute(
            "INSERT OR IGNORE INTO entry_topics "
            "(entry_id, slug, title, source, reason, updated, published, live) "
            f"SELECT c.entry_id, a.slug, a.label, ?, {_AUTO_REASON}, e.updated, e.published, "
            "e.live FROM candidates c LEFT JOIN auto_merges m USING (slug) "
            "JOIN auto_topics a ON a.slug = coalesce(m.topic, c.slug) "
            "JOIN entries e USING (entry_id) WHERE c.entry_id = ?",
            (TopicSource.AUTO.value, entry_id),
        )

    def _refresh_liveness(self, entry_ids: Iterable[str]) -> None:
        for entry_id in dict.fromkeys(entry_ids):
            changed = self._db.execute(
                "UPDATE entries SET live = NOT live WHERE entry_id = ?1 "
                "AND live != EXISTS (SELECT 1 FROM sources WHERE entry_id = ?1)",
                (entry_id,),
            ).rowcount
            if changed:
                self._mark_entry_dirty(entry_id)
                self._touched_candidates.update(
                    r[0]
                    for r in self._db.execute(
                        "SELECT slug FROM candidates WHERE entry_id = ?", (entry_id,)
                    )
                )

    # -- automatic topics --------------------------------------------------------------------

    def _settle_auto_topics(self) -> None:
        """Turn the names this transaction touched on or off as topics (see
        `feeds.autotopics.settle`)."""
        touched, self._touched_candidates = self._touched_candidates, set()
        settings = autotopics.Settings(
            min_entries=self._auto_min, share=self._auto_share, cap=self._auto_max
        )
        # The bars last settled with are kept in the catalogue, not in this process: a bar
        # that moved between two runs looks at every topic again, as one that moved in a run.
        kept = self.setting(_AUTO_BARS)
        before = autotopics.Bars(*map(int, kept.split())) if kept else None
        used = autotopics.settle(
            self._db,
            touched,
            settings=settings,
            bars_before=before,
            all_slug=ALL_SLUG,
            switch=self._set_auto_topic,
        )
        if used is not None and (value := f"{used.on} {used.off}") != kept:
            self._put_setting(_AUTO_BARS, value)

    def _set_auto_topic(self, slug: str, *, on: bool) -> None:
        """Turn the automatic topic `slug` on or off; on, when it is on already (a name was
        merged into it), it takes the entries it lacks, and only they change (unless its title
        changed too: every entry's category does then)."""
        group = autotopics.group_of(self._db, slug)
        if on:
            label = autotopics.title_of(self._db, *autotopics.titled_group(self._db, slug))
            held = self._db.execute(
                "SELECT label FROM auto_topics WHERE slug = ?", (slug,)
            ).fetchone()
            if held is not None and held[0] == label:
                self._grow_auto_topic(slug, group)
                return
            if held is not None:
                self._set_auto_topic(slug, on=False)
        self._mark_members_dirty(group)
        if on:
            self._db.execute("INSERT INTO auto_topics (slug, label) VALUES (?, ?)", (slug, label))
            self._insert_auto_rows(slug, group)
            log.info("automatic topic on slug=%s", slug)
        else:
            self._db.execute("DELETE FROM auto_topics WHERE slug = ?", (slug,))
            self._db.execute(
                "DELETE FROM entry_topics WHERE slug = ? AND source = ?",
                (slug, TopicSource.AUTO.value),
            )
            log.info("automatic topic off slug=%s", slug)
        self._mark_members_dirty(group)

    def _insert_auto_rows(self, slug: str, group: Sequence[str]) -> None:
        """The automatic topic `slug` on every entry about a name of `group` (kept rows stay)."""
        self._db.executemany(
            "INSERT OR IGNORE INTO entry_topics "
            "(entry_id, slug, title, source, reason, updated, published, live) "
            f"SELECT c.entry_id, a.slug, a.label, ?, {_AUTO_REASON}, e.updated, "
            "e.published, e.live FROM candidates c JOIN auto_topics a ON a.slug = ? "
            "JOIN entries e USING (entry_id) WHERE c.slug = ?",
            [(TopicSource.AUTO.value, slug, name) for name in group],
        )

    def _grow_auto_topic(self, slug: str, group: Sequence[str]) -> None:
        """Give the active automatic topic `slug` the entries about a name of `group` that it
        lacks."""
        marks = ", ".join("?" * len(group))
        missing = [
            str(r[0])
            for r in self._db.execute(
                f"SELECT DISTINCT c.entry_id FROM candidates c WHERE c.slug IN ({marks}) "
                "AND NOT EXISTS (SELECT 1 FROM entry_topics t WHERE t.entry_id = c.entry_id "
                "AND t.slug = ? AND t.source = ?)",
                (*group, slug, TopicSource.AUTO.value),
            )
        ]
        self._insert_auto_rows(slug, group)
        for entry_id in missing:
            self._mark_entry_dirty(entry_id)
        if missing:
            self._mark_feeds([slug])
            log.info("automatic topic grew slug=%s entries=%d", slug, len(missing))

    def topic_report(self, *, min_entries: int, share: float, cap: int) -> autotopics.TopicReport:
        """Every topic and the names held back under these settings, for `seedfeed topics`."""
        return autotopics.report(
            self._db, all_slug=ALL_SLUG, min_entries=min_entries, share=share, cap=cap
        )

    def explain_names(self, names: Sequence[str], *, min_entries: int, share: float) -> list[str]:
        """Why each of an entry's candidate names is or is not an automatic topic here."""
        return autotopics.explain_names(
            self._db, names, all_slug=ALL_SLUG, min_entries=min_entries, share=share
        )

    def tune_auto_topics(
        self, auto_min_entries: int, auto_share: float = 0.0, auto_max: int = 0
    ) -> None:
        """Apply changed automatic-topic settings (`auto_min_entries` 0: off) to every name."""
        self._auto_min = auto_min_entries
        self._auto_share = auto_share
        self._auto_max = auto_max
        wanted = f"{auto_min_entries} {auto_share} {auto_max}"
        if self.setting("auto_min_entries") == wanted:
            return
        with self.transaction():
            self._touched_candidates.update(
                r[0] for r in self._db.execute("SELECT DISTINCT slug FROM candidates")
            )
            self._touched_candidates.update(
                r[0] for r in self._db.execute("SELECT slug FROM auto_topics")
            )
            self._put_setting("auto_min_entries", wanted)

    # -- dirty feeds -------------------------------------------------------------------------

    def dirt_generation(self) -> int:
        """The newest generation of the dirt this connection sees.

        Each write transaction marks dirt with a generation above all before it, so dirt
        marked after this was read (or by a transaction not yet committed) is above it: a
        publish that read what is dirty in one snapshot clears, once it is written, only what
        is still at or below the generation read with it.
        """
        (gen,) = self._db.execute(
            "SELECT max("
            + ", ".join(f"(SELECT coalesce(max(gen), 0) FROM {t})" for t in _DIRTY_TABLES)
            + ")"
        ).fetchone()
        return int(gen)

    def _mark_feeds(self, slugs: Iterable[str]) -> None:
        self._db.executemany(_MARK_FEED, [(slug, self._gen) for slug in slugs])

    def _mark_entry_dirty(self, entry_id: str) -> None:
        self._touched_entries.add(entry_id)
        self._stored.pop(entry_id, None)
        self._db.execute(_MARK_ENTRY_PAGE, (entry_id, self._gen))
        self._db.execute(
            "INSERT INTO dirty (slug, gen) SELECT ?, ? UNION ALL "
            "SELECT slug, ? FROM entry_topics WHERE entry_id = ? "
            "ON CONFLICT (slug) DO UPDATE SET gen = excluded.gen",
            (ALL_SLUG, self._gen, self._gen, entry_id),
        )

    def _sources_changed(self, entry_ids: Iterable[str]) -> None:
        """An entry's list of files changed: its page shows them, so it is written again."""
        for entry_id in entry_ids:
            self._stored.pop(entry_id, None)
            self._db.execute(_MARK_ENTRY_PAGE, (entry_id, self._gen))

    def _mark_members_dirty(self, names: Sequence[str]) -> None:
        """A topic appears or goes: its feed, and the feeds of its entries (their categories).
        `names` are its slug and those of the names merged into it."""
        self._stored.clear()
        self._mark_feeds([names[0], ALL_SLUG])
        for slug in names:
            self._touched_entries.update(
                r[0]
                for r in self._db.execute("SELECT entry_id FROM candidates WHERE slug = ?", (slug,))
            )
            self._db.execute(
                "INSERT INTO dirty (slug, gen) SELECT DISTINCT t.slug, ? FROM candidates c "
                "JOIN entry_topics t USING (entry_id) JOIN entries e USING (entry_id) "
                "WHERE c.slug = ? AND e.live ON CONFLICT (slug) DO UPDATE SET gen = excluded.gen",
                (self._gen, slug),
            )

    def mark_all_dirty(self) -> None:
        """Every feed and archive page is rendered at the next publish (site settings changed,
        or a first publish: the operator feed is written then too, empty)."""
        with self.transaction():
            self._mark_feeds([ALL_SLUG, REJECTED_SLUG])
            self._db.execute(
                "INSERT INTO dirty (slug, gen) SELECT slug, ? FROM topics WHERE true "
                "ON CONFLICT (slug) DO UPDATE SET gen = excluded.gen",
                (self._gen,),
            )
            self._db.execute(
                "INSERT INTO dirty_entries (entry_id, gen) SELECT entry_id, ? FROM entries "
                "WHERE live ON CONFLICT (entry_id) DO UPDATE SET gen = excluded.gen",
                (self._gen,),
            )
            for slug, top in self._db.execute(
                "SELECT slug, max(seq) FROM memberships GROUP BY slug"
            ).fetchall():
                self._db.executemany(
                    _MARK_ARCHIVE_PAGE,
                    [(slug, page, self._gen) for page in range(1, self._archived(top) + 1)],
                )

    # -- memberships: archive pages and tombstones --------------------------------------------

    def _sync_memberships(self) -> None:
        """Record which feeds each changed entry now belongs to, and which archive pages moved.

        A membership keeps its sequence number while the entry stays in the feed (one that
        comes back takes a new one), so archive page `n` of a topic always holds the entries
        that joined it `(n-1)*page_size+1` to `n*page_size`-th, and the subscription document
        the ones after the last archive page (see `_archived`). Entries joining in one
        transaction take their numbers oldest first (by `updated`, `published`, id), so a
        first build pages its history in time order.
        """
        touched, self._touched_entries = self._touched_entries, set()
        minted, self._minted_entries = self._minted_entries, set()
        if not touched:
            return
        left_at = stamp(self._clock())
        # Within one sync, a topic's next sequence number and its count's change are kept
        # here: read once, written once, however many of its entries joined.
        next_seq: dict[str, int] = {}
        counts: Counter[str] = Counter()
        found = {
            str(r[0]): (bool(r[1]), str(r[2]), str(r[3]))
            for r in self._rows_in(
                "SELECT entry_id, live, updated, published FROM entries WHERE entry_id",
                sorted(touched),
            )
        }
        # Each entry's topics and memberships in a few statements, not two per entry.
        topics: dict[str, set[str]] = {}
        for entry_id, slug in self._rows_in(
            "SELECT entry_id, slug FROM entry_topics WHERE entry_id",
            sorted(e for e, (live, _, _) in found.items() if live),
        ):
            topics.setdefault(entry_id, set()).add(slug)
        memberships: dict[str, dict[str, tuple[int, str | None]]] = {}
        for slug, entry_id, seq, gone in self._rows_in(
            "SELECT slug, entry_id, seq, left_at FROM memberships WHERE entry_id",
            sorted(touched - minted),
        ):
            memberships.setdefault(entry_id, {})[slug] = (int(seq), gone)
        # Entries joining, inserted together (before any archive page count is read).
        joins: list[tuple[str, str, int]] = []
        for entry_id in sorted(touched, key=lambda e: (*found.get(e, (False, "", ""))[1:], e)):
            live = entry_id in found and found[entry_id][0]
            current = {ALL_SLUG} | topics.get(entry_id, set()) if live else set()
            held = memberships.get(entry_id, {})
            for slug in sorted(current):
                if slug not in held or held[slug][1] is not None:
                    # It joins, or comes back: either way after every entry before it, so
                    # no archive page that is out ever gains an entry.
                    seq = next_seq.get(slug) or self._next_seq(slug)
                    next_seq[slug] = seq + 1
                    joins.append((slug, entry_id, seq))
                    counts[slug] += 1
                    if seq % self.page_size == 0:
                        # A page's worth joined after the last archive page: the page before
                        # them is out, the one before it links to it, and the feed loses it.
                        self._join(joins)
                        archived = self._archived(seq)
                        self._mark_feeds([slug])
                        self._dirty_page(slug, archived - 1)
                        self._dirty_page(slug, archived)
            for slug, (_, gone) in held.items():
                if slug not in current and gone is None:
                    self._db.execute(
                        "UPDATE memberships SET left_at = ? WHERE slug = ? AND entry_id = ?",
                        (left_at, slug, entry_id),
                    )
                    counts[slug] -= 1
                    self._mark_feeds([slug])
            if held:
                self._join(joins)
            for slug, (seq, _) in held.items():
                self._dirty_page(slug, (seq - 1) // self.page_size + 1)
        self._join(joins)
        self._db.executemany(
            "INSERT INTO topic_counts (slug, entries) VALUES (?, ?) "
            "ON CONFLICT (slug) DO UPDATE SET entries = entries + excluded.entries",
            [(slug, change) for slug, change in sorted(counts.items()) if change],
        )

    def _join(self, joins: list[tuple[str, str, int]]) -> None:
        """Insert the memberships `(slug, entry_id, seq)` of entries joining a feed (or coming
        back to it), and empty the list."""
        self._db.executemany(
            "INSERT INTO memberships (slug, entry_id, seq) VALUES (?, ?, ?) "
            "ON CONFLICT (slug, entry_id) DO UPDATE SET seq = excluded.seq, left_at = NULL",
            joins,
        )
        joins.clear()

    def _next_seq(self, slug: str) -> int:
        (seq,) = self._db.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM memberships WHERE slug = ?", (slug,)
        ).fetchone()
        return int(seq)

    def _dirty_page(self, slug: str, page: int) -> None:
        """Mark archive page `page` of `slug` for rendering, if it is out."""
        if 1 <= page <= self.archive_page_count(slug):
            self._db.execute(_MARK_ARCHIVE_PAGE, (slug, page, self._gen))

    def archive_page_count(self, slug: str) -> int:
        """How many archive pages `slug` has (page 1 is the oldest)."""
        (top,) = self._db.execute(
            "SELECT coalesce(max(seq), 0) FROM memberships WHERE slug = ?", (slug,)
        ).fetchone()
        return self._archived(int(top))

    def _archived(self, top: int) -> int:
        """How many archive pages a feed has when `top` entries ever joined it.

        A page is out once it is full and a whole page's worth of entries joined after it:
        the subscription document holds every entry no archive page holds (at least
        `page_size` of the latest to join, fewer than twice that), so each entry is in
        exactly one document of the feed's history, and a page never changes its entries
        once it is out (RFC 5005). Which entries are newest by `updated` plays no part.
        """
        return max(0, top // self.page_size - 1)

    def archive_entries(self, slug: str, page: int) -> list[StoredEntry]:
        """The live entries of archive page `page` of `slug`, newest first."""
        return self._stored_entries(self._archive_rows(slug, page, _ENTRY_SELECT))

    def archive_atom_parts(self, slug: str, page: int) -> list[AtomPart]:
        """`archive_entries` as Atom parts: each entry's kept XML, if any."""
        return [_atom_part(row) for row in self._archive_rows(slug, page, _ATOM_PART_SELECT)]

    def _archive_rows(self, slug: str, page: int, columns: str) -> list[tuple[object, ...]]:
        low = (page - 1) * self.page_size + 1
        return self._db.execute(
            f"SELECT {columns} FROM memberships m JOIN entries e USING (entry_id) "
            "LEFT JOIN atom_entries a USING (entry_id) "
            "WHERE m.slug = ? AND m.seq BETWEEN ? AND ? AND m.left_at IS NULL AND e.live "
            "ORDER BY e.updated DESC, e.published DESC, e.entry_id DESC",
            (slug, low, low + self.page_size - 1),
        ).fetchall()

    def tombstones(self, slug: str, *, since: datetime, limit: int) -> list[Tombstone]:
        """The `limit` entries that left `slug` last, at or after `since`, most recent first."""
        rows = self._db.execute(
            "SELECT entry_id, left_at FROM memberships WHERE slug = ? AND left_at >= ? "
            "ORDER BY left_at DESC, entry_id LIMIT ?",
            (slug, stamp(since), limit),
        )
        return [Tombstone(entry_id=str(r[0]), when=_moment(str(r[1]))) for r in rows]

    def dirty_entries(self, *, limit: int, after: str = "") -> list[tuple[str, str, bool]]:
        """Up to `limit` entries, by id from just `after`, whose page must be written again:
        (entry_id, slug, whether it is live; False when it left every file)."""
        rows = self._db.execute(
            "SELECT d.entry_id, e.slug, e.live FROM dirty_entries d "
            "JOIN entries e USING (entry_id) WHERE d.entry_id > ? ORDER BY d.entry_id LIMIT ?",
            (after, limit),
        ).fetchall()
        return [(str(entry_id), str(slug), bool(live)) for entry_id, slug, live in rows]

    def stored_entry(self, entry_id: str) -> StoredEntry | None:
        found = self.stored_entries([entry_id])
        return found[0] if found else None

    def stored_entries(self, entry_ids: Sequence[str]) -> list[StoredEntry]:
        """The entries of `entry_ids` that exist, in that order."""
        rows = {
            str(row[0]): row
            for row in self._rows_in(
                f"SELECT {_ENTRY_SELECT} FROM entries e WHERE e.entry_id", entry_ids
            )
        }
        return self._stored_entries([rows[i] for i in entry_ids if i in rows])

    def _rows_in(self, query: str, keys: Sequence[str], order: str = "") -> Iterator[Any]:
        """The rows of `query` (ending in the column to match) for `keys`: `IN (?, …)` added,
        with at most `_IN_LIST` keys to a statement, each followed by `order`."""
        for start in range(0, len(keys), _IN_LIST):
            chunk = keys[start : start + _IN_LIST]
            marks = ", ".join("?" * len(chunk))
            yield from self._db.execute(f"{query} IN ({marks}) {order}", chunk)

    def keep_atom_entries(self, rendered: Iterable[tuple[str, int, bytes]]) -> None:
        """Keep the Atom XML rendered for entries `(entry_id, revision, xml)`: each only if
        the entry is still at that revision (else it changed after it was read, and the XML
        shows what it was)."""
        with self.transaction():
            self._db.executemany(
                "INSERT INTO atom_entries (entry_id, revision, xml) VALUES (?, ?, ?) "
                "ON CONFLICT (entry_id) DO UPDATE SET xml = excluded.xml "
                "WHERE revision = excluded.revision",
                rendered,
            )

    def forget_atom_entries(self) -> None:
        """Drop every entry's kept Atom XML (the settings its links come from changed); XML
        being rendered meanwhile is not kept either."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO atom_entries (entry_id, revision) SELECT entry_id, 1 FROM entries "
                "WHERE true ON CONFLICT (entry_id) "
                "DO UPDATE SET revision = revision + 1, xml = NULL"
            )

    def clear_dirty_entries(self, entry_ids: Iterable[str], *, upto: int | None = None) -> None:
        """These entries' pages are written (or removed) as they stood at generation `upto`
        (by default, now): marked again since, they stay dirty."""
        gen = self._upto(upto)
        with self.transaction():
            self._db.executemany(
                "DELETE FROM dirty_entries WHERE entry_id = ? AND gen <= ?",
                [(e, gen) for e in entry_ids],
            )

    def clear_all_dirty_entries(self, *, upto: int | None = None) -> None:
        gen = self._upto(upto)
        with self.transaction():
            self._db.execute("DELETE FROM dirty_entries WHERE gen <= ?", (gen,))

    def _upto(self, upto: int | None) -> int:
        return self._gen if upto is None else upto

    def dirty_pages(self) -> list[tuple[str, int]]:
        return [
            (str(r[0]), int(r[1]))
            for r in self._db.execute("SELECT slug, page FROM dirty_pages ORDER BY slug, page")
        ]

    def clear_dirty_pages(
        self, pages: Iterable[tuple[str, int]], *, upto: int | None = None
    ) -> None:
        gen = self._upto(upto)
        with self.transaction():
            self._db.executemany(
                "DELETE FROM dirty_pages WHERE slug = ? AND page = ? AND gen <= ?",
                [(slug, page, gen) for slug, page in pages],
            )

    def has_dirty(self) -> bool:
        """Anything at all for the next publish: feeds, archive pages or entry pages."""
        return any(
            self._db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None
            for table in _DIRTY_TABLES
        )

    def dirty_slugs(self) -> list[str]:
        """Feeds to render again, Atom first: `all` (the most read), then by slug."""
        return [
            r[0]
            for r in self._db.execute(
                "SELECT slug FROM dirty ORDER BY slug != ?, slug", (ALL_SLUG,)
            )
        ]

    def atom_feeds_written(self, slugs: Iterable[str], *, upto: int | None = None) -> None:
        """These feeds' Atom documents are on disk as they stood at generation `upto`; their
        other formats and pages are not."""
        rows = [(s, self._upto(upto)) for s in slugs]
        with self.transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO dirty_others (slug, gen) "
                "SELECT slug, gen FROM dirty WHERE slug = ? AND gen <= ?",
                rows,
            )
            self._db.executemany("DELETE FROM dirty WHERE slug = ? AND gen <= ?", rows)

    def dirty_other_slugs(self) -> list[str]:
        """Feeds whose Atom document is written but not their other formats and page."""
        return [r[0] for r in self._db.execute("SELECT slug FROM dirty_others ORDER BY slug")]

    def clear_dirty(self, slugs: Iterable[str], *, upto: int | None = None) -> None:
        """Everything of these feeds is on disk, as they stood at generation `upto`."""
        rows = [(s, self._upto(upto)) for s in slugs]
        with self.transaction():
            self._db.executemany("DELETE FROM dirty WHERE slug = ? AND gen <= ?", rows)
            self._db.executemany("DELETE FROM dirty_others WHERE slug = ? AND gen <= ?", rows)

    # -- reading for feeds -------------------------------------------------------------------

    def settled_topic(self, slug: str, *, title: str | None = None) -> Topic | None:
        """The topic `slug` if `topic` would return it without writing (it exists, under the
        title wanted), else None: a reader's way to it."""
        row = self._db.execute(
            "SELECT title, created FROM topics WHERE slug = ?", (slug,)
        ).fetchone()
        if row is None or (title or self._topic_title(slug) or row[0]) != row[0]:
            return None
        return Topic(slug=slug, title=str(row[0]), created=_moment(row[1]))

    def topic(self, slug: str, *, title: str | None = None, now: datetime) -> Topic | None:
        """The topic `slug` (created on its first publish), or None if it never had an entry.

        `title` names the `all` feed; other topics take their title from their rule.
        """
        settled = self.settled_topic(slug, title=title)
        if settled is not None:
            return settled
        # New, or retitled: the two reads above are done again, on this rare path only.
        row = self._db.execute(
            "SELECT title, created FROM topics WHERE slug = ?", (slug,)
        ).fetchone()
        wanted_title = title or self._topic_title(slug)
        if wanted_title is None:
            return None
        with self.transaction():
            if row is None:
                self._db.execute(
                    "INSERT INTO topics (slug, title, created) VALUES (?, ?, ?)",
                    (slug, wanted_title, stamp(now)),
                )
            else:
                self._db.execute("UPDATE topics SET title = ? WHERE slug = ?", (wanted_title, slug))
        return Topic(
            slug=slug, title=wanted_title, created=_moment(stamp(now) if row is None else row[1])
        )

    def _topic_title(self, slug: str) -> str | None:
        """The title entries give a topic: the first by name from the strongest source (the
        taxonomy, then a declared topic, a folder, an automatic name)."""
        row = self._db.execute(
            "SELECT "
            + ", ".join(
                f"(SELECT min(title) FROM entry_topics WHERE slug = ?1 AND source = ?{n + 2})"
                for n in range(len(_TITLE_SOURCES))
            ),
            (slug, *_TITLE_SOURCES),
        ).fetchone()
        return next((str(title) for title in row if title is not None), None)

    def topic_count(self, slug: str) -> int:
        """Live entries in feed `slug` (`all`: every live entry)."""
        row = self._db.execute(
            "SELECT entries FROM topic_counts WHERE slug = ?", (slug,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def topics(self) -> Iterator[tuple[Topic, int]]:
        """Every published topic (not `all` nor `_rejected`) with its count of live entries,
        in the order lists show them: by title, case-insensitively (Unicode case folding), then
        by slug. Rows come as they are iterated (35,000 automatic topics are never all held)."""
        rows = self._db.execute(
            "SELECT t.slug, t.title, t.created, coalesce(c.entries, 0) "
            "FROM topics t LEFT JOIN topic_counts c USING (slug) "
            "WHERE t.slug != ? AND t.slug NOT LIKE '\\_%' ESCAPE '\\' "
            "ORDER BY casefold(t.title), t.slug",
            (ALL_SLUG,),
        )
        return ((Topic(slug=r[0], title=r[1], created=_moment(r[2])), int(r[3])) for r in rows)

    def feed_entries(self, slug: str, *, limit: int) -> list[StoredEntry]:
        """The newest `limit` live entries of a topic (`all`: of everything), newest first,
        straight from the index that orders them (RSS, JSON Feed and topic pages)."""
        if slug == ALL_SLUG:
            rows = self._db.execute(
                f"SELECT {_ENTRY_SELECT} FROM entries e WHERE e.live = 1 "
                "ORDER BY e.updated DESC, e.published DESC, e.entry_id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        else:
            rows = self._db.execute(
                f"SELECT {_ENTRY_SELECT} FROM entry_topics t JOIN entries e USING (entry_id) "
                "WHERE t.slug = ? AND t.live "
                "ORDER BY t.updated DESC, t.published DESC, t.entry_id DESC LIMIT ?",
                (slug, limit),
            ).fetchall()
        return self._stored_entries(rows)

    def current_atom_parts(self, slug: str) -> list[AtomPart]:
        """The entries of a topic's Atom subscription document (`all`: of everything) as
        Atom parts, newest first: every live entry no archive page holds, each with its kept
        XML, if any. A topic's are read from its memberships, its index and the kept XML,
        never from the entries' rows."""
        low = self.archive_page_count(slug) * self.page_size + 1
        if slug == ALL_SLUG:
            query = (
                f"SELECT {_ATOM_PART_SELECT}, e.published FROM memberships m "
                "JOIN entries e USING (entry_id) LEFT JOIN atom_entries a USING (entry_id) "
                "WHERE m.slug = ? AND m.seq >= ? AND m.left_at IS NULL AND e.live"
            )
        else:
            query = (
                f"SELECT {_TOPIC_ATOM_PART_SELECT}, t.published FROM memberships m "
                "JOIN entry_topics t ON t.slug = m.slug AND t.entry_id = m.entry_id "
                "LEFT JOIN atom_entries a ON a.entry_id = m.entry_id "
                "WHERE m.slug = ? AND m.seq >= ? AND m.left_at IS NULL AND t.live"
            )
        # Fewer than two pages of rows: put in the order feeds show (newest `updated`, then
        # `published`, then id, as stamps compare) here rather than by a temporary index.
        rows = self._db.execute(query, (slug, low)).fetchall()
        rows.sort(key=lambda r: (str(r[1]), str(r[4]), str(r[0])), reverse=True)
        return [_atom_part(row) for row in rows]

    def _stored_entries(self, rows: Sequence[Sequence[object]]) -> list[StoredEntry]:
        """StoredEntry values for entry rows: kept ones from the cache, the others with their
        topics and sources read in one query each."""
        (version,) = self._db.execute("PRAGMA data_version").fetchone()
        if version != self._stored_version:
            self._stored.clear()
            self._stored_version = version
        found: dict[str, StoredEntry] = {}
        for row in rows:
            entry_id = str(row[0])
            if (kept := self._stored.get(entry_id)) is not None:
                self._stored.move_to_end(entry_id)
                found[entry_id] = kept
        missing = [str(row[0]) for row in rows if str(row[0]) not in found]
        topics: dict[str, list[TopicMatch]] = {entry_id: [] for entry_id in missing}
        sources: dict[str, list[Path]] = {entry_id: [] for entry_id in missing}
        for r in self._rows_in(
            "SELECT entry_id, slug, title, source, reason FROM entry_topics WHERE entry_id",
            missing,
            "ORDER BY entry_id, slug",
        ):
            topics[r[0]].append(_topic_match(r[1], r[2], r[3], r[4]))
        for r in self._rows_in(
            "SELECT entry_id, rel_path FROM sources WHERE entry_id",
            missing,
            "ORDER BY entry_id, rel_path",
        ):
            sources[r[0]].append(Path(r[1]))
        for row in rows:
            entry_id = str(row[0])
            if entry_id not in found:
                stored = _stored_from(row, tuple(topics[entry_id]), tuple(sources[entry_id]))
                found[entry_id] = self._stored[entry_id] = stored
                if len(self._stored) > _STORED_CACHE_SIZE:
                    self._stored.popitem(last=False)
        return [found[str(row[0])] for row in rows]

    def _entry_topics(self, entry_id: str) -> tuple[TopicMatch, ...]:
        return tuple(
            _topic_match(r[0], r[1], r[2], r[3])
            for r in self._db.execute(
                "SELECT slug, title, source, reason FROM entry_topics WHERE entry_id = ? "
                "ORDER BY slug",
                (entry_id,),
            )
        )

    def counts(self) -> CatalogCounts:
        files = self.file_count()
        (rejected,) = self._db.execute(
            "SELECT count(*) FROM files WHERE status = ?", (FileStatus.REJECTED.value,)
        ).fetchone()
        entries = self.topic_count(ALL_SLUG)
        (topics,) = self._db.execute(
            "SELECT count(*) FROM topic_counts WHERE entries > 0 AND slug != ?", (ALL_SLUG,)
        ).fetchone()
        (unpublished,) = self._db.execute(
            "SELECT " + " + ".join(f"(SELECT count(*) FROM {table})" for table in _DIRTY_TABLES)
        ).fetchone()
        return CatalogCounts(
            files=files,
            rejected=rejected,
            entries=entries,
            topics=topics,
            unpublished=unpublished,
        )


def _stored_from(
    row: Sequence[object], topics: tuple[TopicMatch, ...], sources: tuple[Path, ...]
) -> StoredEntry:
    """A StoredEntry from a row of `_ENTRY_SELECT` and the entry's topics and sources."""
    return StoredEntry(
        entry_id=str(row[0]),
        slug=str(row[1]),
        title=str(row[2]),
        published=_moment(str(row[3])),
        updated=_moment(str(row[4])),
        summary=str(row[5]),
        content=str(row[6]),
        place=None if row[7] is None else str(row[7]),
        author=None if row[8] is None else str(row[8]),
        link=None if row[9] is None else str(row[9]),
        topics=topics,
        sources=sources,
    )


def id_slug(title: str) -> str:
    """What a new entry's id is made of: its title, slugified (a number follows if taken)."""
    return slugify(title, max_length=60, word_boundary=True) or "entry"


def _atom_part(row: Sequence[object]) -> AtomPart:
    """An AtomPart from a row of `_ATOM_PART_SELECT`."""
    return AtomPart(
        entry_id=str(row[0]),
        updated=_moment(str(row[1])),
        revision=int(str(row[2])),
        xml=row[3] if isinstance(row[3], bytes) else None,
    )


def _candidate_labels(entry: Entry) -> dict[str, str]:
    if not entry.candidates:
        return {}
    from feeds.topics.names import spelling_key

    labels: dict[str, str] = {}
    for label in entry.candidates:
        labels.setdefault(spelling_key(label), label)
    return labels
