"""Explicit and folder topics (a `Topics:` header, the top-level folder), and merging the
matches of every source into one per slug."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from feeds.model import Config, TopicMatch, TopicRule, TopicSource
from feeds.topics.slugs import topic_slug

# Strongest first: an explicit header beats a folder, which beats the taxonomy, then auto.
_STRENGTH: dict[TopicSource, int] = {
    TopicSource.EXPLICIT: 0,
    TopicSource.FOLDER: 1,
    TopicSource.TAXONOMY: 2,
    TopicSource.AUTO: 3,
}


def merge_topics(matches: Iterable[TopicMatch]) -> tuple[TopicMatch, ...]:
    """One match per slug, sorted by slug; the strongest source wins, reasons are joined."""
    by_slug: dict[str, TopicMatch] = {}
    for match in matches:
        held = by_slug.get(match.slug)
        if held is None:
            by_slug[match.slug] = match
            continue
        strong, weak = sorted((held, match), key=lambda m: _STRENGTH[m.source])
        reason = strong.reason
        if weak.reason not in reason:
            reason = f"{reason}; {weak.reason}"
        by_slug[match.slug] = replace(strong, reason=reason)
    return tuple(by_slug[slug] for slug in sorted(by_slug))


def _rule_for(slug: str, taxonomy: Sequence[TopicRule]) -> TopicRule | None:
    """The taxonomy rule a declared name or folder stands for: by slug, else by title."""
    for rule in taxonomy:
        if rule.slug == slug:
            return rule
    for rule in taxonomy:
        if topic_slug(rule.title) == slug:
            return rule
    return None


def named_topic(name: str, source: TopicSource, reason: str, config: Config) -> TopicMatch:
    rule = _rule_for(topic_slug(name), config.taxonomy)
    if rule is not None:
        return TopicMatch(slug=rule.slug, title=rule.title, source=source, reason=reason)
    return TopicMatch(slug=topic_slug(name), title=name, source=source, reason=reason)
