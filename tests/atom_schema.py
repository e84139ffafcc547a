"""Checks other tests share: is this valid Atom (RFC 4287's RELAX NG schema), and what does a
feed reader (feedparser) see in it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html

# The repository is <workspace>/main; the schema lives beside it in <workspace>/shared.
ATOM_RNG = Path(__file__).resolve().parent.parent.parent / "shared" / "schemas" / "atom.rng"


@cache
def _atom_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(ATOM_RNG)))


def assert_valid_atom(data: bytes) -> None:
    """Fail unless `data` parses as XML and is valid against RFC 4287's schema."""
    if not ATOM_RNG.is_file():
        pytest.skip(f"../shared/schemas/atom.rng is missing (looked for {ATOM_RNG})")
    schema = _atom_schema()
    document = etree.fromstring(data)
    if not schema.validate(document):
        raise AssertionError(f"not valid Atom:\n{schema.error_log}")


def reader_text(detail: feedparser.FeedParserDict) -> str:
    """The text a reader shows for a feedparser text construct (`title_detail`,
    `summary_detail`): plain text as it is, HTML as the text it renders to."""
    value = str(detail.value)
    if detail.type not in ("text/html", "application/xhtml+xml") or not value:
        return value
    return str(html.fragment_fromstring(value, create_parent="div").text_content())


def parse_with_feedparser(data: bytes) -> feedparser.FeedParserDict:
    """What a feed reader sees in `data`; fails if feedparser found it malformed."""
    result = feedparser.parse(data)
    assert result.bozo == 0, f"feedparser: {result.get('bozo_exception')!r}"
    return result
