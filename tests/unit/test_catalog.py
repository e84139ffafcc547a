"""The catalogue against a real SQLite file: ids, liveness, dirty feeds, automatic topics."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.catalog import SCHEMA_VERSION, Catalog
from feeds.errors import CatalogError
from feeds.model import Entry, FileRecord, FileStatus, TopicMatch, TopicSource
from feeds.urls import ALL_SLUG

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _entry(
    title: str, body: str, *, topics: tuple[str, ...] = (), names: tuple[str, ...] = ()
) -> Entry:
    return Entry(
        title=title,
        published=None,
        summary=body[:40],
        content=f"<p>{body}</p>",
        body=body,
        fingerprint=hashlib.sha256(f"{title}\n{body}".encode()).hexdigest(),
        format="test",
        topics=tuple(
            TopicMatch(slug=t, title=t.title(), source=TopicSource.TAXONOMY, reason="test")
            for t in topics
        ),
        candidates=names,
    )


def _record(name: str, digest: str = "h") -> FileRecord:
    return FileRecord(
        rel_path=Path(name),
        size=1,
        mtime_ns=1,
        inode=1,
        content_hash=digest,
        status=FileStatus.OK,
        reason=None,
    )


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(tmp_path / "state", id_authority="example.org", auto_min_entries=2)
    yield opened
    opened.close()


def test_minted_ids_are_tag_uris_from_the_authority_and_first_seen_date(catalog: Catalog) -> None:
    [entry_id] = catalog.store_file(_record("a.txt"), [_entry("Dam opens", "Water.")], now=T0)
    assert entry_id == "tag:example.org,2026-03-01:dam-opens"
    [again] = catalog.store_file(_record("b.txt"), [_entry("Dam opens", "Other water.")], now=T0)
    assert again == "tag:example.org,2026-03-01:dam-opens-2"


def test_an_edit_keeps_the_id_and_moves_updated_only_for_the_changed_story(
    catalog: Catalog,
) -> None:
    first, second = catalog.store_file(
        _record("a.txt"), [_entry("One", "First."), _entry("Two", "Second.")], now=T0
    )
    later = T0 + timedelta(hours=1)
    ids = catalog.store_file(
        _record("a.txt", "h2"),
        [_entry("One", "First, edited."), _entry("Two", "Second.")],
        now=later,
    )
    assert ids == [first, second]
    by_id = {e.entry_id: e for e in catalog.feed_entries(ALL_SLUG, limit=10)}
    assert by_id[first].updated == later
    assert by_id[second].updated == T0
    assert "edited" in by_id[first].content


def test_a_rename_keeps_ids_and_a_deleted_story_coming_back_gets_its_old_id(
    catalog: Catalog,
) -> None:
    [entry_id] = catalog.store_file(_record("a.txt"), [_entry("One", "First.")], now=T0)
    catalog.forget_file(Path("a.txt"))
    assert catalog.feed_entries(ALL_SLUG, limit=10) == []
    [back] = catalog.store_file(_record("moved/b.txt"), [_entry("One", "First.")], now=T0)
    assert back == entry_id
    [stored] = catalog.feed_entries(ALL_SLUG, limit=10)
    assert stored.updated == T0
    assert stored.sources == (Path("moved/b.txt"),)


def test_the_same_story_in_two_files_is_one_entry_listing_both(catalog: Catalog) -> None:
    [a] = catalog.store_file(_record("a.txt"), [_entry("One", "Same.")], now=T0)
    [b] = catalog.store_file(_record("b.txt"), [_entry("One", "Same.")], now=T0)
    assert a == b
    [stored] = catalog.feed_entries(ALL_SLUG, limit=10)
    assert stored.sources == (Path("a.txt"), Path("b.txt"))
    catalog.forget_file(Path("a.txt"))
    [kept] = catalog.feed_entries(ALL_SLUG, limit=10)
    assert kept.sources == (Path("b.txt"),)


def test_feeds_are_newest_first_and_limited(catalog: Catalog) -> None:
    for hour in range(5):
        catalog.store_file(
            _record(f"{hour}.txt"),
            [_entry(f"Story {hour}", f"Body {hour}.")],
            now=T0 + timedelta(hours=hour),
        )
    titles = [e.title for e in catalog.feed_entries(ALL_SLUG, limit=3)]
    assert titles == ["Story 4", "Story 3", "Story 2"]


def test_a_reader_sees_what_is_committed_and_cannot_write(catalog: Catalog) -> None:
    reader = Catalog.open_reader(catalog.path.parent, page_size=catalog.page_size)
    try:
        assert reader.feed_entries(ALL_SLUG, limit=3) == []
        catalog.store_file(_record("a.txt"), [_entry("Dam opens", "Water.")], now=T0)
        assert [e.title for e in reader.feed_entries(ALL_SLUG, limit=3)] == ["Dam opens"]
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
            reader.topic("fresh", title="Fresh", now=T0)  # a first publish writes the topic
    finally:
        reader.close()


def test_topics_are_listed_by_casefolded_title_then_slug(catalog: Catalog) -> None:
    titles = {
        "zeta": "Zeta",
        "eclair-2": "éclair",
        "eclair": "Éclair",
        "apple": "apple",
        "aerger": "Ärger",
        "strasse": "STRASSE",
        "strasse-de": "Straße",
        "banana": "Banana",
        "ebene": "ébène",
    }
    with catalog.transaction():
        for slug, title in titles.items():
            catalog.topic(slug, title=title, now=T0)
    listed = [topic.slug for topic, _ in catalog.topics()]
    # Unicode case folding, as Python's str.casefold ("Straße" folds to "strasse"; SQLite's
    # own lower() would leave "É" and "Ä" alone).
    expected = sorted(titles, key=lambda slug: (titles[slug].casefold(), slug))
    assert listed == expected
    assert listed.index("ebene") < listed.index("eclair")  # "Éclair" folds to "éclair"
    # Titles that fold alike sit together, their slugs breaking the tie.
    assert listed.index("eclair") + 1 == listed.index("eclair-2")
    assert listed.index("strasse") + 1 == listed.index("strasse-de")


def test_a_snapshot_reads_one_moment_while_another_connection_writes(catalog: Catalog) -> None:
    reader = Catalog.open_reader(catalog.path.parent, page_size=catalog.page_size)
    try:
        catalog.store_file(_record("a.txt"), [_entry("Dam opens", "Water.")], now=T0)
        with reader.snapshot():
            before = reader.topic_count(ALL_SLUG)
            catalog.store_file(_record("b.txt", "h2"), [_entry("Dam closes", "Dry.")], now=T0)
            assert reader.topic_count(ALL_SLUG) == before == 1
            assert [e.title for e in reader.feed_entries(ALL_SLUG, limit=5)] == ["Dam opens"]
        assert reader.topic_count(ALL_SLUG) == 2
    finally:
        reader.close()


def test_a_reader_never_serves_an_entry_as_an_earlier_snapshot_held_it(catalog: Catalog) -> None:
    """A publish reads from a reader in several snapshots (entry pages, then feeds) while
    files are stored. An entry edited in between must be rendered as edited: its XML is
    kept with the revision the later snapshot read, and an old text kept under the new
    revision would stay in every feed until the next edit."""
    [entry_id] = catalog.store_file(_record("a.txt"), [_entry("One", "First.")], now=T0)
    reader = Catalog.open_reader(catalog.path.parent, page_size=catalog.page_size)
    try:
        with reader.snapshot():  # the entry pages
            first = reader.stored_entry(entry_id)
            [before] = reader.current_atom_parts(ALL_SLUG)
        assert first is not None and "First." in first.content
        catalog.store_file(_record("a.txt", "h2"), [_entry("One", "First, edited.")], now=T0)
        with reader.snapshot():  # the feeds
            [part] = reader.current_atom_parts(ALL_SLUG)
            [stored] = reader.stored_entries([part.entry_id])
        assert part.revision > before.revision and part.xml is None
        assert "edited" in stored.content
        assert [e.content for e in reader.feed_entries(ALL_SLUG, limit=5)] == [stored.content]
    finally:
        reader.close()


def test_dirty_feeds_are_the_ones_whose_entries_changed(catalog: Catalog) -> None:
    catalog.store_file(_record("a.txt"), [_entry("One", "First.", topics=("water",))], now=T0)
    catalog.store_file(_record("b.txt"), [_entry("Two", "Second.", topics=("fire",))], now=T0)
    assert catalog.dirty_slugs() == ["all", "fire", "water"]
    catalog.clear_dirty(catalog.dirty_slugs())
    catalog.store_file(
        _record("a.txt", "h2"), [_entry("One", "First, again.", topics=("water",))], now=T0
    )
    assert catalog.dirty_slugs() == ["all", "water"]
    catalog.clear_dirty(catalog.dirty_slugs())
    catalog.store_file(
        _record("a.txt", "h3"), [_entry("One", "First, again.", topics=("earth",))], now=T0
    )
    assert catalog.dirty_slugs() == ["all", "earth", "water"]


def test_dirt_marked_again_while_a_publish_renders_stays_for_the_next(catalog: Catalog) -> None:
    """A publish reads what is dirty from a reader, renders, then clears what it read: dirt
    marked again meanwhile (a file stored) must stay, or that change would never be
    published."""
    catalog.store_file(_record("a.txt"), [_entry("One", "First.", topics=("water",))], now=T0)
    catalog.store_file(_record("b.txt"), [_entry("Two", "Second.", topics=("fire",))], now=T0)
    reader = Catalog.open_reader(catalog.path.parent, page_size=catalog.page_size)
    try:
        with reader.snapshot():
            upto = reader.dirt_generation()
            seen = reader.dirty_slugs()
            entries = [entry_id for entry_id, _, _ in reader.dirty_entries(limit=10)]
    finally:
        reader.close()
    assert seen == ["all", "fire", "water"] and len(entries) == 2
    [one] = catalog.store_file(
        _record("a.txt", "h2"), [_entry("One", "First, again.", topics=("water",))], now=T0
    )
    catalog.atom_feeds_written(seen, upto=upto)
    assert catalog.dirty_slugs() == ["all", "water"]
    assert catalog.dirty_other_slugs() == ["fire"]
    catalog.clear_dirty(seen, upto=upto)
    catalog.clear_dirty_entries(entries, upto=upto)
    assert catalog.dirty_slugs() == ["all", "water"]
    assert catalog.dirty_other_slugs() == []
    assert [entry_id for entry_id, _, _ in catalog.dirty_entries(limit=10)] == [one]
    # Reopened, the catalogue goes on from the newest generation its dirt holds.
    upto = catalog.dirt_generation()
    catalog.close()
    reopened = Catalog.open(catalog.path.parent, id_authority="example.org", auto_min_entries=2)
    try:
        reopened.store_file(
            _record("b.txt", "h2"), [_entry("Two", "Second, again.", topics=("fire",))], now=T0
        )
        reopened.clear_dirty(["all", "fire", "water"], upto=upto)
        assert reopened.dirty_slugs() == ["all", "fire"]
    finally:
        reopened.close()


def test_an_unchanged_store_dirties_nothing(catalog: Catalog) -> None:
    catalog.store_file(_record("a.txt"), [_entry("One", "First.", topics=("water",))], now=T0)
    catalog.clear_dirty(catalog.dirty_slugs())
    catalog.store_file(_record("a.txt"), [_entry("One", "First.", topics=("water",))], now=T0)
    assert catalog.dirty_slugs() == []


def test_a_name_in_two_entries_becomes_an_automatic_topic_and_leaves_with_them(
    catalog: Catalog,
) -> None:
    catalog.store_file(_record("a.txt"), [_entry("One", "Kabul.", names=("Kabul",))], now=T0)
    assert catalog.feed_entries("kabul", limit=10) == []
    catalog.store_file(_record("b.txt"), [_entry("Two", "Kabul too.", names=("Kabul",))], now=T0)
    assert {e.title for e in catalog.feed_entries("kabul", limit=10)} == {"One", "Two"}
    assert "kabul" in catalog.dirty_slugs()
    topic = catalog.topic("kabul", now=T0)
    assert topic is not None and topic.title == "Kabul"
    catalog.clear_dirty(catalog.dirty_slugs())
    catalog.forget_file(Path("b.txt"))
    assert catalog.feed_entries("kabul", limit=10) == []
    assert "kabul" in catalog.dirty_slugs()


def test_automatic_topics_follow_a_changed_threshold(tmp_path: Path) -> None:
    state = tmp_path / "state"
    catalog = Catalog.open(state, id_authority="example.org", auto_min_entries=2)
    catalog.store_file(_record("a.txt"), [_entry("One", "Kabul.", names=("Kabul",))], now=T0)
    catalog.store_file(_record("b.txt"), [_entry("Two", "Kabul.", names=("Kabul",))], now=T0)
    catalog.close()
    catalog = Catalog.open(state, id_authority="example.org", auto_min_entries=3)
    assert catalog.feed_entries("kabul", limit=10) == []
    catalog.close()
    catalog = Catalog.open(state, id_authority="example.org", auto_min_entries=0)
    assert catalog.feed_entries("kabul", limit=10) == []
    catalog.close()
    catalog = Catalog.open(state, id_authority="example.org", auto_min_entries=2)
    assert len(catalog.feed_entries("kabul", limit=10)) == 2
    catalog.close()


def test_a_rejected_file_is_listed_with_its_reason_and_its_entries_leave(catalog: Catalog) -> None:
    catalog.store_file(_record("a.txt"), [_entry("One", "First.")], now=T0)
    rejected = FileRecord(
        rel_path=Path("a.txt"),
        size=0,
        mtime_ns=2,
        inode=1,
        content_hash=None,
        status=FileStatus.REJECTED,
        reason="empty or whitespace only",
    )
    catalog.reject_file(rejected, now=T0)
    assert catalog.feed_entries(ALL_SLUG, limit=10) == []
    assert [(r.rel_path, r.reason) for r in catalog.rejected_files()] == [
        (Path("a.txt"), "empty or whitespace only")
    ]
    assert catalog.counts().rejected == 1


def test_a_failed_transaction_leaves_nothing_behind(catalog: Catalog) -> None:
    with pytest.raises(RuntimeError), catalog.transaction():
        catalog.store_file(_record("a.txt"), [_entry("One", "First.")], now=T0)
        raise RuntimeError("crash")
    assert catalog.file_count() == 0
    assert catalog.dirty_slugs() == []


def test_the_schema_is_versioned_and_a_newer_catalogue_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    Catalog.open(state, id_authority="example.org", auto_min_entries=2).close()
    db = sqlite3.connect(state / "catalog.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(CatalogError, match="newer than this seedfeed"):
        Catalog.open(state, id_authority="example.org", auto_min_entries=2)


def test_a_corrupt_catalogue_stops_with_advice(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "catalog.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(CatalogError, match="move the state folder aside"):
        Catalog.open(state, id_authority="example.org", auto_min_entries=2)


def _paged(tmp_path: Path, clock: list[datetime]) -> Catalog:
    return Catalog.open(
        tmp_path / "paged",
        id_authority="example.org",
        auto_min_entries=2,
        page_size=2,
        clock=lambda: clock[0],
    )


def test_archive_pages_fill_in_order_and_keep_their_entries(tmp_path: Path) -> None:
    clock = [T0]
    catalog = _paged(tmp_path, clock)
    for n in range(7):
        catalog.store_file(
            _record(f"{n}.txt"),
            [_entry(f"Story {n}", f"Body {n}.", topics=("water",))],
            now=T0 + timedelta(minutes=n),
        )
    # A page is out once a page's worth joined after it: the feed holds the rest.
    assert catalog.archive_page_count("water") == 2
    assert catalog.archive_page_count(ALL_SLUG) == 2
    assert {e.title for e in catalog.archive_entries("water", 1)} == {"Story 0", "Story 1"}
    assert {e.title for e in catalog.archive_entries("water", 2)} == {"Story 2", "Story 3"}
    titles = {e.entry_id: e.title for e in catalog.feed_entries("water", limit=10)}
    current = [titles[p.entry_id] for p in catalog.current_atom_parts("water")]
    assert current == ["Story 6", "Story 5", "Story 4"]
    assert set(catalog.dirty_pages()) == {("all", 1), ("all", 2), ("water", 1), ("water", 2)}
    catalog.clear_dirty_pages(catalog.dirty_pages())
    catalog.store_file(
        _record("1.txt", "h2"),
        [_entry("Story 1", "Body 1, edited.", topics=("water",))],
        now=T0 + timedelta(hours=1),
    )
    assert set(catalog.dirty_pages()) == {("all", 1), ("water", 1)}
    catalog.close()


def test_an_entry_that_leaves_a_topic_leaves_a_tombstone(tmp_path: Path) -> None:
    clock = [T0]
    catalog = _paged(tmp_path, clock)
    [gone] = catalog.store_file(_record("a.txt"), [_entry("One", "A.", topics=("water",))], now=T0)
    catalog.store_file(_record("b.txt"), [_entry("Two", "B.", topics=("water",))], now=T0)
    clock[0] = T0 + timedelta(days=1)
    catalog.store_file(
        _record("a.txt", "h2"), [_entry("One", "A.", topics=("fire",))], now=clock[0]
    )
    [stone] = catalog.tombstones("water", since=T0, limit=50)
    assert (stone.entry_id, stone.when) == (gone, clock[0])
    assert catalog.tombstones("water", since=clock[0] + timedelta(seconds=1), limit=50) == []
    assert catalog.tombstones(ALL_SLUG, since=T0, limit=50) == []
    catalog.forget_file(Path("a.txt"))
    assert [t.entry_id for t in catalog.tombstones(ALL_SLUG, since=T0, limit=50)] == [gone]
    catalog.store_file(_record("c.txt"), [_entry("One", "A.", topics=("fire",))], now=clock[0])
    assert catalog.tombstones(ALL_SLUG, since=T0, limit=50) == []
    catalog.close()


def test_a_feed_lists_only_its_latest_tombstones(tmp_path: Path) -> None:
    clock = [T0]
    catalog = _paged(tmp_path, clock)
    for n in range(5):
        catalog.store_file(_record(f"{n}.txt"), [_entry(f"S{n}", f"B{n}")], now=T0)
    for n in range(5):
        clock[0] = T0 + timedelta(hours=n + 1)
        catalog.forget_file(Path(f"{n}.txt"))
    stones = catalog.tombstones(ALL_SLUG, since=T0, limit=3)
    assert [t.when for t in stones] == [T0 + timedelta(hours=h) for h in (5, 4, 3)]
    catalog.close()


def test_entry_pages_to_write_and_to_remove_are_tracked(catalog: Catalog) -> None:
    [kept] = catalog.store_file(_record("a.txt"), [_entry("One", "A.")], now=T0)
    [dropped] = catalog.store_file(_record("b.txt"), [_entry("Two", "B.")], now=T0)
    catalog.clear_dirty_entries([e for e, _, _ in catalog.dirty_entries(limit=10)])
    catalog.forget_file(Path("b.txt"))
    assert catalog.dirty_entries(limit=10) == [(dropped, "two", False)]
    assert kept != dropped


def test_paths_under_a_folder_are_found_by_prefix_exactly(catalog: Catalog) -> None:
    for name in ("news/a.txt", "news/deep/b.txt", "news0.txt", "News/c.txt", "newsroom/d.txt"):
        catalog.store_file(_record(name), [_entry(name, name)], now=T0)
    assert catalog.paths_under(Path("news")) == [Path("news/a.txt"), Path("news/deep/b.txt")]
    assert catalog.paths_under(Path("news0.txt")) == [Path("news0.txt")]


def test_counts_follow_entries_and_topics(catalog: Catalog) -> None:
    catalog.store_file(_record("a.txt"), [_entry("One", "A.", topics=("water",))], now=T0)
    catalog.store_file(_record("b.txt"), [_entry("Two", "B.", topics=("water", "fire"))], now=T0)
    assert (catalog.counts().entries, catalog.counts().topics) == (2, 2)
    catalog.forget_file(Path("b.txt"))
    assert (catalog.counts().entries, catalog.counts().topics) == (1, 1)
    catalog.topic("water", now=T0)
    catalog.topic("fire", now=T0)
    assert {t.slug: n for t, n in catalog.topics()} == {"fire": 0, "water": 1}


def test_editing_one_of_two_identical_files_gives_the_edit_an_id_of_its_own(
    catalog: Catalog,
) -> None:
    [shared] = catalog.store_file(_record("a.txt"), [_entry("Twin", "One.")], now=T0)
    catalog.store_file(_record("b.txt"), [_entry("Twin", "One.")], now=T0)
    [edited] = catalog.store_file(_record("a.txt", "h2"), [_entry("Twin", "Two.")], now=T0)
    assert edited != shared
    bodies = {e.entry_id: e.content for e in catalog.feed_entries(ALL_SLUG, limit=10)}
    assert bodies == {shared: "<p>One.</p>", edited: "<p>Two.</p>"}


def test_a_renamed_and_edited_file_keeps_its_ids(catalog: Catalog) -> None:
    [first] = catalog.store_file(_record("before.txt"), [_entry("Story", "One.")], now=T0)
    [moved] = catalog.store_file(
        _record("after.txt", "h2"),
        [_entry("Story", "Two.")],
        now=T0,
        moved_from=Path("before.txt"),
    )
    catalog.forget_file(Path("before.txt"))
    assert moved == first
    [stored] = catalog.feed_entries(ALL_SLUG, limit=10)
    assert (stored.entry_id, stored.content, stored.sources) == (
        first,
        "<p>Two.</p>",
        (Path("after.txt"),),
    )


def _reopened_as(state: Path, version: int, *statements: str) -> Catalog:
    """The catalogue in `state` made as an earlier `version` left it (`statements` undo what
    later ones added), then opened: migrated forward."""
    db = sqlite3.connect(state / "catalog.sqlite3")
    for statement in statements:
        db.execute(statement)
    db.execute(f"PRAGMA user_version={version}")
    db.commit()
    db.close()
    return Catalog.open(state, id_authority="example.org", auto_min_entries=2)


def test_a_version_1_catalogue_gains_what_later_versions_add(tmp_path: Path) -> None:
    """Version 2 added indexes and dirty_others; version 3 the generation of each dirt and
    the liveness of each entry's topics, filled from the entries; version 4 the entries' kept
    Atom XML; version 5 the merged automatic names and the names other topics hold;
    version 6 the entries' texts before an edit; version 7 the entries waiting for their
    learned topics (every live one)."""
    state = tmp_path / "state"
    catalog = Catalog.open(state, id_authority="example.org", auto_min_entries=2)
    catalog.store_file(_record("a.txt"), [_entry("One", "First.", topics=("water",))], now=T0)
    catalog.store_file(_record("b.txt"), [_entry("Two", "Second.", topics=("water",))], now=T0)
    catalog.forget_file(Path("b.txt"))
    catalog.close()
    db = sqlite3.connect(state / "catalog.sqlite3")
    triggers = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name != 'atom_entries'"
    ).fetchall()
    db.close()
    catalog = _reopened_as(
        state,
        1,
        *(f"DROP TRIGGER {trigger}" for (trigger,) in triggers),
        "DROP TABLE atom_entries",
        "DROP TABLE former_fingerprints",
        "DROP INDEX entry_topics_newest",
        "CREATE INDEX entry_topics_newest ON entry_topics (slug, updated DESC)",
        *(
            f"ALTER TABLE {table} DROP COLUMN {'live' if table == 'entry_topics' else 'gen'}"
            for table in ("entry_topics", "dirty", "dirty_pages", "dirty_entries")
        ),
        "DROP INDEX memberships_left",
        "DROP INDEX entry_topics_titles",
        "DROP TABLE dirty_others",
        "DROP TABLE auto_merges",
        "DROP TABLE held_names",
        "DROP TABLE learn_pending",
    )
    try:
        assert [e.title for e in catalog.feed_entries("water", limit=10)] == ["One"]
        assert catalog.dirty_slugs() == ["all", "water"]
        catalog.clear_dirty(catalog.dirty_slugs())
        assert catalog.dirty_slugs() == []
    finally:
        catalog.close()
    db = sqlite3.connect(state / "catalog.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT 1 FROM sqlite_master WHERE name = 'memberships_left'").fetchone()
    assert db.execute("SELECT count(*) FROM learn_pending").fetchone() == (1,)
    db.close()


def test_a_topic_feed_reads_as_little_with_many_deleted_entries_as_with_none(
    catalog: Catalog,
) -> None:
    """Deleted entries keep their rows (and ids) for good, and may be the newest of their
    topic: the newest live entries must still come straight from the index."""

    def steps_to_read_feed() -> int:
        steps = 0

        def count() -> int:
            nonlocal steps
            steps += 1
            return 0

        catalog._db.set_progress_handler(count, 100)
        try:
            assert len(catalog.feed_entries("x", limit=5)) == 5
        finally:
            catalog._db.set_progress_handler(None, 0)
        return steps

    for n in range(5):
        catalog.store_file(
            _record(f"old-{n}.txt"), [_entry(f"Old {n}", "B", topics=("x",))], now=T0
        )
    later = T0 + timedelta(days=1)
    for n in range(5):
        catalog.store_file(
            _record(f"new-{n}.txt"), [_entry(f"New {n}", "B", topics=("x",))], now=later
        )
        catalog.forget_file(Path(f"new-{n}.txt"))
    few = steps_to_read_feed()
    for n in range(5, 400):
        catalog.store_file(
            _record(f"new-{n}.txt"), [_entry(f"New {n}", "B", topics=("x",))], now=later
        )
        catalog.forget_file(Path(f"new-{n}.txt"))
    many = steps_to_read_feed()
    assert all(e.title.startswith("Old") for e in catalog.feed_entries("x", limit=5))
    assert many <= few + 2, (few, many)


def test_a_feed_is_read_through_indexes_whatever_the_catalogue_size(catalog: Catalog) -> None:
    """What a publish reads for one feed must not walk every entry or membership: each query
    of `feed_entries`, `tombstones` and `archive_entries` (and their Atom parts) is an index
    search, and sorts at most the rows of one entry."""
    for n in range(3):
        catalog.store_file(_record(f"{n}.txt"), [_entry(f"S{n}", f"B{n}", topics=("x",))], now=T0)
    catalog.forget_file(Path("0.txt"))
    statements: list[str] = []
    catalog._db.set_trace_callback(statements.append)  # the SQL the catalogue runs
    for slug in (ALL_SLUG, "x"):
        catalog.feed_entries(slug, limit=50)
        catalog.current_atom_parts(slug)
        catalog.tombstones(slug, since=T0, limit=50)
        catalog.archive_entries(slug, 1)
        catalog.archive_atom_parts(slug, 1)
        catalog.archive_page_count(slug)
        catalog.topic_count(slug)
        catalog.topic(slug, title="All" if slug == ALL_SLUG else None, now=T0)
    catalog._db.set_trace_callback(None)
    reads = {s for s in statements if s.lstrip().upper().startswith("SELECT")}
    assert reads
    for statement in reads:
        plan = " | ".join(
            str(row[3]) for row in catalog._db.execute(f"EXPLAIN QUERY PLAN {statement}")
        )
        assert not re.search(r"\bSCAN (?!CONSTANT ROW)", plan), f"{statement}\n{plan}"
        # Sorting is fine only for the few rows of one entry (its sources, its topics).
        assert "TEMP B-TREE" not in plan or "(entry_id=?)" in plan, f"{statement}\n{plan}"


def _kept_xml(catalog: Catalog, slug: str = ALL_SLUG) -> dict[str, tuple[int, bytes | None]]:
    return {p.entry_id: (p.revision, p.xml) for p in catalog.current_atom_parts(slug)}


def test_an_entrys_atom_xml_is_kept_until_anything_it_shows_changes(catalog: Catalog) -> None:
    """XML kept for a revision of an entry serves every feed until the entry's text, dates,
    topics or liveness change; XML rendered from an earlier revision is refused (a publish
    renders outside the lock while files are stored)."""
    [one] = catalog.store_file(
        _record("a.txt"), [_entry("One", "First.", topics=("water",))], now=T0
    )
    [two] = catalog.store_file(_record("b.txt"), [_entry("Two", "Second.")], now=T0)
    revision, xml = _kept_xml(catalog)[one]
    assert xml is None
    catalog.keep_atom_entries([(one, revision, b"<entry>one</entry>"), (two, 0, b"<entry/>")])
    assert _kept_xml(catalog)[one] == (revision, b"<entry>one</entry>")
    assert _kept_xml(catalog, "water")[one] == (revision, b"<entry>one</entry>")
    assert {p.xml for p in catalog.archive_atom_parts(ALL_SLUG, 1)} == {
        b"<entry>one</entry>",
        b"<entry/>",
    }

    def edits() -> Iterator[None]:
        catalog.store_file(  # its text
            _record("a.txt", "h2"), [_entry("One", "First, edited.", topics=("water",))], now=T0
        )
        yield
        catalog.store_file(  # its topics alone
            _record("a.txt", "h3"), [_entry("One", "First, edited.", topics=("wind",))], now=T0
        )
        yield
        catalog.forget_file(Path("a.txt"))  # it leaves every feed
        yield

    for _ in edits():
        state = catalog._db.execute(
            "SELECT revision, xml FROM atom_entries WHERE entry_id = ?", (one,)
        ).fetchone()
        assert state[0] > revision and state[1] is None, state
        catalog.keep_atom_entries([(one, revision, b"<entry>stale</entry>")])
        assert catalog._db.execute(
            "SELECT xml FROM atom_entries WHERE entry_id = ?", (one,)
        ).fetchone() == (None,)
        revision = state[0]
        catalog.keep_atom_entries([(one, revision, b"<entry>fresh</entry>")])
    assert _kept_xml(catalog) == {two: (0, b"<entry/>")}  # the other entry kept its XML
    catalog.forget_atom_entries()
    assert _kept_xml(catalog) == {two: (1, None)}


def test_xml_rendered_before_an_entry_without_topics_changed_is_refused(
    catalog: Catalog,
) -> None:
    """An entry in no topic has no row of kept XML until something changes it; the change's
    row must not look like the revision the publish read (0, for no row)."""
    [entry_id] = catalog.store_file(_record("a.txt"), [_entry("Lone", "First.")], now=T0)
    [part] = catalog.current_atom_parts(ALL_SLUG)
    assert (part.revision, part.xml) == (0, None)
    catalog.store_file(_record("a.txt", "h2"), [_entry("Lone", "First, edited.")], now=T0)
    catalog.keep_atom_entries([(entry_id, part.revision, b"<entry>before the edit</entry>")])
    [after] = catalog.current_atom_parts(ALL_SLUG)
    assert after.xml is None and after.revision > part.revision


def test_feeds_published_under_the_former_history_rule_are_rendered_again(
    tmp_path: Path,
) -> None:
    """A catalogue of schema 5 published feeds holding the newest entries by `updated`: on
    opening it every feed is rendered again to hold the entries no archive page holds."""
    state = tmp_path / "state"
    catalog = Catalog.open(state, id_authority="example.org", auto_min_entries=2)
    catalog.store_file(_record("a.txt"), [_entry("One", "A.", topics=("water",))], now=T0)
    catalog.clear_dirty(catalog.dirty_slugs())
    catalog.close()
    catalog = _reopened_as(
        state,
        5,
        "DROP TRIGGER former_fingerprints_follow_edits",
        "DROP TABLE former_fingerprints",
        *(f"DROP TRIGGER learn_pending_{change}" for change in ("new", "text", "back", "topics")),
        "DROP TABLE learn_pending",
    )
    try:
        assert catalog.dirty_slugs() == ["all", "water"]
    finally:
        catalog.close()
