"""Topics taught by example, composed: learn from the catalogue's examples, keep what was
learned in the state folder, and tag stored entries with it.

`seedfeed build` (and the daemon's start) learns after reading and tags before publishing
(`apply_learning`). The daemon tags each drop with the model it holds (`tag_pending`, in the
transaction that stores the drop) and learns again in the background when the examples
change (`learn_in_worker`, in a process of its own, which gives the model and the learned
topics of every stored entry under it; then `apply_lesson`, whose writes take the catalogue's
lock a chunk at a time). `retag_all` works the topics out story by story, for a model the
catalogue's topics do not come from (kept just before a crash).
"""

from __future__ import annotations

import logging
import os
import resource
import threading
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace

from feeds.catalog import Catalog
from feeds.learned import is_learned_kept, load_learned, save_learned
from feeds.lessons import StoredStory, model_in_catalog, save_model_in_catalog
from feeds.model import Config, Entry, TopicMatch, TopicSource
from feeds.topics.learning import (
    Filed,
    Learned,
    TopicModel,
    examples_key,
    learn_and_file,
    nearest_examples,
    scored_topics,
    vectorize,
    without_examples,
)
from feeds.topics.slugs import topic_slug
from feeds.workers import run_forked

log = logging.getLogger(__name__)

# The model in force when learning is off: no topic is learned.
LEARNING_OFF = Learned(key="off", topics=(), thin=())
# Entries tagged per transaction.
_CHUNK = 500
# Learning forks one process per core, up to this many in all: a share of ~70 topics' fits
# is then still worth a process (measured on 2 cores, headered 10k: the forked process adds
# ~5-10 MB of PSS, and ~0.7 s of CPU to fork, send results back and join the terms counted
# apart), and memory stays bounded on a big machine.
_LEARNING_PROCESSES = 4


def kept_out(config: Config) -> tuple[str, ...]:
    """The slugs of the topics `[learn] exclude` keeps from being learned."""
    return tuple(sorted({topic_slug(name) for name in config.learn_exclude}))


def examples_key_of(catalog: Catalog, config: Config) -> str:
    """The key a model learned now from the catalogue's examples under `config` would have:
    when the model in force has it, there is nothing new to learn."""
    return _examples_key(_example_marks(catalog, config), config)


def _example_marks(catalog: Catalog, config: Config) -> list[tuple[str, str, list[str]]]:
    """The catalogue's examples (`Lessons.example_marks`), not even read with learning off:
    a look at them reads every example, and the daemon looks after every batch stored."""
    return catalog.lessons.example_marks() if config.learn else []


def _examples_key(marks: Sequence[tuple[str, str, Sequence[str]]], config: Config) -> str:
    if not config.learn:
        return LEARNING_OFF.key
    return examples_key(marks, min_examples=config.learn_min_examples, kept_out=kept_out(config))


def look_at_examples(catalog: Catalog, config: Config) -> tuple[str, bool]:
    """`examples_key_of`, and whether any topic has enough examples to be learned (if none,
    learning is quick: there is no model to fit)."""
    marks = _example_marks(catalog, config)
    counts = Counter(slug for _, _, slugs in marks for slug in slugs)
    skipped = set(kept_out(config))
    taught = any(n >= config.learn_min_examples and s not in skipped for s, n in counts.items())
    return _examples_key(marks, config), config.learn and taught


@dataclass(frozen=True, slots=True, kw_only=True)
class Lesson:
    """A model learned from the catalogue, and what it changes in the stored entries' learned
    topics: (entry id, fingerprint as it was read, learned topics) of each entry that changes
    or waits in `learn_pending`, worked out with the model."""

    learned: Learned
    changes: tuple[tuple[str, str, tuple[TopicMatch, ...]], ...]
    examples: int = 0
    # Wall seconds of reading and learning; CPU seconds of it, or in a worker process, of
    # that process from its start (importing scikit-learn and keeping the model included),
    # with the processes it forked to learn.
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def learn_from_catalog(catalog: Catalog, config: Config) -> Lesson:
    """What the catalogue's examples teach under `config`, and what it changes."""
    if not config.learn:
        return _lesson(catalog, LEARNING_OFF, {})
    with catalog.snapshot():
        key, taught = look_at_examples(catalog, config)
        started, cpu = time.monotonic(), _cpu_seconds()
        learned, filed, examples = _learn(catalog, config, key, stories=taught)
        lesson = _lesson(catalog, learned, filed)
    return replace(
        lesson,
        examples=examples,
        seconds=time.monotonic() - started,
        cpu_seconds=_cpu_seconds() - cpu,
    )


def _cpu_seconds() -> float:
    """CPU seconds of this process and of the processes it has waited for (those forked to
    learn)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _learn(
    catalog: Catalog, config: Config, key: str, *, stories: bool
) -> tuple[Learned, Filed, int]:
    """What the catalogue's examples teach now, the stories it files (from every story, read
    with `stories`: no topic is learned without them), and how many examples it read."""
    examples, titles, texts = catalog.lessons.read_lesson(stories=stories)
    learned, filed = learn_and_file(
        examples,
        texts,
        titles=titles,
        min_examples=config.learn_min_examples,
        kept_out=kept_out(config),
        key=key,
        fan_out=run_forked,
        workers=min(os.cpu_count() or 1, _LEARNING_PROCESSES),
    )
    return learned, filed, len(examples)


def _lesson(catalog: Catalog, learned: Learned, filed: Filed) -> Lesson:
    changes = []
    for entry_id, fingerprint, taken, held, pending in catalog.lessons.entry_tags():
        matches = tuple(
            _match(topic, score)
            for topic, score in filed.get(entry_id, ())
            if taken is not None and topic.slug not in taken
        )
        if pending or tuple((m.slug, m.reason) for m in matches) != held:
            changes.append((entry_id, fingerprint, matches))
    return Lesson(learned=learned, changes=tuple(changes))


def learn_in_worker(config: Config) -> Lesson:
    """`learn_from_catalog` in a worker process, from a read-only connection of its own; the
    model is kept in the state folder from there (pickling it takes a while), and handed back
    without its examples (tagging does not need them)."""
    reader = Catalog.open_reader(config.state_dir, page_size=config.max_entries)
    try:
        lesson = learn_from_catalog(reader, config)
    finally:
        reader.close()
    save_learned(config.state_dir, lesson.learned)
    return replace(lesson, learned=without_examples(lesson.learned), cpu_seconds=_cpu_seconds())


def model_in_force(config: Config) -> Learned | None:
    """The model that tags entries: the one kept in the state folder (None: none yet)."""
    return load_learned(config.state_dir) if config.learn else LEARNING_OFF


def learned_matches(
    learned: Learned | None, title: str, body: str, *, taken: frozenset[str]
) -> list[TopicMatch]:
    """The learned topics of a story that has the topics `taken` from other sources."""
    if learned is None:
        return []
    return [
        _match(topic, score) for topic, score in scored_topics(learned, title, body, taken=taken)
    ]


def _match(topic: TopicModel, score: float) -> TopicMatch:
    return TopicMatch(
        slug=topic.slug,
        title=topic.title,
        source=TopicSource.LEARNED,
        reason=f"learned: score {score:.2f} (threshold {topic.threshold:.2f})",
    )


def _matches_of(learned: Learned | None, story: StoredStory) -> list[TopicMatch]:
    if story.example:
        return []
    return learned_matches(learned, story.title, story.body, taken=story.taken)


def tag_pending(
    catalog: Catalog, learned: Learned | None, *, tagged: list[str] | None = None
) -> int:
    """Give the entries waiting for it their learned topics under `learned` (None: no model
    yet, so none), adding their ids to `tagged` if given; return how many changed feeds."""
    if learned is None or not learned.topics:
        return _untag_pending(catalog, tagged=tagged)
    changed = 0
    while True:
        with catalog.transaction():
            waiting, stories = catalog.lessons.pending_stories(limit=_CHUNK)
            for story in stories:
                changed += catalog.lessons.save_learned_topics(
                    story.entry_id, _matches_of(learned, story)
                )
            catalog.lessons.done_pending(waiting)
        if tagged is not None:
            tagged.extend(waiting)
        if len(waiting) < _CHUNK:
            return changed


def _untag_pending(catalog: Catalog, *, tagged: list[str] | None) -> int:
    """`tag_pending` under no model, or one that teaches no topic (learning off): the entries
    waiting lose the learned topics they hold (most hold none), without reading their text."""
    changed = 0
    with catalog.transaction():
        for entry_id in catalog.lessons.pending_with_learned():
            changed += catalog.lessons.save_learned_topics(entry_id, ())
        waiting = catalog.lessons.take_pending()
    if tagged is not None:
        tagged.extend(waiting)
    return changed


def retag_all(
    catalog: Catalog,
    learned: Learned,
    *,
    reader: Catalog | None = None,
    lock: threading.Lock | None = None,
) -> int:
    """Work out every stored entry's learned topics under `learned` (a model the catalogue's
    topics do not come from: learned while seedfeed was down, or kept just before a crash),
    from `reader` (a read-only connection of the caller's, else the catalogue itself) without
    `lock`, and apply them (`apply_lesson`)."""
    source = reader or catalog
    changes: list[tuple[str, str, tuple[TopicMatch, ...]]] = []
    with source.snapshot():
        if not learned.topics:  # every learned topic goes: no text to read
            changes = [(entry_id, fp, ()) for entry_id, fp in source.lessons.learned_elsewhere()]
        else:
            for story in source.lessons.live_stories():
                matches = tuple(_matches_of(learned, story))
                if tuple((m.slug, m.reason) for m in matches) != story.learned:
                    changes.append((story.entry_id, story.fingerprint, matches))
    return apply_lesson(catalog, Lesson(learned=learned, changes=tuple(changes)), lock=lock)


def apply_lesson(
    catalog: Catalog,
    lesson: Lesson,
    *,
    lock: threading.Lock | None = None,
    tagged_meanwhile: Sequence[str] = (),
) -> int:
    """Give the stored entries the learned topics of `lesson`, and record that the catalogue
    holds its model's topics; return how many entries changed feeds. Written `_CHUNK` entries
    per transaction under `lock`, each only if the entry's text has not changed since it was
    read; an entry written leaves `learn_pending` (a build's new entries are tagged here at
    once). The entries stored while the lesson was learned (`tagged_meanwhile`: tagged then
    with the model before it, or none) and those whose text changed are tagged with this
    model last: the lesson's snapshot did not hold them as they are."""
    learned = lesson.learned
    log.info(
        "topics learned topics=%d examples=%d thin=%d seconds=%.1f cpu=%.1f",
        len(learned.topics),
        lesson.examples,
        len(learned.thin),
        lesson.seconds,
        lesson.cpu_seconds,
    )
    changes = lesson.changes
    changed = 0
    for start in range(0, len(changes), _CHUNK):
        with lock or nullcontext(), catalog.transaction():
            current = [
                (entry_id, matches)
                for entry_id, fingerprint, matches in changes[start : start + _CHUNK]
                if catalog.lessons.is_current(entry_id, fingerprint)
            ]
            for entry_id, matches in current:
                changed += catalog.lessons.save_learned_topics(entry_id, matches)
            catalog.lessons.done_pending([entry_id for entry_id, _ in current])
    with lock or nullcontext():
        with catalog.transaction():
            catalog.lessons.queue_pending(tagged_meanwhile)
        changed += tag_pending(catalog, learned)
        save_model_in_catalog(catalog, lesson.learned.key)
    log.info("learned topics applied entries=%d changed=%d", len(changes), changed)
    return changed


@dataclass(frozen=True, slots=True)
class Held:
    """The model a caller holds (the daemon: the one in the state folder, read once at its
    start, without its examples): tag with it, learn nothing now."""

    learned: Learned | None


def held_model(config: Config) -> Held:
    """The model in force (`model_in_force`) for a daemon to hold: without the examples'
    vectors, which only `inspect --explain` reads."""
    kept = model_in_force(config)
    return Held(None if kept is None else without_examples(kept))


def apply_learning(catalog: Catalog, config: Config, *, held: Held | None = None) -> Learned | None:
    """Bring the stored entries' learned topics up to date (`seedfeed build`, the daemon's
    start) and return the model in force: `held`'s (the daemon, which learns in the
    background), however old; else the one in the state folder, or one learned from the
    examples now if they changed (and kept there). Without `held`, when the catalogue already
    holds the topics of the model its examples give and no entry waits, the model is not even
    loaded and None is returned (a no-op rebuild: ~0.4 s for 10k stories)."""
    key = examples_key_of(catalog, config) if held is None else None
    if (
        key is not None
        and model_in_catalog(catalog) == key
        and not catalog.lessons.has_pending()
        and (key == LEARNING_OFF.key or is_learned_kept(config.state_dir))
    ):
        return None
    learned = model_in_force(config) if held is None else held.learned
    if held is None and (learned is None or learned.key != key):
        lesson = learn_from_catalog(catalog, config)
        learned = lesson.learned
        save_learned(config.state_dir, learned)
        apply_lesson(catalog, lesson)
    elif learned is not None and model_in_catalog(catalog) != learned.key:
        retag_all(catalog, learned)
    tag_pending(catalog, learned)
    return learned


def model_for_check(catalog: Catalog, config: Config) -> Learned:
    """The model `seedfeed topics --check` reports on: the one in the state folder if the
    examples have not changed since, else one learned now (and not kept)."""
    config = replace(config, learn=True)
    learned = load_learned(config.state_dir)
    key = examples_key_of(catalog, config)
    if learned is not None and learned.key == key:
        return learned
    return _learn(catalog, config, key, stories=True)[0]


def with_learned_topics(learned: Learned | None, entry: Entry) -> Entry:
    """`entry` (as read, with its other topics) with its learned topics too: none for an
    example (its user's own explicit or folder topics say what it is about)."""
    if any(topic.source in (TopicSource.EXPLICIT, TopicSource.FOLDER) for topic in entry.topics):
        return entry
    taken = frozenset(topic.slug for topic in entry.topics)
    matches = learned_matches(learned, entry.title, entry.body, taken=taken)
    if not matches:
        return entry
    return replace(entry, topics=tuple(sorted((*entry.topics, *matches), key=lambda t: t.slug)))


def explain_learned(learned: Learned | None, entry: Entry) -> tuple[str, ...]:
    """One line per learned topic of `entry`: "slug: reason; like" the nearest examples."""
    if learned is None:
        return ()
    vector = vectorize(learned, entry.title, entry.body)
    lines = []
    for topic in entry.topics:
        if topic.source is TopicSource.LEARNED:
            like = ", ".join(
                f'"{title}" ({similarity:.2f})'
                for title, similarity in nearest_examples(learned, vector, topic.slug)
            )
            lines.append(f"{topic.slug}: {topic.reason}; like {like}")
    return tuple(lines)
