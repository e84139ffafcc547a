"""Press releases: no headline (title from the first sentence), a date alone at the end."""

from __future__ import annotations

from collections.abc import Sequence

from feeds.formats import (
    TITLE_PROSE,
    Parsed,
    collapse_spaces,
    date_line,
    dateline_place,
    is_headline,
    opens_with_headline,
    paragraphs,
    prose_blocks,
    title_from_prose,
)

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
    """Dates from lines that hold only a date; title from a headline or the first sentence.

    `titled`: a header block above already names the story, so no title is made from prose.
    """
    kept: list[str] = []
    dates: list[str] = []
    for group in paragraphs(lines):
        found = date_line(group[0]) if len(group) == 1 else None
        if found is not None:
            dates.append(found[1])
        else:
            kept.extend([*group, ""])
    groups = list(paragraphs(kept))
    if not groups:
        return Parsed(format=NAME, dates=tuple(reversed(dates)))
    title: str | None
    if len(groups[0]) == 1 and is_headline(groups[0][0]) and len(groups) > 1:
        title = " ".join(groups[0][0].split())
        kept = [line for group in groups[1:] for line in [*group, ""]]
    elif titled:
        title = None
    else:
        title = title_from_prose(collapse_spaces(groups[0], limit=TITLE_PROSE))
    blocks = prose_blocks(kept)
    first = next((b for b in blocks if b.kind == "p"), None)
    place = dateline_place(first.lines[0]) if first is not None else None
    # The date closing a release is its own; an earlier one may be a dateline.
    return Parsed(
        format=NAME, title=title, dates=tuple(reversed(dates)), blocks=blocks, place=place
    )
