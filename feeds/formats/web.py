"""Web page clippings: furniture, headline, byline and date lines, captions, body, trailer."""

from __future__ import annotations

from collections.abc import Sequence

from feeds.formats import Parsed, is_headline
from feeds.formats.roles import parse_story

NAME = "web"


def detect(lines: Sequence[str], suffix: str) -> bool:
    """A story that opens with a headline line (the general fallback style)."""
    return bool(lines) and is_headline(lines[0])


def parse(lines: Sequence[str]) -> Parsed:
    """The story read by the roles of its lines (see `feeds.formats.roles`)."""
    return parse_story(lines, name=NAME)
