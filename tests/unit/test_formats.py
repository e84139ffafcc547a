"""The style modules and their shared line rules, on plain values."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from feeds.formats import (
    Block,
    date_line,
    dateline_day,
    dateline_place,
    ends_sentence,
    first_sentence,
    header,
    is_caption,
    is_headline,
    markdown,
    press,
    prose_blocks,
    roles,
    title_from_prose,
    web,
    wire,
)
from feeds.formats.dates import read_free_date
from feeds.formats.phrases import load_phrases
from feeds.formats.roles import (
    byline_name,
    is_prose,
    line_kind,
    meta_date,
    parse_story,
    read_roles,
    slashed_signature,
    wire_signature,
)

WIRE = [
    "HARBOUR BOARD APPROVES NEW BERTH",
    "4-MAR-2026 11:42:07",
    "",
    "    ROTTERDAM, March 4 - The port's harbour board approved a",
    "new berth on its western quay.",
    "    The berth will take the largest ships.",
    "        Quarter     Year-ago",
    " Flour  52.1        49.0",
    " Reuter",
]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Updated 10 September 2025", ("updated", "10 September 2025")),
        ("Published: 2026-03-12T09:30:00+08:00", ("published", "2026-03-12T09:30:00+08:00")),
        ("11 August 2022", ("", "11 August 2022")),
        ("March 12, 2026", ("", "March 12, 2026")),
        ("Last updated Thursday, March 12, 2026 3:15 PM", ("last updated", None)),
        ("February 17.", None),
        ("March 19", None),
        ("The meeting is on 11 August 2022 in Tashkent", None),
        ("Follow", None),
    ],
)
def test_date_line(line: str, expected: tuple[str, str | None] | None) -> None:
    got = date_line(line)
    if expected is None:
        assert got is None
    else:
        assert got is not None and got[0] == expected[0]
        if expected[1] is not None:
            assert got[1] == expected[1]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Pakistan assumes chair of SCO\u2019s permanent body on counterterrorism", True),
        ("Who pays for the new bridge?", True),
        ("The board said the project would cost 310 mln euros.", False),
        ("  \u2022 A bullet point", False),
        ("Soldiers arrive at the station on March 12, 2025. (AP/File)", False),
        ("Updated 07 December 2025", False),
        (
            "\u5317\u6d77\u9053\u3067\u98a8\u529b\u767a\u96fb\u6240\u304c\u7a3c\u50cd\u3057\u305f\u3002",
            False,
        ),
    ],
)
def test_is_headline(line: str, expected: bool) -> None:
    assert is_headline(line) is expected


def test_captions() -> None:
    assert is_caption("Farmers dry coffee beans in Dak Lak province. (Reuters)")
    assert is_caption("Photo: a ferry leaves Sliema")
    assert not is_caption("The bank (BNP) said it would cut rates")


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("ISLAMABAD: Pakistan has assumed the chair", "ISLAMABAD"),
        ("SALVADOR, Feb 26 - Showers continued", "SALVADOR"),
        ("PORTLAND, Ore., Feb 26 - Red Lion Inns said", "PORTLAND"),
        ("Scarborough, Ontario, Feb 26 - The company said", "Scarborough"),
        ("NEW YORK (AP) \u2014 Stocks rose", "NEW YORK"),
        ("CAMBRIDGE, Mass.--(BUSINESS WIRE)--Lumora Biosciences, Inc. today said", "CAMBRIDGE"),
        ("Results were mixed--(see table)--and shares fell", None),
        (
            "\u041c\u041e\u0421\u041a\u0412\u0410: \u0421\u0435\u0433\u043e\u0434\u043d\u044f",
            "\u041c\u041e\u0421\u041a\u0412\u0410",
        ),
        ("However: the board disagreed", None),
        ("The board said on Monday", None),
    ],
)
def test_dateline_place(text: str, place: str | None) -> None:
    assert dateline_place(text) == place


def test_first_sentence_skips_abbreviations() -> None:
    text = "The U.S. envoy met Mr. Smith in Geneva. They talked for an hour."
    assert first_sentence(text) == "The U.S. envoy met Mr. Smith in Geneva."


def test_title_from_prose_drops_honorifics_and_today() -> None:
    text = "The Director, Mr. Ruslan Mirzaev, called on the Minister at the Office, today. More."
    assert (
        title_from_prose(text)
        == "The Director, Ruslan Mirzaev, called on the Minister at the Office"
    )


def test_title_from_prose_cuts_at_a_word() -> None:
    title = title_from_prose("Word " * 40 + "end.")
    assert len(title) <= 120
    assert title.endswith("Word\u2026")


def test_prose_blocks_reflow_and_bullets() -> None:
    lines = ["Intro line one", "line two:", "- first", "- second", "  continued", "", "* star"]
    assert prose_blocks(lines) == (
        Block(kind="p", lines=("Intro line one line two:",)),
        Block(kind="ul", lines=("first", "second continued")),
        Block(kind="ul", lines=("star",)),
    )


def test_wire_reads_stamp_dateline_paragraphs_tables_and_drops_signature() -> None:
    assert wire.detect(WIRE, ".txt")
    parsed = wire.parse(WIRE)
    assert parsed.title == "HARBOUR BOARD APPROVES NEW BERTH"
    assert parsed.dates == ("4-MAR-2026 11:42:07",)
    assert parsed.place == "ROTTERDAM"
    assert parsed.blocks == (
        Block(
            kind="p",
            lines=(
                "ROTTERDAM, March 4 - The port's harbour board approved a new berth on its "
                "western quay.",
            ),
        ),
        Block(kind="p", lines=("The berth will take the largest ships.",)),
        Block(kind="pre", lines=("        Quarter     Year-ago", " Flour  52.1        49.0")),
    )


@pytest.mark.parametrize(
    "signature", ["Reuter", "REUTER", "REUTER...", "Reuter4", "REUTER11:43/VB"]
)
def test_wire_signature_variants(signature: str) -> None:
    parsed = wire.parse(["TITLE", "1-APR-1987 10:00:00", "", "LONDON, April 1 - Text.", signature])
    assert parsed.blocks == (Block(kind="p", lines=("LONDON, April 1 - Text.",)),)


def test_wire_without_stamp_takes_the_dateline_day() -> None:
    lines = ["WHEAT TENDER", "", "CAIRO, Jan 14 - The buyer received six offers."]
    assert wire.detect(lines, ".txt")
    assert wire.parse(lines).dates == ("Jan 14",)


def test_web_skips_furniture_up_to_the_repeated_headline() -> None:
    lines = [
        "A headline",
        "",
        "A caption. (AP/File)",
        "By Ama Mensah",
        "Published 09 March 2026",
        "Updated 11 March 2026",
        "",
        "A headline",
        "",
        "  \u2022 Point one",
        "",
        "ACCRA: The story.",
    ]
    assert web.detect(lines, ".txt")
    parsed = web.parse(lines)
    assert parsed.title == "A headline"
    assert parsed.dates == ("09 March 2026", "11 March 2026")
    assert parsed.author == "Ama Mensah"
    assert parsed.place == "ACCRA"
    assert parsed.blocks == (
        Block(kind="ul", lines=("Point one",)),
        Block(kind="p", lines=("ACCRA: The story.",)),
    )


def test_press_release_title_and_closing_date() -> None:
    lines = [
        "The Minister, Dr. A. Yusuf, opened the fair today.",
        "",
        "More text.",
        "",
        "11 August 2022",
    ]
    assert press.detect(lines, ".txt")
    parsed = press.parse(lines)
    assert parsed.title == "The Minister, A. Yusuf, opened the fair"
    assert parsed.dates == ("11 August 2022",)
    assert [b.lines[0] for b in parsed.blocks] == [lines[0], "More text."]


def test_press_release_under_a_titled_header_keeps_its_opening_as_text() -> None:
    lines = ["The Minister opened the fair today.", "", "More text.", "", "11 August 2022"]
    untitled = press.parse(lines)
    titled = press.parse(lines, titled=True)
    assert titled.title is None
    assert (titled.blocks, titled.dates) == (untitled.blocks, untitled.dates)


def test_header_block_fields_and_body() -> None:
    lines = [
        "TITLE: Given title",
        "tags: a, b; c",
        "Source: Ledger",
        "Link: https://x.test/1",
        "",
        "Body.",
    ]
    assert header.detect(lines, ".txt")
    parsed = header.parse(lines)
    assert parsed.title == "Given title"
    assert parsed.declared_topics == ("a", "b", "c")
    assert parsed.source_name == "Ledger"
    assert parsed.link == "https://x.test/1"
    assert parsed.rest == ("", "Body.")


def test_header_needs_a_blank_line_after_it() -> None:
    assert not header.detect(["Title: x", "Body straight after."], ".txt")
    assert not header.detect(["Note: something", "", "Body."], ".txt")


def test_header_block_size_counts_from_a_given_line() -> None:
    lines = ["Last story's text.", "", "Title: Next", "Date: 2024-01-02", "", "Body."]
    assert header.block_size(lines, 2) == 2
    assert header.block_size(lines, 3) == 0  # a lone `Date:` line is not a block
    assert header.block_size(["Title: Only the title"], 0) == 1  # the file may end there
    assert header.block_size(["Title: x", "Body straight after."], 0) == 0


def test_header_values_lose_the_spaces_around_them() -> None:
    parsed = header.parse(["Title:   Spaced  out \t", "Topics:", "", "Body."])
    assert parsed.title == "Spaced  out"
    assert parsed.declared_topics == ()


def test_markdown_front_matter_and_escaped_html() -> None:
    lines = [
        "---",
        "title: Lagos opens a bus line",
        "date: 2026-03-02",
        "tags: [transport, Lagos]",
        "author: C. Okonkwo",
        "---",
        "",
        "LAGOS: The **first** line <b>opened</b>.",
        "",
        "- Fares by card",
    ]
    assert markdown.detect(lines, ".md") and not markdown.detect(lines, ".txt")
    parsed = markdown.parse(lines)
    assert parsed.title == "Lagos opens a bus line"
    assert parsed.dates == ("2026-03-02",)
    assert parsed.declared_topics == ("transport", "Lagos")
    assert parsed.author == "C. Okonkwo"
    assert parsed.place == "LAGOS"
    assert parsed.content_html is not None
    assert "<strong>first</strong>" in parsed.content_html
    assert "&lt;b&gt;opened&lt;/b&gt;" in parsed.content_html
    assert parsed.blocks == (
        Block(kind="p", lines=("LAGOS: The first line <b>opened</b>.",)),
        Block(kind="ul", lines=("Fares by card",)),
    )


def test_markdown_title_from_the_first_heading() -> None:
    parsed = markdown.parse(["# The heading", "", "Text of the story."])
    assert parsed.title == "The heading"
    assert parsed.content_html == "<p>Text of the story.</p>"


def test_long_title_uses_an_acronym_for_the_name_it_stands_for() -> None:
    text = (
        "The Director of the Executive Committee of the Regional Anti-Terrorist Structure of "
        "Shanghai Cooperation Organization (SCO-RATS), Mr. Ruslan Mirzaev, called on the "
        "Minister at the Foreign Office, today."
    )
    assert title_from_prose(text) == (
        "The Director of the Executive Committee of SCO-RATS, Ruslan Mirzaev, called on the "
        "Minister at the Foreign Office"
    )


def test_short_title_keeps_the_full_name() -> None:
    text = "The World Health Organization (WHO) opened an office in Lusaka today."
    assert (
        title_from_prose(text) == "The World Health Organization (WHO) opened an office in Lusaka"
    )


def test_a_defined_name_that_fits_stays_whole_in_a_title() -> None:
    text = (
        "Foreign Minister Ahmed Karimov attended the Council of Ministers of the Economic "
        "Cooperation Organization (ECO) held in Ashgabat today, where he called for faster work."
    )
    assert "the Economic Cooperation Organization (ECO)" in title_from_prose(text)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Skip to content", "furniture"),
        ("Zum Inhalt springen", "furniture"),
        ("Home > World > Asia", "furniture"),
        ("4 min read", "furniture"),
        ("Read more: Rail fares to rise by 3% from April", "furniture"),
        ("Image source, Getty Images", "caption"),
        ("Tea pickers gather near Kericho. Photograph: Daniel Otieno/AFP", "caption"),
        ("By Dritan Kola and Megan Hart Associated Press", "byline"),
        ("Par Claire Dubois", "byline"),
        ("Ein Artikel von Anna Schmidt", "byline"),
        ("Reuters", "byline"),
        ("Published: March 12, 2026 14:05 GMT+4", "date"),
        ("PTI | Updated: Mar 12, 2026, 14:05 IST", "date"),
        ("Nadia Qureshi Published March 12, 2026", "date"),
        ("Copyright 2026 The Associated Press. All rights reserved.", "trailer"),
        ("Reporting by Lucia Ferrer; Editing by Mark Olsen", "trailer"),
        ("Related topics", "trailer"),
        ("The Associated Press contributed to this report.", "trailer"),
        ("By the end of the year, prices had doubled.", "text"),
        ("Monsoon session of Parliament to begin on July 20", "text"),
        ("Copyright on its operating system was upheld, the court said.", "text"),
        ("Related to this, the ministry said exports would rise.", "text"),
        (
            "Commuters board a matatu in Nairobi's CBD on March 18, 2026. | Photo | Dennis Onsongo"
            " | Nation Media Group",
            "caption",
        ),
        ("FARM AID. Farmers plant rice in Nueva Ecija. (PNA photo by Joey Razon)", "caption"),
        ("Le Premier ministre à la sortie du conseil. © Belga", "caption"),
        ("Gallo Images/Beeld/Deaan Vivier", "caption"),
        ("Le Monde avec AFP", "byline"),
        ("We use cookies to improve your experience. By continuing, you agree.", "furniture"),
        ("Vai al contenuto principale", "furniture"),
        ("Reporter: Aditya Eko Sigit Wicaksono", "trailer"),
        ("Follow Kazinform on Telegram", "furniture"),
        ("Gaborone, 10 November 2026", "date"),
        ("Te puede interesar: Inflación anual baja al 6,1%", "furniture"),
        ("Saved with Web Clipper", "furniture"),
        ("Issued by:", "trailer"),
        ("2026-11-12 10:05\u3000来源：新华网", "date"),
        ("김민지 기자", "byline"),
        ("Editor's note: This article was updated to include the final vote.", "furniture"),
        ("Síguenos en Google News", "furniture"),
        ("Follow the money: how the port deal was paid for", "text"),
        ("Phnom Penh Herald | Business", "furniture"),
        ("Penulis: Dewi Lestari | Editor: Agus Salim", "byline"),
        ("Edição: Fernando Fraga", "trailer"),
        ("EMBARGOED UNTIL 00:01 GMT WEDNESDAY 15 JANUARY 2026", "date"),
        ("The price rose to $3 (about €2.80, photo finish aside) on Monday.", "text"),
    ],
)
def test_line_kind_from_its_look(line: str, kind: str) -> None:
    assert line_kind(line) == kind


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("By Ama Mensah", "Ama Mensah"),
        ("By Dritan Kola and Megan Hart Associated Press", "Dritan Kola and Megan Hart"),
        ("By Claire Tremblay · The Northern Courier", "Claire Tremblay"),
        ("By Musa Ibrahim, Kano", "Musa Ibrahim"),
        ("By Staff Reporter", "Staff Reporter"),
        ("di Marco Rossi", "Marco Rossi"),
        ("Por: Redacción Economía", "Redacción Economía"),
        ("Por Ana Carolina Moreno, g1 SP — São Paulo", "Ana Carolina Moreno"),
        ("By Tendai Moyo, Contributing Columnist", "Tendai Moyo"),
        ("Posted by Aung Kyaw on March 3, 2026 at 4:15 pm", "Aung Kyaw"),
        ("김민지 기자", "김민지"),
        ("By Jane Doe, Mark Lee", "Jane Doe, Mark Lee"),
        ("by Daily Sabah with AA", "Daily Sabah"),
        ("By the end of the year", None),
        ("Byzantine art returns to Ravenna", None),
    ],
)
def test_byline_name(line: str, name: str | None) -> None:
    assert byline_name(line) == name


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("Madrid - 10 mar 2026 - 12:40 CET", "10 mar 2026 12:40 CET"),
        (
            "Publié le 09 mars 2026 à 11h32, modifié le 09 mars 2026 à 13h10",
            "Publié le 09 mars 2026 à 11h32",
        ),
        ("Source: Xinhua| 2026-03-07 11:20:31|Editor: Liu Mei", "2026-03-07 11:20:31"),
        ("KYODO NEWS - Mar 10, 2026 - 10:42 | Business, All", "Mar 10, 2026 10:42"),
        ("Business, All", None),
        ("12 maggio 2026 (modifica il 12 maggio 2026 | 14:20)", "12 maggio 2026"),
        ("Posted On: 15 MAY 2026 4:12PM by PIB Delhi", "15 MAY 2026 4:12PM"),
        ("ISTANBUL Apr 14, 2026 - 11:32 am GMT+3", "Apr 14, 2026 11:32 am GMT+3"),
        ("Publié le 12 mai 2026 à 10h05, modifié à 12h30", "Publié le 12 mai 2026 à 10h05"),
        (
            "Actualizado: 30 de abril de 2026, 14:10 p. m.",
            "Actualizado: 30 de abril de 2026, 14:10 p. m",
        ),
        # A dateline's day opens the story's text: no date line.
        ("SALVADOR, Feb 26 - Showers continued throughout the week in", None),
        ("NEW DELHI, March 3 (PTI) - Updated 3 March 2026", None),
    ],
)
def test_meta_date_finds_the_date_among_furniture_parts(line: str, text: str | None) -> None:
    found = meta_date(line)
    assert (found[1] if found else None) == text


def test_prose_is_told_from_headlines_and_labels() -> None:
    assert is_prose("The board said it would pay 3,625 cedis per bag of 64 kilograms.")
    assert not is_prose("Kenyan tea pickers strike over pay as harvest peaks")
    assert not is_prose("BBC News, Lagos")


def test_read_roles_marks_each_part_of_a_web_page() -> None:
    lines = [
        "Menu",
        "World",
        "",
        "Floodwaters cut off villages in northern Albania",
        "Rescue boats reached 400 families cut off by the Drin river",
        "",
        "By Dritan Kola",
        "Published: March 12, 2026 14:05 GMT+4",
        "",
        "Boats carry supplies to a village. (AP Photo/Dritan Kola)",
        "",
        "SHKODER, Albania (AP) — Rescue teams used boats on Thursday to reach the villages.",
        "",
        "Advertisement",
        "",
        "About 400 families were moved to schools and sports halls.",
        "",
        "Copyright 2026 The Associated Press. All rights reserved.",
        "Explore more on these topics",
        "Albania",
    ]
    reading = read_roles(lines)
    assert reading.title == "Floodwaters cut off villages in northern Albania"
    assert reading.author == "Dritan Kola"
    assert reading.dates == ("Published: March 12, 2026 14:05 GMT+4",)
    assert [r for r in reading.roles if r != "blank"] == [
        "furniture",
        "furniture",
        "headline",
        "standfirst",
        "byline",
        "date",
        "caption",
        "dateline",
        "furniture",
        "body",
        "trailer",
        "trailer",
        "trailer",
    ]


def test_read_roles_of_a_release_without_a_headline_take_its_closing_date() -> None:
    lines = [
        "The Ministry announced today a plan to replace ageing coffee trees.",
        "",
        "The programme will reach 40,000 households.",
        "",
        "Hanoi",
        "2 March 2026",
    ]
    reading = read_roles(lines)
    assert reading.title is None
    assert reading.dates == ("2 March 2026",)
    assert reading.roles[-2:] == ("furniture", "date")


@pytest.mark.parametrize(
    ("text", "moment", "offset", "ago"),
    [
        ("March 12, 2026 14:05 GMT+4", datetime(2026, 3, 12, 14, 5), 240, None),
        ("Tue 3 Mar 2026 10.00 GMT", datetime(2026, 3, 3, 10, 0), 0, None),
        ("Veröffentlicht am 3. März 2026, 10:15 Uhr", datetime(2026, 3, 3, 10, 15), None, None),
        ("12 de marzo de 2026", datetime(2026, 3, 12), None, None),
        ("12.03.2026, 08.15 Uhr", datetime(2026, 3, 12, 8, 15), None, None),
        ("2026/03/12 14:05 KST", datetime(2026, 3, 12, 14, 5), 540, None),
        ("2026年3月12日", datetime(2026, 3, 12), None, None),
        ("12 марта 2026, 10:15", datetime(2026, 3, 12, 10, 15), None, None),
        ("Tue 24-03-2026 14:35 PM", datetime(2026, 3, 24, 14, 35), None, None),
        ("Published / 2 hours ago", None, None, 120),
        ("il y a 3 heures", None, None, 180),
        ("Publié le 14 avril 2026 à 7 h 30", datetime(2026, 4, 14, 7, 30), None, None),
        ("Published 14 May 2026 07:45 SAST", datetime(2026, 5, 14, 7, 45), 120, None),
    ],
)
def test_free_dates(
    text: str, moment: datetime | None, offset: int | None, ago: int | None
) -> None:
    found = read_free_date(text)
    assert found is not None
    assert (found.moment, found.offset_minutes, found.ago_minutes) == (moment, offset, ago)


@pytest.mark.parametrize(
    "text",
    [
        "11:42 GMT",
        "Shr 1.20 dlrs vs 1.10 dlrs",
        "2026-13-01",
        "Business, All",
        "20 pct",
        # A row of a wire table: a month, empty cells, a price (no year of any calendar in use).
        "Jun      ---    ---     ---     6627",
    ],
)
def test_free_dates_refuse_what_is_not_a_date(text: str) -> None:
    assert read_free_date(text) is None


@pytest.mark.parametrize(
    ("text", "place", "day"),
    [
        ("SANTIAGO, Feb 27 (Reuters) - Copper output fell.", "SANTIAGO", "Feb 27"),
        ("LIMA, Peru (AP) — Congress voted.", "LIMA", None),
        ("AUSTIN, Texas, March 9, 2026 /PRNewswire/ -- Solvane opened.", "AUSTIN", "March 9, 2026"),
        ("МОСКВА, 12 марта. /ТАСС/. Экспорт вырос.", "МОСКВА", "12 марта"),
        ("MADRID (EFE).- España recibió turistas.", "MADRID", None),
        ("New Delhi [India], March 21 (ANI): The weather office said.", "New Delhi", "March 21"),
        ("Accra, April 9, GNA - Parliament has approved a loan for the road.", "Accra", "April 9"),
        ("(AGI) - Roma, 15 mag. - Governo e sindacati hanno firmato l'accordo.", "Roma", "15 mag"),
        ("Wien – Die Pensionen in Österreich steigen im kommenden Jahr.", "Wien", None),
        (
            "Ciudad de México.— El Senado aprobó este martes por unanimidad una reforma.",
            "Ciudad de México",
            None,
        ),
        (
            "ASUNCIÓN, Paraguay, July 15, 2026 — Chaco Solar Cooperative opened a plant.",
            "ASUNCIÓN",
            "July 15, 2026",
        ),
        (
            "Dar es Salaam. Serikali imetangaza mpango wa kujenga vituo vipya vya afya.",
            "Dar es Salaam",
            None,
        ),
        (
            "Quito. El Concejo Metropolitano aprobó este martes la compra de 60 buses.",
            "Quito",
            None,
        ),
        (
            "Tbilisi, 5 November 2026 (Agenda.ge) – Georgia will open a checkpoint.",
            "Tbilisi",
            "5 November, 2026",
        ),
        ("ASTANA. KAZINFORM – The Senate of Kazakhstan approved a law.", "ASTANA", None),
        (
            "La Paz, 10 de noviembre (ABI).- El Gobierno aprobó un decreto.",
            "La Paz",
            "10 noviembre",
        ),
        (
            "Thiruvananthapuram, Nov 20 (IANS) Kerala will set up stations.",
            "Thiruvananthapuram",
            "Nov 20",
        ),
        (
            "Hà Nội - Chính phủ phê duyệt tuyến đường sắt Bắc - Nam với tổng vốn lớn.",
            "Hà Nội",
            None,
        ),
        (
            "القاهرة - أعلنت وزارة النقل المصرية اليوم الخميس بدء التشغيل التجريبي للقطار.",
            "القاهرة",
            None,
        ),
        ("新华社北京11月12日电（记者张伟）中国国家统计局12日发布数据显示。", "北京", None),
    ],
)
def test_datelines_give_the_place_and_the_day(text: str, place: str, day: str | None) -> None:
    assert dateline_place(text) == place
    assert dateline_day(text) == day


def test_phrases_are_data_in_several_languages() -> None:
    phrases = load_phrases()
    assert {"skip to content", "aller au contenu", "zum inhalt springen"} <= phrases.furniture_lines
    assert phrases.months["märz"] == 3 and phrases.months["marzo"] == 3
    assert phrases.trailer_starts.match("Our Standards: The Thomson Reuters Trust Principles.")


# Lines that open on no phrase yet hold one of the signs the quick test of `line_kind` looks for.
_SIGNED_LINES = [
    "Officials gathered at the port on Monday to mark the new quay. Photograph: Ana Ruiz/AFP",
    "Home > World > Asia > Central Asia > Kazakhstan and its neighbours today",
    "The officials said the berth would open before the summer season (AP Photo/File)",
    "Staff writers at the port desk and the regional bureau contributed to this report",
    "The ministry said on Reuters|March 3, 2026 that the berth would open before summer",
    "The new berth, approved on 12/03/2026 by the board, takes the largest ships afloat",
    "Le conseil du port a approuvé le nouveau quai il y a 3 heures selon le ministère",
    "Advertisement",
    # A part of its own that is a date: after a separator, a place or a label.
    "Port news | Updated March 3, 2026 10:15",
    "By Ana Ruiz Published March 12, 2026",
    "Madrid - 10 mar 2026 - 12:40 CET",
    "Gaborone, 10 November 2026",
    # A run of date words with a date, and a separator (" on ") inside it: the full tests cut
    # the line into its parts.
    "The board approved the berth after its meeting on 26-FEB-1987 15:01:01 at the port",
]
# A date inside a sentence, with words no date has around it: no part of the line can be a
# date line, and the quick test tells so without cutting the line into parts.
_DATES_IN_PROSE = [
    "The board met on Tue,March 3 2026 and approved the new berth on its western quay",
    "Die Hafenbehörde hat den neuen Liegeplatz am 3. März 2026, 10:15 Uhr genehmigt",
    "港湾局は2026年3月12日 14時05分に新しい岸壁を承認したと発表した。これは大きな前進です",
    "Arrivals for the week ended February 22 were 155,221 bags",
]


def _lines_of_every_fixture() -> list[str]:
    data = Path(__file__).resolve().parents[1] / "data"
    return [
        line
        for path in sorted(data.iterdir())
        if path.suffix in (".txt", ".md")
        for line in path.read_bytes().decode("utf-8", "replace").splitlines()
        if line.strip()
    ]


def test_the_quick_line_test_never_hides_a_kind() -> None:
    """`line_kind` calls a line plain text without its full tests only when every one of them
    would say so (every line of the fixtures), and a line with any sign inside goes to them."""
    lines = [*_lines_of_every_fixture(), *_SIGNED_LINES, *_DATES_IN_PROSE]
    assert len(lines) > 800
    for line in lines:
        s = line.strip()
        low = " ".join(s.lower().split())
        assert line_kind(line) == roles._look(s, low), line
    for line in _SIGNED_LINES:
        s = line.strip()
        assert not roles._plain_text(s, " ".join(s.lower().split())), line
    for line in _DATES_IN_PROSE:
        assert roles._plain_text(line, " ".join(line.lower().split())), line
        assert roles.meta_date(line) is None, line


def test_a_sentence_running_on_a_line_that_opens_like_furniture_stays_text() -> None:
    lines = [
        "The court approved the company's plan to leave bankruptcy, its filing said.",
        "Bondholders will have the right to",
        "subscribe to buy an additional 40 pct of the common stock of",
        "the reorganized company, the court said.",
    ]
    assert read_roles(lines).roles == ("body", "body", "body", "body")


@pytest.mark.parametrize(
    "lines",
    [
        # A wire story whose dateline opens its first line: never a headline.
        ["SALVADOR, Feb 26 - Showers continued throughout the week in", "the Bahia zone."],
        # Hard-wrapped prose: the next line opens in lower case, or this one ends on "the".
        ["The harbour board approved a new", "berth on its western quay, it said on Monday."],
        ["Albany Savings Bank said it filed with the", "Securities and Exchange Commission."],
        ["Le conseil du port a approuvé le plan de", "Rotterdam pour le nouveau quai, dit-il."],
    ],
)
def test_a_first_line_of_wrapped_text_is_no_headline(lines: list[str]) -> None:
    reading = read_roles([*lines, "", "The berth will open next spring."])
    assert reading.title is None
    assert reading.roles[:2] in (("body", "body"), ("dateline", "body"))


def test_a_headline_wrapped_once_stays_a_headline() -> None:
    reading = read_roles(
        [
            "Pakistan opposition rallies in Khyber Pakhtunkhwa",
            "to demand release of Imran Khan",
            "",
            "ISLAMABAD: The opposition rallied on Sunday in the north-west of the country.",
        ]
    )
    assert reading.title == (
        "Pakistan opposition rallies in Khyber Pakhtunkhwa to demand release of Imran Khan"
    )


def test_a_line_repeated_in_a_table_under_a_dateline_is_no_headline() -> None:
    lines = [
        "NEW YORK, March 3 - Quarter results of the retailer:",
        "",
        "Shr 1.78 dlrs vs 1.64 dlrs",
        "",
        "Avg shrs 65.6 mln vs 63.9 mln",
        "",
        "Year",
        "",
        "Avg shrs 65.6 mln vs 63.9 mln",
    ]
    reading = read_roles(lines)
    assert reading.title is None
    assert "headline" not in reading.roles


@pytest.mark.parametrize(
    "text",
    [
        "Luciana Nunes - Repórter da Agência Brasil",  # a byline and a role, not a dateline
        "However – the ministry said nothing more about the plan on Tuesday.",
        "However: the ministry said nothing more about the plan on Tuesday.",
        # A date line with its weekday, a short sentence or a title before the text: no place.
        "Thursday, March 19, 2026 — updated on March 19, 2026 at 4:20 pm",
        "Thank you. The minister said the talks would go on for another week at least.",
        "Prof. Maria Lopez said the results would be published in a journal next month.",
        "Yes. The minister said the talks would go on for another week at least.",
    ],
)
def test_a_dash_after_capitalised_words_is_not_always_a_dateline(text: str) -> None:
    assert dateline_place(text) is None


def test_read_roles_take_the_headline_under_a_name_over_the_date() -> None:
    lines = [
        "Nordvik Oyj",
        "Press release",
        "2 April 2026 at 9:00 EEST",
        "",
        "Nordvik to build 300 MW battery storage park in Ostrobothnia",
        "",
        "Helsinki, Finland, April 2, 2026 (GLOBE NEWSWIRE) -- Nordvik Oyj today announced "
        "that it will build a battery storage park near Vaasa.",
    ]
    reading = read_roles(lines)
    assert reading.title == "Nordvik to build 300 MW battery storage park in Ostrobothnia"
    assert reading.roles[0] == "furniture"
    assert reading.dates == ("2 April 2026 at 9:00 EEST",)


def test_read_roles_keep_a_long_headline_without_a_full_stop() -> None:
    lines = [
        "ECONOMÍA",
        "",
        "El Banco Central compró US$ 310 millones y suma reservas por décima rueda consecutiva",
        "",
        "08/04/2026 14:22",
        "",
        "BUENOS AIRES, 8 abr (NA) - El Banco Central compró este miércoles 310 millones.",
    ]
    assert read_roles(lines).title == lines[2]


def test_read_roles_drop_links_signatures_and_closing_prompts() -> None:
    lines = [
        "Bollette, scende il prezzo del gas",
        "12 maggio 2026",
        "",
        "Dal primo luglio il prezzo del gas per le famiglie scenderà del 6,5%, ha detto l'Arera.",
        "",
        "Leggi anche",
        "Benzina, i prezzi tornano a salire",
        "",
        "Il risparmio medio annuo sarà di circa 80 euro a famiglia.",
        "",
        "(sda)",
        "",
        "Mehr zum Thema",
    ]
    roles = read_roles(lines).roles
    assert roles[5:7] == ("furniture", "furniture")
    assert roles[8] == "body"
    assert roles[10] == "trailer"
    closing = ["Headline of the story here", "", lines[3], "", lines[8], "", "Get it", "for free"]
    assert read_roles(closing).roles[-2:] == ("furniture", "furniture")


@pytest.mark.parametrize(
    ("line", "ends"),
    [
        ("Output fell.", True),
        ("He said: \u201cWe will not.\u201d", True),
        ("Prices may rise further\u2026", True),
        ("\u8f38\u51fa\u304c\u5897\u3048\u305f\u3002", True),
        ("the minister called it \u201cunacceptable\u201d", False),
        ("Output fell (see table)", False),
        ("The department said aid would arrive by the end of the month. (PNA)", True),
        ("Snowploughs near the pass. (Keystone/Urs Flueeler)", False),
        ("Kenyan tea pickers strike over pay", False),
    ],
)
def test_ends_sentence(line: str, ends: bool) -> None:
    assert ends_sentence(line) is ends


def test_wire_web_and_splitter_agree_on_a_line_closed_by_an_ellipsis() -> None:
    """One rule for "ends a sentence": credits under a line closed by "\u2026" leave the story
    in the wire reader as they do in the role reader."""
    credits = "Reporting by Ana Ruiz; Editing by Mark Olsen"
    closing = "Traders said prices may rise further\u2026"
    wired = wire.parse(
        ["OIL FALLS", "2-APR-1987 10:00:00", "", "VIENNA, April 2 - Oil fell.", closing, credits]
    )
    assert credits not in "\n".join(b.lines[0] for b in wired.blocks)
    roles = read_roles(
        ["Oil falls again", "", "VIENNA: Oil fell on Monday, traders said.", closing, credits]
    ).roles
    assert roles[-1] == "trailer"


def test_a_line_opening_on_a_dated_dateline_is_text_not_a_date_line() -> None:
    # "Del." (Delaware) is also a date word ("12 de marzo del 2026"): the dateline decides.
    assert line_kind("WILMINGTON, Del., Feb 26 - The Du Pont Co said it has") == "text"
    assert line_kind("ISTANBUL Apr 14, 2026 - 11:32 am GMT+3") == "date"


@pytest.mark.parametrize(
    ("line", "signature"),
    [
        ("ONA/ZS", True),
        ("JMC // SF", True),
        ("Lusa/Fim", True),
        ("U.K. Stg....1.6178/88", False),  # a table's row
        ("/", False),
        ("(Santa Anita Realty Enterprises Inc)", False),  # a wire story's text
    ],
)
def test_a_slashed_signature_is_initials_or_names(line: str, signature: bool) -> None:
    assert slashed_signature(line) is signature
    assert wire_signature(line) is signature


def test_a_wire_signature_may_be_an_agency_after_dashes() -> None:
    assert wire_signature("--IANS")
    assert wire_signature("abc/xyz")
    assert not wire_signature("-- the end of the table")


def test_a_contact_block_over_a_release_is_furniture_not_its_headline() -> None:
    lines = [
        "Contact:",
        "Sarah Outerbridge",
        "+1 441 295 0000",
        "media@coralgroup.example",
        "",
        "Coral Insurance Group completes purchase of Atlantic Marine Underwriters",
        "",
        "HAMILTON, Bermuda, Nov. 12, 2026 /PRNewswire/ -- Coral Insurance Group Ltd. today "
        "announced that it has completed the purchase of Atlantic Marine Underwriters.",
    ]
    reading = read_roles(lines)
    assert (
        reading.title == "Coral Insurance Group completes purchase of Atlantic Marine Underwriters"
    )
    assert reading.roles[:4] == ("furniture",) * 4


@pytest.mark.parametrize(
    ("address", "dates"),
    [
        ("https://news.example.ee/2026/11/23/tallinn-buses", ("2026-11-23",)),
        ("https://news.example.ee/politics/tallinn-buses-2026", ()),
    ],
)
def test_a_page_address_over_the_headline_is_its_link(address: str, dates: tuple[str]) -> None:
    lines = [
        address,
        "",
        "Tallinn extends free buses to all pensioners",
        "",
        "Tallinn city government on Monday approved free travel for all pensioners in the city.",
    ]
    parsed = parse_story(lines, name="web")
    assert parsed.title == "Tallinn extends free buses to all pensioners"
    assert parsed.link == address
    assert parsed.dates == dates
