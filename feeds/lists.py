"""index.html and feeds.opml: the two documents that name every topic.

Their size grows with the catalogue (25 MB and 6.5 MB with the ~35,000 automatic topics of
100k stories), so they are never held in memory: both are streamed from one snapshot of the
catalogue into their files, and only replace them when their bytes changed. The daemon writes
them apart from the feeds, every few seconds at most, from a read-only connection: neither
the catalogue lock nor a drop waits for them.

A publish that changed something marks them pending (a generation count); `take_lists` says
what to write (under the lock, cheap), `write_lists` writes it (anywhere), and
`lists_written` clears the mark unless more changes came meanwhile.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from feeds.catalog import Catalog
from feeds.model import Config, Topic
from feeds.pages import index_lines
from feeds.publish import announce_written, write_stream_atomically
from feeds.render import opml_lines
from feeds.urls import ALL_SLUG

_PENDING = "lists_pending"
_NEWEST_ON_INDEX = 20
# Lines encoded and written together: ~100 KB at a time.
_LINES_PER_CHUNK = 512


@dataclass(frozen=True, slots=True, kw_only=True)
class Lists:
    """What the lists are written for: the `all` topic they open with, and the generation of
    changes they will include (at least)."""

    all_topic: Topic
    generation: int


def lists_pending(catalog: Catalog) -> bool:
    """True when index.html and feeds.opml miss changes published since they were written."""
    return _generation(catalog) > 0


def mark_lists_pending(catalog: Catalog) -> None:
    """A publish changed documents: the lists name what it published."""
    catalog.save_setting(_PENDING, str(_generation(catalog) + 1))


def _generation(catalog: Catalog) -> int:
    """How many publishes changed something since the lists were last written (0: none)."""
    return int(catalog.setting(_PENDING) or "0")


def take_lists(catalog: Catalog, config: Config, *, now: datetime) -> Lists:
    """Say what to write; `lists_written` is called once it is on disk. Needs the writing
    connection: the `all` topic is created, or retitled after a change of `site_title`."""
    all_topic = catalog.topic(ALL_SLUG, title=config.site_title, now=now)
    assert all_topic is not None  # a title is given, so the topic exists
    return Lists(all_topic=all_topic, generation=_generation(catalog))


def write_lists(
    catalog: Catalog,
    lists: Lists,
    config: Config,
    *,
    give_way: Callable[[], object] = lambda: None,
) -> list[tuple[Path, int]]:
    """Write index.html and feeds.opml from one snapshot of `catalog` (any connection to it,
    a read-only one included), streaming topics from it; return the files whose bytes changed,
    with their sizes (each is logged). `give_way` is called between chunks: the daemon waits
    there for a drop being stored or published, so the lists never slow one down."""
    public = config.public_dir
    changed: list[tuple[Path, int]] = []
    with catalog.snapshot():
        all_count = catalog.topic_count(ALL_SLUG)
        newest = catalog.feed_entries(ALL_SLUG, limit=_NEWEST_ON_INDEX)

        def listed() -> Iterator[tuple[Topic, int]]:
            return itertools.chain([(lists.all_topic, all_count)], catalog.topics())

        def topics() -> Iterator[Topic]:
            for topic, _ in listed():
                yield topic

        documents = (
            (public / "index.html", index_lines(listed, newest, config=config)),
            (public / "feeds.opml", opml_lines(topics(), config=config)),
        )
        for path, lines in documents:
            size = write_stream_atomically(path, _encoded(lines, give_way))
            if size is not None:
                announce_written(path, size)
                changed.append((path, size))
    return changed


def lists_written(catalog: Catalog, lists: Lists) -> None:
    """The lists of `take_lists` are on disk: no longer pending, unless changes came since
    (a crash before this leaves them pending, so the next start writes them)."""
    if _generation(catalog) == lists.generation:
        catalog.save_setting(_PENDING, "0")


def _encoded(lines: Iterable[str], give_way: Callable[[], object]) -> Iterator[bytes]:
    """UTF-8 chunks of a few hundred lines each, `give_way` called before each."""
    iterator = iter(lines)
    while True:
        give_way()
        batch = list(itertools.islice(iterator, _LINES_PER_CHUNK))
        if not batch:
            return
        yield "".join(batch).encode("utf-8")
