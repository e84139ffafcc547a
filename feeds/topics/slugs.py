"""Topic names -> file-safe slugs, and the slugs seedfeed keeps for its own feeds."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from slugify import slugify

# Slugs seedfeed keeps for its own feeds: `all.atom` and `_rejected.atom`-style names.
RESERVED_SLUGS = frozenset({"all"})
RESERVED_PREFIX = "_"


@lru_cache(maxsize=8192)
def topic_slug(name: str) -> str:
    """The file-safe slug of a topic name: python-slugify, lowercase, hyphen-separated.

    `all` and names whose slug would start with `_` are seedfeed's own feeds, so they get
    `-topic` appended (`all` -> `all-topic`). A name with nothing sluggable in it (only
    punctuation or symbols) gets `topic-` and the first 8 hex digits of its SHA-1.
    """
    slug = _fast_slug(name) if name.isascii() and "&" not in name else slugify(name)
    if not slug:
        digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
        return f"topic-{digest}"
    if slug in RESERVED_SLUGS or slug.startswith(RESERVED_PREFIX):
        return f"{slug.lstrip(RESERVED_PREFIX) or 'reserved'}-topic"
    return slug


_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d)")


def _fast_slug(name: str) -> str:
    """What python-slugify gives for a plain ASCII name without entities, computed directly
    (slugify costs several microseconds a call; a story has a dozen candidate names)."""
    return _NOT_SLUG.sub("-", _DIGIT_COMMA.sub("", name.lower())).strip("-")
