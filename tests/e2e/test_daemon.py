"""End to end: the real `seedfeed run` on a temp folder, watched through its feeds.

Every check reads the feeds both from disk and over HTTP (the two must be the same bytes),
validates them against RFC 4287's schema and parses them as a feed reader does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.e2e.daemon import (
    SAMPLE_TITLES,
    START_TIMEOUT,
    DaemonProcess,
    Feed,
    Site,
    assert_public_valid,
    query_catalog,
    read_feed,
    read_feed_on_disk,
    run_cli,
    snapshot_files,
    wait_for_feed,
)

pytestmark = pytest.mark.e2e

Daemons = Callable[..., DaemonProcess]

RAIL_TITLE = "Islamabad hosts SCO talks on regional rail links"
RAIL_TEXT = f"""\
{RAIL_TITLE}

Published 3 November 2025

ISLAMABAD: Pakistan hosted officials from Shanghai Cooperation Organisation member states on \
Monday to discuss regional rail links and trade corridors.

The delegates agreed to meet again in Tashkent next spring, officials said. Closing words alpha.
"""
RAIL_EDITED_TEXT = RAIL_TEXT.replace(
    "Closing words alpha.", "Closing words beta, added when the story was revised."
)

RALLY_TITLE = "Peshawar rally calls for early provincial polls"
RALLY_TEXT = f"""\
{RALLY_TITLE}

Published 4 November 2025

PESHAWAR: Several thousand supporters gathered in Peshawar on Tuesday to call for early \
provincial polls, organisers said.

Speakers urged the provincial assembly to set a date before the spring.
"""

SLOW_TITLE = "Islamabad traders reopen markets after a week-long strike"
SLOW_MARKER = "The last chunk ends the story here, omega."

BARRIER_TITLE = "Lahore book fair opens with record crowds"
BARRIER_TEXT = f"""\
{BARRIER_TITLE}

Published 6 November 2025

LAHORE: The annual book fair opened on Thursday with record crowds, the organisers said.

Publishers from twelve cities brought more than a thousand new titles.
"""


def _slow_chunks() -> list[str]:
    head = f"{SLOW_TITLE}\n\nPublished 5 November 2025\n\n"
    paragraphs = [
        f"Paragraph {n}: ISLAMABAD traders in the capital's markets described day {n} of the "
        f"strike and the losses it brought to shops and stalls.\n\n"
        for n in range(1, 12)
    ]
    return [head, *paragraphs, f"{SLOW_MARKER}\n"]


def _one(feed: Feed, title: str) -> bool:
    return len(feed.by_title(title)) == 1


def _wait_index_count(daemon: DaemonProcess, slug: str, count: int) -> None:
    """Wait until index.html (written last in each publish) lists `slug` with `count` entries."""
    pattern = re.compile(rf'href="topics/{re.escape(slug)}\.html"[^>]*>[^<]*</a>\s*\((\d+) entr')

    def listed() -> bool:
        try:
            found = pattern.search((daemon.site.public / "index.html").read_text("utf-8"))
        except FileNotFoundError:
            return False
        return found is not None and int(found.group(1)) == count

    listed.__name__ = f"index.html lists {slug}.atom with {count} entries"
    wait_until(listed, timeout=10)


def _wait_gone(daemon: DaemonProcess, slug: str, entry_id: str) -> None:
    """Wait until feed `slug` no longer holds `entry_id` (an absent feed holds nothing)."""

    def gone() -> bool:
        feed = read_feed(daemon, slug)
        return feed is None or feed.by_id(entry_id) is None

    gone.__name__ = f"{entry_id} leaves {slug}.atom"
    wait_until(gone, timeout=10)


def _check_listed(daemon: DaemonProcess) -> None:
    """index.html and feeds.opml are served and name every subscriber feed in public/feeds/
    (the operator feed `_rejected.atom` is for operators, not listed).

    They are written just after the feeds, so they get a deadline to catch up.
    """
    public = daemon.site.public
    feeds = sorted(
        f"feeds/{p.name}" for p in (public / "feeds").glob("*.atom") if not p.name.startswith("_")
    )

    def unlisted() -> list[str]:
        index = (public / "index.html").read_text("utf-8")
        opml = (public / "feeds.opml").read_text("utf-8")
        return [
            f"{feed} not in {name}"
            for feed in feeds
            for name, text in (("index.html", index), ("feeds.opml", opml))
            if feed not in text
        ]

    def every_feed_listed() -> bool:
        return not unlisted()

    wait_until(every_feed_listed, timeout=10)
    index = daemon.fetch("index.html")
    assert index is not None and b'type="application/atom+xml"' in index
    assert daemon.fetch("feeds.opml") is not None


def test_feeds_follow_seeds_through_drop_edit_rename_and_delete(
    tmp_path: Path, daemons: Daemons
) -> None:
    # A settle well above the pauses of the slow writer below (0.1 s, and a feed parsed), even
    # on a busy machine with tests running side by side: only then must its file be read whole.
    site = Site.create(tmp_path / "site", settings={"schedule": {"settle": 1.0}})
    daemon = daemons(site).start_serving()

    # 1. The two sample clippings give exactly three entries.
    everything = read_feed(daemon, "all")
    assert everything is not None
    assert len(everything.entries) == 3, [e.title for e in everything.entries]
    assert {e.title for e in everything.entries} >= SAMPLE_TITLES
    pakistan = read_feed(daemon, "pakistan")
    assert pakistan is not None
    assert pakistan.ids == everything.ids
    assert everything.updated == max(e.updated for e in everything.entries)
    _check_listed(daemon)
    assert_public_valid(site.public)
    sample_ids = everything.ids

    # 2. A file renamed into seeds/, and one into a new subfolder, show up once each.
    site.drop("rail.txt", RAIL_TEXT)
    everything = wait_for_feed(daemon, "all", lambda f: _one(f, RAIL_TITLE), what="rail entry")
    assert len(everything.entries) == 4
    rail = everything.by_title(RAIL_TITLE)[0]
    for slug in ("pakistan", "sco"):
        wait_for_feed(daemon, slug, lambda f: rail.entry_id in f.ids, what="rail entry")
    counterterrorism = read_feed(daemon, "counterterrorism")
    assert counterterrorism is not None
    assert rail.entry_id not in counterterrorism.ids

    site.drop("politics/rally.txt", RALLY_TEXT)
    everything = wait_for_feed(daemon, "all", lambda f: _one(f, RALLY_TITLE), what="rally entry")
    assert len(everything.entries) == 5
    rally = everything.by_title(RALLY_TITLE)[0]
    for slug in ("politics", "pakistan"):
        wait_for_feed(daemon, slug, lambda f: rally.entry_id in f.ids, what="rally entry")
    politics = read_feed(daemon, "politics")
    assert politics is not None
    assert politics.ids == {rally.entry_id}, "politics.atom holds the politics/ folder only"
    sco = read_feed(daemon, "sco")
    assert sco is not None
    assert rally.entry_id not in sco.ids
    _check_listed(daemon)
    assert_public_valid(site.public)

    # 3. A file written slowly, in chunks, is read once, whole.
    slow_path = site.seeds / "slow.txt"
    paused = threading.Event()
    with open(slow_path, "w", encoding="utf-8") as slow:
        for chunk in _slow_chunks():
            slow.write(chunk)
            slow.flush()
            paused.wait(timeout=0.1)
            seen = read_feed_on_disk(site, "all")
            assert seen is not None
            assert len(seen.entries) == 5 and not seen.by_title(SLOW_TITLE), (
                f"a half-written file was published: {[e.title for e in seen.entries]}"
            )
    everything = wait_for_feed(
        daemon,
        "all",
        lambda f: any(SLOW_MARKER in e.content for e in f.by_title(SLOW_TITLE)),
        what="the whole slow file",
    )
    assert len(everything.entries) == 6
    assert len(everything.by_title(SLOW_TITLE)) == 1
    wait_for_feed(daemon, "pakistan", lambda f: _one(f, SLOW_TITLE), what="slow entry")
    _wait_index_count(daemon, "all", 6)
    ingested = re.findall(r"file ingested path=slow\.txt\b", daemon.log_path.read_text("utf-8"))
    assert len(ingested) == 1, f"slow.txt ingested {len(ingested)} times\n{daemon.log()}"
    assert_public_valid(site.public)

    # 4. Editing a file keeps its entry's id and published date and moves only its `updated`;
    #    feeds it is not in keep their bytes and their mtime.
    before = read_feed(daemon, "all")
    assert before is not None
    # index.html lists the newest entries with their summaries, so an edit may change it.
    untouched = (
        "feeds/counterterrorism.atom",
        "feeds/politics.atom",
        "topics/politics.html",
        "feeds.opml",
    )
    untouched_before = snapshot_files(site.public, untouched)
    touched_before = snapshot_files(
        site.public, ("feeds/all.atom", "feeds/pakistan.atom", "feeds/sco.atom")
    )
    (site.seeds / "rail.txt").write_text(RAIL_EDITED_TEXT, encoding="utf-8")

    def revised(feed: Feed) -> bool:
        entry = feed.by_id(rail.entry_id)
        return entry is not None and "Closing words beta" in entry.content

    for slug in ("pakistan", "sco", "all"):
        after = wait_for_feed(daemon, slug, revised, what="the revised rail entry")
    edited = after.by_id(rail.entry_id)
    old = before.by_id(rail.entry_id)
    assert edited is not None and old is not None
    assert edited.title == RAIL_TITLE
    assert edited.published == old.published
    assert edited.updated > old.updated
    assert "Closing words alpha" not in edited.content
    assert len(after.by_title(RAIL_TITLE)) == 1
    assert after.updated == edited.updated
    others_before = {e.entry_id: e.updated for e in before.entries if e.entry_id != rail.entry_id}
    others_after = {e.entry_id: e.updated for e in after.entries if e.entry_id != rail.entry_id}
    assert others_after == others_before
    assert snapshot_files(site.public, untouched) == untouched_before, (
        "a feed the edit does not concern was rewritten"
    )
    touched_after = snapshot_files(site.public, touched_before)
    assert all(touched_after[n].data != touched_before[n].data for n in touched_before)
    assert_public_valid(site.public)

    # 5. Renaming a file inside seeds/ changes nothing a reader sees. The barrier file, dropped
    #    after the rename, is published no earlier than whatever the rename caused.
    before = after
    os.rename(site.seeds / "rail.txt", site.seeds / "rail-renamed.txt")
    site.drop("barrier.txt", BARRIER_TEXT)
    after = wait_for_feed(daemon, "all", lambda f: _one(f, BARRIER_TITLE), what="barrier entry")
    barrier = after.by_title(BARRIER_TITLE)[0]
    assert after.ids == before.ids | {barrier.entry_id}, "the rename added or dropped an entry"
    for entry in before.entries:
        assert after.by_id(entry.entry_id) == entry, f"the rename changed {entry.title!r}"
    for slug in ("pakistan", "sco"):
        feed = read_feed(daemon, slug)
        assert feed is not None
        assert len(feed.by_title(RAIL_TITLE)) == 1 and rail.entry_id in feed.ids
    assert_public_valid(site.public)

    # 6. Deleting files takes their entries out of every feed.
    (site.seeds / "rail-renamed.txt").unlink()
    (site.seeds / "politics" / "rally.txt").unlink()
    for slug in ("all", "pakistan", "sco"):
        _wait_gone(daemon, slug, rail.entry_id)
    for slug in ("all", "pakistan", "politics"):
        _wait_gone(daemon, slug, rally.entry_id)
    everything = read_feed(daemon, "all")
    assert everything is not None
    assert everything.ids == sample_ids | {
        barrier.entry_id,
        everything.by_title(SLOW_TITLE)[0].entry_id,
    }
    assert_public_valid(site.public)

    # 11. SIGTERM: exit code 0 within 5 s.
    daemon.stop()
    assert_public_valid(site.public)


def test_restart_after_kill_reconciles_without_duplicates(site: Site, daemons: Daemons) -> None:
    daemon = daemons(site).start_serving()
    site.drop("rail.txt", RAIL_TEXT)
    first = wait_for_feed(daemon, "all", lambda f: _one(f, RAIL_TITLE), what="rail entry")
    # Killed just after a drop: the file may or may not have reached the catalogue.
    site.drop("politics/rally.txt", RALLY_TEXT)
    daemon.kill()

    # While it is down: one file comes, one goes.
    site.drop("barrier.txt", BARRIER_TEXT)
    (site.seeds / "rail.txt").unlink()

    daemon.start_serving()
    rail_id = first.by_title(RAIL_TITLE)[0].entry_id
    expected_titles = {*SAMPLE_TITLES, RALLY_TITLE, BARRIER_TITLE}

    def reconciled(feed: Feed) -> bool:
        return rail_id not in feed.ids and expected_titles <= {e.title for e in feed.entries}

    after = wait_for_feed(daemon, "all", reconciled, what="start-up reconcile")
    assert len(after.entries) == 5, [e.title for e in after.entries]
    assert all(_one(after, title) for title in expected_titles)
    for entry in first.entries:
        if entry.entry_id != rail_id:
            assert after.by_id(entry.entry_id) is not None, f"{entry.title!r} changed its id"
    wait_for_feed(daemon, "politics", lambda f: _one(f, RALLY_TITLE), what="rally entry")
    pakistan = read_feed(daemon, "pakistan")
    assert pakistan is not None and rail_id not in pakistan.ids
    status = run_cli(site, "status", "--json", *site.path_options())
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["entries"] == 5, status.stdout
    assert_public_valid(site.public)

    # A second kill -9 and restart with nothing changed: the same entries, the same ids.
    daemon.kill()
    daemon.start_serving()
    again = read_feed(daemon, "all")
    assert again is not None
    assert {(e.entry_id, e.updated) for e in again.entries} == {
        (e.entry_id, e.updated) for e in after.entries
    }
    daemon.stop()
    assert_public_valid(site.public)


def test_build_after_the_daemon_changes_no_file(site: Site, daemons: Daemons) -> None:
    site.drop("politics/rally.txt", RALLY_TEXT)
    daemon = daemons(site).start_serving()
    wait_for_feed(daemon, "politics", lambda f: _one(f, RALLY_TITLE), what="rally entry")
    daemon.stop()
    written = snapshot_files(site.public)
    assert "feeds/all.atom" in written and "feeds/politics.atom" in written

    build = run_cli(site, "build", *site.path_options())
    assert build.returncode == 0, build.stderr
    lines = build.stdout.splitlines()
    assert len(lines) == 1, build.stdout
    assert re.fullmatch(r"files=3 entries=4 rejected=0 topics=\d+ seconds=\d+(\.\d+)?", lines[0]), (
        lines[0]
    )
    assert snapshot_files(site.public) == written, "seedfeed build rewrote the daemon's files"
    assert_public_valid(site.public)


def test_build_from_a_copy_of_the_state_gives_the_daemons_files(
    site: Site, daemons: Daemons
) -> None:
    daemon = daemons(site).start_serving()
    daemon.stop()
    state_copy = site.root / "state-copy"
    public_copy = site.root / "public-copy"
    shutil.copytree(site.state, state_copy, ignore=shutil.ignore_patterns("daemon.lock"))
    build = run_cli(site, "build", *site.path_options(state=state_copy, public=public_copy))
    assert build.returncode == 0, build.stderr
    assert public_copy.is_dir()
    daemon_files = {n: s.data for n, s in snapshot_files(site.public).items()}
    build_files = {n: s.data for n, s in snapshot_files(public_copy).items()}
    assert build_files == daemon_files


def test_restart_writes_public_again_after_it_was_deleted(site: Site, daemons: Daemons) -> None:
    daemon = daemons(site).start_serving()
    first = read_feed(daemon, "all")
    daemon.stop()
    shutil.rmtree(site.public)

    daemon.start()

    def all_atom_written_again() -> bool:
        return (site.public / "feeds" / "all.atom").is_file()

    wait_until(all_atom_written_again, timeout=START_TIMEOUT)  # a start on a busy machine
    daemon.wait_serving()
    again = read_feed(daemon, "all")
    assert first is not None and again is not None
    assert again.data == first.data
    daemon.stop()


def test_a_second_daemon_on_the_same_state_refuses_to_start(site: Site, daemons: Daemons) -> None:
    first = daemons(site).start_serving()
    second = daemons(site, name="second").start()
    code = second.wait_exit(timeout=15)
    assert code != 0, second.log()
    message = second.log()
    assert str(site.state) in message and "lock" in message, message
    assert "Traceback" not in message, message
    first.wait_serving()
    first.stop()


def test_files_dropped_back_to_back_reach_every_format(site: Site, daemons: Daemons) -> None:
    """Each file reaches all.atom before the next is dropped; the other formats and the
    pages must still catch up with all of them."""
    daemon = daemons(site).start_serving()
    titles = [f"Stream report {n} on the harbour cranes" for n in range(20)]
    for n, title in enumerate(titles):
        site.drop(
            f"stream/{n:02d}.txt",
            f"Title: {title}\nDate: 2026-03-0{1 + n % 9}\nTopics: Harbour\n\n"
            f"Crane {n} was moved to berth {n * 7} on Tuesday, the port said.\n",
        )
        wait_for_feed(daemon, "all", lambda f, t=title: _one(f, t), what=title)

    def every_format_caught_up() -> bool:
        documents = ("feeds/all.rss", "feeds/all.json", "topics/all.html", "feeds/harbour.rss")
        texts = [(site.public / d).read_text("utf-8") for d in documents]
        return all(title in text for title in titles for text in texts)

    wait_until(every_format_caught_up, timeout=15)
    harbour = read_feed(daemon, "harbour")
    assert harbour is not None and all(_one(harbour, title) for title in titles)
    assert_public_valid(site.public)


def test_a_file_stored_while_a_publish_runs_is_published_when_it_ends(
    tmp_path: Path, daemons: Daemons
) -> None:
    """Files are stored while a publish runs. The publish job's own tick is five minutes away
    here: a file stored meanwhile is published only because the job runs again as soon as
    the running publish ends (it must not wait for the tick). 300 topics make the publish
    long enough for the late file to be stored while it runs."""
    site = Site.create(tmp_path / "site", settings={"schedule": {"publish_every": 300}})
    daemon = daemons(site).start_serving()
    burst = [f"Berth report {n:03d} on the container cranes" for n in range(300)]
    for n, title in enumerate(burst):
        site.drop(
            f"burst/{n:03d}.txt",
            f"Title: {title}\nDate: 2026-03-02\nTopics: Berth {n}\n\nCrane {n} moved.\n",
        )

    def stored(count: int) -> bool:
        (files,) = query_catalog(site, "SELECT count(*) FROM files")[0]
        return int(str(files)) >= count

    # Stored, while the publishes of 300 feeds in three formats with their pages go on.
    wait_until(lambda: stored(2 + len(burst)), timeout=60)
    late = "Late notice on the night ferries"
    site.drop("late.txt", f"Title: {late}\nDate: 2026-03-03\nTopics: Ferries\n\nLate.\n")
    wait_for_feed(daemon, "all", lambda f: _one(f, late), timeout=60, what=late)
    wait_for_feed(daemon, "ferries", lambda f: _one(f, late), timeout=60, what=late)


def _server_pids(daemon: DaemonProcess) -> list[int]:
    """The daemon's child processes that serve public/ (`seedfeed serve --listen-fd`)."""
    found = []
    for task in Path(f"/proc/{daemon.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except FileNotFoundError:
                continue
            if b"serve" in command and b"--listen-fd" in command:
                found.append(int(child))
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_a_server_process_that_dies_is_started_again(site: Site, daemons: Daemons) -> None:
    """The server runs in a process of its own: when it dies (here kill -9), the daemon
    starts another on the same port, and the feeds are served again."""
    daemon = daemons(site).start_serving()
    (server,) = _server_pids(daemon)
    os.kill(server, signal.SIGKILL)
    wait_until(lambda: _server_pids(daemon) not in ([], [server]), timeout=START_TIMEOUT)
    daemon.wait_serving()
    assert daemon.running
    assert "server process ended" in daemon.log()
    daemon.stop()
