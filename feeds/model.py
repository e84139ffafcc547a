"""The values that flow between seedfeed's stages. Dataclasses and enums only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path


class FileStatus(StrEnum):
    """What became of a file under `seeds/`."""

    OK = "ok"
    REJECTED = "rejected"


class TopicSource(StrEnum):
    """Which rule gave an entry a topic."""

    EXPLICIT = "explicit"
    FOLDER = "folder"
    TAXONOMY = "taxonomy"
    AUTO = "auto"
    LEARNED = "learned"


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """One file's text, decoded and cleaned, with what identifies its bytes."""

    rel_path: Path
    text: str
    content_hash: str
    encoding: str
    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FileRecord:
    """What the catalogue remembers of one file under `seeds/`."""

    rel_path: Path
    size: int
    mtime_ns: int
    inode: int
    content_hash: str | None
    status: FileStatus
    reason: str | None
    # The file was used, and its stat was taken at least `RACY_SECONDS` before it was stored:
    # an unchanged stat means unchanged bytes. (Within that time an edit of the same size in
    # the same timestamp tick would leave the stat as it is: only the bytes can tell.)
    stat_trusted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicMatch:
    """One topic given to an entry, and why."""

    slug: str
    title: str
    source: TopicSource
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One story as normalized from a file, before the catalogue gives it an id."""

    title: str
    published: datetime | None
    summary: str
    content: str
    body: str
    fingerprint: str
    format: str
    place: str | None = None
    author: str | None = None
    link: str | None = None
    source_name: str | None = None
    declared_topics: tuple[str, ...] = ()
    topics: tuple[TopicMatch, ...] = ()
    candidates: tuple[str, ...] = ()
    # Names the entry is about that another topic holds: (name, why), for `seedfeed topics`.
    held_names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    """A feed: `all`, a taxonomy topic, a folder, an explicit or an automatic topic."""

    slug: str
    title: str
    created: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEntry:
    """An entry as the catalogue holds it: with its id and its dates."""

    entry_id: str
    slug: str
    title: str
    published: datetime
    updated: datetime
    summary: str
    content: str
    place: str | None
    author: str | None
    link: str | None
    topics: tuple[TopicMatch, ...]
    sources: tuple[Path, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AtomPart:
    """An entry's place in an Atom document: its id and `updated`, and its `<entry>` XML as
    the catalogue keeps it (None: not rendered since it last changed) with the revision of
    the entry that XML shows."""

    entry_id: str
    updated: datetime
    revision: int
    xml: bytes | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Tombstone:
    """An entry that left a feed (RFC 6721 `at:deleted-entry`), shown for `tombstone_days`."""

    entry_id: str
    when: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedPage:
    """Which document of a topic's history is rendered (RFC 5005 archived feeds).

    `number` is None for the subscription document, else the archive page (1 is the oldest).
    `prev_archive` / `next_archive` are the neighbouring archive pages, when they exist.
    """

    number: int | None = None
    prev_archive: int | None = None
    next_archive: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicRule:
    """One topic of the taxonomy in `seedfeed.toml`."""

    slug: str
    title: str
    phrases: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    min_hits: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Every setting seedfeed reads, each with its default (see `seedfeed.toml`)."""

    source: Path | None = None
    site_title: str = "seedfeed"
    # Where public/ is published, as configured; None: where it is served (`feeds.urls.site_url`).
    base_url: str | None = None
    id_authority: str = "seedfeed.localhost"
    author: str = "seedfeed"
    language: str = "en"
    seeds_dir: Path = Path("seeds")
    public_dir: Path = Path("public")
    state_dir: Path = Path(".seedfeed")
    host: str = "127.0.0.1"
    port: int = 8080
    publish_every: float = 1.0
    reconcile_every: float = 600.0
    settle: float = 0.5
    settle_limit: float = 30.0
    polling: bool = False
    max_entries: int = 50
    tombstone_days: int = 30
    formats: tuple[str, ...] = ("atom", "rss", "json")
    hub_url: str | None = None
    entry_pages: bool = True
    summary_length: int = 300
    timezone: str = "UTC"
    title_case: bool = False
    max_file_bytes: int = 10 * 1024 * 1024
    boilerplate: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    auto_topics: bool = True
    auto_min_entries: int = 2
    auto_min_share: float = 0.005
    max_auto_topics: int = 300
    auto_never: tuple[str, ...] = ()  # names never made topics
    auto_merge: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (title, names that are it)
    taxonomy: tuple[TopicRule, ...] = ()
    learn: bool = True
    learn_min_examples: int = 5
    learn_exclude: tuple[str, ...] = ()
