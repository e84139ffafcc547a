"""Entry -> topics: explicit headers, the top-level folder, taxonomy rules and automatic names.

Pure: no I/O, no clock, no threads. Every regular expression is compiled once, either at
import or on first use of a taxonomy (cached by its tuple of frozen `TopicRule`s).
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from slugify import slugify

from feeds.formats import cut_at_spaces, lowered
from feeds.model import Config, Entry, TopicMatch, TopicRule, TopicSource

log = logging.getLogger(__name__)

# Slugs seedfeed keeps for its own feeds: `all.atom` and `_rejected.atom`-style names.
RESERVED_SLUGS = frozenset({"all"})
RESERVED_PREFIX = "_"

# Strongest first: an explicit header beats a folder, which beats the taxonomy, then auto.
_STRENGTH: dict[TopicSource, int] = {
    TopicSource.EXPLICIT: 0,
    TopicSource.FOLDER: 1,
    TopicSource.TAXONOMY: 2,
    TopicSource.AUTO: 3,
}

# A hit in the title counts this many times towards a rule's `min_hits`.
TITLE_WEIGHT = 2


# --------------------------------------------------------------------------- slugs


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


# ------------------------------------------------------------------ taxonomy phrases
#
# A taxonomy is compiled once (cached by its tuple of frozen rules) into one regex per
# distinct phrase, each starting with a literal so the regex engine finds it with a fast
# substring search, and a table of the words a phrase can start with. A text is split into
# its set of lowercase ASCII words in C (encode, translate, split); only the phrases whose
# first word is among them are searched for.

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


@dataclass(frozen=True, slots=True)
class _Taxonomy:
    """A taxonomy compiled for matching."""

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
        found.update(taxonomy.starts.keys() & set(_ascii_words(part)))
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


# ------------------------------------------------------------------------ merging


def _merge(matches: Iterable[TopicMatch]) -> tuple[TopicMatch, ...]:
    """One match per slug, sorted by slug; the strongest source wins, reasons are joined."""
    by_slug: dict[str, TopicMatch] = {}
    for match in matches:
        held = by_slug.get(match.slug)
        if held is None:
            by_slug[match.slug] = match
            continue
        strong, weak = sorted((held, match), key=lambda m: _STRENGTH[m.source])
        reason = strong.reason
        if weak.reason not in reason:
            reason = f"{reason}; {weak.reason}"
        by_slug[match.slug] = replace(strong, reason=reason)
    return tuple(by_slug[slug] for slug in sorted(by_slug))


def _rule_for(slug: str, taxonomy: Sequence[TopicRule]) -> TopicRule | None:
    """The taxonomy rule a declared name or folder stands for: by slug, else by title."""
    for rule in taxonomy:
        if rule.slug == slug:
            return rule
    for rule in taxonomy:
        if topic_slug(rule.title) == slug:
            return rule
    return None


def _named_topic(name: str, source: TopicSource, reason: str, config: Config) -> TopicMatch:
    rule = _rule_for(topic_slug(name), config.taxonomy)
    if rule is not None:
        return TopicMatch(slug=rule.slug, title=rule.title, source=source, reason=reason)
    return TopicMatch(slug=topic_slug(name), title=name, source=source, reason=reason)


def assign_topics(entry: Entry, *, rel_path: Path, config: Config) -> Entry:
    """`entry` with its explicit, folder and taxonomy topics and its automatic candidates.

    - explicit: each of `entry.declared_topics` (a `Topics:`/`Tags:` header);
    - folder: the top-level folder of `rel_path` under `seeds/`, if it is in one;
    - taxonomy: each rule of `config.taxonomy` whose phrases occur often enough in the
      title and body; a title hit counts TITLE_WEIGHT (2) times, a body hit once.

    One TopicMatch per slug, sorted by slug; when sources agree on a slug the strongest
    (explicit > folder > taxonomy > auto) keeps its title and the reasons are joined.
    """
    matches: list[TopicMatch] = []
    for declared in entry.declared_topics:
        name = " ".join(declared.split())
        if name:
            matches.append(_named_topic(name, TopicSource.EXPLICIT, f'explicit: "{name}"', config))
    if len(rel_path.parts) > 1:
        folder = rel_path.parts[0]
        matches.append(_named_topic(folder, TopicSource.FOLDER, f'folder: "{folder}/"', config))
    if config.taxonomy:
        taxonomy = _compiled(config.taxonomy)
        matches.extend(_taxonomy_topics(taxonomy, entry.title, entry.body))
    candidates = (
        extract_candidates(entry.title, entry.body, boilerplate=config.boilerplate)
        if config.auto_topics
        else ()
    )
    return replace(entry, topics=_merge(matches), candidates=candidates)


# --------------------------------------------------------------------- candidates

_UPPER = "".join(
    c for c in map(chr, range(0x41, 0x2000)) if c.isupper() and c.isalpha() and len(c) == 1
)
_U = f"[{re.escape(_UPPER)}]"
_L = r"[^\W\d_]"
_A = r"[^\W_]"
_H = r"[-\u2010\u2011]"
# The rest of a capitalised word after its capital: "akistan", "CO", "'Brien",
# "ehreek-e-Taliban", "nti-Terrorist", or the rest of a dotted abbreviation (".S.").
_WORD_REST = (
    rf"(?:\.(?:{_U}\.)+|{_A}*(?:['\u2019]{_U}{_A}*)?(?:{_H}(?:{_L}{{1,3}}{_H})?{_U}{_A}*)*)"
)
# Runs of capitalised words, on one line or across one line break (wire copy is wrapped).
# The pattern starts with the capital itself, so the regex engine skips everything else
# quickly; the look-behind then rejects a capital inside a word, after an apostrophe or
# hyphen, or after a dot ("U.S."). The run is possessive (`*+`): nothing follows it, so it
# matches the same, but without a backtracking frame per word (80 bytes a character of a
# megabyte of capitalised words).
_NAME = re.compile(
    rf"{_U}(?<![\w'\u2019\-\u2010\u2011.].){_WORD_REST}"
    rf"(?:(?:[ \t]+|[ \t]*\n[ \t]*){_U}{_WORD_REST})*+"
)
# A run of capitalised words longer than this is no name (a heading has fewer): skipped
# before it is split into words.
_NAME_MAX = 200
# What may stand between a sentence's end and its first word: spaces, quotes, bullets.
_OPENERS = frozenset(" \t\u201c\"\u2018'([*")
# What ends a sentence or opens a lead: also a bullet or a dash ("NEW YORK, March 3 - ").
_SENTENCE_ENDS = frozenset(".!?:\u2022-\u2013\u2014")
_HYPHENS = re.compile(_H)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP_WORDS = _word_set(
    """
    a about above across after afterwards again against all almost alone along already also
    although always am among amongst an and another any anyhow anyone anything anyway anywhere
    are around as at back be became because become becomes been before beforehand behind being
    below beside besides between beyond both but by can cannot could did do does doing done down
    due during each either else elsewhere enough etc even ever every everyone everything
    everywhere except few first for former formerly from further had has have having he hence her
    here hereafter hereby herein hers herself him himself his how however i if in indeed into is
    it its itself just last latter least less many may me meanwhile might mine more moreover most
    mostly much must my myself namely neither never nevertheless next no nobody none nor not
    nothing now nowhere of off often on once one only onto or other others otherwise our ours
    ourselves out over own per perhaps please rather same several she should since so some
    somehow someone something sometimes somewhere still such than that the their theirs them
    themselves then thence there thereafter thereby therefore therein these they this those though
    through throughout thus to together too toward towards under unless until up upon us very via
    was we well were what whatever when whence whenever where whereas wherever whether which while
    who whoever whole whom whose why will with within without would yet you your yours yourself
    yourselves according added adding asked amid despite following including instead later like
    said says separately today tomorrow yesterday yes ok oh dear hello thanks thank regards
    """
)
_CALENDAR_WORDS = _word_set(
    """
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday mon tue tues wed thu thur thurs fri sat sun am pm gmt utc est edt bst cet
    """
)
# Page furniture and wire-service words that are never topics.
_FURNITURE_WORDS = _word_set(
    """
    updated update follow share short url press release releases reuter reuters ap afp file
    photo photos image images picture caption copyright source sources advertisement subscribe
    sign read more click here print email comments related close search window home news
    breaking live video watch listen report reports story editor editing writing reporting
    additional by staff correspondent desk newsletter note notes
    """
)
# Titles and honorifics: a name never consists of these alone, and a person's name loses
# them from its front ("Foreign Minister Bilawal Bhutto Zardari" -> "Bilawal Bhutto Zardari").
_ROLE_WORDS = _word_set(
    """
    mr mrs ms miss mx dr prof sir dame lord lady madam mister lt gen col maj capt cpt sgt cpl
    adm cmdr brig rev fr hon sen rep gov pres president minister secretary director chairman
    chairwoman chairperson premier chancellor king queen prince princess sheikh emir
    colonel major captain sergeant admiral commander governor mayor senator representative
    ambassador envoy spokesman spokeswoman spokesperson judge pope cardinal bishop imam maulana
    mufti mullah syed
    """
)
# Words that qualify a role ("Prime", "Foreign", "Deputy"): stripped with it, never alone.
_MODIFIER_WORDS = _word_set(
    """
    vice prime deputy foreign interior information defence defense finance federal acting
    former executive chief senior junior assistant general
    """
)
# Common nouns often capitalised as part of a name ("Ministry of Foreign Affairs"): never alone.
_GENERIC_WORDS = _word_set(
    """
    ministry department office committee council agency authority government party court army
    police parliament assembly university company group bank state states republic province
    city region organization organisation union association commission board house
    """
)
# Wire-copy abbreviations: company suffixes, US states in datelines, figures.
_ABBREVIATION_WORDS = _word_set(
    """
    co inc corp corporation plc ltd llc ag sa nv ab bv gmbh spa cos bhd pty
    ala ariz ark calif colo conn del fla ga ill ind kan ky la md mass mich minn miss mo mont neb
    nev n.h. n.j. n.m. n.y. n.c. n.d. okla ore pa r.i. s.c. s.d. tenn tex va vt wash wis wyo d.c.
    dlrs dlr mln bln pct cts shr shrs qtr revs avg oper vs net a.m. p.m.
    """
)
_DIRECTION_WORDS = _word_set(
    """
    north south east west northern southern eastern western central northeast northwest southeast
    southwest united international national
    """
)
_TITLE_WORDS = _ROLE_WORDS | _MODIFIER_WORDS
# Stripped from either end of a name.
_EDGE_WORDS = _STOP_WORDS | _CALENDAR_WORDS | _FURNITURE_WORDS | _ABBREVIATION_WORDS
_NEVER_ALONE = _EDGE_WORDS | _TITLE_WORDS | _GENERIC_WORDS | _DIRECTION_WORDS
_NEVER_ACRONYM = _CALENDAR_WORDS | _FURNITURE_WORDS | _ABBREVIATION_WORDS | frozenset({"i", "a"})
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# What follows a dateline ("NEW YORK, March 3 -", "ISLAMABAD:", "TOKYO (Reuters) -").
_DATELINE_END = re.compile(
    rf"(?:,[ \t]*(?:[A-Z][A-Za-z.]{{1,6}},[ \t]*)?"
    rf"(?i:{_MONTHS}|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|\d)"
    r"|[ \t]*\(\w+\)[ \t]*[-\u2013\u2014]|[ \t]*:|[ \t]+[-\u2013\u2014][ \t])"
)


@lru_cache(maxsize=64)
def _boilerplate_names(boilerplate: tuple[str, ...]) -> frozenset[str]:
    """Configured furniture lines without wildcards, lowercased, punctuation as spaces."""
    return frozenset(
        " ".join(re.findall(r"[^\W_]+", line.lower())) for line in boilerplate if "*" not in line
    )


def _is_acronym_word(word: str) -> bool:
    return 1 < len(word) < _ACRONYM_MAX and word.isupper()


def _is_edge(word: str) -> bool:
    """A word stripped from either end of a name ("The", "However", "Updated", "May")."""
    key = word.lower()
    if key not in _EDGE_WORDS:
        return False
    return key in _NEVER_ACRONYM or not _is_acronym_word(word)  # "US" is not "us"


def _is_initial(text: str, start: int) -> bool:
    """Whether `start` begins a sentence, a paragraph or a bullet (after quotes and spaces).

    A single line break is not enough: wire copy is wrapped in the middle of sentences.
    """
    if start > 1 and text[start - 1] == " " and text[start - 2].isalnum():
        return False  # the common case: "... in Kabul"
    i = start - 1
    breaks = 0
    while i >= 0 and (text[i] in _OPENERS or text[i] == "\n"):
        breaks += text[i] == "\n"
        i -= 1
    return i < 0 or breaks > 1 or text[i] in _SENTENCE_ENDS


def _display_word(word: str) -> str:
    """An all-capitals word longer than an acronym ("ISLAMABAD") in title case."""
    if "." in word or not word.isupper():
        return word
    parts = _HYPHENS.split(word)
    if all(len(part) < _ACRONYM_MAX for part in parts):
        return word
    return "-".join(part.capitalize() for part in parts)


def _acronyms_in(words: Sequence[str]) -> list[str]:
    """The acronyms inside a longer name ("SCO Charter" -> "SCO", "SCO-RATS" -> "SCO", "RATS")."""
    return [
        part
        for word in words
        for part in _HYPHENS.split(word)
        if _is_acronym_word(part) and part.isalpha() and part.lower() not in _NEVER_ACRONYM
    ]


def _is_title_cased(title: str) -> bool:
    """A Headline Where Most Words Are Capitalised: its capitals say nothing about names."""
    words = re.findall(r"[^\W\d_]{4,}", title)
    if len(words) < 3:
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised * 4 >= len(words) * 3


def _strip_name(words: list[str]) -> list[str]:
    """Drop stop words from both ends and a leading title ("Prime Minister") from a name."""
    while words and _is_edge(words[0]):
        words = words[1:]
    while words and _is_edge(words[-1]):
        words = words[:-1]
    titles = 0
    while titles < len(words) and words[titles].lower() in _TITLE_WORDS:
        titles += 1
    if 0 < titles < len(words) and any(w.lower() in _ROLE_WORDS for w in words[:titles]):
        words = words[titles:]
    return words


def _names_in(text: str, found: list[tuple[str, bool]]) -> None:
    """Append (name, sentence_initial) for each capitalised name in `text`."""
    for match in _NAME.finditer(text):
        if match.end() - match.start() > _NAME_MAX:
            continue
        raw = match.group()
        initial = _is_initial(text, match.start())
        if raw.isalpha() and not raw.isupper():
            found.append((raw, initial))  # the common case: one capitalised word
            continue
        if " " not in raw and "\t" not in raw and "\n" not in raw:
            if len(raw) > 1:
                if initial and raw.isupper() and _DATELINE_END.match(text, match.end()):
                    found.append((raw.capitalize(), False))  # "ROME, March 3 - ..."
                    continue
                found.append((_display_word(raw), initial))
                if "-" in raw:
                    found.extend((part, False) for part in _acronyms_in([raw]) if part != raw)
            continue
        words = raw.split()
        if all(w.isupper() for w in words):
            if (
                len(words) == 2
                and all(len(w) <= 4 for w in words)
                and not (initial and _DATELINE_END.match(text, match.end()))
            ):
                # Two short words in capitals ("RATS SCO"): acronyms side by side.
                found.extend((w, False) for w in words if _is_acronym_word(w) and not _is_edge(w))
            else:
                # A dateline ("NEW YORK, March 3 -") or a heading: one name in title case.
                stripped = _strip_name([w.capitalize() for w in words])
                if stripped:
                    found.append((" ".join(stripped), False))
            continue
        stripped = _strip_name(words)
        if not stripped:
            continue
        if stripped[0] is not words[0]:
            initial = False  # "The Foreign Office": the name itself is not sentence-initial
        name = " ".join(_display_word(w) for w in stripped)
        found.append((name, initial))
        found.extend((part, False) for part in _acronyms_in(stripped) if part != name)


def _is_noise(name: str, furniture: frozenset[str]) -> bool:
    """Whether `name` is no topic: furniture, or only stop words, titles and generic nouns."""
    key = name.lower()
    if key in furniture:
        return True
    if " " in key:
        return all(word in _NEVER_ALONE for word in key.split())
    if key not in _NEVER_ALONE:
        return False
    return key in _NEVER_ACRONYM or not _is_acronym_word(name)  # "US" is not "us"


def extract_candidates(
    title: str, body: str, *, boilerplate: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The names and key phrases of a story: candidates for automatic topics.

    Runs of capitalised words ("Imran Khan", "Khyber Pakhtunkhwa"), acronyms ("SCO") and
    dotted abbreviations ("U.S."), with possessives dropped. Left out: stop words, months
    and weekdays, titles and honorifics alone, page furniture (and the configured
    `boilerplate` lines), numbers, all-capitals runs longer than acronyms, and a single
    word seen only at the start of a sentence ("However", "Addressing"). A title in all
    capitals or in Title Case is skipped, since its capitals say nothing about names.
    One display string per `topic_slug` (the most frequent spelling), sorted.
    """
    found: list[tuple[str, bool]] = []
    if title and not title.isupper() and not _is_title_cased(title):
        _names_in(title, found)
    _names_in(body, found)
    furniture = _boilerplate_names(boilerplate)
    mid_sentence = {name for name, initial in found if not initial}
    spellings: dict[str, dict[str, int]] = {}
    for name, initial in found:
        if (initial and " " not in name and name not in mid_sentence) or _is_noise(name, furniture):
            continue
        counts = spellings.setdefault(topic_slug(name), {})
        counts[name] = counts.get(name, 0) + 1
    chosen = (
        next(iter(counts))
        if len(counts) == 1
        else min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
        for counts in spellings.values()
    )
    return tuple(sorted(chosen))


# ------------------------------------------------------------------ automatic topics


def add_auto_topics(entries: Sequence[Entry], *, config: Config) -> tuple[Entry, ...]:
    """`entries` with automatic topics: each candidate slug found in enough of them.

    A candidate becomes a topic when its `topic_slug` occurs among the candidates of at
    least `config.auto_min_entries` of `entries` (each entry counted once). The topic's
    title is the spelling most entries use (ties: the smallest string). An entry that
    already has the slug keeps its stronger source. Nothing changes when
    `config.auto_topics` is off.
    """
    if not config.auto_topics:
        return tuple(entries)
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for entry in entries:
        slugs: dict[str, str] = {}
        for name in entry.candidates:
            slugs.setdefault(topic_slug(name), name)
        for slug, name in slugs.items():
            counts[slug] += 1
            spellings.setdefault(slug, Counter())[name] += 1
    chosen = {
        slug: min(spellings[slug].items(), key=lambda item: (-item[1], item[0]))[0]
        for slug, count in counts.items()
        if count >= config.auto_min_entries
    }
    result: list[Entry] = []
    for entry in entries:
        autos = [
            TopicMatch(
                slug=slug,
                title=chosen[slug],
                source=TopicSource.AUTO,
                reason=f'auto: "{chosen[slug]}" in {counts[slug]} entries',
            )
            for slug in dict.fromkeys(topic_slug(name) for name in entry.candidates)
            if slug in chosen
        ]
        if not autos:
            result.append(entry)
            continue
        kept = [_without_auto(t) for t in entry.topics if t.source is not TopicSource.AUTO]
        result.append(replace(entry, topics=_merge([*kept, *autos])))
    return tuple(result)


def _without_auto(topic: TopicMatch) -> TopicMatch:
    """`topic` without the reason an earlier `add_auto_topics` merged into it."""
    parts = [part for part in topic.reason.split("; ") if not part.startswith("auto: ")]
    return replace(topic, reason="; ".join(parts))


def explain_topics(entry: Entry) -> tuple[str, ...]:
    """One line per topic of `entry`, "slug: reason", for `seedfeed inspect --explain`."""
    return tuple(f"{topic.slug}: {topic.reason}" for topic in entry.topics)
