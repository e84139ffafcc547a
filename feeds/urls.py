"""Where seedfeed publishes each document: its path under `public/` and its URL.

Paths are POSIX strings relative to `public/` (the publisher joins them to the folder,
the pages turn them into relative links); URLs are the same paths under the site's URL
(`site_url`), for feed documents and autodiscovery links.
"""

from __future__ import annotations

import logging

from feeds.model import Config, StoredEntry

log = logging.getLogger(__name__)

ALL_SLUG = "all"
# The operator feed: one entry per rejected file. Atom alone: no other formats, no pages.
REJECTED_SLUG = "_rejected"
FEED_FORMATS = ("atom", "rss", "json")
MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
FORMAT_NAMES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
# Addresses that serve on every interface of the machine: they name no host to link to.
_ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})


def site_url(config: Config) -> str:
    """The URL `public/` is published under: `[site] base_url` when it is set, else the
    address seedfeed serves it on (`[serve]`, or `seedfeed run --host/--port`)."""
    return config.base_url or served_url(config.host, config.port)


def served_url(host: str, port: int) -> str:
    """The URL of an HTTP server listening on `host` and `port`; on every interface, the
    machine's own name for itself (`localhost`)."""
    name = "localhost" if host in _ANY_ADDRESS else host
    if ":" in name:
        name = f"[{name}]"
    return f"http://{name}:{port}/"


def serves_everywhere(host: str) -> bool:
    """True when `host` is an address that listens on every interface."""
    return host in _ANY_ADDRESS


def feed_path(slug: str, fmt: str = "atom") -> str:
    """`feeds/{slug}.{atom,rss,json}`: a topic's subscription document in format `fmt`."""
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"unknown feed format: {fmt!r} (expected one of {FEED_FORMATS})")
    return f"feeds/{slug}.{fmt}"


def archive_path(slug: str, number: int) -> str:
    """`feeds/archive/{slug}/{n}.atom`: archive document `number` (1 is the oldest)."""
    if number < 1:
        raise ValueError(f"archive pages are numbered from 1, not {number}")
    return f"feeds/archive/{slug}/{number}.atom"


ENTRY_PAGES_DIR = "entries"


def entry_page_path(slug: str) -> str:
    """`entries/{slug}.html`: an entry's HTML page (entry slugs are unique)."""
    return f"{ENTRY_PAGES_DIR}/{slug}.html"


def topic_page_path(slug: str) -> str:
    """`topics/{slug}.html`: a topic's HTML page listing its newest entries."""
    return f"topics/{slug}.html"


def feed_url(slug: str, *, config: Config, fmt: str = "atom") -> str:
    """Where topic `slug`'s subscription document in format `fmt` is served."""
    return site_url(config) + feed_path(slug, fmt)


def archive_url(slug: str, number: int, *, config: Config) -> str:
    """Where archive document `number` of topic `slug` is served."""
    return site_url(config) + archive_path(slug, number)


def entry_page_url(slug: str, *, config: Config) -> str:
    """Where the HTML page of the entry with slug `slug` is served."""
    return site_url(config) + entry_page_path(slug)


def entry_home_url(entry: StoredEntry, *, config: Config) -> str | None:
    """Where a reader opens `entry`: its HTML page, or, when entry pages are turned off, the
    original article it names (None if it names none)."""
    if config.entry_pages:
        return entry_page_url(entry.slug, config=config)
    return entry.link


def topic_page_url(slug: str, *, config: Config) -> str:
    """The HTML home of topic `slug`: its topic page, or the site's front page for `all`."""
    if slug == ALL_SLUG:
        return site_url(config)
    return site_url(config) + topic_page_path(slug)
