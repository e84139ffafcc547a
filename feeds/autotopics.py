"""Catalogue queries for automatic topics: how many live entries are about a name, which
names are topics, and the bars a name must clear.

A name becomes a topic when `Bars.on` live entries are about it and stops being one only
when fewer than `Bars.off` are (hysteresis: a feed near the bar does not come and go with
every file). The bar rises with the catalogue: a share of its live entries, never less
than `min_entries`. Past the cap, the topics with the fewest entries go. A topic that goes
keeps its feed, with its entries as tombstones, like a taxonomy topic taken out.

The name rules (`feeds.topics.names`, `feeds.topics.automatic`) are imported when a name is
looked at: a transaction that touched none (a rebuild with nothing to read) needs none.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from feeds.topics.automatic import Partner

log = logging.getLogger(__name__)

# A topic stays until fewer than this share of its bar are about it.
HYSTERESIS = 0.75
# A topic is a name at least this many entries share, whatever the bars.
_SHARED = 2
# How many names met beside a name are looked at for its acronym or long form.
_PARTNERS = 50


@dataclass(frozen=True, slots=True)
class Bars:
    on: int  # live entries a name needs to become a topic
    off: int  # a topic with fewer than this stops being one


def bars(live: int, min_entries: int, share: float) -> Bars:
    """The bars for a catalogue of `live` entries."""
    on = max(min_entries, math.ceil(share * live))
    return Bars(on=on, off=max(min(_SHARED, on), math.ceil(on * HYSTERESIS)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    min_entries: int  # 0: automatic topics off
    share: float
    cap: int  # 0: no cap


class Switch(Protocol):
    """Turns an automatic topic on or off: its rows in auto_topics and entry_topics, and
    the dirt of its feeds (the catalogue's own business)."""

    def __call__(self, slug: str, *, on: bool) -> None: ...


def settle(
    db: sqlite3.Connection,
    touched: Iterable[str],
    *,
    settings: Settings,
    bars_before: Bars | None,
    all_slug: str,
    switch: Switch,
) -> Bars | None:
    """Turn the names `touched` on or off as topics; return the bars used.

    On when `Bars.on` live entries are about a name, off when fewer than `Bars.off` are, no
    more than `settings.cap` of them (the largest). When the bars moved since `bars_before`,
    every automatic topic is looked at again. An acronym is first merged with the long form
    entries name beside it, and a name about to become a topic with an automatic topic that
    is the same body named with or without generic words.
    """
    names = set(touched)
    if settings.min_entries <= 0:
        for slug in sorted(names):
            if is_active(db, slug):
                switch(slug, on=False)
        return None
    current = bars(live_entries(db, all_slug), settings.min_entries, settings.share)
    if bars_before is not None and current != bars_before:
        names.update(active_slugs(db))  # the bar moved: each topic again
    if not names:
        return current
    from feeds.topics.automatic import choose_piece
    from feeds.topics.names import MAX_ACRONYM

    roots: set[str] = set()
    for slug in sorted(names):
        root = root_of(db, slug)
        if (
            len(slug.replace("-", "")) <= MAX_ACRONYM
            and name_count(db, slug, limit=current.off) >= current.off
        ):
            root = _merge_acronym(db, slug, root, switch)
        roots.add(root)
    newly: set[str] = set()
    for root in sorted(roots):
        active = is_active(db, root)
        count = group_count(db, root, limit=current.on)
        wanted = count >= (current.off if active else current.on)
        if wanted and not active:
            partner = choose_piece(title_of(db, root), active_titles(db))
            if partner is not None:
                root = _merge(db, root, partner, switch)
                active = is_active(db, root)
        if wanted != active:
            switch(root, on=wanted)
            if wanted:
                newly.add(root)
    if newly:
        for slug in over_cap(db, settings.cap, newly=newly):
            switch(slug, on=False)
    return current


def _merge_acronym(db: sqlite3.Connection, slug: str, root: str, switch: Switch) -> str:
    """Merge the acronym `slug` (in the group of `root`) with the long form entries name
    most often beside it, if any; return the root it now belongs to. A long form that comes
    to be named beside it more often than the one it was merged with (a misspelt one, seen
    first) brings its group along. (A long form is found from its acronym: looking from
    every name would cost a query per name.)"""
    from feeds.topics.automatic import choose_partner
    from feeds.topics.names import is_acronym

    label = title_of(db, slug)
    if not is_acronym(label):
        return root
    partner = choose_partner(label, cooccurring(db, slug))
    if partner is None or root_of(db, partner.slug) == root:
        return root
    return _merge(db, root, partner, switch)


def _merge(db: sqlite3.Connection, slug: str, partner: Partner, switch: Switch) -> str:
    """Put `slug` and `partner` in one topic; return its slug: one already published, so no
    feed URL breaks (two published feeds are never merged), else the long form's."""
    other = root_of(db, partner.slug)
    if other == slug:
        return slug
    published = [s for s in (slug, other) if is_published(db, s)]
    if len(published) > 1:
        return slug
    root = published[0] if published else (other if partner.into else slug)
    merged = other if root == slug else slug
    if is_active(db, merged):
        switch(merged, on=False)
    merge(db, merged, into=root, kind=partner.kind, reason=partner.reason)
    log.info("automatic names merged slug=%s into=%s", merged, root)
    if is_active(db, root):
        switch(root, on=True)  # its entries now include the merged name's
    return root


def live_entries(db: sqlite3.Connection, all_slug: str) -> int:
    """The live entries as of the last transaction (the `all` feed's count: no table scan)."""
    row = db.execute("SELECT entries FROM topic_counts WHERE slug = ?", (all_slug,)).fetchone()
    return 0 if row is None else int(row[0])


def name_count(db: sqlite3.Connection, slug: str, *, limit: int) -> int:
    """How many live entries are about the name `slug`, counted up to `limit`."""
    (count,) = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM candidates c JOIN entries e USING (entry_id) "
        "WHERE c.slug = ? AND e.live LIMIT ?)",
        (slug, max(limit, 1)),
    ).fetchone()
    return int(count)


def root_of(db: sqlite3.Connection, slug: str) -> str:
    """The topic the name `slug` was merged into, or `slug` itself."""
    row = db.execute("SELECT topic FROM auto_merges WHERE slug = ?", (slug,)).fetchone()
    return slug if row is None else str(row[0])


def group_of(db: sqlite3.Connection, root: str) -> list[str]:
    """`root` and the names merged into it, `root` first."""
    merged = db.execute("SELECT slug FROM auto_merges WHERE topic = ? ORDER BY slug", (root,))
    return [root, *(str(r[0]) for r in merged)]


def group_count(db: sqlite3.Connection, root: str, *, limit: int) -> int:
    """How many live entries are about `root` or a name merged into it, up to `limit`."""
    group = group_of(db, root)
    if len(group) == 1:
        return name_count(db, root, limit=limit)
    marks = ", ".join("?" * len(group))
    (count,) = db.execute(
        "SELECT count(*) FROM (SELECT DISTINCT c.entry_id FROM candidates c "
        f"JOIN entries e USING (entry_id) WHERE c.slug IN ({marks}) AND e.live LIMIT ?)",
        (*group, max(limit, 1)),
    ).fetchone()
    return int(count)


def titled_group(db: sqlite3.Connection, root: str) -> list[str]:
    """`root` and the names merged into it whose spellings may title it (not its pieces)."""
    merged = db.execute(
        "SELECT slug FROM auto_merges WHERE topic = ? AND kind != 'piece' ORDER BY slug", (root,)
    )
    return [root, *(str(r[0]) for r in merged)]


def merge(db: sqlite3.Connection, slug: str, *, into: str, kind: str, reason: str) -> None:
    """Merge the name `slug` (and whatever was merged into it) into the topic `into`."""
    db.execute("UPDATE auto_merges SET topic = ? WHERE topic = ?", (into, slug))
    db.execute(
        "INSERT INTO auto_merges (slug, topic, kind, reason) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (slug) DO UPDATE SET topic = excluded.topic, kind = excluded.kind, "
        "reason = excluded.reason",
        (slug, into, kind, reason),
    )


def cooccurring(db: sqlite3.Connection, slug: str) -> list[tuple[str, str, int]]:
    """The names entries about `slug` are also about: (slug, label, entries), most first."""
    rows = db.execute(
        "SELECT o.slug, min(o.label), count(*) AS n FROM candidates c "
        "JOIN candidates o ON o.entry_id = c.entry_id AND o.slug != c.slug "
        f"WHERE c.slug = ? GROUP BY o.slug ORDER BY n DESC, o.slug LIMIT {_PARTNERS}",
        (slug,),
    )
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


def is_published(db: sqlite3.Connection, slug: str) -> bool:
    """Whether a feed of `slug` has been written (a topic row exists from its first publish)."""
    return db.execute("SELECT 1 FROM topics WHERE slug = ?", (slug,)).fetchone() is not None


def active_titles(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """Every automatic topic: (slug, title)."""
    return [(str(r[0]), str(r[1])) for r in db.execute("SELECT slug, label FROM auto_topics")]


def is_active(db: sqlite3.Connection, slug: str) -> bool:
    return db.execute("SELECT 1 FROM auto_topics WHERE slug = ?", (slug,)).fetchone() is not None


def active_slugs(db: sqlite3.Connection) -> list[str]:
    return [str(r[0]) for r in db.execute("SELECT slug FROM auto_topics")]


def title_of(db: sqlite3.Connection, *slugs: str) -> str:
    """The full form most entries use among the names `slugs` (a name of several words
    before one of one word, such as an acronym; ties: the smallest); the first slug if no
    entry names any of them any more."""
    marks = ", ".join("?" * len(slugs))
    row = db.execute(
        f"SELECT label FROM candidates WHERE slug IN ({marks}) GROUP BY label "
        "ORDER BY instr(label, ' ') = 0, count(*) DESC, label LIMIT 1",
        slugs,
    ).fetchone()
    return slugs[0] if row is None else str(row[0])


def over_cap(db: sqlite3.Connection, cap: int, *, newly: set[str]) -> list[str]:
    """The automatic topics beyond the `cap` largest (none when `cap` is 0). A topic that
    was one before this change counts its entries as if it had 1 / HYSTERESIS times as
    many, so a new one takes its place only when clearly larger."""
    slugs = active_slugs(db)
    if cap <= 0 or len(slugs) <= cap:
        return []
    rows = db.execute(
        "SELECT slug, count(*) FROM entry_topics WHERE source = 'auto' AND live "
        "AND slug IN (SELECT slug FROM auto_topics) GROUP BY slug"
    )
    sizes = {str(r[0]): int(r[1]) for r in rows}

    def weight(slug: str) -> tuple[float, str]:
        size = sizes.get(slug, 0)
        return (-(size if slug in newly else size / HYSTERESIS), slug)

    return sorted(slugs, key=weight)[cap:]


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicLine:
    """One topic as `seedfeed topics` lists it."""

    slug: str
    title: str
    source: str  # the strongest source its entries give it ("auto" for automatic topics)
    entries: int
    merged: tuple[tuple[str, str], ...]  # (name, why) of the names merged into it


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldName:
    """A name entries are about that is no topic of its own, and why."""

    name: str
    entries: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicReport:
    bars: Bars
    cap: int
    topics: tuple[TopicLine, ...]
    held: tuple[HeldName, ...]


_SOURCE_ORDER = ("explicit", "folder", "taxonomy", "auto")


def report(
    db: sqlite3.Connection, *, all_slug: str, min_entries: int, share: float, cap: int
) -> TopicReport:
    """Every published topic (with its source, entries and merged names) and every name at
    least `min_entries` live entries are about that is no topic, with why."""
    current = bars(live_entries(db, all_slug), min_entries, share)
    sources: dict[str, str] = {}
    for slug, source in db.execute("SELECT DISTINCT slug, source FROM entry_topics"):
        known = sources.get(slug)
        if known is None or _SOURCE_ORDER.index(source) < _SOURCE_ORDER.index(known):
            sources[slug] = source
    merged: dict[str, list[tuple[str, str]]] = {}
    for slug, topic, reason in db.execute(
        "SELECT m.slug, m.topic, m.reason FROM auto_merges m ORDER BY m.slug"
    ).fetchall():
        merged.setdefault(topic, []).append((title_of(db, slug), reason))
    topics = tuple(
        TopicLine(
            slug=slug,
            title=title,
            source=sources.get(slug, "gone"),
            entries=int(count),
            merged=tuple(merged.get(slug, ())),
        )
        for slug, title, count in db.execute(
            "SELECT t.slug, t.title, coalesce(c.entries, 0) FROM topics t "
            "LEFT JOIN topic_counts c USING (slug) WHERE t.slug != ? "
            "ORDER BY casefold(t.title), t.slug",
            (all_slug,),
        )
    )
    active = set(active_slugs(db))
    roots = {slug: topic for slug, topic in db.execute("SELECT slug, topic FROM auto_merges")}
    held: list[HeldName] = []
    rows = db.execute(
        "SELECT c.slug, min(c.label), count(*) FROM candidates c JOIN entries e "
        "USING (entry_id) WHERE e.live GROUP BY c.slug HAVING count(*) >= ?",
        (max(min_entries, 1),),
    )
    for slug, label, count in rows:
        root = roots.get(slug, slug)
        if root in active:
            continue
        if root != slug:
            reason = f"merged into {root}, which is no topic"
        elif count < current.on:
            reason = f"too rare: {count} entries, a new topic needs {current.on}"
        else:
            reason = f"over the cap of {cap} automatic topics"
        held.append(HeldName(name=str(label), entries=int(count), reason=reason))
    for label, count, reason in db.execute(
        "SELECT min(h.label), count(*), min(h.reason) FROM held_names h JOIN entries e "
        "USING (entry_id) WHERE e.live GROUP BY h.slug HAVING count(*) >= ?",
        (max(min_entries, 1),),
    ):
        held.append(HeldName(name=str(label), entries=int(count), reason=str(reason)))
    held.sort(key=lambda h: (-h.entries, h.name))
    return TopicReport(bars=current, cap=cap, topics=topics, held=tuple(held))


def explain_names(
    db: sqlite3.Connection, names: Sequence[str], *, all_slug: str, min_entries: int, share: float
) -> list[str]:
    """Why each of `names` (an entry's candidates) is or is not an automatic topic."""
    from feeds.topics.names import spelling_key

    current = bars(live_entries(db, all_slug), min_entries, share)
    lines = []
    for name in names:
        slug = spelling_key(name)
        root = root_of(db, slug)
        count = group_count(db, root, limit=1_000_000_000)
        row = db.execute("SELECT reason FROM auto_merges WHERE slug = ?", (slug,)).fetchone()
        via = "" if row is None else f" ({row[0]})"
        if is_active(db, root):
            lines.append(
                f'{root}: auto: the entry is about "{name}"{via}; {count} entries are, '
                f"a new topic needs {current.on}"
            )
        else:
            lines.append(
                f'(no topic) "{name}"{via}: {count} entries are about it, '
                f"a new topic needs {current.on}"
            )
    return lines
