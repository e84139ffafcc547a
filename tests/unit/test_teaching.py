"""Topics taught by example on real folders and a real catalogue: `seedfeed build`'s steps."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.build import open_catalog, reconcile, update
from feeds.catalog import Catalog
from feeds.config import DEFAULT_CONFIG
from feeds.learned import STATE_NAME
from feeds.lessons import MODEL_SETTING
from feeds.model import Config, TopicSource
from feeds.teaching import (
    LEARNING_OFF,
    Held,
    apply_learning,
    apply_lesson,
    examples_key_of,
    learn_from_catalog,
    look_at_examples,
    model_for_check,
    model_in_force,
    tag_pending,
)
from tests.conftest import REPO
from tests.unit.test_learning import story

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SAMPLES = sorted((REPO / "seeds").glob("*.txt"))


def write_story(path: Path, topic: str | None, seed: int, *, header: str = "") -> None:
    title, text = story(topic, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"Title: {title}", *([header] if header else []), "", text]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """Five examples each in seeds/astronomy/ and seeds/cooking/, and stories at the root:
    four of each topic, sixteen of none."""
    seeds = tmp_path / "seeds"
    for topic in ("astronomy", "cooking"):
        for seed in range(5):
            write_story(seeds / topic / f"{seed}.txt", topic, seed)
    for seed in range(10, 14):
        write_story(seeds / f"astronomy-{seed}.txt", "astronomy", seed)
        write_story(seeds / f"cooking-{seed}.txt", "cooking", seed)
    for seed in range(10, 26):
        write_story(seeds / f"other-{seed}.txt", None, seed)
    return replace(
        DEFAULT_CONFIG,
        seeds_dir=seeds,
        public_dir=tmp_path / "public",
        state_dir=tmp_path / "state",
        auto_topics=False,
    )


def build(config: Config) -> None:
    catalog = open_catalog(config)
    try:
        update(catalog, config, now=T0)
    finally:
        catalog.close()


def topics_by_file(config: Config) -> dict[str, set[tuple[str, str]]]:
    """Each file's (slug, source) pairs, from the catalogue."""
    db = sqlite3.connect(config.state_dir / "catalog.sqlite3")
    try:
        found: dict[str, set[tuple[str, str]]] = {}
        for rel_path, slug, source in db.execute(
            "SELECT s.rel_path, t.slug, t.source FROM sources s "
            "JOIN entry_topics t USING (entry_id)"
        ):
            found.setdefault(rel_path, set()).add((slug, source))
        return found
    finally:
        db.close()


def test_build_files_every_story_where_its_examples_say(config: Config) -> None:
    build(config)
    found = topics_by_file(config)
    for seed in range(10, 14):
        assert found.get(f"astronomy-{seed}.txt") == {("astronomy", "learned")}
        assert found.get(f"cooking-{seed}.txt") == {("cooking", "learned")}
    assert not [path for path in found if path.startswith("other-")]
    # The examples keep their folder topic, and get no other.
    for seed in range(5):
        assert found[f"astronomy/{seed}.txt"] == {("astronomy", "folder")}
    atom = (config.public_dir / "feeds" / "cooking.atom").read_text(encoding="utf-8")
    assert atom.count("<entry>") == 9
    assert (config.state_dir / STATE_NAME).is_file()


def test_an_example_keeps_its_own_topics_and_gets_no_learned_one(config: Config) -> None:
    """Explicit and folder topics are never overridden: an entry its user labelled (here a
    story about astronomy said to be about cooking) is an example, not a story to file."""
    write_story(config.seeds_dir / "declared.txt", "cooking", 20, header="Topics: cooking")
    write_story(config.seeds_dir / "odd.txt", "astronomy", 21, header="Topics: cooking")
    build(config)
    found = topics_by_file(config)
    assert found["declared.txt"] == {("cooking", "explicit")}
    assert found["odd.txt"] == {("cooking", "explicit")}


def test_a_rebuild_with_the_same_examples_learns_nothing_and_writes_nothing(
    config: Config,
) -> None:
    build(config)
    state = config.state_dir / STATE_NAME
    before = state.stat().st_mtime_ns
    feeds = {p: p.read_bytes() for p in (config.public_dir / "feeds").glob("*.atom")}
    build(config)
    assert state.stat().st_mtime_ns == before
    assert {p: p.read_bytes() for p in (config.public_dir / "feeds").glob("*.atom")} == feeds


def test_the_same_seeds_give_the_same_feed_bytes(config: Config, tmp_path: Path) -> None:
    build(config)
    other = replace(
        config,
        seeds_dir=tmp_path / "copy" / "seeds",
        public_dir=tmp_path / "copy" / "public",
        state_dir=tmp_path / "copy" / "state",
    )
    shutil.copytree(config.seeds_dir, other.seeds_dir)
    build(other)

    def documents(public: Path) -> dict[str, bytes]:
        return {
            p.relative_to(public).as_posix(): p.read_bytes()
            for p in public.rglob("*")
            if p.is_file()
        }

    assert documents(other.public_dir) == documents(config.public_dir)


def test_examples_removed_below_the_minimum_take_the_learned_topic_away(config: Config) -> None:
    build(config)
    for seed in range(1, 5):
        (config.seeds_dir / "cooking" / f"{seed}.txt").unlink()
    build(config)
    found = topics_by_file(config)
    assert all(("cooking", "learned") not in topics for topics in found.values())
    assert found["astronomy-10.txt"] == {("astronomy", "learned")}
    atom = (config.public_dir / "feeds" / "cooking.atom").read_text(encoding="utf-8")
    assert atom.count("<entry>") == 1


def test_a_new_story_is_tagged_with_the_model_kept_in_the_state_folder(config: Config) -> None:
    """A rebuild that reads one new story tags it with the model it has (the examples did
    not change, so nothing is learned again)."""
    build(config)
    write_story(config.seeds_dir / "astronomy-30.txt", "astronomy", 30)
    build(config)
    assert topics_by_file(config)["astronomy-30.txt"] == {("astronomy", "learned")}


def test_a_held_model_tags_new_stories_without_reading_the_state_folder(
    config: Config,
) -> None:
    """The daemon reads the kept model once and hands it to its start's update: that tags
    with it (the state folder is not read again), and learns nothing, though the examples
    changed."""
    build(config)
    held = Held(model_in_force(config))
    (config.state_dir / STATE_NAME).unlink()
    write_story(config.seeds_dir / "astronomy-30.txt", "astronomy", 30)
    write_story(config.seeds_dir / "cooking" / "5.txt", "cooking", 5)
    catalog = open_catalog(config)
    try:
        update(catalog, config, now=T0, held=held)
    finally:
        catalog.close()
    assert topics_by_file(config)["astronomy-30.txt"] == {("astronomy", "learned")}
    assert not (config.state_dir / STATE_NAME).exists()


def test_learning_off_or_a_topic_excluded_leaves_no_learned_topic(config: Config) -> None:
    build(config)
    build(replace(config, learn_exclude=("Cooking",)))
    found = topics_by_file(config)
    assert found["astronomy-10.txt"] == {("astronomy", "learned")}
    assert "cooking-10.txt" not in found
    off = replace(config, learn=False)
    build(off)
    found = topics_by_file(config)
    assert not any(source == "learned" for topics in found.values() for _, source in topics)
    db = sqlite3.connect(config.state_dir / "catalog.sqlite3")
    try:
        setting = db.execute("SELECT value FROM settings WHERE key = ?", (MODEL_SETTING,))
        assert setting.fetchone() == (LEARNING_OFF.key,)
    finally:
        db.close()


def test_with_learning_off_a_look_at_the_examples_reads_none(config: Config) -> None:
    """The daemon looks at the examples after every batch it stores: with learning off that
    look reads no example (it read every one, the catalogue's size in work per batch)."""
    build(config)
    catalog = open_catalog(config)
    try:
        statements: list[str] = []
        catalog._db.set_trace_callback(statements.append)
        off = replace(config, learn=False)
        assert look_at_examples(catalog, off) == (LEARNING_OFF.key, False)
        assert examples_key_of(catalog, off) == LEARNING_OFF.key
        assert not statements
        key, taught = look_at_examples(catalog, config)  # (learning on: read, and taught)
        assert taught and key != LEARNING_OFF.key and statements
    finally:
        catalog.close()


def test_a_crash_between_keeping_a_model_and_tagging_with_it_is_made_good(
    config: Config,
) -> None:
    """The catalogue names the model whose topics it holds: one that differs from the model
    kept in the state folder (a kill -9 after the model was saved) re-tags every entry."""
    build(config)
    catalog = open_catalog(config)
    try:
        with catalog.transaction():
            catalog._db.execute("DELETE FROM entry_topics WHERE source = 'learned'")
        catalog.save_setting(MODEL_SETTING, "an older model")
        apply_learning(catalog, config, held=Held(model_in_force(config)))
    finally:
        catalog.close()
    assert topics_by_file(config)["cooking-11.txt"] == {("cooking", "learned")}


def test_the_check_reports_each_taught_topic_and_the_thin_ones(config: Config) -> None:
    write_story(config.seeds_dir / "football" / "1.txt", "football", 1)
    build(config)
    catalog = Catalog.open_reader(config.state_dir, page_size=config.max_entries)
    try:
        learned = model_for_check(catalog, config)
    finally:
        catalog.close()
    assert [(t.slug, t.examples) for t in learned.topics] == [("astronomy", 5), ("cooking", 5)]
    assert all(t.precision == 1 and t.recall == 1 for t in learned.topics)
    assert learned.thin == (("football", 1),)


def test_the_sample_seeds_keep_their_three_entries_and_topics(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for sample in SAMPLES:
        shutil.copyfile(sample, seeds / sample.name)
    config = replace(
        DEFAULT_CONFIG,
        seeds_dir=seeds,
        public_dir=tmp_path / "public",
        state_dir=tmp_path / "state",
    )
    build(config)
    found = topics_by_file(config)
    assert not any(src == TopicSource.LEARNED.value for t in found.values() for _, src in t)


def test_a_rebuild_with_nothing_to_learn_or_tag_leaves_the_kept_model_unread(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """Loading the model takes ~0.4 s with 10k stories: a no-op rebuild, whose catalogue holds
    the topics of the model its examples give and has no entry waiting, does not read it (a
    damaged one is noticed, and learned again, once it is needed)."""
    build(config)
    kept = config.state_dir / STATE_NAME
    kept.write_bytes(b"not a model")
    build(config)
    assert kept.read_bytes() == b"not a model"
    assert "unreadable" not in caplog.text
    write_story(config.seeds_dir / "astronomy-30.txt", "astronomy", 30)
    build(config)  # a new story to tag: the model is needed, found damaged, learned again
    assert "unreadable" in caplog.text
    assert topics_by_file(config)["astronomy-30.txt"] == {("astronomy", "learned")}


def test_learning_again_marks_only_the_feeds_whose_entries_change(config: Config) -> None:
    build(config)
    write_story(config.seeds_dir / "cooking" / "5.txt", "cooking", 5)
    catalog = open_catalog(config)
    try:
        reconcile(catalog, config, now=T0)
        assert set(catalog.dirty_slugs()) == {"all", "cooking"}
        learned = apply_learning(catalog, config)
        assert learned is not None and [t.examples for t in learned.topics] == [5, 6]
        assert set(catalog.dirty_slugs()) == {"all", "cooking"}
    finally:
        catalog.close()


def test_stories_stored_while_a_lesson_is_learned_get_its_topics(config: Config) -> None:
    """The daemon learns from a snapshot while drops go on, tagged meanwhile with the model
    before (none here): once the lesson is applied, those stories have the new model's topics
    too, as a build from scratch would give them."""
    catalog = open_catalog(config)
    try:
        reconcile(catalog, config, now=T0)
        tag_pending(catalog, None)  # as the daemon tags each batch it stores
        lesson = learn_from_catalog(catalog, config)  # the snapshot the lesson learns from
        write_story(config.seeds_dir / "astronomy-30.txt", "astronomy", 30)
        reconcile(catalog, config, now=T0)
        meanwhile: list[str] = []
        tag_pending(catalog, None, tagged=meanwhile)
        assert len(meanwhile) == 1
        assert "astronomy-30.txt" not in topics_by_file(config)
        apply_lesson(catalog, lesson, tagged_meanwhile=meanwhile)
    finally:
        catalog.close()
    assert topics_by_file(config)["astronomy-30.txt"] == {("astronomy", "learned")}
