"""End to end: full history (RFC 5005 archive pages), deletions (RFC 6721 tombstones) and
WebSub pings, on the real `seedfeed run` with its feeds read over HTTP.

With `max_entries = 3`, archive page n of a topic holds the n-th block of three entries in
the order they joined it, and is out once three more joined after it; it never changes again
except to gain its `next-archive` link when the next page is out. The subscription document
holds every entry no archive page holds, so a reader walking `prev-archive` from it reaches
each entry of the topic exactly once.
"""

from __future__ import annotations

import email.utils
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from lxml import etree

from tests.atom_schema import assert_valid_atom
from tests.conftest import wait_until
from tests.e2e.daemon import (
    DaemonProcess,
    Feed,
    Setting,
    parse_feed,
    publish_idle,
    served_site,
    wait_for_feed,
)
from tests.history import assert_history_complete

pytestmark = pytest.mark.e2e

PAGE_SIZE = 3
TOPIC = "harbours"
ATOM = "{http://www.w3.org/2005/Atom}"
HISTORY = "{http://purl.org/syndication/history/1.0}"
TOMBSTONES = "{http://purl.org/atompub/tombstones/1.0}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def story_title(n: int) -> str:
    return f"Harbour bulletin {n}: berth {n} reopens to shipping"


def story(n: int) -> str:
    """A headered clipping in topic `harbours` only, dated in the past."""
    return (
        f"Title: {story_title(n)}\nDate: 2025-10-{n:02d}\nTopics: {TOPIC}\n\n"
        f"The harbour authority said on Friday that berth {n} reopened to shipping after "
        f"repairs to its quay wall.\n"
    )


def settings(**feeds: Setting) -> dict[str, dict[str, Setting]]:
    return {"feeds": {"max_entries": PAGE_SIZE, **feeds}}


# --- reading documents -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """One Atom document as served: its URL, bytes, links by rel, and entry ids in order."""

    url: str
    data: bytes
    links: dict[str, str]
    archive: bool
    ids: tuple[str, ...]


def fetch_document(daemon: DaemonProcess, url: str) -> Document:
    origin = f"http://127.0.0.1:{daemon.port}/"
    assert url.startswith(origin), f"a link leaves the site: {url}"
    data = daemon.fetch(url.removeprefix(origin))
    assert data is not None, f"{url} is not served"
    feed = parse_feed(Path(url).stem, data)  # valid Atom, parses, no duplicate ids
    root = etree.fromstring(data)
    links = {str(link.get("rel")): str(link.get("href")) for link in root.findall(f"{ATOM}link")}
    return Document(
        url=url,
        data=data,
        links=links,
        archive=root.find(f"{HISTORY}archive") is not None,
        ids=tuple(entry.entry_id for entry in feed.entries),
    )


def walk_history(daemon: DaemonProcess, slug: str) -> list[Document]:
    """The subscription document, then each archive page by `prev-archive`, newest first."""
    url = f"http://127.0.0.1:{daemon.port}/feeds/{slug}.atom"
    walked = [fetch_document(daemon, url)]
    while "prev-archive" in walked[-1].links:
        url = walked[-1].links["prev-archive"]
        assert url not in {d.url for d in walked}, f"prev-archive loops back to {url}"
        walked.append(fetch_document(daemon, url))
        assert len(walked) < 20, "prev-archive never ends"
    return walked


def page_path(daemon: DaemonProcess, slug: str, number: int) -> Path:
    return daemon.site.public / "feeds" / "archive" / slug / f"{number}.atom"


def published_with(daemon: DaemonProcess, title: str) -> Feed:
    """Wait until the topic feed holds `title` and nothing is left to publish."""
    feed = wait_for_feed(daemon, TOPIC, lambda f: len(f.by_title(title)) == 1, what=title)
    wait_until(lambda: publish_idle(daemon.site), timeout=10)
    return feed


def tombstone_refs(daemon: DaemonProcess, slug: str) -> set[str]:
    """The entry ids a served subscription document carries `at:deleted-entry` tombstones for."""
    root = etree.fromstring(daemon.fetch(f"feeds/{slug}.atom") or b"")
    return {str(t.get("ref")) for t in root.iter(f"{TOMBSTONES}deleted-entry")}


def entry_page(feed: Feed, entry_id: str) -> str:
    """The URL of an entry's HTML page: its `alternate` link in the feed."""
    root = etree.fromstring(feed.data)
    for entry in root.iter(f"{ATOM}entry"):
        if entry.findtext(f"{ATOM}id") == entry_id:
            links = entry.findall(f"{ATOM}link[@rel='alternate']")
            assert len(links) == 1, f"{entry_id} has {len(links)} alternate links"
            return str(links[0].get("href"))
    raise AssertionError(f"{entry_id} is not in {feed.slug}.atom")


# --- checks on everything in public/ -------------------------------------------------------


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, f"a date without a zone: {text}"
    return moment


def dates_and_ids(path: Path) -> tuple[list[datetime], list[str]]:
    """Every date and entry id in one feed document (Atom, RSS 2.0 or JSON Feed)."""
    data = path.read_bytes()
    if path.suffix == ".json":
        document = json.loads(data)
        items = document["items"]
        dates = [_moment(i[k]) for i in items for k in ("date_published", "date_modified")]
        return dates, [str(item["id"]) for item in items]
    root = etree.fromstring(data)
    if path.suffix == ".rss":
        texts = [e.text or "" for e in root.iter("pubDate", "lastBuildDate")]
        dates = [email.utils.parsedate_to_datetime(text) for text in texts]
        return dates, [e.text or "" for e in root.iter("guid")]
    dates = [_moment(e.text or "") for e in root.iter(f"{ATOM}updated", f"{ATOM}published")]
    dates += [_moment(str(t.get("when"))) for t in root.iter(f"{TOMBSTONES}deleted-entry")]
    ids = [e.text or "" for entry in root.iter(f"{ATOM}entry") for e in entry.iter(f"{ATOM}id")]
    return dates, ids


def assert_public_documents_sound(public: Path) -> dict[str, int]:
    """Every feed document in public/: Atom ones valid against RFC 4287's schema, none with a
    duplicate entry id or a date in the future. Returns how many of each format were checked."""
    now = datetime.now(UTC)
    checked: dict[str, int] = {}
    for path in sorted((public / "feeds").rglob("*")):
        if path.suffix not in (".atom", ".rss", ".json"):
            continue
        if path.suffix == ".atom":
            assert_valid_atom(path.read_bytes())
        dates, ids = dates_and_ids(path)
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        assert not duplicates, f"{path.relative_to(public)} repeats ids {duplicates}"
        future = [d.isoformat() for d in dates if d > now]
        assert not future, f"{path.relative_to(public)} has dates in the future: {future}"
        checked[path.suffix] = checked.get(path.suffix, 0) + 1
    return checked


# --- the tests -----------------------------------------------------------------------------


@pytest.fixture
def history_daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    with served_site(tmp_path / "site", settings=settings()) as daemon:
        yield daemon


def test_archive_pages_reach_every_entry_and_never_change_once_full(
    history_daemon: DaemonProcess,
) -> None:
    daemon = history_daemon
    page1 = page_path(daemon, TOPIC, 1)
    page2 = page_path(daemon, TOPIC, 2)
    frozen: dict[Path, bytes] = {}
    ids: list[str] = []
    for n in range(1, 12):
        daemon.site.drop(f"{TOPIC}-{n}.txt", story(n))
        feed = published_with(daemon, story_title(n))
        ids.append(feed.by_title(story_title(n))[0].entry_id)
        # Pages are out from the sixth and ninth entry on, and not before.
        assert page1.exists() == (n >= 6) and page2.exists() == (n >= 9), f"after {n} entries"
        assert not page_path(daemon, TOPIC, 3).exists()
        if n == 6:
            frozen[page1] = page1.read_bytes()
        elif n == 9:
            # Page 1 gains its next-archive link once, then both pages stay as they are.
            gained = page1.read_bytes()
            assert gained != frozen[page1], "page 1 never linked to page 2"
            before = etree.fromstring(frozen[page1])
            after = etree.fromstring(gained)
            assert [e.findtext(f"{ATOM}id") for e in before.iter(f"{ATOM}entry")] == [
                e.findtext(f"{ATOM}id") for e in after.iter(f"{ATOM}entry")
            ]
            frozen = {page1: gained, page2: page2.read_bytes()}
        for path, data in frozen.items():
            assert path.read_bytes() == data, f"{path.name} changed when entry {n} arrived"

    walked = walk_history(daemon, TOPIC)
    current, newest_page, oldest_page = walked  # the subscription document and two pages
    base = f"http://127.0.0.1:{daemon.port}/feeds/"
    assert current.url == current.links["self"] == f"{base}{TOPIC}.atom"
    assert not current.archive and sorted(current.ids) == sorted(ids[6:])
    assert current.links["prev-archive"] == f"{base}archive/{TOPIC}/2.atom"
    assert "next-archive" not in current.links
    assert newest_page.archive and oldest_page.archive
    assert newest_page.links["self"] == f"{base}archive/{TOPIC}/2.atom"
    assert newest_page.links["current"] == current.url
    assert newest_page.links["prev-archive"] == f"{base}archive/{TOPIC}/1.atom"
    assert oldest_page.links["self"] == f"{base}archive/{TOPIC}/1.atom"
    assert oldest_page.links["current"] == current.url
    assert oldest_page.links["next-archive"] == newest_page.url
    assert "prev-archive" not in oldest_page.links
    # Page n holds the n-th block of three in joining order; the documents never share an
    # entry: the subscription document holds the entries no page holds.
    assert set(oldest_page.ids) == set(ids[0:3]) and set(newest_page.ids) == set(ids[3:6])
    reached = [i for d in walked for i in d.ids]
    assert sorted(reached) == sorted(ids) and len(set(ids)) == 11, "not every entry reached once"
    # Each document has the same feed id (RFC 5005: pages of one feed).
    feed_ids = {etree.fromstring(d.data).findtext(f"{ATOM}id") for d in walked}
    assert len(feed_ids) == 1, feed_ids

    # `all` pages the same way, with the two sample clippings' three entries first.
    everything = walk_history(daemon, "all")
    seen = [i for d in everything for i in d.ids]
    assert set(ids) <= set(seen) and len(seen) == len(set(seen)) == 14
    assert len(everything) == 4  # three pages out, and the subscription document
    wait_until(lambda: publish_idle(daemon.site), timeout=10)
    assert assert_history_complete(daemon.site.public, daemon.site.state) >= 3


def test_a_deleted_file_leaves_tombstones_in_its_entrys_feeds(
    history_daemon: DaemonProcess,
) -> None:
    daemon = history_daemon
    for n in range(1, 7):
        daemon.site.drop(f"{TOPIC}-{n}.txt", story(n))
        published_with(daemon, story_title(n))
    daemon.site.drop("empty.txt", "\n")  # rejected: the operator feed exists too
    wait_for_feed(daemon, "_rejected", lambda f: len(f.entries) == 1, what="the rejection")
    # Entries 2 and 3 are on archive page 1 (entries 1-3), out since entry 6 joined.
    before = parse_feed(TOPIC, daemon.fetch(f"feeds/archive/{TOPIC}/1.atom") or b"")
    gone = before.by_title(story_title(2))[0].entry_id
    page_url = entry_page(before, gone).removeprefix(f"http://127.0.0.1:{daemon.port}/")
    assert daemon.fetch(page_url) is not None, f"{page_url} is not served"
    sco_before = (daemon.site.public / "feeds" / "sco.atom").read_bytes()
    deleted_at = datetime.now(UTC)

    (daemon.site.seeds / f"{TOPIC}-2.txt").unlink()
    for slug in (TOPIC, "all"):
        wait_until(lambda slug=slug: gone in tombstone_refs(daemon, slug), timeout=10)
    wait_until(lambda: publish_idle(daemon.site), timeout=10)
    for slug in (TOPIC, "all"):
        data = daemon.fetch(f"feeds/{slug}.atom")
        assert data is not None
        root = etree.fromstring(data)
        tombstones = root.findall(f"{TOMBSTONES}deleted-entry")
        assert [t.get("ref") for t in tombstones] == [gone], f"{slug}.atom tombstones"
        when = str(tombstones[0].get("when"))
        assert RFC3339.match(when), f"when={when!r} is not RFC 3339"
        assert deleted_at <= _moment(when) <= datetime.now(UTC)
        assert gone not in [e.findtext(f"{ATOM}id") for e in root.iter(f"{ATOM}entry")]
    # A feed the entry was never in carries no tombstone for it; its page is gone.
    assert (daemon.site.public / "feeds" / "sco.atom").read_bytes() == sco_before
    assert daemon.fetch(page_url) is None, f"{page_url} still served after the delete"
    # Archive page 1 (entries 1-3) no longer lists the deleted entry either.
    page1 = fetch_document(daemon, f"http://127.0.0.1:{daemon.port}/feeds/archive/{TOPIC}/1.atom")
    assert gone not in page1.ids and len(page1.ids) == 2

    # An edit that takes an entry out of a topic leaves a tombstone there, not in `all`.
    moved = before.by_title(story_title(3))[0].entry_id
    (daemon.site.seeds / f"{TOPIC}-3.txt").write_text(
        story(3).replace(f"Topics: {TOPIC}", "Topics: lighthouses"), encoding="utf-8"
    )
    wait_for_feed(daemon, TOPIC, lambda f: f.by_id(moved) is None, what="entry 3 leaves")
    wait_for_feed(daemon, "lighthouses", lambda f: f.by_id(moved) is not None, what="arrives")
    wait_until(lambda: publish_idle(daemon.site), timeout=10)
    refs = {slug: tombstone_refs(daemon, slug) for slug in (TOPIC, "all", "lighthouses")}
    assert refs == {TOPIC: {gone, moved}, "all": {gone}, "lighthouses": set()}, refs

    checked = assert_public_documents_sound(daemon.site.public)
    assert assert_history_complete(daemon.site.public, daemon.site.state) >= 4
    assert checked[".atom"] >= 6 and checked[".rss"] >= 4 and checked[".json"] >= 4, checked
    assert (daemon.site.public / "feeds" / "_rejected.atom").exists()


def served_links(daemon: DaemonProcess, slug: str) -> dict[str, bool]:
    """Every archive and entry-page link in a subscription document: is it served?"""
    data = daemon.fetch(f"feeds/{slug}.atom")
    assert data is not None
    root = etree.fromstring(data)
    hrefs = [str(link.get("href")) for link in root.findall(f"{ATOM}link[@rel='prev-archive']")]
    hrefs += [
        str(link.get("href"))
        for entry in root.iter(f"{ATOM}entry")
        for link in entry.findall(f"{ATOM}link[@rel='alternate']")
    ]
    origin = f"http://127.0.0.1:{daemon.port}/"
    return {href: daemon.fetch(href.removeprefix(origin)) is not None for href in hrefs}


def test_a_feed_never_links_to_a_page_that_was_not_written(
    history_daemon: DaemonProcess,
) -> None:
    daemon = history_daemon
    for n in range(1, 6):
        daemon.site.drop(f"{TOPIC}-{n}.txt", story(n))
        published_with(daemon, story_title(n))
    # The sixth entry puts archive page 1 out, which cannot be written (as on a full disk).
    blocker = page_path(daemon, TOPIC, 1).parent
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder\n", encoding="utf-8")
    daemon.site.drop(f"{TOPIC}-6.txt", story(6))
    wait_until(lambda: "publish failed" in daemon.log_path.read_text("utf-8"), timeout=10)
    for slug in (TOPIC, "all"):
        links = served_links(daemon, slug)
        missing = sorted(href for href, served in links.items() if not served)
        assert not missing, f"{slug}.atom links to pages that are not served: {missing}"
    # Once the page can be written, the next publish catches up by itself.
    blocker.unlink()
    published_with(daemon, story_title(6))
    wait_until(lambda: publish_idle(daemon.site), timeout=10)
    for slug in (TOPIC, "all"):
        links = served_links(daemon, slug)
        assert links and all(links.values()), f"{slug}.atom after recovery: {links}"
    assert page_path(daemon, TOPIC, 1).is_file()


# --- WebSub --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping:
    content_type: str
    fields: dict[str, list[str]]


class HubStub:
    """A WebSub hub on 127.0.0.1 that records every publish ping and answers 204."""

    def __init__(self) -> None:
        pings: list[Ping] = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                ping = Ping(
                    content_type=self.headers.get("Content-Type", ""),
                    fields=urllib.parse.parse_qs(body),
                )
                with lock:
                    pings.append(ping)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # the test reads the pings, not a log

        self._pings = pings
        self._lock = lock
        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="hub-stub")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def pings(self) -> list[Ping]:
        with self._lock:
            return list(self._pings)

    def __enter__(self) -> HubStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _feed_files(public: Path) -> dict[str, bytes]:
    """The published feed documents (not a publish's hidden temp files, which come and go)."""
    return {
        p.name: p.read_bytes()
        for p in (public / "feeds").iterdir()
        if p.is_file() and not p.name.startswith(".")
    }


def test_changed_feeds_are_announced_to_the_websub_hub(tmp_path: Path) -> None:
    with (
        HubStub() as hub,
        served_site(tmp_path / "site", settings=settings(hub_url=hub.url)) as daemon,
    ):
        public = daemon.site.public
        base = f"http://127.0.0.1:{daemon.port}/feeds/"
        # Every feed carries the hub and itself, in each format.
        for slug in ("all", "pakistan"):
            root = etree.fromstring(daemon.fetch(f"feeds/{slug}.atom") or b"")
            links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
            assert links["hub"] == hub.url and links["self"] == f"{base}{slug}.atom"
            rss = daemon.fetch(f"feeds/{slug}.rss") or b""
            assert f'href="{hub.url}" rel="hub"'.encode() in rss
            document = json.loads(daemon.fetch(f"feeds/{slug}.json") or b"{}")
            assert document["hubs"] == [{"type": "WebSub", "url": hub.url}]
        wait_until(lambda: publish_idle(daemon.site), timeout=10)
        files_before = _feed_files(public)
        already = len(hub.pings())

        daemon.site.drop(f"{TOPIC}-1.txt", story(1))
        published_with(daemon, story_title(1))

        def changed_files() -> set[str]:
            files = _feed_files(public)
            return {name for name, data in files.items() if files_before.get(name) != data}

        # The Atom documents come first; the other formats follow in the same publish.
        wanted = {f"{TOPIC}.atom", "all.atom", "all.rss", "all.json"}
        wait_until(lambda: wanted <= changed_files() and publish_idle(daemon.site), timeout=10)
        changed = changed_files()
        expected = {f"{base}{name}" for name in changed}
        wait_until(
            lambda: expected <= _pinged(hub, since=already),
            timeout=10,
            explain=lambda: (
                f"not announced: {sorted(expected - _pinged(hub, since=already))}\n"
                f"announced: {sorted(_pinged(hub, since=already))}\n{daemon.log()}"
            ),
        )
        new_pings = hub.pings()[already:]
        assert {p.content_type for p in new_pings} == {"application/x-www-form-urlencoded"}
        assert all(p.fields["hub.mode"] == ["publish"] for p in new_pings)
        assert _pinged(hub, since=already) == expected, (
            "a feed whose bytes did not change was announced"
        )
        daemon.stop()


def _pinged(hub: HubStub, *, since: int = 0) -> set[str]:
    return {url for ping in hub.pings()[since:] for url in ping.fields.get("hub.url", [])}


def test_feeds_written_at_start_are_announced_to_the_websub_hub(tmp_path: Path) -> None:
    with (
        HubStub() as hub,
        served_site(tmp_path / "site", settings=settings(hub_url=hub.url)) as daemon,
    ):
        base = f"http://127.0.0.1:{daemon.port}/feeds/"
        wait_until(lambda: publish_idle(daemon.site), timeout=10)
        # Every feed but the operator one (_rejected.atom), which is for the operator alone.
        feeds = [name for name in _feed_files(daemon.site.public) if not name.startswith("_")]
        written = {f"{base}{name}" for name in feeds}
        assert f"{base}all.atom" in written and f"{base}pakistan.atom" in written
        wait_until(lambda: written <= _pinged(hub), timeout=3)
        daemon.stop()
