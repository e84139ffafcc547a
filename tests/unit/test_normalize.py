"""split_entries on the shipped sample seeds, the clippings in tests/data and plain values."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.config import DEFAULT_CONFIG
from feeds.errors import RejectedFile
from feeds.ingest import decode_text
from feeds.model import Config, Document, Entry
from feeds.normalize import (
    _ProseScan,
    explain_lines,
    fingerprint,
    parse_date,
    shorten,
    split_entries,
    title_case,
)
from tests.conftest import SAMPLE_SEEDS

DATA = Path(__file__).resolve().parents[1] / "data"
CLIPPINGS = sorted(p for p in DATA.iterdir() if p.suffix in (".txt", ".md"))
FURNITURE = ("Short Url", "Follow", "Updated", "(AP/File)", "Pakistani soldiers arrive")


def _document(text: str, name: str = "clip.txt") -> Document:
    return Document(
        rel_path=Path(name),
        text=text,
        content_hash="0" * 64,
        encoding="utf-8",
        size=len(text.encode()),
        mtime_ns=0,
        inode=0,
    )


def _split(
    text: str, now: datetime, name: str = "clip.txt", config: Config = DEFAULT_CONFIG
) -> tuple[Entry, ...]:
    return split_entries(_document(text, name), config=config, now=now)


def _seed_entries(now: datetime) -> list[Entry]:
    entries: list[Entry] = []
    for path in sorted(SAMPLE_SEEDS.glob("*.txt")):
        entries.extend(_split(path.read_text(encoding="utf-8"), now, path.name))
    return entries


def test_sample_seeds_give_three_entries(now: datetime) -> None:
    first, second, release = _seed_entries(now)

    assert first.title == "Pakistan assumes chair of SCO\u2019s permanent body on counterterrorism"
    assert first.published == datetime(2025, 9, 10, tzinfo=UTC)
    assert first.place == "ISLAMABAD"
    assert first.content.startswith("<p>ISLAMABAD: Pakistan has assumed")
    assert first.summary.startswith("Regional Anti-Terrorist Structure is SCO\u2019s")
    assert "In its capacity as chair of SCO RATs" in first.summary

    assert second.title == (
        "Pakistan opposition rallies in Khyber Pakhtunkhwa to demand release of Imran Khan"
    )
    assert second.published == datetime(2025, 12, 7, tzinfo=UTC)
    assert second.content.startswith("<p>ISLAMABAD: Pakistan\u2019s opposition")
    assert second.summary.startswith("PTI-led gathering calls the former PM")
    assert "Government says the opposition failed" in second.summary

    for entry in (first, second):
        for text in (entry.content, entry.body, entry.summary):
            for furniture in FURNITURE:
                assert furniture not in text
            assert entry.title not in text

    assert release.published == datetime(2022, 8, 11, tzinfo=UTC)
    assert len(release.title) <= 120
    assert "SCO-RATS" in release.title and "Director" in release.title
    assert not release.title.rstrip(".… ").endswith("today")
    for honorific in ("Mr.", "Ms.", "Dr.", "Mrs."):
        assert honorific not in release.title
    for text in (release.title, release.content, release.body, release.summary):
        assert "Press Releases|" not in text
        assert "Close Search Window" not in text
        assert "11 August 2022" not in text
    assert release.format == "press"


def test_sample_seed_entries_are_distinct_and_complete(now: datetime) -> None:
    entries = _seed_entries(now)
    assert len({e.fingerprint for e in entries}) == 3
    for entry in entries:
        assert entry.body and entry.summary and entry.content
        assert len(entry.summary) <= DEFAULT_CONFIG.summary_length
        assert entry.topics == () and entry.candidates == ()


def test_changing_one_story_keeps_the_other_fingerprint(now: datetime) -> None:
    text = (SAMPLE_SEEDS / "000_5a940adfff668c84.txt").read_text(encoding="utf-8")
    before = _split(text, now)
    after = _split(
        text.replace("Some participants of the rally", "Many participants of the rally"), now
    )
    assert before[0].fingerprint == after[0].fingerprint
    assert before[1].fingerprint != after[1].fingerprint


def test_file_without_a_story_is_rejected(now: datetime) -> None:
    with pytest.raises(RejectedFile) as info:
        _split("Short Url\nFollow\n\nShare\n", now)
    assert info.value.rel_path == Path("clip.txt")


def test_fingerprint_ignores_whitespace() -> None:
    assert fingerprint("A  title", "One\n\ntwo") == fingerprint("A title", "One two")


def test_future_date_is_dropped(now: datetime) -> None:
    (entry,) = _split("A headline\n\nUpdated 10 September 2030\n\nSome text of the story.\n", now)
    assert entry.published is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10 September 2025", datetime(2025, 9, 10, tzinfo=UTC)),
        ("March 12, 2026", datetime(2026, 3, 12, tzinfo=UTC)),
        ("2026-03-12", datetime(2026, 3, 12, tzinfo=UTC)),
        ("2026-03-12T10:30:00+02:00", datetime(2026, 3, 12, 8, 30, tzinfo=UTC)),
        ("2026-03-12T10:30:00Z", datetime(2026, 3, 12, 10, 30, tzinfo=UTC)),
        ("2026-06-09 10:42 GMT", datetime(2026, 6, 9, 10, 42, tzinfo=UTC)),
        ("2026-06-09 3:05 PM", datetime(2026, 6, 9, 15, 5, tzinfo=UTC)),
        ("26-FEB-1987 15:01:01", datetime(1987, 2, 26, 15, 1, 1, tzinfo=UTC)),
        ("7-APR-1987 09:58:22", datetime(1987, 4, 7, 9, 58, 22, tzinfo=UTC)),
        ("Feb 26", datetime(2026, 2, 26, tzinfo=UTC)),
        ("Dec 26", datetime(2025, 12, 26, tzinfo=UTC)),
        ("Thursday, March 12, 2026 3:15 PM", datetime(2026, 3, 12, 15, 15, tzinfo=UTC)),
        (
            "November 24, 2026 07:00 AM Eastern Standard Time",
            datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        ),
        (
            "July 2, 2026 4:30 PM Central European Summer Time",
            datetime(2026, 7, 2, 14, 30, tzinfo=UTC),
        ),
        ("no date here", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None, now: datetime) -> None:
    from zoneinfo import ZoneInfo

    assert parse_date(text, zone=ZoneInfo("UTC"), now=now) == expected


def test_parse_date_reads_local_time_in_the_configured_zone(now: datetime) -> None:
    from zoneinfo import ZoneInfo

    got = parse_date("10 September 2025", zone=ZoneInfo("Asia/Karachi"), now=now)
    assert got == datetime(2025, 9, 9, 19, 0, tzinfo=UTC)


def test_shorten_prefers_a_sentence_end() -> None:
    text = "First sentence is here. Second one is a good deal longer than the first one."
    assert shorten(text, 40) == "First sentence is here."
    assert shorten("word " * 20, 22) == "word word word word…"
    assert shorten("short", 40) == "short"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("BAHIA COCOA REVIEW", "Bahia Cocoa Review"),
        ("STANDARD OIL <SRD> TO FORM FINANCIAL UNIT", "Standard Oil <SRD> to Form Financial Unit"),
        ("U.K. MONEY MARKET SHORTAGE FORECAST", "U.K. Money Market Shortage Forecast"),
        (
            "FHLBB CHANGES SHORT-TERM DISCOUNT NOTE RATES",
            "FHLBB Changes Short-Term Discount Note Rates",
        ),
        ("OPEC SEEN HOLDING OUTPUT", "OPEC Seen Holding Output"),
    ],
)
def test_title_case_keeps_acronyms(title: str, expected: str) -> None:
    assert title_case(title) == expected


def test_there_are_enough_sample_clippings() -> None:
    assert len(CLIPPINGS) >= 25
    for path in CLIPPINGS:
        assert path.with_name(f"{path.stem}.expected.json").is_file(), path.name


@pytest.mark.parametrize("path", CLIPPINGS, ids=lambda p: p.name)
def test_clipping_gives_expected_entries(path: Path, now: datetime) -> None:
    expected = json.loads(path.with_name(f"{path.stem}.expected.json").read_text("utf-8"))
    config = DEFAULT_CONFIG
    if isinstance(expected, dict):
        config = replace(DEFAULT_CONFIG, **expected["config"])
        expected = expected["entries"]
    text, _ = decode_text(Path(path.name), path.read_bytes())
    entries = _split(text, now, path.name, config)

    assert [e.title for e in entries] == [x["title"] for x in expected]
    for entry, want in zip(entries, expected, strict=True):
        published = entry.published.strftime("%Y-%m-%dT%H:%M:%SZ") if entry.published else None
        assert published == want["published"]
        assert entry.summary == want["summary"]
        assert len(entry.summary) <= config.summary_length
        assert entry.place == want["place"]
        assert entry.author == want["author"]
        assert entry.link == want["link"]
        assert entry.source_name == want.get("source_name")
        assert list(entry.declared_topics) == want["declared_topics"]
        if "format" in want:
            assert entry.format == want["format"]
        if "content" in want:
            assert entry.content == want["content"]
        else:
            assert entry.content.startswith(want["content_starts"])
        for unwanted in want.get("content_excludes", ()):
            assert unwanted not in entry.content
            assert unwanted not in entry.body
        assert entry.fingerprint == fingerprint(entry.title, entry.body)


def test_same_story_in_two_files_has_one_fingerprint(now: datetime) -> None:
    single = _split((DATA / "web-single.txt").read_text("utf-8"), now)
    twice = (DATA / "web-single.txt").read_text("utf-8")
    doubled = _split(twice + "\n\n" + (DATA / "web-no-date.txt").read_text("utf-8"), now)
    assert single[0].fingerprint == doubled[0].fingerprint
    assert len(doubled) == 2


def test_boilerplate_patterns_match_whole_lines_ignoring_case(now: datetime) -> None:
    config = replace(DEFAULT_CONFIG, boilerplate=("share", "Click here to*", "*cookies*", "*|"))
    text = (
        "A headline about bakeries\n\nUpdated 3 March 2026\n\n"
        "BERLIN: Bakers share their recipes.\n\nSHARE\n\nclick here to subscribe\n\n"
        "We use cookies to improve this site\n\nNews|\n\nSales rose again.\n"
    )
    (entry,) = _split(text, now, config=config)
    assert entry.body == "BERLIN: Bakers share their recipes.\n\nSales rose again."


def test_a_wrapped_line_matching_a_wildcard_pattern_stays_in_its_paragraph(now: datetime) -> None:
    text = (
        "BAKER NAMES NEW AGENCY\n1-APR-1987 16:18:14\n\nCINCINNATI, April 1 - The baker named\n"
        "an agency for its Ready-to-Serve Cookies, effective\nimmediately.\n"
    )
    (entry,) = _split(text, now)
    assert entry.body.endswith("Ready-to-Serve Cookies, effective immediately.")


def test_a_headline_matching_a_boilerplate_pattern_is_kept(now: datetime) -> None:
    config = replace(DEFAULT_CONFIG, boilerplate=("*cookies*",))
    text = "GIRL SCOUTS SELL MORE COOKIES\n7-APR-1987 09:58:22\n\nNEW YORK, April 7 - Sales rose.\n"
    (entry,) = _split(text, now, config=config)
    assert entry.title == "GIRL SCOUTS SELL MORE COOKIES"


def test_title_case_applies_only_to_all_caps_titles(now: datetime) -> None:
    config = replace(DEFAULT_CONFIG, title_case=True)
    wire_text = (
        "OPEC OUTPUT FALLS IN MARCH\n2-APR-1987 10:00:00\n\nVIENNA, April 2 - Output fell.\n"
    )
    assert _split(wire_text, now, config=config)[0].title == "OPEC Output Falls in March"
    web_text = "OPEC output falls in March\n\nUpdated 2 April 2026\n\nVIENNA: Output fell.\n"
    assert _split(web_text, now, config=config)[0].title == "OPEC output falls in March"


def test_header_date_wins_over_the_body_date(now: datetime) -> None:
    text = "Date: 2026-01-02\nTags: a\n\nHEADLINE\n3-MAR-2026 10:00:00\n\nLIMA, March 3 - Text.\n"
    (entry,) = _split(text, now)
    assert entry.published == datetime(2026, 1, 2, tzinfo=UTC)
    assert entry.title == "HEADLINE"
    assert entry.declared_topics == ("a",)


def test_a_title_line_opens_a_story_even_with_its_text_right_under_it(now: datetime) -> None:
    text = (
        "Title: First story\nDate: 2024-03-01\n\nThe first story's text.\n\n"
        "Title: Second story\nIts text comes straight under its title.\n"
    )
    first, second = _split(text, now)
    assert (first.title, first.body) == ("First story", "The first story's text.")
    assert "Its text comes straight under its title" in second.body


def test_odd_inputs_give_entries_or_a_rejection_never_a_crash(now: datetime) -> None:
    pieces = [
        "Headline",
        "",
        "Updated 31 February 2026",
        "9999-12-31T23:59:59-14:00",
        "---",
        "* * *",
        "Title:",
        "Date: 2026-02-30",
        " Reuter",
        "1-JAN-0001 00:00:00",
        "• ",
        "-",
        "Feb 29",
        "Press Releases|",
        "Follow",
        "CITY: text.",
        "   a   b   c",
        "Some prose sentence here.",
    ]
    for size in range(1, len(pieces)):
        for start in range(len(pieces)):
            lines = [pieces[(start + k * 7) % len(pieces)] for k in range(size)]
            for name in ("odd.txt", "odd.md"):
                try:
                    entries = _split("\n".join(lines), now, name)
                except RejectedFile:
                    continue
                for entry in entries:
                    assert entry.title and entry.body
                    assert entry.published is None or entry.published <= now


def test_explain_lines_gives_every_line_its_role(now: datetime) -> None:
    text = (
        "Skip to content\n\nHarbour reopens after storm\n\nBy Ana Lima\nPublished 3 March 2026\n\n"
        "PORTO: The harbour reopened on Tuesday.\n\nCopyright 2026 Coastal Press\n"
    )
    (story,) = explain_lines(_document(text), config=DEFAULT_CONFIG)
    roles = {line: role for role, line in story if line}
    assert roles["Harbour reopens after storm"] == "headline"
    assert roles["By Ana Lima"] == "byline"
    assert roles["Published 3 March 2026"] == "date"
    assert roles["PORTO: The harbour reopened on Tuesday."] == "dateline"
    assert roles["Copyright 2026 Coastal Press"] == "trailer"
    assert "Skip to content" not in roles


def test_explain_lines_names_the_parts_of_wire_copy_under_a_header() -> None:
    text = (
        "Title: Berth approved\nTopics: ports\n\nBERTH APPROVED\n4-MAR-2026 11:42:07\n\n"
        "ROTTERDAM, March 4 - The board approved a\nnew berth.\n Reuter\n"
    )
    (story,) = explain_lines(_document(text), config=DEFAULT_CONFIG)
    assert [role for role, _ in story] == [
        "header",
        "header",
        "header",
        "headline",
        "date",
        "blank",
        "dateline",
        "body",
        "trailer",
    ]


def test_wire_text_under_a_header_is_read_as_the_wire_story_it_is(now: datetime) -> None:
    """Under a header block that names it, wire copy without its headline keeps its table and
    its last line ("Record March 20" is the text's, not a closing date): the same entry as
    the wire story with its headline and stamp."""
    text = (
        "SAN MATEO, Calif., March 2 - Shr and net:\n"
        "    Shr        13 cts vs 12 cts\n"
        "    Net        1.2 mln vs 1.1 mln\n"
        "\n"
        "    Pay April 1\n"
        "    Record March 20\n"
        " Reuter\n"
    )
    (headed,) = _split(f"Title: BANCORP SETS DIVIDEND\nDate: 1987-03-02\n\n{text}", now)
    (wired,) = _split(f"BANCORP SETS DIVIDEND\n2-MAR-1987 09:00:00\n\n{text}", now)
    assert headed.content == wired.content
    assert "<pre>" in headed.content and "Record March 20" in headed.body
    assert headed.place == wired.place == "SAN MATEO"
    (story,) = explain_lines(_document(f"Title: BANCORP\n\n{text}"), config=DEFAULT_CONFIG)
    roles = ["header", "header", "dateline", "body", "body", "blank", "body", "body", "trailer"]
    assert [role for role, _ in story] == roles


class _CountedLines(list[str]):
    """The stripped lines of a file, counting how often each is read."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines)
        self.reads: dict[int, int] = {}

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        if isinstance(index, int):
            self.reads[index] = self.reads.get(index, 0) + 1
        return super().__getitem__(index)


def test_the_prose_before_a_headline_is_looked_for_once_a_line_while_the_story_stays() -> None:
    """A file of many headlines over bylines and no prose: each headline asks whether the
    story so far has prose, and each line is tested once, not once per headline after it."""
    groups = 300
    lines = _CountedLines(
        [line for k in range(groups) for line in (f"Notice {k}", "By Jane Doe", "", "Short")]
    )
    scan = _ProseScan(lines)
    for end in range(4, len(lines) + 1, 4):
        assert scan.since(0, end) is False
    assert max(lines.reads.values()) == 1
    assert len(lines.reads) == len(lines)
    lines[-1] = "The harbour authority said the berth reopened after two weeks of repairs."
    assert _ProseScan(lines).since(0, len(lines)) is True


def test_a_date_under_a_standfirst_does_not_close_the_story(now: datetime) -> None:
    text = (
        "Bundesrat will Mieterschutz stärken\n\n"
        "Vermieter sollen Mieten nur noch begrenzt erhöhen dürfen.\n\n"
        "14.04.2026, 11.32 Uhr\n\nDrucken\n\n"
        "Der Bundesrat will Mieter besser schützen. Er hat am Dienstag eine Vorlage geschickt.\n"
    )
    (entry,) = _split(text, now)
    assert entry.title == "Bundesrat will Mieterschutz stärken"
    assert entry.published == datetime(2026, 4, 14, 11, 32, tzinfo=UTC)


def test_wire_stories_under_tagged_datelines_in_small_letters_are_split(now: datetime) -> None:
    text = (
        "Air quality worsens as fires burn\n\n"
        "Kathmandu, April 2 (RSS): Air quality reached hazardous levels on Thursday.\n\n"
        "Nepal Airlines adds flights to Osaka\n\n"
        "Kathmandu, April 2 (RSS): Nepal Airlines will add three weekly flights from May.\n"
    )
    entries = _split(text, now)
    assert [e.title for e in entries] == [
        "Air quality worsens as fires burn",
        "Nepal Airlines adds flights to Osaka",
    ]
    assert [e.place for e in entries] == ["Kathmandu", "Kathmandu"]


def test_a_cookie_notice_over_a_page_is_not_the_text_of_a_story(now: datetime) -> None:
    text = (
        "We use cookies to improve your experience on our website. By continuing to browse, "
        "you agree to our use of cookies.\nAccept\n\nNews24\n\n"
        "Eskom says load shedding will stay suspended\n\nSipho Mthembu\n"
        "Published 14 May 2026 07:45 SAST\n\n"
        "Eskom said on Thursday that it did not expect to implement load shedding this weekend.\n"
    )
    (entry,) = _split(text, now)
    assert entry.title == "Eskom says load shedding will stay suspended"
    assert entry.published == datetime(2026, 5, 14, 5, 45, tzinfo=UTC)


def test_the_splitter_knows_a_byline_as_the_reader_does(now: datetime) -> None:
    """A headline over a byline in any language the phrases know starts a story, as the
    reader of roles reads that byline ("Par NAME", "Von NAME", "By NAME, AGENCY")."""
    text = (
        "Les pêcheurs bretons bloquent le port de Brest\nPar Claire Dubois\n10 mars 2026\n\n"
        "Les pêcheurs bretons ont bloqué mardi le port de Brest contre les quotas.\n\n"
        "Le gouvernement annonce une aide aux agriculteurs\nPar Julien Martin\n11 mars 2026\n\n"
        "Le gouvernement a annoncé mercredi une aide de 400 millions d'euros aux agriculteurs.\n"
    )
    entries = _split(text, now)
    assert [e.title for e in entries] == [
        "Les pêcheurs bretons bloquent le port de Brest",
        "Le gouvernement annonce une aide aux agriculteurs",
    ]
    assert [e.author for e in entries] == ["Claire Dubois", "Julien Martin"]
    assert [e.published for e in entries] == [
        datetime(2026, 3, 10, tzinfo=UTC),
        datetime(2026, 3, 11, tzinfo=UTC),
    ]


def test_a_wire_story_dated_at_its_end_by_its_own_day_holds_no_release(now: datetime) -> None:
    """Paragraphs that name new people are the wire story's own when the closing date is the
    dateline's day: only a release, dated another day, is cut from it."""
    text = (
        "Nepal Airlines adds flights to Osaka\n\n"
        "Kathmandu, April 2 (RSS): Nepal Airlines will add three weekly flights to Osaka from "
        "May, the national flag carrier said on Thursday.\n\n"
        "Tourism Minister Badri Pandey said the flights would bring more visitors to Nepal.\n\n"
        "April 2, 2026\n"
    )
    (entry,) = _split(text, now)
    assert entry.title == "Nepal Airlines adds flights to Osaka"
    assert "Tourism Minister" in entry.body
    released = text.replace("Tourism Minister Badri Pandey said", "Himalayan Bank said").replace(
        "April 2, 2026", "April 3, 2026"
    )
    wire_story, release = _split(released, now)
    assert wire_story.title == "Nepal Airlines adds flights to Osaka"
    assert release.title.startswith("Himalayan Bank said")
    assert release.published == datetime(2026, 4, 3, tzinfo=UTC)


def test_only_a_newsletter_item_closing_with_its_link_takes_the_date_of_the_one_before(
    now: datetime,
) -> None:
    item = (
        "{title}\n\nThe council voted on Monday night to keep ferry fares at their level until "
        "the end of next year, rejecting a proposal to raise them.\n\n{link}\n"
    )
    dated = "The Dispatch\nTuesday, October 13, 2026\n\n"
    linked = _split(
        dated
        + item.format(
            title="Ferry fares frozen for another year", link="Read more: https://x.example/a"
        )
        + "\n"
        + item.format(
            title="New bridge plan goes to consultation", link="Read more: https://x.example/b"
        ),
        now,
    )
    assert [e.published for e in linked] == [datetime(2026, 10, 13, tzinfo=UTC)] * 2
    stories = _split(
        "Ferry fares frozen for another year\n\nMarch 2, 2026\n\nThe council voted on Monday night "
        "to keep ferry fares at their level until the end of next year.\n\n---\n\n"
        "New bridge plan goes to consultation\n\nResidents have until November 30 to comment on "
        "plans for a second bridge across the estuary, the planning office said.\n",
        now,
    )
    assert [e.title for e in stories] == [
        "Ferry fares frozen for another year",
        "New bridge plan goes to consultation",
    ]
    assert stories[1].published is None


def test_a_story_pasted_twice_in_one_file_is_one_entry(now: datetime) -> None:
    story = (
        "Ljubljana to close old town to cars\n\nMarch 2, 2026\n\nLjubljana city council voted on "
        "Monday to ban private cars from the streets of the old town from April 2027.\n"
    )
    assert len(_split(story + "\n" + story, now)) == 1
