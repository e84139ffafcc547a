"""Web page clippings: headline, furniture (caption, "Updated <date>"), repeated headline, body."""

from __future__ import annotations

from collections.abc import Sequence

from feeds.formats import (
    BYLINE,
    Parsed,
    date_line,
    dateline_place,
    is_caption,
    is_headline,
    prose_blocks,
    same_words,
)

NAME = "web"

_REPEAT_WINDOW = 12  # non-blank lines after the headline where its repeat may appear


def detect(lines: Sequence[str], suffix: str) -> bool:
    """A story that opens with a headline line (the general fallback style)."""
    return bool(lines) and is_headline(lines[0])


def parse(lines: Sequence[str]) -> Parsed:
    """Title from the first line; furniture up to the repeated headline or the first prose."""
    title = " ".join(lines[0].split())
    start = _body_start(lines, title)
    furniture = lines[1:start]
    body = [line for line in lines[start:] if not is_caption(line)]
    dates = _furniture_dates(furniture)
    if not dates:
        dates = _trailing_date(body)
    author = None
    for line in furniture:
        m = BYLINE.match(line)
        if m is not None:
            author = m["name"]
            break
    blocks = prose_blocks(body)
    first = next((b for b in blocks if b.kind == "p"), None)
    place = dateline_place(first.lines[0]) if first is not None else None
    return Parsed(format=NAME, title=title, dates=dates, blocks=blocks, place=place, author=author)


def _body_start(lines: Sequence[str], title: str) -> int:
    seen = 0
    for i in range(1, len(lines)):
        s = lines[i].strip()
        if not s:
            continue
        if same_words(s, title):
            return i + 1
        seen += 1
        if seen >= _REPEAT_WINDOW:
            break
    i = 1
    while i < len(lines):
        s = lines[i].strip()
        if s and not (is_caption(s) or date_line(s) or BYLINE.match(s)):
            break
        i += 1
    return i


def _furniture_dates(furniture: Sequence[str]) -> tuple[str, ...]:
    found = [d for d in (date_line(line) for line in furniture) if d is not None]
    published = [text for label, text in found if label not in ("updated", "last updated")]
    updated = [text for label, text in found if label in ("updated", "last updated")]
    return tuple(published + updated)


def _trailing_date(body: list[str]) -> tuple[str, ...]:
    while body and not body[-1].strip():
        body.pop()
    if body:
        found = date_line(body[-1])
        if found is not None:
            body.pop()
            return (found[1],)
    return ()
