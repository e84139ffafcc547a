"""Whole proper names in a story: the candidates for automatic topics."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from feeds.topics.places import continent_named, country_named, country_of_place
from feeds.topics.slugs import topic_slug

_ACRONYM_MAX = 6
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
# hyphen, or after a dot ("U.S.").
# A name has at most _MAX_WORDS words, so a text of nothing but capitalised words is read
# in runs of bounded size. A capital after a hyphen starts a name only after an Arabic
# article ("al-Qaeda"); after "<" it is a ticker ("<VOWG.F>"), never a name.
_MAX_WORDS = 8
# The most letters of an acronym ("OPEC", "USDA", "SCO-RATS" and "FHLBB" are; longer
# words in capitals are headline words).
MAX_ACRONYM = 8
# How much of a story is read for names: what it is about is named in its title, its lead
# and again and again, so a 9 MB file costs no more than this.
_MAX_SCAN = 100_000
# The most distinct names kept for one story (a _MAX_SCAN text holds at most ~10,000).
_MAX_NAMES = 10_000
# Distinct runs of words, and names and keys, whose reading is remembered: ~6 MB in all
# when full, and three lookups in four answered over 6,000 wire stories (the runs of
# 1,000 stories fit; at 65,536 each, ~78% of lookups and ~15 MB).
_CACHED_RUNS = 8192
_CACHED = 4096
_NAME = re.compile(
    rf"{_U}(?<![\w'\u2019.<].)(?:(?<![-\u2010\u2011].)|(?<=(?<!\w)[ae]l[-\u2010\u2011].)){_WORD_REST}"
    rf"(?:(?:[ \t]+|[ \t]*\n[ \t]*){_U}{_WORD_REST}){{0,{_MAX_WORDS - 1}}}"
)
_BREAK = r"(?:[ \t]+|[ \t]*\n[ \t]*)"
# What may join two capitalised runs into one name: "Bank of England", "Standard & Poor's",
# "AT&T", "Securities and Exchange Commission", "Vincent van Gogh".
_CONNECTOR = re.compile(
    rf"{_BREAK}(?P<word>of|for|on|and|de|du|des|la|le|van|von|der|den|del|da|di|y){_BREAK}"
    r"|[ \t]*&[ \t]*"
)
# A ticker in angle brackets after a company's name ("Volkswagen AG <VOWG.F>").
_POSSESSIVE = re.compile(r"['\u2019]s\b")
# A company's name ending in a possessive ("Standard and Poor's Corp", "McDonald's Corp").
_COMPANY = re.compile(r"['\u2019]s[ \t]+(?P<suffix>Co|Corp|Corporation|Inc|Ltd|Plc|PLC|AG|SA|NV)\b")
_POSSESSIVE_GAP = re.compile(r"['\u2019]s[ \t]+")
_COMPASS = frozenset(("North", "South", "East", "West"))
# A common noun before a number or a letter ("Chapter 11", "Series B", "Class A").
_NUMBERED = re.compile(r"[ \t]+(?:\d|[A-Z]\b)")
# An Arabic article written before a name ("al-Qaeda", "el-Sisi").
_PARTICLE = re.compile(r"(?<!\w)[ae]l[-\u2010\u2011]", re.IGNORECASE)
_TICKER = re.compile(r"[ \t]*<[A-Z0-9.]{1,12}>")
# An acronym defined after a name ("European Community (EC)", "Organization,(SCO)").
_DEFINED = re.compile(r"[ \t,]*\((?P<acronym>[A-Z][A-Za-z&.\-]{1,11})\)")
# The lead: the first paragraph, up to this many characters.
_LEAD = 600
_SHORT_LEAD = 250  # ... and at least this many (a first "paragraph" may be page furniture)
_PARAGRAPH_END = re.compile(r"\n[ \t]*\n")
# What may stand between a sentence's end and its first word: spaces, quotes, bullets.
_OPENERS = frozenset(" \t\u201c\"\u2018'([*")
# What ends a sentence or opens a lead: also a bullet or a dash ("NEW YORK, March 3 - ").
_SENTENCE_ENDS = frozenset(".!?:\u2022-\u2013\u2014")
_HYPHENS = re.compile(_H)
# What a possessive starts with (a slice of one character is looked up: cheaper than
# str.startswith, which a run of capitalised words would call three times).
_APOSTROPHES = frozenset("'\u2019")


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
    two three four five six seven eight nine ten eleven twelve twenty hundred thousand
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
    dlrs dlr mln bln pct cts shr shrs qtr mth mths revs avg oper vs net a.m. p.m.
    """
)
_DIRECTION_WORDS = _word_set(
    """
    north south east west northern southern eastern western central northeast northwest southeast
    southwest united international national
    """
)
# Nouns that end the name of a body ("... and Exchange Commission", "... and Loan Association").
_INSTITUTION_WORDS = _GENERIC_WORDS | _word_set(
    """
    exchange trade development industry industries commerce corporation corp co company
    companies inc plc ltd trust fund foundation institute bureau service services
    """
)
# The fields offices are named after ("Trade Representative", "Energy Secretary").
_FIELD_WORDS = _word_set(
    """
    trade commerce industry agriculture energy treasury labor labour transport transportation
    health education justice housing
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
    """Drop stop words and connectors from both ends, and a leading title ("Prime Minister",
    "Minister of Finance") from a name."""
    words = _strip_edges(words)
    titles = 0
    while titles < len(words) and (
        words[titles].lower() in _TITLE_WORDS or words[titles] in _CONNECTOR_WORDS
    ):
        titles += 1
    if 0 < titles < len(words) and any(w.lower() in _ROLE_WORDS for w in words[:titles]):
        words = _strip_edges(words[titles:])
    return words


_CONNECTOR_WORDS = frozenset(
    [
        "of",
        "for",
        "on",
        "and",
        "&",
        "de",
        "du",
        "des",
        "la",
        "le",
        "van",
        "von",
        "der",
        "den",
        "del",
        "da",
        "di",
        "y",
    ]
)


def _strip_edges(words: list[str]) -> list[str]:
    while words and (_is_edge(words[0]) or words[0] in _CONNECTOR_WORDS):
        words = words[1:]
    while words and (_is_edge(words[-1]) or words[-1] in _CONNECTOR_WORDS):
        words = words[:-1]
    return words


def _split_at_roles(words: list[str]) -> list[list[str]]:
    """A run split where a title stands inside it ("Bank of Japan Governor Satoshi Sumita"
    -> "Bank of Japan", "Governor Satoshi Sumita"). A title after the field of an office
    is the office's name ("U.S. Trade Representative Clayton Yeutter" -> "U.S. Trade
    Representative", "Clayton Yeutter"; but "Treasury Secretary James Baker" is a person)."""
    parts: list[list[str]] = [[]]
    for i, word in enumerate(words):
        if i and word.lower() in _ROLE_WORDS and words[i - 1].lower() not in _TITLE_WORDS:
            if words[i - 1].lower() in _FIELD_WORDS and len(parts[-1]) > 1:
                parts[-1].append(word)
                parts.append([])
                continue
            parts.append([])
        parts[-1].append(word)
    return [part for part in parts if part]


@lru_cache(maxsize=65536)
def spelling_key(name: str) -> str:
    """The slug that spellings of one name share: `topic_slug` of the name, with British
    spellings in their American form ("Organisation" and "Organization",
    "Labour" and "Labor", "Centre" and "Center") and a possessive dropped."""
    slug = topic_slug(name.replace("&", " and "))
    words = [_american(word) for word in slug.split("-")]
    return "-".join(words)


def _american(word: str) -> str:
    if word.endswith(("isation", "isations")):
        return word.replace("isation", "ization")
    if len(word) >= 6 and word.endswith("our"):
        return word[:-3] + "or"
    if len(word) >= 6 and word.endswith("ntre"):
        return word[:-2] + "er"
    if word.endswith("ence") and word[:-4] in ("def", "off", "lic"):
        return word[:-4] + "ense"
    return word


@dataclass(slots=True)
class _Seen:
    """One name's mentions in a story."""

    count: int
    prominent: bool  # in the title or the lead
    initial_only: bool  # every mention starts a sentence
    spellings: dict[str, int]  # how often each spelling is written


@dataclass(slots=True)
class _Story:
    """The names of a story as they are found: by spelling key, and the acronyms defined."""

    seen: dict[str, _Seen] = field(default_factory=dict)
    defined: dict[str, str] = field(default_factory=dict)  # acronym -> key of its long form
    furniture: frozenset[str] = frozenset()

    def add(self, name: str, *, prominent: bool, initial: bool) -> None:
        facts = _name_facts(name, self.furniture)
        if facts is None:
            return  # "B", "AA": a class of shares, a rating; page furniture
        first, label, key, country = facts
        if first is not None:
            self.add(first, prominent=prominent, initial=False)  # "Japanese Finance Ministry"
        seen = self.seen.get(key)
        if seen is not None:
            seen.count += 1
            seen.prominent = seen.prominent or prominent
            seen.initial_only = seen.initial_only and initial and not country
            seen.spellings[label] = seen.spellings.get(label, 0) + 1
        elif len(self.seen) < _MAX_NAMES:  # a text of nothing but names: the first are plenty
            self.seen[key] = _Seen(1, prominent, initial and not country, {label: 1})


@lru_cache(maxsize=_CACHED)
def _name_facts(name: str, furniture: frozenset[str]) -> tuple[str | None, str, str, bool] | None:
    """What a mention of `name` counts as, worked out once per distinct name: None for no
    name at all (a lone letter, a stop word, a title, a line of `furniture`), else the
    country its first word names (a mention of that too), the label it is counted under
    (its country, if it is one), that label's spelling key, and whether it is a country
    or continent."""
    if len(set(name.replace(".", ""))) < 2 or _is_noise(name, furniture):
        return None
    country = (
        country_named(name, codes="." in name) or _directed_country(name) or continent_named(name)
    )
    first = country_named(name.split()[0]) if country is None and " " in name else None
    label = country or name
    return first, label, spelling_key(label), country is not None


def _directed_country(name: str) -> str | None:
    """A compass point and a country or demonym the gazetteer knows, where it knows no
    country by the whole name: that country ("West Germany", "West German" -> "Germany")."""
    direction, _, rest = name.partition(" ")
    if direction not in _COMPASS or " " in rest:
        return None
    return country_named(rest)


def _headline_line(text: str, start: int, end: int) -> bool:
    """Whether the line around text[start:end] is in capitals (a heading, not prose)."""
    left = text.rfind("\n", 0, start) + 1
    right = text.find("\n", end)
    line = text[left : len(text) if right < 0 else right]
    return not any(c.islower() for c in line)


def _read_names(text: str, story: _Story, *, start: int, lead_end: int, title: bool) -> None:
    """Add the names of text[start:] to `story` (its first _MAX_SCAN characters); those
    before `lead_end` are prominent."""
    run: list[str] = []
    run_start = run_end = 0
    run_after_heading = False
    for match in _NAME.finditer(text, start, start + _MAX_SCAN):
        raw = match[0]
        found, end = match.span()
        if "\n" in raw:
            words, begin, after_heading = _heading_cut(raw, found)
            if not words:
                continue
        else:  # the common case: a run on one line
            words, begin, after_heading = raw.split(), found, False
        if begin >= 3 and text[begin - 1] in "-\u2010\u2011" and _PARTICLE.match(text, begin - 3):
            words[0] = text[begin - 3 : begin] + words[0]  # "al-Qaeda"
            begin -= 3
        if begin < run_end:
            continue  # the company suffix already read with the run before
        if text[end : end + 1] in _APOSTROPHES:
            company = _COMPANY.match(text, end)
            if company is not None:
                words[-1] += "'s"  # "Poor's Corp", "McDonald's Corp": the name goes on
                words.append(company["suffix"])
                end = company.end()
        if run:
            if text[run_end : run_end + 1] in _APOSTROPHES:  # an owner's "'s", no connector
                if _owns(text, run, run_end, begin, words):
                    run[-1] += "'s"  # "Moody's Investors Service": a body named after its owner
                    run.extend(words)
                    run_end = end
                    continue
            elif (gap := _CONNECTOR.fullmatch(text, run_end, found)) is not None and _joins(
                gap["word"] or "&",
                run,
                run_after_heading or _is_initial(text, run_start),
                words,
                _possessive_at(text, end),
            ):
                if gap["word"] is None and gap.group() == "&":
                    run[-1] = f"{run[-1]}&{words[0]}"  # "AT&T"
                    run.extend(words[1:])
                else:
                    run.extend([gap["word"] or "&", *words])
                run_end = end
                continue
            _read_run(text, story, run, run_start, run_end, run_after_heading, lead_end, title)
        run, run_start, run_end, run_after_heading = words, begin, end, after_heading
    if run:
        _read_run(text, story, run, run_start, run_end, run_after_heading, lead_end, title)


def _heading_cut(raw: str, begin: int) -> tuple[list[str], int, bool]:
    """The words of a run `raw` found at `begin`, where it starts, and whether that starts a
    line after a heading in capitals on a line of its own ("CHINA AND JAPAN TALK\nTalks at
    the Bank of Japan")."""
    cut = False
    while "\n" in raw:
        head, _, rest = raw.partition("\n")
        if any(c.islower() for c in head):
            break
        begin += len(raw) - len(rest.lstrip())
        raw = rest.lstrip()
        cut = True
    return raw.split(), begin, cut


def _owns(text: str, run: list[str], run_end: int, begin: int, words: list[str]) -> bool:
    """Whether `run` + "'s" + `words` is one name: a body whose name ends in a generic word
    ("Moody's Investors Service"), owned by no country ("Japan's Finance Ministry")."""
    return (
        _POSSESSIVE_GAP.fullmatch(text, run_end, begin) is not None
        and len(words) > 1
        and words[-1].lower() in _INSTITUTION_WORDS
        and country_named(" ".join(run)) is None
        and not _directed_country(" ".join(run))
    )


def _joins(
    connector: str, left: list[str], left_initial: bool, right: list[str], possessive: bool
) -> bool:
    """Whether `connector` joins two runs of capitalised words into one name (`possessive`:
    the right one is followed by "'s")."""
    if connector == "&":
        return True
    if left[-1].isupper() or right[0].isupper():
        return False  # "U.S. and EC", "CHINA AND JAPAN"
    if connector == "and":
        if possessive and len(left) == len(right) == 1:
            # "Standard and Poor's", but not "Britain and France's"
            return country_named(left[0]) is None and country_named(right[0]) is None
        if right[-1].lower() not in _INSTITUTION_WORDS:
            return False
        # "Securities and Exchange Commission", "Standard and Poor's Corp" ("Corp" is read
        # with "Poor's"), "Ministry of International Trade and Industry"
        return len(right) > 1 or any(w in _CONNECTOR_WORDS for w in left)
    # "Shares of Volkswagen": a lone capitalised word starting a sentence is no name's head.
    if connector == "of" and len(left) > 1 and len(right) > 1:
        # "Regional Anti-Terrorist Structure of Shanghai Cooperation Organization": two bodies.
        return right[-1].lower() not in _INSTITUTION_WORDS
    lone = left_initial and len(left) == 1
    return not (lone and left[0].lower() not in _INSTITUTION_WORDS | _TITLE_WORDS)


def _read_run(
    text: str,
    story: _Story,
    words: list[str],
    start: int,
    end: int,
    after_heading: bool,
    lead_end: int,
    title: bool,
) -> None:
    """One run of capitalised words (with connectors) -> the names in it (`after_heading`:
    it starts a line after a heading, see `_heading_cut`)."""
    run = _run_names(tuple(words), _possessive_at(text, end))
    if (
        not run.names
        or (run.headline and _headline_line(text, start, end))
        or (run.numbered and _NUMBERED.match(text, end) is not None)
    ):
        return
    prominent = title or start < lead_end
    # Whether the first name starts a sentence; "Volkswagen AG <VOWG.F>" is a company
    # wherever it stands.
    initial = (
        run.names[0][1]
        and (after_heading or _is_initial(text, start))
        and _TICKER.match(text, end) is None
    )
    for name, at_start, acronyms in run.names:
        story.add(name, prominent=prominent, initial=initial and at_start)
        for acronym in acronyms:
            story.add(acronym, prominent=prominent, initial=False)
    defined = _DEFINED.match(text, end) if run.last is not None else None
    if defined is not None and run.last is not None:
        acronym = defined["acronym"]
        if acronym.replace("-", "").replace(".", "").replace("&", "").isalpha():
            story.defined[acronym] = spelling_key(run.last)
            story.add(acronym, prominent=prominent, initial=False)


def _possessive_at(text: str, end: int) -> bool:
    """Whether "'s" follows text[:end]."""
    return text[end : end + 1] in _APOSTROPHES and _POSSESSIVE.match(text, end) is not None


@dataclass(frozen=True, slots=True)
class _Run:
    """What a run of words names, whatever text it stands in (see `_run_names`)."""

    headline: bool  # a lone word in capitals: no name if its line is in capitals
    numbered: bool  # a lone common word: no name if a number or a letter follows it
    # (name, starts the run, acronyms); none for a heading in capitals or "Series A"
    names: tuple[tuple[str, bool, tuple[str, ...]], ...]
    last: str | None  # the last name's words, for an acronym defined after it


_NO_NAMES = _Run(headline=False, numbered=False, names=(), last=None)


@lru_cache(maxsize=_CACHED_RUNS)
def _run_names(words: tuple[str, ...], possessive: bool) -> _Run:
    """The names in a run of capitalised words (`possessive`: "'s" follows it): worked out
    once per distinct run, since a story names the same things again and again and the
    stories of a feed share most of their names."""
    if all(w.isupper() or w in _CONNECTOR_WORDS for w in words):
        longest = max(len(part) for part in _HYPHENS.split(words[0]))
        if len(words) > 1 or longest >= _ACRONYM_MAX:
            return _NO_NAMES
        headline = True  # a heading or headline in capitals: its words may be anything
    else:
        headline = False
    partners = "&" in " ".join(words[-2:]) or (len(words) == 3 and words[1] == "and")
    if partners and possessive:
        words = (*words[:-1], f"{words[-1]}'s")  # "Standard & Poor's", a name
    numbered = len(words) > 1 and len(words[-1]) == 1
    if numbered:
        words = words[:-1]  # "Series A"
    lone = len(words) == 1 and _ordinary(words[0])
    if lone and numbered:
        return _NO_NAMES
    names: list[tuple[str, bool, tuple[str, ...]]] = []
    name_words: list[str] = []
    for part in _split_at_roles(list(words)):
        name_words = _strip_name(part)
        if not name_words:
            continue
        name = " ".join(_display_word(w) for w in name_words)
        at_start = not names and name_words[0] is words[0]
        acronyms = tuple(a for a in _acronyms_in(name_words) if a != name)
        names.append((name, at_start, acronyms))
    return _Run(
        headline=headline,
        numbered=lone,
        names=tuple(names),
        last=" ".join(name_words) or None,  # of the last part: none if it is only a title
    )


def _initials(name: str) -> str:
    """The capitals an acronym of `name` is made of ("Securities and Exchange Commission" ->
    "SEC", "Regional Anti-Terrorist Structure" -> "RATS")."""
    return "".join(
        part[0] for word in name.split() for part in _HYPHENS.split(word) if part[:1].isupper()
    )


def piece_of(piece: str, name: str) -> bool:
    """Whether `name` is `piece` with generic words of a body before or after it ("Federal
    Reserve" of "Federal Reserve Board", "Commerce" of "Commerce Department"): the same
    body, named in full or not. A place or a person before or after is another thing
    ("New York" and "New York Stock Exchange", "Treasury" and "Italian Treasury")."""
    short, long = spelling_key(piece).split("-"), spelling_key(name).split("-")
    cut = len(long) - len(short)
    if cut <= 0:
        return False
    if long[:cut] and long[cut:] == short:
        extra = long[:cut]
    elif long[: len(short)] == short:
        extra = long[len(short) :]
    else:
        return False
    return all(word in _INSTITUTION_WORDS for word in extra)


def is_acronym(name: str) -> bool:
    """A name in capitals short enough to be initials ("EC", "U.S.", "AT&T", "SCO-RATS")."""
    letters = sum(c.isalpha() for c in name)
    return 1 < letters <= MAX_ACRONYM and name.isupper() and " " not in name


def acronym_of(acronym: str, name: str) -> bool:
    """Whether `acronym` is made of the initials of `name` (dots, hyphens and "&" ignored)."""
    letters = "".join(c for c in acronym if c.isalpha())
    if len(letters) < 2 or " " not in name or name[0].upper() != letters[0]:
        return False
    if acronym in name.split():
        return False  # ("EC" is not the acronym of "EC Commission")
    return _initials(name) == letters.upper()


def _is_noise(name: str, furniture: frozenset[str]) -> bool:
    """Whether `name` is no topic: furniture, or only stop words, titles and generic nouns."""
    key = name.lower()
    if key in furniture:
        return True
    if " " in key:
        return all(word in _NEVER_ALONE or word in _CONNECTOR_WORDS for word in key.split())
    if key not in _NEVER_ALONE:
        return False
    return key in _NEVER_ACRONYM or not _is_acronym_word(name)  # "US" is not "us"


def _fold_pieces(story: _Story) -> None:
    """A name whose words end a longer name of the same story, or begin it (two words or
    more), is that name ("Baker" after "James Baker", "Agriculture Department" after "U.S.
    Agriculture Department", "Federal Reserve" after "Federal Reserve Board"): its mentions
    count towards the longer name. A country is never a piece ("China" in "China Daily")."""
    longer: dict[str, str] = {}
    for key, seen in story.seen.items():
        for part in _pieces(key):
            held = longer.get(part)
            if held is None or story.seen[held].count < seen.count:
                longer[part] = key
    for key in list(story.seen):
        whole_key = longer.get(key)
        if whole_key is None or whole_key not in story.seen or key not in story.seen:
            continue
        spellings = story.seen[key].spellings
        if any(country_named(s) or s in story.defined for s in spellings):
            continue  # a country, or an acronym the story defines, stands for itself
        piece, whole = story.seen.pop(key), story.seen[whole_key]
        whole.count += piece.count
        whole.prominent = whole.prominent or piece.prominent


@lru_cache(maxsize=_CACHED)
def _pieces(key: str) -> tuple[str, ...]:
    """The keys of the names that may be a piece of the name of spelling key `key` (see
    `_fold_pieces`): every end of it, and every beginning of two words or more, never cut
    at a connector ("england" is not a piece of "bank-of-england")."""
    words = key.split("-")
    pieces: list[str] = []
    for cut in range(1, len(words)):
        if words[cut - 1] not in _CONNECTOR_WORDS and words[cut] not in _CONNECTOR_WORDS:
            pieces.append("-".join(words[cut:]))
            if cut > 1:
                pieces.append("-".join(words[:cut]))
    return tuple(pieces)


def _ordinary(name: str) -> bool:
    """A single capitalised word that could be any word starting a sentence ("Shares")."""
    return name.isalpha() and name[1:].islower()


def _dateline_end(body: str, place: str | None) -> int:
    """Where the story starts after its dateline ("TOKYO, March 3 - "): the dateline is the
    place it was filed from, not a mention."""
    if not place:
        return 0
    lead = body.lstrip()
    offset = len(body) - len(lead)
    if lead[: len(place)].casefold() != place.casefold():
        return 0
    after = offset + len(place)
    match = _DATELINE_END.match(body, after)
    if match is None:
        return after
    dash = body.find("-", match.end(), match.end() + 40)
    return match.end() if dash < 0 else dash + 1


def extract_candidates(
    title: str, body: str, *, place: str | None = None, boilerplate: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The names a story is about: candidates for automatic topics.

    A name is a whole run of capitalised words with its inner connectors ("Bank of
    England", "Standard & Poor's", "Securities and Exchange Commission"), an acronym
    ("SCO") or a dotted abbreviation ("U.S."), possessives dropped, titles stripped from its
    front. Never: stop words, months, titles alone, page furniture (and the configured
    `boilerplate` lines), words in an all-capitals heading, a single word seen only at the
    start of a sentence, a ticker. A country's spellings and demonyms are the country
    ("Japanese" -> "Japan"). The story is about a name when the name is in the title or the
    lead (the first paragraph), or mentioned at least twice; the dateline is not a mention,
    but its country is always among the names (`place` "TOKYO" -> "Japan"). An acronym
    defined in the text ("European Community (EC)") counts towards its long form.

    One display string per spelling key (the most frequent spelling), sorted.
    """
    story = _Story(furniture=_boilerplate_names(boilerplate))
    if title and not title.isupper() and not _is_title_cased(title):
        _read_names(title, story, start=0, lead_end=len(title), title=True)
    start = _dateline_end(body, place)
    paragraph = _PARAGRAPH_END.search(body, start + _SHORT_LEAD, start + _LEAD)
    lead_end = start + _LEAD if paragraph is None else paragraph.start()
    _read_names(body, story, start=start, lead_end=lead_end, title=False)
    for acronym, long_key in story.defined.items():
        seen = story.seen.get(spelling_key(acronym))
        held = story.seen.get(long_key)
        if seen is None or held is None or long_key == spelling_key(acronym):
            continue
        held.count += seen.count
        held.prominent = held.prominent or seen.prominent
        if not acronym_of(acronym, max(held.spellings, key=held.spellings.__getitem__)):
            del story.seen[spelling_key(acronym)]  # its mentions are the long form's
    _fold_pieces(story)
    chosen = {
        min(seen.spellings.items(), key=lambda item: (-item[1], item[0]))[0]
        for seen in story.seen.values()
        if (seen.prominent or seen.count > 1)
        and not (seen.initial_only and all(_ordinary(s) for s in seen.spellings))
    }
    country = country_of_place(place) if place else None
    if country is not None:
        chosen.add(country)
    return tuple(sorted(chosen))
