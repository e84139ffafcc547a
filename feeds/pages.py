"""The HTML pages beside the feeds: the front page, one page per topic, one per entry.

Pure and deterministic, like the feeds: plain semantic HTML5 with a small inline style,
no JavaScript and no external assets. Every text is escaped except entry content, which
normalize has already made into sanitized HTML. Links between pages are relative, so
the site works wherever `public/` is served; autodiscovery links are absolute.
"""

from __future__ import annotations

import html
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime

from feeds.model import Config, StoredEntry, Topic
from feeds.urls import (
    ALL_SLUG,
    FEED_FORMATS,
    FORMAT_NAMES,
    MEDIA_TYPES,
    entry_page_path,
    feed_path,
    feed_url,
    topic_page_path,
)

log = logging.getLogger(__name__)

UNTITLED = "(untitled)"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_STYLE = """\
body{font:1.05rem/1.55 system-ui,sans-serif;max-width:44rem;margin:0 auto;padding:1rem;
color:#1b1b1b;background:#fdfdfc}
a{color:#0645ad}
h1{line-height:1.2}
header,footer{color:#555;font-size:.92rem}
.meta{color:#555;font-size:.92rem}
ul.entries,ul.topics{list-style:none;padding:0}
ul.entries li,ul.topics li{margin:0 0 1rem}
.content{margin:1.5rem 0}
.content img{max-width:100%;height:auto}
@media (prefers-color-scheme:dark){body{color:#e6e6e6;background:#161616}a{color:#8ab4f8}
header,footer,.meta{color:#aaa}}"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _formats(config: Config) -> list[str]:
    """The configured feed formats, Atom first, in seedfeed's fixed order."""
    return [fmt for fmt in FEED_FORMATS if fmt in config.formats]


def in_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is a bug upstream and is refused."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime reached render: {moment.isoformat()}")
    return moment.astimezone(UTC)


def _time(moment: datetime) -> str:
    """`<time>` with the RFC 3339 instant and a date a person reads at a glance."""
    when = in_utc(moment)
    shown = f"{when.day} {_MONTHS[when.month - 1]} {when.year}, {when:%H:%M} UTC"
    # Whole seconds: HTML allows at most three digits of a fraction.
    return f'<time datetime="{when.replace(microsecond=0).isoformat()}">{shown}</time>'


def _href(path: str, *, depth: int) -> str:
    """`path` (relative to `public/`) as seen from a page `depth` folders below it."""
    return "../" * depth + path


def _home(depth: int) -> str:
    return "../" * depth or "./"


def _autodiscovery(slug: str, title: str, *, config: Config) -> list[str]:
    links = []
    for fmt in _formats(config):
        label = title if fmt == "atom" else f"{title} ({FORMAT_NAMES[fmt]})"
        links.append(
            f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" title="{_e(label)}"'
            f' href="{_e(feed_url(slug, config=config, fmt=fmt))}">'
        )
    return links


def _subscribe_links(slug: str, *, depth: int, config: Config) -> str:
    return " ".join(
        f'<a href="{_e(_href(feed_path(slug, fmt), depth=depth))}" type="{MEDIA_TYPES[fmt]}">'
        f"{FORMAT_NAMES[fmt]}</a>"
        for fmt in _formats(config)
    )


def _count(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


def _document(
    title: str, *, depth: int, head_links: Sequence[str], body: Sequence[str], config: Config
) -> bytes:
    lines = _document_lines(title, depth=depth, head_links=head_links, body=body, config=config)
    return "".join(lines).encode("utf-8")


def _document_lines(
    title: str, *, depth: int, head_links: Iterable[str], body: Iterable[str], config: Config
) -> Iterator[str]:
    """An HTML page line by line, each with its newline, consuming `head_links` and `body`
    only as it goes (the front page streams thousands of topics through them)."""
    site = _e(config.site_title)
    head = (
        "<!DOCTYPE html>",
        f'<html lang="{_e(config.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        '<meta name="generator" content="seedfeed">',
    )
    opening = (
        f"<style>\n{_STYLE}\n</style>",
        "</head>",
        "<body>",
        f'<header><nav><a href="{_home(depth)}">{site}</a></nav></header>',
        "<main>",
    )
    for line in itertools.chain(head, head_links, opening, body, ("</main>", "</body>", "</html>")):
        yield line + "\n"


def _entry_item(entry: StoredEntry, *, depth: int, config: Config) -> list[str]:
    title = _e(entry.title or UNTITLED)
    if config.entry_pages:
        title = f'<a href="{_e(_href(entry_page_path(entry.slug), depth=depth))}">{title}</a>'
    elif entry.link:
        title = f'<a href="{_e(entry.link)}" rel="external">{title}</a>'
    meta = _time(entry.published)
    if entry.place:
        meta += f" &middot; {_e(entry.place)}"
    lines = [
        "<li><article>",
        f"<h3>{title}</h3>",
        f'<p class="meta">{meta}</p>',
    ]
    if entry.summary:
        lines.append(f"<p>{_e(entry.summary)}</p>")
    lines.append("</article></li>")
    return lines


def _entry_list(entries: Sequence[StoredEntry], *, depth: int, config: Config) -> list[str]:
    if not entries:
        return ["<p>No entries yet.</p>"]
    items = [line for entry in entries for line in _entry_item(entry, depth=depth, config=config)]
    return ['<ul class="entries">', *items, "</ul>"]


def render_entry_page(entry: StoredEntry, *, config: Config) -> bytes:
    """`entries/{slug}.html`: one entry in full, with its dates, place, topics and sources."""
    depth = 1
    title = _e(entry.title or UNTITLED)
    head_links = _autodiscovery(ALL_SLUG, config.site_title, config=config)
    for match in entry.topics:
        if match.slug != ALL_SLUG:
            head_links += _autodiscovery(match.slug, match.title, config=config)
    meta = [f"Published {_time(entry.published)}", f"updated {_time(entry.updated)}"]
    if entry.place:
        meta.append(f'<span class="place">{_e(entry.place)}</span>')
    if entry.author:
        meta.append(f"by {_e(entry.author)}")
    body = [
        "<article>",
        f"<h1>{title}</h1>",
        f'<p class="meta">{" &middot; ".join(meta)}</p>',
    ]
    if entry.topics:
        topic_links = ", ".join(
            f'<a href="{_e(_href(topic_page_path(m.slug), depth=depth))}" rel="tag">'
            f"{_e(m.title)}</a>"
            for m in entry.topics
        )
        body.append(f'<p class="meta">Topics: {topic_links}</p>')
    body += ['<div class="content">', entry.content, "</div>", "<footer>"]
    if entry.link:
        link = _e(entry.link)
        body.append(f'<p>Original article: <a href="{link}" rel="external">{link}</a></p>')
    if entry.sources:
        names = ", ".join(f"<code>{_e(source.as_posix())}</code>" for source in entry.sources)
        noun = "Source file" if len(entry.sources) == 1 else "Source files"
        body.append(f"<p>{noun}: {names}</p>")
    body += ["</footer>", "</article>"]
    page_title = f"{title} &middot; {_e(config.site_title)}"
    return _document(page_title, depth=depth, head_links=head_links, body=body, config=config)


def render_topic_page(
    topic: Topic, entries: Sequence[StoredEntry], count: int, *, config: Config
) -> bytes:
    """`topics/{slug}.html`: a topic's entry count, subscribe links and newest `entries`."""
    depth = 1
    title = _e(topic.title or UNTITLED)
    body = [
        f"<h1>{title}</h1>",
        f'<p class="meta">{_count(count)}</p>',
        f"<p>Subscribe in your feed reader: "
        f"{_subscribe_links(topic.slug, depth=depth, config=config)}</p>",
        "<h2>Newest entries</h2>",
        *_entry_list(entries, depth=depth, config=config),
    ]
    head_links = _autodiscovery(topic.slug, topic.title or UNTITLED, config=config)
    page_title = f"{title} &middot; {_e(config.site_title)}"
    return _document(page_title, depth=depth, head_links=head_links, body=body, config=config)


def index_lines(
    listed: Callable[[], Iterable[tuple[Topic, int]]],
    newest: Sequence[StoredEntry] = (),
    *,
    config: Config,
) -> Iterator[str]:
    """`index.html`, line by line: every topic with its count, page and feeds, then the newest
    entries. `listed()` gives the topics in the order shown (`all` first); it is called twice,
    for the head's autodiscovery links and for the list, so no topic is held meanwhile."""

    def head_links() -> Iterator[str]:
        for topic, _ in listed():
            yield from _autodiscovery(topic.slug, topic.title or UNTITLED, config=config)

    def items() -> Iterator[str]:
        for topic, count in listed():
            yield (
                f'<li><a href="{_e(topic_page_path(topic.slug))}">{_e(topic.title or UNTITLED)}</a>'
                f" ({_count(count)}) &middot; subscribe: "
                f"{_subscribe_links(topic.slug, depth=0, config=config)}</li>"
            )

    body = itertools.chain(
        (
            f"<h1>{_e(config.site_title)}</h1>",
            "<p>Subscribe to any of these feeds in your feed reader.</p>",
            "<h2>Topics</h2>",
            '<ul class="topics">',
        ),
        items(),
        (
            "</ul>",
            '<p>All feeds as one list for your reader: <a href="feeds.opml">feeds.opml</a></p>',
            "<h2>Newest entries</h2>",
        ),
        _entry_list(newest, depth=0, config=config),
    )
    return _document_lines(
        _e(config.site_title), depth=0, head_links=head_links(), body=body, config=config
    )
