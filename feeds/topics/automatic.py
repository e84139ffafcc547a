"""Automatic topics: which names shared by entries become topics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from feeds.model import Config, Entry, TopicMatch, TopicSource
from feeds.topics.explicit import merge_topics
from feeds.topics.names import acronym_of, piece_of, spelling_key
from feeds.topics.places import country_named


def add_auto_topics(entries: Sequence[Entry], *, config: Config) -> tuple[Entry, ...]:
    """`entries` with automatic topics: each name enough of them are about (what `seedfeed
    inspect` shows for the files inspected together; the catalogue does the same over every
    entry, with its bars and cap).

    An acronym and its long form named in one entry are one name ("EC", "European
    Community"). A name becomes a topic when at least `config.auto_min_entries` of `entries`
    are about it (each entry counted once). The topic's title is the full form most entries
    use (ties: the smallest string). An entry that already has the slug keeps its stronger
    source. Nothing changes when `config.auto_topics` is off.
    """
    if not config.auto_topics:
        return tuple(entries)
    root: dict[str, str] = {}
    for entry in entries:
        for short in entry.candidates:
            partner = choose_partner(short, [(spelling_key(n), n, 1) for n in entry.candidates])
            if partner is not None and partner.into:
                root.setdefault(spelling_key(short), partner.slug)
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for entry in entries:
        slugs: dict[str, str] = {}
        for name in entry.candidates:
            slugs.setdefault(spelling_key(name), name)
        for slug in {root.get(slug, slug) for slug in slugs}:
            counts[slug] += 1
        for slug, name in slugs.items():
            spellings.setdefault(root.get(slug, slug), Counter())[name] += 1
    chosen = {
        slug: min(spellings[slug].items(), key=_title_order)[0]
        for slug, count in counts.items()
        if count >= config.auto_min_entries
    }
    result: list[Entry] = []
    for entry in entries:
        autos = [
            TopicMatch(
                slug=slug,
                title=chosen[slug],
                source=TopicSource.AUTO,
                reason=f'auto: the entry is about "{name}" ({counts[slug]} entries are)',
            )
            for name in entry.candidates
            if (slug := root.get(spelling_key(name), spelling_key(name))) in chosen
        ]
        if not autos:
            result.append(entry)
            continue
        kept = [_without_auto(t) for t in entry.topics if t.source is not TopicSource.AUTO]
        result.append(replace(entry, topics=merge_topics([*kept, *autos])))
    return tuple(result)


def _without_auto(topic: TopicMatch) -> TopicMatch:
    """`topic` without the reason an earlier `add_auto_topics` merged into it."""
    parts = [part for part in topic.reason.split("; ") if not part.startswith("auto: ")]
    return replace(topic, reason="; ".join(parts))


def explain_topics(entry: Entry) -> tuple[str, ...]:
    """One line per topic of `entry`, "slug: reason", for `seedfeed inspect --explain`."""
    return tuple(f"{topic.slug}: {topic.reason}" for topic in entry.topics)


@dataclass(frozen=True, slots=True)
class Partner:
    """A name that is the same thing as another: its slug, why, and whether the other name
    goes into it (it is the full form) rather than the reverse."""

    slug: str
    kind: str  # "acronym" or "piece"
    reason: str
    into: bool


def choose_partner(label: str, others: Sequence[tuple[str, str, int]]) -> Partner | None:
    """The acronym or long form of `label` among the names entries name beside it
    (`others`: slug, label, entries together), the most often together first."""
    for slug, other, _ in others:
        for short, long, into in ((label, other, True), (other, label, False)):
            if acronym_of(short, long):
                reason = f'"{short}" is the acronym of "{long}"'
                return Partner(slug=slug, kind="acronym", reason=reason, into=into)
    return None


def choose_piece(label: str, topics: Sequence[tuple[str, str]]) -> Partner | None:
    """An automatic topic (`topics`: slug, title) of which `label` is a piece, or which is
    a piece of `label` (see `piece_of`). Never a country ("China" is not "China Daily")."""
    if country_named(label) is not None:
        return None
    for slug, title in topics:
        if country_named(title) is not None:
            continue
        for piece, whole, into in ((label, title, True), (title, label, False)):
            if piece_of(piece, whole):
                reason = f'"{piece}" is part of "{whole}"'
                return Partner(slug=slug, kind="piece", reason=reason, into=into)
    return None


def _title_order(spelling: tuple[str, int]) -> tuple[bool, int, str]:
    """The catalogue's rule for a topic's title (`feeds.autotopics.title_of`): a name of
    several words before one of one word, then the most used, then the smallest."""
    name, uses = spelling
    return " " not in name, -uses, name
