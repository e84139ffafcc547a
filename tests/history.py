"""Full feed history (RFC 5005) as a subscriber's reader reconstructs it: the subscription
document, then each archive page by `prev-archive`, read with feedparser from `public/`."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from feeds.catalog import CATALOG_NAME, REJECTED_SLUG
from feeds.urls import ALL_SLUG
from tests.atom_schema import parse_with_feedparser


def history_ids(public: Path, slug: str) -> list[str]:
    """Every entry id met walking feed `slug`'s history, in the order met (repeats kept)."""
    path = public / "feeds" / f"{slug}.atom"
    ids: list[str] = []
    seen: set[Path] = set()
    while True:
        seen.add(path)
        parsed = parse_with_feedparser(path.read_bytes())
        ids += [str(entry.id) for entry in parsed.entries]
        prev = [
            str(link.href) for link in parsed.feed.get("links", []) if link.rel == "prev-archive"
        ]
        if not prev:
            return ids
        path = public / urlsplit(prev[0]).path.lstrip("/")
        assert path not in seen, f"prev-archive loops back to {path}"
        assert path.is_file(), f"{slug}: prev-archive {prev[0]} is not in public/"


def page_ids(path: Path) -> list[str]:
    """The entry ids of one Atom document in `public/`, in order."""
    return [str(entry.id) for entry in parse_with_feedparser(path.read_bytes()).entries]


def live_entries_by_feed(state_dir: Path) -> dict[str, set[str]]:
    """Each feed's live entries as the catalogue holds them (`all`: every live entry)."""
    db = sqlite3.connect(f"{(state_dir / CATALOG_NAME).as_uri()}?mode=ro", uri=True)
    try:
        feeds = {
            ALL_SLUG: {str(r[0]) for r in db.execute("SELECT entry_id FROM entries WHERE live")}
        }
        for slug, entry_id in db.execute("SELECT slug, entry_id FROM entry_topics WHERE live"):
            feeds.setdefault(str(slug), set()).add(str(entry_id))
    finally:
        db.close()
    return feeds


def assert_history_complete(public: Path, state_dir: Path) -> int:
    """Every feed's history holds each of its live entries exactly once, and nothing else
    (a feed all of whose entries left holds none); every feed with entries is published.
    Returns the feeds checked."""
    expected = live_entries_by_feed(state_dir)
    published = {p.stem for p in (public / "feeds").glob("*.atom")} - {REJECTED_SLUG}
    unpublished = sorted(set(expected) - published)
    assert not unpublished, f"feeds with entries and no document: {unpublished}"
    for slug in sorted(published):
        ids, wanted = history_ids(public, slug), expected.get(slug, set())
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        missing = sorted(wanted - set(ids))
        extra = sorted(set(ids) - wanted)
        assert not (repeated or missing or extra), (
            f"{slug}: {len(wanted)} entries, history repeats {repeated}, "
            f"misses {missing}, holds others {extra}"
        )
    return len(published)
