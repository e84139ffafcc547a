"""Free-form dates: the forms the fast `DATE` pattern does not know, read with python-dateutil.

"Published: March 12, 2026 14:05 GMT+4", "Tue 3 Mar 2026 10.00 GMT", "Publié le 12 mars 2026
à 14h05", "3. März 2026, 10:15 Uhr", "12/03/2026", "2 hours ago". A text is a date only when
every word of it is a date word (a month, a weekday, a label, a zone, a connector); the words
are data in `phrases.toml`, so a language is added there, not here ("2026年3月12日", whose
parts are not words, is rewritten as a numeric date first).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from dateutil import parser as dateutil_parser

from feeds.formats.phrases import Phrases, load_phrases

_ENGLISH_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_TOKEN = re.compile(
    r"(?P<numeric>\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|\d{1,2}\.\s\d{1,2}\.\s\d{4})"  # "12. 5. 2026"
    r"|(?P<time>\d{1,2}(?::|\.(?=\d\d\b)|\s?h\s?(?=\d\d\b))\d\d(?::\d\d)?)"
    r"|(?P<offset>(?:gmt|utc)\s*[+-]\s*\d{1,2}(?::?\d\d)?)"
    r"|(?P<number>\d{1,4})(?:st|nd|rd|th|er|º|\.)?(?!\w)"
    r"|(?P<word>[^\W\d_][\w.'-]*[^\W\d_]|[^\W\d_])"
    r"|(?P<other>[^\s,|/()\u2013\u2014:.-])"
)
# The years a clipping's date can name: a number past them is a price or a count.
_YEARS = (1800, 2200)
_SPACED_MERIDIEM = re.compile(r"\b([ap])\.\s?m\.?(?!\w)")
_CJK_DATE = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")
_CJK_TIME = re.compile(r"(\d{1,2})\s*[時时시]\s*(\d{1,2})\s*[分분]")
_DIGIT = re.compile(r"\d")
# A numeric date's middle, found from its first separator ("12/03/2026", "2026-03-12",
# "26-FEB-1987", "12. 5. 2026") or its year sign ("2026年3月12日"). The pattern opens on the
# digit or the sign before that middle, so the scan skips from one digit to the next.
_NUMERIC_DATE = re.compile(
    r"[\d年년](?:(?<=\d)(?:[/.-](?:\d{1,2}[/.-]\d|[^\W\d_]{3}-\d)|\.\s\d{1,2}\.\s\d{4})"
    r"|(?<=[年년])\s*\d{1,2}\s*[月월])"
)
_LETTERS = re.compile(r"[^\W\d_]+")
# Letters the fast `DATE` pattern and a date label may hold besides month and weekday names:
# ordinals, the ISO "T", zones, "a.m.", the labels of `feeds.formats._DATE_LABEL`.
_FAST_PATH_WORDS = (
    "st nd rd th t z utc gmt a p m am pm at on last first updated published posted modified"
    " date dated issued"
)
_WEEKDAY_STARTS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CJK_DATE_WORDS = "年년月월日일時时시分분"
_OFFSET = re.compile(r"(?:gmt|utc)\s*(?P<sign>[+-])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d\d))?")


def may_be_date(text: str) -> bool:
    """False when `text` holds a word no date form has: most lines of prose, found in one scan
    before any date pattern is tried. Every word of a date is a date word (`phrases.toml`), an
    English month or the start of one, a weekday, or one of the few letters a numeric form has;
    the fast pattern's wire stamp ("26-FEB-1987") takes any three letters as a month."""
    words = _date_words()
    return all(
        word in words or len(word) == 3 or word.startswith(_WEEKDAY_STARTS)
        for word in _LETTERS.findall(text.lower())
    )


def date_runs(low: str) -> Iterator[tuple[int, int]]:
    """The spans of the lower-case `low` between its words that no date form has (the test
    `may_be_date` puts to each word): any piece of `low` that `may_be_date` accepts lies
    within one of them."""
    words = _date_words()
    start = 0
    for m in _LETTERS.finditer(low):
        word = m[0]
        if not (word in words or len(word) == 3 or word.startswith(_WEEKDAY_STARTS)):
            yield start, m.start()
            start = m.end()
    yield start, len(low)


def may_hold_date(text: str) -> bool:
    """False when no part of `text` can be a date: it names no month, holds no numeric date
    ("12/03/2026", "2026-03-12", "26-FEB-1987", "2026年3月12日") and no age ("2 hours ago").
    One scan turns away the lines of prose that have numbers but no date."""
    low = text.lower()
    if _NUMERIC_DATE.search(low) is not None:
        return True
    words = _LETTERS.findall(low)
    if not _month_words().isdisjoint(words):
        return True
    ages, age = _age_words()
    return not ages.isdisjoint(words) and age.search(low) is not None


@functools.cache
def _month_words() -> frozenset[str]:
    names = [
        *load_phrases().months,
        *(name[:end] for name in _ENGLISH_MONTHS for end in range(3, len(name) + 1)),
    ]
    return frozenset(word for name in names for word in _LETTERS.findall(name.lower()))


@functools.cache
def _age_words() -> tuple[frozenset[str], re.Pattern[str]]:
    """The first words of the phrases of an age ("ago", "il y a"), and a pattern finding them."""
    phrases = load_phrases().ago
    ago = "|".join(re.escape(phrase) for phrase in phrases)
    firsts = frozenset(_LETTERS.findall(phrase.lower())[0] for phrase in phrases)
    return firsts, re.compile(rf"(?<!\w)(?:{ago})(?!\w)")


@functools.cache
def _date_words() -> frozenset[str]:
    phrases = load_phrases()
    texts = [
        *phrases.months,
        *phrases.units,
        *phrases.zones,
        *phrases.weekdays,
        *phrases.date_noise,
        *phrases.date_labels,
        *phrases.ago,
        *(name[:end] for name in _ENGLISH_MONTHS for end in range(3, len(name) + 1)),
        _FAST_PATH_WORDS,
        " ".join(_CJK_DATE_WORDS),
    ]
    return frozenset(word for text in texts for word in _LETTERS.findall(text.lower()))


@dataclass(frozen=True, slots=True, kw_only=True)
class FreeDate:
    """A date read from free text: a moment (naive unless its offset was given) or an age."""

    moment: datetime | None = None
    offset_minutes: int | None = None  # the zone the text named, minutes east of UTC
    year_known: bool = True
    ago_minutes: int | None = None  # "2 hours ago": the date is `now` less this


@functools.lru_cache(maxsize=4096)
def read_free_date(text: str) -> FreeDate | None:
    """The date `text` is, when all of it is a date; else None."""
    low = " ".join(text.lower().replace("\u00a0", " ").split()).strip(" .,;|")
    low = _SPACED_MERIDIEM.sub(r"\1m", low)  # "2:10 p. m." as in Spanish
    if not low or len(low) > 80 or _DIGIT.search(low) is None or not may_be_date(low):
        return None
    low = _CJK_TIME.sub(r" \1:\2 ", _CJK_DATE.sub(r"\1-\2-\3 ", low)).strip()
    phrases = load_phrases()
    ago = _age(low, phrases)
    if ago is not None:
        return FreeDate(ago_minutes=ago)
    return _absolute(low, phrases)


def _age(low: str, phrases: Phrases) -> int | None:
    m = _age_pattern().match(low)
    if m is None:
        return None
    unit = phrases.units.get(m["unit"] or m["unit2"])
    return None if unit is None else int(m["n"] or m["n2"]) * unit


@functools.cache
def _age_pattern() -> re.Pattern[str]:
    """ "[label] N unit ago" or "[label] il y a N unit", with the words of `phrases.toml`."""
    phrases = load_phrases()
    labels = "|".join(
        re.escape(label)
        for label in sorted(
            phrases.published_labels | phrases.updated_labels, key=len, reverse=True
        )
    )
    ago = "|".join(re.escape(word) for word in phrases.ago)
    return re.compile(
        rf"(?:(?:{labels})\b)?[\s:/|\u2013\u2014-]*"
        rf"(?:(?P<n>\d+)\s*(?P<unit>[^\W\d_]+)\s+(?:{ago})|(?:{ago})\s+(?P<n2>\d+)\s*(?P<unit2>[^\W\d_]+))$"
    )


@functools.cache
def _spelled_zones() -> re.Pattern[str] | None:
    """Zone names of several words ("eastern standard time"), longest first, or None."""
    names = sorted((z for z in load_phrases().zones if " " in z), key=len, reverse=True)
    if not names:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)")


def _absolute(low: str, phrases: Phrases) -> FreeDate | None:
    offset: int | None = None
    spelled = _spelled_zones()
    found = spelled.search(low) if spelled is not None else None
    if found is not None:
        offset = phrases.zones[found[0]]
        low = low[: found.start()] + low[found.end() :]
    parts: list[str] = []
    month = False
    year_known = False
    after_time = False
    for m in _TOKEN.finditer(low):
        kind = m.lastgroup
        token = m[0]
        if kind == "word" and after_time and token.replace(".", "") in ("am", "pm"):
            if int(parts[-1].split(":")[0]) <= 12:  # "14:35 PM" is already 24-hour
                parts[-1] += token.replace(".", "")
            after_time = False
            continue
        if kind == "time" and any(":" in part for part in parts):
            return None  # two times ("à 10h05, modifié à 12h30"): two dates, not one
        after_time = kind == "time"
        if kind == "time":
            parts.append(re.sub(r"\s?[.h]\s?", ":", token, count=1))  # "7 h 30"
        elif kind == "offset":
            found = _OFFSET.fullmatch(token)
            if found is None:
                return None
            sign = -1 if found["sign"] == "-" else 1
            offset = sign * (int(found["hours"]) * 60 + int(found["minutes"] or 0))
        elif kind == "numeric":
            token = token.replace(" ", "")
            fields = re.split(r"[/.-]", token)
            if len(fields[0]) == 4:  # year first: dateutil's day-first reading would swap the rest
                if not 1 <= int(fields[1]) <= 12:
                    return None
                token = f"{fields[2]} {_ENGLISH_MONTHS[int(fields[1]) - 1]} {fields[0]}"
            parts.append(token)
            month = True
            year_known = year_known or re.search(r"\d{4}", token) is not None
        elif kind == "number":
            number = m["number"]
            year_known = year_known or len(number) == 4
            parts.append(number)
        elif kind == "word":
            word = token.strip(".")
            if word in phrases.months:
                parts.append(_ENGLISH_MONTHS[phrases.months[word] - 1])
                month = True
            elif len(word) >= 3 and any(name.startswith(word) for name in _ENGLISH_MONTHS):
                parts.append(word)
                month = True
            elif word in phrases.zones:
                offset = phrases.zones[word]
            elif not (
                word in phrases.weekdays
                or word in phrases.date_noise
                or word in phrases.label_words
            ):
                return None
        else:
            return None
    if not month:
        return None
    try:
        moment = dateutil_parser.parse(" ".join(parts), default=datetime(2000, 1, 1), dayfirst=True)
    except (ValueError, OverflowError):
        return None
    if not _YEARS[0] <= moment.year <= _YEARS[1]:
        return None  # "Jun --- --- 6627": a table row with a month in it, not a date
    return FreeDate(
        moment=moment.replace(tzinfo=None), offset_minutes=offset, year_known=year_known
    )
