"""Entry -> topics: explicit headers, the top-level folder, taxonomy rules and automatic names.

One module per source: `explicit` (headers and folders, and merging), `taxonomy` (rules),
`names` (whole names in a story), `places` (the gazetteer), `automatic` (which names become
topics), `learning` (topics taught by example: models learned from the examples, and a
story's scores). Pure: no I/O, no clock, no threads.

The sources are imported when `assign_topics` is first called, not with the package: a
rebuild with nothing to read needs none of their tables and expressions (~60 ms to build).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from feeds.model import Config, Entry, TopicMatch, TopicSource

# Moves on whenever what `names.extract_candidates` finds changes, so stored entries are
# tagged again.
NAMES_VERSION = 3


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
    from feeds.topics.explicit import merge_topics, named_topic
    from feeds.topics.names import extract_candidates
    from feeds.topics.taxonomy import taxonomy_topics

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
    if not config.auto_topics:
        return replace(entry, topics=topics, candidates=(), held_names=())
    names = extract_candidates(
        entry.title, entry.body, place=entry.place, boilerplate=config.boilerplate
    )
    candidates, held = own_names(names, topics, config=config)
    return replace(entry, topics=topics, candidates=candidates, held_names=held)


def own_names(
    names: tuple[str, ...], topics: tuple[TopicMatch, ...], *, config: Config
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """`names` split into those free for automatic topics and those held back, with why.

    Held back: a name whose slug is one of the entry's topics, a name a taxonomy rule's
    phrase matches whole (it belongs to that rule's topic), an acronym or long form of
    either ("Regional Anti-Terrorist Structure" goes with "RATS"), and a name in
    `[auto_topics] never`. A name `[auto_topics] merge` lists is its title instead.
    """
    from feeds.topics.names import acronym_of, spelling_key
    from feeds.topics.taxonomy import taxonomy_owner

    merged, never = _naming_rules(config.auto_merge, config.auto_never)
    if merged:
        names = tuple(sorted({merged.get(spelling_key(name), name) for name in names}))
    else:
        names = tuple(sorted(set(names)))
    taken = {t.slug: t for t in topics}
    why: dict[str, str] = {}
    for name in names:
        key = spelling_key(name)
        rule = taxonomy_owner(config.taxonomy, name) if config.taxonomy else None
        if key in never:
            why[name] = "never: listed in [auto_topics] never"
        elif rule is not None:
            why[name] = f"duplicate of taxonomy topic {rule.slug}"
        elif key in taken:
            why[name] = f"duplicate of {taken[key].source.value} topic {key}"
    for short in [n for n in names if n.isupper()]:
        for name in names:
            if (short in why) != (name in why) and acronym_of(short, name):
                held, free = (short, name) if short in why else (name, short)
                why[free] = why[held]
    return (
        tuple(name for name in names if name not in why),
        tuple((name, why[name]) for name in names if name in why),
    )


@lru_cache(maxsize=64)
def _naming_rules(
    merge: tuple[tuple[str, tuple[str, ...]], ...], never: tuple[str, ...]
) -> tuple[Mapping[str, str], frozenset[str]]:
    """`[auto_topics] merge` as spelling key -> title, and `never` as spelling keys."""
    from feeds.topics.names import spelling_key

    return (
        {spelling_key(name): title for title, names in merge for name in names},
        frozenset(spelling_key(name) for name in never),
    )
