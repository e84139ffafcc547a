"""feeds.render: valid, deterministic Atom, RSS and JSON feeds, archives, tombstones, OPML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feeds.model import (
    Config,
    FeedPage,
    StoredEntry,
    Tombstone,
    Topic,
    TopicMatch,
    TopicSource,
)
from feeds.render import (
    GENERATOR_VERSION,
    _atom_document,
    assemble_atom,
    atom_entries_xml,
    opml_lines,
    render_atom,
    render_json_feed,
    render_rss,
)
from feeds.urls import archive_path, entry_page_path, feed_path, feed_url, topic_page_path
from tests.atom_schema import assert_valid_atom, parse_with_feedparser, reader_text

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
    assert item.link == "https://news.example.org/entries/story-0.html"
    assert [(link.rel, link.href) for link in item.links] == [
        ("alternate", "https://news.example.org/entries/story-0.html"),
        ("related", "https://source.example.com/a/0"),
    ]
    assert [(tag.term, tag.label) for tag in item.tags] == [
        ("energy", "Energy"),
        ("weird", '<b>&"'),
    ]
    assert item.published == "1987-06-29T12:00:00+00:00"
    assert item.updated == "1987-06-30T12:00:00+00:00"


def test_raw_xml_marks_links_and_generator_explicitly() -> None:
    data = render_atom(ENERGY, [make_entry(0)], config=CONFIG)
    assert (
        b'<link href="https://news.example.org/entries/story-0.html" rel="alternate"'
        b' type="text/html"/>' in data
    )
    assert b'<link href="https://source.example.com/a/0" rel="related"/>' in data
    assert (
        f'<generator uri="https://news.example.org/" version="{GENERATOR_VERSION}">seedfeed'
        "</generator>".encode()
        in data
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


def test_entry_without_author_or_link_links_only_its_page() -> None:
    data = render_atom(ENERGY, [make_entry(1)], config=CONFIG)
    assert_valid_atom(data)
    item = parse_with_feedparser(data).entries[0]
    assert [(link.rel, link.href, link.type) for link in item.links] == [
        ("alternate", "https://news.example.org/entries/story-1.html", "text/html")
    ]
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
    links = [(link.rel, link.href, link.type) for link in parsed.feed.links]
    assert links == [
        ("self", "https://news.example.org/feeds/energy.atom", "application/atom+xml"),
        ("alternate", "https://news.example.org/topics/energy.html", "text/html"),
        ("alternate", "https://news.example.org/feeds/energy.rss", "application/rss+xml"),
        ("alternate", "https://news.example.org/feeds/energy.json", "application/feed+json"),
    ]
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


# In the order the catalogue lists them: `all`, then by title (casefolded), then by slug.
LISTED = (
    ALL,
    Topic(slug="weird", title='<b>&"', created=CREATED),
    Topic(slug="asia", title="Asia", created=CREATED),
    ENERGY,
)


def render_opml(topics: Sequence[Topic]) -> bytes:
    return "".join(opml_lines(topics, config=CONFIG)).encode("utf-8")


def test_opml_lists_every_feed_once_all_first() -> None:
    data = render_opml(LISTED)
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
    assert [o.get("htmlUrl") for o in outlines] == [
        "https://news.example.org/",
        "https://news.example.org/topics/weird.html",
        "https://news.example.org/topics/asia.html",
        "https://news.example.org/topics/energy.html",
    ]
    assert render_opml(LISTED) == data


def test_paths_and_urls_of_every_published_document() -> None:
    assert feed_path("energy", "atom") == "feeds/energy.atom"
    assert feed_path("energy", "rss") == "feeds/energy.rss"
    assert feed_path("energy", "json") == "feeds/energy.json"
    assert archive_path("energy", 3) == "feeds/archive/energy/3.atom"
    assert entry_page_path("story-0") == "entries/story-0.html"
    assert topic_page_path("energy") == "topics/energy.html"
    assert feed_url("energy", config=CONFIG) == "https://news.example.org/feeds/energy.atom"
    assert feed_url("a", config=CONFIG, fmt="json") == "https://news.example.org/feeds/a.json"
    with pytest.raises(ValueError, match="format"):
        feed_path("energy", "xml")
    with pytest.raises(ValueError, match="from 1"):
        archive_path("energy", 0)


def test_alternates_follow_the_configured_formats_and_all_points_at_the_front_page() -> None:
    config = replace(CONFIG, formats=("atom", "json"))
    parsed = parse_with_feedparser(render_atom(ALL, [], config=config))
    assert [(link.rel, link.href) for link in parsed.feed.links] == [
        ("self", "https://news.example.org/feeds/all.atom"),
        ("alternate", "https://news.example.org/"),
        ("alternate", "https://news.example.org/feeds/all.json"),
    ]


GONE = (
    Tombstone(
        entry_id="tag:news.example.org,1987-03-01:gone-b", when=CREATED + timedelta(days=200)
    ),
    Tombstone(entry_id="tag:news.example.org,1987-03-01:gone-a", when=CREATED + timedelta(days=2)),
)
TOMBSTONES_NS = "{http://purl.org/atompub/tombstones/1.0}"
HISTORY_NS = "{http://purl.org/syndication/history/1.0}"
ATOM_NS = "{http://www.w3.org/2005/Atom}"


def test_subscription_document_with_prev_archive_hub_and_tombstones_is_valid() -> None:
    config = replace(CONFIG, hub_url="https://hub.example.net/publish")
    page = FeedPage(prev_archive=4)
    data = render_atom(ENERGY, ENTRIES[:3], config=config, page=page, tombstones=GONE)
    assert_valid_atom(data)
    parsed = parse_with_feedparser(data)
    assert [item.id for item in parsed.entries] == [e.entry_id for e in ENTRIES[:3]]
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == "https://news.example.org/feeds/energy.atom"
    assert links["prev-archive"] == "https://news.example.org/feeds/archive/energy/4.atom"
    assert links["hub"] == "https://hub.example.net/publish"
    assert "next-archive" not in links and "current" not in links
    root = ET.fromstring(data)
    assert root.find(f"{HISTORY_NS}archive") is None
    deleted = root.findall(f"{TOMBSTONES_NS}deleted-entry")
    assert [(d.get("ref"), d.get("when")) for d in deleted] == [
        ("tag:news.example.org,1987-03-01:gone-b", "1987-09-17T08:00:00+00:00"),
        ("tag:news.example.org,1987-03-01:gone-a", "1987-03-03T08:00:00+00:00"),
    ]
    # A removal changes the feed: its `updated` is the newest entry or tombstone.
    assert parsed.feed.updated == "1987-09-17T08:00:00+00:00"
    assert b'xmlns:at="http://purl.org/atompub/tombstones/1.0"' in data
    assert data.count(b"xmlns:at=") == 1


def test_tombstones_alone_keep_the_feed_valid() -> None:
    data = render_atom(ENERGY, [], config=CONFIG, tombstones=GONE[1:])
    assert_valid_atom(data)
    assert parse_with_feedparser(data).entries == []
    assert len(ET.fromstring(data).findall(f"{TOMBSTONES_NS}deleted-entry")) == 1


def test_archive_document_links_current_and_both_neighbours() -> None:
    page = FeedPage(number=2, prev_archive=1, next_archive=3)
    config = replace(CONFIG, hub_url="https://hub.example.net/publish")
    data = render_atom(ENERGY, ENTRIES[10:20], config=config, page=page)
    assert_valid_atom(data)
    parsed = parse_with_feedparser(data)
    assert parsed.feed.id == "tag:news.example.org,1987-03-01:feeds/energy"
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links == {
        "self": "https://news.example.org/feeds/archive/energy/2.atom",
        "alternate": "https://news.example.org/topics/energy.html",
        "current": "https://news.example.org/feeds/energy.atom",
        "prev-archive": "https://news.example.org/feeds/archive/energy/1.atom",
        "next-archive": "https://news.example.org/feeds/archive/energy/3.atom",
    }
    root = ET.fromstring(data)
    assert root.find(f"{HISTORY_NS}archive") is not None
    children = [child.tag for child in root]
    assert children.index(f"{HISTORY_NS}archive") < children.index(f"{ATOM_NS}entry")


def test_oldest_archive_page_has_no_prev_archive() -> None:
    data = render_atom(ENERGY, ENTRIES[:1], config=CONFIG, page=FeedPage(number=1, next_archive=2))
    assert_valid_atom(data)
    rels = [link.rel for link in parse_with_feedparser(data).feed.links]
    assert rels == ["self", "alternate", "current", "next-archive"]


def test_rss_carries_the_same_entries_with_opaque_guids() -> None:
    data = render_rss(ENERGY, ENTRIES[:5], config=CONFIG)
    parsed = parse_with_feedparser(data)
    assert parsed.version == "rss20"
    assert [item.id for item in parsed.entries] == [e.entry_id for e in ENTRIES[:5]]
    assert all(item.guidislink is False for item in parsed.entries)
    assert [item.link for item in parsed.entries] == [
        f"https://news.example.org/entries/story-{n}.html" for n in range(5)
    ]
    assert parsed.entries[0].title == ENTRIES[0].title
    assert reader_text(parsed.entries[0].summary_detail) == ENTRIES[0].summary
    assert parsed.entries[0].content[0].value == HTML_BODY
    assert parsed.entries[0].published == "Mon, 29 Jun 1987 12:00:00 +0000"
    assert [tag.term for tag in parsed.entries[0].tags] == ["Energy", '<b>&"']
    assert parsed.feed.link == "https://news.example.org/topics/energy.html"
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_links == ["https://news.example.org/feeds/energy.rss"]
    root = ET.fromstring(data)
    assert root.findtext("channel/lastBuildDate") == "Tue, 30 Jun 1987 12:00:00 +0000"
    assert root.findtext("channel/generator") == "seedfeed"
    assert [g.get("isPermaLink") for g in root.iter("guid")] == ["false"] * 5


TICKER_TITLE = "Guinness <GUS.L> & AT&T > rivals"
TICKER_SUMMARY = "Guinness Plc <GUS.L> said 1 < 2 & <b>bold</b> stays text."


def test_rss_text_with_angle_brackets_reaches_readers_as_it_was() -> None:
    """A summary is HTML in RSS: escaped as HTML once more, a ticker like <GUS.L> is text, not
    a tag a reader drops. Titles carry `&`, `<` and `>` as hexadecimal references."""
    entry = replace(ENTRIES[0], title=TICKER_TITLE, summary=TICKER_SUMMARY, author="Smith & <Co>")
    topic = replace(ENERGY, title="Oil & <gas>")
    data = render_rss(topic, [entry], config=CONFIG)
    parsed = parse_with_feedparser(data)
    item = parsed.entries[0]
    assert item.title == TICKER_TITLE
    assert reader_text(item.summary_detail) == TICKER_SUMMARY
    assert parsed.feed.title == "Oil & <gas>"
    # What an XML parser sees: a description whose HTML renders as the summary's text.
    root = ET.fromstring(data)
    description = root.findtext("channel/item/description")
    assert (
        description
        == "Guinness Plc &lt;GUS.L&gt; said 1 &lt; 2 &amp; &lt;b&gt;bold&lt;/b&gt; stays text."
    )
    assert root.findtext("channel/item/title") == TICKER_TITLE
    assert root.findtext("channel/title") == "Oil & <gas>"
    assert b"<title>Guinness &#x3C;GUS.L&#x3E; &#x26; AT&#x26;T &#x3E; rivals</title>" in data
    assert b"<title>Oil &#x26; &#x3C;gas&#x3E;</title>" in data
    assert b"Smith &#x26; &#x3C;Co&#x3E;</dc:creator>" in data
    assert b"&lt;" not in data.partition(b"<item>")[2].partition(b"<description>")[0]


def test_feeds_and_pages_say_the_configured_language() -> None:
    german = replace(CONFIG, language="de-CH")
    atom = ET.fromstring(render_atom(ENERGY, ENTRIES[:2], config=german))
    assert atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "de-CH"
    assert ET.fromstring(render_rss(ENERGY, [], config=german)).findtext("channel/language") == (
        "de-CH"
    )
    assert json.loads(render_json_feed(ENERGY, [], config=german))["language"] == "de-CH"
    assert parse_with_feedparser(render_atom(ENERGY, [], config=CONFIG)).feed.language == "en"


def test_the_operator_feed_links_only_to_itself() -> None:
    """`_rejected` has no page and no other format: its feed links to itself alone."""
    topic = Topic(slug="_rejected", title="Rejected files", created=CREATED)
    data = render_atom(topic, [], config=CONFIG)
    assert_valid_atom(data)
    links = [(link.rel, link.href) for link in parse_with_feedparser(data).feed.links]
    assert links == [("self", "https://news.example.org/feeds/_rejected.atom")]


def test_empty_rss_is_dated_by_topic_creation() -> None:
    root = ET.fromstring(render_rss(ENERGY, [], config=CONFIG))
    assert root.findtext("channel/lastBuildDate") == "Sun, 01 Mar 1987 08:00:00 +0000"


def test_json_feed_has_the_version_1_1_fields() -> None:
    data = render_json_feed(ENERGY, ENTRIES[:3], config=CONFIG)
    assert data.endswith(b"}\n")
    assert "石油".encode() in data  # UTF-8, not \u escapes
    document = json.loads(data)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == "Energy"
    assert document["home_page_url"] == "https://news.example.org/topics/energy.html"
    assert document["feed_url"] == "https://news.example.org/feeds/energy.json"
    items = document["items"]
    assert [item["id"] for item in items] == [e.entry_id for e in ENTRIES[:3]]
    first = items[0]
    assert first["url"] == "https://news.example.org/entries/story-0.html"
    assert first["external_url"] == "https://source.example.com/a/0"
    assert first["title"] == ENTRIES[0].title
    assert first["content_html"] == HTML_BODY
    assert first["summary"] == ENTRIES[0].summary
    assert first["date_published"] == "1987-06-29T12:00:00+00:00"
    assert first["date_modified"] == "1987-06-30T12:00:00+00:00"
    assert first["tags"] == ["Energy", '<b>&"']
    assert first["authors"] == [{"name": "Ana Reporter"}]
    assert "external_url" not in items[1] and "authors" not in items[1]
    assert "hubs" not in document


def test_json_feed_names_the_hub_when_configured() -> None:
    config = replace(CONFIG, hub_url="https://hub.example.net/publish")
    document = json.loads(render_json_feed(ALL, [], config=config))
    assert document["hubs"] == [{"type": "WebSub", "url": "https://hub.example.net/publish"}]
    assert document["items"] == []


def test_every_format_is_deterministic_and_free_of_the_clock() -> None:
    this_year = str(datetime.now(UTC).year).encode()
    page = FeedPage(number=3, prev_archive=2)
    outputs = [
        lambda: render_atom(ENERGY, ENTRIES, config=CONFIG, page=page, tombstones=GONE),
        lambda: render_rss(ENERGY, ENTRIES, config=CONFIG),
        lambda: render_json_feed(ENERGY, ENTRIES, config=CONFIG),
        lambda: render_rss(ENERGY, [], config=CONFIG),
    ]
    for render in outputs:
        first = render()
        assert render() == first
        assert this_year not in first


def test_rss_names_authors_with_dublin_core_and_the_hub_when_configured() -> None:
    config = replace(CONFIG, hub_url="https://hub.example.net/publish")
    data = render_rss(ENERGY, ENTRIES[:4], config=config)
    parsed = parse_with_feedparser(data)
    assert [item.get("author") for item in parsed.entries] == [
        "Ana Reporter",
        None,
        None,
        "Ana Reporter",
    ]
    hubs = [link.href for link in parsed.feed.links if link.rel == "hub"]
    assert hubs == ["https://hub.example.net/publish"]
    plain = render_rss(ENERGY, ENTRIES[1:3], config=CONFIG)
    assert b"dc:creator" not in plain and b'rel="hub"' not in plain
    assert b"xmlns:dc" not in plain


@pytest.mark.parametrize(
    ("page", "tombstones", "entry_pages"),
    [
        (FeedPage(), (), True),
        (FeedPage(prev_archive=4), GONE, True),
        (FeedPage(number=2, prev_archive=1, next_archive=3), (), False),
    ],
)
def test_a_feed_assembled_from_its_entries_xml_is_the_feed_rendered_whole(
    page: FeedPage, tombstones: tuple[Tombstone, ...], entry_pages: bool
) -> None:
    config = replace(CONFIG, hub_url="https://hub.example.net/", entry_pages=entry_pages)
    entries = ENTRIES[:7]
    assembled = assemble_atom(
        ENERGY,
        atom_entries_xml(entries, config=config),
        newest=max(entry.updated for entry in entries),
        config=config,
        page=page,
        tombstones=tombstones,
    )
    assert assembled == render_atom(
        ENERGY, entries, config=config, page=page, tombstones=tombstones
    )
    whole = _atom_document(
        ENERGY,
        entries,
        config=config,
        page=page,
        tombstones=tombstones,
        updated=_updated_of(assembled),
    )
    assert assembled == whole
    assert_valid_atom(assembled)


def _updated_of(data: bytes) -> datetime:
    updated = ET.fromstring(data).findtext("{http://www.w3.org/2005/Atom}updated")
    assert updated is not None
    return datetime.fromisoformat(updated)
