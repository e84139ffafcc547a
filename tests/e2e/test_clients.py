"""End to end with real feed readers: the `reader` library, feedparser over HTTP and newsboat.

Each client subscribes to every topic feed `feeds.opml` lists, on a running `seedfeed run`.
Then files are dropped, one is edited and one deleted; after each step every client must hold
exactly the entries it was shown (none doubled, an edit an update of the same id), and every
poll must get 304 exactly when the client revalidates the bytes being served, 200 otherwise
(each client's own rules for keeping an ETag are modelled: see `kept_validators`). The HTTP
statuses of `reader` and newsboat come from the daemon's own request log (`-v`); feedparser
and a raw-socket poller report their own, and the raw poller counts the body bytes of a 304.
The figures land in test-output/clients.json.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import feedparser
import pytest
from lxml import etree
from reader import Entry, Reader, UpdatedFeed, make_reader

from tests.conftest import REPO, wait_until
from tests.e2e.daemon import (
    DaemonProcess,
    Feed,
    assert_public_valid,
    publish_idle,
    read_feed,
    served_site,
)

pytestmark = pytest.mark.e2e

FeedCheck = Callable[[Feed], bool]

MAX_ENTRIES = 5
SETTINGS = {"feeds": {"max_entries": MAX_ENTRIES}}
OUTPUT = REPO / "test-output"
TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"
NEWSBOAT_FILES = ("-u", "urls", "-c", "cache.db", "-C", "config")
REQUEST_LINE = re.compile(r"http request client=\S+ line='GET (\S+) HTTP/1\.[01]' status=(\d+)")

RAIL_TITLE = "Islamabad hosts SCO talks on regional rail links"
RAIL_TEXT = f"""\
{RAIL_TITLE}

Published 3 November 2025

ISLAMABAD: Pakistan hosted officials from Shanghai Cooperation Organisation member states on \
Monday to discuss regional rail links and trade corridors.

The delegates agreed to meet again in Tashkent next spring, officials said. Closing words alpha.
"""
RAIL_MARKER = "Closing words beta, added when the story was revised."
RAIL_EDITED_TEXT = RAIL_TEXT.replace("Closing words alpha.", RAIL_MARKER)

RALLY_TITLE = "Peshawar rally calls for early provincial polls"
RALLY_TEXT = f"""\
{RALLY_TITLE}

Published 4 November 2025

PESHAWAR: Several thousand supporters gathered in Peshawar on Tuesday to call for early \
provincial polls, organisers said.

Speakers urged the provincial assembly to set a date before the spring.
"""

FAIR_TITLE = "Lahore book fair opens with record crowds"
FAIR_TEXT = f"""\
{FAIR_TITLE}

Published 6 November 2025

LAHORE: The annual book fair opened on Thursday with record crowds, the organisers said.

Publishers from twelve cities brought more than a thousand new titles.
"""


def need_program(name: str) -> str:
    """The path of a client program; skip when it is absent and cannot be installed here."""
    found = shutil.which(name)
    if found is not None:
        return found
    if os.geteuid() != 0:
        pytest.skip(f"{name} is not installed (apt-get install {name}; `make system-deps`)")
    pytest.fail(f"{name} is not installed: run `make system-deps` (apt-get install {name})")


def subscription_urls(daemon: DaemonProcess) -> list[str]:
    """Every feed URL `feeds.opml` lists, after checking it is OPML 2.0 on this server."""
    data = daemon.fetch("feeds.opml")
    assert data is not None, "feeds.opml is not served"
    root = etree.fromstring(data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    urls = [str(o.get("xmlUrl")) for o in root.iter("outline") if o.get("xmlUrl")]
    assert urls and len(set(urls)) == len(urls), f"feeds.opml lists {urls}"
    origin = f"http://127.0.0.1:{daemon.port}/"
    assert all(url.startswith(origin) for url in urls), f"feeds.opml points elsewhere: {urls}"
    return urls


def slug_of(url: str) -> str:
    return Path(urlsplit(url).path).stem


# --- what the server holds -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Published:
    """The subscription documents as the server serves them after a step."""

    feeds: Mapping[str, Feed]  # by URL

    def ids(self, url: str) -> set[str]:
        return self.feeds[url].ids

    def titles(self, url: str) -> list[str]:
        return [entry.title for entry in self.feeds[url].entries]


def read_published(daemon: DaemonProcess, urls: list[str]) -> Published:
    """Every subscribed feed once publishing has finished (nothing dirty, disk == HTTP)."""
    wait_until(lambda: publish_idle(daemon.site), timeout=10)
    feeds = {}
    for url in urls:
        feed = read_feed(daemon, slug_of(url))
        assert feed is not None, f"{url} is gone"
        feeds[url] = feed
    return Published(feeds=feeds)


def wait_published(
    daemon: DaemonProcess, urls: list[str], what: str, check: Mapping[str, FeedCheck]
) -> Published:
    """Wait until, for every feed slug in `check`, `check[slug](feed)` holds; then read all."""

    def reached() -> Published | None:
        published = read_published(daemon, urls)
        for url, feed in published.feeds.items():
            test = check.get(slug_of(url))
            if test is not None and not test(feed):
                return None
        return published

    reached.__name__ = what
    return cast(Published, wait_until(reached, timeout=15))


def holds(*titles: str, count: int | None = None) -> FeedCheck:
    def check(feed: Feed) -> bool:
        have = [entry.title for entry in feed.entries]
        return all(have.count(t) == 1 for t in titles) and (count is None or len(have) == count)

    return check


def lacks(*titles: str) -> FeedCheck:
    def check(feed: Feed) -> bool:
        return not any(feed.by_title(t) for t in titles)

    return check


def revised(title: str, marker: str) -> FeedCheck:
    def check(feed: Feed) -> bool:
        found = feed.by_title(title)
        return len(found) == 1 and marker in found[0].content

    return check


def wait_for_a_later_second(public: Path) -> None:
    """Wait until the clock is a whole second past every document in public/.

    Both Last-Modified and a feedparser-based reader's `updated` count whole seconds, and
    newsboat (libcurl) drops a 200 whose Last-Modified is no later than the one it holds; so
    each step here starts in a later second than the last publish (the same-second case is
    `test_newsboat_sees_a_feed_rewritten_within_one_second`).
    """
    newest = max(int(path.stat().st_mtime) for path in public.rglob("*") if path.is_file())
    wait_until(lambda: time.time() >= newest + 1, timeout=5)


# --- the daemon's request log ----------------------------------------------------------------


class RequestLog:
    """The GET lines the daemon logs at -v, read from a mark: what a client's poll got."""

    def __init__(self, daemon: DaemonProcess) -> None:
        self._path = daemon.log_path
        self._mark = 0

    def mark(self) -> None:
        self._mark = self._path.stat().st_size

    def statuses_since_mark(self, urls: list[str]) -> dict[str, int]:
        """The status of each URL's one request since the mark (waits for the log lines)."""
        paths = {urlsplit(url).path: url for url in urls}

        def logged() -> dict[str, int] | None:
            with open(self._path, "rb") as log:
                log.seek(self._mark)
                text = log.read().decode("utf-8", errors="replace")
            seen = [(p, int(s)) for p, s in REQUEST_LINE.findall(text) if p in paths]
            if len(seen) < len(paths):
                return None
            counts = Counter(p for p, _ in seen)
            assert all(n == 1 for n in counts.values()), f"a feed fetched twice in one poll: {seen}"
            return {paths[p]: status for p, status in seen}

        return cast(dict[str, int], wait_until(logged, timeout=10))


# --- the clients -----------------------------------------------------------------------------


class ReaderClient:
    """The `reader` library (a feed reader on SQLite), updating on demand."""

    name = "reader"

    def __init__(self, db_path: Path, requests: RequestLog) -> None:
        self._reader: Reader = make_reader(str(db_path))
        self._requests = requests
        self.last_results: dict[str, UpdatedFeed | None] = {}
        self._kept: set[str] = set()

    def subscribe(self, urls: list[str]) -> None:
        for url in urls:
            self._reader.add_feed(url)
        self.urls = urls

    def poll(self) -> dict[str, int]:
        """Update every feed now (`scheduled=False`: the server's max-age would defer it)."""
        self._requests.mark()
        self.last_results = {}
        before = {feed.url: feed.last_updated for feed in self._reader.get_feeds()}
        for result in self._reader.update_feeds_iter(scheduled=False):
            assert not isinstance(result.value, Exception), f"{result.url}: {result.value!r}"
            self.last_results[result.url] = result.value
        after = {feed.url: feed.last_updated for feed in self._reader.get_feeds()}
        self._kept = {url for url in self.urls if after[url] != before[url]}
        return self._requests.statuses_since_mark(self.urls)

    def kept_validators(self, url: str) -> bool:
        """Whether the last poll's ETag is what this client sends next.

        reader stores a response's ETag and Last-Modified only when it counts the feed as
        updated (a new or changed entry, or a changed feed hash); a 200 that only drops an
        entry or adds a tombstone leaves the old ETag, so the next poll gets 200 again.
        """
        return url in self._kept

    def entries(self, url: str) -> dict[str, Entry]:
        found = list(self._reader.get_entries(feed=url))
        ids = [entry.id for entry in found]
        assert len(ids) == len(set(ids)), f"reader holds an entry twice in {url}: {ids}"
        return {entry.id: entry for entry in found}

    def close(self) -> None:
        self._reader.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class NewsboatItem:
    guid: str
    feed_url: str
    title: str
    content: str
    unread: bool


class NewsboatClient:
    """newsboat run headless (`-x reload print-unread`) with its own url, cache and config."""

    name = "newsboat"

    def __init__(self, folder: Path, requests: RequestLog) -> None:
        self._program = need_program("newsboat")
        self._folder = folder
        folder.mkdir()
        (folder / "config").write_text("reload-threads 1\ndownload-timeout 10\n", "utf-8")
        self._requests = requests
        self.unread_printed = -1

    def subscribe(self, urls: list[str]) -> None:
        (self._folder / "urls").write_text("".join(f"{url}\n" for url in urls), "utf-8")
        self.urls = urls

    def poll(self) -> dict[str, int]:
        self._requests.mark()
        result = subprocess.run(
            [self._program, *("-x", "reload", "print-unread"), *NEWSBOAT_FILES],
            cwd=self._folder,
            env={"HOME": str(self._folder), "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"newsboat failed: {result.stdout}{result.stderr}"
        found = re.search(r"(\d+) unread articles?", result.stdout)
        assert found, f"newsboat printed no unread count: {result.stdout!r}"
        self.unread_printed = int(found.group(1))
        return self._requests.statuses_since_mark(self.urls)

    def kept_validators(self, url: str) -> bool:
        """Whether newsboat stored the ETag of its last fetch of `url`.

        newsboat 2.21 stores a feed's ETag and Last-Modified only from the second fetch of a
        new subscription on, so its first two polls are unconditional.
        """
        return bool(self._query("SELECT etag FROM rss_feed WHERE rssurl = ?", url)[0][0])

    def _query(self, sql: str, *args: object) -> list[tuple[str, ...]]:
        db = sqlite3.connect(f"file:{self._folder / 'cache.db'}?mode=ro", uri=True)
        try:
            return [tuple(row) for row in db.execute(sql, args)]
        finally:
            db.close()

    def items(self) -> list[NewsboatItem]:
        rows = self._query(
            "SELECT guid, feedurl, title, content, unread FROM rss_item WHERE deleted = 0"
        )
        return [
            NewsboatItem(guid=g, feed_url=f, title=t, content=c, unread=bool(int(u)))
            for g, f, t, c, u in rows
        ]


class FeedparserClient:
    """feedparser fetching over HTTP, keeping each feed's ETag and Last-Modified."""

    name = "feedparser"

    def __init__(self) -> None:
        self._validators: dict[str, tuple[str | None, str | None]] = {}
        self.entries: dict[str, dict[str, feedparser.FeedParserDict]] = {}

    def subscribe(self, urls: list[str]) -> None:
        self.urls = urls

    def poll(self) -> dict[str, int]:
        statuses = {}
        for url in self.urls:
            etag, modified = self._validators.get(url, (None, None))
            result = feedparser.parse(url, etag=etag, modified=modified)
            status = int(result.status)
            statuses[url] = status
            if status == 200:
                assert result.bozo == 0, f"{url}: {result.get('bozo_exception')!r}"
                assert result.get("etag") and result.get("modified"), f"{url}: no validators"
                self._validators[url] = (result.etag, result.modified)
                ids = [str(entry.id) for entry in result.entries]
                assert len(ids) == len(set(ids)), f"{url} holds duplicate ids: {ids}"
                self.entries[url] = {str(entry.id): entry for entry in result.entries}
            else:
                assert status == 304 and not result.entries, f"{url}: {status}"
        return statuses

    def kept_validators(self, url: str) -> bool:
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class RawResponse:
    status: int
    etag: str | None
    last_modified: str | None
    date: str | None
    header_bytes: int
    body_bytes: int


def raw_get(url: str, headers: Mapping[str, str]) -> RawResponse:
    """One GET over a plain socket, read to the end: what crossed the wire, byte for byte.

    http.client would not read a body after a 304 even if one were sent; this does.
    """
    parts = urlsplit(url)
    lines = [f"GET {parts.path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    received = b"".join(chunks)
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return RawResponse(
        status=int(status_line.split()[1]),
        etag=fields.get("etag"),
        last_modified=fields.get("last-modified"),
        date=fields.get("date"),
        header_bytes=len(head) + 4,
        body_bytes=len(body),
    )


class RawPoller:
    """A minimal careful poller: If-None-Match with the last ETag, gzip accepted."""

    name = "raw-http"

    def __init__(self) -> None:
        self._etags: dict[str, str] = {}
        self.responses: list[RawResponse] = []

    def subscribe(self, urls: list[str]) -> None:
        self.urls = urls

    def poll(self) -> dict[str, int]:
        statuses = {}
        for url in self.urls:
            headers = {"Accept-Encoding": "gzip"}
            if url in self._etags:
                headers["If-None-Match"] = self._etags[url]
            response = raw_get(url, headers)
            self.responses.append(response)
            statuses[url] = response.status
            if response.status == 200:
                assert response.etag and response.body_bytes > 0
                self._etags[url] = response.etag
            else:
                assert response.status == 304, f"{url}: {response.status}"
                assert response.body_bytes == 0, f"{url}: a 304 carried {response.body_bytes} bytes"
        return statuses

    def kept_validators(self, url: str) -> bool:
        return True


Client = ReaderClient | NewsboatClient | FeedparserClient | RawPoller


@pytest.fixture
def served(tmp_path: Path) -> Iterator[DaemonProcess]:
    with served_site(tmp_path / "site", settings=SETTINGS, args=("-v",)) as daemon:
        yield daemon


def test_every_client_sees_drops_edits_and_deletes_once(
    served: DaemonProcess, tmp_path: Path
) -> None:
    daemon = served
    site = daemon.site
    requests = RequestLog(daemon)
    urls = subscription_urls(daemon)
    assert {slug_of(url) for url in urls} == {"all", "counterterrorism", "pakistan", "sco"}
    by_slug = {slug_of(url): url for url in urls}

    reader_client = ReaderClient(tmp_path / "reader.sqlite", requests)
    newsboat = NewsboatClient(tmp_path / "newsboat", requests)
    fp = FeedparserClient()
    raw = RawPoller()
    clients: list[Client] = [reader_client, newsboat, fp, raw]
    statuses: dict[str, Counter[int]] = {client.name: Counter() for client in clients}
    shown: dict[str, set[str]] = {url: set() for url in urls}  # every id ever served, per feed
    seen_by: dict[str, list[str]] = {}
    # per client, per feed: the bytes whose ETag the client sends on its next poll
    validated: dict[str, dict[str, bytes]] = {client.name: {} for client in clients}

    def poll_all(step: str, now: Published) -> None:
        """Poll with every client: 304 exactly for the feeds whose bytes are those the client
        holds the ETag of, 200 for the rest."""
        for url in urls:
            shown[url] |= now.ids(url)
        for client in clients:
            got = client.poll()
            statuses[client.name].update(got.values())
            held = validated[client.name]
            expected = {url: 304 if held.get(url) == now.feeds[url].data else 200 for url in urls}
            assert got == expected, f"{client.name} at {step}: got {got}, expected {expected}"
            for url, status in got.items():
                if status == 200 and client.kept_validators(url):
                    held[url] = now.feeds[url].data
        check_views(step, now)

    def check_views(step: str, now: Published) -> None:
        every_id = set().union(*shown.values())
        for url in urls:
            held = reader_client.entries(url)
            assert set(held) == shown[url], f"reader at {step}, {url}: {sorted(held)}"
            titles = [entry.title for entry in held.values()]
            assert len(titles) == len(set(titles)), f"reader shows a story twice: {titles}"
            assert set(fp.entries[url]) == now.ids(url), f"feedparser at {step}, {url}"
        items = newsboat.items()
        guids = [item.guid for item in items]
        assert len(guids) == len(set(guids)), f"newsboat holds an article twice: {guids}"
        assert set(guids) == every_id, f"newsboat at {step}: {sorted(guids)}"
        assert newsboat.unread_printed == len(every_id) == sum(i.unread for i in items)
        in_reader = sum(len(reader_client.entries(url)) for url in urls)
        seen_by[step] = [
            f"reader: {in_reader} entries in {len(urls)} feeds",
            f"newsboat: {newsboat.unread_printed} unread articles",
            f"feedparser: {sum(len(fp.entries[url]) for url in urls)} entries served now",
        ]

    # 0. Subscribe everyone from the OPML; a look with nothing changed is all 304 (newsboat's
    #    second fetch is its first conditional one, so it gets there on the third).
    for client in clients:
        client.subscribe(urls)
    start = read_published(daemon, urls)
    poll_all("subscribe", start)
    poll_all("second look", start)
    poll_all("no change", start)
    assert set(statuses["newsboat"]) == {200, 304} and set(statuses["reader"]) == {200, 304}
    assert not any(reader_client.last_results.values()), "reader updated an unchanged feed"
    quiet = [r for r in raw.responses if r.status == 304]
    assert quiet and all(r.body_bytes == 0 for r in quiet)

    # 1. Three files: the rail story (Pakistan, SCO), the rally (Pakistan), the fair (no topic).
    wait_for_a_later_second(site.public)
    site.drop("rail.txt", RAIL_TEXT)
    site.drop("rally.txt", RALLY_TEXT)
    site.drop("fair.txt", FAIR_TEXT)
    dropped = wait_published(
        daemon,
        urls,
        "the three new stories are published",
        {
            # Six entries: all.atom holds them all until a page's worth more joins after its
            # first five, which then go to an archive page.
            "all": holds(RAIL_TITLE, RALLY_TITLE, FAIR_TITLE, count=MAX_ENTRIES + 1),
            "pakistan": holds(RAIL_TITLE, RALLY_TITLE),
            "sco": holds(RAIL_TITLE),
        },
    )
    assert (
        dropped.feeds[by_slug["counterterrorism"]].data
        == start.feeds[by_slug["counterterrorism"]].data
    )
    poll_all("drop", dropped)
    assert len(shown[by_slug["all"]]) == 6, "all.atom shows the six stories"
    rail_id = dropped.feeds[by_slug["all"]].by_title(RAIL_TITLE)[0].entry_id
    rally_id = dropped.feeds[by_slug["all"]].by_title(RALLY_TITLE)[0].entry_id
    counts = {url: len(reader_client.entries(url)) for url in urls}
    newsboat_count = newsboat.unread_printed
    rail_before = reader_client.entries(by_slug["all"])[rail_id]

    # 2. Edit the rail story: the same id, a later `updated`, no new entry anywhere.
    wait_for_a_later_second(site.public)
    (site.seeds / "rail.txt").write_text(RAIL_EDITED_TEXT, encoding="utf-8")
    edited = wait_published(
        daemon,
        urls,
        "the revised rail story is published",
        {slug: revised(RAIL_TITLE, RAIL_MARKER) for slug in ("all", "pakistan", "sco")},
    )
    poll_all("edit", edited)
    assert {url: len(reader_client.entries(url)) for url in urls} == counts
    assert newsboat.unread_printed == newsboat_count
    for slug in ("all", "pakistan", "sco"):
        rail_after = reader_client.entries(by_slug[slug])[rail_id]
        assert rail_before.updated is not None and rail_after.updated is not None
        assert rail_after.updated > rail_before.updated, f"reader missed the edit in {slug}"
        assert any(RAIL_MARKER in c.value for c in rail_after.content)
        result = reader_client.last_results[by_slug[slug]]
        assert isinstance(result, UpdatedFeed) and (result.new, result.modified) == (0, 1), (
            f"reader saw the edit in {slug}.atom as {result}"
        )
    rail_items = [item for item in newsboat.items() if item.guid == rail_id]
    assert len(rail_items) == 1 and RAIL_MARKER in rail_items[0].content

    # 3. Delete the rally: it leaves the subscription documents, with a tombstone; readers that
    #    saw it keep it, once.
    wait_for_a_later_second(site.public)
    (site.seeds / "rally.txt").unlink()
    deleted = wait_published(
        daemon,
        urls,
        "the rally leaves every feed",
        {"all": lacks(RALLY_TITLE), "pakistan": lacks(RALLY_TITLE)},
    )
    for slug in ("all", "pakistan"):
        root = etree.fromstring(deleted.feeds[by_slug[slug]].data)
        refs = [t.get("ref") for t in root.iter(f"{{{TOMBSTONES_NS}}}deleted-entry")]
        assert refs == [rally_id], f"{slug}.atom tombstones: {refs}"
    poll_all("delete", deleted)
    assert {url: len(reader_client.entries(url)) for url in urls} == counts
    assert newsboat.unread_printed == newsboat_count
    assert rally_id not in fp.entries[by_slug["all"]]

    # 4. Nothing changed since: one more round is 304 everywhere, no body bytes.
    poll_all("final look", deleted)
    assert_public_valid(site.public)
    reader_client.close()

    quiet = [r for r in raw.responses if r.status == 304]
    full = [r for r in raw.responses if r.status == 200]
    report = {
        "statuses": {name: dict(sorted(c.items())) for name, c in statuses.items()},
        "seen": seen_by,
        "raw_304_body_bytes": sorted({r.body_bytes for r in quiet}),
        "raw_304_header_bytes": [
            min(r.header_bytes for r in quiet),
            max(r.header_bytes for r in quiet),
        ],
        "raw_200_body_bytes_gzip": [
            min(r.body_bytes for r in full),
            max(r.body_bytes for r in full),
        ],
    }
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "clients.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    print(json.dumps(report, indent=2))


def test_rss_and_json_feed_hold_the_same_entries_as_atom(served: DaemonProcess) -> None:
    """The RSS 2.0 and JSON Feed 1.1 documents beside a topic's Atom feed parse cleanly, are
    served with their media types, and hold the same entry ids in the same order."""
    daemon = served
    daemon.site.drop("rail.txt", RAIL_TEXT)
    urls = subscription_urls(daemon)
    rail = holds(RAIL_TITLE)
    published = wait_published(
        daemon, urls, "the rail story is published", {"pakistan": rail, "all": rail}
    )
    origin = f"http://127.0.0.1:{daemon.port}/feeds/"
    for slug in ("pakistan", "all"):
        atom_ids = [entry.entry_id for entry in published.feeds[origin + f"{slug}.atom"].entries]
        assert len(atom_ids) == 4, f"{slug}.atom: {atom_ids}"  # three sample entries and rail

        # Atom documents are written first; the other formats follow in the same publish.
        def caught_up(slug: str = slug, atom_ids: list[str] = atom_ids) -> bool:
            rss_ids = [str(e.id) for e in feedparser.parse(origin + f"{slug}.rss").entries]
            items = json.loads(daemon.fetch(f"feeds/{slug}.json") or b"{}").get("items", [])
            return rss_ids == atom_ids and [item["id"] for item in items] == atom_ids

        caught_up.__name__ = f"{slug}.rss and {slug}.json hold the Atom feed's entries"
        wait_until(caught_up, timeout=10)
        rss = feedparser.parse(origin + f"{slug}.rss")
        assert rss.status == 200 and rss.bozo == 0, rss.get("bozo_exception")
        assert rss.version == "rss20"
        assert rss.headers["content-type"] == "application/rss+xml; charset=utf-8"
        assert [str(e.id) for e in rss.entries] == atom_ids
        guids = etree.fromstring(daemon.fetch(f"feeds/{slug}.rss") or b"").iter("guid")
        assert {g.get("isPermaLink") for g in guids} == {"false"}
        with urllib.request.urlopen(origin + f"{slug}.json", timeout=10) as served_json:
            assert served_json.headers["Content-Type"] == "application/feed+json; charset=utf-8"
            document = json.loads(served_json.read())
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert document["feed_url"] == origin + f"{slug}.json"
        assert [item["id"] for item in document["items"]] == atom_ids


def test_newsboat_sees_a_feed_rewritten_within_one_second(tmp_path: Path) -> None:
    quick = {"schedule": {"settle": 0.05, "publish_every": 0.05}}
    with served_site(tmp_path / "site", settings=quick, args=("-v",)) as daemon:
        url = f"http://127.0.0.1:{daemon.port}/feeds/all.atom"
        newsboat = NewsboatClient(tmp_path / "newsboat", RequestLog(daemon))
        newsboat.subscribe([url])
        newsboat.poll()
        newsboat.poll()  # from its second fetch on, newsboat revalidates
        for n in range(1, 9):
            held = raw_get(url, {}).last_modified
            title = f"Harbour notice {n}: pilots resume night transits"
            daemon.site.drop(
                f"notice-{n}.txt",
                f"Title: {title}\nDate: 2025-10-{n:02d}\nTopics: harbours\n\n"
                f"The port said night transits resumed after notice {n}.\n",
            )
            wait_published(daemon, [url], f"notice {n} is published", {"all": holds(title)})
            served = raw_get(url, {})
            assert served.last_modified and served.date
            modified = email.utils.parsedate_to_datetime(served.last_modified)
            assert modified <= email.utils.parsedate_to_datetime(served.date), (
                f"Last-Modified {served.last_modified} is later than Date {served.date}"
            )
            assert newsboat.poll() == {url: 200}
            titles = {item.title for item in newsboat.items()}
            assert title in titles, (
                f"newsboat got 200 for the feed with notice {n} but kept the version before; "
                f"Last-Modified {served.last_modified!r}, the version it held had {held!r}"
            )
