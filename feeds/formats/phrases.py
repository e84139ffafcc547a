"""The known phrases of clippings (`phrases.toml`), loaded once and indexed for quick tests."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True, kw_only=True)
class Starts:
    """Phrases a line may start with, indexed by their first word so most lines skip them."""

    by_word: dict[str, tuple[str, ...]]

    def match(self, low: str) -> str | None:
        """The phrase lower-cased line `low` starts with (ending at a word edge), or None."""
        first = low.split(None, 1)[0] if low else ""
        for phrase in self.by_word.get(first, ()) + self.by_word.get(first[:1], ()):
            if low.startswith(phrase) and (
                len(low) == len(phrase)
                or not phrase[-1].isalpha()
                or not low[len(phrase)].isalnum()
            ):
                return phrase
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Phrases:
    """Every phrase list of `phrases.toml`, ready to match lower-cased text."""

    furniture_lines: frozenset[str]
    furniture_lines_sorted: tuple[str, ...]  # the same, as boilerplate patterns
    furniture_starts: Starts
    caption_starts: Starts
    caption_credits: tuple[str, ...]
    trailer_starts: Starts
    byline_words: frozenset[str]
    agencies: frozenset[str]
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


def _starts(phrases: list[str]) -> Starts:
    by_word: dict[str, list[str]] = {}
    for phrase in phrases:
        first = phrase.split(None, 1)[0]
        # A phrase whose first word has no letters ("©", "###") is found by its first character.
        key = first if any(c.isalpha() for c in first) and first[-1].isalnum() else first[:1]
        by_word.setdefault(key, []).append(phrase)
    return Starts(by_word={k: tuple(sorted(v, key=len, reverse=True)) for k, v in by_word.items()})


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
        furniture_lines_sorted=tuple(sorted(data["furniture"]["lines"])),
        furniture_starts=_starts(data["furniture"]["starts"]),
        caption_starts=_starts(data["caption"]["starts"]),
        caption_credits=tuple(data["caption"]["credits"]),
        trailer_starts=_starts(data["trailer"]["starts"]),
        byline_words=frozenset(data["byline"]["words"]),
        agencies=frozenset(data["byline"]["agencies"]),
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
    )


def trailer_starts(line: str) -> bool:
    """Whether a line opens a story's trailer: credits, a copyright, links to other stories."""
    return load_phrases().trailer_starts.match(" ".join(line.lower().split())) is not None
