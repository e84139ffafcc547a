"""Wire copy: headline, `26-FEB-1987 15:01:01` stamp, "CITY, Feb 26 - " dateline, hard wraps."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from feeds.formats import (
    WIRE_DATELINE,
    Block,
    Parsed,
    Role,
    collapse_spaces,
    dateline_day,
    ends_sentence,
    is_wire_stamp,
)
from feeds.formats.phrases import trailer_starts
from feeds.formats.roles import wire_signature

NAME = "wire"

_SIGNATURE = re.compile(r"(?i)^\s*re(?:u|ue|ui)te?r?(?:\s*\.+|\s+\w{1,3}|[\w:/]{1,12})?\s*$")
_GLUED_SIGNATURE = re.compile(r"\s+(?:Reuter|REUTER)\s*$")
_TRAILER_LINES = 8  # lines from the end where the credits under a wire story may start
_COLUMN_GAP = re.compile(r"\S(?: {3,}|\t)\S")


def detect(lines: Sequence[str], suffix: str) -> bool:
    """A headline followed by a wire stamp, or by a "CITY, Mon DD - " dateline."""
    if len(lines) < 2:
        return False
    if is_wire_stamp(lines[1]):
        return True
    body = next((line for line in lines[1:] if line.strip()), "")
    return len(lines[0]) <= 200 and WIRE_DATELINE.match(body) is not None


def opens_with_dateline(lines: Sequence[str]) -> bool:
    """A wire story's text without its headline: it opens on a "CITY, Mon DD - " dateline (the
    body under a header block that names the story)."""
    first = next((line for line in lines if line.strip()), "")
    return WIRE_DATELINE.match(first) is not None


def parse(lines: Sequence[str]) -> Parsed:
    """Headline, stamp, reflowed paragraphs and kept tables, without the signature."""
    title = " ".join(lines[0].split())
    body = list(lines[1:])
    if body and is_wire_stamp(body[0]):
        stamp = body.pop(0).strip()
        return replace(parse_text(body, dates=(stamp,)), title=title)
    return replace(parse_text(body), title=title)


def parse_text(lines: Sequence[str], *, dates: tuple[str, ...] = ()) -> Parsed:
    """A wire story's text (under its headline and stamp, or under a header block): reflowed
    paragraphs and kept tables without the signature, the dateline's place, and its day
    when `dates` gives none."""
    body = list(lines)
    _drop_signature(body)
    blocks = _blocks(body)
    place = None
    if blocks:
        m = WIRE_DATELINE.match(blocks[0].lines[0])
        if m is not None:
            place = m["place"].strip()
            if not dates:
                day = dateline_day(blocks[0].lines[0])
                dates = (day,) if day else ()
    return Parsed(format=NAME, dates=dates, blocks=blocks, place=place)


def line_roles(lines: Sequence[str]) -> tuple[Role, ...]:
    """The role of each line of a wire story, as `parse` reads it (`inspect --explain lines`)."""
    stamped = len(lines) > 1 and is_wire_stamp(lines[1])
    head: tuple[Role, ...] = ("headline", "date") if stamped else ("headline",)
    return head + text_roles(lines[1 + stamped :])


def text_roles(lines: Sequence[str]) -> tuple[Role, ...]:
    """The role of each line of a wire story's text, as `parse_text` reads it."""
    body = list(lines)
    _drop_signature(body)
    roles: list[Role] = []
    opened = False
    for k, line in enumerate(lines):
        if not line.strip():
            roles.append("blank")
        elif k >= len(body):
            roles.append("trailer")
        elif not opened:
            roles.append("dateline" if WIRE_DATELINE.match(line.strip()) else "body")
        else:
            roles.append("body")
        opened = opened or bool(line.strip())
    return tuple(roles)


def _drop_signature(body: list[str]) -> None:
    _drop_trailer(body)
    while body and not body[-1].strip():
        body.pop()
    signed = False
    while body and (_SIGNATURE.match(body[-1]) or wire_signature(body[-1])):
        body.pop()  # " Reuter", "ONA/ZS", "--IANS" over "abc/xyz"
        signed = True
        while body and not body[-1].strip():
            body.pop()
    if body and not signed:
        body[-1] = _GLUED_SIGNATURE.sub("", body[-1])


def _drop_trailer(body: list[str]) -> None:
    """Cut the credits and notices under the text ("Reporting by ...; Editing by ...")."""
    cut = None
    for k in range(len(body) - 1, max(len(body) - _TRAILER_LINES, 0), -1):
        line = body[k].strip()
        if line and (k == 0 or _opens_paragraph(body[k - 1])) and trailer_starts(line):
            cut = k
    if cut is not None:
        del body[cut:]


def _opens_paragraph(before: str) -> bool:
    return not before.strip() or ends_sentence(before)


def _blocks(body: Sequence[str]) -> tuple[Block, ...]:
    """Reflowed paragraphs (an indented line starts one) and tables kept line by line."""
    blocks: list[Block] = []
    text: list[str] = []
    table: list[str] = []
    for line in body:
        if not line or line.isspace():
            _flush(blocks, text, table)
            continue
        if line[0] == " " or "   " in line or "\t" in line:
            indent = len(line) - len(line.lstrip(" "))
            if _COLUMN_GAP.search(line) or indent in (1, 2) or indent >= 6:
                _flush(blocks, text, [])
                table.append(line.rstrip())
                continue
            if indent:
                _flush(blocks, text, table)
        if table:
            _flush(blocks, [], table)
        text.append(line.strip())
    _flush(blocks, text, table)
    return tuple(blocks)


def _flush(blocks: list[Block], text: list[str], table: list[str]) -> None:
    if text:
        joined = " ".join(text)
        if "  " in joined or "\t" in joined:
            joined = collapse_spaces((joined,))
        blocks.append(Block(kind="p", lines=(joined,)))
        text.clear()
    if table:
        blocks.append(Block(kind="pre", lines=tuple(table)))
        table.clear()
