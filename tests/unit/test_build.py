"""The build steps on real folders: reconcile seeds/, publish dirty feeds, skip the unchanged."""

from __future__ import annotations

import gc
import logging
import os
import random
import shutil
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.build import (
    UNSYNCED,
    apply_config,
    is_ignored,
    open_catalog,
    publish_dirty,
    reconcile,
    scan_seeds,
    update,
)
from feeds.config import DEFAULT_CONFIG
from feeds.errors import PublishError
from feeds.lists import lists_pending, lists_written, take_lists, write_lists
from feeds.model import Config, TopicRule
from feeds.preload import MODULES
from feeds.workers import reading_pool, start_reading_pool
from tests.atom_schema import assert_valid_atom, parse_with_feedparser
from tests.conftest import SAMPLE_SEEDS, SHARED
from tests.history import assert_history_complete, live_entries_by_feed, page_ids

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SAMPLES = sorted(SAMPLE_SEEDS.glob("*.txt"))


@pytest.fixture
def config(sample_site: Config) -> Config:
    return sample_site


def _build(config: Config, now: datetime) -> None:
    catalog = open_catalog(config)
    try:
        update(catalog, config, now=now)
    finally:
        catalog.close()


def _mtimes(public: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in public.rglob("*") if p.is_file()}


def test_the_sample_seeds_give_three_valid_entries(config: Config) -> None:
    _build(config, T0)
    data = (config.public_dir / "feeds" / "all.atom").read_bytes()
    assert_valid_atom(data)
    feed = parse_with_feedparser(data)
    assert len(feed.entries) == 3
    assert {"Pakistan assumes chair of SCO’s permanent body on counterterrorism"} <= {
        e.title for e in feed.entries
    }
    for path in (config.public_dir / "feeds").glob("*.atom"):
        assert_valid_atom(path.read_bytes())
    assert (config.public_dir / "index.html").exists()
    assert (config.public_dir / "feeds.opml").exists()


def test_a_second_build_with_nothing_changed_writes_nothing(config: Config) -> None:
    _build(config, T0)
    before = _mtimes(config.public_dir)
    _build(config, T0 + timedelta(hours=1))
    assert _mtimes(config.public_dir) == before


def test_a_file_removed_between_builds_leaves_the_feeds(config: Config) -> None:
    _build(config, T0)
    (config.seeds_dir / SAMPLES[1].name).unlink()
    _build(config, T0 + timedelta(hours=1))
    feed = parse_with_feedparser((config.public_dir / "feeds" / "all.atom").read_bytes())
    assert len(feed.entries) == 2


def test_a_reconcile_finds_exactly_the_files_that_left_among_many(config: Config) -> None:
    """Files gone, files now ignored, files new and files kept, in folders and across the
    scan's batches: exactly the gone and ignored ones leave the catalogue."""
    desks = ("", "harbours/", "harbours/night/", "railways/")
    paths = [f"{desks[n % 4]}story-{n:04d}.txt" for n in range(1_100)]
    for n, path in enumerate(paths):
        (config.seeds_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (config.seeds_dir / path).write_text(f"Title: Story {n}\n\nBody of story {n}.\n")
    catalog = open_catalog(config)
    try:
        assert reconcile(catalog, config, now=T0).ingested == len(SAMPLES) + 1_100
        gone = paths[3::97]
        for path in gone:
            (config.seeds_dir / path).unlink()
        (config.seeds_dir / "late.txt").write_text("Title: Late\n\nA late story.\n")
        ignoring = replace(config, ignore=(*config.ignore, "story-1099.txt"))
        report = reconcile(catalog, ignoring, now=T0 + timedelta(hours=1))
        assert len(gone) == 12
        assert (report.ingested, report.removed) == (1, 13)
        assert catalog.file_count() == report.seen == len(SAMPLES) + 1_100 - 13 + 1
        left = {*gone, paths[-1]}
        assert all((catalog.file_record(Path(p)) is None) == (p in left) for p in paths)
        # Nothing changed since: nothing is removed, and nothing read again.
        again = reconcile(catalog, ignoring, now=T0 + timedelta(hours=2))
        assert (again.ingested, again.removed) == (0, 0)
        # One file for another: as many files as before, one of them new.
        (config.seeds_dir / paths[0]).rename(config.seeds_dir / "harbours" / "renamed.txt")
        swapped = reconcile(catalog, ignoring, now=T0 + timedelta(hours=3))
        assert (swapped.seen, swapped.ingested, swapped.removed) == (report.seen, 1, 1)
        assert catalog.file_record(Path(paths[0])) is None
    finally:
        catalog.close()


def test_a_file_rewritten_within_its_timestamp_tick_is_read_again(config: Config) -> None:
    """An edit of the same size, in place, in the same timestamp tick as the write seedfeed
    read leaves size, mtime and inode as they were (timestamps tick every few ms, every 2 s
    on FAT): a file stored that soon after its mtime is read again at the next reconcile,
    until it is older than that; one stored later is trusted on its stat."""
    for name in ("fresh.txt", "settled.txt"):
        (config.seeds_dir / name).write_text(f"Title: {name}\n\nRevision one of {name}.\n")
    settled = config.seeds_dir / "settled.txt"
    old = settled.stat().st_mtime_ns - 10_000_000_000
    os.utime(settled, ns=(old, old))
    catalog = open_catalog(config)

    def rewrite(path: Path) -> None:  # same size, same inode, same mtime
        mtime = path.stat().st_mtime_ns
        path.write_text(path.read_text().replace("one", "two"))
        os.utime(path, ns=(mtime, mtime))

    def body(name: str) -> str:
        (content,) = [e.content for e in catalog.feed_entries("all", limit=9) if name in e.content]
        return content

    try:
        reconcile(catalog, config, now=datetime.now(UTC))
        assert not catalog.file_record(Path("fresh.txt")).stat_trusted
        assert catalog.file_record(Path("settled.txt")).stat_trusted
        rewrite(config.seeds_dir / "fresh.txt")
        rewrite(settled)
        report = reconcile(catalog, config, now=datetime.now(UTC) + timedelta(seconds=5))
        assert report.ingested == 1
        assert "Revision two" in body("fresh.txt")
        assert "Revision one" in body("settled.txt")  # what a stat cannot see
        # Read again with its bytes the same, it is trusted from then on.
        assert catalog.file_record(Path("fresh.txt")).stat_trusted
    finally:
        catalog.close()


def test_without_entry_pages_feeds_link_the_original_and_old_pages_are_removed(
    config: Config,
) -> None:
    (config.seeds_dir / "linked.txt").write_text(
        "Title: Port reopens\nDate: 2026-02-01\nURL: https://news.example/port\n\n"
        "The port reopened on Monday after the storm.\n"
    )
    _build(config, T0)
    pages = config.public_dir / "entries"
    assert len(list(pages.glob("*.html"))) == 4
    quiet = replace(config, entry_pages=False)
    _build(quiet, T0 + timedelta(hours=1))
    assert list(pages.glob("*.html")) == []
    data = (config.public_dir / "feeds" / "all.atom").read_bytes()
    assert_valid_atom(data)
    links = {
        e.title: [link.href for link in e.get("links", [])]
        for e in parse_with_feedparser(data).entries
    }
    assert links.pop("Port reopens") == ["https://news.example/port"]
    assert list(links.values()) == [[], [], []]
    for document in ("feeds/all.atom", "feeds/all.rss", "feeds/all.json", "index.html"):
        assert b"entries/" not in (config.public_dir / document).read_bytes(), document
    (config.seeds_dir / "later.txt").write_text("Title: Later\nDate: 2026-02-02\n\nMore news.\n")
    _build(quiet, T0 + timedelta(hours=2))
    assert list(pages.glob("*.html")) == []


def test_an_unusable_file_is_rejected_with_a_reason_and_nothing_else_changes(
    config: Config,
) -> None:
    (config.seeds_dir / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    _build(config, T0)
    catalog = open_catalog(config)
    try:
        [rejected] = catalog.rejected_files()
        assert rejected.rel_path == Path("photo.png")
        assert rejected.reason and "binary" in rejected.reason
        assert catalog.counts().entries == 3
    finally:
        catalog.close()
    assert (config.seeds_dir / "photo.png").read_bytes().startswith(b"\x89PNG")


def test_a_symlink_out_of_seeds_is_never_published(config: Config, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("Title: Private\n\nPrivate words that must stay private.\n")
    os.symlink(secret, config.seeds_dir / "link.txt")
    _build(config, T0)
    assert b"Private words" not in (config.public_dir / "feeds" / "all.atom").read_bytes()
    catalog = open_catalog(config)
    try:
        assert [r.rel_path for r in catalog.rejected_files()] == [Path("link.txt")]
    finally:
        catalog.close()


def test_hidden_and_temporary_names_are_ignored(config: Config) -> None:
    for name in (".draft.txt", "story.txt~", "story.txt.swp", "big.part", "4913", "x.crdownload"):
        (config.seeds_dir / name).write_text("Title: Half\n\nNot ready.\n")
    (config.seeds_dir / ".git").mkdir()
    (config.seeds_dir / ".git" / "HEAD").write_text("ref: main\n")
    assert sorted(rel for rel, _ in scan_seeds(config)) == sorted(s.name for s in SAMPLES)
    assert is_ignored(Path(".hidden/story.txt"), config.ignore)
    assert not is_ignored(Path("politics/story.txt"), config.ignore)


def test_a_changed_taxonomy_retags_and_rebuilds_only_the_feeds_it_changes(config: Config) -> None:
    config = replace(config, auto_topics=False)
    pakistan = TopicRule(slug="pakistan", title="Pakistan", phrases=("Pakistan",))
    sco = TopicRule(slug="sco", title="SCO", phrases=("SCO",))
    _build(replace(config, taxonomy=(pakistan, sco)), T0)
    feeds_dir = config.public_dir / "feeds"
    assert len(parse_with_feedparser((feeds_dir / "pakistan.atom").read_bytes()).entries) == 3
    assert len(parse_with_feedparser((feeds_dir / "sco.atom").read_bytes()).entries) == 2
    before = _mtimes(config.public_dir)
    opposition = TopicRule(slug="opposition", title="Opposition", phrases=("Imran Khan",))
    changed = replace(config, taxonomy=(pakistan, sco, opposition))
    catalog = open_catalog(changed)
    try:
        apply_config(catalog, changed)
        # The rally story gains a topic: its feeds change (a new category), the SCO feed does not.
        assert catalog.dirty_slugs() == ["all", "opposition", "pakistan"]
        reconcile(catalog, changed, now=T0)
        publish_dirty(catalog, changed, now=T0)
    finally:
        catalog.close()
    after = _mtimes(config.public_dir)
    assert after[feeds_dir / "sco.atom"] == before[feeds_dir / "sco.atom"]
    assert after[feeds_dir / "pakistan.atom"] != before[feeds_dir / "pakistan.atom"]
    opposition_feed = parse_with_feedparser((feeds_dir / "opposition.atom").read_bytes())
    assert [e.title for e in opposition_feed.entries] == [
        "Pakistan opposition rallies in Khyber Pakhtunkhwa to demand release of Imran Khan"
    ]


def test_the_lists_stay_pending_until_written_with_every_change(config: Config) -> None:
    catalog = open_catalog(config)
    try:
        reconcile(catalog, config, now=T0)
        publish_dirty(catalog, config, now=T0, lists=False)
        assert lists_pending(catalog)
        assert not (config.public_dir / "index.html").exists()
        snapshot = take_lists(catalog, config, now=T0)
        # A change published while the lists are being written keeps them pending.
        (config.seeds_dir / SAMPLES[1].name).unlink()
        reconcile(catalog, config, now=T0)
        publish_dirty(catalog, config, now=T0, lists=False)
        write_lists(catalog, snapshot, config)
        lists_written(catalog, snapshot)
        assert lists_pending(catalog)
        publish_dirty(catalog, config, now=T0)
        assert not lists_pending(catalog)
        assert (config.public_dir / "index.html").exists()
    finally:
        catalog.close()


def test_the_daemon_publish_writes_every_atom_feed_before_the_other_documents(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """Most readers poll the Atom feeds: the daemon writes all of them before any RSS, JSON
    Feed or topic page, and what a feed whose Atom is out still needs waits in dirty_others."""
    catalog = open_catalog(config)
    try:
        apply_config(catalog, config)
        reconcile(catalog, config, now=T0)
        waiting = catalog.dirty_slugs()
        assert len(waiting) > 2
        with caplog.at_level(logging.INFO, logger="feeds.publish"):
            report = publish_dirty(catalog, config, now=T0, lists=False, lock=threading.Lock())
        written = [
            Path(str(r.args[0])).relative_to(config.public_dir)  # type: ignore[index]
            for r in caplog.records
            if r.msg.startswith("written")
        ]
        feeds = [p for p in written if p.parent == Path("feeds")]
        atom = [n for n, p in enumerate(written) if p in feeds and p.suffix == ".atom"]
        others = [n for n, p in enumerate(written) if p not in feeds or p.suffix != ".atom"]
        others = [n for n in others if written[n].parts[0] != "entries"]
        assert len(atom) == len(waiting)
        assert others and max(atom) < min(others)
        assert (config.public_dir / "feeds" / "all.rss").exists()
        assert not catalog.has_dirty()
        assert "http://127.0.0.1:8080/feeds/all.atom" in report.changed_feeds
    finally:
        catalog.close()


def test_a_feed_whose_atom_is_out_gets_its_other_documents_at_the_next_publish(
    config: Config,
) -> None:
    """A publish that ended between a feed's Atom document and its others (it failed, or
    seedfeed stopped) leaves the feed in dirty_others: the next one writes the rest."""
    catalog = open_catalog(config)
    try:
        apply_config(catalog, config)
        reconcile(catalog, config, now=T0)
        publish_dirty(catalog, config, now=T0, lists=False)
        all_rss = config.public_dir / "feeds" / "all.rss"
        all_rss.unlink()
        with catalog.transaction():
            catalog._db.execute("INSERT INTO dirty_others (slug) VALUES ('all')")
        report = publish_dirty(catalog, config, now=T0, lists=False, lock=threading.Lock())
        assert all_rss.exists()
        assert report.written == 1
        assert not catalog.has_dirty()
    finally:
        catalog.close()


def test_a_publish_told_to_leave_the_other_formats_writes_atom_only(config: Config) -> None:
    """The daemon's publishes in a burst write Atom feeds (and archive and entry pages) and
    leave each feed's RSS, JSON Feed and topic page in dirty_others for a later publish."""
    catalog = open_catalog(config)
    lock = threading.Lock()
    try:
        apply_config(catalog, config)
        reconcile(catalog, config, now=T0)
        publish_dirty(catalog, config, now=T0, lists=False, lock=lock, others=False)
        feeds = config.public_dir / "feeds"
        assert (feeds / "all.atom").exists() and not (feeds / "all.rss").exists()
        assert not (config.public_dir / "topics").exists()
        assert catalog.dirty_slugs() == [] and "all" in catalog.dirty_other_slugs()
        assert (config.public_dir / "entries").exists()
        publish_dirty(catalog, config, now=T0, lists=False, lock=lock)
        assert (feeds / "all.rss").exists() and (feeds / "all.json").exists()
        assert not catalog.has_dirty()
    finally:
        catalog.close()


def test_worker_processes_build_the_same_public_folder_byte_for_byte(tmp_path: Path) -> None:
    """`seedfeed build` reads files and renders archive pages and feeds in worker processes;
    what it writes must not depend on that: one process and two give the same bytes."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    topics = ("harbours", "railways", "airports")
    for n in range(150):  # enough files for the workers, and many archive pages of 5
        (seeds / f"story-{n:03d}.txt").write_text(
            f"Title: Story {n:03d} from the {topics[n % 3]} desk\n"
            f"Date: 2026-02-{1 + n % 28:02d}T{n % 24:02d}:00:00Z\nTopics: {topics[n % 3]}\n\n"
            f"Body of story {n}, with quays, platforms and runways.\n",
            encoding="utf-8",
        )
    trees = []
    for name, workers in (("one", 1), ("two", 2), ("daemon", 2)):
        config = replace(
            DEFAULT_CONFIG,
            seeds_dir=seeds,
            public_dir=tmp_path / name / "public",
            state_dir=tmp_path / name / "state",
            max_entries=5,
        )
        catalog = open_catalog(config)
        try:
            if name == "daemon":  # Atom first, from a reader, clearing dirt under a lock
                apply_config(catalog, config)
                with start_reading_pool(workers) as pool:
                    reconcile(catalog, config, now=T0, pool=pool)
                    publish_dirty(catalog, config, now=T0, pool=pool, lock=threading.Lock())
            else:
                update(catalog, config, now=T0, workers=workers)
            assert not catalog.has_dirty()
        finally:
            catalog.close()
        public = config.public_dir
        trees.append({p.relative_to(public): p.read_bytes() for p in public.rglob("*.*")})
    one, *others = trees
    assert len([p for p in one if "archive" in p.parts]) >= 50
    for other in others:
        assert sorted(one) == sorted(other)
        assert [p for p in one if one[p] != other[p]] == []


def test_worker_processes_give_way_to_the_writer_and_leave_inherited_objects_shared() -> None:
    """Workers run below this process's priority (the writer is the critical path), and
    their garbage collector never visits the modules they inherit from the forkserver: a
    visit writes to each object, so every worker would copy those pages for itself."""
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    with start_reading_pool(2) as pool:
        assert pool.submit(os.getpriority, os.PRIO_PROCESS, 0).result() == min(19, niceness + 5)
        assert pool.submit(gc.get_freeze_count).result() > 10_000
        # Each starts with the modules it reads, tags and renders with (imported once).
        imported = "[m for m in {m!r} if m not in __import__('sys').modules]"
        assert pool.submit(eval, imported.format(m=MODULES)).result() == []


def test_a_builds_worker_processes_run_at_its_own_priority() -> None:
    """`seedfeed build`'s workers are not niced: on a machine busy with other work they would
    get a fraction of the CPU the build's user waits for."""
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    with reading_pool(2, places=False) as pool:
        assert pool is not None
        assert pool.submit(os.getpriority, os.PRIO_PROCESS, 0).result() == niceness


def test_a_builds_pool_given_no_work_starts_no_process() -> None:
    """A rebuild with nothing to read or render starts no process: not even the resource
    tracker that a pool's queue starts (a Python process of its own, ~50 ms of CPU)."""
    script = (
        "import os\n"
        "from feeds.workers import reading_pool\n"
        "with reading_pool(2, places=True):\n"
        "    pass\n"
        "tasks = os.listdir('/proc/self/task')\n"
        "print(sum(len(open(f'/proc/self/task/{t}/children').read().split()) for t in tasks))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "0"


@pytest.mark.parametrize("places", [True, False])
def test_workers_start_with_the_gazetteer_when_they_look_places_up(places: bool) -> None:
    """With automatic topics on, workers fork with the gazetteer's cities loaded once in their
    forkserver (~0.3 s each otherwise, at its first dateline); off, nobody waits for them.
    (A fresh interpreter: a process's forkserver is started once.)"""
    cities = "__import__('feeds.topics.places').topics.places._cities.cache_info().currsize"
    script = (
        "from feeds.workers import start_reading_pool\n"
        "if __name__ == '__main__':\n"
        f"    with start_reading_pool(1, places={places}) as pool:\n"
        f"        print(pool.submit(eval, {cities!r}).result())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ("1" if places else "0")


def test_feeds_assembled_from_kept_entry_xml_are_the_feeds_rendered_whole(
    config: Config, tmp_path: Path
) -> None:
    """A publish keeps each entry's Atom XML in the catalogue and later feeds are assembled
    from it: byte for byte what rendering every entry again gives. A changed `base_url` (the
    entries' links) drops what was kept."""
    for n in range(20):  # archive pages of 5, and topic feeds sharing entries with `all`
        (config.seeds_dir / f"story-{n:02d}.txt").write_text(
            f"Title: Story {n:02d}\nDate: 2026-02-{1 + n:02d}T08:00:00Z\n"
            f"Topics: {'harbours' if n % 2 else 'railways'}\n\nBody of story {n}.\n",
            encoding="utf-8",
        )
    config = replace(config, max_entries=5)
    _build(config, T0)

    def feeds() -> dict[Path, bytes]:
        public = config.public_dir / "feeds"
        return {p.relative_to(public): p.read_bytes() for p in public.rglob("*.atom")}

    first = feeds()
    assert len([p for p in first if "archive" in p.parts]) >= 5
    catalog = open_catalog(config)
    try:
        kept = catalog._db.execute("SELECT count(*) FROM atom_entries WHERE xml IS NOT NULL")
        assert kept.fetchone()[0] == catalog.counts().entries == 23
        shutil.rmtree(config.public_dir)  # every feed again, from the kept XML
        update(catalog, config, now=T0)
        assert feeds() == first
        catalog.forget_atom_entries()  # and rendered whole
        shutil.rmtree(config.public_dir)
        update(catalog, config, now=T0)
        assert feeds() == first
        moved = replace(config, base_url="https://news.example.net/")
        update(catalog, moved, now=T0)
    finally:
        catalog.close()
    for path, data in feeds().items():
        assert b"http://127.0.0.1:8080/" not in data, path
        assert_valid_atom(data)


def test_a_catalogue_kept_by_another_renderer_renders_every_entry_again(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept entry XML belongs to the seedfeed, feedgen and lxml that rendered it: after an
    upgrade (another RENDERER) every entry is rendered anew and every feed written again."""
    _build(config, T0)
    catalog = open_catalog(config)
    try:
        before = dict(catalog._db.execute("SELECT entry_id, revision FROM atom_entries"))
        assert len(before) == 3
        monkeypatch.setattr("feeds.build.RENDERER", "9.9.9 feedgen/9 lxml/9")
        report = update(catalog, config, now=T0)
        after = dict(catalog._db.execute("SELECT entry_id, revision FROM atom_entries"))
        kept = catalog._db.execute("SELECT count(*) FROM atom_entries WHERE xml IS NOT NULL")
        assert kept.fetchone()[0] == 3
    finally:
        catalog.close()
    assert all(after[entry_id] > revision for entry_id, revision in before.items())
    assert report.rendered > 0


def test_links_follow_the_address_served_and_a_new_one_renders_every_document_again(
    config: Config,
) -> None:
    """Without `base_url`, links name the address served ([serve], or --host/--port): a build
    for another port writes every document again with links to it."""
    _build(config, T0)
    public = config.public_dir
    assert (
        b'href="http://127.0.0.1:8080/feeds/all.atom" rel="self"'
        in (public / "feeds" / "all.atom").read_bytes()
    )
    _build(replace(config, port=9090), T0 + timedelta(hours=1))
    documents = [p for p in public.rglob("*") if p.is_file()]
    assert len(documents) > 10
    for path in documents:
        data = path.read_bytes()
        assert b":8080" not in data, path
    assert (
        b'href="http://127.0.0.1:9090/feeds/all.atom" rel="self"'
        in (public / "feeds" / "all.atom").read_bytes()
    )


def test_the_operator_feed_exists_from_the_start_and_links_only_to_what_exists(
    config: Config,
) -> None:
    public = config.public_dir
    _build(config, T0)
    rejected = public / "feeds" / "_rejected.atom"
    data = rejected.read_bytes()
    assert_valid_atom(data)
    assert parse_with_feedparser(data).entries == []
    (config.seeds_dir / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    _build(config, T0 + timedelta(hours=1))
    data = rejected.read_bytes()
    assert_valid_atom(data)
    feed = parse_with_feedparser(data)
    assert [entry.title for entry in feed.entries] == ["Rejected: picture.png"]
    hrefs = [link.href for link in feed.feed.links]
    hrefs += [link.href for entry in feed.entries for link in entry.get("links", ())]
    assert hrefs == ["http://127.0.0.1:8080/feeds/_rejected.atom"]
    assert sorted(public.rglob("_rejected*")) == [rejected]


REUTERS = SHARED / "corpus" / "reuters" / "docs"


@pytest.mark.skipif(not REUTERS.is_dir(), reason=f"no Reuters corpus at {REUTERS}")
@pytest.mark.parametrize("max_entries", [50, 7])
def test_every_feeds_history_holds_each_entry_once_after_one_build(
    config: Config, max_entries: int
) -> None:
    """80 Reuters stories and the sample seeds built in one go: walking each feed's
    `prev-archive` chain with feedparser reaches each of its entries exactly once (the
    subscription document once held the newest by `updated` while archive pages held blocks
    by joining order: some entries were in both, some in neither)."""
    for path in sorted(REUTERS.glob("*.txt"))[:80]:
        shutil.copyfile(path, config.seeds_dir / f"reuters-{path.name}")
    config = replace(config, max_entries=max_entries)
    _build(config, T0)
    assert assert_history_complete(config.public_dir, config.state_dir) > 10
    if max_entries == 7:
        assert len(list((config.public_dir / "feeds" / "archive" / "all").glob("*.atom"))) >= 9


def _harbour_story(n: int, *, date: str, topic: str, note: str = "") -> str:
    return (
        f"Title: Harbour bulletin {n}: berth {n} reopens\nDate: {date}\nTopics: {topic}\n\n"
        f"The harbour authority said berth {n} reopened after repairs.{note}\n"
    )


def test_every_feeds_history_holds_each_entry_once_as_a_site_grows(config: Config) -> None:
    """Stories dropped one by one in a shuffled order, many with the same dates (ties in
    `updated`), some edited, moved to another topic, deleted and dropped again: after every
    publish each feed's history holds each of its entries exactly once, and an archive page
    that is out never changes which entries it holds (save those that left its feed)."""
    config = replace(config, max_entries=3)
    rng = random.Random(20)
    order = list(range(24))
    rng.shuffle(order)
    topics = ("harbours", "ferries")
    pages: dict[Path, set[str]] = {}
    before: dict[str, set[str]] = {}
    catalog = open_catalog(config)

    def step(n: int) -> None:
        update(catalog, config, now=T0 + timedelta(minutes=n))
        assert_history_complete(config.public_dir, config.state_dir)
        feeds = live_entries_by_feed(config.state_dir)
        for path in sorted((config.public_dir / "feeds" / "archive").rglob("*.atom")):
            ids = set(page_ids(path))
            held = pages.setdefault(path, ids)
            # A page that is out never gains an entry (one that comes back to its feed joins
            # it anew), nor loses one that stayed in its feed.
            stayed = feeds.get(path.parent.name, set()) & before.get(path.parent.name, set())
            assert ids <= held, f"{path} gained {ids - held}"
            assert held & stayed <= ids, f"{path} lost {held & stayed - ids}"
            pages[path] = ids
        before.clear()
        before.update(feeds)

    try:
        for step_number, n in enumerate(order):
            # Six dates for 24 stories, so `updated` ties often.
            date = f"2026-02-0{1 + n % 6}T08:00:00Z"
            seed = config.seeds_dir / f"story-{n:02d}.txt"
            seed.write_text(_harbour_story(n, date=date, topic=topics[n % 2]), encoding="utf-8")
            if step_number % 5 == 4:  # an edit of an earlier story moves its `updated`
                earlier = order[step_number - 3]
                (config.seeds_dir / f"story-{earlier:02d}.txt").write_text(
                    _harbour_story(earlier, date=date, topic=topics[earlier % 2], note=" Edited."),
                    encoding="utf-8",
                )
            if step_number % 7 == 6:  # another moves to the other topic
                moved = order[step_number - 5]
                (config.seeds_dir / f"story-{moved:02d}.txt").write_text(
                    _harbour_story(moved, date=date, topic=topics[1 - moved % 2]),
                    encoding="utf-8",
                )
            if step_number % 8 == 7:  # one is deleted, and one deleted before comes back
                (config.seeds_dir / f"story-{order[step_number - 6]:02d}.txt").unlink()
            step(step_number)
        for n in order:
            seed = config.seeds_dir / f"story-{n:02d}.txt"
            if not seed.exists():
                seed.write_text(
                    _harbour_story(n, date="2026-02-01T08:00:00Z", topic=topics[0]),
                    encoding="utf-8",
                )
        step(len(order))
    finally:
        catalog.close()
    assert len(pages) >= 8


@pytest.mark.parametrize("name", ["story.txt", "story-again.txt"])
def test_a_deleted_story_dropped_again_as_it_was_before_an_edit_gets_its_old_id(
    config: Config, name: str
) -> None:
    """Drop a story, edit it, delete the file, drop the original text again (under its name
    or another): the story gets its old id back, not a new `-2` one (README's promise)."""
    original = (
        "Title: Dredging starts at the north quay\nDate: 2026-02-03T08:00:00Z\n\n"
        "The port authority said dredging of the north quay starts on Monday.\n"
    )
    seed = config.seeds_dir / "story.txt"

    def build_ids(minutes: int) -> set[str]:
        _build(config, T0 + timedelta(minutes=minutes))
        return set(live_entries_by_feed(config.state_dir)["all"])

    samples = build_ids(0)
    seed.write_text(original, encoding="utf-8")
    [first] = build_ids(1) - samples
    seed.write_text(original.replace("on Monday", "on Tuesday"), encoding="utf-8")
    assert build_ids(2) - samples == {first}
    seed.unlink()
    assert build_ids(3) == samples
    (config.seeds_dir / name).write_text(original, encoding="utf-8")
    assert build_ids(4) - samples == {first}


def test_a_first_publish_cut_short_is_written_again_whole_by_the_next_run(
    config: Config, tmp_path: Path
) -> None:
    """A first publish writes its documents without an fsync each and makes them durable at
    its end; until then the catalogue says so. A run cut short before that end (here a
    document that cannot be written; a kill -9 or a power cut, which can leave files written
    without an fsync empty) is followed by one that writes every document again whole."""
    blocker = config.public_dir / "index.html"  # the last document a build writes
    blocker.mkdir(parents=True)
    catalog = open_catalog(config)
    try:
        with pytest.raises(PublishError):
            update(catalog, config, now=T0)
        assert catalog.setting(UNSYNCED) is not None
    finally:
        catalog.close()
    blocker.rmdir()
    cut_short = config.public_dir / "feeds" / "all.atom"
    assert cut_short.stat().st_size > 0
    cut_short.write_bytes(b"")  # what a power cut can leave of it
    _build(config, T0)
    catalog = open_catalog(config)
    try:
        assert catalog.setting(UNSYNCED) is None
    finally:
        catalog.close()
    clean = replace(config, public_dir=tmp_path / "clean" / "public", state_dir=tmp_path / "clean")
    _build(clean, T0)
    tree = {
        p.relative_to(config.public_dir): p.read_bytes() for p in config.public_dir.rglob("*.*")
    }
    want = {p.relative_to(clean.public_dir): p.read_bytes() for p in clean.public_dir.rglob("*.*")}
    assert sorted(tree) == sorted(want)
    assert [p for p in want if tree[p] != want[p]] == []


def test_a_publish_after_the_first_keeps_its_fsync_per_document(config: Config) -> None:
    """Once a first publish ended, every later one makes each document durable as it writes
    it: one that fails is not taken for a first publish."""
    _build(config, T0)
    (config.seeds_dir / "late.txt").write_text(
        "Title: A late story\nDate: 2026-03-02\nTopics: harbours\n\nQuays.\n", encoding="utf-8"
    )
    (config.public_dir / "index.html").unlink()
    (config.public_dir / "index.html").mkdir()
    catalog = open_catalog(config)
    try:
        with pytest.raises(PublishError):
            update(catalog, config, now=T0 + timedelta(days=1))
        assert catalog.setting(UNSYNCED) is None
    finally:
        catalog.close()
