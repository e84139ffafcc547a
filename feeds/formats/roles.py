"""The parts of a clipping: every line of a story gets a role from its look and its place.

A line's look (`line_kind`) comes from the known phrases (`phrases.toml`), the date forms and
a few shapes (a byline, a caption credit); its place decides the rest: what stands before the
headline is furniture, what stands between the headline and the first paragraph of prose is
the story's furniture (byline, date lines, captions, a standfirst), prose is body, and from a
trailer phrase on, the lines after the text (credits, copyright, links) leave the story.
Prose is told from names, menus and labels by its length, its closing punctuation and its
share of common words, as jusText judges paragraphs.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from feeds.formats import (
    BULLET,
    DIGIT,
    WEB_DATELINE,
    Block,
    Parsed,
    Role,
    date_line,
    dateline,
    dateline_day,
    dateline_place,
    ends_sentence,
    is_caption,
    is_headline,
    is_name,
    link_line,
    prose_blocks,
    title_from_prose,
)
from feeds.formats.dates import date_runs, may_hold_date
from feeds.formats.phrases import LONGEST_TRAILER_LINE, load_phrases, opens_on, trailer_starts

Kind = Literal["furniture", "caption", "date", "byline", "trailer", "text"]

# The role a line has for its look alone, above the headline or under it.
_FURNITURE_ROLE: dict[Kind, Role] = {
    "furniture": "furniture",
    "caption": "caption",
    "date": "date",
    "byline": "byline",
    "trailer": "furniture",
    "text": "furniture",
}
_FURNITURE_KINDS = frozenset(("furniture", "caption", "date", "byline"))
_STANDFIRST_WORDS = 8  # a standfirst without a full stop is at least this long
_HEADLINE_WORDS = 4  # a line under which a standfirst stands is at least this long
_UNSPACED_PROSE = 40  # characters of a line without spaces (Japanese, Chinese) that make prose
_HEADLINE_SPAN = 400  # characters of a line that may be a headline, spaces included
_META_SPAN = 160  # characters of the longest line of furniture parts with a date among them
_EDGE = 1000  # characters at each end of a line that its look depends on
_PROSE_WORDS = 20  # a line or paragraph this long is prose, whatever else it looks like
_RUNNING_WORDS = 8  # more words than this make a line of running text
_LABEL_WORDS = 4  # a line of this many words or fewer may be a label
_ZONE_LINES = 15  # non-blank lines under a headline where its furniture may stand
_PROSE_AHEAD = 4  # short lines after a story's furniture, before its prose, are furniture too
_TOP_LINES = 40  # non-blank lines from the top where a headline's byline or date is looked for
_CANDIDATES = 4  # short lines right above that byline or date among which the headline is
_REPEAT_WINDOW = 12  # non-blank lines from the top where a repeated headline is looked for
_BREADCRUMB_SIGNS = ">\u203a\u00bb/|"
_BREADCRUMB = re.compile(rf"\s+[{_BREADCRUMB_SIGNS}]\s+")
# A dated path in a page's address: "/2026/11/23/", "/2026/11/23-slug".
_ADDRESS_DAY = re.compile(
    r"/(?P<year>(?:19|20)\d{2})/(?P<month>0?[1-9]|1[0-2])/(?P<day>0?[1-9]|[12]\d|3[01])(?=[/-])"
)
_NAME_ONLY = re.compile(r"^[A-Z][\w.\u2019'-]+(?:\s+[A-Z][\w.\u2019'-]+){1,3}$")
# " on " before a date: "Posted by NAME on March 3, 2026 at 4:15 pm"
_ON_DATE = r"\s+on\s+(?=(?:[^\W\d_]+\.?\s+)?\d)"
_SEGMENT = re.compile(
    r"\s*(?:\||\u3000|\s[-\u2013\u2014\u00b7\u2022]\s|\s(?=[Bb]y\s)|" + _ON_DATE + r")\s*"
)
_NAME_WORD = re.compile(r"^[A-Z\u00c0-\u024f][\w.\u2019'-]*,?$")
_BYLINE_END = re.compile(r"\s+[\u00b7|\u2022]\s+|\s+[-\u2013\u2014]\s+|" + _ON_DATE)
_AUTHOR_IN_PLACE = re.compile(
    r"^(?P<name>[A-Z][\w.\u2019'-]+(?:\s+[A-Z][\w.\u2019'-]+){1,3})\s+in\s+"
    r"[A-Z][\w.\u2019'-]+(?:\s+[A-Z][\w.\u2019'-]+){0,2}$"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """A story's lines with their roles, and what the furniture said."""

    roles: tuple[Role, ...]  # one per line of the story
    title: str | None  # the headline, None when the story opens with prose
    dates: tuple[str, ...]  # date texts, best first
    author: str | None


def read_roles(lines: Sequence[str]) -> Reading:
    """Give every line of one story its role."""
    kinds = _Kinds(lines)
    roles: list[Role] = ["blank" if not line.strip() else "body" for line in lines]
    filled = [k for k, line in enumerate(lines) if line.strip()]
    if not filled:
        return Reading(roles=tuple(roles), title=None, dates=(), author=None)
    notices = _top_notices(lines, kinds, filled)
    if notices:
        for k in notices:
            roles[k] = "furniture"
        filled = [k for k in filled if k > notices[-1]]
        if not filled:
            return Reading(roles=tuple(roles), title=None, dates=(), author=None)
    head = _headline(lines, kinds, roles, filled)
    title = None
    if head is not None:
        end = head
        while end + 1 < len(lines) and _continues_headline(lines[end], lines[end + 1]):
            end += 1
            roles[end] = "headline"
        title = " ".join(" ".join(lines[head : end + 1]).split())
        body = _zone(lines, kinds, roles, filled, end, title)
        under = _headline_under_name(lines, kinds, roles, (head, end), body, title)
        if under is not None:
            head, body = under
            title = " ".join(lines[head].split())
    else:
        body = next((k for k in filled if roles[k] == "body"), len(lines))
    _body(lines, kinds, roles, body)
    dates = _dates(lines, roles, head)
    author = next(
        (name for k in filled if roles[k] == "byline" for name in [_author(lines[k])] if name),
        None,
    )
    return Reading(roles=tuple(roles), title=title, dates=dates, author=author)


def _top_notices(lines: Sequence[str], kinds: _Kinds, filled: list[int]) -> list[int]:
    """The lines of the paragraphs over a story that open as a trailer does, before any prose
    ("Contact:" / NAME / phone / e-mail over a release's headline): notices, not its parts."""
    notices: list[int] = []
    n = 0
    while n < len(filled) and n < _TOP_LINES and kinds[filled[n]] == "trailer":
        end = n
        while end + 1 < len(filled) and filled[end + 1] == filled[end] + 1:
            end += 1
        if any(is_prose(lines[k]) for k in filled[n : end + 1]):
            break
        notices.extend(filled[n : end + 1])
        n = end + 1
    return notices


class _Kinds:
    """Each line's look (`line_kind`), found when first asked: the text of a long story is
    mostly asked nothing."""

    __slots__ = ("_known", "_lines")

    def __init__(self, lines: Sequence[str]) -> None:
        self._lines = lines
        self._known: dict[int, Kind] = {}

    def __getitem__(self, k: int) -> Kind:
        kind = self._known.get(k)
        if kind is None:
            line = self._lines[k]
            kind = line_kind(line) if line.strip() else "text"
            self._known[k] = kind
        return kind


def line_kind(line: str) -> Kind:
    """What a line looks like on its own, before its place is known."""
    s = line.strip()
    if len(s) > 2 * _EDGE:
        # Every test looks at a line's start or its end: the middle of a long one is left out,
        # so a megabyte line is never cut into words.
        s = f"{s[:_EDGE]} {s[-_EDGE:]}"
    low = " ".join(s.lower().split())
    return "text" if _plain_text(s, low) else _look(s, low)


def _look(s: str, low: str) -> Kind:
    """`line_kind` by every test in turn, for the stripped line `s` (`low`: lower case, single
    spaces)."""
    phrases = load_phrases()
    if (
        low.rstrip(" :|\u00bb\u203a>") in phrases.furniture_lines
        or phrases.furniture_starts.match(low)
        or (len(low.split()) <= 5 and low.endswith(phrases.furniture_ends))
        or _is_breadcrumb(s, low)
        or _follow_us(low)
        or ("://" in s and link_line(s) is not None)  # the page's address, copied with it
    ):
        return "furniture"
    if (
        phrases.caption_starts.match(low)
        or is_caption(s)
        or _ends_with_credit(low)
        or _credit_shape(low)
    ):
        return "caption"
    if byline_name(s) is not None or low in phrases.agencies or _agency_credit(low):
        return "byline"
    if meta_date(s) is not None:
        return "date"
    if trailer_starts(s) or (len(low) < 200 and _any_of(phrases.trailer_inside).found(low)):
        return "trailer"
    return "text"


def _plain_text(s: str, low: str) -> bool:
    """True when no test of `line_kind` can find anything in the line: a long line whose first
    word opens no phrase, with no credit (phrase or shape), trailer phrase or breadcrumb in it,
    no date, no caption's look and no agency closing a short line. Most lines of a story's
    text, told apart in a few look-ups and one scan; False says nothing (the tests decide)."""
    signs = _signs()
    space = low.find(" ")
    first = low[:space] if space > 0 else low
    return not (
        (low.count(" ") < _FEW_WORDS and low.endswith(signs.furniture_ends))
        or opens_on(first, signs.firsts)
        or (not low[:1].isalnum() and low[:1] in signs.firsts)
        or (len(s) <= LONGEST_TRAILER_LINE and s.lower().rstrip(" :") in signs.trailer_lines)
        or low in signs.lines
        or low.rstrip(" :|\u00bb\u203a>") in signs.lines
        or signs.inside.found(low)
        # a breadcrumb's sign between words (`_BREADCRUMB`: `low` has single spaces)
        or " > " in low
        or " \u203a " in low
        or " \u00bb " in low
        or " / " in low
        or "|" in low
        or is_caption(s)
        or low.endswith(")")  # a credit's shape: "(PNA photo by NAME)"
        or "\u00a9" in low
        or ("/" in low and low.count(" ") < _CREDIT_WORDS)  # "Gallo Images/Beeld/NAME"
        or (low.count(" ") < _CREDIT_WORDS and low[low.rfind(" ") + 1 :] in signs.lines)
        or "://" in low  # the page's address (`link_line`), under a label of any length
        or (_may_be_dated(s) and not _on_dateline(s))  # as `meta_date` reads them
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Signs:
    """What `_plain_text` looks for, gathered once from the phrases."""

    firsts: frozenset[str]  # the first words (or signs) of every phrase a line may open with
    lines: frozenset[str]  # whole lines of furniture, and the agencies' names
    trailer_lines: frozenset[str]
    furniture_ends: tuple[str, ...]  # words that end a short label of furniture
    inside: _AnyOf  # a credit or a trailer phrase, anywhere


_FEW_WORDS = 5  # a line of this many words or fewer may be a label ending in a furniture word


@functools.cache
def _signs() -> _Signs:
    phrases = load_phrases()
    starts = (
        phrases.furniture_starts,
        phrases.caption_starts,
        phrases.byline_starts,
        phrases.trailer_starts,
        phrases.trailer_about,
    )
    inside = (*phrases.caption_credits, *phrases.trailer_inside)
    return _Signs(
        firsts=frozenset(word for start in starts for word in start.firsts) | phrases.follow,
        lines=phrases.furniture_lines | frozenset(phrases.agencies) | phrases.byline_after,
        trailer_lines=phrases.trailer_lines,
        furniture_ends=phrases.furniture_ends,
        inside=_any_of(inside),
    )


class _AnyOf:
    """Finds any of some phrases inside a text. The phrases are grouped by a sign each holds (a
    colon, a bracket, else its longest word), and a group's pattern runs only on a text that
    holds its sign: most texts hold none, and are turned away by a few substring tests rather
    than by a scan that tries every phrase at every position."""

    __slots__ = ("_groups",)

    def __init__(self, phrases: tuple[str, ...]) -> None:
        groups: dict[str, list[str]] = {}
        for phrase in phrases:
            sign = next((c for c in _PHRASE_SIGNS if c in phrase), None)
            groups.setdefault(sign or max(phrase.split(), key=len), []).append(phrase)
        self._groups = tuple(
            (sign, re.compile("|".join(map(re.escape, group)))) for sign, group in groups.items()
        )

    def found(self, text: str) -> bool:
        for sign, pattern in self._groups:
            if sign in text and pattern.search(text) is not None:
                return True
        return False


_PHRASE_SIGNS = ":("


@functools.cache
def _any_of(phrases: tuple[str, ...]) -> _AnyOf:
    """The finder of `phrases`, made once."""
    return _AnyOf(phrases)


def _follow_us(low: str) -> bool:
    """ "Follow NAME on Telegram", "Síguenos en Google News": a short line asking to follow."""
    phrases = load_phrases()
    space = low.find(" ")
    return (
        space > 0
        and low[:space].rstrip(":") in phrases.follow
        and low.count(" ") < _FOLLOW_WORDS
        and low.rstrip(" .!").endswith(phrases.networks)
    )


_FOLLOW_WORDS = 8


def _is_breadcrumb(s: str, low: str) -> bool:
    """ "Home > World > Asia": a trail of short links; "Unsubscribe | Manage preferences":
    known furniture side by side; "Phnom Penh Herald | Business": a site's name and its
    section, each a label of capitalised words (no "Key: value" pairs)."""
    parts = _BREADCRUMB.split(low)
    if len(parts) == 2:
        return all(part.strip() in load_phrases().furniture_lines for part in parts) or (
            ":" not in s and all(part and _is_label(part) for part in _BREADCRUMB.split(s))
        )  # "Penulis: NAME | Editor: NAME" is a byline
    return len(parts) >= 3 and all(0 < len(part.split()) <= 4 for part in parts)


def meta_date(line: str) -> tuple[str, str] | None:
    """(label, date text) for a date line, or a line of furniture parts with a date among them:
    "PTI | Updated: Mar 12, 2026, 14:05 IST", "NAME Published March 12, 2026", "Madrid - 10 mar
    2026 - 12:40 CET", "Publié le 09 mars 2026 à 11h32, modifié le 09 mars 2026 à 13h10".
    A line opening on a dated or tagged dateline ("SALVADOR, Feb 26 - Showers ...") is the
    first line of a story's text: its day is no date line's."""
    if not _may_be_dated(line) or _on_dateline(line):
        return None
    found = date_line(line)
    if found is not None:
        return found
    parts = [
        p.strip(" ,;()")
        for p in _SEGMENT.split(line.strip())
        for p in _at_labels(_after_place(_after_capitals(p)))
    ]
    for n, part in enumerate(parts):
        found = date_line(part)
        if found is None:
            continue
        # A date cut in two by a separator ("10 mar 2026 - 12:40 CET") is read whole.
        for more in parts[n + 1 :]:
            longer = date_line(f"{part} {more}")
            if longer is None:
                break
            part, found = f"{part} {more}", longer
        return found
    return None


def _may_be_dated(line: str) -> bool:
    """False when `meta_date` can find no date in `line`, told without cutting it into parts.
    A part is read as a date only when all its words are date words, so it lies in a run of
    them between two other words (`date_runs`); that run holds a digit and a month, a numeric
    date or an age (`may_hold_date`), and the part ends where the line, a separator or a
    label does. Most lines of prose that name a day ("the week ended February 22 were 155,221
    bags") have no such run."""
    if len(line) > _META_SPAN or DIGIT.search(line) is None or not may_hold_date(line):
        return False
    low = line.lower()
    if len(low) != len(line):
        return True  # a letter whose lower case is longer ("İ"): no shortcut
    labels = load_phrases().labels_inside
    for start, end in date_runs(low):
        if (
            DIGIT.search(low, start, end) is not None
            and may_hold_date(low[start:end])
            and (
                end == len(low)
                or _starts_in(_SEGMENT, low, start, end)
                or _starts_in(labels, low, start, end)
            )
        ):
            return True
    return False


def _starts_in(pattern: re.Pattern[str], text: str, start: int, end: int) -> bool:
    """Whether `pattern` is found in `text` from `start`, the match starting before `end`."""
    m = pattern.search(text, start)
    return m is not None and m.start() < end


def _after_capitals(text: str) -> str:
    """ "ISTANBUL Apr 14, 2026" -> "Apr 14, 2026": a place in capitals before a date."""
    words = text.split()
    n = 0
    while n < len(words) and len(words[n]) > 1 and words[n].rstrip(",").isupper():
        n += 1
    if n == 0 or n == len(words) or not words[n][:1].isalnum():
        return text
    phrases = load_phrases()
    if any(w.rstrip(",").lower() in phrases.label_words | phrases.zones.keys() for w in words[:n]):
        return text  # "UPDATED 10 March", "GMT": date words, not a place
    return " ".join(words[n:])


def _after_place(text: str) -> str:
    """ "Gaborone, 10 November 2026" -> "10 November 2026": a capitalised place and a comma
    before a date (a release's closing line)."""
    place, comma, rest = text.partition(",")
    if not comma or not is_name(place) or place.strip().lower() in load_phrases().weekdays:
        return text
    return rest.strip()


def _at_labels(text: str) -> list[str]:
    """`text` cut before each date label inside it ("NAME Published ...", "..., modifié le ...")."""
    cuts = [m.end() for m in load_phrases().labels_inside.finditer(text)]
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def byline_name(line: str) -> str | None:
    """The name(s) a byline gives ("By NAME and NAME Associated Press"), or None."""
    phrases = load_phrases()
    opening = phrases.byline_starts.match(line.lstrip())
    if opening is None:
        last = line[-1:]
        if last.isspace():
            last = line.rstrip()[-1:]
        # "NAME 기자": most lines end on another character, told in one look-up
        return _name_before_role(line) if last in phrases.byline_after_ends else None
    rest = line.strip()[len(opening) :].lstrip(" :")  # "Por: NAME"
    words = ["by", *_BYLINE_END.split(rest, 1)[0].split()]
    cut = next((n for n, w in enumerate(words) if n >= 2 and w.endswith(",")), None)
    if cut is not None and cut + 1 < len(words) and _after_name(words[cut + 1 :]):
        # "By NAME, g1 SP", "By NAME, Contributing Columnist": the name is first
        words = [*words[:cut], words[cut].rstrip(",")]
    if len(words) < 2 or len(words) > 14:
        return None
    if words[-1].endswith(",") or (
        len(words) > 3 and words[-2].endswith(",") and len(words[-1]) > 1
    ):
        words = _without_place(words)
    names = words[1:]
    if ends_sentence(line) and not names[-1].rstrip(".").isupper():
        return None
    links = phrases.byline_links
    if not all(_NAME_WORD.match(w) or w.lower() in links for w in names):
        return None
    if not _NAME_WORD.match(names[0]):
        return None
    return _without_agency(" ".join(names).rstrip(",")) or " ".join(names)


def _after_name(words: list[str]) -> bool:
    """Whether the words after a byline's name and its comma are no other name: an outlet in
    small letters ("g1 SP") or a person's role ("Contributing Columnist")."""
    roles = load_phrases().byline_roles
    return not _NAME_WORD.match(words[0]) or any(w.lower().strip(",.") in roles for w in words)


def _name_before_role(line: str) -> str | None:
    """ "김민지 기자": a name and the word after it that makes a byline (a reporter)."""
    after = load_phrases().byline_after
    words = line.split()
    if 2 <= len(words) <= _NAME_AND_ROLE and words[-1] in after:
        return " ".join(words[:-1])
    return None


_NAME_AND_ROLE = 4


def is_furniture(line: str) -> bool:
    """A page-furniture line around a headline: a date, a caption or a byline."""
    return date_line(line) is not None or is_caption(line) or byline_name(line) is not None


def opens_with_headline(group: Sequence[str]) -> bool:
    """Whether a paragraph is a headline alone, or a headline over furniture lines."""
    return is_headline(group[0]) and all(is_furniture(line) for line in group[1:])


def _without_place(words: list[str]) -> list[str]:
    """ "By NAME, CITY": a last part of one word after a comma is a place, not a name."""
    if len(words) > 3 and words[-2].endswith(","):
        return [*words[:-2], words[-2].rstrip(",")]
    return words


def _author(line: str) -> str | None:
    m = _AUTHOR_IN_PLACE.match(line.strip())
    return m["name"] if m is not None else byline_name(line)


def _without_agency(name: str) -> str:
    """The name less an agency closing it: "NAME Associated Press", "Daily Sabah with AA"."""
    low = name.lower()
    phrases = load_phrases()
    for agency in phrases.agencies:
        if low.endswith(" " + agency) or low.endswith("," + agency):
            kept = name[: len(name) - len(agency)].rstrip(" ,|")
            head, _, last = kept.rpartition(" ")
            return head if head and last.lower() in phrases.byline_links else kept
    return name


def _ends_with_credit(low: str) -> bool:
    """ "... near Kericho. Photograph: Daniel Otieno/AFP/Getty Images": a caption with a credit."""
    credits = load_phrases().caption_credits
    if not _any_of(credits).found(low):
        return False  # no credit anywhere: the common case, found in one scan
    for credit in credits:
        at = low.rfind(credit)
        if at > 0 and len(low[at + len(credit) :].split()) <= 6:
            return True
    return False


_PARENS = re.compile(r"\(([^()]{1,80})\)$")
_SLASHED = re.compile(r"^[^\W\d_][^/]{0,30}(?:/[^\W\d_][^/]{0,30}){2,}$")
_CREDIT_WORDS = 8  # words in a closing "(...)" credit, or after a "©" closing a caption


def is_credit_line(low: str) -> bool:
    """ "gallo images/beeld/deaan vivier": a bare credit, names cut by slashes."""
    return "/" in low and len(low.split()) <= 6 and _SLASHED.match(low) is not None


def _credit_shape(low: str) -> bool:
    """A caption known by its credit's shape: "... (PNA photo by NAME)", "... | Photo | NAME |
    AGENCY", "... ministres. © Belga", or a bare credit line."""
    words = load_phrases().credit_words
    if low.endswith(")"):
        m = _PARENS.search(low)
        parts = m[1].replace("/", " ").split() if m is not None else []
        if len(parts) <= _CREDIT_WORDS and any(w.strip(":,.") in words for w in parts):
            return True
    if "|" in low and any(part.strip() in words for part in low.split("|")[1:]):
        return low.count("|") >= 2
    if "\u00a9" in low:
        before, _, after = low.rpartition("\u00a9")
        if before.rstrip()[-1:] in ".!?" and 0 < len(after.split()) <= _CREDIT_WORDS:
            return True
    return is_credit_line(low)


def is_prose(line: str) -> bool:
    """A line of running text: long enough, and a sentence or full of common words."""
    words = line.split(None, _PROSE_WORDS)  # enough to know it is long
    if len(words) >= _PROSE_WORDS:
        return True
    if len(words) < 7:
        # Scripts written without spaces: a long line or a closed sentence is prose.
        s = line.strip()
        return len(words) <= 2 and (len(s) >= _UNSPACED_PROSE or s.endswith(("\u3002", "\uff0e")))
    if ends_sentence(line):
        return True
    common = load_phrases().prose_words
    shared = sum(w.lower().strip(",;:\"'\u201c\u201d") in common for w in words)
    return len(words) >= 12 and shared >= 0.2 * len(words)


def _headline(
    lines: Sequence[str], kinds: _Kinds, roles: list[Role], filled: list[int]
) -> int | None:
    """The headline's line (furniture above it marked), or None when prose comes first.

    A headline repeated after the furniture is the headline. Else, where a byline or a date
    line stands near the top, the headline is among the short lines above it: the longest,
    not counting a long line under another that is its standfirst (the others are a site's
    name, navigation, a section). Else it is the first short line, unless it is a section
    label (three capitalised words at most) over a longer line. A story whose first line is
    the first line of its text has none.
    """
    if kinds[filled[0]] == "text" and _opens_text(lines, filled[0]):
        return None
    texts = [
        " ".join(lines[k].split()) if len(lines[k]) <= _HEADLINE_SPAN else ""  # not a headline
        for k in filled[:_REPEAT_WINDOW]
    ]
    for n, k in enumerate(filled[:6]):
        if texts[n] in texts[n + 1 :] and kinds[k] == "text" and is_headline(lines[k]):
            return _mark_headline(roles, kinds, filled[:n], k)
    page = _page_title(texts[0])
    if page is not None and page in texts[1:]:
        # The page's title copied over it, "HEADLINE | Site", then the headline itself.
        n = texts.index(page, 1)
        if kinds[filled[n]] == "text" and is_headline(lines[filled[n]]):
            return _mark_headline(roles, kinds, filled[:n], filled[n])
    above = _above_furniture(lines, kinds, filled)
    if above:
        head = max(
            (k for n, k in enumerate(above) if not _standfirst_under(lines, above, n)),
            key=lambda k: len(lines[k].split()),
        )
        return _mark_headline(roles, kinds, [j for j in filled if j < head], head)
    for n, k in enumerate(filled):
        kind = kinds[k]
        if kind != "text":
            if n > 8:
                return None
            roles[k] = _FURNITURE_ROLE[kind]
            continue
        if not is_headline(lines[k]) or _opens_text(lines, k):
            return None
        following = filled[n + 1] if n + 1 < len(filled) else None
        if (
            following is not None
            and _is_label(lines[k])
            and kinds[following] == "text"
            and is_headline(lines[following])
            and len(lines[following].split()) > len(lines[k].split())
            and not is_prose(lines[following])
        ):
            roles[k] = "furniture"  # a section label over the headline
            continue
        roles[k] = "headline"
        return k
    return None


def _page_title(text: str) -> str | None:
    """ "HEADLINE | Site", "HEADLINE - Site": a browser's title of a page, less the site."""
    m = _PAGE_TITLE.match(text)
    return m["headline"] if m is not None else None


_PAGE_TITLE = re.compile(r"^(?P<headline>.+?)\s+[|\u2013\u2014-]\s+[^|\u2013\u2014]{2,60}$")


def _on_dateline(line: str) -> bool:
    """A line opening on a dated or tagged dateline ("SALVADOR, Feb 26 - Showers continued",
    "PARIS (AFP) - ..."): the first line of a story's text, not a date line."""
    m = dateline(line.strip())
    return m is not None and (m.re is not WEB_DATELINE or m["tag"] is not None)


def _opens_text(lines: Sequence[str], k: int) -> bool:
    """Whether line `k`, short as it may be, is the first line of the text: it opens on a dated
    or tagged dateline ("SALVADOR, Feb 26 - Showers continued", "PARIS (AFP) - ..."), or the
    lines wrapped under it make a paragraph of prose with it (a hard-wrapped text; a headline
    wrapped once stays short and ends no sentence)."""
    if _on_dateline(lines[k]):
        return True
    end = k
    while end + 1 < len(lines) and _continues_line(lines[end], lines[end + 1]):
        end += 1
    words = sum(len(line.split(None, _PROSE_WORDS)) for line in lines[k : end + 1])
    return end > k and (ends_sentence(lines[end]) or words >= _PROSE_WORDS)


def _continues_line(line: str, following: str) -> bool:
    """Whether `following` carries on `line` as a wrapped line does, right under a line that
    ends on no stop: it opens in lower case, or `line` ends on a joining word ("... said it
    filed with the" / "Securities and Exchange Commission ...")."""
    s = following.strip()
    end = line.rstrip()
    if not s or not end or end[-1] in ".!?:;":
        return False
    return s[0].islower() or end.rsplit(None, 1)[-1].lower() in load_phrases().connectors


def _continues_headline(line: str, following: str) -> bool:
    """Whether `following` is the rest of a headline wrapped after `line` ("... rallies in
    Khyber Pakhtunkhwa" / "to demand release of Imran Khan")."""
    s = following.strip()
    return (
        _continues_line(line, following)
        and len(line.split()) >= 3
        and is_headline(s)
        and not is_prose(s)
        and line_kind(s) == "text"
    )


def _is_label(line: str) -> bool:
    """A section label: three words at most, each capitalised ("World", "Middle East")."""
    words = line.split()
    return len(words) <= 3 and all(w[:1].isupper() or not w[:1].isalpha() for w in words)


def _mark_headline(roles: list[Role], kinds: _Kinds, before: list[int], head: int) -> int:
    for j in before:
        roles[j] = _FURNITURE_ROLE[kinds[j]]
    roles[head] = "headline"
    return head


def _above_furniture(lines: Sequence[str], kinds: _Kinds, filled: list[int]) -> list[int]:
    """The short text lines just above the first byline or date line of the top (the last
    few of them: a site's menus may stand higher), when no prose comes before it; else []."""
    above: list[int] = []
    for n, k in enumerate(filled[:_TOP_LINES]):
        kind = kinds[k]
        if kind == "byline" and not above and _is_agency(lines[k]):
            continue  # an agency's name over everything is the site's name
        if kind in ("byline", "date") or _AUTHOR_IN_PLACE.match(lines[k].strip()):
            return above[-_CANDIDATES:]
        if kind == "text" and _NAME_ONLY.match(lines[k].strip()) and above:
            following = filled[n + 1] if n + 1 < len(filled) else None
            if following is not None and kinds[following] in ("byline", "date"):
                return above[-_CANDIDATES:]  # a name alone over a date line is a byline
        if kind == "text":
            if not is_headline(lines[k]) or _closed_prose(lines[k]) or _opens_text(lines, k):
                if not above:
                    return []
                return _with_standfirst(lines, kinds, filled, n, above)[-_CANDIDATES:]
            above.append(k)
    return []


def _agency_credit(low: str) -> bool:
    """ "le monde avec afp", "daily sabah with aa": a source and the agency it draws on."""
    words = low.split()
    phrases = load_phrases()
    return (
        3 <= len(words) <= _CREDIT_WORDS
        and words[-1] in phrases.agencies
        and words[-2] in phrases.byline_links
    )


def _is_agency(line: str) -> bool:
    return " ".join(line.lower().split()) in load_phrases().agencies


def _closed_prose(line: str) -> bool:
    """Prose that cannot be a headline: a closed sentence or a long paragraph. A line of
    twelve to twenty words without a full stop, however full of common words, may be a
    headline or a standfirst ("El Banco Central compró US$ 310 millones y suma reservas por
    décima rueda consecutiva"). A short question alone is a headline's shape ("Is Malta ready
    for a four-day working week?")."""
    if len(line.split()) >= 20:
        return is_prose(line)
    return ends_sentence(line) and not line.rstrip().endswith("?") and is_prose(line)


def _with_standfirst(
    lines: Sequence[str], kinds: _Kinds, filled: list[int], n: int, above: list[int]
) -> list[int]:
    """`above` when the prose at `filled[n]` is a standfirst: furniture follows it."""
    following = filled[n + 1 : n + 3]
    if any(
        kinds[k] in ("byline", "date") or _AUTHOR_IN_PLACE.match(lines[k].strip())
        for k in following
    ):
        return above
    return []


def _standfirst_under(lines: Sequence[str], above: list[int], n: int) -> bool:
    """Whether `above[n]` is a long line right under a shorter one: its standfirst."""
    if n == 0:
        return False
    words = len(lines[above[n]].split())
    over = len(lines[above[n - 1]].split())
    return words >= _STANDFIRST_WORDS and over >= _HEADLINE_WORDS and words > over


def _zone(
    lines: Sequence[str],
    kinds: _Kinds,
    roles: list[Role],
    filled: list[int],
    head: int,
    title: str,
) -> int:
    """Mark the furniture under the headline (its last line `head`); where the body starts."""
    after = [k for k in filled if k > head][:_ZONE_LINES]
    seen_furniture = False
    for n, k in enumerate(after):
        kind = kinds[k]
        s = lines[k]
        if " ".join(s.split()) == title:
            roles[k] = "headline"
            continue
        if kind in _FURNITURE_KINDS:
            roles[k] = _FURNITURE_ROLE[kind]
            seen_furniture = True
            continue
        if _AUTHOR_IN_PLACE.match(s.strip()) or _desk_byline(s):
            roles[k] = "byline"
            seen_furniture = True
            continue
        rest = after[n + 1 :]
        if is_prose(s) or dateline(s.strip()) is not None or kind == "trailer":
            paragraph_end = _paragraph_end(lines, kinds, k)
            next_filled = [j for j in rest if j > paragraph_end]
            if (
                not seen_furniture
                and next_filled
                and _furniture_ahead(lines, kinds, next_filled)
                and dateline(s.strip()) is None
            ):
                for j in range(k, paragraph_end + 1):
                    roles[j] = "standfirst"
                continue
            return k
        if n > 0 and roles[after[n - 1]] == "byline" and len(s.split()) <= 5:
            roles[k] = "byline"  # the byline's second line: a desk or a place
            continue
        if not seen_furniture and n == 0 and rest and len(s.split()) >= _STANDFIRST_WORDS:
            roles[k] = "standfirst"  # a long line under the headline, without a full stop
            continue
        if (
            _NAME_ONLY.match(s.strip())
            and rest
            and (is_prose(lines[rest[0]]) or kinds[rest[0]] in _FURNITURE_KINDS)
        ):
            roles[k] = "byline"  # a name alone over the text or over a date line
            seen_furniture = True
            continue
        if _furniture_ahead(lines, kinds, rest) or (
            seen_furniture and BULLET.match(s) is None and _prose_ahead(lines, rest)
        ):
            roles[k] = "furniture"  # a label, a caption without a credit, a key point
            continue
        return k
    return after[0] if after and roles[after[0]] == "body" else _first_body(roles, head)


def _headline_under_name(
    lines: Sequence[str],
    kinds: _Kinds,
    roles: list[Role],
    span: tuple[int, int],
    body: int,
    title: str,
) -> tuple[int, int] | None:
    """(headline, body start) when the line taken for the headline is a name over a date (a
    company, a university, a newsletter) and the real headline stands under that furniture,
    right over the text: "Nordvik Oyj" / "2 April 2026" / "Nordvik to build ..." / text."""
    if not is_name(title) or body >= len(lines):
        return None
    filled = [k for k in range(span[1] + 1, len(lines)) if lines[k].strip()]
    at = filled.index(body) if body in filled else -1
    if at < 0:
        return None
    greeting: list[int] = []
    over = at - 1
    while over > 0 and roles[filled[over]] in ("date", "byline"):
        over -= 1  # the item's own date or byline stands between its headline and its text
    if over >= 0 and roles[filled[over]] in ("furniture", "standfirst"):
        candidate, text = filled[over], body  # the headline was taken for a label
    elif at + 1 < len(filled) and kinds[body] == "text":
        candidate, text = body, filled[at + 1]  # the headline was taken for the text
        greeting = _greeting(lines, filled[at:])
        if greeting:
            # A newsletter's greeting over its one item: "Good morning. Today's ..." / item.
            after = at + len(greeting)
            if after + 1 >= len(filled) or _items(lines, filled[after:]) != 1:
                return None
            candidate, text = filled[after], filled[after + 1]
    else:
        return None
    line = lines[candidate]
    words = len(line.split())
    if not (
        kinds[candidate] == "text"
        and is_headline(line)
        and not is_prose(line)
        and words >= _HEADLINE_WORDS + 1
        and words > len(title.split())
        and (is_prose(lines[text]) or dateline(lines[text].strip()) is not None)
    ):
        return None
    for k in [*range(span[0], span[1] + 1), *greeting]:
        roles[k] = "furniture"
    if any(roles[k] == "date" for k in range(candidate + 1, text)):
        for k in range(span[1] + 1, candidate):
            if roles[k] == "date":
                roles[k] = "furniture"  # the date gives way to the item's own
    roles[candidate] = "headline"
    return candidate, text


_GREETING_WORDS = 20


def _greeting(lines: Sequence[str], filled: list[int]) -> list[int]:
    """The lines of the paragraph of prose opening `filled` when it is a newsletter's greeting:
    short, or opening with a greeting ("Good morning, and welcome back. Here is ..."), its
    lines hard-wrapped or not; else []."""
    paragraph = [filled[0]]
    for k in filled[1:]:
        if k != paragraph[-1] + 1:
            break
        paragraph.append(k)
    text = " ".join(lines[k].strip() for k in paragraph)
    if not is_prose(text):
        return []
    if load_phrases().greetings.match(text) is not None:
        return paragraph
    return paragraph if len(text.split()) <= _GREETING_WORDS else []


def _items(lines: Sequence[str], filled: list[int]) -> int:
    """How many headlines stand right over prose in `filled`: the items of a newsletter."""
    return sum(
        1
        for a, b in itertools.pairwise(filled)
        if b > a + 1
        and is_headline(lines[a])
        and not is_prose(lines[a])
        and len(lines[a].split()) > _HEADLINE_WORDS
        and is_prose(lines[b])
    )


def _desk_byline(line: str) -> bool:
    """ "By the Port Report desk", "By our correspondent": a byline without a person's name."""
    return (
        2 <= len(line.split()) <= 7
        and load_phrases().byline_starts.match(line.lstrip()) is not None
        and not ends_sentence(line)
    )


def _first_body(roles: list[Role], head: int) -> int:
    return next((k for k in range(head + 1, len(roles)) if roles[k] == "body"), len(roles))


def _paragraph_end(lines: Sequence[str], kinds: _Kinds, k: int) -> int:
    """The last line of the paragraph line `k` opens: up to a blank line, a sentence end or a
    line of furniture."""
    while (
        k + 1 < len(lines)
        and lines[k + 1].strip()
        and not ends_sentence(lines[k])
        and kinds[k + 1] == "text"
        and not _AUTHOR_IN_PLACE.match(lines[k + 1].strip())
    ):
        k += 1
    return k


def _furniture_ahead(lines: Sequence[str], kinds: _Kinds, rest: list[int]) -> bool:
    """Whether furniture comes in `rest` before any prose."""
    for j in rest:
        if kinds[j] in _FURNITURE_KINDS or _AUTHOR_IN_PLACE.match(lines[j].strip()):
            return True
        if is_prose(lines[j]):
            return False
    return False


def _prose_ahead(lines: Sequence[str], rest: list[int]) -> bool:
    """Whether prose follows within the next few lines (short lines may come first)."""
    return any(is_prose(lines[j]) for j in rest[:_PROSE_AHEAD])


def _body(lines: Sequence[str], kinds: _Kinds, roles: list[Role], start: int) -> None:
    """Mark captions, furniture, closing dates and the trailer in the body from `start`."""
    prose_seen = False
    under_links = False  # in the paragraph of a "Read also" heading: its links are furniture
    last_prose: list[int] = []  # the story's last line of prose, found once when first needed
    for k in range(start, len(lines)):
        if roles[k] == "blank":
            under_links = False
            continue
        s = lines[k].strip()
        before = roles[k - 1] if k > start else "blank"
        starts_paragraph = (
            k == 0 or before in ("blank", "furniture", "caption") or ends_sentence(lines[k - 1])
        )
        if (
            not starts_paragraph
            and not under_links
            and before in ("body", "dateline")
            and _running(lines[k - 1], lines[k])
        ):
            prose_seen = True  # the rest of a sentence of the text: no furniture looks so
            continue
        kind = kinds[k]
        if (
            prose_seen
            and starts_paragraph
            and (kind == "trailer" or _signature(lines, k, last_prose))
        ):
            for j in range(k, len(lines)):
                roles[j] = "trailer" if lines[j].strip() else "blank"
            return
        if under_links and kind == "text" and is_headline(s) and not is_prose(s):
            roles[k] = "furniture"
        elif kind == "text" and is_link_heading(s):
            roles[k] = "furniture"  # "Siga leyendo:", a heading no furniture phrase names
            under_links = True
        elif kind == "byline" and prose_seen:
            roles[k] = "byline"  # a credit closing the text: "Le Monde avec AFP"
        elif kind in ("furniture", "caption"):
            roles[k] = kind
            under_links = kind == "furniture" and is_link_heading(s)
            if kind == "caption" and before == "body" and _caption_over_credit(lines, k):
                roles[k - 1] = "caption"
        elif kind == "date" and _alone(lines, k):
            roles[k] = "date"
        elif "://" in s and link_line(s) is not None:
            roles[k] = "furniture"
        else:
            if k == start and dateline(s) is not None:
                roles[k] = "dateline"
            prose_seen = True
    _label_at_end(lines, roles)


def _running(line: str, following: str) -> bool:
    """Whether `following`, under a line of the text that ends no sentence, is the rest of
    that sentence: it is long, or it holds no digit and no slash under a line of several words
    (a closing date stands under a label: "Cairo" / "20 March 2026"; a credit or a link under
    a caption's text)."""
    if len(following.split(None, _RUNNING_WORDS)) > _RUNNING_WORDS:
        return True
    return (
        len(line.split(None, _LABEL_WORDS)) > _LABEL_WORDS
        and DIGIT.search(following) is None
        and "/" not in following  # a credit ("Gallo Images/Beeld") or a link
    )


def is_link_heading(line: str) -> bool:
    """ "Read also", "Leggi anche:": a heading whose paragraph lists other stories."""
    if len(line) > _HEADLINE_SPAN:
        return False  # a heading is short: a long line is not cut into words for this
    words = line.split(None, 1)
    if not words or words[0].lower().rstrip(":") not in _link_firsts():
        return False  # its first word opens no heading: most lines, told in one look-up
    return " ".join(line.lower().split()).rstrip(" :") in load_phrases().link_headings


@functools.cache
def _link_firsts() -> frozenset[str]:
    return frozenset(heading.split()[0].rstrip(":") for heading in load_phrases().link_headings)


def _caption_over_credit(lines: Sequence[str], k: int) -> bool:
    """Whether line `k` is a bare credit under its caption's text, in one paragraph ("Eskom's
    Medupi power station." over "Gallo Images/Beeld/NAME")."""
    above = lines[k - 1]
    return (
        is_credit_line(" ".join(lines[k].lower().split()))
        and len(above.split()) < _CAPTION_WORDS
        and not (k >= 2 and lines[k - 2].strip())
    )


_CAPTION_WORDS = 25  # a caption's text over its credit is shorter than this
_SIGNATURE_CHARS = 40


def _signature(lines: Sequence[str], k: int, last_prose: list[int]) -> bool:
    """A closing signature after the text, with no prose after it: "(sda)", "(APA, red,
    22.9.2026)", an editor's initials "JMC // SF", "Lusa/Fim". `last_prose` caches where the
    story's last prose line is, so many such lines do not each scan the rest of the story."""
    if not signature_shape(lines[k]):
        return False
    if not last_prose:
        last_prose.append(
            next((j for j in range(len(lines) - 1, -1, -1) if is_prose(lines[j])), -1)
        )
    return k > last_prose[0]


def signature_shape(line: str) -> bool:
    """A short line shaped as a closing signature: "(sda)", "JMC // SF", "ONA/ZS"."""
    s = line.strip()
    return bool(s) and (
        slashed_signature(s)
        or (s[0] == "(" and s[-1] == ")" and len(s) <= _SIGNATURE_CHARS and not ends_sentence(s))
    )


def wire_signature(line: str) -> bool:
    """A wire story's closing signature: initials cut by slashes ("ONA/ZS", "abc/xyz"), or an
    agency's name after dashes ("--IANS")."""
    s = line.strip()
    if s[:1] in "-\u2013\u2014" and s.lstrip("-\u2013\u2014 ").lower() in load_phrases().agencies:
        return True
    return slashed_signature(s)


def slashed_signature(line: str) -> bool:
    """ "JMC // SF", "ONA/ZS", "Lusa/Fim": capitalised initials or names cut by slashes (a wire
    story's closing "(Company Name Inc)" is its text, not a signature)."""
    s = line.strip()
    return (
        "/" in s
        and len(s) <= _SIGNATURE_CHARS
        and any(c.isalpha() for c in s)
        and DIGIT.search(s) is None  # "U.K. Stg....1.6178/88" is a table's row
        and not ends_sentence(s)
        and (
            all(w[:1].isupper() or w[:1] == "/" for w in s.split())
            or all(0 < len(part.strip()) <= _INITIALS for part in s.split("/"))  # "abc/xyz"
        )
    )


_INITIALS = 4


def _label_at_end(lines: Sequence[str], roles: list[Role]) -> None:
    """A short closing paragraph after the text, of one to three short lines that are not
    sentences ("Ashgabat" over its date, the next story's section, "Get the app" / "for
    ad-free news"), is furniture, not text."""
    last = [k for k, role in enumerate(roles) if role == "body"]
    if len(last) < 2:
        return
    end = last[-1]
    first = end
    while first - 1 >= 0 and roles[first - 1] == "body" and end - first < _CLOSING_LINES:
        first -= 1
    if end - first >= _CLOSING_LINES or first <= last[0]:
        return
    for k in range(first, end + 1):
        s = lines[k].strip()
        if not (
            len(s.split()) <= (3 if first == end else _CLOSING_WORDS)
            and is_headline(s)
            and not is_prose(s)
            and not s[-1:].isdigit()
        ):
            return
    for k in range(first, end + 1):
        roles[k] = "furniture"


_CLOSING_LINES = 3
_CLOSING_WORDS = 6


def _alone(lines: Sequence[str], k: int) -> bool:
    """A date line with only blank lines or short labels around it in its paragraph."""
    for j in (k - 1, k + 1):
        if 0 <= j < len(lines) and lines[j].strip() and is_prose(lines[j]):
            return False
    return True


def _dates(lines: Sequence[str], roles: list[Role], head: int | None) -> tuple[str, ...]:
    """Date texts: the published ones above the body, then updated ones, then closing ones."""
    updated_labels = load_phrases().updated_labels
    published: list[str] = []
    updated: list[str] = []
    closing: list[str] = []
    body_seen = False
    for k, role in enumerate(roles):
        if role in ("body", "dateline"):
            body_seen = True
        if role not in ("date", "byline", "trailer"):
            continue  # a trailer's date line closes the story: "Issued by: ..." / "CITY, DATE"
        found = meta_date(lines[k])  # a byline may give the date too: "By NAME · 3 March 2026"
        if found is None:
            continue
        label, text = found
        if body_seen or head is None:
            closing.append(text)
        elif label in updated_labels:
            updated.append(text)
        else:
            published.append(text)
    return (*published, *updated, *reversed(closing))


def parse_story(lines: Sequence[str], *, name: str, titled: bool = False) -> Parsed:
    """A story read by its roles; with no headline the title is its first sentence.

    `titled`: a header block above already names the story, so no title is made from prose.
    """
    reading = read_roles(lines)
    roles = reading.roles
    body = [
        line if role in ("body", "dateline") else ""
        for line, role in zip(lines, roles, strict=True)
    ]
    blocks = prose_blocks(body)
    standfirst = " ".join(
        " ".join(
            line for line, role in zip(lines, roles, strict=True) if role == "standfirst"
        ).split()
    )
    first = next((b for b in blocks if b.kind == "p"), None)
    title = reading.title
    if title is None and not titled and first is not None:
        title = title_from_prose(first.lines[0])
    if standfirst:
        blocks = (Block(kind="standfirst", lines=(standfirst,)), *blocks)
    dates = reading.dates
    if not dates and first is not None:
        day = dateline_day(first.lines[0])
        dates = (day,) if day else ()
    link = _closing_link(lines, roles) or _page_address(lines, roles)
    if not dates and link is not None:
        day = _address_day(link)
        dates = (day,) if day else ()
    return Parsed(
        format=name,
        title=title,
        dates=dates,
        blocks=blocks,
        place=dateline_place(first.lines[0]) if first is not None else None,
        author=reading.author,
        link=link,
        roles=roles,
    )


def _page_address(lines: Sequence[str], roles: Sequence[Role]) -> str | None:
    """The page's address copied over its headline ("https://site/2026/11/23/slug"), if any."""
    for line, role in zip(lines, roles, strict=True):
        if role in ("headline", "body", "dateline"):
            return None
        if role == "furniture" and "://" in line:
            address = link_line(line)
            if address is not None:
                return address
    return None


def _address_day(address: str) -> str | None:
    """ "2026-11-23" from the dated path of an address ("/2026/11/23/")."""
    m = _ADDRESS_DAY.search(address)
    if m is None:
        return None
    return f"{m['year']}-{int(m['month']):02d}-{int(m['day']):02d}"


def _closing_link(lines: Sequence[str], roles: Sequence[Role]) -> str | None:
    """The address a story closes with ("Read more: https://..." under a newsletter's item):
    the story's own link, above the lines of its trailer if any (an e-mail's footer)."""
    for k in range(len(lines) - 1, -1, -1):
        if not lines[k].strip():
            continue
        if roles[k] not in ("furniture", "trailer"):
            return None
        link = link_line(lines[k])
        if link is not None or roles[k] != "trailer":
            return link
    return None
