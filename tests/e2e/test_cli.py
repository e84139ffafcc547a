"""End to end: the one-shot commands (`build`, `status`, `inspect`) as a user runs them."""

from __future__ import annotations

import fcntl
import json
import os
import re
import struct
import subprocess
import termios
import time
from datetime import UTC, datetime

import pytest

from tests.conftest import REPO
from tests.e2e.daemon import (
    SAMPLE_FILES,
    SAMPLE_TITLES,
    Site,
    assert_public_valid,
    modules_a_build_imports,
    read_feed_on_disk,
    run_cli,
    seedfeed_command,
    snapshot_files,
)

pytestmark = pytest.mark.e2e

# The first bytes of a PNG image, then NULs: what a wrong drop into seeds/ looks like.
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64

SUMMARY = re.compile(
    r"files=(?P<files>\d+) entries=(?P<entries>\d+) rejected=(?P<rejected>\d+) "
    r"topics=(?P<topics>\d+) seconds=\d+(\.\d+)?"
)


def _rfc3339_utc(text: object) -> datetime:
    assert isinstance(text, str) and text.endswith("Z"), f"not RFC 3339 UTC: {text!r}"
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == UTC.utcoffset(None)
    return moment


def test_build_then_status_account_for_every_file(site: Site) -> None:
    (site.seeds / "picture.png").write_bytes(PNG_BYTES)

    build = run_cli(site, "build", *site.path_options())
    assert build.returncode == 0, build.stderr
    lines = build.stdout.splitlines()
    assert len(lines) == 1, build.stdout
    summary = SUMMARY.fullmatch(lines[0])
    assert summary is not None, lines[0]
    assert summary.group("files", "entries", "rejected", "topics") == ("3", "3", "1", "3")
    assert "picture.png" in build.stderr, "the log does not name the rejected file"
    everything = read_feed_on_disk(site, "all")
    assert everything is not None
    assert len(everything.entries) == 3
    assert {e.title for e in everything.entries} >= SAMPLE_TITLES
    assert_public_valid(site.public)

    status = run_cli(site, "status", "--json", *site.path_options())
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["files"] == 3
    assert report["entries"] == 3
    assert report["unpublished"] == 0  # a build publishes everything it stores
    assert {t["slug"]: t["entries"] for t in report["topics"]} == {
        "pakistan": 3,
        "counterterrorism": 2,
        "sco": 2,
    }
    assert [r["file"] for r in report["rejected"]] == ["picture.png"]
    assert "binary" in report["rejected"][0]["reason"]

    text = run_cli(site, "status", *site.path_options())
    assert text.returncode == 0, text.stderr
    assert "picture.png" in text.stdout and report["rejected"][0]["reason"] in text.stdout

    # A second build on an unchanged folder rewrites nothing.
    written = snapshot_files(site.public)
    again = run_cli(site, "build", *site.path_options())
    assert again.returncode == 0, again.stderr
    assert SUMMARY.fullmatch(again.stdout.strip()) is not None, again.stdout
    assert snapshot_files(site.public) == written


def _inspect(site: Site, *files: str) -> list[dict[str, object]]:
    result = run_cli(site, "inspect", *files, "--json", "--config", str(site.config))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert isinstance(report, list)
    return report


def test_a_rebuild_with_nothing_to_do_imports_no_reading_naming_or_rendering(site: Site) -> None:
    """A rebuild with nothing changed needs neither the reading rules, the name finder,
    feedgen (with dateutil) nor multiprocessing: importing them was a third of a no-op
    rebuild of 10k files."""
    site.drop(
        "more.txt",
        "Central Bank of Kenya raises its rate\n\nNAIROBI, March 3 - The "
        "Central Bank of Kenya raised its rate, the Bank said.\n",
    )
    past = time.time() - 60  # (a file stored within its timestamp tick is read again)
    for path in site.seeds.iterdir():
        os.utime(path, (past, past))
    assert run_cli(site, "build", *site.path_options()).returncode == 0
    imported = modules_a_build_imports(site)
    assert "feeds.build" in imported  # (the import log is read right)
    assert not imported & {
        "feeds.normalize",
        "feeds.formats",
        "feeds.topics.names",
        "feeds.topics.taxonomy",
        "feedgen.feed",
        "dateutil",
        "sklearn",
        "multiprocessing",
    }


def test_inspect_shows_entries_and_touches_nothing(site: Site) -> None:
    sample = f"seeds/{SAMPLE_FILES[0]}"
    (site.seeds / "picture.png").write_bytes(PNG_BYTES)

    report = _inspect(site, sample, "seeds/picture.png")
    assert not site.state.exists(), "inspect created the catalogue"
    assert not site.public.exists(), "inspect wrote public/"
    assert len(report) == 2
    found, rejected = report
    assert found["file"] == sample
    entries = found["entries"]
    assert isinstance(entries, list) and len(entries) == 2
    assert {e["title"] for e in entries} == SAMPLE_TITLES
    for entry in entries:
        assert {"title", "published", "summary", "content", "topics"} <= entry.keys()
        _rfc3339_utc(entry["published"])
        if "updated" in entry:
            _rfc3339_utc(entry["updated"])
        assert entry["summary"] and entry["content"].startswith("<p>ISLAMABAD: Pakistan")
        assert "pakistan" in entry["topics"]
    published = sorted(_rfc3339_utc(e["published"]).date().isoformat() for e in entries)
    assert published == ["2025-09-10", "2025-12-07"]
    assert rejected["file"] == "seeds/picture.png"
    assert isinstance(rejected["rejected"], str) and rejected["rejected"]
    assert "entries" not in rejected

    # With a catalogue and feeds in place, inspect leaves both exactly as they were.
    build = run_cli(site, "build", *site.path_options())
    assert build.returncode == 0, build.stderr
    state_before = snapshot_files(site.state)
    public_before = snapshot_files(site.public)
    again = _inspect(site, sample)[0]["entries"]
    assert isinstance(again, list)
    assert [e["title"] for e in again] == [e["title"] for e in entries]
    assert snapshot_files(site.state) == state_before
    assert snapshot_files(site.public) == public_before


def test_status_aligns_its_topic_table_whatever_the_length_of_a_slug(site: Site) -> None:
    long_name = "International Atomic Energy Agency safeguards inspections in the region"
    (site.seeds / "long-topic.txt").write_text(
        f"Title: Inspectors arrive\nDate: 2026-03-01\nTopics: {long_name}\n\n"
        "Inspectors arrived on Monday to look at the sites named in the agreement.\n",
        encoding="utf-8",
    )
    build = run_cli(site, "build", *site.path_options())
    assert build.returncode == 0, build.stderr
    status = run_cli(site, "status", *site.path_options())
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("topics:")) + 1
    rows = [line for line in lines[start:] if line.startswith("  ")]
    assert rows[0].split() == ["slug", "entries", "title"], rows[0]
    cells = [re.fullmatch(r"  (\S+) +(\S+)  (.*)", row) for row in rows]
    assert all(cells), rows
    slugs = [cell[1] for cell in cells if cell]
    assert len(max(slugs, key=len)) > 60, slugs
    # Every row's count ends, and its title starts, in the same column as the header's.
    assert len({cell.end(2) for cell in cells if cell}) == 1, "\n".join(rows)
    assert len({cell.start(3) for cell in cells if cell}) == 1, "\n".join(rows)


def test_topics_lists_each_body_once_and_what_it_held_back(site: Site) -> None:
    """With the shipped seedfeed.toml (automatic topics on), the sample seeds give one feed
    per organisation or body, and `seedfeed topics` says which names it held back and why."""
    shipped = ["--config", str(REPO / "seedfeed.toml")]
    paths = site.path_options()[2:]
    build = run_cli(site, "build", *shipped, *paths)
    assert build.returncode == 0, build.stderr

    shown = run_cli(site, "topics", "--json", *shipped, *paths)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    slugs = {t["slug"]: t["source"] for t in report["topics"]}
    assert len(slugs) <= 10, slugs
    assert {slugs[s] for s in ("sco", "counterterrorism", "pakistan")} == {"taxonomy"}
    assert not [s for s in slugs if "shanghai" in s or "rats" in s or "spirit" in s], slugs
    held = {h["name"]: h["why"] for h in report["held_back"]}
    assert held["Shanghai Cooperation Organization"] == "duplicate of taxonomy topic sco"
    assert held["SCO"] == "duplicate of taxonomy topic sco"
    assert held["RATS"] == "duplicate of taxonomy topic counterterrorism"

    text = run_cli(site, "topics", *shipped, *paths)
    assert text.returncode == 0, text.stderr
    assert f"topics: {len(slugs)}" in text.stdout
    assert "SCO: duplicate of taxonomy topic sco" in text.stdout


def _build_on_a_terminal(site: Site) -> str:
    """`seedfeed build` with stdout and stderr on a pseudo-terminal 100 columns wide: all it
    printed, carriage returns kept."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen(
        seedfeed_command("build", *site.path_options()),
        cwd=site.root,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    output = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, output.decode("utf-8", "replace")
    return output.decode("utf-8", "replace")


def test_build_shows_a_progress_bar_on_a_terminal_and_log_lines_elsewhere(site: Site) -> None:
    for n in range(150):
        (site.seeds / f"story-{n:03d}.txt").write_text(
            f"Title: Harbour bulletin {n}\nDate: 2025-10-01\n\nBerth {n} reopened.\n",
            encoding="utf-8",
        )
    shown = _build_on_a_terminal(site)
    # The bar: files read of the total, entries, rate and time left; then the one summary line.
    bars = [part for line in shown.splitlines() for part in line.split("\r") if "%|" in part]
    assert bars, shown
    last = bars[-1]
    assert "152/152" in last and "files/s" in last and "entries=153" in last, last
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d", last), last  # elapsed < left
    assert " INFO " not in shown, shown
    lines = [line.strip() for line in shown.replace("\r", "\n").splitlines() if line.strip()]
    assert SUMMARY.fullmatch(lines[-1]), lines[-1]

    # Off a terminal (systemd, CI, a pipe): log lines, no bar.
    (site.seeds / "one-more.txt").write_text("Title: One more\n\nA last story.\n", "utf-8")
    piped = run_cli(site, "build", *site.path_options())
    assert piped.returncode == 0, piped.stderr
    assert "INFO feeds.build: reconciled seen=153" in piped.stderr, piped.stderr
    assert "%|" not in piped.stderr + piped.stdout
    assert SUMMARY.fullmatch(piped.stdout.strip()), piped.stdout


def test_inspect_explain_lines_shows_the_role_of_every_line(site: Site) -> None:
    (site.seeds / "page.txt").write_text(
        "Skip to content\n\nHarbour reopens after storm\n\nBy Ana Lima\nPublished 3 March 2026\n\n"
        "PORTO: The harbour reopened on Tuesday after a week of repairs.\n\n"
        "Copyright 2026 Coastal Press\n",
        encoding="utf-8",
    )
    config = ("--config", str(site.config))
    result = run_cli(site, "inspect", "seeds/page.txt", "--explain", "lines", "--json", *config)
    assert result.returncode == 0, result.stderr
    (report,) = json.loads(result.stdout)
    (story,) = report["stories"]
    roles = {row["line"]: row["role"] for row in story if row["line"]}
    assert roles["Harbour reopens after storm"] == "headline"
    assert roles["By Ana Lima"] == "byline"
    assert roles["Published 3 March 2026"] == "date"
    assert roles["Copyright 2026 Coastal Press"] == "trailer"

    text = run_cli(site, "inspect", "seeds/page.txt", "--explain", "lines", *config)
    assert text.returncode == 0, text.stderr
    assert re.search(r"^\s+byline\s+\| By Ana Lima$", text.stdout, re.MULTILINE), text.stdout

    topics = run_cli(site, "inspect", f"seeds/{SAMPLE_FILES[0]}", "--explain", "--json", *config)
    assert topics.returncode == 0, topics.stderr
    assert all("explain" in e for e in json.loads(topics.stdout)[0]["entries"])
