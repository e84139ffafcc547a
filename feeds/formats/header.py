"""A header block (`Title:`, `Date:`, `Topics:`, `Source:`, `Author:`, `Link:`) above any body."""

from __future__ import annotations

import re
from collections.abc import Sequence

from feeds.formats import HEADER_LINE, Parsed, is_header_line

NAME = "header"

_LIST_SPLIT = re.compile(r"\s*[,;]\s*")


def detect(lines: Sequence[str], suffix: str) -> bool:
    """Two or more header lines at the top, or a `Title:` line, ended by a blank line."""
    return block_size(lines) > 0


def block_size(lines: Sequence[str], start: int = 0) -> int:
    """How many lines from `start` form a header block that `detect` accepts (0 if none do)."""
    n = start
    while n < len(lines) and is_header_line(lines[n]):
        n += 1
    size = n - start
    if not size or (n < len(lines) and lines[n].strip()):
        return 0
    if size == 1 and not is_title_line(lines[start]):
        return 0
    return size


def is_title_line(line: str) -> bool:
    """Whether a header line is a `Title:` or `Headline:` one."""
    return line.lower().lstrip().startswith(("title", "headline"))


def parse(lines: Sequence[str]) -> Parsed:
    """The header's fields; the body after it is left in `rest` for another style."""
    size = block_size(lines)
    fields: dict[str, str] = {}
    topics: list[str] = []
    for line in lines[:size]:
        m = HEADER_LINE.match(line)
        if m is None or not m["value"]:
            continue
        key = m["key"].lower()
        if key in ("topics", "tags", "keywords"):
            topics.extend(t for t in _LIST_SPLIT.split(m["value"]) if t)
        else:
            fields.setdefault(_FIELD.get(key, key), m["value"])
    date = fields.get("date")
    return Parsed(
        format=NAME,
        title=fields.get("title"),
        dates=(date,) if date else (),
        author=fields.get("author"),
        link=fields.get("link"),
        source_name=fields.get("source"),
        declared_topics=tuple(topics),
        rest=tuple(lines[size:]),
    )


_FIELD = {"headline": "title", "published": "date", "by": "author", "url": "link"}
