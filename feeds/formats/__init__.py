"""Input styles of clippings: what a style module returns, and the line rules they share."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from feeds.formats.dates import may_be_date, may_hold_date, read_free_date
from feeds.formats.phrases import load_phrases

BlockKind = Literal["p", "ul", "pre", "h", "standfirst"]
# What a line of a story is (see `feeds.formats.roles`).
Role = Literal[
    "header",
    "headline",
    "standfirst",
    "byline",
    "date",
    "dateline",
    "caption",
    "furniture",
    "body",
    "trailer",
    "blank",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """One piece of a story's text: a paragraph, a bullet list, a kept-as-is table or a heading."""

    kind: BlockKind
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    """What a style module read from one story; `normalize` turns it into an Entry."""

    format: str
    title: str | None = None
    dates: tuple[str, ...] = ()  # date texts found in the story's furniture, best first
    blocks: tuple[Block, ...] = ()
    content_html: str | None = None  # when the style renders its own HTML (Markdown)
    place: str | None = None
    author: str | None = None
    link: str | None = None
    source_name: str | None = None
    declared_topics: tuple[str, ...] = ()
    rest: tuple[str, ...] = ()  # a header block's body, to be read by another style
    roles: tuple[Role, ...] = ()  # the role of each line of the story, when the style gave them


_MONTHS = (
    r"(?P<{0}>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_TIME = (
    r"(?:(?:\s*,|\s+at)?\s+(?P<hour>\d{1,2}):(?P<minute>\d\d)(?::(?P<second>\d\d))?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?(?:\s*(?P<zone>utc|gmt|z))?)?"
)
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"

# Every date form seedfeed reads; `normalize` turns a match into a datetime.
DATE = re.compile(
    r"(?i)" + _WEEKDAY + r"(?:(?P<wday>\d{1,2})-(?P<wmon>[a-z]{3})-(?P<wyear>\d{4})\s+"
    r"(?P<whour>\d{1,2}):(?P<wmin>\d\d):(?P<wsec>\d\d)(?:\.\d+)?"
    r"|(?P<iyear>\d{4})-(?P<imon>\d\d)-(?P<iday>\d\d)(?:[T ](?P<ihour>\d\d):(?P<imin>\d\d)"
    r"(?::(?P<isec>\d\d)(?:\.\d+)?)?\s*(?P<ioff>z|[+-]\d\d:?\d\d)?)?"
    r"|(?P<dday>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTHS.format("dmon") + r",?\s+(?P<dyear>\d{4})"
    r"|"
    + _MONTHS.format("mmon")
    + r"\s+(?P<mday>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<myear>\d{4}))?"
    r")" + _TIME
)
# A line that is only a date, possibly labelled ("Updated 10 September 2025").
_DATE_LABEL = re.compile(
    r"(?i)^(?P<label>(?:last\s+|first\s+)?(?:updated|published|posted|modified|date[d]?|issued)\b"
    r"\s*(?:on|at)?\s*:?\s*)?(?P<rest>.{6,60})$"
)
DIGIT = re.compile(r"\d")
YEAR = re.compile(r"\b(?:19|20)\d\d\b")  # a year a clipping's date may name
_STAMP_START = frozenset("0123456789 \t")
_DIVIDER_START = frozenset("-*_=~#")
WIRE_DATE = re.compile(r"^\s*\d{1,2}-[A-Za-z]{3}-\d{4}\s+\d{1,3}:\d\d:\d\d(?:\.\d+)?\s*$")
BULLET = re.compile(r"^\s*(?:[•·▪◦‣●○■□\u2013*-]|\d{1,2}[.)])\s+(?=\S)")
_CAPTION_CREDIT = re.compile(
    r"(?i)\((?:[^()]{0,40}/)?(?:ap|afp|reuters|epa|file|photo|image|getty(?: images)?|xinhua"
    r"|bloomberg|shutterstock|supplied|handout|anadolu|pti|ani|afp via getty images)"
    r"(?:/[^()]{0,30})?\)\s*$"
)
_CAPTION_LABEL = re.compile(r"(?i)^(?:photo|image|picture|caption|credit)s?\s*:")
HEADER_LINE = re.compile(
    r"(?i)^(?P<key>title|headline|date|published|topics|tags|keywords|source|author|by|link|url)"
    r"\s*:\s*(?P<value>(?:.*\S)?)\s*$"
)
# "ISLAMABAD: ", "NEW YORK (AP) — ", "SALVADOR, Feb 26 - ", "PORTLAND, Ore., Feb 26 - "
_DATELINE_DAY = (
    r"^(?P<place>[^\W\d][^,\n]{0,40}),(?:\s*[^\W\d][\w.]*(?:\s[^\W\d][\w.]*){0,2},?)?\s*"
    + _MONTHS.format("mon")
    + r"\s+(?P<day>\d{1,2})\b"
)
# "(Reuters)", "/PRNewswire/", ", GNA"
_DATELINE_TAG = r"(?:\s*\([^)\n]{1,30}\)|\s*/[^/\n]{1,30}/|,\s*(?-i:[A-Z]{2,6}))?"
WIRE_DATELINE = re.compile(
    _DATELINE_DAY
    + r"(?:,?\s+(?P<year>\d{4}))?"
    + _DATELINE_TAG
    + r"\s*(?:-{1,2}|(?<=[)/]):|(?<=\))(?=\s+(?-i:[A-Z])))(?:\s|$|(?=[A-Z]))",  # "(IANS) Kerala"
    re.IGNORECASE,
)
# "ASUNCIÓN, Paraguay, July 15, 2026 — ": a release's or a web page's dateline, the date whole
# and a dash after it (a wire story's is WIRE_DATELINE).
DASHED_DATELINE = re.compile(
    _DATELINE_DAY + r",?\s+(?P<year>\d{4})" + _DATELINE_TAG + r"\s*[\u2013\u2014]\s+(?=\S)",
    re.IGNORECASE,
)
# "МОСКВА, 12 марта. /ТАСС/. ", "PARIS, 12 mars (AFP) - ": the day first, an agency's tag after.
DAY_FIRST_DATELINE = re.compile(
    r"^(?P<place>[^\W\d_][^\W\d_ -]*(?:[ -][^\W\d_]+){0,3}),\s+(?P<day>\d{1,2})\.?\s+"
    r"(?:de\s+)?(?P<mon>[^\W\d_]{3,12})\.?,?(?:\s+(?P<year>\d{4}))?\s*"
    r"(?:\([^)\n]{1,30}\)|/[^/\n]{1,30}/)\.?\s*(?:-{1,2}|[\u2013\u2014])?\s*(?=\S)"
)
# "新华社北京11月12日电（记者张伟）": an agency's dispatch in Chinese, the agency (a name ending in
# 社, 网 or 台) before the place, "电" (dispatch) after the day, the reporter in brackets.
CJK_DATELINE = re.compile(
    r"^(?:[^\W\d_]{1,5}?[社网網台])?(?P<place>[^\W\d_]{2,6}?)(?P<mon>\d{1,2})月(?P<day>\d{1,2})日[电電]"
    r"(?:\s*[（(][^）)\n]{1,30}[）)])?\s*"
)
# "(AGI) - Roma, 15 mag. - ": the agency's tag first, then the place and the day.
TAG_FIRST_DATELINE = re.compile(
    r"^\((?P<tag>[^)\n]{1,20})\)\s*[-\u2013\u2014]{1,2}\s*"
    r"(?P<place>[^\W\d_][^\W\d_ -]*(?:[ -][^\W\d_]+){0,3}),\s+(?P<day>\d{1,2})\.?\s+"
    r"(?P<mon>[^\W\d_]{3,12})\.?,?(?:\s+(?P<year>\d{4}))?\s*[-\u2013\u2014]{1,2}\s*(?=\S)"
)
WEB_DATELINE = re.compile(
    r"^(?P<place>[^\W\d_][^\W\d_.'\u2019 -]*(?:[.'\u2019 -]+[^\W\d_]+)*?\.?)"
    r"(?:,\s*\w[\w.' ,]{1,30})?(?P<tag>\s*\([^)\n]{1,30}\)|--\([^)\n]{1,30}\)(?=--))?"
    r"\s*(?P<sep>:|\.?[\u2014\u2013]|\.?--?)(?:\s+|(?<=\)--)(?=[^\W\d_]))(?=\S)"
)
# "Dar es Salaam. Serikali ...": a place of a few capitalised words closed by a full stop.
STOP_DATELINE = re.compile(r"^(?P<place>[^\W\d_]+(?: [^\W\d_]+){0,3})\.\s+(?=[^\W\d_])")
_SENTENCE_END = re.compile(r"[.!?…][\"\u201d\u2019)]*(?=\s+[\"\u201c\u2018(]?[A-Z0-9])")


_CLOSERS = "\"'\u201d\u2019)]\u00bb\u300d"
_SENTENCE_MARKS = frozenset(".!?\u2026\u3002\uff0e\uff01\uff1f")


def ends_sentence(line: str) -> bool:
    """Whether a line closes a sentence: its last mark, past closing quotes and brackets, is a
    full stop, a question or exclamation mark or an ellipsis ('said.\u201d', 'fell\u2026',
    '\u3002'). The one rule for the splitter, the wire reader and the role reader."""
    s = line.rstrip()
    if s[-1:] == ")":
        tag = s.rfind("(")  # "... the end of the month. (PNA)": an agency's tag after the end
        if (
            tag > 0
            and len(s) - tag <= _TAG
            and " " not in s[tag:]
            and "/" not in s[tag:]
            and s[:tag].rstrip()[-1:] in _SENTENCE_MARKS
        ):
            return True
    return s.rstrip(_CLOSERS)[-1:] in _SENTENCE_MARKS


_TAG = 12  # characters of an agency's tag: "(PNA)", "(sda)"


_LINK_LINE = re.compile(r"^(?:[^\W\d_][^:|]{0,40}[:|\u2192\u00bb]\s*)?<?(?P<url>https?://\S+?)>?$")


def link_line(line: str) -> str | None:
    """The address a line is, perhaps under a short label ("Read more: https://...",
    "https://..."); else None. A newsletter's item closes with one."""
    s = line.strip()
    if "://" not in s:
        return None
    m = _LINK_LINE.match(s)
    return m["url"] if m is not None else None


def is_wire_stamp(line: str) -> bool:
    """A wire date stamp line: `26-FEB-1987 15:01:01`."""
    return line[:1] in _STAMP_START and WIRE_DATE.match(line) is not None


def is_divider(line: str) -> bool:
    """A divider line such as `---`, `* * *` or `===`: three or more of one divider character,
    perhaps spaced. Counted rather than matched by a pattern, whose backreference keeps a
    backtracking frame per character (190 bytes each on a megabyte line of dashes)."""
    s = line.strip()
    mark = s[:1]
    if mark not in _DIVIDER_START:
        return False
    rest = s.replace(mark, "")
    return s.count(mark) >= 3 and (not rest or rest.isspace())


def is_header_line(line: str) -> bool:
    """A `Key: value` line of a header block."""
    return ":" in line and HEADER_LINE.match(line) is not None


def is_caption(line: str) -> bool:
    """An image caption or credit line: "... (AP/File)", "Photo: ..."."""
    s = line.rstrip()
    return (s.endswith(")") and _CAPTION_CREDIT.search(s) is not None) or (
        _CAPTION_LABEL.match(s) is not None
    )


def match_date(text: str) -> re.Match[str] | None:
    """The date filling all of `text` (a time may follow), or None."""
    return DATE.fullmatch(text.strip(" \t.,|"))


def date_line(line: str) -> tuple[str, str] | None:
    """(label, date text) when the line is a date alone, perhaps labelled; else None."""
    s = line.strip()
    if s.endswith(_MERIDIEM):
        s = s[:-1]  # "14:10 p. m.": the full stop is the time's, not a sentence's
    if not s or len(s) > 80 or s[-1] in ".,;" or DIGIT.search(s) is None or not may_be_date(s):
        return None
    m = _DATE_LABEL.match(s)
    if m is not None:
        rest = m["rest"]
        found = match_date(rest)
        if found is not None:
            if not (m["label"] or found["mday"] is None or found["myear"]):
                return None  # "March 19." ending a wrapped line is not a date line
            return (m["label"] or "").strip(" :").lower(), rest
    if read_free_date(s) is None:
        return None
    return date_label(s), s


_MERIDIEM = ("a.m.", "p.m.", "a. m.", "p. m.")


def date_label(line: str) -> str:
    """The label a date line starts with ("updated", "publié le"), lower case; "" if none."""
    low = " ".join(line.lower().split())
    labels = load_phrases().date_labels
    best = ""
    for word_end in range(len(low)):
        if low[word_end] in " :" and low[:word_end] in labels:
            best = low[:word_end]
        elif not (low[word_end].isalpha() or low[word_end] in " -'à"):
            break
    return best


def is_headline(line: str) -> bool:
    """A line that could be a headline: short, no closing full stop, not a bullet or caption."""
    s = line.strip()
    return (
        2 <= len(s) <= 200
        and s[-1] not in ".,;:\u3002\uff0e"
        and BULLET.match(line) is None
        and s.count(" ") < 30
        and not is_caption(s)
        and date_line(s) is None
    )


def paragraphs(lines: Sequence[str]) -> Iterator[list[str]]:
    """Lines grouped by blank lines, one group at a time."""
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            yield current
            current = []
    if current:
        yield current


def prose_blocks(lines: Sequence[str]) -> tuple[Block, ...]:
    """Paragraphs reflowed into one line each; runs of bullet lines become lists."""
    blocks: list[Block] = []
    for group in paragraphs(lines):
        text: list[str] = []
        items: list[str] = []
        for line in group:
            m = BULLET.match(line)
            if m is not None:
                if text:
                    blocks.append(_reflowed(text))
                    text = []
                items.append(collapse_spaces((line[m.end() :],)))
            elif items and line[:1].isspace():
                items[-1] += " " + collapse_spaces((line,))
            else:
                if items:
                    blocks.append(Block(kind="ul", lines=tuple(items)))
                    items = []
                text.append(line)
        if text:
            blocks.append(_reflowed(text))
        if items:
            blocks.append(Block(kind="ul", lines=tuple(items)))
    return tuple(blocks)


def _reflowed(lines: list[str]) -> Block:
    """Lines as one paragraph, each run of whitespace made a single space."""
    return Block(kind="p", lines=(collapse_spaces(lines),))


_CHUNK = 65536  # characters collapsed at a time


def collapsed_pieces(texts: Iterable[str]) -> Iterator[str]:
    """`" ".join(" ".join(texts).split())` in consecutive pieces: the words of `texts`, each
    run of whitespace made a single space, without a list of every word (a megabyte of
    short words split at once takes thirteen) or a piece per short text."""
    batch: list[str] = []
    size = 0
    first = True
    for text in texts:
        for part in cut_at_spaces(text):
            batch.append(part)
            size += len(part)
            if size >= _CHUNK:
                piece = " ".join(" ".join(batch).split())
                batch.clear()
                size = 0
                if piece:
                    yield piece if first else " " + piece
                    first = False
    piece = " ".join(" ".join(batch).split())
    if piece:
        yield piece if first else " " + piece


def cut_at_spaces(text: str) -> Iterator[str]:
    """`text` itself, or when longer than 64K characters, its consecutive slices of about
    that size, each cut just before a whitespace character (words stay whole)."""
    start, end_of_text = 0, len(text)
    if end_of_text <= _CHUNK:
        yield text
        return
    while start < end_of_text:
        space = _SPACE.search(text, start + _CHUNK)
        end = end_of_text if space is None else space.start()
        yield text[start:end]
        start = end


def collapse_spaces(texts: Sequence[str], *, limit: int | None = None) -> str:
    """`" ".join(" ".join(texts).split())`, or when `limit` is given at least its first
    `limit` characters (all of it if shorter)."""
    if sum(map(len, texts)) <= _CHUNK:  # the usual case, at once
        return " ".join(" ".join(texts).split())
    pieces: list[str] = []
    size = 0
    for piece in collapsed_pieces(texts):
        pieces.append(piece)
        size += len(piece)
        if limit is not None and size >= limit:
            break
    return "".join(pieces)


_SPACE = re.compile(r"\s")


def lowered(text: str) -> str:
    """`text.lower()` a slice at a time: on text that is not ASCII, `str.lower` first takes
    twelve bytes of scratch a character (slices cut at whitespace keep a final sigma)."""
    if text.isascii():
        return text.lower()
    return "".join(part.lower() for part in cut_at_spaces(text))


def same_words(line: str, title: str) -> bool:
    """Whether `" ".join(line.split()) == title`, without splitting a long line into words."""
    if len(line) < len(title) or (line[:1] != title[:1] and not line[:1].isspace()):
        return False  # too short, or it opens on another character: most lines, at once
    return collapse_spaces((line,), limit=len(title) + 1) == title


def dateline_place(text: str) -> str | None:
    """The dateline city a story's first paragraph opens with, as written."""
    m = dateline(text)
    if m is None:
        return None
    place = m["place"].split("[", 1)[0].strip()  # "New Delhi [India]"
    before, stop, agency = place.partition(". ")
    if stop and agency.lower() in load_phrases().agencies:
        place = before  # "ASTANA. KAZINFORM – "
    if place[-2:-1].islower() and place.endswith("."):
        place = place[:-1]  # "Ciudad de México.— "
    return place if 2 <= len(place) <= 40 else None


def dateline_day(text: str) -> str | None:
    """The day a dateline gives ("Feb 27", "March 9, 2026", "12 марта"), or None."""
    m = dateline(text)
    if m is None or "day" not in m.re.groupindex or m.re is CJK_DATELINE:
        return None  # a Chinese dispatch names no year: its date line gives the day
    month_first = m.re is WIRE_DATELINE or m.re is DASHED_DATELINE
    day = f"{m['mon']} {m['day']}" if month_first else f"{m['day']} {m['mon']}"
    return f"{day}, {m['year']}" if m["year"] else day


def agency_tag(text: str) -> int:
    """Where the text starts after a bare agency's tag opening it ("(Reuters) - Shares of
    ..."), a dateline without a place; 0 when there is none."""
    m = _AGENCY_TAG.match(text)
    if m is None or m["tag"].lower() not in load_phrases().agencies:
        return 0
    return m.end()


_AGENCY_TAG = re.compile(r"^\((?P<tag>[^()\n]{1,30})\)\s*(?:-{1,2}|[\u2013\u2014])\s+(?=\S)")


def dateline(text: str) -> re.Match[str] | None:
    """The "CITY, Feb 26 - ", "CITY, 12 марта. /ТАСС/. " or "CITY: " opening of a story's
    first paragraph, if any."""
    # A dateline is short: the patterns never run over a whole paragraph of capitals. The
    # readers ask of the same opening several times (its look, its role, its place, its day).
    return _dateline(text[:_DATELINE_SPAN])


@functools.lru_cache(maxsize=256)
def _dateline(text: str) -> re.Match[str] | None:
    head = text[:100]
    if text[:1] == "(":
        return TAG_FIRST_DATELINE.match(text)
    if "日电" in head or "日電" in head:
        return CJK_DATELINE.match(text)
    long_dash = "\u2014" in head or "\u2013" in head
    m = WIRE_DATELINE.match(text) if "-" in head or "(" in head else None
    if m is None and long_dash:
        m = _dashed_dateline(text)
    if m is None and ("(" in head or "/" in head):
        m = DAY_FIRST_DATELINE.match(text)
        if m is not None and not (
            m["place"].isupper()
            or ((is_name(m["place"]) or _caseless(m["place"])) and may_hold_date(m["mon"]))
        ):
            m = None  # "Tbilisi, 5 November 2026 (Agenda.ge) –", "La Paz, 10 de noviembre (ABI).-"
    if m is None:
        m = WEB_DATELINE.match(text) if ":" in head or "-" in head or long_dash else None
        if m is None or not (
            m["place"].isupper()
            or (m["tag"] and _capitalised(m["place"]))
            or (
                m["sep"] != ":"
                and _capitalised(m["place"].rstrip("."))
                and text[m.end() : m.end() + 1].isupper()
                and len(text[m.end() :].split()) >= _DATELINE_PROSE
            )
            or (
                m["sep"] != ":"
                and _caseless(m["place"])
                and len(text[m.end() :].split()) >= _DATELINE_PROSE
            )
        ):
            # "However: ..." is prose; a web dateline is in capitals, or tagged, or a
            # capitalised place before a dash and a sentence ("Wien – Die Pensionen ...")
            return _stop_dateline(text)
    return m


_DATELINE_PROSE = 8  # words after an untagged dateline in small letters: a sentence, not a role


def _dashed_dateline(text: str) -> re.Match[str] | None:
    """DASHED_DATELINE before a sentence, its place no weekday ("Thursday, March 19, 2026 —
    updated on ..." is a date line)."""
    m = DASHED_DATELINE.match(text)
    if m is None or m["place"].lower() in load_phrases().weekdays:
        return None
    return m if text[m.end() : m.end() + 1].isupper() else None


def _caseless(place: str) -> bool:
    """ "القاهرة": a short name in a script without capitals (Arabic, Hebrew, Chinese), where
    a place before a dash and a sentence is a dateline however it is written."""
    words = place.split()
    return 0 < len(words) <= _CASELESS_WORDS and all(
        c.isalpha() and not c.isupper() and not c.islower() for c in place if not c.isspace()
    )


_CASELESS_WORDS = 3


def _stop_dateline(text: str) -> re.Match[str] | None:
    """ "Dar es Salaam. Serikali imetangaza ...", "Quito. El Concejo ...": a name of up to four
    words (the first and the last capitalised, none a common word first; one word of four
    letters or more, no abbreviated title: "Prof. NAME") closed by a full stop before a
    sentence."""
    m = STOP_DATELINE.match(text)
    if m is None or not _capitalised(m["place"]):
        return None
    place = m["place"]
    if " " not in place and (len(place) < 4 or place.lower() in load_phrases().titles):
        return None
    rest = text[m.end() :]
    if not rest[:1].isupper() or len(rest.split(None, _DATELINE_PROSE)) < _DATELINE_PROSE:
        return None
    return m


_DATELINE_SPAN = 300


def _capitalised(place: str) -> bool:
    """ "Buenos Aires", "Ciudad de México": a name, and not opening with a common word."""
    return is_name(place) and place.split()[0].lower() not in load_phrases().prose_words


_NAME_WORDS = 4


def is_name(text: str) -> bool:
    """A short name: four words at most, the first and the last capitalised, any between
    capitalised or a short connector, no digit ("Ciudad de México", "Nordvik Oyj",
    "University of Glenmore")."""
    words = text.split()
    return (
        0 < len(words) <= _NAME_WORDS
        and words[0][:1].isupper()
        and words[-1][:1].isupper()
        and all(w[:1].isupper() or (w.islower() and len(w) <= 3) for w in words)
        and not any(c.isdigit() for c in text)
    )


def first_sentence(text: str) -> str:
    """The first sentence of `text` (a full stop after a lone capital is not an end)."""
    for m in _SENTENCE_END.finditer(text):
        end = m.start()
        word = text[:end].rsplit(None, 1)[-1] if text[:end].strip() else ""
        abbreviation = len(word) <= 3 and word[:1].isupper() and word.isalpha()
        if m.group()[0] == "." and (len(word) <= 1 or "." in word or abbreviation):
            continue
        return text[: m.end()]
    return text


TITLE_LENGTH = 120
_HONORIFIC = re.compile(
    # The lookahead on the first letter lets most positions fail at once.
    r"\b(?=[MDPSHRA])(?:(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|H\.E|Hon|Rev|Amb)\.?\s+(?=[A-Z])"
    r"|His Excellency\s+|Her Excellency\s+)"
)
_TRAILING_TIME = re.compile(
    r"(?i)(?:[\s,]+(?:today|yesterday|this (?:morning|afternoon|evening|week)|on \w+day))+[.!]?$"
)


def _without_trailing_time(sentence: str) -> str:
    """`sentence` less a closing "today"/"on Monday"; only its tail is searched."""
    tail = sentence[-_TAIL:]
    m = _TRAILING_TIME.search(tail)
    return sentence if m is None else sentence[: len(sentence) - len(tail) + m.start()]


_TAIL = 80


def title_from_prose(text: str) -> str:
    """The first sentence without honorifics or a trailing "today", cut to TITLE_LENGTH."""
    # The first sentence lies in the opening stretch; only that much is searched.
    sentence = first_sentence(_HONORIFIC.sub("", text[:TITLE_PROSE])).strip()
    sentence = _without_trailing_time(sentence.rstrip(".!"))
    sentence = sentence.rstrip(" ,;:.")
    if len(sentence) > TITLE_LENGTH and "(" in sentence:
        # A defined name that fits in the title stays whole; one that would be cut is
        # replaced by its acronym.
        sentence = _ACRONYM.sub(
            lambda m: m[0] if m.end() < TITLE_LENGTH else _shorten_to_acronym(m), sentence
        )
    if len(sentence) <= TITLE_LENGTH:
        return sentence
    cut = sentence[: TITLE_LENGTH - 1].rsplit(" ", 1)[0].rstrip(" ,;:(-\u2013—")
    return cut + "…"


TITLE_PROSE = 4 * TITLE_LENGTH + 400  # how much of the prose a title is looked for in
_ACRONYM = re.compile(r"((?:[^\W\d_][\w'\u2019-]*\s+){1,14})\(([A-Z][A-Z0-9&-]{1,14})\)")
_CONNECTORS = frozenset({"of", "the", "and", "for", "on", "de", "&"})


def _shorten_to_acronym(m: re.Match[str]) -> str:
    """ "the Regional Anti-Terrorist Structure (RATS)" -> "RATS" when the initials match."""
    acronym = m[2]
    letters = sorted(c for c in acronym if c.isalpha())
    words = m[1].split()
    initials: list[str] = []
    for start in range(len(words) - 1, -1, -1):
        word = words[start]
        if word.lower() in _CONNECTORS:
            continue
        if not word[:1].isupper():
            break
        initials.extend(part[0] for part in word.split("-") if part[:1].isupper())
        if sorted(initials) == letters:
            kept = words[:start]
            if kept and kept[-1].lower() == "the":
                kept.pop()
            return " ".join([*kept, acronym]) if kept else acronym
        if len(initials) > len(letters):
            break
    return m[0]
