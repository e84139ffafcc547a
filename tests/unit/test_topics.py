"""feeds.topics: slugs, explicit, folder, taxonomy and automatic topics, on plain values."""

from __future__ import annotations

import tomllib
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest
from slugify import slugify

from feeds.config import DEFAULT_CONFIG, parse_config
from feeds.model import Config, Entry, TopicMatch, TopicRule, TopicSource
from feeds.topics import assign_topics
from feeds.topics.automatic import add_auto_topics, explain_topics
from feeds.topics.names import _MAX_NAMES, acronym_of, extract_candidates, piece_of, spelling_key
from feeds.topics.places import continent_named, country_named, country_of_place
from feeds.topics.slugs import topic_slug

TOP = Path("x.txt")  # a file directly in seeds/: no folder topic
SHIPPED_TOML = Path(__file__).resolve().parents[2] / "seedfeed.toml"
SHIPPED = parse_config(tomllib.loads(SHIPPED_TOML.read_text(encoding="utf-8")), source=SHIPPED_TOML)


def make_entry(title: str = "", body: str = "", declared: tuple[str, ...] = ()) -> Entry:
    return Entry(
        title=title,
        published=None,
        summary="",
        content="",
        body=body,
        fingerprint="f",
        format="test",
        declared_topics=declared,
    )


def rule(slug: str, *phrases: str, exclude: tuple[str, ...] = (), min_hits: int = 1) -> TopicRule:
    return TopicRule(
        slug=slug, title=slug.title(), phrases=phrases, exclude=exclude, min_hits=min_hits
    )


def topics_of(entry: Entry, *rules: TopicRule, rel_path: Path = TOP) -> list[str]:
    assigned = assign_topics(entry, rel_path=rel_path, config=Config(taxonomy=rules))
    return [t.slug for t in assigned.topics]


def matches(text: str, *phrases: str, title: str = "") -> bool:
    """Whether a one-hit rule of `phrases` gives the topic to a story with body `text`."""
    return topics_of(make_entry(title=title, body=text), rule("t", *phrases)) == ["t"]


def reason_of(entry: Entry, *rules: TopicRule) -> str:
    assigned = assign_topics(entry, rel_path=TOP, config=Config(taxonomy=rules))
    (topic,) = assigned.topics
    return topic.reason


SAMPLE_1_TITLE = "Pakistan assumes chair of SCO\u2019s permanent body on counterterrorism"
SAMPLE_1_BODY = (
    "Regional Anti-Terrorist Structure is SCO\u2019s counterterrorism arm which "
    "tackles separatism and extremism\n"
    "In its capacity as chair of SCO RATs, Pakistan will foster regional "
    "cooperation against \u201cterrorism,\u201d says FO\n"
    "\n"
    "ISLAMABAD: Pakistan has assumed the chair of the Regional Anti-Terrorist "
    "Structure (RATS) body of the Shanghai Cooperation Organization,(SCO) the "
    "foreign office announced on Wednesday, saying the role would allow Islamabad"
    " to foster regional cooperation against \u201cterrorism.\u201d\n"
    "\n"
    "RATS SCO, founded in 2002 and headquartered in Tashkent, Uzbekistan, is a "
    "permanent organ of the SCO alliance which serves to promote cooperation "
    "among members states against \u201cterrorism,\u201d separatism, and extremism.\n"
    "\n"
    "The foreign office said Islamabad assuming the counterterror body\u2019s chair "
    "was a reflection of the confidence that SCO member states have in Pakistan\u2019s"
    " efforts and contributions toward regional peace and security.\n"
    "\n"
    "\u201cIn its capacity as the chair of SCO-RATS, Pakistan will work toward "
    "fostering regional cooperation against terrorism, in line with shared "
    "priorities, guided by the Shanghai Spirit of mutual trust, equality and "
    "shared responsibility,\u201d the foreign office said.\n"
    "\n"
    "It said as the body\u2019s chair, Pakistan will host events on key domains such "
    "as cyber counterterrorism, information operations, border security, "
    "countering terrorist financing, and capacity-building to deepen "
    "collaboration.\n"
    "\n"
    "Pakistan has frequently said it has lost 90,000 lives due to scores of "
    "militant attacks over the past couple of decades. Prime Minister Shehbaz "
    "Sharif said earlier this month Islamabad has suffered economic losses worth "
    "$152 billion due to \u201cterrorism.\u201d\n"
    "\n"
    "\u201cAs a frontline state in combating terrorism, Pakistan continues to make "
    "unparalleled sacrifices to ensure safety and security not only of its own "
    "people but the region and beyond,\u201d the statement said.\n"
    "\n"
    "\u201cPakistan will continue to work with international and regional partners to "
    "advance collective efforts against terrorism, in line with the principles of"
    " the SCO, international law and the United Nations Charter.\u201d\n"
    "\n"
    "The development takes place as Pakistan battles twin insurgencies in its "
    "northwestern Khyber Pakhtunkhwa (KP) and southwestern Balochistan provinces."
    " Islamabad blames the Afghan government for not taking action against the "
    "Tehreek-e-Taliban Pakistan (TTP) militants, alleging frequently that they "
    "operate from Afghanistan\u2019s territory. Kabul denies the allegations.\n"
    "\n"
    "Pakistan also accuses India of arming and funding militant groups in "
    "Balochistan, where separatist militants demand independence from the state. "
    "New Delhi rejects the allegations and accuses Islamabad of fueling "
    "insurgency in the part of disputed Kashmir it administers."
)
SAMPLE_2_TITLE = "Pakistan opposition rallies in Khyber Pakhtunkhwa to demand release of Imran Khan"
SAMPLE_2_BODY = (
    "PTI-led gathering calls the former PM a national hero and demands the "
    "release of all political prisoners\n"
    "Government says the opposition failed to draw a large crowd and accuses PTI "
    "of damaging its own politics\n"
    "\n"
    "ISLAMABAD: Pakistan\u2019s opposition led by the Pakistan Tehreek-e-Insaf (PTI) "
    "party demanded the release of jailed former prime minister Imran Khan at a "
    "rally in the northwestern Khyber Pakhtunkhwa province on Sunday, describing "
    "him as a national hero who continues to command public support.\n"
    "\n"
    "The gathering came days after a rare and strongly worded briefing by the "
    "military\u2019s media chief, Lt. Gen. Ahmed Sharif Chaudhry, who dismissed Khan "
    "as \u201cnarcissistic\u201d and \u201cmentally ill\u201d on Friday while responding to the "
    "former premier\u2019s allegations that Pakistan\u2019s chief of defense forces was "
    "responsible for undermining the constitution and rule of law.\n"
    "\n"
    "He said that Khan was promoting an anti-state narrative which had become a "
    "national security threat.\n"
    "\n"
    "The participants of the rally called for \u201ccivilian supremacy\u201d and said "
    "elected representatives should be treated with respect.\n"
    "\n"
    "\u201cWe, the people of Pakistan, regard Imran Khan as a national hero and the "
    "country\u2019s genuinely elected prime minister, chosen by the public in the "
    "February 8, 2024 vote,\u201d said a resolution presented at the rally in "
    "Peshawar. \u201cWe categorically reject and strongly condemn the notion that he "
    "or his colleagues pose any kind of threat to national security.\u201d\n"
    "\n"
    "\u201cWe demand immediate justice for Imran Khan, Bushra Bibi and all political "
    "prisoners, and call for their prompt release,\u201d it added, referring to Khan\u2019s"
    " wife who is also in prison. \u201cNo restrictions should be placed on Imran "
    "Khan\u2019s meetings with his family, lawyers or political associates.\u201d\n"
    "\n"
    "Addressing the gathering, Sohail Afridi, the chief minister of Khyber "
    "Pakhtunkhwa, denied his administration was not serious about security issues"
    " amid increased militant activity. However, he maintained the people of his "
    "province had endured the worst of Pakistan\u2019s conflict with militancy and "
    "urged a rethinking of long-running security policies.\n"
    "\n"
    "The resolution asked the federal government to restore bilateral trade and "
    "diplomatic channels with Afghanistan, saying improved cross-border ties were"
    " essential for the economic stability of the region.\n"
    "\n"
    "The trade between the two neighbors has suffered as Pakistan accuses the "
    "Taliban administration in Kabul of sheltering and facilitating armed groups "
    "that it says launch cross-border attacks to target its civilians and "
    "security forces. Afghan officials deny the claim.\n"
    "\n"
    "The two countries have also had deadly border clashes in recent months that "
    "have killed dozens of people on both sides.\n"
    "\n"
    "Some participants of the rally emphasized the restoration of democratic "
    "freedoms, judicial independence and space for political reconciliation, "
    "calling them necessary to stabilize the country after years of political "
    "confrontation.\n"
    "\n"
    "Reacting to the opposition rally, Information Minister Attaullah Tarrar said"
    " the PTI and its allies could not gather enough people.\n"
    "\n"
    "\u201cIn trying to build an anti-army narrative, they have ruined their own "
    "politics,\u201d he said, adding that the rally\u2019s reaction to the military\u2019s media"
    " chief\u2019s statement reflected \u201chow deeply it had stung.\u201d\n"
    "\n"
    "\u201cThere was neither any argument nor any real response,\u201d he added, referring "
    "to what was said by the participants of the rally."
)
SAMPLE_3_TITLE = (
    "The Director of the Executive Committee of the Regional Anti-Terrorist "
    "Structure of Shanghai Cooperation Organization\u2026"
)
SAMPLE_3_BODY = (
    "The Director of the Executive Committee of the Regional Anti-Terrorist "
    "Structure of Shanghai Cooperation Organization (SCO-RATS), Mr. Ruslan "
    "Mirzaev, called on Foreign Minister Bilawal Bhutto Zardari at the Foreign "
    "Office, today.\n"
    "\n"
    "The Foreign Minister warmly welcomed the Director and his delegation to "
    "Pakistan and reaffirmed Pakistan\u2019s commitment to the goals and purposes of "
    "the SCO Charter and the \u2018Shanghai Spirit.\u2019\n"
    "\n"
    "The Foreign Minister underscored the importance of regional platforms such "
    "as SCO-RATS to promote coordinated efforts in countering terrorism and "
    "extremism. He stressed that no country can single-handedly solve complex "
    "peace and security issues in the region and highlighted the need for "
    "developing common approaches to address persistent as well as emerging "
    "challenges.\n"
    "\n"
    "The Foreign Minister appreciated the constructive role played by the "
    "Executive Committee of SCO-RATS in upholding the spirit of consensus and "
    "cooperation in achieving common objectives. Director Mirzaev emphasized that"
    " deliberately politicizing discussions related to countering terrorism and "
    "extremism were counter-productive and contrary to the objectives of the "
    "organization.\n"
    "\n"
    "The Foreign Minister said that Pakistan would support all efforts that were "
    "aimed at improving the efficiency and effectiveness of SCO-RATS. He "
    "commended the approach taken by the Executive Committee in developing "
    "consensus on the issue and assured the Director of Pakistan\u2019s constructive "
    "engagement in the matter.\n"
    "\n"
    "The Director of the Executive Committee of SCO-RATS is on an official visit "
    "to Pakistan. During the visit he had working level meetings in the Ministry "
    "of Foreign Affairs, National Counter Terrorism Authority, and other relevant"
    " security institutions. The Director was given detailed briefings on "
    "Pakistan\u2019s successes in countering terrorism and extremism, overview of the "
    "regional situation, and threats posed by new and emerging challenges in the "
    "region."
)


def sample_entries() -> list[Entry]:
    return [
        make_entry(title=SAMPLE_1_TITLE, body=SAMPLE_1_BODY),
        make_entry(title=SAMPLE_2_TITLE, body=SAMPLE_2_BODY),
        make_entry(title=SAMPLE_3_TITLE, body=SAMPLE_3_BODY),
    ]


# ---------------------------------------------------------------------------- slugs


def test_slug_is_python_slugify() -> None:
    for name in ("Khyber Pakhtunkhwa", "U.S.", "O'Brien", "1,000 Days", "Z\u00fcrich", "AT&T"):
        assert topic_slug(name) == slugify(name)
    assert topic_slug("Shanghai Cooperation Organization") == "shanghai-cooperation-organization"


@pytest.mark.parametrize("name", ["all", "All", " ALL ", "_rejected", "__all"])
def test_reserved_slugs_are_never_given(name: str) -> None:
    slug = topic_slug(name)
    assert slug != "all" and not slug.startswith("_") and slug
    assert topic_slug(name) == slug  # deterministic


def test_all_becomes_all_topic() -> None:
    assert topic_slug("All") == "all-topic"


def test_name_without_letters_gets_a_hash_slug() -> None:
    slug = topic_slug("\u2605\u2605\u2605")
    assert slug.startswith("topic-") and len(slug) == len("topic-") + 8
    assert topic_slug("\u2605\u2605\u2605") == slug
    assert topic_slug("!!!") != slug


# ------------------------------------------------------------------------- taxonomy


def test_plurals_match() -> None:
    assert matches("Two militants were held.", "militant")
    assert matches("New policies were set.", "policy")
    assert matches("Three churches burned.", "church")
    assert matches("Vote on the Policy today.", "policy")
    assert not matches("He spoke militantly.", "militant")
    assert not matches("A politician.", "policy")


def test_possessives_with_either_apostrophe() -> None:
    assert matches("Pakistan\u2019s army", "Pakistan")
    assert matches("Pakistan's army", "Pakistan")
    assert matches("the Pakistans\u2019 borders", "Pakistan")
    assert matches("the SCO\u2019s chair", "SCO")


def test_whole_words_only() -> None:
    assert not matches("Pakistanization of the economy", "Pakistan")
    assert not matches("a rallying cry", "rally")
    assert not matches("the Indiana primary", "India")


def test_case_insensitive_words() -> None:
    assert matches("WAR ON TERRORISM", "terrorism")
    assert matches("war on terrorism", "Terrorism")


def test_multi_word_phrases_across_any_whitespace() -> None:
    assert matches(
        "the Shanghai\n  Cooperation\tOrganization met", "Shanghai Cooperation Organization"
    )
    assert matches("two prime ministers met", "prime minister")
    assert not matches(
        "the Shanghai. Cooperation Organization", "Shanghai Cooperation Organization"
    )


@pytest.mark.parametrize("phrase", ["counter-terrorism", "counterterrorism", "counter terrorism"])
@pytest.mark.parametrize("text", ["counter-terrorism", "counterterrorism", "counter terrorism"])
def test_hyphen_space_and_joined_spellings_match_each_other(phrase: str, text: str) -> None:
    assert matches(f"new {text} laws", phrase)


def test_short_prefixes_join_too() -> None:
    assert matches("regional co-operation", "cooperation")
    assert matches("regional cooperation", "co-operation")
    assert not matches("I ran home", "Iran")


def test_acronyms_are_case_sensitive() -> None:
    assert matches("the RATS body", "RATS")
    assert matches("the SCO-RATS body", "RATS")
    assert not matches("rats in the granary", "RATS")
    assert not matches("Rats in the granary", "RATS")
    assert not matches("the sco said", "SCO")
    assert matches("several NGOs", "NGO")


def test_acronyms_do_not_count_in_an_all_capitals_title() -> None:
    ct = rule("ct", "RATS", min_hits=1)
    assert topics_of(make_entry(title="RATS OVERRUN GRAIN STORE", body="Farmers fret."), ct) == []
    assert topics_of(make_entry(title="RATS OVERRUN GRAIN STORE", body="The RATS met."), ct) == [
        "ct"
    ]
    assert topics_of(make_entry(title="RATS meets in Tashkent", body="No more."), ct) == ["ct"]
    assert topics_of(make_entry(title="SCO-RATS", body="No more."), ct) == ["ct"]


def test_exclude_vetoes_the_topic() -> None:
    sport = rule("sport", "match", "wicket", exclude=("match-fixing",))
    assert topics_of(make_entry(body="A tense match, a late wicket."), sport) == ["sport"]
    assert topics_of(make_entry(body="A tense match; match fixing alleged."), sport) == []
    assert topics_of(make_entry(title="Match-fixing probe", body="A tense match."), sport) == []


def test_min_hits_counts_every_occurrence() -> None:
    ct = rule("ct", "militant", "terrorism", min_hits=3)
    assert topics_of(make_entry(body="militants and terrorism"), ct) == []
    assert topics_of(make_entry(body="militants, a militant and terrorism"), ct) == ["ct"]


def test_a_title_hit_counts_double() -> None:
    ct = rule("ct", "terrorism", min_hits=2)
    assert topics_of(make_entry(title="Fight on terrorism", body="Nothing more."), ct) == ["ct"]
    assert topics_of(make_entry(title="Nothing", body="Fight on terrorism."), ct) == []
    ct3 = rule("ct", "terrorism", min_hits=3)
    assert topics_of(make_entry(title="Terrorism", body="terrorism"), ct3) == ["ct"]
    assert topics_of(make_entry(title="Terrorism", body="none"), ct3) == []


def test_reason_names_each_phrase_and_title_hits() -> None:
    ct = rule("ct", "militant", "terrorism", min_hits=2)
    entry = make_entry(
        title="Terrorism on the rise",
        body="Militants, a militant and a third militant. Terrorism, terrorism; terrorism!",
    )
    assert (
        reason_of(entry, ct) == 'taxonomy: "militant" \u00d73, "terrorism" \u00d74 (title \u00d71)'
    )


def test_one_hit_per_place_within_a_rule() -> None:
    politics = rule("politics", "prime minister", "minister", min_hits=2)
    assert topics_of(make_entry(body="The prime minister spoke."), politics) == []
    assert reason_of(make_entry(body="The prime minister and a minister."), politics) == (
        'taxonomy: "prime minister" \u00d71, "minister" \u00d71'
    )


def test_rules_sharing_words_each_count() -> None:
    diplomacy = rule("diplomacy", "foreign minister")
    politics = rule("politics", "minister")
    sco = rule("sco", "SCO-RATS")
    ct = rule("ct", "RATS")
    entry = make_entry(body="The foreign minister met SCO-RATS.")
    assert topics_of(entry, diplomacy, politics, sco, ct) == ["ct", "diplomacy", "politics", "sco"]


def test_longest_phrase_of_a_rule_is_credited() -> None:
    sco = rule("sco", "SCO", "SCO-RATS")
    assert reason_of(make_entry(body="SCO-RATS and the SCO"), sco) == (
        'taxonomy: "SCO" \u00d71, "SCO-RATS" \u00d71'
    )


def test_no_taxonomy_no_rule_topics() -> None:
    assert topics_of(make_entry(title="Pakistan", body="Pakistan")) == []


# ------------------------------------------------------------------ explicit and folder


def test_folder_gives_its_top_level_name() -> None:
    entry = assign_topics(
        make_entry(body="text"), rel_path=Path("Press Clips/2025/x.txt"), config=Config()
    )
    assert entry.topics == (
        TopicMatch(
            slug="press-clips",
            title="Press Clips",
            source=TopicSource.FOLDER,
            reason='folder: "Press Clips/"',
        ),
    )
    assert topics_of(make_entry(body="text"), rel_path=Path("x.txt")) == []


def test_folder_named_like_a_rule_takes_the_rule() -> None:
    sco = TopicRule(slug="sco", title="Shanghai Cooperation Organisation", phrases=("SCO",))
    entry = assign_topics(
        make_entry(body="text"),
        rel_path=Path("Shanghai Cooperation Organisation/x.txt"),
        config=Config(taxonomy=(sco,)),
    )
    assert [(t.slug, t.title, t.source) for t in entry.topics] == [
        ("sco", "Shanghai Cooperation Organisation", TopicSource.FOLDER)
    ]


def test_explicit_topics_keep_their_spelling_or_take_the_rule_title() -> None:
    pakistan = TopicRule(slug="pakistan", title="Pakistan", phrases=("Pakistan",))
    entry = assign_topics(
        make_entry(body="text", declared=("PAKISTAN", "Cricket World Cup", "  ", "All")),
        rel_path=TOP,
        config=Config(taxonomy=(pakistan,)),
    )
    assert [(t.slug, t.title, t.source) for t in entry.topics] == [
        ("all-topic", "All", TopicSource.EXPLICIT),
        ("cricket-world-cup", "Cricket World Cup", TopicSource.EXPLICIT),
        ("pakistan", "Pakistan", TopicSource.EXPLICIT),
    ]


def test_merge_keeps_the_strongest_source_and_every_reason() -> None:
    pakistan = TopicRule(slug="pakistan", title="Pakistan", phrases=("Pakistan",))
    entry = assign_topics(
        make_entry(body="Pakistan and Pakistan", declared=("pakistan",)),
        rel_path=Path("pakistan/x.txt"),
        config=Config(taxonomy=(pakistan,)),
    )
    (topic,) = entry.topics
    assert topic.source is TopicSource.EXPLICIT
    assert topic.reason == 'explicit: "pakistan"; folder: "pakistan/"; taxonomy: "Pakistan" \u00d72'

    by_folder = assign_topics(
        make_entry(body="Pakistan"),
        rel_path=Path("pakistan/x.txt"),
        config=Config(taxonomy=(pakistan,)),
    )
    assert [t.source for t in by_folder.topics] == [TopicSource.FOLDER]


def test_topics_are_sorted_by_slug() -> None:
    rules = (rule("zeta", "zeta"), rule("alpha", "alpha"), rule("mid", "mid"))
    assert topics_of(make_entry(body="zeta mid alpha"), *rules) == ["alpha", "mid", "zeta"]


def test_assign_keeps_the_rest_of_the_entry() -> None:
    entry = make_entry(title="T", body="Pakistan")
    assigned = assign_topics(entry, rel_path=TOP, config=Config())
    assert replace(assigned, topics=(), candidates=()) == entry


# ---------------------------------------------------------------------- candidates


def test_candidates_are_names_acronyms_without_possessives() -> None:
    found = extract_candidates(
        "Imran Khan\u2019s party rallies in Peshawar",
        "ISLAMABAD: The Pakistan Tehreek-e-Insaf (PTI) said Pakistan\u2019s courts "
        "and the Shanghai Cooperation Organization met in Khyber Pakhtunkhwa, where Pakistani "
        "officials agreed.",
    )
    assert found == (  # "Pakistani" is Pakistan; a dateline is no mention
        "Imran Khan",
        "Khyber Pakhtunkhwa",
        "PTI",
        "Pakistan",
        "Pakistan Tehreek-e-Insaf",
        "Peshawar",
        "Shanghai Cooperation Organization",
    )


def test_candidates_leave_out_noise() -> None:
    found = extract_candidates(
        "Talks resume",
        "Updated 10 September 2025\nFollow\nShort Url\n\n"
        "The talks resumed on Monday. However, It was late. In March, Mr. Ruslan Mirzaev "
        "met Lt. Gen. Ahmed Sharif Chaudhry and the Foreign Minister. Addressing the "
        "meeting, Prime Minister Shehbaz Sharif spoke of 2002 and 90,000 lives. Reuter",
        boilerplate=DEFAULT_CONFIG.boilerplate,
    )
    assert found == ("Ahmed Sharif Chaudhry", "Ruslan Mirzaev", "Shehbaz Sharif")


def test_sentence_initial_word_is_kept_when_seen_mid_sentence() -> None:
    assert extract_candidates("", "Kabul denies it. Talks in Kabul went on.") == ("Kabul",)
    assert extract_candidates("", "Kabul denies it.") == ()


def test_all_capitals_title_is_not_mined_for_candidates() -> None:
    assert extract_candidates("BAHIA COCOA REVIEW SHOWS RAIN", "Rain fell in Bahia.") == ("Bahia",)
    assert extract_candidates("MARKET REPORT", "Rain fell in Bahia.") == ("Bahia",)


def test_title_case_headline_is_not_mined_for_candidates() -> None:
    assert extract_candidates("Rains Bring Relief To Farmers In Bahia", "Rain fell.") == ()


def test_wire_dateline_is_its_country_not_a_mention() -> None:
    text = "NEW YORK, March 3 - Shares of Temple Inland rose.\nReuter"
    assert extract_candidates("", text) == ("Temple Inland",)
    assert extract_candidates("", text, place="NEW YORK") == ("Temple Inland", "United States")
    assert extract_candidates("", "TOKYO, March 3 - Rain.", place="TOKYO") == ("Japan",)


def test_names_wrapped_over_two_lines_are_one_name() -> None:
    assert extract_candidates("", "talks in New\nYork and Khyber\n  Pakhtunkhwa") == (
        "Khyber Pakhtunkhwa",
        "New York",
    )
    assert extract_candidates("", "talks in Kabul\n\nMost of all") == ("Kabul",)


def test_acronyms_inside_names_are_candidates_too() -> None:
    # ("RATS" is the end of "SCO-RATS" here, so it counts towards it.)
    assert extract_candidates("", "under the SCO Charter and SCO-RATS.") == (
        "SCO",
        "SCO Charter",
        "SCO-RATS",
    )


def test_a_name_is_whole_with_its_connectors() -> None:
    found = extract_candidates(
        "",
        "The Securities and Exchange Commission, the Bank of England and Standard & Poor's "
        "Corp met AT&T and al-Qaeda watchers. Standard and Poor's Corp, the Securities and "
        "Exchange Commission, the Bank of England, AT&T and al-Qaeda said so again.",
    )
    assert found == (
        "AT&T",
        "Bank of England",
        "Securities and Exchange Commission",
        "Standard & Poor's",
        "al-Qaeda",
    )
    assert spelling_key("Standard & Poor's") == spelling_key("Standard and Poor's")


def test_a_name_with_an_arabic_article_may_open_the_text() -> None:
    # Nothing stands before "Al-" to be read as an article of its own.
    assert extract_candidates("Al-Qaeda claims attack on a base", "The group said more.") == (
        "Al-Qaeda",
    )
    assert extract_candidates("", "El-Sisi met envoys in the capital.") == ("El-Sisi",)


def test_and_joins_only_the_names_of_one_body() -> None:
    found = extract_candidates("", "Trade between Japan and China grew, Japan and China said.")
    assert found == ("China", "Japan")
    assert extract_candidates("", "The Savings and Loan Association said.") == (
        "Savings and Loan Association",
    )


def test_a_title_inside_a_run_splits_it_unless_it_names_an_office() -> None:
    text = (
        "U.S. Trade Representative Clayton Yeutter met Bank of Japan Governor Satoshi Sumita "
        "and Treasury Secretary James Baker."
    )
    assert extract_candidates("", text) == (
        "Bank of Japan",
        "Clayton Yeutter",
        "James Baker",
        "Satoshi Sumita",
        "Treasury",  # (the department the secretary heads)
        "U.S. Trade Representative",
    )


def test_a_capitalised_word_opening_a_sentence_is_no_name() -> None:
    text = "Shares of Volkswagen rose. Analysts expect more. Shares fell later at Volkswagen."
    assert extract_candidates("", text) == ("Volkswagen",)


def test_headings_in_capitals_give_no_names() -> None:
    text = "CHINA AND JAPAN TALK TRADE\nTalks between the Bank of Japan and others went on."
    assert extract_candidates("", text) == ("Bank of Japan",)


def test_a_ticker_is_no_name_of_its_own() -> None:
    text = "Volkswagen AG <VOWG.F> said its shares rose. Volkswagen expects more."
    assert extract_candidates("", text) == ("Volkswagen",)


def test_an_acronym_defined_in_the_text_counts_towards_its_long_form() -> None:
    text = (
        "The European Community (EC) met.\n\n"
        + "Long filler sentence about nothing at all in particular. " * 12
        + "The EC agreed. The EC said."
    )
    found = extract_candidates("", text)
    assert found == ("EC", "European Community")
    assert acronym_of("EC", "European Community")
    assert acronym_of("GATT", "General Agreement on Tariffs and Trade")
    assert acronym_of("RATS", "Regional Anti-Terrorist Structure")
    assert not acronym_of("EC", "EC Commission")


def test_a_story_is_about_names_in_its_title_lead_or_named_twice() -> None:
    filler = "Nothing of note happened in the markets that day, traders said. " * 12
    text = f"Rain fell on the Bahia zone.\n\n{filler}A man from Uzbekistan watched. {filler}"
    assert extract_candidates("Cocoa crop in Ghana", text) == ("Bahia", "Ghana")
    twice = f"{text} Then Tashkent spoke. Tashkent agreed."
    assert extract_candidates("", twice) == ("Bahia", "Tashkent")


def test_a_country_is_one_name_whatever_it_is_called() -> None:
    text = "Japanese exporters and the U.S. Treasury met in Japan. American officials agreed."
    assert extract_candidates("", text) == ("Japan", "U.S. Treasury", "United States")
    assert country_named("Japanese") == "Japan"
    assert country_named("British") == country_named("Britain") == "United Kingdom"
    assert country_named("US") is None  # a bare "US" may be a word in a headline
    assert country_named("US", codes=True) == "United States"


def test_an_adjective_is_one_name_with_its_place() -> None:
    # The adjective of a plural name, and a continent with its adjective.
    text = "Philippine exporters met in the Philippines. European buyers came from Europe."
    assert extract_candidates("", text) == ("Europe", "Philippines")
    assert country_named("American") == "United States"  # a country keeps its demonym
    assert continent_named("North American") == "North America"
    assert continent_named("American") is None


def test_a_dateline_gives_the_country_of_its_city() -> None:
    assert country_of_place("TOKYO") == "Japan"
    assert country_of_place("NEW YORK") == "United States"
    assert country_of_place("SAO PAULO") == "Brazil"
    assert country_of_place("BRAZIL") == "Brazil"
    assert country_of_place("Qwertyuiopville") is None


def test_spellings_of_one_name_share_a_key() -> None:
    assert spelling_key("Shanghai Cooperation Organisation") == spelling_key(
        "Shanghai Cooperation Organization"
    )
    assert spelling_key("Labour Party") == spelling_key("Labor Party")
    assert spelling_key("Enterprise Oil") == "enterprise-oil"


def test_a_piece_of_a_name_in_the_same_story_is_that_name() -> None:
    text = "Treasury Secretary James Baker spoke. Baker said the Federal Reserve Board agreed."
    text += " The Federal Reserve said so too, as did the Board."
    assert extract_candidates("", text) == ("Federal Reserve Board", "James Baker")
    assert piece_of("Federal Reserve", "Federal Reserve Board")
    assert not piece_of("New York", "New York Stock Exchange")
    assert not piece_of("America", "Dynamics Corp of America")


def test_a_text_of_nothing_but_names_keeps_a_bounded_number() -> None:
    words = " ".join(f"Zq{n:06d}" for n in range(3 * _MAX_NAMES))
    found = extract_candidates("", f"{words}. {words}.")
    assert 0 < len(found) <= _MAX_NAMES


def test_finding_names_in_a_huge_text_takes_little_memory() -> None:
    """A 4 MB file of capitalised words: the names are found in a bounded amount of memory
    (no list of its words; the first 100,000 characters read, at most 10,000 names kept)."""
    text = " ".join(f"Word{n % 50_000:05d}" for n in range(400_000))
    country_named("Japan")  # the gazetteer, loaded once per process, is not the story's
    tracemalloc.start()
    try:
        extract_candidates("Title", text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000, (peak, len(text))


def test_names_a_taxonomy_rule_matches_are_held_for_its_topic() -> None:
    config = replace(
        DEFAULT_CONFIG,
        taxonomy=(rule("ct", "RATS"), rule("sco", "SCO-RATS")),
        auto_never=("Tashkent",),
        auto_merge=(("Shanghai Cooperation Organization", ("SCO",)),),
    )
    text = (
        "The Regional Anti-Terrorist Structure (RATS) of the SCO met in Tashkent with "
        "SCO-RATS staff. RATS, the SCO and Tashkent said so."
    )
    entry = assign_topics(make_entry(body=text), rel_path=TOP, config=config)
    assert entry.candidates == ("Shanghai Cooperation Organization",)
    assert entry.held_names == (
        ("RATS", "duplicate of taxonomy topic ct"),
        ("Regional Anti-Terrorist Structure", "duplicate of taxonomy topic ct"),
        ("SCO-RATS", "duplicate of taxonomy topic sco"),
        ("Tashkent", "never: listed in [auto_topics] never"),
    )


def test_assign_sets_candidates() -> None:
    entry = assign_topics(make_entry(body="Talks in Kabul."), rel_path=TOP, config=Config())
    assert entry.candidates == ("Kabul",)


# ------------------------------------------------------------------- automatic topics


def test_auto_topic_needs_enough_entries() -> None:
    config = replace(DEFAULT_CONFIG, auto_min_entries=2)
    one = assign_topics(make_entry(body="Talks in Kabul and Doha."), rel_path=TOP, config=config)
    two = assign_topics(make_entry(body="Floods in Kabul."), rel_path=TOP, config=config)
    done = add_auto_topics([one, two], config=config)
    assert [[(t.slug, t.title, t.source) for t in e.topics] for e in done] == [
        [("kabul", "Kabul", TopicSource.AUTO)],
        [("kabul", "Kabul", TopicSource.AUTO)],
    ]
    assert explain_topics(done[0]) == ('kabul: auto: the entry is about "Kabul" (2 entries are)',)
    assert add_auto_topics([one, two], config=replace(config, auto_min_entries=3)) == (one, two)
    assert add_auto_topics([one, two], config=replace(config, auto_topics=False)) == (one, two)


def test_auto_topic_compares_by_slug_and_leaves_taxonomy_names_to_their_rule() -> None:
    pakistan = TopicRule(slug="pakistan", title="Pakistan", phrases=("Pakistan",))
    config = replace(DEFAULT_CONFIG, taxonomy=(pakistan,))
    texts = [
        "Talks in Pakistan and Khyber-Pakhtunkhwa.",
        "Rallies in Pakistan, Khyber Pakhtunkhwa.",
    ]
    entries = [assign_topics(make_entry(body=t), rel_path=TOP, config=config) for t in texts]
    done = add_auto_topics(entries, config=config)
    for entry in done:
        kp, pak = entry.topics
        assert (pak.slug, pak.source, pak.reason) == (
            "pakistan",
            TopicSource.TAXONOMY,
            'taxonomy: "Pakistan" \u00d71',
        )
        assert (kp.slug, kp.title, kp.source) == (
            "khyber-pakhtunkhwa",
            "Khyber Pakhtunkhwa",
            TopicSource.AUTO,
        )
    assert add_auto_topics(done, config=config) == done  # running again changes nothing


def test_explain_lists_every_topic() -> None:
    entry = assign_topics(
        make_entry(body="militant", declared=("Alpha",)),
        rel_path=TOP,
        config=Config(taxonomy=(rule("ct", "militant"),)),
    )
    assert explain_topics(entry) == (
        'alpha: explicit: "Alpha"',
        'ct: taxonomy: "militant" \u00d71',
    )


# --------------------------------------------------------------------- sample seeds


def test_sample_seeds_with_the_shipped_taxonomy() -> None:
    assigned = [assign_topics(e, rel_path=TOP, config=SHIPPED) for e in sample_entries()]
    rule_topics = [[t.slug for t in e.topics] for e in assigned]
    assert rule_topics == [
        ["afghanistan", "counterterrorism", "diplomacy", "india", "pakistan", "sco"],
        ["afghanistan", "pakistan", "politics"],
        ["counterterrorism", "diplomacy", "pakistan", "sco"],
    ]
    done = add_auto_topics(assigned, config=SHIPPED)
    # Every name the stories share is a taxonomy rule's ("SCO-RATS", "Shanghai Spirit",
    # "Regional Anti-Terrorist Structure (RATS)"): no automatic topic repeats one.
    assert [[t.slug for t in e.topics if t.source is TopicSource.AUTO] for e in done] == [
        [],
        [],
        [],
    ]


def test_sample_seeds_without_a_taxonomy() -> None:
    assigned = [assign_topics(e, rel_path=TOP, config=DEFAULT_CONFIG) for e in sample_entries()]
    done = add_auto_topics(assigned, config=DEFAULT_CONFIG)
    # One feed per body: "SCO" is the Shanghai Cooperation Organization's, "RATS" the
    # Regional Anti-Terrorist Structure's.
    assert [[t.slug for t in e.topics] for e in done] == [
        [
            "afghanistan",
            "khyber-pakhtunkhwa",
            "pakistan",
            "regional-anti-terrorist-structure",
            "shanghai-cooperation-organization",
        ],
        ["afghanistan", "khyber-pakhtunkhwa", "pakistan"],
        ["pakistan", "regional-anti-terrorist-structure", "shanghai-cooperation-organization"],
    ]
    noise = {"the", "updated", "follow", "short-url", "september", "december", "however", "in"}
    for entry in done:
        assert not noise & {topic_slug(c) for c in entry.candidates}
