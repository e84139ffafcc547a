"""Document -> entries: split a file into stories, let each pick its style, apply shared rules.

A date later than `now` is dropped (`published` is None), so the catalogue dates the
entry by when it was first seen instead of trusting a typo.
"""

from __future__ import annotations

import functools
import hashlib
import html
import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from feeds.errors import RejectedFile
from feeds.formats import (
    BULLET,
    DATE,
    WIRE_DATELINE,
    YEAR,
    Block,
    Parsed,
    agency_tag,
    collapse_spaces,
    collapsed_pieces,
    date_line,
    dateline,
    dateline_day,
    ends_sentence,
    header,
    is_caption,
    is_divider,
    is_header_line,
    is_headline,
    is_wire_stamp,
    link_line,
    lowered,
    markdown,
    match_date,
    press,
    same_words,
    web,
    wire,
)
from feeds.formats.dates import FreeDate, read_free_date
from feeds.formats.phrases import load_phrases, opens_notes, trailer_starts
from feeds.formats.roles import byline_name, is_furniture, is_link_heading, is_prose, line_kind
from feeds.model import Config, Document, Entry

log = logging.getLogger(__name__)

# Tried in order; the first whose `detect` says yes reads the story. `web` is the fallback.
_BODY_FORMATS = (wire, press, web)
_MONTH_NUMBERS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_SUMMARY_SENTENCE_END = re.compile(r"[.!?…][\"\u201d\u2019)]*(?=\s)")
_END_PUNCTUATION = re.compile(r"[.!?…][\"\u201d\u2019)]*$")
_SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "de",
        "for",
        "from",
        "in",
        "into",
        "nor",
        "of",
        "on",
        "or",
        "per",
        "the",
        "to",
        "via",
        "vs",
        "with",
    ]
)
_VOWELS = frozenset("AEIOUY")
_CONFIRM_WINDOW = 12
_DIVIDER_START = frozenset("-*_=~#")
# How a labelled date or a labelled caption line can start (a cheap first test).
_FURNITURE_START = re.compile(
    r"(?i)(?:last |first )?(?:updated|published|posted|modified|date|issued)"
    r"|(?:photo|image|picture|caption|credit)s?\s*:"
)
_DATE_LABEL_START = re.compile(
    r"(?i)(?:last |first )?(?:updated|published|posted|modified|date|issued)"
)


def split_entries(document: Document, *, config: Config, now: datetime) -> tuple[Entry, ...]:
    """Every story in `document` as an Entry; RejectedFile when none has a title and a body,
    or when the file has too many short lines to be read within bounded memory."""
    _check_line_count(document)
    suffix = document.rel_path.suffix
    zone = ZoneInfo(config.timezone)
    entries: list[Entry] = []
    seen: set[str] = set()
    for story in _stories(document, config):
        parsed = _parse_story(story, suffix)
        entry = _to_entry(parsed, document.text, config=config, zone=zone, now=now)
        if entry is not None and entry.fingerprint not in seen:
            seen.add(entry.fingerprint)  # a story pasted twice in one file is one story
            if entry.published is None and entries and _next_item(entries[-1], entry):
                entry = replace(entry, published=entries[-1].published)
            entries.append(entry)
    if not entries:
        raise RejectedFile(document.rel_path, "no story with a title and text found")
    return tuple(entries)


def _next_item(before: Entry, entry: Entry) -> bool:
    """Whether `entry` is the next item of a newsletter whose items close with their links
    ("Read more: https://..."), after `before`: an item without a date has the issue's."""
    return (
        before.link is not None
        and entry.link is not None
        and before.format == entry.format == "web"
    )


# Each line is read as a string of its own (~60 bytes of overhead) listed a few times over, so
# a file of many very short lines would take many times its size: past MANY_LINES lines,
# lines shorter than SHORT_LINE characters on average are refused.
MANY_LINES = 100_000
SHORT_LINE = 16


def _check_line_count(document: Document) -> None:
    lines = document.text.count("\n") + 1
    if lines > MANY_LINES and len(document.text) < SHORT_LINE * lines:
        raise RejectedFile(
            document.rel_path,
            f"too many short lines to read within bounded memory ({lines:,} lines of "
            f"{len(document.text) / lines:.1f} characters on average)",
        )


def explain_lines(document: Document, *, config: Config) -> list[list[tuple[str, str]]]:
    """Each story's lines with the role the reader gave each one (`inspect --explain lines`).

    Styles that read lines by their roles (web pages, press releases, Markdown) name them; a
    header block's lines are "header", and the lines of other styles carry the style's name.
    """
    shown: list[list[tuple[str, str]]] = []
    for story in _stories(document, config):
        parsed = _parse_story(story, document.rel_path.suffix)
        roles: list[str] = list(parsed.roles)
        if not roles:
            size = header.block_size(story) if header.detect(story, "") else 0
            text = _trim(list(story[size:]))
            below = len(story) - len(text)  # the header block's lines, and blanks under it
            inner: list[str] = []
            if wire.detect(text, ""):
                inner = list(wire.line_roles(text))
            elif parsed.title and wire.opens_with_dateline(text):
                inner = list(wire.text_roles(text))
            roles = ["header"] * below + (inner or [parsed.format] * len(text))
        roles = ["header"] * (len(story) - len(roles)) + roles
        shown.append(list(zip(roles, story, strict=True)))
    return shown


def _stories(document: Document, config: Config) -> list[list[str]]:
    """The file cut into stories, each a list of lines without boilerplate."""
    lines = document.text.split("\n")
    if markdown.detect(lines, document.rel_path.suffix):
        return [lines]
    stripped = [line.strip() for line in lines]
    boilerplate = _boilerplate_lines(document.text, stripped, config.boilerplate)
    stories = [
        _clean(lines[a:b], boilerplate.__contains__) if dirty else _trim(lines[a:b])
        for a, b, dirty in _split_stories(lines, stripped, boilerplate.__contains__)
    ]
    return [story for story in stories if story]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Boilerplate:
    """The configured boilerplate patterns sorted by shape, so most lines skip the regex."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    inside: re.Pattern[str] | None  # the parts of `*part*` patterns
    others: re.Pattern[str] | None  # any other wildcard pattern
    short: int  # no exact or prefix pattern matches a longer line


@functools.lru_cache(maxsize=16)
def _boilerplate_rules(patterns: tuple[str, ...]) -> _Boilerplate:
    """The configured patterns, with the known furniture lines of `phrases.toml` as exact ones."""
    exact: set[str] = set(load_phrases().furniture_lines)
    prefixes: list[str] = []
    suffixes: list[str] = []
    parts: list[str] = []
    others: list[str] = []
    for pattern in (p.strip().lower() for p in patterns):
        core = pattern.strip("*")
        if not core:
            continue
        if "*" in core:
            others.append(".*".join(re.escape(part) for part in pattern.split("*")))
        elif pattern == core:
            exact.add(core)
        elif pattern == core + "*":
            prefixes.append(core)
        elif pattern == "*" + core:
            suffixes.append(core)
        else:
            parts.append(core)
    return _Boilerplate(
        exact=frozenset(exact),
        prefixes=tuple(prefixes),
        suffixes=tuple(suffixes),
        inside=re.compile("|".join(map(re.escape, parts))) if parts else None,
        others=re.compile("(?:" + "|".join(others) + r")\Z", re.DOTALL) if others else None,
        short=max(map(len, (*exact, *prefixes)), default=0),
    )


def _boilerplate_lines(
    text: str, stripped: Sequence[str], patterns: tuple[str, ...]
) -> frozenset[str]:
    """The distinct stripped lines that match a boilerplate pattern, whole and ignoring case.

    A line matched only through a wildcard is left alone where it continues prose (a
    wrapped wire line "Ready-to-Serve Cookies, effective" is not a cookie banner).
    """
    rules = _boilerplate_rules(patterns)
    inside = rules.inside if rules.inside and rules.inside.search(lowered(text)) else None
    long_possible = bool(rules.suffixes or rules.others or inside)
    exact: set[str] = set()
    wild: set[str] = set()
    for s in set(stripped):
        if not s or (len(s) > rules.short and not long_possible):
            continue
        low = s.lower()
        if low in rules.exact:
            exact.add(s)
        elif (
            low.startswith(rules.prefixes)
            or low.endswith(rules.suffixes)
            or (inside is not None and inside.search(low) is not None)
            or (rules.others is not None and rules.others.match(low) is not None)
        ):
            wild.add(s)
    if wild:
        wild -= {
            s for k, s in enumerate(stripped) if s in wild and _in_prose(stripped, k, exact | wild)
        }
    return frozenset(exact | wild)


def _in_prose(stripped: Sequence[str], k: int, boilerplate: set[str]) -> bool:
    """Whether line `k` has a neighbour in the same paragraph that is prose, not furniture."""
    for j in (k - 1, k + 1):
        if 0 <= j < len(stripped):
            s = stripped[j]
            if s and s not in boilerplate and not is_furniture(s):
                return True
    return False


def _split_stories(
    lines: Sequence[str], stripped: Sequence[str], is_boilerplate: Callable[[str], bool]
) -> list[tuple[int, int, bool]]:
    """Cut a file at story boundaries found by general rules, not by blank-line counts.

    Gives (start, end, dirty) line ranges; dirty ones hold boilerplate or dividers.
    """
    starts = [0]
    dirty: set[int] = set()  # indexes into starts
    n = len(lines)
    i = 0
    after_blank = True
    story_text = 0  # prose paragraphs seen since the current story started
    ended = False
    in_wire = False
    under_header = False  # a header block was just read: what follows is its body
    trailer_seen = False  # the story ended with a trailer ("Reporting by ...", a copyright)
    in_notes = False  # a release's closing notes were opened ("About NAME"): their prose
    prose = _ProseScan(stripped)
    looks: dict[str, str] = {}  # `_look_under` of each line asked, as lines are asked often
    while i < n:
        s = stripped[i]
        if not s:
            after_blank = True
            i += 1
            continue
        if is_boilerplate(s):
            if s.endswith("|") and after_blank and story_text:
                starts.append(i)
                story_text = 0
            dirty.add(len(starts) - 1)
            i += 1
            continue
        if s[0] in _DIVIDER_START and is_divider(s):
            dirty.add(len(starts) - 1)
            if _starts_after_separator(stripped, i + 1, in_wire=in_wire):
                starts.append(i + 1)
                in_wire = False
                story_text = 0
                ended = False
            after_blank = True
            i += 1
            continue
        if after_blank:
            if ended and trailer_starts(s):
                in_notes = in_notes or opens_notes(s)
                i += 1
                continue
            skip = _confirmed_start(lines, stripped, i, is_boilerplate, looks)
            if skip is not None or (
                ended
                and story_text
                and (not trailer_seen or (is_prose(s) and BULLET.match(s) is None and not in_notes))
            ):
                if (
                    i > starts[-1]
                    and not under_header
                    and (skip is None or _may_end_story(lines, stripped, prose, starts[-1], i))
                ):
                    starts.append(i)
                under_header = skip is not None and is_header_line(s)
                in_wire = not under_header and i + 1 < n and is_wire_stamp(lines[i + 1])
                story_text = 0
                ended = False
                trailer_seen = in_notes = False
                if skip is not None:
                    for k in range(i, skip):
                        if stripped[k] and is_boilerplate(stripped[k]):
                            dirty.add(len(starts) - 1)
                    i = skip
                    after_blank = False
                    continue
            if story_text and trailer_starts(s):
                ended = trailer_seen = True
                in_notes = opens_notes(s)
            elif story_text and _closing_link(s, prose, starts[-1], i):
                ended = True
            else:
                ended = (
                    bool(story_text)
                    and (i + 1 >= n or not stripped[i + 1])
                    and _after_text(stripped, i)
                    and date_line(s) is not None
                    and _prose_paragraphs(stripped, starts[-1], i) >= 2
                )
                release = _release_in_wire(stripped, starts[-1], i) if ended else None
                if release is not None:
                    starts.append(release)
            if not ended:
                story_text += 1
            under_header = False
        elif wire_signature(s) or (ends_sentence(stripped[i - 1]) and trailer_starts(s)):
            ended = trailer_seen = True
            story_text = max(story_text, 1)  # a story with credits under it had text
        elif story_text and _closing_link(s, prose, starts[-1], i):
            ended = True
        after_blank = False
        i += 1
    starts.append(n)
    return [(a, b, k in dirty) for k, (a, b) in enumerate(itertools.pairwise(starts)) if b > a]


def _closing_link(s: str, prose: _ProseScan, start: int, i: int) -> bool:
    """A link line after a story's prose ("Read more: https://..."): it closes a newsletter's
    item, so a headline after it starts the next one."""
    return "://" in s and link_line(s) is not None and prose.since(start, i)


def _release_in_wire(stripped: Sequence[str], start: int, i: int) -> int | None:
    """Where a press release starts inside a wire story that a closing date ends: wire copy
    is not dated at its end, a release is. The release opens the first paragraph after the
    dateline's that names, at its start, someone the story has not named ("Himalayan Bank
    Limited has reported ..." after a story about an airline); None if no paragraph does."""
    opening = [k for k in range(start, min(i, start + 4)) if stripped[k]][:2]
    if len(opening) < 2 or not _opens_wire_story(stripped[opening[1]]):
        return None
    if not _another_day(dateline_day(stripped[opening[1]]), stripped[i]):
        return None  # the wire story's own date, pasted under it
    named = set(f"{stripped[opening[0]]} {stripped[opening[1]]}".split())
    for k in range(opening[1] + 1, i):
        s = stripped[k]
        if not s:
            continue
        if not stripped[k - 1] and is_prose(s):
            name = _opening_name(s)
            if name is not None and not set(name.split()) <= named:
                return k
        named.update(s.split())
    return None


def _another_day(day: str | None, closing: str) -> bool:
    """Whether a closing date names another day than the dateline's ("April 3, 2026" under
    "Kathmandu, April 2 (RSS): ")."""
    first = read_free_date(day) if day else None
    last = read_free_date(closing)
    if first is None or last is None or first.moment is None or last.moment is None:
        return False
    return (first.moment.month, first.moment.day) != (last.moment.month, last.moment.day)


def _opening_name(text: str) -> str | None:
    """The name a paragraph opens with: two or more capitalised words ("Himalayan Bank")."""
    words = text.split(None, 4)[:4]
    run = 0
    while run < len(words) and words[run][:1].isupper() and words[run].isalpha():
        run += 1
    return " ".join(words[:run]) if run >= 2 else None


def _after_text(stripped: Sequence[str], i: int) -> bool:
    """Whether the last line before line `i` closes a sentence: a date there closes a story,
    where a date under a byline or a "Reporting from" line is the story's furniture."""
    k = i - 1
    while k >= 0 and not stripped[k]:
        k -= 1
    return k >= 0 and ends_sentence(stripped[k])


_LOOK_BACK = 40  # lines above a closing date where the story's prose is counted


def _prose_paragraphs(stripped: Sequence[str], start: int, i: int) -> int:
    """Paragraphs of prose or sentences above line `i` in the story from `start` (up to two, in
    the last few lines): a date under one paragraph is a standfirst's, not a closing date."""
    found = 0
    for k in range(i - 1, max(start, i - _LOOK_BACK) - 1, -1):
        s = stripped[k]
        if s and (k == start or not stripped[k - 1]) and (ends_sentence(s) or is_prose(s)):
            found += 1
            if found >= 2:
                break
    return found


def _may_end_story(
    lines: Sequence[str], stripped: Sequence[str], prose: _ProseScan, start: int, i: int
) -> bool:
    """Whether a headline with furniture at line `i` may start a story: a header block or a
    wire stamp always may; a web headline only once the story before it has prose, so a
    site's name over a byline is not taken for the next story."""
    if is_header_line(stripped[i]) or (i + 1 < len(lines) and is_wire_stamp(lines[i + 1])):
        return True
    return prose.since(start, i)


class _ProseScan:
    """Whether the lines from `start` up to `i` hold prose, each line tested once while the
    story's start stays put: a file of many headlines over bylines and no prose would
    otherwise be scanned again from its top at every headline."""

    def __init__(self, stripped: Sequence[str]) -> None:
        self._stripped = stripped
        self._start = self._end = 0
        self._found = False

    def since(self, start: int, i: int) -> bool:
        if start != self._start or i < self._end:
            self._start, self._end, self._found = start, start, False
        if not self._found:
            self._found = any(_is_text(self._stripped[k]) for k in range(self._end, i))
        self._end = max(self._end, i)
        return self._found


def _is_text(line: str) -> bool:
    """Prose that is a story's text, not a notice in sentences ("We use cookies ...")."""
    return is_prose(line) and line_kind(line) == "text"


def wire_signature(line: str) -> bool:
    """A wire story's closing "Reuter" line."""
    return line in ("Reuter", "REUTER", "reuter")


def _confirmed_start(
    lines: Sequence[str],
    stripped: Sequence[str],
    i: int,
    is_boilerplate: Callable[[str], bool],
    looks: dict[str, str],
) -> int | None:
    """Where a new story's furniture ends, when a story clearly starts at line `i`; else None."""
    line = lines[i]
    if i + 1 < len(lines) and is_wire_stamp(lines[i + 1]):
        return i + 2
    if is_header_line(line):
        size = header.block_size(lines, i)
        if size:
            return i + size
        # A `Title:` line opens a story even with the story's text right under it.
        return i if header.is_title_line(line) else None
    after = stripped[i + 1] if i + 1 < len(lines) else ""
    # "HEADLINE" over "CITY, Feb 27 (Reuters) - ...", right under it or after a blank line.
    if _opens_wire_story(after) and is_headline(line):
        return i + 1
    if not after and i + 2 < len(lines) and _opens_wire_story(stripped[i + 2]):
        return i + 1 if is_headline(line) else None
    below = stripped[i + 2] if i + 2 < len(lines) else ""
    if after and not is_boilerplate(after) and not _furniture_under(after, below):
        return None  # a headline stands alone; this is the first line of a wrapped paragraph
    if not is_headline(line):
        return None
    skip = _furniture_end(stripped, i, is_boilerplate, looks)
    # An agency's name or a label over a byline is furniture, not a new story's headline.
    return skip if skip is None or line_kind(line) == "text" else None


def _furniture_end(
    stripped: Sequence[str], i: int, is_boilerplate: Callable[[str], bool], looks: dict[str, str]
) -> int | None:
    """Where the furniture under the headline at line `i` ends: after the headline repeated,
    or at the text after a date line; None when neither comes soon. `looks` keeps each line's
    `_look_under`: the lines under one headline are asked again under the next (a column of
    figures, one a paragraph, is a run of short lines each shaped as a headline)."""
    title = " ".join(stripped[i].split())
    seen = 0
    furniture = 0
    unknown = 0
    dated = False
    for j in range(i + 1, min(len(stripped), i + 4 * _CONFIRM_WINDOW)):
        s = stripped[j]
        if not s:
            continue
        if is_boilerplate(s):
            furniture += 1
            continue
        if same_words(s, title):
            return j + 1 if furniture or not unknown else None
        look = looks.get(s)
        if look is None:
            look = looks[s] = _look_under(s)
        if look == "date":
            dated = dated or not unknown
            furniture += 1
        elif look == "furniture":
            furniture += 1
        else:
            if dated:
                return j
            unknown += 1
            if unknown > 2:
                break
        seen += 1
        if seen >= _CONFIRM_WINDOW:
            break
    return None


def _look_under(line: str) -> str:
    """What a line under a headline is: "date", "furniture" (a caption or a byline) or ""."""
    if date_line(line) is not None:
        return "date"
    return "furniture" if is_caption(line) or byline_name(line) is not None else ""


def _opens_wire_story(line: str) -> bool:
    """A line opening with a wire dateline: in capitals, "LONDON, March 6 (Reuters) - ", or
    with an agency's tag, "Kathmandu, April 2 (RSS): "."""
    comma = line.find(",", 1, 60)
    if comma <= 0:
        return False
    place = line[:comma]
    if not (place.isupper() or (place[:1].isupper() and "(" in line[comma : comma + 40])):
        return False
    m = WIRE_DATELINE.match(line)
    return m is not None and (place.isupper() or "(" in m[0])


def _furniture_under(after: str, below: str) -> bool:
    """Whether the line right under a headline is its furniture: a byline (the reader's rule,
    in any language), a labelled date, a caption, or a whole date with its year right over
    prose ("June 7, 2026" between each item of a newsletter and its text)."""
    if byline_name(after) is not None:
        return True
    if _FURNITURE_START.match(after) is not None and (_labelled_date(after) or is_caption(after)):
        return True
    if after[-1] == ")" and is_caption(after):
        return True
    return (
        len(after) <= _DATE_UNDER
        and YEAR.search(after) is not None
        and is_prose(below)
        and date_line(after) is not None
    )


_DATE_UNDER = 40  # characters of a date alone under a headline


def _labelled_date(line: str) -> bool:
    if _DATE_LABEL_START.match(line) is None:
        return False
    found = date_line(line)
    return found is not None and bool(found[0])


def _starts_after_separator(stripped: Sequence[str], i: int, *, in_wire: bool) -> bool:
    """A divider ends a story only when a story start follows it; wire copy uses dividers
    between items of one story, so there only a header block or a wire stamp counts."""
    n = len(stripped)
    while i < n and not stripped[i]:
        i += 1
    if i >= n:
        return False
    if is_header_line(stripped[i]) or (i + 1 < n and is_wire_stamp(stripped[i + 1])):
        return True
    alone = i + 1 >= n or not stripped[i + 1]
    return not in_wire and alone and is_headline(stripped[i])


def _clean(story: Sequence[str], is_boilerplate: Callable[[str], bool]) -> list[str]:
    """The story without boilerplate and dividers; its headline is kept whatever it says, and
    so is a line that opens a trailer, for the reader to drop with the lines after it."""
    headline = next((line.strip() for line in story if line.strip()), "")
    kept: list[str] = []
    for line in story:
        s = line.strip()
        if (
            s
            and (is_boilerplate(s) or is_divider(s))
            and not (s == headline and _is_headline_of(story, headline))
            and not trailer_starts(s)  # "Related Articles": the reader drops what follows too
            and not is_link_heading(s)  # "Read also": and so the links under it
        ):
            continue
        kept.append(line.rstrip())
    return _trim(kept)


def _trim(story: list[str]) -> list[str]:
    """The story without blank lines around it."""
    start, end = 0, len(story)
    while start < end and not story[start].strip():
        start += 1
    while end > start and not story[end - 1].strip():
        end -= 1
    return story[start:end] if (start, end) != (0, len(story)) else story


def _is_headline_of(story: Sequence[str], line: str) -> bool:
    """Whether `line` is the story's headline: repeated after the furniture, or over a stamp."""
    places = [k for k, text in enumerate(story) if text.strip() == line]
    return len(places) > 1 or (places[0] + 1 < len(story) and is_wire_stamp(story[places[0] + 1]))


def _parse_story(story: Sequence[str], suffix: str) -> Parsed:
    if markdown.detect(story, suffix):
        return markdown.parse(story)
    outer: Parsed | None = None
    if header.detect(story, suffix):
        outer = header.parse(story)
        story = _trim(list(outer.rest))
    if outer is not None and outer.title and wire.opens_with_dateline(story):
        # Wire copy under a header block that names it: its text, read as wire copy is.
        parsed = wire.parse_text(story)
    else:
        inner = next((f for f in _BODY_FORMATS if f.detect(story, suffix)), web)
        if not story:
            parsed = Parsed(format=inner.NAME)
        elif inner is press:
            parsed = press.parse(story, titled=outer is not None and outer.title is not None)
        else:
            parsed = inner.parse(story)
    if outer is None:
        return parsed
    blocks = parsed.blocks
    if outer.title and not blocks and parsed.title:
        # A one-line body under a titled header is the story's text, not a second headline.
        blocks = (Block(kind="p", lines=(parsed.title,)),)
    return Parsed(
        format=outer.format,
        title=outer.title or parsed.title,
        dates=outer.dates + parsed.dates,
        blocks=blocks,
        place=parsed.place,
        author=outer.author or parsed.author,
        link=outer.link or parsed.link,
        source_name=outer.source_name or parsed.source_name,
        declared_topics=outer.declared_topics or parsed.declared_topics,
        roles=parsed.roles,
    )


def _to_entry(
    parsed: Parsed, text: str, *, config: Config, zone: ZoneInfo, now: datetime
) -> Entry | None:
    blocks = parsed.blocks
    title = parsed.title
    if not title or not blocks:
        return None
    if config.title_case and title.upper() == title:
        title = title_case(title)
    body = "\n\n".join("\n".join(b.lines) for b in blocks)
    # Leading bullet points are the standfirst: they make the summary, not the content.
    standfirst = len(blocks) > 1 and blocks[0].kind in ("ul", "standfirst")
    content = parsed.content_html or render_html(blocks[1:] if standfirst else blocks)
    published = None
    for date_text in parsed.dates:
        published = parse_date(date_text, zone=zone, now=now, context=text)
        if published is not None:
            break
    if published is not None and published > now:
        log.debug("future date dropped title=%s published=%s", title, published.isoformat())
        published = None
    return Entry(
        title=title,
        published=published,
        summary=summarize(blocks, config.summary_length),
        content=content,
        body=body,
        fingerprint=fingerprint(title, body),
        format=parsed.format,
        place=parsed.place,
        author=parsed.author,
        link=parsed.link,
        source_name=parsed.source_name,
        declared_topics=parsed.declared_topics,
    )


def fingerprint(title: str, body: str) -> str:
    """sha256 of the title and body with whitespace collapsed: equal stories, equal prints."""
    if len(title) + len(body) <= _WHOLE:
        return hashlib.sha256(" ".join(f"{title}\n{body}".split()).encode("utf-8")).hexdigest()
    digest = hashlib.sha256()
    for piece in collapsed_pieces((title, body)):
        digest.update(piece.encode("utf-8"))
    return digest.hexdigest()


_WHOLE = 65536  # a story longer than this is hashed a piece at a time


def render_html(blocks: Sequence[Block]) -> str:
    """Blocks as HTML: `<p>`, `<ul><li>`, `<pre>` and `<h2>`, all text escaped."""
    parts: list[str] = []
    for block in blocks:
        if block.kind == "ul":
            items = "".join(f"<li>{html.escape(item, quote=False)}</li>" for item in block.lines)
            parts.append(f"<ul>{items}</ul>")
        elif block.kind == "pre":
            parts.append(f"<pre>{html.escape(chr(10).join(block.lines), quote=False)}</pre>")
        elif block.kind == "h":
            parts.append(f"<h2>{html.escape(block.lines[0], quote=False)}</h2>")
        else:
            parts.append(f"<p>{html.escape(' '.join(block.lines), quote=False)}</p>")
    return "\n".join(parts)


def summarize(blocks: Sequence[Block], length: int) -> str:
    """The leading bullet points joined as sentences, else the first paragraph; cut to `length`."""
    text = ""
    for block in blocks:
        if block.kind == "standfirst":
            text = block.lines[0]
            break
        if block.kind == "ul":
            text = " ".join(
                item if _END_PUNCTUATION.search(item) else f"{item}." for item in block.lines
            )
            break
        if block.kind in ("p", "pre"):
            # Only the opening is summarized: the dateline, then `length` characters.
            text = _strip_dateline(collapse_spaces(block.lines, limit=length + _SUMMARY_SPAN))
            if text:
                break
    return shorten(text, length)


_SUMMARY_SPAN = 400  # more than any dateline takes


def _strip_dateline(text: str) -> str:
    m = dateline(text)
    end = m.end() if m is not None else agency_tag(text)
    if not end:
        return text
    rest = text[end:].lstrip()
    return rest[:1].upper() + rest[1:]


def shorten(text: str, length: int) -> str:
    """`text` if it fits, else cut at the last sentence end, else a word with "…"."""
    if len(text) <= length:
        return text
    best = 0
    for m in _SUMMARY_SENTENCE_END.finditer(text, 0, length + 1):
        if m.end() <= length:
            best = m.end()
    if best >= length // 3:
        return text[:best]
    cut = text[: length - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-\u2013—") + "…"


def parse_date(text: str, *, zone: ZoneInfo, now: datetime, context: str = "") -> datetime | None:
    """An aware UTC datetime for a date text; local times are read in `zone`."""
    m = match_date(text)
    try:
        if m is None:
            free = read_free_date(text)
            return None if free is None else _from_free(free, zone=zone, now=now, context=context)
        return _from_match(m, zone=zone, now=now, context=context)
    except (ValueError, OverflowError):
        return None  # "31 February", "2026-13-01" or a year out of range: no date


def _from_free(free: FreeDate, *, zone: ZoneInfo, now: datetime, context: str) -> datetime | None:
    if free.ago_minutes is not None:
        return (now - timedelta(minutes=free.ago_minutes)).replace(second=0, microsecond=0)
    local = free.moment
    if local is None:
        return None
    if not free.year_known:
        local = local.replace(year=_context_year(local.month, local.day, now, context))
    if free.offset_minutes is not None:
        return (local - timedelta(minutes=free.offset_minutes)).replace(tzinfo=UTC)
    return local.replace(tzinfo=zone).astimezone(UTC)


def _from_match(m: re.Match[str], *, zone: ZoneInfo, now: datetime, context: str) -> datetime:
    if m["wyear"]:
        month = _month(m["wmon"])
        return datetime(
            int(m["wyear"]),
            month,
            int(m["wday"]),
            int(m["whour"]) % 24,
            int(m["wmin"]),
            int(m["wsec"]),
            tzinfo=UTC,
        )
    if m["iyear"] and (m["ihour"] or not m["hour"]):
        naive = datetime(
            int(m["iyear"]),
            int(m["imon"]),
            int(m["iday"]),
            int(m["ihour"] or 0),
            int(m["imin"] or 0),
            int(m["isec"] or 0),
        )
        offset = m["ioff"]
        if offset:
            if offset in ("z", "Z"):
                return naive.replace(tzinfo=UTC)
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return (naive - sign * delta).replace(tzinfo=UTC)
        return naive.replace(tzinfo=zone).astimezone(UTC)
    if m["iyear"]:  # "2026-06-09 10:42 GMT": the time with its zone, read as for other forms
        day, month, year = int(m["iday"]), int(m["imon"]), int(m["iyear"])
    elif m["dyear"]:
        day, month, year = int(m["dday"]), _month(m["dmon"]), int(m["dyear"])
    else:
        day, month = int(m["mday"]), _month(m["mmon"])
        year = int(m["myear"]) if m["myear"] else _context_year(month, day, now, context)
    hour, minute, second = _time(m)
    local = datetime(year, month, day, hour, minute, second)
    if m["zone"]:
        return local.replace(tzinfo=UTC)
    return local.replace(tzinfo=zone).astimezone(UTC)


def _month(name: str) -> int:
    return _MONTH_NUMBERS[name[:3].lower()]


def _time(m: re.Match[str]) -> tuple[int, int, int]:
    if not m["hour"]:
        return 0, 0, 0
    hour = int(m["hour"])
    ampm = (m["ampm"] or "").lower()
    if ampm.startswith("p") and hour < 12:
        hour += 12
    elif ampm.startswith("a") and hour == 12:
        hour = 0
    return hour, int(m["minute"]), int(m["second"] or 0)


def _context_year(month: int, day: int, now: datetime, context: str) -> int:
    """The year of a full date elsewhere in the text, else `now`'s, never making it future."""
    for m in DATE.finditer(context):
        year = m["wyear"] or m["iyear"] or m["dyear"] or m["myear"]
        if year:
            return int(year) - (int(year) == now.year and (month, day) > (now.month, now.day))
    return now.year - ((month, day) > (now.month, now.day))


def title_case(title: str) -> str:
    """An ALL-CAPS headline in title case, keeping acronyms, tickers and initials upper case."""
    words = title.split(" ")
    out: list[str] = []
    for index, word in enumerate(words):
        out.append(_title_word(word, first=index == 0, last=index == len(words) - 1))
    return " ".join(out)


def _title_word(word: str, *, first: bool, last: bool) -> str:
    core = word.strip("<>()\"'\u201c\u201d\u2018\u2019,:;!?")
    if not core or not any(c.isalpha() for c in word):
        return word
    if (
        word.startswith("<")
        or "." in core.rstrip(".")
        or core in _ACRONYMS
        or (len(core) <= 6 and core.isalpha() and not (set(core) & _VOWELS))
    ):
        return word
    lower = word.lower()
    if not first and not last and core.lower() in _SMALL_WORDS:
        return lower
    return "-".join(part[:1].upper() + part[1:] for part in lower.split("-"))


_ACRONYMS = frozenset(
    [
        "US",
        "USA",
        "UK",
        "EC",
        "EU",
        "UN",
        "IMF",
        "OPEC",
        "GATT",
        "SEC",
        "FDA",
        "FTC",
        "ICO",
        "NATO",
        "OECD",
        "GDP",
        "GNP",
        "CEO",
        "CFO",
        "IPO",
        "AG",
        "NV",
        "SA",
        "SPA",
        "PLC",
        "BP",
        "IBM",
        "ITT",
        "GM",
        "AT&T",
        "ASEAN",
        "SCO",
        "RATS",
        "TTP",
        "PTI",
        "FO",
        "AP",
        "AFP",
        "BBC",
        "UAE",
        "USSR",
        "GCC",
        "ECB",
        "BOJ",
    ]
)
