"""End to end: SIGHUP reloads seedfeed.toml in the running daemon; a broken file changes nothing."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.e2e.daemon import (
    DaemonProcess,
    Feed,
    Setting,
    Site,
    assert_public_valid,
    config_text,
    read_feed,
    read_status,
    wait_for_feed,
)

pytestmark = pytest.mark.e2e

Daemons = Callable[..., DaemonProcess]

SETTINGS: dict[str, dict[str, Setting]] = {"schedule": {"settle": 0.2, "publish_every": 0.2}}
FERRY_RULE = """
[topics.ferries]
title = "Ferries"
match = ["ferry", "ferries"]
"""
FERRY_TITLE = "Islamabad orders new ferry for the Indus crossing"
RAIL_TITLE = "Islamabad hosts SCO talks on regional rail links"


def story(title: str, body: str) -> str:
    return f"Title: {title}\nDate: 2025-10-03\n\n{body}\n"


def wait_logged(daemon: DaemonProcess, pattern: str, *, after: int) -> str:
    """Wait until the daemon's log, past byte `after`, has a line matching `pattern`."""

    def logged() -> str | None:
        with open(daemon.log_path, "rb") as log:
            log.seek(after)
            text = log.read().decode("utf-8", errors="replace")
        found = re.search(pattern, text)
        return None if found is None else found.group(0)

    logged.__name__ = f"log says {pattern!r}"
    return str(wait_until(logged, timeout=10))


def entry_ids(feed: Feed) -> dict[str, str]:
    return {e.title: e.entry_id for e in feed.entries}


def test_sighup_takes_a_new_taxonomy_without_a_restart(tmp_path: Path, daemons: Daemons) -> None:
    site = Site.create(tmp_path / "site", samples=False, settings=SETTINGS)
    site.drop(
        "ferry.txt",
        story(FERRY_TITLE, "ISLAMABAD: Pakistan ordered a new ferry for the Indus on Monday."),
    )
    site.drop(
        "rail.txt",
        story(RAIL_TITLE, "ISLAMABAD: Pakistan hosted SCO officials to discuss rail links."),
    )
    daemon = daemons(site).start_serving()
    before = wait_for_feed(daemon, "all", lambda f: len(f.entries) == 2, what="both stories")
    wait_for_feed(daemon, "sco", lambda f: set(entry_ids(f)) == {RAIL_TITLE}, what="rail")
    assert read_feed(daemon, "ferries") is None

    # A new topic, and the sco rule (the last table of the test configuration) dropped.
    text = config_text(settings=SETTINGS)
    without_sco = text[: text.index("[topics.sco]")]
    site.config.write_text(without_sco + FERRY_RULE, encoding="utf-8")
    mark = daemon.log_path.stat().st_size
    daemon.send_signal(signal.SIGHUP)

    ferries = wait_for_feed(
        daemon, "ferries", lambda f: set(entry_ids(f)) == {FERRY_TITLE}, what="ferry entry"
    )
    assert ferries.entries[0].entry_id == entry_ids(before)[FERRY_TITLE]
    assert "ferries" in ferries.entries[0].categories

    def no_sco(feed: Feed) -> bool:
        return not any("sco" in e.categories for e in feed.entries)

    after = wait_for_feed(daemon, "all", no_sco, what="no entry tagged sco")
    assert entry_ids(after) == entry_ids(before), "re-tagging changed an id"
    sco = read_feed(daemon, "sco")
    assert sco is None or not sco.entries, "sco.atom still lists entries after its rule went"
    line = wait_logged(daemon, r"config reloaded changed=\S*", after=mark)
    assert "taxonomy" in line, line
    assert daemon.running
    # The sco feed stays, empty, for its subscribers; status counts what each topic holds.
    topics = read_status(site)["topics"]
    assert isinstance(topics, list)
    counts = {str(t["slug"]): int(t["entries"]) for t in topics}
    assert counts.get("ferries") == 1 and counts.get("sco", 0) == 0, counts
    assert_public_valid(site.public)
    daemon.stop()


def test_broken_config_on_sighup_keeps_the_old_one_running(
    tmp_path: Path, daemons: Daemons
) -> None:
    site = Site.create(tmp_path / "site", samples=False, settings=SETTINGS)
    daemon = daemons(site).start_serving()
    good = site.config.read_text(encoding="utf-8")
    site.config.write_text(good + FERRY_RULE + "\n[topics.broken\nmatch = [\n", "utf-8")
    mark = daemon.log_path.stat().st_size
    daemon.send_signal(signal.SIGHUP)
    line = wait_logged(daemon, r".*ERROR.*config reload failed.*", after=mark)
    assert "not valid TOML" in line, line

    # Still running, still with the old taxonomy: a ferry story lands in pakistan, no ferries.
    site.drop(
        "ferry.txt",
        story(FERRY_TITLE, "ISLAMABAD: Pakistan ordered a new ferry for the Indus on Monday."),
    )
    wait_for_feed(daemon, "pakistan", lambda f: FERRY_TITLE in entry_ids(f), what="ferry")
    assert read_feed(daemon, "ferries") is None
    assert daemon.running

    # Once the file is fixed, the next SIGHUP takes it.
    site.config.write_text(good + FERRY_RULE, "utf-8")
    daemon.send_signal(signal.SIGHUP)
    wait_for_feed(daemon, "ferries", lambda f: FERRY_TITLE in entry_ids(f), what="ferry")

    # SIGTERM still ends it with exit code 0 within 5 s (stop() fails the test otherwise).
    daemon.stop()
    assert daemon.exit_code() == 0
    assert_public_valid(site.public)


def test_sighup_applies_reading_and_ignore_settings_and_names_restart_only_keys(
    tmp_path: Path, daemons: Daemons
) -> None:
    settings: dict[str, dict[str, Setting]] = {
        **SETTINGS,
        "ingest": {"max_file_bytes": 2048},
    }
    site = Site.create(tmp_path / "site", samples=False, settings=settings)
    big_title = "Islamabad publishes a long report on the Indus ferry"
    site.drop("big.txt", story(big_title, "The report runs long. " * 150))
    draft_title = "Islamabad ferry schedule, still a draft"
    site.drop("schedule.draft", story(draft_title, "A draft of the winter ferry schedule."))
    daemon = daemons(site).start_serving()
    wait_for_feed(daemon, "all", lambda f: draft_title in entry_ids(f), what="the draft")
    rejected = wait_for_feed(
        daemon, "_rejected", lambda f: bool(f.entries), what="the big file rejected"
    )
    assert [e.title for e in rejected.entries] == ["Rejected: big.txt"]

    site.config.write_text(
        config_text(
            settings={
                **SETTINGS,
                "ingest": {"max_file_bytes": 65536, "ignore": [".*", "*~", "*.draft"]},
                "serve": {"host": "localhost"},
            }
        ),
        encoding="utf-8",
    )
    mark = daemon.log_path.stat().st_size
    daemon.send_signal(signal.SIGHUP)

    def reread(feed: Feed) -> bool:
        titles = entry_ids(feed)
        return big_title in titles and draft_title not in titles

    wait_for_feed(daemon, "all", reread, what="the big file read, the draft ignored")
    wait_for_feed(daemon, "_rejected", lambda f: not f.entries, what="nothing rejected")
    warning = wait_logged(daemon, r".*WARNING.*needs a restart.*", after=mark)
    assert "host" in warning, warning
    assert (site.seeds / "schedule.draft").is_file() and (site.seeds / "big.txt").is_file()
    daemon.wait_serving()
    daemon.stop()


def test_sighup_mid_burst_then_kill_9_still_ends_with_the_new_taxonomy(
    tmp_path: Path, daemons: Daemons
) -> None:
    settings: dict[str, dict[str, Setting]] = {**SETTINGS, "feeds": {"max_entries": 500}}
    site = Site.create(tmp_path / "site", samples=False, settings=settings)
    daemon = daemons(site).start_serving()
    count = 300
    ferries = {f"Islamabad ferry notice {n:03d}" for n in range(0, count, 3)}
    for n in range(count):
        title = f"Islamabad ferry notice {n:03d}" if n % 3 == 0 else f"Islamabad notice {n:03d}"
        body = "A ferry sails at noon." if n % 3 == 0 else "The office opens at noon."
        site.drop(f"burst/{n:03d}.txt", story(title, body))
    site.config.write_text(site.config.read_text("utf-8") + FERRY_RULE, "utf-8")
    daemon.send_signal(signal.SIGHUP)
    wait_for_feed(daemon, "ferries", lambda f: bool(f.entries), what="a first ferry entry")
    daemon.kill()
    daemon.start_serving()

    def complete(feed: Feed) -> bool:
        return len(feed.entries) == count

    all_ids = entry_ids(wait_for_feed(daemon, "all", complete, what=f"{count} entries"))
    tagged = wait_for_feed(
        daemon, "ferries", lambda f: set(entry_ids(f)) == ferries, what="every ferry notice"
    )
    assert all(all_ids[t] == i for t, i in entry_ids(tagged).items())
    status = read_status(site)
    assert (status["files"], status["entries"]) == (count, count)
    assert_public_valid(site.public)
    daemon.stop()
