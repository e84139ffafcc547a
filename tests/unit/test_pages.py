"""feeds.pages: the front page, topic pages and entry pages readers and browsers see."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest

from feeds.model import Config, StoredEntry, Topic, TopicMatch, TopicSource
from feeds.pages import index_lines, render_entry_page, render_topic_page
from feeds.urls import entry_page_url, topic_page_url

BASE = "https://news.example.org/seed/"
CONFIG = Config(site_title="Clippings", base_url=BASE, id_authority="news.example.org")
CREATED = datetime(1987, 3, 1, 8, 0, tzinfo=UTC)
ALL = Topic(slug="all", title="Clippings", created=CREATED)
ENERGY = Topic(slug="energy", title="Energy", created=CREATED)
HOSTILE = '<script>&"'
WEIRD = Topic(slug="weird", title=HOSTILE, created=CREATED)
ASIA = Topic(slug="asia", title="Asia", created=CREATED)
# In the order the catalogue lists them: `all`, then by title (casefolded), then by slug.
LISTED = (ALL, WEIRD, ASIA, ENERGY)
CONTENT = "<p>Prices rose 5% &amp; fell.</p><p>Ελληνικά, 日本語.</p>"
ENERGY_MATCH = TopicMatch(slug="energy", title="Energy", source=TopicSource.TAXONOMY, reason="oil")
WEIRD_MATCH = TopicMatch(slug="weird", title=HOSTILE, source=TopicSource.EXPLICIT, reason="x")


def render_index(
    counts: dict[str, int], newest: Sequence[StoredEntry], *, config: Config = CONFIG
) -> bytes:
    """index.html as `feeds.lists` streams it, for the topics of LISTED."""

    def listed() -> Iterator[tuple[Topic, int]]:
        return ((topic, counts.get(topic.slug, 0)) for topic in LISTED)

    return "".join(index_lines(listed, newest, config=config)).encode("utf-8")


def make_entry(n: int) -> StoredEntry:
    updated = datetime(1987, 6, 30, 12, 0, tzinfo=UTC) - timedelta(hours=n)
    return StoredEntry(
        entry_id=f"tag:news.example.org,1987-03-01:story-{n}",
        slug=f"story-{n}",
        title=f"Story {n}: oil & tariffs",
        published=updated - timedelta(days=1),
        updated=updated,
        summary=f"Summary {n} with < and &.",
        content=CONTENT,
        place="Athens" if n % 2 else None,
        author="Ana Reporter" if n % 3 == 0 else None,
        link=f"https://source.example.com/a/{n}" if n % 2 == 0 else None,
        topics=(ENERGY_MATCH, WEIRD_MATCH) if n % 2 == 0 else (ENERGY_MATCH,),
        sources=(Path(f"energy/story-{n}.txt"),),
    )


ENTRIES = tuple(make_entry(n) for n in range(50))
HOSTILE_ENTRY = replace(make_entry(0), title=HOSTILE, summary=HOSTILE, place=HOSTILE)


class _Page(HTMLParser):
    """What a browser sees of a page: its head links, anchors, `<time>`s and text."""

    def __init__(self, data: bytes) -> None:
        super().__init__(convert_charrefs=True)
        self.head_links: list[dict[str, str | None]] = []
        self.anchors: list[dict[str, str | None]] = []
        self.times: list[str | None] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self._title: list[str] = []
        self._in_title = False
        self.feed(data.decode("utf-8"))
        self.close()

    @property
    def title(self) -> str:
        return "".join(self._title)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "link":
            self.head_links.append(dict(attrs))
        elif tag == "a":
            self.anchors.append(dict(attrs))
        elif tag == "time":
            self.times.append(dict(attrs).get("datetime"))
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        (self._title if self._in_title else self.text).append(data)

    def feeds(self) -> list[tuple[str | None, str | None]]:
        return [(k.get("type"), k.get("href")) for k in self.head_links if k["rel"] == "alternate"]

    def resolved(self, page_url: str) -> list[str]:
        """Every anchor's target, resolved against the URL the page is served at."""
        return [urljoin(page_url, a["href"] or "") for a in self.anchors]


def _assert_plain_page(data: bytes) -> None:
    page = data.decode("utf-8")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<style>" in page
    parsed = _Page(data)
    assert "script" not in parsed.tags
    assert not any(tag in parsed.tags for tag in ("img", "iframe", "object"))
    assert all(link["rel"] == "alternate" for link in parsed.head_links)


def test_entry_page_shows_every_field_and_links_resolve_from_entries_folder() -> None:
    entry = make_entry(0)
    data = render_entry_page(entry, config=CONFIG)
    _assert_plain_page(data)
    page = _Page(data)
    assert page.title == "Story 0: oil & tariffs · Clippings"
    assert CONTENT in data.decode("utf-8")
    assert page.times == ["1987-06-29T12:00:00+00:00", "1987-06-30T12:00:00+00:00"]
    text = "".join(page.text)
    assert "29 June 1987, 12:00 UTC" in text and "30 June 1987, 12:00 UTC" in text
    assert "energy/story-0.txt" in text
    assert "Ana Reporter" in text
    url = entry_page_url(entry.slug, config=CONFIG)
    assert url == BASE + "entries/story-0.html"
    assert page.resolved(url) == [
        BASE,
        BASE + "topics/energy.html",
        BASE + "topics/weird.html",
        "https://source.example.com/a/0",
    ]
    assert page.feeds() == [
        ("application/atom+xml", BASE + "feeds/all.atom"),
        ("application/rss+xml", BASE + "feeds/all.rss"),
        ("application/feed+json", BASE + "feeds/all.json"),
        ("application/atom+xml", BASE + "feeds/energy.atom"),
        ("application/rss+xml", BASE + "feeds/energy.rss"),
        ("application/feed+json", BASE + "feeds/energy.json"),
        ("application/atom+xml", BASE + "feeds/weird.atom"),
        ("application/rss+xml", BASE + "feeds/weird.rss"),
        ("application/feed+json", BASE + "feeds/weird.json"),
    ]


def test_entry_page_shows_place_and_omits_absent_original() -> None:
    entry = make_entry(1)
    page = _Page(render_entry_page(entry, config=replace(CONFIG, formats=("atom",))))
    assert "Athens" in "".join(page.text)
    assert "Original" not in "".join(page.text)
    assert page.resolved(BASE + "entries/story-1.html") == [BASE, BASE + "topics/energy.html"]
    assert page.feeds() == [
        ("application/atom+xml", BASE + "feeds/all.atom"),
        ("application/atom+xml", BASE + "feeds/energy.atom"),
    ]


def test_entry_page_escapes_every_text_but_the_content() -> None:
    data = render_entry_page(HOSTILE_ENTRY, config=replace(CONFIG, site_title=HOSTILE))
    text = data.decode("utf-8")
    assert "<script>" not in text
    assert "&lt;script&gt;&amp;&quot;" in text
    page = _Page(data)
    assert "script" not in page.tags
    assert page.title == f"{HOSTILE} · {HOSTILE}"
    assert text.count(HOSTILE) == 0
    assert any(link.get("title") == HOSTILE for link in page.head_links)


def test_topic_page_lists_newest_entries_with_subscribe_links() -> None:
    data = render_topic_page(ENERGY, ENTRIES[:3], 120, config=CONFIG)
    _assert_plain_page(data)
    page = _Page(data)
    assert page.title == "Energy · Clippings"
    text = "".join(page.text)
    assert "120 entries" in text
    assert "Summary 1 with < and &." in text
    url = topic_page_url(ENERGY.slug, config=CONFIG)
    assert page.resolved(url) == [
        BASE,
        BASE + "feeds/energy.atom",
        BASE + "feeds/energy.rss",
        BASE + "feeds/energy.json",
        BASE + "entries/story-0.html",
        BASE + "entries/story-1.html",
        BASE + "entries/story-2.html",
    ]
    assert [a.get("type") for a in page.anchors[1:4]] == [
        "application/atom+xml",
        "application/rss+xml",
        "application/feed+json",
    ]
    assert page.times == [e.published.isoformat() for e in ENTRIES[:3]]
    assert page.feeds() == [
        ("application/atom+xml", BASE + "feeds/energy.atom"),
        ("application/rss+xml", BASE + "feeds/energy.rss"),
        ("application/feed+json", BASE + "feeds/energy.json"),
    ]


def test_empty_topic_page_says_so() -> None:
    page = _Page(render_topic_page(ASIA, [], 1, config=CONFIG))
    text = "".join(page.text)
    assert "1 entry" in text and "No entries yet." in text


def test_topic_page_escapes_titles() -> None:
    data = render_topic_page(WEIRD, [HOSTILE_ENTRY], 1, config=CONFIG)
    assert b"<script>" not in data
    page = _Page(data)
    assert page.title == f"{HOSTILE} · Clippings"
    assert HOSTILE in page.text


def test_index_lists_all_first_then_topics_by_title_with_pages_feeds_and_newest() -> None:
    counts = {"all": 50, "energy": 1, "asia": 0, "weird": 2}
    data = render_index(counts, ENTRIES[:2])
    _assert_plain_page(data)
    page = _Page(data)
    text = "".join(page.text)
    assert "(50 entries)" in text and "(1 entry)" in text and "(0 entries)" in text
    order = ["all", "weird", "asia", "energy"]
    assert [href for kind, href in page.feeds() if kind == "application/atom+xml"] == [
        f"{BASE}feeds/{slug}.atom" for slug in order
    ]
    assert len(page.feeds()) == 12
    assert page.head_links[3]["title"] == HOSTILE
    assert page.head_links[4]["title"] == f"{HOSTILE} (RSS)"
    resolved = page.resolved(BASE)
    expected_topics = [
        url
        for slug in order
        for url in (
            f"{BASE}topics/{slug}.html",
            f"{BASE}feeds/{slug}.atom",
            f"{BASE}feeds/{slug}.rss",
            f"{BASE}feeds/{slug}.json",
        )
    ]
    assert resolved == [
        BASE,
        *expected_topics,
        BASE + "feeds.opml",
        BASE + "entries/story-0.html",
        BASE + "entries/story-1.html",
    ]
    # Served as the bare folder URL or as index.html, the links resolve the same.
    assert page.resolved(BASE + "index.html") == resolved


def test_index_escapes_titles() -> None:
    config = replace(CONFIG, site_title="A & <B>")
    data = render_index({}, [HOSTILE_ENTRY], config=config)
    text = data.decode("utf-8")
    assert "<script>" not in text
    assert "&lt;script&gt;&amp;&quot;" in text
    assert "<title>A &amp; &lt;B&gt;</title>" in text


def test_pages_are_deterministic_and_free_of_the_clock() -> None:
    this_year = str(datetime.now(UTC).year).encode()
    counts = {"all": 3, "energy": 3}
    index = render_index(counts, ENTRIES[:5])
    assert render_index(counts, ENTRIES[:5]) == index
    topic = render_topic_page(ENERGY, ENTRIES, 50, config=CONFIG)
    assert render_topic_page(ENERGY, list(ENTRIES), 50, config=CONFIG) == topic
    entry = render_entry_page(ENTRIES[0], config=CONFIG)
    assert render_entry_page(ENTRIES[0], config=CONFIG) == entry
    for data in (index, topic, entry):
        assert this_year not in data


def test_naive_dates_are_refused() -> None:
    naive = replace(make_entry(0), published=datetime(1987, 6, 29, 12, 0))
    with pytest.raises(ValueError, match="naive"):
        render_entry_page(naive, config=CONFIG)


def test_time_elements_give_whole_seconds_as_html_requires() -> None:
    """HTML's `<time datetime>` takes at most three digits of a fraction of a second: the
    catalogue's microseconds are left out."""
    moment = datetime(2026, 12, 7, 17, 36, 31, 860918, tzinfo=UTC)
    entry = replace(make_entry(0), published=moment, updated=moment + timedelta(seconds=1))
    page = _Page(render_entry_page(entry, config=CONFIG))
    assert page.times == ["2026-12-07T17:36:31+00:00", "2026-12-07T17:36:32+00:00"]
    listed = _Page(render_topic_page(ENERGY, [entry], 1, config=CONFIG))
    assert listed.times == ["2026-12-07T17:36:31+00:00"]


def test_pages_say_the_configured_language() -> None:
    welsh = replace(CONFIG, language="cy")
    for data in (
        render_entry_page(make_entry(0), config=welsh),
        render_topic_page(ENERGY, ENTRIES[:2], 2, config=welsh),
        render_index({}, ENTRIES[:2], config=welsh),
    ):
        assert data.decode("utf-8").startswith('<!DOCTYPE html>\n<html lang="cy">\n')
