"""The known phrases of clippings (`phrases.toml`), loaded once and indexed for quick tests."""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True, kw_only=True)
class Starts:
    """Phrases a line may start with. A line whose first word opens no phrase is turned away
    by a set look-up; else one small pattern, for its first letter, is matched."""

    firsts: frozenset[str]  # the first words of the phrases, lower case
    by_char: dict[str, re.Pattern[str]]

    def match(self, line: str) -> str | None:
        """The phrase `line` starts with (ending at a word edge), ignoring case; else None."""
        space = line.find(" ")
        first = (line[:space] if space > 0 else line).lower()
        if not opens_on(first, self.firsts) and line[:1] not in self.firsts:
            return None
        pattern = self.by_char.get(line[:1].lower())
        if pattern is None:
            return None
        m = pattern.match(line)
        return m[0] if m is not None else None


def opens_on(first: str, firsts: frozenset[str]) -> bool:
    """Whether a line's first word (lower case) is among a phrase list's `firsts`, as
    `Starts.match` reads it: with a colon glued to it ("Por: NAME") or not."""
    return first in firsts or first.rstrip(":") in firsts


@dataclass(frozen=True, slots=True, kw_only=True)
class Phrases:
    """Every phrase list of `phrases.toml`, ready to match lower-cased text."""

    furniture_lines: frozenset[str]
    furniture_starts: Starts
    furniture_ends: tuple[str, ...]
    link_headings: frozenset[str]
    greetings: Starts
    follow: frozenset[str]  # "Follow NAME on Telegram": its first word
    networks: tuple[str, ...]  # and how it ends
    caption_starts: Starts
    caption_credits: tuple[str, ...]
    credit_words: frozenset[str]
    trailer_starts: Starts
    trailer_lines: frozenset[str]
    trailer_notes: frozenset[str]
    trailer_about: Starts
    trailer_inside: tuple[str, ...]
    byline_starts: Starts
    byline_links: frozenset[str]
    byline_roles: frozenset[str]
    byline_after: frozenset[str]  # "NAME 기자": the word after a name that makes a byline
    byline_after_ends: frozenset[str]  # and the last characters of those words
    agencies: tuple[str, ...]  # longest first
    labels_inside: re.Pattern[str]  # where a date label starts inside a line
    published_labels: frozenset[str]
    updated_labels: frozenset[str]
    date_labels: frozenset[str]
    label_words: frozenset[str]  # every word of every date label
    date_noise: frozenset[str]
    weekdays: frozenset[str]
    ago: tuple[str, ...]
    months: dict[str, int]
    units: dict[str, int]
    zones: dict[str, int]
    prose_words: frozenset[str]
    connectors: frozenset[str]  # words that join a line to the next one
    titles: frozenset[str]  # abbreviated titles before a name ("Prof.", "Capt.")


def _starts(phrases: list[str]) -> Starts:
    groups: dict[str, list[str]] = {}
    for phrase in sorted(phrases, key=len, reverse=True):
        groups.setdefault(phrase[:1], []).append(phrase)
    # A phrase that opens with a sign ("©", "###") is found by that sign, glued or not.
    firsts = {p.split()[0] for p in phrases} | {p[:1] for p in phrases if not p[:1].isalnum()}
    return Starts(
        firsts=frozenset(firsts),
        by_char={
            char: re.compile("|".join(_phrase_pattern(p) for p in group), re.IGNORECASE)
            for char, group in groups.items()
        },
    )


def _phrase_pattern(phrase: str) -> str:
    """A phrase as a pattern: any run of spaces between its words, a word edge after a letter."""
    words = r"\s+".join(re.escape(word) for word in phrase.split())
    return words + (r"(?!\w)" if phrase[-1].isalpha() else "")


@functools.cache
def load_phrases() -> Phrases:
    """The phrases shipped with seedfeed (read from the package once per process)."""
    data = tomllib.loads(
        resources.files("feeds.formats").joinpath("phrases.toml").read_text("utf-8")
    )
    dates = data["dates"]
    labels = [*dates["published"], *dates["updated"]]
    return Phrases(
        furniture_lines=frozenset(data["furniture"]["lines"]),
        furniture_starts=_starts(data["furniture"]["starts"]),
        furniture_ends=tuple(data["furniture"]["ends"]),
        link_headings=frozenset(data["furniture"]["links"]),
        greetings=_starts(data["furniture"]["greetings"]),
        follow=frozenset(data["furniture"]["follow"]),
        networks=tuple(" " + network for network in data["furniture"]["networks"]),
        caption_starts=_starts(data["caption"]["starts"]),
        caption_credits=tuple(data["caption"]["credits"]),
        credit_words=frozenset(data["caption"]["words"]),
        trailer_starts=_starts(data["trailer"]["starts"]),
        trailer_lines=frozenset(data["trailer"]["lines"]),
        trailer_notes=frozenset(data["trailer"]["notes"]),
        trailer_about=_starts(data["trailer"]["about"]),
        trailer_inside=tuple(data["trailer"]["inside"]),
        byline_starts=_starts(data["byline"]["words"]),
        byline_links=frozenset(data["byline"]["links"]),
        byline_roles=frozenset(data["byline"]["roles"]),
        byline_after=frozenset(data["byline"]["after"]),
        byline_after_ends=frozenset(word[-1] for word in data["byline"]["after"]),
        agencies=tuple(sorted(data["byline"]["agencies"], key=len, reverse=True)),
        labels_inside=re.compile(
            r"(?i)\s\(?(?=(?:"
            + "|".join(re.escape(label) for label in sorted(dates["inside"], key=len, reverse=True))
            + r")\b)"
        ),
        published_labels=frozenset(dates["published"]),
        updated_labels=frozenset(dates["updated"]),
        date_labels=frozenset(labels),
        label_words=frozenset(w for label in labels for w in label.split()),
        date_noise=frozenset(dates["noise"]),
        weekdays=frozenset(dates["weekdays"]),
        ago=tuple(dates["ago"]),
        months=dict(dates["months"]),
        units=dict(dates["units"]),
        zones=dict(dates["zones"]),
        prose_words=frozenset(data["prose"]["words"]),
        connectors=frozenset(data["prose"]["connectors"]),
        titles=frozenset(data["prose"]["titles"]),
    )


def trailer_starts(line: str) -> bool:
    """Whether a line opens a story's trailer: credits, a copyright, links to other stories."""
    phrases = load_phrases()
    s = line.strip()
    return (
        phrases.trailer_starts.match(s) is not None
        or (len(s) <= LONGEST_TRAILER_LINE and s.lower().rstrip(" :") in phrases.trailer_lines)
        or _about_heading(s, phrases)
    )


def opens_notes(line: str) -> bool:
    """Whether a line heads a press release's closing notes ("About Nordlys Energy",
    "Forward-Looking Statements"): the prose under it is theirs, no new story."""
    phrases = load_phrases()
    s = line.strip()
    return s.lower().rstrip(" :") in phrases.trailer_notes or _about_heading(s, phrases)


def _about_heading(s: str, phrases: Phrases) -> bool:
    """ "About Nordlys Energy": a short heading of capitalised words after "About"."""
    if len(s) > LONGEST_TRAILER_LINE or s[-1:] in ".!?,;":
        return False
    opening = phrases.trailer_about.match(s)
    if opening is None:
        return False
    words = s[len(opening) :].split()
    return 0 < len(words) <= 4 and all(w[:1].isupper() for w in words)


LONGEST_TRAILER_LINE = 40  # characters of the longest whole-line trailer or "About ..." heading
