"""feeds.render: valid, deterministic Atom feeds, the index page and the OPML list."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # until pytest puts the project root on sys.path itself
    sys.path.insert(0, _ROOT)

from feeds.model import Config, StoredEntry, Topic, TopicMatch, TopicSource  # noqa: E402
from feeds.render import render_atom, render_index, render_opml  # noqa: E402
from tests.atom_schema import assert_valid_atom, parse_with_feedparser  # noqa: E402

CONFIG = Config(
    site_title="Clippings",
    base_url="https://news.example.org/",
    id_authority="news.example.org",
    author="The Desk",
)
CREATED = datetime(1987, 3, 1, 8, 0, tzinfo=UTC)
ALL = Topic(slug="all", title="Clippings", created=CREATED)
ENERGY = Topic(slug="energy", title="Energy", created=CREATED)
HTML_BODY = (
    "<p>Prices rose 5% &amp; fell &lt;2%; “quoted” \u2018words\u2019 — "
    "Ελληνικά, 日本語, العربية.</p>"
    "<p>x < y & z</p>"
)
MATCH = TopicMatch(slug="energy", title="Energy", source=TopicSource.TAXONOMY, reason="oil")
WEIRD = TopicMatch(slug="weird", title='<b>&"', source=TopicSource.EXPLICIT, reason="header")


def make_entry(n: int, *, content: str = HTML_BODY) -> StoredEntry:
    """Entry `n`: newer for smaller n, so entries 0..k are newest first."""
    updated = datetime(1987, 6, 30, 12, 0, tzinfo=UTC) - timedelta(hours=n)
    return StoredEntry(
        entry_id=f"tag:news.example.org,1987-03-01:story-{n}",
        slug=f"story-{n}",
        title=f"Story {n}: oil “prices” & <tariffs> — 石油",
        published=updated - timedelta(days=1),
        updated=updated,
        summary=f"Summary {n} with < and & and “quotes”.",
        content=content,
        place="Athens" if n % 2 else None,
        author="Ana Reporter" if n % 3 == 0 else None,
        link=f"https://source.example.com/a/{n}" if n % 2 == 0 else None,
        topics=(MATCH, WEIRD) if n % 2 == 0 else (MATCH,),
        sources=(Path(f"energy/story-{n}.txt"),),
    )


ENTRIES = tuple(make_entry(n) for n in range(50))


def test_empty_feed_is_valid_and_dated_by_topic_creation() -> None:
    data = render_atom(ENERGY, [], config=CONFIG)
    assert_valid_atom(data)
    parsed = parse_with_feedparser(data)
    assert parsed.feed.id == "tag:news.example.org,1987-03-01:feeds/energy"
    assert parsed.feed.updated == "1987-03-01T08:00:00+00:00"
    assert parsed.entries == []


def test_one_entry_feed_is_valid_and_carries_every_field() -> None:
    entry = make_entry(0)
    data = render_atom(ENERGY, [entry], config=CONFIG)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert_valid_atom(data)
    parsed = parse_with_feedparser(data)
    item = parsed.entries[0]
    assert item.id == entry.entry_id
    assert item.title == entry.title
    assert item.summary == entry.summary
    assert item.content[0].type == "text/html"
    assert item.content[0].value == HTML_BODY
    assert item.author == "Ana Reporter"
    assert item.link == "https://source.example.com/a/0"
    assert [link.rel for link in item.links] == ["alternate"]
    assert [(tag.term, tag.label) for tag in item.tags] == [
        ("energy", "Energy"),
        ("weird", '<b>&"'),
    ]
    assert item.published == "1987-06-29T12:00:00+00:00"
    assert item.updated == "1987-06-30T12:00:00+00:00"


def test_raw_xml_marks_links_and_generator_explicitly() -> None:
    data = render_atom(ENERGY, [make_entry(0)], config=CONFIG)
    assert b'<link href="https://source.example.com/a/0" rel="alternate"/>' in data
    assert (
        b'<generator uri="https://news.example.org/" version="0.1.0">seedfeed</generator>' in data
    )


def test_empty_titles_get_a_placeholder_rather_than_failing_the_feed() -> None:
    topic = replace(ENERGY, title="")
    data = render_atom(topic, [replace(make_entry(0), title="")], config=CONFIG)
    assert_valid_atom(data)
    parsed = parse_with_feedparser(data)
    assert parsed.feed.title == "(untitled)"
    assert parsed.entries[0].title == "(untitled)"


def test_naive_dates_are_refused() -> None:
    naive = replace(make_entry(0), updated=datetime(1987, 6, 30, 12, 0))
    with pytest.raises(ValueError, match="naive"):
        render_atom(ENERGY, [naive], config=CONFIG)


def test_entry_without_author_or_link_has_neither() -> None:
    data = render_atom(ENERGY, [make_entry(1)], config=CONFIG)
    assert_valid_atom(data)
    item = parse_with_feedparser(data).entries[0]
    assert "links" not in item or item.links == []
    assert item.get("author") in (None, "The Desk")


def test_full_feed_is_valid_and_readers_see_every_entry_in_order() -> None:
    data = render_atom(ALL, ENTRIES, config=CONFIG)
    assert_valid_atom(data)
    parsed = parse_with_feedparser(data)
    assert [item.id for item in parsed.entries] == [e.entry_id for e in ENTRIES]
    assert [item.title for item in parsed.entries] == [e.title for e in ENTRIES]
    assert [item.updated for item in parsed.entries] == [e.updated.isoformat() for e in ENTRIES]
    assert [[tag.term for tag in item.tags] for item in parsed.entries] == [
        [m.slug for m in e.topics] for e in ENTRIES
    ]


def test_order_given_is_kept_even_when_not_newest_first() -> None:
    shuffled = [ENTRIES[3], ENTRIES[0], ENTRIES[7], ENTRIES[1]]
    parsed = parse_with_feedparser(render_atom(ENERGY, shuffled, config=CONFIG))
    assert [item.id for item in parsed.entries] == [e.entry_id for e in shuffled]


def test_feed_updated_is_the_newest_entry_updated() -> None:
    shuffled = [ENTRIES[5], ENTRIES[2], ENTRIES[9]]
    parsed = parse_with_feedparser(render_atom(ENERGY, shuffled, config=CONFIG))
    assert parsed.feed.updated == ENTRIES[2].updated.isoformat()


def test_feed_metadata_self_alternate_author_generator() -> None:
    data = render_atom(ENERGY, ENTRIES[:2], config=CONFIG)
    parsed = parse_with_feedparser(data)
    links = {link.rel: (link.href, link.type) for link in parsed.feed.links}
    assert links["self"] == ("https://news.example.org/feeds/energy.atom", "application/atom+xml")
    assert links["alternate"] == ("https://news.example.org/", "text/html")
    assert parsed.feed.title == "Energy"
    assert parsed.feed.author == "The Desk"
    assert parsed.feed.generator == "seedfeed"


def test_rendering_is_deterministic() -> None:
    first = render_atom(ALL, ENTRIES, config=CONFIG)
    assert render_atom(ALL, ENTRIES, config=CONFIG) == first
    assert render_atom(ALL, list(ENTRIES), config=CONFIG) == first


def test_no_current_time_leaks_into_the_feed() -> None:
    this_year = str(datetime.now(UTC).year).encode()
    assert this_year not in render_atom(ALL, ENTRIES, config=CONFIG)
    assert this_year not in render_atom(ENERGY, [], config=CONFIG)


def test_non_utc_dates_are_written_in_utc() -> None:
    athens = datetime(1987, 6, 30, 15, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Athens"))
    entry = replace(make_entry(0), updated=athens, published=athens)
    parsed = parse_with_feedparser(render_atom(ENERGY, [entry], config=CONFIG))
    assert parsed.entries[0].updated == "1987-06-30T15:00:00+00:00"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []
        self.anchors: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "link":
            self.links.append(dict(attrs))
        elif tag == "a":
            self.anchors.append(dict(attrs).get("href"))


TOPICS = (
    Topic(slug="weird", title='<b>&"', created=CREATED),
    ENERGY,
    ALL,
    Topic(slug="asia", title="Asia", created=CREATED),
)


def test_index_lists_all_first_then_topics_by_title_with_autodiscovery() -> None:
    data = render_index(TOPICS, {"all": 50, "energy": 1, "asia": 0, "weird": 2}, config=CONFIG)
    page = data.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    collector = _Collector()
    collector.feed(page)
    feeds = [link for link in collector.links if link.get("rel") == "alternate"]
    assert [link["href"] for link in feeds] == [
        "https://news.example.org/feeds/all.atom",
        "https://news.example.org/feeds/weird.atom",
        "https://news.example.org/feeds/asia.atom",
        "https://news.example.org/feeds/energy.atom",
    ]
    assert all(link["type"] == "application/atom+xml" for link in feeds)
    assert feeds[1]["title"] == '<b>&"'
    assert "feeds.opml" in collector.anchors
    for slug in ("all", "energy", "asia", "weird"):
        assert f"feeds/{slug}.atom" in collector.anchors
    assert "(50 entries)" in page and "(1 entry)" in page and "(0 entries)" in page


def test_index_escapes_titles() -> None:
    config = replace(CONFIG, site_title="A & <B>")
    page = render_index(TOPICS, {}, config=config).decode("utf-8")
    assert "<b>&" not in page
    assert "&lt;b&gt;&amp;&quot;" in page
    assert "<title>A &amp; &lt;B&gt;</title>" in page


def test_index_is_deterministic() -> None:
    counts = {"all": 3, "energy": 3}
    assert render_index(TOPICS, counts, config=CONFIG) == render_index(
        tuple(reversed(TOPICS)), counts, config=CONFIG
    )


def test_opml_lists_every_feed_once_all_first() -> None:
    data = render_opml(TOPICS, config=CONFIG)
    root = ET.fromstring(data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Clippings"
    assert root.find("head/dateCreated") is None
    outlines = root.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        "https://news.example.org/feeds/all.atom",
        "https://news.example.org/feeds/weird.atom",
        "https://news.example.org/feeds/asia.atom",
        "https://news.example.org/feeds/energy.atom",
    ]
    assert outlines[1].get("text") == '<b>&"' and outlines[1].get("title") == '<b>&"'
    assert all(o.get("type") == "rss" for o in outlines)
    assert all(o.get("htmlUrl") == "https://news.example.org/" for o in outlines)
    assert render_opml(TOPICS, config=CONFIG) == data
