"""Feed documents from catalogue values: Atom feeds, the index page and the OPML list.

Pure and deterministic: every value that reaches the output comes from the
arguments, so the same catalogue always renders to the same bytes (and the HTTP
server's ETag stays put). This is the only module that imports feedgen.
"""

from __future__ import annotations

import html
import io
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import BinaryIO, Protocol

from feedgen.feed import FeedGenerator

from feeds.model import Config, StoredEntry, Topic

log = logging.getLogger(__name__)

GENERATOR_NAME = "seedfeed"
GENERATOR_VERSION = "0.1.0"
ALL_SLUG = "all"
ATOM_TYPE = "application/atom+xml"
UNTITLED = "(untitled)"


class _XmlElement(Protocol):
    """The part of an lxml element seedfeed touches, typed."""

    def iter(self, tag: str) -> Iterator[_XmlElement]: ...
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...


class _XmlDocument(Protocol):
    """The part of an lxml element tree seedfeed touches, typed."""

    def write(
        self, file: BinaryIO, *, pretty_print: bool, encoding: str, xml_declaration: bool
    ) -> None: ...


class _AtomEntry(Protocol):
    """The part of feedgen's FeedEntry seedfeed uses, typed."""

    def id(self, id: str) -> object: ...
    def title(self, title: str) -> object: ...
    def updated(self, updated: datetime) -> object: ...
    def published(self, published: datetime) -> object: ...
    def summary(self, summary: str, *, type: str) -> object: ...
    def content(self, content: str, *, type: str) -> object: ...
    def category(self, category: list[dict[str, str]]) -> object: ...
    def author(self, author: dict[str, str]) -> object: ...
    def link(self, link: dict[str, str]) -> object: ...


class _AtomFeed(Protocol):
    """The part of feedgen's FeedGenerator seedfeed uses, typed."""

    def id(self, id: str) -> object: ...
    def title(self, title: str) -> object: ...
    def updated(self, updated: datetime) -> object: ...
    def author(self, author: dict[str, str]) -> object: ...
    def link(self, link: list[dict[str, str]]) -> object: ...
    def generator(self, generator: str, *, version: str, uri: str) -> object: ...
    def add_entry(self, *, order: str) -> _AtomEntry: ...
    def _create_atom(self, *, extensions: bool) -> tuple[_XmlElement, _XmlDocument]: ...


def _new_feed() -> _AtomFeed:
    feed: _AtomFeed = FeedGenerator()
    return feed


def feed_url(slug: str, *, config: Config) -> str:
    """Where the Atom feed of topic `slug` is served."""
    return f"{config.base_url}feeds/{slug}.atom"


def feed_id(topic: Topic, *, config: Config) -> str:
    """The feed's `tag:` URI: fixed by the authority, the topic's creation date and its slug."""
    return f"tag:{config.id_authority},{topic.created:%Y-%m-%d}:feeds/{topic.slug}"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime reached render: {moment.isoformat()}")
    return moment.astimezone(UTC)


def render_atom(topic: Topic, entries: Sequence[StoredEntry], *, config: Config) -> bytes:
    """One Atom 1.0 document for `topic` holding `entries` in the order given."""
    feed = _new_feed()
    feed.id(feed_id(topic, config=config))
    feed.title(topic.title or UNTITLED)
    newest = max((entry.updated for entry in entries), default=topic.created)
    feed.updated(_utc(newest))
    feed.author({"name": config.author})
    feed.link(
        [
            {"href": feed_url(topic.slug, config=config), "rel": "self", "type": ATOM_TYPE},
            {"href": config.base_url, "rel": "alternate", "type": "text/html"},
        ]
    )
    feed.generator(GENERATOR_NAME, version=GENERATOR_VERSION, uri=config.base_url)
    for entry in entries:
        _add_entry(feed, entry)
    return _serialize(feed)


def _serialize(feed: _AtomFeed) -> bytes:
    """feedgen's tree as bytes, with the `rel` feedgen 1.0 drops from entry links put back.

    feedgen 1.0's `FeedEntry.atom_entry` shadows its link dict with the new element and
    so never writes an entry link's `rel` or `type`; seedfeed's only entry link is the
    story's page, so it is marked `alternate` explicitly rather than by default.
    """
    root, document = feed._create_atom(extensions=False)
    for element in root.iter("entry"):
        for link in element.iter("link"):
            if link.get("rel") is None:
                link.set("rel", "alternate")
    buffer = io.BytesIO()
    document.write(buffer, pretty_print=True, encoding="UTF-8", xml_declaration=True)
    return buffer.getvalue()


def _add_entry(feed: _AtomFeed, entry: StoredEntry) -> None:
    item = feed.add_entry(order="append")
    item.id(entry.entry_id)
    item.title(entry.title or UNTITLED)
    item.published(_utc(entry.published))
    item.updated(_utc(entry.updated))
    item.summary(entry.summary, type="text")
    item.content(entry.content, type="html")
    if entry.topics:
        item.category([{"term": match.slug, "label": match.title} for match in entry.topics])
    if entry.author:
        item.author({"name": entry.author})
    if entry.link:
        item.link({"href": entry.link, "rel": "alternate"})


def _listing_key(topic: Topic) -> tuple[bool, str, str]:
    return (topic.slug != ALL_SLUG, topic.title.casefold(), topic.slug)


def _ordered(topics: Sequence[Topic]) -> list[Topic]:
    """`all` first, then the topics by title (case-insensitive), slug breaking ties."""
    return sorted(topics, key=_listing_key)


def render_index(topics: Sequence[Topic], counts: Mapping[str, int], *, config: Config) -> bytes:
    """`index.html`: every feed with its entry count, subscribe link and autodiscovery link."""
    ordered = _ordered(topics)
    site = html.escape(config.site_title)
    head_links = [
        f'<link rel="alternate" type="{ATOM_TYPE}" title="{html.escape(topic.title)}"'
        f' href="{html.escape(feed_url(topic.slug, config=config))}">'
        for topic in ordered
    ]
    items = [_index_item(topic, counts.get(topic.slug, 0), config=config) for topic in ordered]
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{site}</title>",
        *head_links,
        "</head>",
        "<body>",
        f"<h1>{site}</h1>",
        "<p>Subscribe to any of these Atom feeds in your feed reader.</p>",
        '<ul class="feeds">',
        *items,
        "</ul>",
        '<p>All feeds as one list for your reader: <a href="feeds.opml">feeds.opml</a></p>',
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def _index_item(topic: Topic, count: int, *, config: Config) -> str:
    href = html.escape(f"feeds/{topic.slug}.atom")
    noun = "entry" if count == 1 else "entries"
    return (
        f'<li><a href="{href}">{html.escape(topic.title)}</a>'
        f" ({count} {noun}) &middot; "
        f'<a href="{href}" type="{ATOM_TYPE}">subscribe</a></li>'
    )


def render_opml(topics: Sequence[Topic], *, config: Config) -> bytes:
    """`feeds.opml`: OPML 2.0 listing every feed, `all` first, for importing into a reader."""
    root = ET.Element("opml", {"version": "2.0"})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = config.site_title
    body = ET.SubElement(root, "body")
    for topic in _ordered(topics):
        ET.SubElement(
            body,
            "outline",
            {
                "type": "rss",
                "text": topic.title,
                "title": topic.title,
                "xmlUrl": feed_url(topic.slug, config=config),
                "htmlUrl": config.base_url,
            },
        )
    ET.indent(root)
    buffer = io.BytesIO()
    ET.ElementTree(root).write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue() + b"\n"
