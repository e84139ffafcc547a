"""Feed documents from catalogue values: Atom, RSS 2.0 and JSON Feed, and the OPML list.

The HTML pages live in `feeds.pages` and the published paths in `feeds.urls`.

Pure and deterministic: every value that reaches the output comes from the
arguments, so the same catalogue always renders to the same bytes (and the HTTP
server's ETag stays put). This is the only module that imports feedgen.
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import BinaryIO, Protocol

from feedgen.version import version_str as feedgen_version
from lxml.etree import LIBXML_VERSION, LXML_VERSION

from feeds.model import Config, FeedPage, StoredEntry, Tombstone, Topic
from feeds.pages import UNTITLED, in_utc
from feeds.urls import (
    FEED_FORMATS,
    MEDIA_TYPES,
    REJECTED_SLUG,
    archive_url,
    entry_home_url,
    feed_url,
    site_url,
    topic_page_url,
)

log = logging.getLogger(__name__)

GENERATOR_NAME = "seedfeed"
# Bump it with any change to the bytes seedfeed writes: RENDERER moves with it.
GENERATOR_VERSION = "0.1.1"
# What rendered bytes depend on besides the settings: this module, and the libraries that
# build and serialize the XML (their versions as the modules give them, at no cost). The
# catalogue keeps entries' Atom XML; a catalogue rendered by another renderer renders every
# entry again (see `feeds.build.apply_config`).
RENDERER = (
    f"{GENERATOR_VERSION} feedgen/{feedgen_version} "
    f"lxml/{'.'.join(map(str, LXML_VERSION))} libxml2/{'.'.join(map(str, LIBXML_VERSION))}"
)
ATOM_TYPE = MEDIA_TYPES["atom"]
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"
NAMESPACES = {"fh": HISTORY_NS, "at": TOMBSTONES_NS}
ARCHIVE_TAG = f"{{{HISTORY_NS}}}archive"
DELETED_ENTRY_TAG = f"{{{TOMBSTONES_NS}}}deleted-entry"
ATOM_LINK_TAG = "{http://www.w3.org/2005/Atom}link"
SUBSCRIPTION = FeedPage()
EXTENSION = "seedfeed_history"


class _XmlDocument(Protocol):
    """The part of an lxml element tree seedfeed touches, typed."""

    def write(
        self, file: BinaryIO, *, pretty_print: bool, encoding: str, xml_declaration: bool
    ) -> None: ...


class _XmlElement(Protocol):
    """The part of an lxml element seedfeed touches, typed."""

    @property
    def tag(self) -> str: ...
    def __iter__(self) -> Iterator[_XmlElement]: ...
    def iter(self, tag: str) -> Iterator[_XmlElement]: ...
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...
    def items(self) -> list[tuple[str, str]]: ...
    def append(self, element: _XmlElement) -> None: ...
    def insert(self, index: int, element: _XmlElement) -> None: ...
    def index(self, child: _XmlElement) -> int: ...
    def getroottree(self) -> _XmlDocument: ...
    def makeelement(
        self, tag: str, attrib: Mapping[str, str], nsmap: Mapping[str | None, str]
    ) -> _XmlElement: ...


class _DublinCore(Protocol):
    """The part of feedgen's Dublin Core entry extension seedfeed uses, typed."""

    def dc_creator(self, creator: str) -> object: ...


class _AtomEntry(Protocol):
    """The part of feedgen's FeedEntry seedfeed uses, typed."""

    @property
    def dc(self) -> _DublinCore: ...

    def id(self, id: str) -> object: ...
    def title(self, title: str) -> object: ...
    def updated(self, updated: datetime) -> object: ...
    def published(self, published: datetime) -> object: ...
    def summary(self, summary: str, *, type: str) -> object: ...
    def description(self, description: str, *, isSummary: bool) -> object: ...
    def content(self, content: str, *, type: str) -> object: ...
    def category(self, category: list[dict[str, str]]) -> object: ...
    def author(self, author: dict[str, str]) -> object: ...
    def link(self, link: dict[str, str]) -> object: ...


class _AtomFeed(Protocol):
    """The part of feedgen's FeedGenerator seedfeed uses, typed."""

    def id(self, id: str) -> object: ...
    def title(self, title: str) -> object: ...
    def description(self, description: str) -> object: ...
    def language(self, language: str) -> object: ...
    def updated(self, updated: datetime) -> object: ...
    def author(self, author: dict[str, str]) -> object: ...
    def link(self, link: list[dict[str, str]]) -> object: ...
    def generator(self, generator: str, *, version: str, uri: str) -> object: ...
    def add_entry(self, *, order: str) -> _AtomEntry: ...
    def load_extension(self, name: str, *, atom: bool, rss: bool) -> None: ...
    def register_extension(
        self,
        namespace: str,
        extension_class_feed: type[_FeedExtension],
        extension_class_entry: None,
        *,
        atom: bool,
        rss: bool,
    ) -> None: ...
    def _create_atom(self, *, extensions: bool) -> tuple[_XmlElement, object]: ...
    def rss_str(
        self, *, pretty: bool, extensions: bool, encoding: str, xml_declaration: bool
    ) -> bytes: ...


def _new_feed() -> _AtomFeed:
    # Imported on the first feed rendered: feedgen brings dateutil (~50 ms to import), which a
    # rebuild with nothing to render never needs.
    from feedgen.feed import FeedGenerator

    feed: _AtomFeed = FeedGenerator()
    return feed


def _to_bytes(root: _XmlElement) -> bytes:
    buffer = io.BytesIO()
    root.getroottree().write(buffer, pretty_print=True, encoding="UTF-8", xml_declaration=True)
    return buffer.getvalue()


def feed_id(topic: Topic, *, config: Config) -> str:
    """The feed's `tag:` URI: fixed by the authority, the topic's creation date and its slug.

    Archive documents share it (RFC 5005 §4): they are pages of the same feed.
    """
    return f"tag:{config.id_authority},{topic.created:%Y-%m-%d}:feeds/{topic.slug}"


def feed_updated(topic: Topic, entries: Sequence[StoredEntry]) -> datetime:
    """When a feed last changed: its newest entry's `updated`, else the topic's creation."""
    return in_utc(max((in_utc(entry.updated) for entry in entries), default=topic.created))


def render_atom(
    topic: Topic,
    entries: Sequence[StoredEntry],
    *,
    config: Config,
    page: FeedPage = SUBSCRIPTION,
    tombstones: Sequence[Tombstone] = (),
) -> bytes:
    """One Atom 1.0 document for `topic` holding `entries` in the order given.

    `page` says whether this is the subscription document (`page.number is None`) or an
    RFC 5005 archive document, and which neighbouring archive pages exist. `tombstones`
    become RFC 6721 `at:deleted-entry` elements, in the order given. The feed's `updated`
    is the newest entry's or tombstone's moment, else the topic's creation.
    """
    return assemble_atom(
        topic,
        atom_entries_xml(entries, config=config),
        newest=max((in_utc(entry.updated) for entry in entries), default=None),
        config=config,
        page=page,
        tombstones=tombstones,
    )


def assemble_atom(
    topic: Topic,
    entries_xml: Sequence[bytes],
    *,
    newest: datetime | None,
    config: Config,
    page: FeedPage = SUBSCRIPTION,
    tombstones: Sequence[Tombstone] = (),
) -> bytes:
    """`render_atom` from the entries' XML (`atom_entries_xml`) and the newest entry's
    `updated`: the feed's envelope with the entries put in, byte for byte the document
    rendered whole. An entry's XML is the same in every feed that holds it, so it is rendered
    once and kept (the catalogue keeps it; see `AtomPart`)."""
    moments = [in_utc(t.when) for t in tombstones]
    if newest is not None:
        moments.append(in_utc(newest))
    updated = max(moments, default=in_utc(topic.created))
    envelope = _atom_document(
        topic, (), config=config, page=page, tombstones=tombstones, updated=updated
    )
    end = envelope.rindex(_FEED_END)
    return b"".join((envelope[:end], *entries_xml, envelope[end:]))


def atom_entries_xml(entries: Sequence[StoredEntry], *, config: Config) -> list[bytes]:
    """The `<entry>` XML of each of `entries`, as it stands inside a feed document: rendered
    together in one document and cut apart."""
    if not entries:
        return []
    document = _atom_document(
        _FRAGMENT_TOPIC,
        entries,
        config=config,
        page=SUBSCRIPTION,
        tombstones=(),
        updated=_FRAGMENT_TOPIC.created,
    )
    body = document[document.index(_ENTRY_START) : document.rindex(_FEED_END)]
    # Text and attributes are escaped, so "<entry>" only ever opens an element.
    parts = body.split(b"\n" + _ENTRY_START)
    rendered = [parts[0], *(_ENTRY_START + part for part in parts[1:])]
    return [part + b"\n" for part in rendered[:-1]] + rendered[-1:]


def _atom_document(
    topic: Topic,
    entries: Sequence[StoredEntry],
    *,
    config: Config,
    page: FeedPage,
    tombstones: Sequence[Tombstone],
    updated: datetime,
) -> bytes:
    """An Atom document rendered whole with feedgen: feed elements, extensions, entries."""
    feed = _new_feed()
    feed.id(feed_id(topic, config=config))
    feed.title(topic.title or UNTITLED)
    feed.language(config.language)
    feed.updated(updated)
    feed.author({"name": config.author})
    feed.link(_atom_feed_links(topic.slug, page=page, config=config))
    feed.generator(GENERATOR_NAME, version=GENERATOR_VERSION, uri=site_url(config))
    for entry in entries:
        _add_entry(feed, entry)
    extensions: list[tuple[str, Mapping[str, str]]] = []
    if page.number is not None:
        extensions.append((ARCHIVE_TAG, {}))
    extensions += [
        (DELETED_ENTRY_TAG, {"ref": t.entry_id, "when": in_utc(t.when).isoformat()})
        for t in tombstones
    ]
    if extensions:
        feed.register_extension(EXTENSION, _extension(extensions), None, atom=True, rss=False)
    root, _ = feed._create_atom(extensions=True)
    _add_entry_links(root, entries, config=config)
    return _to_bytes(root)


_FEED_END = b"</feed>"
_ENTRY_START = b"  <entry>"
_FRAGMENT_TOPIC = Topic(slug="fragment", title="fragment", created=datetime(2000, 1, 1, tzinfo=UTC))


def _atom_feed_links(slug: str, *, page: FeedPage, config: Config) -> list[dict[str, str]]:
    """The feed-level links: self, alternates, RFC 5005 paging and the WebSub hub."""
    current = feed_url(slug, config=config)
    if slug == REJECTED_SLUG:
        # The operator feed has no page and no other format: it links to itself alone.
        return [{"href": current, "rel": "self", "type": ATOM_TYPE}]
    html_link = {
        "href": topic_page_url(slug, config=config),
        "rel": "alternate",
        "type": "text/html",
    }
    if page.number is not None:
        links = [
            {"href": archive_url(slug, page.number, config=config), "rel": "self"},
            html_link,
            {"href": current, "rel": "current", "type": ATOM_TYPE},
        ]
    else:
        links = [{"href": current, "rel": "self"}, html_link]
        links += [
            {"href": feed_url(slug, config=config, fmt=fmt), "rel": "alternate"}
            | {"type": MEDIA_TYPES[fmt]}
            for fmt in FEED_FORMATS
            if fmt != "atom" and fmt in config.formats
        ]
    links[0]["type"] = ATOM_TYPE
    if page.prev_archive is not None:
        href = archive_url(slug, page.prev_archive, config=config)
        links.append({"href": href, "rel": "prev-archive", "type": ATOM_TYPE})
    if page.next_archive is not None:
        href = archive_url(slug, page.next_archive, config=config)
        links.append({"href": href, "rel": "next-archive", "type": ATOM_TYPE})
    if config.hub_url is not None and page.number is None:
        links.append({"href": config.hub_url, "rel": "hub"})
    return links


class _FeedExtension(Protocol):
    """A feedgen feed extension: namespaces to declare, elements to add before the entries."""

    def extend_ns(self) -> dict[str, str]: ...
    def extend_atom(self, feed: _XmlElement) -> _XmlElement: ...
    def extend_rss(self, feed: _XmlElement) -> _XmlElement: ...


def _extension(elements: Sequence[tuple[str, Mapping[str, str]]]) -> type[_FeedExtension]:
    """A feedgen extension writing `elements`: RFC 5005 fh:archive and RFC 6721
    at:deleted-entry in Atom, the WebSub hub's atom:link in an RSS channel.

    Going through feedgen's extension hook declares the namespaces once on the root
    with their usual prefixes, and places the elements before the first atom:entry,
    the only place RFC 4287's schema allows foreign elements in a feed (in RSS: before
    the first item).
    """
    nsmap = {
        prefix: uri
        for prefix, uri in NAMESPACES.items()
        if any(tag.startswith(f"{{{uri}}}") for tag, _ in elements)
    }

    class _Extension:
        def extend_ns(self) -> dict[str, str]:
            return nsmap

        def extend_atom(self, feed: _XmlElement) -> _XmlElement:
            for tag, attrib in elements:
                feed.append(feed.makeelement(tag, attrib, {}))
            return feed

        def extend_rss(self, feed: _XmlElement) -> _XmlElement:
            channel = next(iter(feed))
            for tag, attrib in elements:
                channel.append(channel.makeelement(tag, attrib, {}))
            return feed

    return _Extension


def _add_entry_links(root: _XmlElement, entries: Sequence[StoredEntry], *, config: Config) -> None:
    """Each entry's links: its page (`alternate`) and the original article (`related`); with
    entry pages turned off, the original article is the `alternate` link.

    feedgen 1.0's `FeedEntry.atom_entry` shadows its link dict with the new element and so
    never writes an entry link's `rel` or `type`; seedfeed writes entry links itself.
    """
    for element, entry in zip(root.iter("entry"), entries, strict=True):
        children = list(element)
        at = next((i + 1 for i, c in enumerate(children) if c.tag == "content"), len(children))
        home = entry_home_url(entry, config=config)
        links = [] if home is None else [{"href": home, "rel": "alternate", "type": "text/html"}]
        if entry.link and entry.link != home:
            links.append({"href": entry.link, "rel": "related"})
        for offset, attrib in enumerate(links):
            element.insert(at + offset, element.makeelement("link", attrib, {}))


def _add_entry(feed: _AtomFeed, entry: StoredEntry) -> _AtomEntry:
    item = feed.add_entry(order="append")
    item.id(entry.entry_id)
    item.title(entry.title or UNTITLED)
    item.published(in_utc(entry.published))
    item.updated(in_utc(entry.updated))
    item.summary(entry.summary, type="text")
    item.content(entry.content, type="html")
    if entry.topics:
        item.category([{"term": match.slug, "label": match.title} for match in entry.topics])
    if entry.author:
        item.author({"name": entry.author})
    return item


def render_rss(topic: Topic, entries: Sequence[StoredEntry], *, config: Config) -> bytes:
    """One RSS 2.0 document for `topic` holding `entries` in the order given.

    Each item's `guid` is the entry id (not a permalink), its `link` the entry's page (or
    the original article when entry pages are turned off);
    `lastBuildDate` follows the Atom feed's `updated` rule, so it never shows the clock.
    """
    feed = _new_feed()
    feed.id(feed_id(topic, config=config))
    title = topic.title or UNTITLED
    feed.title(title)
    feed.description(f"{title}: news clippings from {config.site_title}")
    feed.language(config.language)
    feed.updated(feed_updated(topic, entries))
    feed.link(
        [
            {"href": feed_url(topic.slug, config=config, fmt="rss"), "rel": "self"}
            | {"type": MEDIA_TYPES["rss"]},
            {"href": topic_page_url(topic.slug, config=config), "rel": "alternate"},
        ]
    )
    feed.generator(GENERATOR_NAME, version=GENERATOR_VERSION, uri=site_url(config))
    if config.hub_url is not None:
        hub = [(ATOM_LINK_TAG, {"href": config.hub_url, "rel": "hub"})]
        feed.register_extension(EXTENSION, _extension(hub), None, atom=False, rss=True)
    if any(entry.author for entry in entries):
        # RSS 2.0's <author> must be an e-mail address; Dublin Core carries a name.
        feed.load_extension("dc", atom=False, rss=True)
    for entry in entries:
        item = _add_entry(feed, entry)
        # An RSS description is HTML: the plain-text summary is escaped as HTML once more, so
        # a ticker like <GUS.L> reads as text, not as a tag a reader drops.
        item.description(html.escape(entry.summary, quote=False), isSummary=True)
        home = entry_home_url(entry, config=config)
        if home is not None:
            item.link({"href": home, "rel": "alternate"})
        if entry.author:
            item.dc.dc_creator(entry.author)
    document = feed.rss_str(pretty=True, extensions=True, encoding="UTF-8", xml_declaration=True)
    return _plain_text_references(document)


# RSS elements that hold plain text: titles, names and categories, and the channel's description
# (before the first item). Groups: the start tag, the text, the end tag.
_RSS_PLAIN_TEXT = re.compile(rb"(<(title|dc:creator|category)(?:\s[^>]*)?>)([^<]*)(</\2>)")
_RSS_CHANNEL_DESCRIPTION = re.compile(rb"(<(description)>)([^<]*)(</description>)")
_HEX_REFERENCES = ((b"&amp;", b"&#x26;"), (b"&lt;", b"&#x3C;"), (b"&gt;", b"&#x3E;"))


def _plain_text_references(document: bytes) -> bytes:
    """`document` with `&`, `<` and `>` in RSS's plain-text elements written as hexadecimal
    character references (`&#x3C;`): RSS never said whether those elements hold HTML, and this
    is the form every reader takes as the character itself (the RSS Best Practices Profile, and
    the feed validator's "Encode & and < in plain text")."""

    def referenced(match: re.Match[bytes]) -> bytes:
        text = match[3]
        for entity, reference in _HEX_REFERENCES:
            text = text.replace(entity, reference)
        return match[1] + text + match[4]

    head, item, items = document.partition(b"<item>")
    head = _RSS_CHANNEL_DESCRIPTION.sub(referenced, head, count=1)
    return _RSS_PLAIN_TEXT.sub(referenced, head) + item + _RSS_PLAIN_TEXT.sub(referenced, items)


def render_json_feed(topic: Topic, entries: Sequence[StoredEntry], *, config: Config) -> bytes:
    """One JSON Feed 1.1 document for `topic` holding `entries` in the order given."""
    document: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": topic.title or UNTITLED,
        "home_page_url": topic_page_url(topic.slug, config=config),
        "feed_url": feed_url(topic.slug, config=config, fmt="json"),
        "language": config.language,
        "authors": [{"name": config.author}],
        "items": [_json_item(entry, config=config) for entry in entries],
    }
    if config.hub_url is not None:
        document["hubs"] = [{"type": "WebSub", "url": config.hub_url}]
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2)
    return (text + "\n").encode("utf-8")


def _json_item(entry: StoredEntry, *, config: Config) -> dict[str, object]:
    item: dict[str, object] = {
        "id": entry.entry_id,
        "title": entry.title or UNTITLED,
        "content_html": entry.content,
        "summary": entry.summary,
        "date_published": in_utc(entry.published).isoformat(),
        "date_modified": in_utc(entry.updated).isoformat(),
        "tags": [match.title for match in entry.topics],
    }
    home = entry_home_url(entry, config=config)
    if home is not None:
        item["url"] = home
    if entry.link and entry.link != home:
        item["external_url"] = entry.link
    if entry.author:
        item["authors"] = [{"name": entry.author}]
    return item


def opml_lines(topics: Iterable[Topic], *, config: Config) -> Iterator[str]:
    """`feeds.opml`, line by line: OPML 2.0 listing the feed of each of `topics`, in their order
    (`all` first), for importing into a reader. Each line is serialized as it comes, so any
    number of topics is listed in constant memory."""
    title = ET.Element("title")
    title.text = config.site_title
    yield "<?xml version='1.0' encoding='utf-8'?>\n"
    yield '<opml version="2.0">\n'
    yield "  <head>\n"
    yield f"    {ET.tostring(title, encoding='unicode')}\n"
    yield "  </head>\n"
    yield "  <body>\n"
    for topic in topics:
        outline = ET.Element(
            "outline",
            {
                "type": "rss",
                "text": topic.title,
                "title": topic.title,
                "xmlUrl": feed_url(topic.slug, config=config),
                "htmlUrl": topic_page_url(topic.slug, config=config),
            },
        )
        yield f"    {ET.tostring(outline, encoding='unicode')}\n"
    yield "  </body>\n"
    yield "</opml>\n"
