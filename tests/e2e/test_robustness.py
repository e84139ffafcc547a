"""End to end: bad input and awkward file events, each against the real `seedfeed run`.

Every bad input must leave the daemon running and the file exactly as it was, and end as a
rejection with a reason (in `seedfeed status --json` and in `public/feeds/_rejected.atom`) or
as entries where the file is usable. Most tests share one daemon (starting one per test would
cost more than the test); each works in its own folder of seeds/ with titles of its own.
"""

from __future__ import annotations

import html
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import wait_until
from tests.e2e.daemon import (
    DaemonProcess,
    Feed,
    Setting,
    Site,
    assert_public_valid,
    catalog_files,
    query_catalog,
    read_feed,
    read_status,
    rejected_reasons,
    wait_for_feed,
)

pytestmark = pytest.mark.e2e

MAX_FILE_BYTES = 4096
SETTLE = 0.2
SETTLE_LIMIT = 1.0
SETTINGS: dict[str, dict[str, Setting]] = {
    "schedule": {"settle": SETTLE, "settle_limit": SETTLE_LIMIT, "publish_every": 0.2},
    "ingest": {"max_file_bytes": MAX_FILE_BYTES},
    "feeds": {"max_entries": 500},
}
NOBODY = 65534


def story(title: str, body: str = "") -> str:
    """A short headered clipping."""
    text = body or f"The harbour authority said on Friday that {title.lower()} went ahead."
    return f"Title: {title}\nDate: 2025-10-03\nTopics: harbours\n\n{text}\n"


def file_state(path: Path) -> tuple[int, int, bytes]:
    """What must not change about a file seedfeed reads: mode, mtime, bytes (links: target)."""
    info = path.lstat()
    data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
    return info.st_mode, info.st_mtime_ns, data


# --- a daemon shared by the tests of this module ----------------------------------------------


@pytest.fixture(scope="module")
def shared_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    root = tmp_path_factory.mktemp("robustness") / "site"
    site = Site.create(root, samples=False, settings=SETTINGS)
    daemon = DaemonProcess(site).start_serving()
    try:
        yield daemon
    finally:
        if daemon.running:
            daemon.stop()


@pytest.fixture
def daemon(shared_daemon: DaemonProcess) -> Iterator[DaemonProcess]:
    """The shared daemon; the test fails if it died or logged a traceback meanwhile."""
    start = shared_daemon.log_path.stat().st_size
    yield shared_daemon
    assert shared_daemon.running, f"the daemon died\n{shared_daemon.log()}"
    with open(shared_daemon.log_path, "rb") as log:
        log.seek(start)
        written = log.read().decode("utf-8", errors="replace")
    assert "Traceback" not in written, written[-6000:]
    assert_public_valid(shared_daemon.site.public)


def titles_in_all(daemon: DaemonProcess) -> list[str]:
    feed = read_feed(daemon, "all")
    return [] if feed is None else [e.title for e in feed.entries]


def wait_titles(
    daemon: DaemonProcess,
    present: set[str],
    absent: frozenset[str] | set[str] = frozenset(),
    timeout: float = 10,
) -> Feed:
    """Wait until all.atom holds each of `present` exactly once and none of `absent`."""

    def holds(feed: Feed) -> bool:
        titles = [e.title for e in feed.entries]
        return all(titles.count(t) == 1 for t in present) and not absent & set(titles)

    return wait_for_feed(
        daemon, "all", holds, timeout=timeout, what=f"holds {sorted(present)}, not {absent}"
    )


def wait_rejected(daemon: DaemonProcess, rel: str, words: str, *, timeout: float = 10) -> str:
    """Wait until `rel` is rejected with a reason containing `words`; return the reason.

    The reason must show in `seedfeed status --json` and in the operator feed _rejected.atom.
    """
    site = daemon.site

    def recorded() -> bool:
        return catalog_files(site).get(rel, (0, 0, ""))[2] == "rejected"

    recorded.__name__ = f"{rel} is rejected"
    wait_until(recorded, timeout=timeout)
    reason = rejected_reasons(site).get(rel)
    assert reason is not None, f"{rel} missing from seedfeed status"
    assert words in reason, f"{rel}: {reason!r} does not say {words!r}"

    def listed(feed: Feed) -> bool:
        return any(
            e.title == f"Rejected: {rel}" and reason in html.unescape(e.content)
            for e in feed.entries
        )

    wait_for_feed(daemon, "_rejected", listed, what=f"lists {rel}: {reason}")
    return reason


def assert_not_published(site: Site, marker: str) -> None:
    for path in site.public.rglob("*"):
        if path.is_file():
            assert marker.encode() not in path.read_bytes(), f"{marker!r} leaked into {path}"


# --- bad input --------------------------------------------------------------------------------

BINARY = {
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 4,
    "zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(200)),
    "nul": b"Title: Hidden text\n\nA story with a NUL\x00byte in the middle of it all.\n" * 3,
}


@pytest.mark.parametrize("kind", sorted(BINARY))
def test_binary_file_is_rejected(daemon: DaemonProcess, kind: str) -> None:
    site = daemon.site
    path = site.seeds / "binary" / f"upload-{kind}.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(BINARY[kind])
    before = file_state(path)
    wait_rejected(daemon, f"binary/upload-{kind}.txt", "binary")
    assert file_state(path) == before
    assert "Hidden text" not in titles_in_all(daemon)


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n   \n"], ids=["empty", "whitespace"])
def test_empty_or_blank_file_is_rejected(daemon: DaemonProcess, content: bytes) -> None:
    name = f"blank-{len(content)}.txt"
    path = daemon.site.seeds / name
    path.write_bytes(content)
    before = file_state(path)
    wait_rejected(daemon, name, "empty or whitespace only")
    assert file_state(path) == before


def test_file_over_max_file_bytes_is_rejected(daemon: DaemonProcess) -> None:
    title = "Oversized harbour report"
    path = daemon.site.seeds / "oversized.txt"
    path.write_text(story(title, "Cranes and quays. " * 400), encoding="utf-8")
    assert path.stat().st_size > MAX_FILE_BYTES
    before = file_state(path)
    reason = wait_rejected(daemon, "oversized.txt", "larger than max_file_bytes")
    assert str(MAX_FILE_BYTES) in reason
    assert file_state(path) == before
    assert title not in titles_in_all(daemon)


def test_undecodable_bytes_are_rejected_and_stray_bytes_read(daemon: DaemonProcess) -> None:
    site = daemon.site
    garbage = site.seeds / "garbage.txt"
    # High bytes with no text in any encoding: the first bytes of a random stream.
    garbage.write_bytes(bytes((x * 97 + 13) % 128 + 128 for x in range(600)))
    stray = site.seeds / "stray-bytes.txt"
    stray.write_bytes(
        b"Title: Harbour caf\xe9 reopens\nDate: 2025-10-03\n\n"
        b"The caf\xe9 by the quay reopened on Friday after the storm.\n"
    )
    before = {p: file_state(p) for p in (garbage, stray)}
    wait_rejected(daemon, "garbage.txt", "not text")
    wait_titles(daemon, {"Harbour caf\u00e9 reopens"})
    assert {p: file_state(p) for p in before} == before


def test_symlink_outside_seeds_is_never_published(daemon: DaemonProcess) -> None:
    site = daemon.site
    marker = "Secret outside seeds, zeta nine"
    outside = site.root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(story(marker), encoding="utf-8")
    links = site.seeds / "links"
    links.mkdir()
    (links / "to-file.txt").symlink_to(outside / "secret.txt")
    (links / "to-folder").symlink_to(outside, target_is_directory=True)
    before = {p: file_state(p) for p in (links / "to-file.txt", links / "to-folder")}
    wait_rejected(daemon, "links/to-file.txt", "outside seeds/")
    wait_rejected(daemon, "links/to-folder", "outside seeds/")
    # A story dropped afterwards is published; the secret still is not.
    site.drop("links/after.txt", story("Harbour story after the symlinks"))
    wait_titles(daemon, {"Harbour story after the symlinks"}, {marker})
    assert_not_published(site, marker)
    assert {p: file_state(p) for p in before} == before


def test_symlink_loop_is_rejected(daemon: DaemonProcess) -> None:
    loops = daemon.site.seeds / "loops"
    loops.mkdir()
    (loops / "a.txt").symlink_to("b.txt")
    (loops / "b.txt").symlink_to("a.txt")
    (loops / "self.txt").symlink_to("self.txt")
    before = {p.name: file_state(p) for p in loops.iterdir()}
    for name in ("a.txt", "b.txt", "self.txt"):
        wait_rejected(daemon, f"loops/{name}", "symlink loop")
    assert {p.name: file_state(p) for p in loops.iterdir()} == before


@pytest.mark.parametrize(
    "name",
    [
        "harbour report with spaces.txt",
        "Überseehafen – Kräne für Hamburg, São Paulo, Москва.txt",
        "long-" + "quayside-" * 26 + "end.txt",
    ],
    ids=["spaces", "non-ascii", "long"],
)
def test_awkward_names_are_ingested(daemon: DaemonProcess, name: str) -> None:
    assert len(name.encode()) < 256
    title = f"Harbour name test {len(name)} {name[:12]}"
    daemon.site.drop(f"names/{name}", story(title))
    wait_titles(daemon, {title})
    assert f"names/{name}" in catalog_files(daemon.site)
    assert f"names/{name}" not in rejected_reasons(daemon.site)


def test_deeply_nested_folders_are_ingested(daemon: DaemonProcess) -> None:
    site = daemon.site
    folder = site.seeds.joinpath(*(f"level{n}" for n in range(30)))
    folder.mkdir(parents=True)
    (folder / "deep.txt").write_text(story("Harbour story thirty folders down"), encoding="utf-8")
    wait_titles(daemon, {"Harbour story thirty folders down"})
    # A second one, created together with its folders in one go, also arrives.
    second = site.seeds.joinpath("nest", *(f"n{n}" for n in range(30)))
    second.mkdir(parents=True)
    (second / "deeper.txt").write_text(story("Harbour story in fresh deep folders"), "utf-8")
    wait_titles(daemon, {"Harbour story in fresh deep folders"})


def test_file_replaced_by_a_folder_of_the_same_name(daemon: DaemonProcess) -> None:
    site = daemon.site
    site.drop("replaced.txt", story("Harbour file before it became a folder"))
    wait_titles(daemon, {"Harbour file before it became a folder"})
    (site.seeds / "replaced.txt").unlink()
    (site.seeds / "replaced.txt").mkdir()
    (site.seeds / "replaced.txt" / "inner.txt").write_text(
        story("Harbour file inside the new folder"), encoding="utf-8"
    )
    wait_titles(
        daemon,
        {"Harbour file inside the new folder"},
        {"Harbour file before it became a folder"},
    )
    files = catalog_files(site)
    assert "replaced.txt" not in files and "replaced.txt/inner.txt" in files


def test_file_truncated_to_zero_after_ingest(daemon: DaemonProcess) -> None:
    site = daemon.site
    title = "Harbour story later truncated"
    path = site.drop("truncated.txt", story(title))
    feed = wait_titles(daemon, {title})
    entry_id = feed.by_title(title)[0].entry_id
    for slug in ("harbours", "all"):
        wait_for_feed(daemon, slug, lambda f: entry_id in f.ids, what="the entry")
    os.truncate(path, 0)
    before = file_state(path)
    wait_rejected(daemon, "truncated.txt", "empty or whitespace only")
    for slug in ("harbours", "all"):
        wait_for_feed(daemon, slug, lambda f: entry_id not in f.ids, what="the entry gone")
    assert file_state(path) == before


def test_file_that_keeps_growing_is_read_anyway_then_whole(daemon: DaemonProcess) -> None:
    site = daemon.site
    title = "Harbour log that keeps growing"
    path = site.seeds / "growing.txt"
    seen_while_growing = False
    paced = threading.Event()
    started = time.monotonic()
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"Title: {title}\nDate: 2025-10-03\n\nLine 0 of the log.")
        line = 1
        # Keep appending for at least three settle limits, and until the entry showed.
        while time.monotonic() - started < 3 * SETTLE_LIMIT or not seen_while_growing:
            assert time.monotonic() - started < 15, (
                f"a file growing for 15 s was never published\n{daemon.log()}"
            )
            out.write(f" Line {line}.")
            out.flush()
            line += 1
            paced.wait(timeout=0.05)
            if line % 5 == 0:
                feed = read_feed(daemon, "all")
                seen_while_growing |= feed is not None and bool(feed.by_title(title))
        out.write(" The end, omega.\n")
    assert path.stat().st_size < MAX_FILE_BYTES

    def final(feed: Feed) -> bool:
        found = feed.by_title(title)
        return len(found) == 1 and "The end, omega." in found[0].content

    wait_for_feed(daemon, "all", final, what="the final content")


# --- unreadable permissions: needs a user that permission bits apply to ---------------------


@pytest.fixture
def unprivileged() -> Iterator[tuple[list[str], Path]]:
    """A command prefix that runs as an unprivileged user, and a folder that user may use."""
    if os.geteuid() != 0:
        yield [], Path(tempfile.mkdtemp(prefix="seedfeed-e2e-"))
        return
    if shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv is missing: permission bits would not apply")
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    root = Path(tempfile.mkdtemp(prefix="seedfeed-e2e-"))
    root.chmod(0o755)
    os.chown(root, NOBODY, NOBODY)
    try:
        yield prefix, root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_unreadable_file_is_rejected_then_ingested_when_readable(
    unprivileged: tuple[list[str], Path],
) -> None:
    prefix, root = unprivileged
    site = Site.create(root / "site", samples=False, settings=SETTINGS)
    if prefix:
        for path in (site.root, site.seeds, site.config):
            os.chown(path, NOBODY, NOBODY)
    daemon = DaemonProcess(site, prefix=prefix)
    try:
        daemon.start_serving()
        title = "Harbour story behind closed permissions"
        path = site.seeds / "locked.txt"
        path.write_text(story(title), encoding="utf-8")
        path.chmod(0)
        if prefix:
            os.chown(path, NOBODY, NOBODY)
        before = file_state(path)

        def rejected() -> bool:
            return "locked.txt" in rejected_reasons(site, prefix=prefix)

        wait_until(rejected, timeout=10)
        reason = rejected_reasons(site, prefix=prefix)["locked.txt"]
        assert "permission denied" in reason, reason
        wait_for_feed(
            daemon,
            "_rejected",
            lambda f: bool(f.by_title("Rejected: locked.txt")),
            what="lists locked.txt",
        )
        assert file_state(path) == before

        path.chmod(0o644)
        wait_titles(daemon, {title})
        assert "locked.txt" not in rejected_reasons(site, prefix=prefix)
        wait_for_feed(
            daemon,
            "_rejected",
            lambda f: not f.by_title("Rejected: locked.txt"),
            what="no longer lists locked.txt",
        )
        assert path.read_bytes() == before[2]
        daemon.stop()
    finally:
        if daemon.running:
            daemon.kill()


# --- file events ------------------------------------------------------------------------------

IGNORED_NAMES = (".x", "x~", "x.swp", "x.tmp", "x.part", "x.crdownload", "4913")


def test_temp_names_never_become_entries(daemon: DaemonProcess) -> None:
    site = daemon.site
    folder = site.seeds / "temps"
    folder.mkdir()
    hidden = {f"Harbour temp file {name}" for name in IGNORED_NAMES}
    for name in IGNORED_NAMES:
        (folder / name).write_text(story(f"Harbour temp file {name}"), encoding="utf-8")
    (folder / ".hidden-folder").mkdir()
    (folder / ".hidden-folder" / "inside.txt").write_text(story("Harbour hidden folder"), "utf-8")
    hidden.add("Harbour hidden folder")
    # Written after the temp files, so it settles after them: when it shows, they had their turn.
    (folder / "barrier.txt").write_text(story("Harbour temp barrier"), encoding="utf-8")
    wait_titles(daemon, {"Harbour temp barrier"}, hidden)
    known = [p for p in catalog_files(site) if p.startswith("temps/")]
    assert known == ["temps/barrier.txt"], known
    assert not [p for p in rejected_reasons(site) if p.startswith("temps/")]


def test_editor_save_through_a_temp_file_keeps_the_id(daemon: DaemonProcess) -> None:
    site = daemon.site
    title = "Harbour story saved by an editor"
    path = site.drop("editor/story.txt", story(title, "First draft of the harbour story."))
    first = wait_titles(daemon, {title}).by_title(title)[0]
    swap = path.with_name(".story.txt.swp")
    swap.write_text("swap file contents, not a story", encoding="utf-8")
    temp = path.with_name("4913")
    temp.write_text("", encoding="utf-8")
    temp.unlink()
    saved = path.with_name("story.txt~")
    saved.write_text(story(title, "Second draft of the harbour story, revised."), "utf-8")
    os.replace(saved, path)
    swap.unlink()

    def revised(feed: Feed) -> bool:
        found = feed.by_title(title)
        return len(found) == 1 and "Second draft" in found[0].content

    after = wait_for_feed(daemon, "all", revised, what="the revised story").by_title(title)[0]
    assert after.entry_id == first.entry_id
    assert after.published == first.published
    assert after.updated > first.updated


def test_moving_a_folder_inside_seeds_keeps_every_id(daemon: DaemonProcess) -> None:
    site = daemon.site
    titles = {f"Harbour folder story {n}" for n in range(4)}
    for n, title in enumerate(sorted(titles)):
        site.drop(f"movable/sub/story-{n}.txt", story(title))
    before = {t: e.entry_id for t in titles for e in wait_titles(daemon, titles).by_title(t)}
    (site.seeds / "moved-to").mkdir()
    os.rename(site.seeds / "movable", site.seeds / "moved-to" / "movable-renamed")

    def moved() -> bool:
        paths = [p for p in catalog_files(site) if "movable" in p]
        return sorted(paths) == [f"moved-to/movable-renamed/sub/story-{n}.txt" for n in range(4)]

    wait_until(moved, timeout=10)
    after = wait_titles(daemon, titles)
    assert {t: after.by_title(t)[0].entry_id for t in titles} == before


def test_moving_a_file_out_of_seeds_removes_its_entries(daemon: DaemonProcess) -> None:
    site = daemon.site
    title = "Harbour story that leaves seeds"
    path = site.drop("leaving.txt", story(title))
    entry_id = wait_titles(daemon, {title}).by_title(title)[0].entry_id
    os.rename(path, site.root / "left-seeds.txt")
    for slug in ("all", "harbours"):
        wait_for_feed(daemon, slug, lambda f: entry_id not in f.ids, what="the entry gone")
    assert "leaving.txt" not in catalog_files(site)


def test_same_content_in_two_files_is_one_entry(daemon: DaemonProcess) -> None:
    site = daemon.site
    title = "Harbour story dropped twice"
    text = story(title)
    site.drop("twice/one.txt", text)
    site.drop("twice/two.txt", text)

    def both_known() -> bool:
        return {"twice/one.txt", "twice/two.txt"} <= set(catalog_files(site))

    wait_until(both_known, timeout=10)
    entry_id = wait_titles(daemon, {title}).by_title(title)[0].entry_id
    sources = query_catalog(
        site, "SELECT rel_path FROM sources WHERE entry_id = ? ORDER BY rel_path", entry_id
    )
    assert sources == [("twice/one.txt",), ("twice/two.txt",)]
    (site.seeds / "twice" / "one.txt").unlink()

    def one_left() -> bool:
        return "twice/one.txt" not in catalog_files(site)

    wait_until(one_left, timeout=10)
    feed = wait_titles(daemon, {title})
    assert feed.by_title(title)[0].entry_id == entry_id


def _entry_xml(feed: Feed, entry_id: str) -> bytes:
    root = etree.fromstring(feed.data)
    for entry in root.iterfind("{http://www.w3.org/2005/Atom}entry"):
        if entry.findtext("{http://www.w3.org/2005/Atom}id") == entry_id:
            return bytes(etree.tostring(entry))
    raise AssertionError(f"{entry_id} not in {feed.slug}.atom")


def test_editing_one_story_of_two_keeps_the_other(daemon: DaemonProcess) -> None:
    site = daemon.site
    kept, edited = "Harbour pair story kept", "Harbour pair story edited"

    def pair(edit: str) -> str:
        return (
            f"{story(kept, 'The kept story stays as it is.')}\n---\n\n"
            f"{story(edited, f'The edited story, version {edit}.')}"
        )

    path = site.drop("pair.txt", pair("one"))
    before = wait_titles(daemon, {kept, edited})
    kept_entry = before.by_title(kept)[0]
    edited_entry = before.by_title(edited)[0]
    kept_xml = _entry_xml(before, kept_entry.entry_id)
    path.write_text(pair("two"), encoding="utf-8")

    def revised(feed: Feed) -> bool:
        found = feed.by_title(edited)
        return len(found) == 1 and "version two" in found[0].content

    after = wait_for_feed(daemon, "all", revised, what="the edited story")
    assert after.by_title(edited)[0].entry_id == edited_entry.entry_id
    assert after.by_title(edited)[0].updated > edited_entry.updated
    assert after.by_title(kept)[0] == kept_entry
    assert _entry_xml(after, kept_entry.entry_id) == kept_xml


# --- polling ----------------------------------------------------------------------------------


def test_polling_picks_up_a_dropped_file(tmp_path: Path) -> None:
    site = Site.create(tmp_path / "site", samples=False, settings=SETTINGS)
    daemon = DaemonProcess(site, args=["--polling"])
    try:
        daemon.start_serving()
        assert "polling seeds/" in daemon.log()
        title = "Harbour story found by polling"
        (site.seeds / "polled.txt").write_text(story(title), "utf-8")
        entry_id = wait_titles(daemon, {title}, timeout=15).by_title(title)[0].entry_id
        # A rename keeps the id; a deletion takes the entry away.
        os.rename(site.seeds / "polled.txt", site.seeds / "polled-renamed.txt")
        (site.seeds / "second.txt").write_text(story("Harbour second polled story"), "utf-8")

        def renamed() -> bool:
            return set(catalog_files(site)) == {"polled-renamed.txt", "second.txt"}

        wait_until(renamed, timeout=15)
        feed = wait_titles(daemon, {title, "Harbour second polled story"})
        assert feed.by_title(title)[0].entry_id == entry_id
        (site.seeds / "second.txt").unlink()
        wait_titles(daemon, {title}, {"Harbour second polled story"}, timeout=15)
        daemon.stop()
    finally:
        if daemon.running:
            daemon.kill()
    assert read_status(site)["entries"] == 1
    assert stat.S_ISREG((site.seeds / "polled-renamed.txt").stat().st_mode)


def test_vim_style_save_renames_the_original_aside_and_keeps_the_id(
    daemon: DaemonProcess,
) -> None:
    """vim (backupcopy=no), gedit and others: rename the file to a backup name, write the new
    text under the real name, delete the backup. The story is edited, not deleted and re-added:
    the real name is back well within `settle`.
    """
    site = daemon.site
    title = "Harbour story saved the vim way"
    path = site.drop("vim/story.txt", story(title, "First version of the vim story."))
    first = wait_titles(daemon, {title}).by_title(title)[0]
    backup = path.with_name("story.txt~")
    os.rename(path, backup)
    # Writing and fsyncing the new file takes the editor a moment: half the settle time.
    threading.Event().wait(timeout=SETTLE / 2)
    path.write_text(story(title, "Second version of the vim story."), encoding="utf-8")
    backup.unlink()

    def revised(feed: Feed) -> bool:
        found = feed.by_title(title)
        return len(found) == 1 and "Second version" in found[0].content

    after = wait_for_feed(daemon, "all", revised, what="the revised story").by_title(title)[0]
    assert after.entry_id == first.entry_id
    assert after.published == first.published


def test_moving_a_folder_out_of_seeds_removes_its_entries(daemon: DaemonProcess) -> None:
    site = daemon.site
    titles = {f"Harbour story in a folder that leaves {n}" for n in range(3)}
    for n, title in enumerate(sorted(titles)):
        site.drop(f"outgoing/deeper/{n}/story.txt", story(title))
    feed = wait_titles(daemon, titles)
    ids = {e.entry_id for t in titles for e in feed.by_title(t)}
    os.rename(site.seeds / "outgoing", site.root / "outgoing-elsewhere")
    for slug in ("all", "harbours"):
        wait_for_feed(daemon, slug, lambda f: not ids & f.ids, what="the folder's entries gone")
    assert not [p for p in catalog_files(site) if p.startswith("outgoing/")]


def test_moving_a_folder_into_seeds_ingests_everything_in_it(daemon: DaemonProcess) -> None:
    site = daemon.site
    outside = site.root / "incoming-folder"
    titles = {f"Harbour story moved in with its folder {n}" for n in range(5)}
    for n, title in enumerate(sorted(titles)):
        (outside / "a" / str(n)).mkdir(parents=True)
        (outside / "a" / str(n) / "story.txt").write_text(story(title), encoding="utf-8")
    os.rename(outside, site.seeds / "incoming")
    wait_titles(daemon, titles)


def test_deleted_story_coming_back_gets_its_old_id(daemon: DaemonProcess) -> None:
    site = daemon.site
    title = "Harbour story deleted and dropped again"
    text = story(title)
    path = site.drop("comeback.txt", text)
    entry_id = wait_titles(daemon, {title}).by_title(title)[0].entry_id
    path.unlink()
    wait_titles(daemon, set(), {title})
    site.drop("comeback-again.txt", text)
    assert wait_titles(daemon, {title}).by_title(title)[0].entry_id == entry_id


def test_symlink_to_a_file_inside_seeds_is_the_same_entry(daemon: DaemonProcess) -> None:
    site = daemon.site
    title = "Harbour story linked from another folder"
    site.drop("linked/original.txt", story(title))
    (site.seeds / "linked" / "alias.txt").symlink_to("original.txt")

    def both_known() -> bool:
        files = catalog_files(site)
        return all(
            files.get(f"linked/{n}", (0, 0, ""))[2] == "ok" for n in ("original.txt", "alias.txt")
        )

    wait_until(both_known, timeout=10)
    wait_titles(daemon, {title})


def test_reordering_and_dropping_stories_of_one_file(daemon: DaemonProcess) -> None:
    site = daemon.site
    names = [f"Harbour trio story {n}" for n in ("one", "two", "three")]

    def trio(order: list[str], version: str) -> str:
        return "\n---\n\n".join(story(t, f"{t} body, version {version}.") for t in order)

    path = site.drop("trio.txt", trio(names, "a"))
    before = wait_titles(daemon, set(names))
    ids = {t: before.by_title(t)[0].entry_id for t in names}
    path.write_text(trio([names[2], names[0]], "b"), encoding="utf-8")

    def rewritten(feed: Feed) -> bool:
        return not feed.by_title(names[1]) and all(
            len(feed.by_title(t)) == 1 and "version b" in feed.by_title(t)[0].content
            for t in (names[0], names[2])
        )

    after = wait_for_feed(daemon, "all", rewritten, what="the rewritten file")
    assert {t: after.by_title(t)[0].entry_id for t in (names[0], names[2])} == {
        t: ids[t] for t in (names[0], names[2])
    }


def test_file_name_that_is_not_utf8_is_read_or_rejected(tmp_path: Path) -> None:
    site = Site.create(tmp_path / "site", samples=False, settings=SETTINGS)
    title = "Harbour story under a Latin-1 file name"
    daemon = DaemonProcess(site)
    try:
        daemon.start_serving()
        # Files unpacked from old archives or copied from old disks: a name in Latin-1.
        name = os.fsencode(site.seeds) + b"/caf\xe9-latin1.txt"
        with open(name, "wb") as out:
            out.write(story(title).encode())
        # Written after it, so it settles after it: when it shows, the other had its turn.
        barrier = "Harbour barrier after the Latin-1 name"
        (site.seeds / "barrier.txt").write_text(story(barrier), encoding="utf-8")
        wait_titles(daemon, {barrier})

        def answered(feed: Feed) -> bool:
            rejected = read_feed(daemon, "_rejected")
            return bool(feed.by_title(title)) or (
                rejected is not None and any("latin1" in e.title for e in rejected.entries)
            )

        wait_for_feed(daemon, "all", answered, timeout=2, what="the file read or rejected")
        # And seedfeed still starts with the file in seeds/.
        daemon.kill()
        daemon.start_serving()
        wait_for_feed(daemon, "all", answered, timeout=2, what="the file read or rejected")
        daemon.stop()
    finally:
        if daemon.running:
            daemon.kill()


def test_folder_moved_in_with_a_symlink_outside_publishes_nothing_outside(
    daemon: DaemonProcess,
) -> None:
    site = daemon.site
    marker = "Secret beside a moved folder, kappa four"
    secret = site.root / "secret-kappa.txt"
    secret.write_text(story(marker), encoding="utf-8")
    bundle = site.root / "bundle"
    (bundle / "inner").mkdir(parents=True)
    (bundle / "inner" / "link.txt").symlink_to(secret)
    (bundle / "inner" / "link-folder").symlink_to(site.root, target_is_directory=True)
    (bundle / "real.txt").write_text(story("Harbour story in a moved bundle"), "utf-8")
    os.rename(bundle, site.seeds / "bundle")
    wait_rejected(daemon, "bundle/inner/link.txt", "outside seeds/")
    wait_rejected(daemon, "bundle/inner/link-folder", "outside seeds/")
    wait_titles(daemon, {"Harbour story in a moved bundle"}, {marker})
    assert_not_published(site, marker)


def test_a_rejected_file_that_is_deleted_leaves_the_operator_feed(daemon: DaemonProcess) -> None:
    site = daemon.site
    path = site.seeds / "rejected-then-deleted.txt"
    path.write_bytes(BINARY["png"])
    wait_rejected(daemon, "rejected-then-deleted.txt", "binary")
    path.unlink()
    wait_for_feed(
        daemon,
        "_rejected",
        lambda f: not f.by_title("Rejected: rejected-then-deleted.txt"),
        what="no longer lists the deleted file",
    )
    assert "rejected-then-deleted.txt" not in rejected_reasons(site)


def test_folder_replaced_by_a_file_of_the_same_name(daemon: DaemonProcess) -> None:
    site = daemon.site
    inside = {f"Harbour story in a folder soon a file {n}" for n in range(2)}
    for n, title in enumerate(sorted(inside)):
        site.drop(f"becomes-file/{n}.txt", story(title))
    wait_titles(daemon, inside)
    shutil.rmtree(site.seeds / "becomes-file")
    site.drop("becomes-file", story("Harbour file where a folder was"))
    wait_titles(daemon, {"Harbour file where a folder was"}, inside)
    assert [p for p in catalog_files(site) if p.startswith("becomes-file")] == ["becomes-file"]


def test_a_story_split_out_into_its_own_file_keeps_its_id(daemon: DaemonProcess) -> None:
    site = daemon.site
    first, second = "Harbour split story first", "Harbour split story second"
    second_text = story(second, "The second story moves to a file of its own.")
    path = site.drop("split.txt", f"{story(first)}\n---\n\n{second_text}")
    before = wait_titles(daemon, {first, second})
    ids = {t: before.by_title(t)[0].entry_id for t in (first, second)}
    path.write_text(story(first), encoding="utf-8")
    site.drop("split-second.txt", second_text)

    def both_files() -> bool:
        files = catalog_files(site)
        return "split-second.txt" in files and files["split.txt"][0] == path.stat().st_size

    wait_until(both_files, timeout=10)
    after = wait_titles(daemon, {first, second})
    assert {t: after.by_title(t)[0].entry_id for t in (first, second)} == ids


def test_editing_one_of_two_identical_files_keeps_both_texts(daemon: DaemonProcess) -> None:
    site = daemon.site
    title = "Harbour twin story"

    def twin(version: str) -> str:
        return story(title, f"The twin story, version {version}.")

    site.drop("twins/a.txt", twin("one"))
    site.drop("twins/b.txt", twin("one"))

    def both_known() -> bool:
        return {"twins/a.txt", "twins/b.txt"} <= set(catalog_files(site))

    wait_until(both_known, timeout=10)
    shared = wait_titles(daemon, {title}).by_title(title)[0]
    (site.seeds / "twins" / "a.txt").write_text(twin("two"), encoding="utf-8")

    def edited(feed: Feed) -> bool:
        return any("version two" in e.content for e in feed.by_title(title))

    after = wait_for_feed(daemon, "all", edited, what="the edited twin").by_title(title)
    # b.txt still holds version one: both texts are published, each as its own entry.
    versions = sorted("version one" in e.content for e in after)
    assert versions == [False, True], [e.content for e in after]
    assert len({e.entry_id for e in after}) == 2
    assert shared.entry_id in {e.entry_id for e in after}


def test_touching_a_file_changes_nothing_readers_see(daemon: DaemonProcess) -> None:
    site = daemon.site
    title = "Harbour story touched but not changed"
    path = site.drop("touched.txt", story(title))
    before = wait_titles(daemon, {title}).by_title(title)[0]
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))

    def read_again() -> bool:
        return catalog_files(site)["touched.txt"][1] == path.stat().st_mtime_ns

    wait_until(read_again, timeout=10)
    after = read_feed(daemon, "all")
    assert after is not None and after.by_title(title) == [before]


def test_a_file_edited_then_renamed_keeps_its_id(daemon: DaemonProcess) -> None:
    site = daemon.site
    title = "Harbour story edited, then renamed"
    path = site.drop("edit-move/before.txt", story(title, "The first text of the story."))
    first = wait_titles(daemon, {title}).by_title(title)[0]
    path.write_text(story(title, "The second text of the story."), encoding="utf-8")
    os.rename(path, path.with_name("after.txt"))

    def moved(feed: Feed) -> bool:
        found = feed.by_title(title)
        return (
            len(found) == 1
            and "second text" in found[0].content
            and "edit-move/before.txt" not in catalog_files(site)
        )

    after = wait_for_feed(daemon, "all", moved, what="the edited story under its new name")
    assert after.by_title(title)[0].entry_id == first.entry_id
