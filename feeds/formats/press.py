"""Press releases: no headline (title from the first sentence), a date alone at the end."""

from __future__ import annotations

from collections.abc import Sequence

from feeds.formats import Parsed, date_line, paragraphs
from feeds.formats.roles import opens_with_headline, parse_story

NAME = "press"


def detect(lines: Sequence[str], suffix: str) -> bool:
    """A story that opens with prose rather than a headline, or ends with a date alone."""
    groups = paragraphs(lines)
    first = next(groups, None)
    if first is None:
        return False
    if not opens_with_headline(first):
        return True
    rest = list(groups)
    return len(rest) > 1 and len(rest[-1]) == 1 and date_line(rest[-1][0]) is not None


def parse(lines: Sequence[str], *, titled: bool = False) -> Parsed:
    """Title from a headline or the first sentence; the date alone at the end is the story's.

    `titled`: a header block above already names the story, so no title is made from prose.
    """
    return parse_story(lines, name=NAME, titled=titled)
