"""Every link a published site holds: in its feeds (Atom, RSS, JSON Feed), pages and OPML.

A reader follows links from any of them: each one that names the site must lead to a file in
`public/`, and each one must name the address the site is served at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree, html

ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass(frozen=True, slots=True)
class Link:
    """One link: the document holding it (relative to `public/`) and its absolute URL."""

    document: str
    url: str


def site_links(public: Path, site: str) -> Iterator[Link]:
    """Every link in every feed, page and OPML document under `public/` (served at `site`),
    made absolute: relative links in pages are resolved against the page's own URL. Links
    inside entry content (the clippings' own) are left out."""
    for path in sorted(public.rglob("*")):
        rel = path.relative_to(public).as_posix()
        if not path.is_file() or path.name.startswith("."):
            continue
        for url in _links_in(path, site + rel):
            yield Link(rel, url)


def _links_in(path: Path, url: str) -> Iterator[str]:
    suffix = path.suffix
    if suffix == ".html":
        page = html.fromstring(path.read_bytes())
        for element in page.iter("a", "link"):
            href = element.get("href")
            if href is not None:
                yield urljoin(url, href)
    elif suffix == ".json":
        document = json.loads(path.read_bytes())
        yield from (document[key] for key in ("home_page_url", "feed_url") if key in document)
        yield from (item["url"] for item in document["items"] if "url" in item)
    elif suffix in (".atom", ".rss", ".opml"):
        root = etree.fromstring(path.read_bytes())
        for element in root.iter(f"{ATOM}link", "link"):
            href = element.get("href")
            if href is not None:
                yield href
            elif element.text:  # RSS <link>
                yield element.text.strip()
        for element in root.iter("outline"):
            yield from (v for k in ("xmlUrl", "htmlUrl") if (v := element.get(k)) is not None)


def local_file(public: Path, site: str, url: str) -> Path | None:
    """The file under `public/` that `url` names, or None if it is not a URL of `site`."""
    if not url.startswith(site):
        return None
    rel = unquote(urlsplit(url[len(site) :]).path)
    target = public / rel
    return target / "index.html" if rel == "" or rel.endswith("/") else target
