"""The catalogue's side of topics taught by example: the examples, the stories, the entries
whose learned topics are to be worked out, and each entry's learned topics.

An entry's learned topics are rows of `entry_topics` with the source `learned`, beside its
other topics; they never take a slug the entry has from another source. Triggers (schema 5)
put an entry in `learn_pending` when it is new, its text changes, it comes back, or it loses
a topic of another source; whoever tags it takes it out.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from feeds.model import TopicMatch, TopicSource
from feeds.topics.learning import Example, story_text

if TYPE_CHECKING:
    from feeds.catalog import Catalog

log = logging.getLogger(__name__)

# The setting naming the model whose topics the catalogue holds (see feeds.teaching).
MODEL_SETTING = "learned_model"
_TEACHING = (TopicSource.EXPLICIT.value, TopicSource.FOLDER.value)
_LEARNED = TopicSource.LEARNED.value


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredStory:
    """A live entry as learned topics are worked out for it: its text, its fingerprint (to
    tell whether it changed since), the slugs it has from other sources, and its learned
    topics (slug and reason, by slug)."""

    entry_id: str
    fingerprint: str
    title: str
    body: str
    taken: frozenset[str]
    learned: tuple[tuple[str, str], ...]
    # It has explicit or folder topics: an example, labelled by its user, given no learned one.
    example: bool


class Lessons:
    """The catalogue's queries for topics taught by example, on its connection
    (`Catalog.lessons`); `mark_entry_dirty` marks the feeds an entry is in as to be written
    again (the catalogue's own business, inside its transaction)."""

    def __init__(self, db: sqlite3.Connection, mark_entry_dirty: Callable[[str], None]) -> None:
        self._db = db
        self._mark_entry_dirty = mark_entry_dirty

    def read_lesson(
        self, *, stories: bool
    ) -> tuple[list[Example], dict[str, str], list[tuple[str, str]]]:
        """Every live entry with explicit or folder topics, as an example of them, the title
        of each of those topics (the first by name), and with `stories`, (entry id, title and
        text) of every live entry, what the IDF comes from; by entry id, in one reading."""
        examples: list[Example] = []
        titles: dict[str, str] = {}
        texts: list[tuple[str, str]] = []
        join = "LEFT JOIN" if stories else "JOIN"
        rows = self._db.execute(
            f"SELECT e.entry_id, e.title, e.body, t.slug, t.title FROM entries e {join} "
            "entry_topics t ON t.entry_id = e.entry_id AND t.source IN (?, ?) WHERE e.live "
            "ORDER BY e.entry_id, t.slug, t.title",
            _TEACHING,
        )
        for (entry_id, title, body), group in itertools.groupby(rows, key=lambda r: r[:3]):
            slugs: list[str] = []
            for *_, slug, topic_title in group:
                if slug is not None and slug not in slugs:
                    slugs.append(slug)
                    titles.setdefault(slug, topic_title)
            if slugs:
                examples.append(Example(key=entry_id, title=title, text=body, topics=tuple(slugs)))
            if stories:
                texts.append((str(entry_id), story_text(title, body)))
        return examples, titles, texts

    def example_marks(self) -> list[tuple[str, str, list[str]]]:
        """(entry id, fingerprint, topics) of every example, as `read_lesson` gives them
        (without their text: cheap enough to ask after each batch)."""
        marks: list[tuple[str, str, list[str]]] = []
        for entry_id, fingerprint, slug in self._db.execute(
            "SELECT e.entry_id, e.fingerprint, t.slug FROM entries e "
            "JOIN entry_topics t USING (entry_id) WHERE e.live AND t.source IN (?, ?) "
            "ORDER BY e.entry_id, t.slug",
            _TEACHING,
        ):
            if not marks or marks[-1][0] != entry_id:
                marks.append((entry_id, fingerprint, []))
            if slug not in marks[-1][2]:
                marks[-1][2].append(slug)
        return marks

    def live_stories(self) -> Iterator[StoredStory]:
        """Every live entry not waiting to be tagged, by entry id; read as it is used (call it in
        a snapshot), not every body at once."""
        rows = self._db.execute(
            "SELECT entry_id, fingerprint, title, body FROM entries WHERE live AND entry_id NOT IN "
            "(SELECT entry_id FROM learn_pending) ORDER BY entry_id"
        )
        for entry_id, fingerprint, title, body in rows:
            yield self._stored_story(entry_id, fingerprint, title, body)

    def entry_tags(
        self,
    ) -> Iterator[tuple[str, str, frozenset[str] | None, tuple[tuple[str, str], ...], bool]]:
        """Every live entry, by entry id: (entry id, fingerprint, the slugs it has from other
        sources (None for an example: it gets no learned topic), its learned topics as (slug,
        reason) by slug, whether it waits to be tagged)."""
        rows = self._db.execute(
            "SELECT e.entry_id, e.fingerprint, p.entry_id IS NOT NULL, t.slug, t.source, t.reason "
            "FROM entries e LEFT JOIN learn_pending p USING (entry_id) "
            "LEFT JOIN entry_topics t USING (entry_id) WHERE e.live ORDER BY e.entry_id, t.slug"
        )
        for (entry_id, fingerprint, pending), group in itertools.groupby(rows, key=lambda r: r[:3]):
            topics = [(slug, source, reason) for *_, slug, source, reason in group if slug]
            yield (
                entry_id,
                fingerprint,
                None
                if any(source in _TEACHING for _, source, _ in topics)
                else frozenset(slug for slug, source, _ in topics if source != _LEARNED),
                tuple((slug, reason) for slug, source, reason in topics if source == _LEARNED),
                bool(pending),
            )

    def pending_stories(self, *, limit: int) -> tuple[list[str], list[StoredStory]]:
        """Up to `limit` entries waiting to be tagged (their ids), and those of them that live."""
        rows = self._db.execute(
            "SELECT p.entry_id, e.fingerprint, e.title, e.body, e.live FROM learn_pending p "
            "LEFT JOIN entries e USING (entry_id) ORDER BY p.entry_id LIMIT ?",
            (limit,),
        ).fetchall()
        stories = [
            self._stored_story(entry_id, fingerprint, title, body)
            for entry_id, fingerprint, title, body, live in rows
            if live
        ]
        return [str(row[0]) for row in rows], stories

    def _stored_story(self, entry_id: str, fingerprint: str, title: str, body: str) -> StoredStory:
        topics = self._db.execute(
            "SELECT slug, source, reason FROM entry_topics WHERE entry_id = ? ORDER BY slug",
            (entry_id,),
        ).fetchall()
        return StoredStory(
            entry_id=entry_id,
            fingerprint=fingerprint,
            title=title,
            body=body,
            taken=frozenset(slug for slug, source, _ in topics if source != _LEARNED),
            learned=tuple((slug, reason) for slug, source, reason in topics if source == _LEARNED),
            example=any(source in _TEACHING for _, source, _ in topics),
        )

    def has_pending(self) -> bool:
        """Whether any entry waits to be tagged."""
        return self._db.execute("SELECT 1 FROM learn_pending LIMIT 1").fetchone() is not None

    def pending_with_learned(self) -> list[str]:
        """The live entries waiting to be tagged that hold learned topics."""
        return [
            str(row[0])
            for row in self._db.execute(
                "SELECT DISTINCT p.entry_id FROM learn_pending p JOIN entries e USING (entry_id) "
                "JOIN entry_topics t USING (entry_id) WHERE e.live AND t.source = ? "
                "ORDER BY p.entry_id",
                (_LEARNED,),
            )
        ]

    def learned_elsewhere(self) -> list[tuple[str, str]]:
        """(entry id, fingerprint) of the live entries not waiting to be tagged that hold
        learned topics, by entry id."""
        return [
            (str(entry_id), str(fingerprint))
            for entry_id, fingerprint in self._db.execute(
                "SELECT DISTINCT e.entry_id, e.fingerprint FROM entries e "
                "JOIN entry_topics t USING (entry_id) WHERE e.live AND t.source = ? "
                "AND e.entry_id NOT IN (SELECT entry_id FROM learn_pending) ORDER BY e.entry_id",
                (_LEARNED,),
            )
        ]

    def take_pending(self) -> list[str]:
        """Every entry waiting to be tagged leaves the queue (inside a transaction); their ids."""
        return [
            str(row[0])
            for row in self._db.execute("DELETE FROM learn_pending RETURNING entry_id").fetchall()
        ]

    def queue_pending(self, entry_ids: Sequence[str]) -> None:
        """The entries wait to be tagged again (inside a transaction)."""
        self._db.executemany(
            "INSERT OR IGNORE INTO learn_pending (entry_id) VALUES (?)",
            [(entry_id,) for entry_id in entry_ids],
        )

    def done_pending(self, entry_ids: Sequence[str]) -> None:
        """The entries are tagged (inside a transaction)."""
        self._db.executemany(
            "DELETE FROM learn_pending WHERE entry_id = ?", [(entry_id,) for entry_id in entry_ids]
        )

    def is_current(self, entry_id: str, fingerprint: str) -> bool:
        """Whether an entry still lives with this text."""
        row = self._db.execute(
            "SELECT live AND fingerprint = ? FROM entries WHERE entry_id = ?",
            (fingerprint, entry_id),
        ).fetchone()
        return row is not None and bool(row[0])

    def save_learned_topics(self, entry_id: str, topics: Sequence[TopicMatch]) -> bool:
        """Make `topics` the entry's learned topics (inside a transaction); True if that changed
        which feeds it is in. A change of score alone is recorded without touching any feed."""
        held = {
            slug: reason
            for slug, reason in self._db.execute(
                "SELECT slug, reason FROM entry_topics WHERE entry_id = ? AND source = ?",
                (entry_id, _LEARNED),
            )
        }
        wanted = {topic.slug: topic for topic in topics}
        if set(held) == set(wanted):
            self._db.executemany(
                "UPDATE entry_topics SET reason = ? WHERE entry_id = ? AND slug = ?",
                [(t.reason, entry_id, t.slug) for t in topics if held[t.slug] != t.reason],
            )
            return False
        self._mark_entry_dirty(entry_id)  # the feeds it leaves
        self._db.execute(
            "DELETE FROM entry_topics WHERE entry_id = ? AND source = ?", (entry_id, _LEARNED)
        )
        self._db.executemany(
            "INSERT OR IGNORE INTO entry_topics "
            "(entry_id, slug, title, source, reason, updated, published, live) "
            "SELECT entry_id, ?, ?, ?, ?, updated, published, live FROM entries WHERE entry_id = ?",
            [(t.slug, t.title, _LEARNED, t.reason, entry_id) for t in topics],
        )
        self._mark_entry_dirty(entry_id)  # and the feeds it joins
        return True


def model_in_catalog(catalog: Catalog) -> str | None:
    """The key of the model whose topics the stored entries have (None: none yet)."""
    return catalog.setting(MODEL_SETTING)


def save_model_in_catalog(catalog: Catalog, key: str) -> None:
    catalog.save_setting(MODEL_SETTING, key)
