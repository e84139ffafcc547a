"""feeds.topics: explicit, folder, taxonomy and automatic topics, on plain values."""

from __future__ import annotations

from pathlib import Path

from feeds.config import DEFAULT_CONFIG
from feeds.model import Config, Entry, TopicMatch, TopicRule, TopicSource
from feeds.topics import add_auto_topics, assign_topics, explain_topics, topic_slug

SEEDS = Path("x.txt")


def make_entry(title: str = "", body: str = "", declared: tuple[str, ...] = ()) -> Entry:
    return Entry(
        title=title,
        published=None,
        summary="",
        content="",
        body=body,
        fingerprint="f",
        format="test",
        declared_topics=declared,
    )


def with_rules(*rules: TopicRule) -> Config:
    return Config(taxonomy=rules)


def slugs(entry: Entry) -> list[str]:
    return [t.slug for t in entry.topics]


def test_slug_is_lowercase_hyphenated() -> None:
    assert topic_slug("Khyber Pakhtunkhwa") == "khyber-pakhtunkhwa"


def test_reserved_slugs_get_another_name() -> None:
    assert topic_slug("All") == "all-topic"
    assert topic_slug("!!!").startswith("topic-")


def test_taxonomy_plural_and_min_hits() -> None:
    rule = TopicRule(slug="ct", title="CT", phrases=("militant",), min_hits=2)
    hit = assign_topics(
        make_entry(body="Two militants and a militant."), rel_path=SEEDS, config=with_rules(rule)
    )
    assert hit.topics == (
        TopicMatch(
            slug="ct",
            title="CT",
            source=TopicSource.TAXONOMY,
            reason='taxonomy: "militant" \u00d72',
        ),
    )


def test_explain_and_auto() -> None:
    one = assign_topics(
        make_entry(body="Talks in Kabul and Pakistan."), rel_path=SEEDS, config=DEFAULT_CONFIG
    )
    two = assign_topics(
        make_entry(body="Floods hit Pakistan."), rel_path=SEEDS, config=DEFAULT_CONFIG
    )
    done = add_auto_topics([one, two], config=DEFAULT_CONFIG)
    assert [slugs(e) for e in done] == [["pakistan"], ["pakistan"]]
    assert explain_topics(done[0]) == ('pakistan: auto: "Pakistan" in 2 entries',)
