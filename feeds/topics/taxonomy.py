"""Taxonomy rules: the phrases of each `[topics.*]` table, compiled once and matched in a text.

A taxonomy is compiled once (cached by its tuple of frozen rules) into one regex per
distinct phrase, each starting with a literal so the regex engine finds it with a fast
substring search, and a table of the words a phrase can start with. A text is split into
its set of lowercase ASCII words in C (encode, translate, split); only the phrases whose
first word is among them are searched for.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from feeds.formats import cut_at_spaces, lowered
from feeds.model import TopicMatch, TopicRule, TopicSource

# A hit in the title counts this many times towards a rule's `min_hits`.
TITLE_WEIGHT = 2

_SEP_CLASS = r"[\s\-\u2010\u2011]"  # what may stand between the words of a phrase
_PHRASE_SPLIT = re.compile(r"[\s\-\u2010\u2011\u2013]+")
_APOSTROPHES = "'\u2019"
# Prefixes written joined, hyphenated or spaced ("co-operation", "cooperation").
_SHORT_PREFIXES = ("co", "non", "pre", "pro", "sub", "mid", "re")
_MIN_PART = 4  # a word splits in two only where both parts have at least this many letters
_ACRONYM_MAX = 6
# Bytes -> bytes: ASCII letters and digits kept, everything else a space.
_ASCII_WORDS = bytes(c if chr(c).isalnum() else 0x20 for c in range(256))


def _is_acronym(token: str) -> bool:
    """A short all-capitals word ("SCO", "PTI", "G7"): matched case-sensitively."""
    return len(token) <= _ACRONYM_MAX and token.isupper() and any(c.isalpha() for c in token)


def _lower(text: str) -> str:
    """`text` in lowercase, character for character (offsets stay valid)."""
    low = lowered(text)
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _ascii_words(low: str) -> list[bytes]:
    """The lowercase ASCII words of already-lowercased text; anything else separates them."""
    return low.encode("ascii", "replace").translate(_ASCII_WORDS).split()


def _split_points(word: str) -> set[int]:
    """Where a joined word may also be written with a space or hyphen ("counter|terrorism")."""
    if not word.isalpha():
        return set()
    points = set(range(_MIN_PART, len(word) - _MIN_PART + 1))
    lower = word.lower()
    points.update(
        len(p) for p in _SHORT_PREFIXES if lower.startswith(p) and len(word) - len(p) >= _MIN_PART
    )
    return points


def _plural_suffix(word: str) -> tuple[int, str]:
    """How the plural of a phrase's last word is written: (letters dropped, regex suffix)."""
    lower = word.lower()
    if len(word) > 2 and lower.endswith("y") and lower[-2] not in "aeiou":
        return 1, "(?:y|ies)"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return 0, "(?:es)?"
    if word[-1:].isalpha():
        return 0, "s?"
    return 0, ""


def _phrase_tokens(phrase: str) -> list[str]:
    return [t for t in _PHRASE_SPLIT.split(phrase.strip()) if t]


def _char_regex(char: str, *, exact: bool, cased: bool) -> str:
    """One character: itself if the subject is lowercased or the word is an acronym."""
    if char in _APOSTROPHES:
        return f"[{_APOSTROPHES}]"
    if not cased or exact:
        return re.escape(char)
    lower, upper = char.lower(), char.upper()
    if lower == upper or len(lower) != 1 or len(upper) != 1:
        return f"(?i:{re.escape(char)})"
    return f"[{re.escape(lower)}{re.escape(upper)}]"


def _phrase_regex(phrase: str, *, cased: bool) -> re.Pattern[str]:
    """The regex of one phrase, to run on the lowercased text (or the original if `cased`).

    Words are joined by any whitespace or hyphens, or nothing; a long word may be split at
    its split points; the last word may be plural; and the phrase stands between word
    boundaries. The regex starts with the phrase's leading literal characters, then checks
    the word boundary behind them, so the engine can search for that literal quickly.
    """
    tokens = _phrase_tokens(phrase)
    items: list[tuple[str, bool]] = []  # (regex, is a plain literal character)
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        if i:
            items.append((f"{_SEP_CLASS}*", False))
        acronym = _is_acronym(token)
        word = token if (cased or acronym) else _lower(token)
        dropped, suffix = (0, "") if not last else _plural_suffix(word)
        if acronym:
            suffix = "s?" if last and token[-1].isalpha() and token[-1] != "S" else ""
            dropped = 0
        points = set() if acronym else _split_points(word)
        for j, char in enumerate(word[: len(word) - dropped]):
            if j in points:
                items.append((f"{_SEP_CLASS}?", False))
            regex = _char_regex(char, exact=acronym, cased=cased)
            items.append((regex, regex == re.escape(char) and char not in _APOSTROPHES))
        if suffix:
            items.append((suffix, False))
    literal = 0
    while literal < len(items) and items[literal][1]:
        literal += 1
    head = "".join(regex for regex, _ in items[:literal])
    rest = "".join(regex for regex, _ in items[literal:])
    return re.compile(rf"{head}(?<!\w{head}){rest}(?!\w)")


def _first_words(phrase: str) -> set[bytes]:
    """Every ASCII word a match of `phrase` can start with (see `_ascii_words`)."""
    words: set[bytes] = set()
    low = _lower(phrase)
    tokens = [t for t in _PHRASE_SPLIT.split(low.strip()) if t]
    joined = ""
    for i, token in enumerate(tokens):
        for point in sorted(_split_points(token)):
            words.update(_ascii_words(joined + token[:point])[:1])
        joined += token
        words.update(_ascii_words(joined)[:1])
        if i == len(tokens) - 1:
            dropped, suffix = _plural_suffix(token)
            for ending in ("s", "es", "ies") if suffix else ():
                words.update(_ascii_words(joined[: len(joined) - dropped] + ending)[:1])
    return words


@dataclass(frozen=True, slots=True)
class _Owner:
    """One phrase of one rule."""

    rule: int
    phrase: str
    exclude: bool


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A distinct phrase regex and the rule phrases it stands for."""

    regex: re.Pattern[str]
    cased: bool  # runs on the original text (it has acronyms), not the lowercased one
    owners: tuple[_Owner, ...]


@dataclass(frozen=True, slots=True, eq=False)
class _Taxonomy:
    """A taxonomy compiled for matching (compared and hashed by identity: it is cached)."""

    rules: tuple[TopicRule, ...]
    phrases: tuple[tuple[str, ...], ...]  # per rule: its distinct phrases, as written
    regexes: tuple[_Phrase, ...]
    starts: dict[bytes, tuple[int, ...]]  # first ASCII word -> indexes into `regexes`


_LAST_COMPILED: list[tuple[tuple[TopicRule, ...], _Taxonomy]] = []


def _compiled(rules: tuple[TopicRule, ...]) -> _Taxonomy:
    """The compiled form of `rules`; the last one is remembered by identity, since hashing
    a whole taxonomy for the cache on every entry would cost more than matching it."""
    last = _LAST_COMPILED
    if last and last[0][0] is rules:
        return last[0][1]
    compiled = _compile_taxonomy(rules)
    _LAST_COMPILED[:] = [(rules, compiled)]
    return compiled


@lru_cache(maxsize=64)
def _compile_taxonomy(rules: tuple[TopicRule, ...]) -> _Taxonomy:
    by_regex: dict[tuple[str, bool], list[_Owner]] = {}
    first_words: dict[tuple[str, bool], set[bytes]] = {}
    compiled: dict[tuple[str, bool], re.Pattern[str]] = {}
    per_rule: list[tuple[str, ...]] = []
    for index, rule in enumerate(rules):
        phrases = _distinct_phrases(rule.phrases)
        per_rule.append(phrases)
        owned = [(p, False) for p in phrases] + [(p, True) for p in _distinct_phrases(rule.exclude)]
        for phrase, exclude in owned:
            cased = _has_acronym(phrase)
            regex = _phrase_regex(phrase, cased=cased)
            key = (regex.pattern, cased)
            compiled[key] = regex
            by_regex.setdefault(key, []).append(_Owner(rule=index, phrase=phrase, exclude=exclude))
            first_words.setdefault(key, set()).update(_first_words(phrase))
    keys = sorted(by_regex)
    starts: dict[bytes, list[int]] = {}
    for position, key in enumerate(keys):
        for word in first_words[key]:
            starts.setdefault(word, []).append(position)
    return _Taxonomy(
        rules=rules,
        phrases=tuple(per_rule),
        regexes=tuple(
            _Phrase(regex=compiled[key], cased=key[1], owners=tuple(by_regex[key])) for key in keys
        ),
        starts={word: tuple(found) for word, found in starts.items()},
    )


def _distinct_phrases(phrases: Iterable[str]) -> tuple[str, ...]:
    """Phrases without blanks and repeats; of spellings that match alike, the first is kept."""
    distinct: dict[str, str] = {}
    for phrase in phrases:
        text = " ".join(phrase.split())
        if any(c.isalnum() for c in text):  # a phrase of punctuation alone never matches
            tokens = _phrase_tokens(text)
            key = "".join(t if _is_acronym(t) else t.lower() for t in tokens)
            distinct.setdefault(key, text)
    return tuple(distinct.values())


def _is_shouting(text: str) -> bool:
    """A headline in capitals ("BAHIA COCOA REVIEW"): acronyms cannot be told from words."""
    return text.isupper() and len(text.split()) > 2


def _scan(taxonomy: _Taxonomy, text: str) -> Iterator[tuple[int, int, _Owner]]:
    """Every (start, end, rule phrase) in `text`, ordered by start, longest first.

    Each phrase's matches come in order already, so in a long text they are merged as they
    are found, not listed and sorted: a text full of one rule's phrases would hold ~100
    bytes a hit.
    """
    low = _lower(text)
    selected: set[int] = set()
    for word in _rule_words_in(taxonomy, low):
        selected.update(taxonomy.starts[word])
    streams = [_hits(taxonomy.regexes[index], text, low) for index in selected]
    if len(text) <= _MERGE_ABOVE:  # a story's few hits sort faster than they merge
        return iter(sorted(itertools.chain.from_iterable(streams), key=_hit_order))
    return heapq.merge(*streams, key=_hit_order)


_MERGE_ABOVE = 65536


def _hits(phrase: _Phrase, text: str, low: str) -> Iterator[tuple[int, int, _Owner]]:
    owners = sorted(phrase.owners, key=lambda owner: (owner.rule, owner.phrase))
    for match in phrase.regex.finditer(text if phrase.cased else low):
        start, end = match.span()
        for owner in owners:
            yield start, end, owner


def _hit_order(hit: tuple[int, int, _Owner]) -> tuple[int, int, int, str]:
    return hit[0], -hit[1], hit[2].rule, hit[2].phrase


def _rule_words_in(taxonomy: _Taxonomy, low: str) -> set[bytes]:
    """The words of `low` (as `_ascii_words` finds them) that some rule phrase starts with;
    a chunk at a time, so a megabyte of words is not one list of all of them."""
    found: set[bytes] = set()
    for part in cut_at_spaces(low):
        found.update(taxonomy.starts.keys() & _ascii_words(part))
    return found


@dataclass(frozen=True, slots=True)
class _Tally:
    title: dict[str, int]
    body: dict[str, int]


def _tally(taxonomy: _Taxonomy, title: str, body: str) -> dict[int, _Tally]:
    """Per rule index: how often each of its phrases occurs in the title and in the body.

    Within one rule, hits do not overlap ("prime minister" is not also "minister"); a
    rule that one of its `exclude` phrases vetoes is left out. In an all-capitals title
    the case-sensitive acronyms are not looked for.
    """
    # Title and body are scanned apart (no phrase reaches across), and body offsets follow
    # the title's: one text of both would copy the body, at two bytes a character when the
    # title has a curly quote or an ellipsis.
    title_end = len(title)
    body_start = title_end + 1
    hits = itertools.chain(
        _scan(taxonomy, title),
        (
            (start + body_start, end + body_start, owner)
            for start, end, owner in _scan(taxonomy, body)
        ),
    )
    title_acronyms = not _is_shouting(title)
    tallies: dict[int, _Tally] = {}
    vetoed: set[int] = set()
    rule_end: dict[int, int] = {}
    for start, end, owner in hits:
        in_title = start < title_end
        if in_title and not title_acronyms and _has_acronym(owner.phrase):
            continue
        if owner.exclude:
            vetoed.add(owner.rule)
            continue
        if start < rule_end.get(owner.rule, 0):
            continue
        rule_end[owner.rule] = end
        tally = tallies.get(owner.rule)
        if tally is None:
            tally = tallies[owner.rule] = _Tally(title={}, body={})
        counts = tally.title if in_title else tally.body
        counts[owner.phrase] = counts.get(owner.phrase, 0) + 1
    return {rule: tally for rule, tally in tallies.items() if rule not in vetoed}


@lru_cache(maxsize=4096)
def _has_acronym(phrase: str) -> bool:
    return any(_is_acronym(t) for t in _phrase_tokens(phrase))


def _taxonomy_topics(taxonomy: _Taxonomy, title: str, body: str) -> list[TopicMatch]:
    """The taxonomy topics of an entry with this title and body.

    Each occurrence of a phrase in the body is one hit and each in the title is
    TITLE_WEIGHT (2) hits, because a headline states what the story is about; a rule
    applies when its weighted hits reach its `min_hits` and none of its `exclude`
    phrases occurs in the title or body.
    """
    found: list[TopicMatch] = []
    for index, tally in sorted(_tally(taxonomy, title, body).items()):
        rule = taxonomy.rules[index]
        title_total = sum(tally.title.values())
        score = sum(tally.body.values()) + TITLE_WEIGHT * title_total
        if score < rule.min_hits:
            continue
        counts = [
            f'"{p}" \u00d7{tally.title.get(p, 0) + tally.body.get(p, 0)}'
            for p in taxonomy.phrases[index]
            if p in tally.title or p in tally.body
        ]
        reason = f"taxonomy: {', '.join(counts)}"
        if title_total:
            reason += f" (title \u00d7{title_total})"
        found.append(
            TopicMatch(slug=rule.slug, title=rule.title, source=TopicSource.TAXONOMY, reason=reason)
        )
    return found


def taxonomy_topics(rules: tuple[TopicRule, ...], title: str, body: str) -> list[TopicMatch]:
    """The topics of the rules in `rules` that an entry with this title and body meets."""
    return _taxonomy_topics(_compiled(rules), title, body)


def taxonomy_owner(rules: tuple[TopicRule, ...], name: str) -> TopicRule | None:
    """The rule one of whose phrases is the whole of `name` ("SCO-RATS" is the `sco` rule's):
    that name belongs to the rule's topic, never to an automatic topic of its own."""
    index = _owner_index(_compiled(rules), name)
    return None if index is None else rules[index]


@lru_cache(maxsize=4096)
def _owner_index(taxonomy: _Taxonomy, name: str) -> int | None:
    """The index of the rule that owns `name` (see `taxonomy_owner`): a feed's stories share
    most of their names, so each is looked up once."""
    low = _lower(name)
    selected: set[int] = set()
    for word in _ascii_words(low)[:1]:
        selected.update(taxonomy.starts.get(word, ()))
    for index in sorted(selected):
        phrase = taxonomy.regexes[index]
        if phrase.regex.fullmatch(name if phrase.cased else low) is not None:
            owners = [owner for owner in phrase.owners if not owner.exclude]
            if owners:
                return owners[0].rule
    return None
