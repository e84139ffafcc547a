"""End to end: a burst of 2,000 files, and a loop of bursts cut short by kill -9.

Nothing may be lost and nothing doubled: every file in seeds/ ends in the catalogue once, every
entry has one id that never changes, and every document in public/ is valid Atom after any
crash. The figures (time, kills, entries) are printed; run with `-s` to see them.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from feeds.config import DEFAULT_IGNORE
from tests.conftest import wait_until
from tests.e2e.daemon import (
    DaemonProcess,
    Feed,
    Setting,
    Site,
    assert_public_valid,
    catalog_files,
    parse_feed,
    publish_idle,
    query_catalog,
    read_feed,
    read_feed_on_disk,
    read_status,
    run_cli,
    seed_files,
    seedfeed_command,
)
from tests.history import assert_history_complete

pytestmark = pytest.mark.e2e

Daemons = Callable[..., DaemonProcess]

TOPICS = ("harbours", "railways", "airports", "bridges")
CRASH_ROUNDS = int(os.environ.get("SEEDFEED_CRASH_ROUNDS", "20"))
CRASH_SEED = int(os.environ.get("SEEDFEED_CRASH_SEED", "20261125"))


def story(title: str, topic: str, body: str) -> str:
    """A short headered clipping."""
    return f"Title: {title}\nDate: 2025-10-03\nTopics: {topic}\n\n{body}\n"


def feeds_on_disk(site: Site) -> dict[str, Feed]:
    """Every Atom document in public/feeds/, validated, by file name."""
    return {
        path.stem: parse_feed(path.stem, path.read_bytes())
        for path in sorted((site.public / "feeds").glob("*.atom"))
    }


def ids_across(feeds: dict[str, Feed]) -> dict[str, str]:
    """title -> entry id over all feeds; fails when a title has two ids or an id two titles."""
    by_title: dict[str, str] = {}
    by_id: dict[str, str] = {}
    for feed in feeds.values():
        if feed.slug.startswith("_"):
            continue
        for entry in feed.entries:
            assert by_title.setdefault(entry.title, entry.entry_id) == entry.entry_id, (
                f"{entry.title!r} has two ids: {by_title[entry.title]} and {entry.entry_id}"
            )
            assert by_id.setdefault(entry.entry_id, entry.title) == entry.title, (
                f"{entry.entry_id} names two entries: {by_id[entry.entry_id]!r}, {entry.title!r}"
            )
    return by_title


def out_of_step(site: Site) -> str:
    """How the catalogue differs from seeds/ and what is left to publish ("" when in step)."""
    known = catalog_files(site)
    stats = {p: (size, mtime) for p, (size, mtime, _) in known.items()}
    present = seed_files(site, DEFAULT_IGNORE)
    missing = sorted(set(present) - set(stats))
    extra = sorted(set(stats) - set(present))
    stale = sorted(p for p in set(present) & set(stats) if present[p] != stats[p])
    rejected = sorted(p for p, (_, _, status) in known.items() if status != "ok")
    problems = [
        f"{what}: {len(paths)} {paths[:5]}"
        for what, paths in (
            ("not in the catalogue", missing),
            ("gone from seeds/", extra),
            ("changed since read", stale),
            ("rejected", rejected),
        )
        if paths
    ]
    if not publish_idle(site):
        problems.append("documents left to publish")
    return "; ".join(problems)


def in_step(site: Site) -> bool:
    """The catalogue knows exactly the files in seeds/, as they are now, and published all."""
    return not out_of_step(site)


def wait_in_step(daemon: DaemonProcess, check: Callable[[], bool], *, timeout: float) -> None:
    """Wait until `check` holds; on failure say how the catalogue differs from seeds/."""

    def holds() -> bool:
        assert daemon.running, f"the daemon died\n{daemon.log()}"
        return check()

    try:
        wait_until(holds, timeout=timeout, interval=0.1)
    except pytest.fail.Exception:
        pytest.fail(
            f"not in step with seeds/ within {timeout} s: {out_of_step(daemon.site)}\n"
            f"{daemon.log()}"
        )


# --- the burst --------------------------------------------------------------------------------

BURST_FILES = 2000
BURST_COPIED = 200
BURST_SLOW = 100
BURST_MAX_ENTRIES = 200
SLOW_MARKER = "Closing chunk of a slow file, omega."


def test_a_burst_of_2000_files_is_ingested_exactly_once(tmp_path: Path, daemons: Daemons) -> None:
    # The default settle (0.5 s), ten times the pauses of the slow writers, even on a busy machine.
    settings: dict[str, dict[str, Setting]] = {
        "schedule": {"settle": 0.5, "publish_every": 0.2},
        "feeds": {"max_entries": BURST_MAX_ENTRIES},
    }
    site = Site.create(tmp_path / "site", samples=False, settings=settings)
    # -v: each file of a burst is logged at debug level.
    daemon = daemons(site, args=("-v",)).start_serving()
    staging = site.root / "staging"
    staging.mkdir()
    titles: dict[str, str] = {}  # rel_path -> title
    renamed, copied, slow = [], [], []
    for n in range(BURST_FILES):
        rel = f"burst/{n % 10}/story-{n:04d}.txt"
        titles[rel] = f"Burst story {n:04d} on the {TOPICS[n % 4]} desk"
        if n % 20 == 7:
            slow.append(rel)
        elif n % 10 == 3:
            copied.append(rel)
        else:
            renamed.append(rel)
    assert len(slow) == BURST_SLOW and len(copied) == BURST_COPIED
    for rel in renamed + copied:
        n = int(rel[-8:-4])
        (staging / Path(rel).name).write_text(
            story(titles[rel], TOPICS[n % 4], f"Burst body {n}, quays and cranes."), "utf-8"
        )
    for folder in range(10):
        (site.seeds / "burst" / str(folder)).mkdir(parents=True)

    started = time.monotonic()
    paced = threading.Event()
    slow_files = [open(site.seeds / rel, "w", encoding="utf-8") for rel in slow]  # noqa: SIM115
    try:
        for rel, out in zip(slow, slow_files, strict=True):
            out.write(f"Title: {titles[rel]}\nDate: 2025-10-03\nTopics: harbours\n\n")
            out.flush()
        for rel in renamed:
            os.replace(staging / Path(rel).name, site.seeds / rel)
        for rel in copied:
            shutil.copyfile(staging / Path(rel).name, site.seeds / rel)
        for chunk in ("Slowly written body, part one.", " Part two.", f" {SLOW_MARKER}\n"):
            paced.wait(timeout=0.05)
            for out in slow_files:
                out.write(chunk)
                out.flush()
    finally:
        for out in slow_files:
            out.close()

    def all_in() -> bool:
        return in_step(site) and len(catalog_files(site)) == BURST_FILES

    wait_in_step(daemon, all_in, timeout=60)
    everything = read_feed(daemon, "all")
    elapsed = time.monotonic() - started
    assert everything is not None

    status = read_status(site)
    assert (status["files"], status["entries"], status["rejected"]) == (
        BURST_FILES,
        BURST_FILES,
        [],
    )
    assert set(catalog_files(site)) == set(titles)

    ingested = Counter(
        re.findall(r"file ingested path=(burst/\S+) ", daemon.log_path.read_text("utf-8"))
    )
    assert set(ingested) == set(titles)
    twice = sorted(p for p, count in ingested.items() if count != 1)
    assert not twice, f"{len(twice)} files ingested more than once: {twice[:10]}"

    doubled = query_catalog(site, "SELECT title FROM entries GROUP BY title HAVING count(*) > 1")
    assert not doubled, f"titles stored twice: {doubled[:10]}"
    unfinished = query_catalog(
        site, "SELECT title FROM entries WHERE content NOT LIKE ?", "%omega%"
    )
    slow_titles = {titles[rel] for rel in slow}
    assert not slow_titles & {str(row[0]) for row in unfinished}, "a slow file was read half"

    # all.atom holds every entry no archive page holds (max_entries to twice that): with its
    # archive pages, each entry exactly once.
    assert BURST_MAX_ENTRIES <= len(everything.entries) < 2 * BURST_MAX_ENTRIES
    assert {e.title for e in everything.entries} <= set(titles.values())
    assert_history_complete(site.public, site.state)

    # RSS and JSON Feed (no archives) hold the newest max_entries; the others are older (or as
    # old) in the catalogue. A burst's publishes leave them, and topic pages, for its end: they
    # are out too.
    stamps = dict(
        (str(i), str(u)) for i, u in query_catalog(site, "SELECT entry_id, updated FROM entries")
    )
    items = json.loads((site.public / "feeds" / "all.json").read_text("utf-8"))["items"]
    shown = {str(item["id"]) for item in items}
    assert len(shown) == BURST_MAX_ENTRIES
    oldest_shown = min(stamps[i] for i in shown)
    newest_hidden = max(stamp for i, stamp in stamps.items() if i not in shown)
    assert newest_hidden <= oldest_shown, "all.json left out a newer entry"
    rss = (site.public / "feeds" / "all.rss").read_text("utf-8")
    assert all(entry_id in rss for entry_id in shown)

    feeds = feeds_on_disk(site)
    ids_across(feeds)
    for topic in TOPICS:
        feed = feeds[topic]
        assert BURST_MAX_ENTRIES <= len(feed.entries) < 2 * BURST_MAX_ENTRIES
        assert all(topic in e.title or topic == "harbours" for e in feed.entries), topic
    assert_public_valid(site.public)
    daemon.stop()
    print(
        f"\nburst: files={BURST_FILES} (renamed={len(renamed)} copied={len(copied)} "
        f"slow={len(slow)}) entries={status['entries']} seconds={elapsed:.2f}"
    )


def descendants(pid: int) -> dict[int, tuple[int, str]]:
    """Every process under `pid`: its parent and its command line."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parents[int(entry.name)] = (int(stat.rpartition(")")[2].split()[1]), cmdline)
    found: dict[int, tuple[int, str]] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, cmdline) in parents.items():
            if ppid == parent and child not in found:
                found[child] = (ppid, cmdline)
                frontier.append(child)
    return found


def reading_workers(daemon: DaemonProcess) -> list[int]:
    """The daemon's worker processes that read a burst's files (children of its forkserver)."""
    family = descendants(daemon.pid)
    servers = {pid for pid, (_, cmdline) in family.items() if "forkserver" in cmdline}
    return [pid for pid, (ppid, _) in family.items() if ppid in servers]


def test_a_reading_worker_killed_in_a_burst_loses_nothing(tmp_path: Path, daemons: Daemons) -> None:
    """A burst's files are read by worker processes; one killed (kill -9, as the OOM killer
    would) breaks them: the daemon reads the files itself, logs why, and the next burst gets
    new workers. Every file ends in the catalogue once."""
    settings: dict[str, dict[str, Setting]] = {"schedule": {"settle": 0.5, "publish_every": 0.2}}
    site = Site.create(tmp_path / "site", samples=False, settings=settings)
    # -v: each file of a burst is logged at debug level.
    daemon = daemons(site, args=("-v",)).start_serving()
    staging = site.root / "staging"
    staging.mkdir()
    waves = {wave: [f"wave{wave}-{n:04d}.txt" for n in range(600)] for wave in (1, 2, 3)}
    for wave, names in waves.items():
        for n, name in enumerate(names):
            title = f"Wave {wave} story {n:04d} on the {TOPICS[n % 4]} desk"
            (staging / name).write_text(story(title, TOPICS[n % 4], f"Body {wave}-{n}."), "utf-8")

    def drop(wave: int) -> None:
        for name in waves[wave]:
            os.replace(staging / name, site.seeds / name)

    drop(1)
    workers = wait_until(lambda: reading_workers(daemon) or None, timeout=30, interval=0.01)
    os.kill(workers[0], 9)
    drop(2)
    wait_in_step(daemon, lambda: len(catalog_files(site)) == 1200 and in_step(site), timeout=60)
    log = daemon.log_path.read_text("utf-8")
    assert "worker processes failed, reading here" in log, log[-4000:]
    # A worker killed as it starts, before it took its task, breaks the pipe it is sent on.
    assert "BrokenProcessPool" in log or "BrokenPipeError" in log

    failures = log.count("worker processes failed")
    drop(3)
    wait_in_step(daemon, lambda: len(catalog_files(site)) == 1800 and in_step(site), timeout=60)
    log = daemon.log_path.read_text("utf-8")
    assert log.count("worker processes failed") == failures, "the broken workers were kept"
    assert log.count("reading files in worker processes") >= 2, "no new workers were started"
    ingested = Counter(re.findall(r"file ingested path=(wave\S+) ", log))
    assert sorted(ingested) == sorted(name for names in waves.values() for name in names)
    assert set(ingested.values()) == {1}, "a file was ingested twice"
    status = read_status(site)
    assert (status["files"], status["entries"], status["rejected"]) == (1800, 1800, [])
    assert_public_valid(site.public)
    assert daemon.running
    daemon.stop()


def running(pid: int) -> bool:
    """The process exists and has not exited (a zombie waiting to be reaped has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def test_a_daemon_killed_in_a_burst_leaves_no_process_behind(
    tmp_path: Path, daemons: Daemons
) -> None:
    """kill -9 while worker processes read a burst: they, their forkserver and the resource
    tracker end on their own, rather than wait forever for work that cannot come."""
    site = Site.create(tmp_path / "site", samples=False)
    daemon = daemons(site).start_serving()
    staging = site.root / "staging"
    staging.mkdir()
    names = [f"story-{n:04d}.txt" for n in range(600)]
    for n, name in enumerate(names):
        text = story(f"Story {n:04d} on the {TOPICS[n % 4]} desk", TOPICS[n % 4], f"Body {n}.")
        (staging / name).write_text(text, "utf-8")
    for name in names:
        os.replace(staging / name, site.seeds / name)
    wait_until(lambda: reading_workers(daemon) or None, timeout=30, interval=0.01)
    family = sorted(descendants(daemon.pid))
    assert len(family) >= 3, family  # the forkserver and its workers, at least
    daemon.kill()

    def all_ended() -> bool:
        return not any(running(pid) for pid in family)

    all_ended.__name__ = f"the daemon's {len(family)} child processes end"
    wait_until(all_ended, timeout=15, interval=0.1)


# --- the crash loop ---------------------------------------------------------------------------


@dataclass(slots=True)
class Seed:
    title: str
    topic: str
    revision: int
    copied: bool = False  # its text is in two files: never edited, so both stay one entry


@dataclass(slots=True)
class CrashFigures:
    rounds: int = 0
    kills: int = 0
    kills_mid_work: int = 0
    files_dropped: int = 0
    edits: int = 0
    renames: int = 0
    copies: int = 0
    deletes: int = 0
    duplicates: int = 0
    lost: int = 0


class CrashLoop:
    """The files the test put into seeds/, and what the feeds must show of them."""

    def __init__(self, site: Site, rng: random.Random) -> None:
        self.site = site
        self.rng = rng
        self.seeds: dict[str, Seed] = {}
        self.ids: dict[str, str] = {}  # title -> entry id, from the first time it was seen
        self.figures = CrashFigures()
        self._next = 0
        self._touched: set[str] = set()
        self._staging = site.root / "staging"
        self._staging.mkdir()

    def _write(self, rel: str, seed: Seed) -> None:
        text = story(
            seed.title, seed.topic, f"Crash body for {seed.title}, revision {seed.revision}."
        )
        target = self.site.seeds / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        how = self.rng.random()
        if how < 0.7:
            aside = self._staging / target.name
            aside.write_text(text, encoding="utf-8")
            os.replace(aside, target)
        else:
            target.write_text(text, encoding="utf-8")

    def add(self, count: int) -> None:
        for _ in range(count):
            n = self._next
            self._next += 1
            rel = f"crash/{n % 7}/story-{n:05d}.txt"
            seed = Seed(title=f"Crash story {n:05d}", topic=TOPICS[n % 4], revision=1)
            self._write(rel, seed)
            self.seeds[rel] = seed
            self.figures.files_dropped += 1

    def _pick(self, count: int) -> list[str]:
        """Files neither edited nor moved since the last check: an edit and a move together
        leave nothing to recognise the story by, so that pair is not part of the promise."""
        free = sorted(set(self.seeds) - self._touched)
        return self.rng.sample(free, min(count, len(free)))

    def copy(self, count: int) -> None:
        """Put the same text in a second file: still one entry, listing both."""
        for rel in self._pick(count):
            n = self._next
            self._next += 1
            twin = f"crash/copies/copy-{n:05d}.txt"
            (self.site.seeds / twin).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.site.seeds / rel, self.site.seeds / twin)
            self.seeds[rel].copied = True
            self.seeds[twin] = self.seeds[rel]
            self._touched.add(twin)
            self.figures.copies += 1

    def edit(self, count: int) -> None:
        for rel in [r for r in self._pick(count) if not self.seeds[r].copied]:
            seed = self.seeds[rel]
            seed.revision += 1
            self._write(rel, seed)
            self._touched.add(rel)
            self.figures.edits += 1

    def delete(self, count: int) -> None:
        for rel in self.rng.sample(sorted(self.seeds), min(count, len(self.seeds))):
            (self.site.seeds / rel).unlink()
            del self.seeds[rel]
            self.figures.deletes += 1

    def rename(self, count: int) -> None:
        """Move files to another folder and name: their entries must keep their ids."""
        for rel in self._pick(count):
            n = self._next
            self._next += 1
            moved = f"crash/moved/{n % 3}/renamed-{n:05d}.txt"
            (self.site.seeds / moved).parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.site.seeds / rel, self.site.seeds / moved)
            self.seeds[moved] = self.seeds.pop(rel)
            self._touched.add(moved)
            self.figures.renames += 1

    def burst(self) -> None:
        self.add(self.rng.randint(100, 160))
        self.edit(self.rng.randint(5, 20))
        self.rename(self.rng.randint(3, 15))
        self.copy(self.rng.randint(0, 5))
        if len(self.seeds) > 300:
            self.delete(self.rng.randint(100, 200))

    def check(self, daemon: DaemonProcess) -> None:
        """Wait until the daemon is idle and in step with seeds/; then check every promise."""
        site = self.site
        titles = {seed.title for seed in self.seeds.values()}
        expected = Counter(titles)
        self._touched.clear()

        def settled() -> bool:
            assert daemon.running, f"the daemon died\n{daemon.log()}"
            if not in_step(site):
                return False
            feed = read_feed_on_disk(site, "all")
            return feed is not None and Counter(e.title for e in feed.entries) == expected

        try:
            wait_until(settled, timeout=30, interval=0.1)
        except pytest.fail.Exception:
            self._count_damage(expected)
            raise
        leftovers = sorted(str(p) for p in site.public.rglob(".*.tmp"))
        assert not leftovers, f"temp files left after the restart: {leftovers}"
        status = read_status(site)
        assert (status["files"], status["entries"], status["rejected"]) == (
            len(self.seeds),
            len(titles),
            [],
        )
        feeds = feeds_on_disk(site)
        titles_to_ids = ids_across(feeds)
        changed = {t: (self.ids[t], i) for t, i in titles_to_ids.items() if self.ids.get(t, i) != i}
        assert not changed, f"ids changed across a crash: {changed}"
        self.ids.update(titles_to_ids)
        revisions = {seed.title: seed.revision for seed in self.seeds.values()}
        for entry in feeds["all"].entries:
            assert f"revision {revisions[entry.title]}." in entry.content, entry.title
        for topic in TOPICS:
            want = {s.title for s in self.seeds.values() if s.topic == topic}
            got = {e.title for e in feeds[topic].entries} if topic in feeds else set()
            assert got == want, f"{topic}.atom: missing {want - got}, extra {got - want}"
        assert_public_valid(site.public)

    def _count_damage(self, expected: Counter[str]) -> None:
        feed = read_feed_on_disk(self.site, "all")
        seen = Counter() if feed is None else Counter(e.title for e in feed.entries)
        self.figures.duplicates += sum(n - 1 for n in seen.values() if n > 1)
        self.figures.lost += len(set(expected) - set(seen))
        print(f"\ncrash loop damage: {self.figures}")


def test_kill_9_in_bursts_loses_and_doubles_nothing(tmp_path: Path, daemons: Daemons) -> None:
    settings: dict[str, dict[str, Setting]] = {
        "schedule": {"settle": 0.2, "publish_every": 0.2},
        "feeds": {"max_entries": 5000},
    }
    site = Site.create(tmp_path / "site", samples=False, settings=settings)
    rng = random.Random(CRASH_SEED)
    loop = CrashLoop(site, rng)
    daemon = daemons(site)
    pause = threading.Event()
    started = time.monotonic()
    for _ in range(CRASH_ROUNDS):
        if not daemon.running:
            daemon.start()
        loop.burst()
        pause.wait(timeout=rng.uniform(0.0, 0.5))
        daemon.kill()
        loop.figures.kills += 1
        loop.figures.kills_mid_work += bool(out_of_step(site))
        if rng.random() < 0.3:
            loop.add(rng.randint(1, 10))
            loop.edit(rng.randint(1, 5))
            loop.rename(rng.randint(1, 5))
            loop.delete(rng.randint(0, 5))
        daemon.start()
        if rng.random() < 0.3:
            # Killed again during the start-up reconcile and publish.
            pause.wait(timeout=rng.uniform(0.05, 0.6))
            daemon.kill()
            loop.figures.kills += 1
            loop.figures.kills_mid_work += bool(out_of_step(site))
            daemon.start()
        daemon.wait_serving()
        loop.check(daemon)
        loop.figures.rounds += 1
    daemon.stop()
    figures = loop.figures
    print(
        f"\ncrash loop: rounds={figures.rounds} kills={figures.kills} "
        f"(mid-work={figures.kills_mid_work}) "
        f"dropped={figures.files_dropped} edits={figures.edits} renames={figures.renames} "
        f"copies={figures.copies} "
        f"deletes={figures.deletes} "
        f"files={len(loop.seeds)} entries={len({s.title for s in loop.seeds.values()})} "
        f"ids_checked={len(loop.ids)} "
        f"duplicates={figures.duplicates} lost={figures.lost} "
        f"seconds={time.monotonic() - started:.1f}"
    )


def test_sigterm_mid_burst_exits_in_time_and_the_restart_finishes(
    tmp_path: Path, daemons: Daemons
) -> None:
    settings: dict[str, dict[str, Setting]] = {
        "schedule": {"settle": 0.2, "publish_every": 0.2},
        "feeds": {"max_entries": 100},
    }
    site = Site.create(tmp_path / "site", samples=False, settings=settings)
    daemon = daemons(site).start_serving()
    staging = site.root / "staging"
    staging.mkdir()
    count = 1000
    for n in range(count):
        (staging / f"term-{n:04d}.txt").write_text(
            story(f"Term story {n:04d}", TOPICS[n % 4], f"Term body {n}."), "utf-8"
        )
    (site.seeds / "term").mkdir()
    for n in range(count):
        name = f"term-{n:04d}.txt"
        os.replace(staging / name, site.seeds / "term" / name)
    daemon.stop()  # SIGTERM: exit code 0 within 5 s, or the test fails
    assert not list(site.public.rglob(".*.tmp")), "SIGTERM left temp files in public/"
    assert_public_valid(site.public)

    daemon.start_serving()

    def all_in() -> bool:
        return in_step(site) and len(catalog_files(site)) == count

    wait_in_step(daemon, all_in, timeout=60)
    status = read_status(site)
    assert (status["files"], status["entries"], status["rejected"]) == (count, count, [])
    ids_across(feeds_on_disk(site))
    daemon.stop()


# --- a first build cut short ------------------------------------------------------------------

FIRST_BUILD_FILES = 1500


def test_kill_9_during_a_first_builds_publish_is_finished_by_the_next_build(
    tmp_path: Path,
) -> None:
    """A first build writes its documents without an fsync each and makes them durable at
    its end: a `kill -9` while it publishes leaves the catalogue saying so, and the next
    build writes every document again, ending with the site a build from scratch gives."""
    site = Site.create(tmp_path / "site", samples=False, settings={"feeds": {"max_entries": 2}})
    for n in range(FIRST_BUILD_FILES):
        topic = TOPICS[n % len(TOPICS)]
        (site.seeds / f"story-{n:04d}.txt").write_text(
            story(f"Story {n:04d} of the {topic}", topic, f"Body {n} about {topic}."),
            encoding="utf-8",
        )
    pages = site.public / "entries"
    with open(site.root / "first-build.log", "wb") as log:
        build = subprocess.Popen(
            seedfeed_command("build", *site.path_options()),
            cwd=site.root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # Its publish has begun: entry pages (written first) are coming out.
            wait_until(
                lambda: build.poll() is not None or (pages.is_dir() and any(pages.glob("*.html"))),
                timeout=120,
                interval=0.005,
            )
        finally:
            build.kill()
            build.wait()
    assert build.returncode == -signal.SIGKILL, "the first build ended before it was killed"
    unsynced = "SELECT value FROM settings WHERE key = 'first_publish_unsynced'"
    assert query_catalog(site, unsynced) == [("1",)]
    again = run_cli(site, "build", *site.path_options(), timeout=300)
    assert again.returncode == 0, again.stderr
    assert query_catalog(site, unsynced) == []
    assert_public_valid(site.public)
    assert_history_complete(site.public, site.state)
    clean = run_cli(
        site,
        "build",
        *site.path_options(state=tmp_path / "clean-state", public=tmp_path / "clean-public"),
        timeout=300,
    )
    assert clean.returncode == 0, clean.stderr
    assert sorted(p.relative_to(site.public) for p in site.public.rglob("*.*")) == sorted(
        p.relative_to(tmp_path / "clean-public") for p in (tmp_path / "clean-public").rglob("*.*")
    )
