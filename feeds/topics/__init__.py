"""Entry -> topics: explicit headers, the top-level folder, taxonomy rules and automatic names.

One module per source: `explicit` (headers and folders, and merging), `taxonomy` (rules),
`names` (whole names in a story), `places` (the gazetteer), `automatic` (which names become
topics). Pure: no I/O, no clock, no threads.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from feeds.model import Config, Entry, TopicMatch, TopicSource
from feeds.topics.automatic import add_auto_topics, explain_topics
from feeds.topics.explicit import merge_topics, named_topic
from feeds.topics.names import NAMES_VERSION, acronym_of, extract_candidates, spelling_key
from feeds.topics.slugs import RESERVED_PREFIX, RESERVED_SLUGS, topic_slug
from feeds.topics.taxonomy import TITLE_WEIGHT, taxonomy_owner, taxonomy_topics

__all__ = [
    "NAMES_VERSION",
    "RESERVED_PREFIX",
    "RESERVED_SLUGS",
    "TITLE_WEIGHT",
    "acronym_of",
    "add_auto_topics",
    "assign_topics",
    "explain_topics",
    "extract_candidates",
    "spelling_key",
    "topic_slug",
]


def assign_topics(entry: Entry, *, rel_path: Path, config: Config) -> Entry:
    """`entry` with its explicit, folder and taxonomy topics and its automatic candidates.

    - explicit: each of `entry.declared_topics` (a `Topics:`/`Tags:` header);
    - folder: the top-level folder of `rel_path` under `seeds/`, if it is in one;
    - taxonomy: each rule of `config.taxonomy` whose phrases occur often enough in the
      title and body; a title hit counts TITLE_WEIGHT (2) times, a body hit once.

    One TopicMatch per slug, sorted by slug; when sources agree on a slug the strongest
    (explicit > folder > taxonomy > auto) keeps its title and the reasons are joined.
    The candidates are the names the entry is about that none of these topics stands for.
    """
    matches: list[TopicMatch] = []
    for declared in entry.declared_topics:
        name = " ".join(declared.split())
        if name:
            matches.append(named_topic(name, TopicSource.EXPLICIT, f'explicit: "{name}"', config))
    if len(rel_path.parts) > 1:
        folder = rel_path.parts[0]
        matches.append(named_topic(folder, TopicSource.FOLDER, f'folder: "{folder}/"', config))
    if config.taxonomy:
        matches.extend(taxonomy_topics(config.taxonomy, entry.title, entry.body))
    topics = merge_topics(matches)
    candidates = _own_candidates(entry, topics, config=config) if config.auto_topics else ()
    return replace(entry, topics=topics, candidates=candidates)


def _own_candidates(
    entry: Entry, topics: tuple[TopicMatch, ...], *, config: Config
) -> tuple[str, ...]:
    """The names `entry` is about that no explicit, folder or taxonomy topic stands for.

    A name a taxonomy rule's phrase matches whole belongs to that rule; so does an acronym
    whose long form it matches, and the reverse ("Regional Anti-Terrorist Structure" goes
    with "RATS"). A name whose slug is one of the entry's topics is that topic.
    """
    names = extract_candidates(
        entry.title, entry.body, place=entry.place, boilerplate=config.boilerplate
    )
    taken = {t.slug for t in topics}
    owned = {
        name
        for name in names
        if spelling_key(name) in taken
        or (config.taxonomy and taxonomy_owner(config.taxonomy, name) is not None)
    }
    for short in [n for n in names if n.isupper()]:
        for name in names:
            if acronym_of(short, name) and (short in owned or name in owned):
                owned.update((short, name))
    return tuple(name for name in names if name not in owned)
