"""Entry -> topics: explicit headers, the top-level folder, taxonomy rules and automatic names.

Pure: no I/O, no clock, no threads. Every regular expression is compiled once, either at
import or on first use of a rule (cached by the frozen `TopicRule` / boilerplate tuple).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from slugify import slugify

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
    slug = slugify(name)
    if not slug:
        digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
        return f"topic-{digest}"
    if slug in RESERVED_SLUGS or slug.startswith(RESERVED_PREFIX):
        return f"{slug.lstrip(RESERVED_PREFIX) or 'reserved'}-topic"
    return slug


# ------------------------------------------------------------------ taxonomy phrases

_SEP = r"[\s\-\u2010\u2011]"  # what may stand between the words of a phrase
_PHRASE_SPLIT = re.compile(r"[\s\-\u2010\u2011\u2013]+")
_APOSTROPHES = "'\u2019"
# Prefixes that are written joined, hyphenated or spaced ("co-operation", "cooperation").
_SHORT_PREFIXES = ("co", "non", "pre", "pro", "sub", "mid", "re")
_MIN_PART = 4  # a word splits into two parts only where both parts have at least this many letters
_ACRONYM_MAX = 6


def _is_acronym(token: str) -> bool:
    """A short all-capitals word ("SCO", "PTI", "G7"): matched case-sensitively."""
    return len(token) <= _ACRONYM_MAX and token.isupper() and any(c.isalpha() for c in token)


def _escape_letters(text: str) -> str:
    return "".join(f"[{_APOSTROPHES}]" if c in _APOSTROPHES else re.escape(c) for c in text)


def _split_points(word: str) -> list[int]:
    """Where a joined word may also be written with a space or hyphen ("counter|terrorism")."""
    if not word.isalpha():
        return []
    points = set(range(_MIN_PART, len(word) - _MIN_PART + 1))
    lower = word.lower()
    points.update(
        len(p) for p in _SHORT_PREFIXES if lower.startswith(p) and len(word) - len(p) >= _MIN_PART
    )
    return sorted(points)


def _word_pattern(word: str) -> str:
    """`word` with an optional space or hyphen at each split point."""
    points = _split_points(word)
    if not points:
        return _escape_letters(word)
    pieces: list[str] = []
    start = 0
    for point in points:
        pieces.append(_escape_letters(word[start:point]))
        start = point
    pieces.append(_escape_letters(word[start:]))
    return f"{_SEP}?".join(pieces)


def _plural_pattern(word: str) -> str:
    """The last word of a phrase, also in its plural ("policy" -> "policies", "militants")."""
    lower = word.lower()
    if len(word) > 2 and lower.endswith("y") and lower[-2] not in "aeiou":
        return f"{_word_pattern(word[:-1])}(?:y|ies)"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return f"{_word_pattern(word)}(?:es)?"
    if word[-1:].isalpha():
        return f"{_word_pattern(word)}s?"
    return _word_pattern(word)


def _token_pattern(token: str, *, last: bool) -> str:
    if _is_acronym(token):
        plural = "s?" if last and token[-1].isalpha() and token[-1] != "S" else ""
        return f"(?-i:{re.escape(token)}{plural})"
    return _plural_pattern(token) if last else _word_pattern(token)


def _phrase_pattern(phrase: str) -> str:
    """A phrase as a regex: words joined by any whitespace or hyphens (or nothing)."""
    tokens = [t for t in _PHRASE_SPLIT.split(phrase.strip()) if t]
    parts = [_token_pattern(t, last=i == len(tokens) - 1) for i, t in enumerate(tokens)]
    return f"{_SEP}*".join(parts)


def _has_acronym(phrase: str) -> bool:
    return any(_is_acronym(t) for t in _PHRASE_SPLIT.split(phrase) if t)


def _phrase_key(phrase: str) -> str:
    """Phrases with the same key match the same text ("counter-terrorism", "counterterrorism")."""
    tokens = [t for t in _PHRASE_SPLIT.split(phrase) if t]
    return "".join(t if _is_acronym(t) else t.lower() for t in tokens)


def _clean_phrases(phrases: Iterable[str]) -> tuple[str, ...]:
    """Distinct phrases, the first spelling of each kept, longest first so it wins a tie."""
    distinct: dict[str, str] = {}
    for phrase in phrases:
        text = " ".join(phrase.split())
        if text:
            distinct.setdefault(_phrase_key(text), text)
    return tuple(sorted(distinct.values(), key=lambda p: (-len(p), p)))


def _alternation(phrases: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for all `phrases`; group i+1 is phrases[i]."""
    if not phrases:
        return None
    groups = "|".join(f"({_phrase_pattern(p)})" for p in phrases)
    return re.compile(rf"(?<!\w)(?:{groups})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: TopicRule
    phrases: tuple[str, ...]
    matcher: re.Pattern[str] | None
    # The same phrases without the case-sensitive acronyms, for all-capitals titles.
    caps_phrases: tuple[str, ...]
    caps_matcher: re.Pattern[str] | None
    excluder: re.Pattern[str] | None


@lru_cache(maxsize=1024)
def _compile_rule(rule: TopicRule) -> _CompiledRule:
    phrases = _clean_phrases(rule.phrases)
    caps_phrases = tuple(p for p in phrases if not _has_acronym(p))
    return _CompiledRule(
        rule=rule,
        phrases=phrases,
        matcher=_alternation(phrases),
        caps_phrases=caps_phrases,
        caps_matcher=_alternation(caps_phrases),
        excluder=_alternation(_clean_phrases(rule.exclude)),
    )


def _is_shouting(text: str) -> bool:
    """All capitals (wire headlines): acronyms cannot be told from ordinary words there."""
    return not any(c.islower() for c in text) and any(c.isupper() for c in text)


def _count_hits(matcher: re.Pattern[str] | None, phrases: Sequence[str], text: str) -> Counter[str]:
    hits: Counter[str] = Counter()
    if matcher is None or not text:
        return hits
    for match in matcher.finditer(text):
        index = match.lastindex
        if index is not None:
            hits[phrases[index - 1]] += 1
    return hits


def _match_rule(rule: TopicRule, title: str, body: str) -> TopicMatch | None:
    """The taxonomy topic `rule` gives an entry with this title and body, if any.

    Each occurrence of a phrase in the body is one hit and each in the title is
    TITLE_WEIGHT (2) hits, because a headline states what the story is about; the topic
    applies when the weighted hits reach `rule.min_hits` and no `exclude` phrase occurs.
    """
    compiled = _compile_rule(rule)
    if compiled.matcher is None:
        return None
    if compiled.excluder is not None and (
        compiled.excluder.search(title) or compiled.excluder.search(body)
    ):
        return None
    body_hits = _count_hits(compiled.matcher, compiled.phrases, body)
    if _is_shouting(title):
        title_hits = _count_hits(compiled.caps_matcher, compiled.caps_phrases, title)
    else:
        title_hits = _count_hits(compiled.matcher, compiled.phrases, title)
    title_total = sum(title_hits.values())
    score = sum(body_hits.values()) + TITLE_WEIGHT * title_total
    if score == 0 or score < rule.min_hits:
        return None
    counts = [
        f'"{p}" \u00d7{body_hits[p] + title_hits[p]}'
        for p in compiled.phrases
        if body_hits[p] or title_hits[p]
    ]
    reason = f"taxonomy: {', '.join(counts)}"
    if title_total:
        reason += f" (title \u00d7{title_total})"
    return TopicMatch(slug=rule.slug, title=rule.title, source=TopicSource.TAXONOMY, reason=reason)


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
    for rule in config.taxonomy:
        found = _match_rule(rule, entry.title, entry.body)
        if found is not None:
            matches.append(found)
    candidates = extract_candidates(entry.title, entry.body, boilerplate=config.boilerplate)
    return replace(entry, topics=_merge(matches), candidates=candidates)


# --------------------------------------------------------------------- candidates

_UPPER = "".join(
    c for c in map(chr, range(0x41, 0x2000)) if c.isupper() and c.isalpha() and len(c) == 1
)
_UPPER_CLASS = f"[{re.escape(_UPPER)}]"
_LETTERS = r"[^\W\d_]"
_ALNUM = r"[^\W_]"
# A capitalised word: "Pakistan", "SCO", "O'Brien", "Tehreek-e-Taliban", "Anti-Terrorist",
# or a dotted abbreviation ("U.S.").
_CAP_WORD = (
    rf"(?:(?:{_UPPER_CLASS}\.){{2,}}"
    rf"|{_UPPER_CLASS}{_ALNUM}*(?:[{_APOSTROPHES}]{_UPPER_CLASS}{_ALNUM}*)?"
    rf"(?:[-\u2010\u2011](?:{_LETTERS}{{1,3}}[-\u2010\u2011])?{_UPPER_CLASS}{_ALNUM}*)*)"
)
_CANDIDATE = re.compile(
    rf"(?:(?P<initial>(?:^|(?<=[.!?:\u2022]))[ \t\u201c\"\u2018'(\[*\u2022\-\u2013\u2014]*)"
    rf"|(?<![\w'\u2019\-\u2010\u2011.]))"
    rf"(?P<name>{_CAP_WORD}(?:[ \t]+{_CAP_WORD})*)",
    re.MULTILINE,
)
_WORD_SPLIT = re.compile(r"[ \t]+")
_HYPHENS = re.compile(r"[-\u2010\u2011]")


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
    yourselves according added adding asked although amid despite following including instead
    later like meanwhile most next no one said says separately still today tomorrow yesterday
    yes ok oh dear hello thanks thank regards
    """
)
_CALENDAR_WORDS = _word_set(
    """
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday mon tue tues wed thu thur thurs fri sat sun am pm gmt utc est edt bst cet
    """
)
# Titles and honorifics: a name never consists of these alone, and a person's name loses
# them from its front ("Foreign Minister Bilawal Bhutto Zardari" -> "Bilawal Bhutto Zardari").
_ROLE_WORDS = _word_set(
    """
    mr mrs ms miss mx dr prof sir dame lord lady madam mister lt gen col maj capt cpt sgt cpl
    adm cmdr brig rev fr hon sen rep gov pres president minister secretary director chairman
    chairwoman chairperson premier chancellor king queen prince princess sheikh emir general
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
_TITLE_WORDS = _ROLE_WORDS | _MODIFIER_WORDS
# Common nouns often capitalised as part of a name ("Ministry of Foreign Affairs"): never alone.
_GENERIC_WORDS = _word_set(
    """
    ministry department office committee council agency authority government party court army
    police parliament assembly university company group bank state states republic province
    city region organization organisation union association commission board house
    """
)
# Page furniture and wire-service words that are never topics.
_FURNITURE_WORDS = _word_set(
    """
    updated update follow share short url press release releases reuter reuters ap afp file
    photo photos image images picture caption copyright source sources advertisement subscribe
    sign read more click here print email comments related close search window home news
    breaking live video watch listen report reports story editor editing writing reporting
    additional by staff correspondent desk newsletter
    """
)
_SKIP_WORDS = _STOP_WORDS | _CALENDAR_WORDS | _FURNITURE_WORDS
_ACRONYM_WORD = re.compile(r"^[^\W\d_][^\W_]*$")


@lru_cache(maxsize=64)
def _boilerplate_names(boilerplate: tuple[str, ...]) -> frozenset[str]:
    """Configured furniture lines without wildcards, lowercased and without punctuation."""
    return frozenset(
        " ".join(re.findall(r"[^\W_]+", line.lower())) for line in boilerplate if "*" not in line
    )


def _word_key(word: str) -> str:
    return word.lower().rstrip(".").replace("\u2019", "'")


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
        if 1 < len(part) < _ACRONYM_MAX and part.isupper() and part.isalpha()
    ]


def _is_title_cased(title: str) -> bool:
    """A Headline Where Most Words Are Capitalised: its capitals say nothing about names."""
    words = [w for w in re.findall(r"[^\W\d_]{4,}", title)]
    if len(words) < 3:
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised * 4 >= len(words) * 3


def _strip_name(words: list[str]) -> list[str]:
    """Drop stop words from both ends and a leading title ("Prime Minister") from a name."""
    while words and _word_key(words[0]) in _SKIP_WORDS:
        words = words[1:]
    while words and _word_key(words[-1]) in _SKIP_WORDS:
        words = words[:-1]
    titles = 0
    while titles < len(words) and _word_key(words[titles]) in _TITLE_WORDS:
        titles += 1
    if 0 < titles < len(words) and any(_word_key(w) in _ROLE_WORDS for w in words[:titles]):
        words = words[titles:]
    return words


def _names_in(text: str, found: list[tuple[str, bool]]) -> None:
    """Append (name, sentence_initial) for each capitalised name in `text`."""
    for match in _CANDIDATE.finditer(text):
        words = _WORD_SPLIT.split(match.group("name"))
        initial = match.group("initial") is not None
        shouting = len(words) > 1 and all(w.isupper() for w in words)
        if shouting:
            # A run of capitals ("BAHIA COCOA REVIEW", "RATS SCO"): keep its acronyms only.
            found.extend((w, False) for w in words if len(w) < _ACRONYM_MAX and "." not in w)
            continue
        stripped = _strip_name(words)
        if len(stripped) != len(words) and stripped and stripped[0] != words[0]:
            initial = False  # "The Foreign Office": the name itself is not sentence-initial
        if not stripped:
            continue
        name = " ".join(_display_word(w) for w in stripped)
        found.append((name, initial))
        if " " in name or "-" in name:
            found.extend((part, False) for part in _acronyms_in(stripped) if part != name)


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
    One display string per slug (the most frequent spelling), sorted.
    """
    found: list[tuple[str, bool]] = []
    if title and not _is_shouting(title) and not _is_title_cased(title):
        _names_in(title, found)
    _names_in(body, found)
    furniture = _boilerplate_names(boilerplate)
    mid_sentence = {name for name, initial in found if not initial}
    spellings: dict[str, Counter[str]] = {}
    for name, initial in found:
        key = _word_key(name)
        if (
            key in _SKIP_WORDS
            or key in _TITLE_WORDS
            or key in _GENERIC_WORDS
            or key in furniture
            or " ".join(re.findall(r"[^\W_]+", key)) in furniture
            or len(name) < 2
            or (initial and " " not in name and name not in mid_sentence)
            or all(_word_key(w) in _TITLE_WORDS for w in name.split())
        ):
            continue
        spellings.setdefault(topic_slug(name), Counter())[name] += 1
    chosen = (
        min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
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
        kept = [t for t in entry.topics if t.source is not TopicSource.AUTO]
        result.append(replace(entry, topics=_merge([*kept, *autos])))
    return tuple(result)


def explain_topics(entry: Entry) -> tuple[str, ...]:
    """One line per topic of `entry`, "slug: reason", for `seedfeed inspect --explain`."""
    return tuple(f"{topic.slug}: {topic.reason}" for topic in entry.topics)
