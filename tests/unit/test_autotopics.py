"""feeds.autotopics: the bars, the cap, hysteresis and merged names, on a real SQLite catalogue."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeds.autotopics import HYSTERESIS, bars
from feeds.catalog import Catalog
from tests.unit.test_catalog import _entry, _record

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _open(tmp_path: Path, *, share: float = 0.0, cap: int = 0, minimum: int = 2) -> Catalog:
    return Catalog.open(
        tmp_path / "state",
        id_authority="example.org",
        auto_min_entries=minimum,
        auto_share=share,
        auto_max=cap,
    )


def _store(catalog: Catalog, name: str, *names: str) -> None:
    catalog.store_file(_record(name), [_entry(name, f"Text of {name}.", names=names)], now=T0)


def _active(catalog: Catalog) -> set[str]:
    """The automatic topics the catalogue has now."""
    return {str(r[0]) for r in catalog._db.execute("SELECT slug FROM auto_topics")}


def _publish(catalog: Catalog) -> None:
    """What a publish records: each topic of the catalogue gets its row."""
    for (slug,) in catalog._db.execute("SELECT slug FROM auto_topics").fetchall():
        catalog.topic(slug, now=T0)


def test_the_bar_is_a_share_of_the_entries_and_the_lower_bar_keeps_topics() -> None:
    assert bars(100, 2, 0.0) == bars(0, 2, 0.0)
    assert bars(1000, 2, 0.005).on == 5
    assert bars(10_000, 2, 0.005).on == 50
    assert bars(10_000, 2, 0.005).off == math.ceil(50 * HYSTERESIS)
    assert bars(10, 2, 0.005).off == 2


def test_the_bar_rises_with_the_catalogue(tmp_path: Path) -> None:
    catalog = _open(tmp_path, share=0.1)
    try:
        for n in range(3):
            _store(catalog, f"kabul-{n}.txt", "Kabul")
        _publish(catalog)
        assert "kabul" in _active(catalog)  # 3 of 3 entries
        for n in range(40):
            _store(catalog, f"other-{n}.txt", f"Name {n}")
        # 3 of 43 entries: under the lower bar of ceil(4.3) * 0.75 -> the topic goes...
        _store(catalog, "last.txt")
        assert "kabul" not in _active(catalog)
        # ... and its published feed stays, its entries as tombstones.
        assert len(catalog.tombstones("kabul", since=T0 - timedelta(days=1), limit=10)) == 3
        assert "kabul" in {t.slug for t, _ in catalog.topics()}
    finally:
        catalog.close()


def test_a_bar_that_moved_between_two_runs_looks_at_every_topic_again(tmp_path: Path) -> None:
    """As in one run: the bars last used are kept in the catalogue, so a topic whose share
    fell while its own entries did not change goes after a restart too."""
    catalog = _open(tmp_path, share=0.1)
    try:
        for n in range(3):
            _store(catalog, f"kabul-{n}.txt", "Kabul")
        for n in range(38):
            _store(catalog, f"other-{n}.txt", f"Name {n}")
        assert "kabul" in _active(catalog)  # 3 of 41 entries: just over the lower bar
    finally:
        catalog.close()
    catalog = _open(tmp_path, share=0.1)
    try:
        _store(catalog, "other-38.txt", "Name 38")  # the bars move; Kabul's entries do not
        assert "kabul" not in _active(catalog)
    finally:
        catalog.close()


def test_a_topic_stays_until_it_falls_under_the_lower_bar(tmp_path: Path) -> None:
    catalog = _open(tmp_path, minimum=4)  # on at 4 entries, off under 3
    try:
        for n in range(4):
            _store(catalog, f"{n}.txt", "Kabul")
        assert "kabul" in _active(catalog)
        catalog.forget_file(Path("0.txt"))
        assert "kabul" in _active(catalog)  # 3 entries: still a topic, no flapping
        catalog.forget_file(Path("1.txt"))
        assert "kabul" not in _active(catalog)  # 2 entries: gone
        _store(catalog, "1.txt", "Kabul")
        assert "kabul" not in _active(catalog)  # 3 entries: not enough to come back
    finally:
        catalog.close()


def test_the_cap_keeps_the_largest_and_a_newcomer_must_be_clearly_larger(tmp_path: Path) -> None:
    catalog = _open(tmp_path, cap=2)
    try:
        for n in range(5):
            _store(catalog, f"a{n}.txt", "Alpha")
        for n in range(4):
            _store(catalog, f"b{n}.txt", "Beta")
        for n in range(2):
            _store(catalog, f"g{n}.txt", "Gamma")
        assert _active(catalog) == {"alpha", "beta"}
        _store(catalog, "g2.txt", "Gamma")
        _store(catalog, "g3.txt", "Gamma")
        _store(catalog, "g4.txt", "Gamma")
        assert _active(catalog) == {"alpha", "beta"}  # 5 entries: not clearly more than 4
        for n in range(5, 9):
            _store(catalog, f"g{n}.txt", "Gamma")
        assert _active(catalog) == {"alpha", "gamma"}
        report = catalog.topic_report(min_entries=2, share=0, cap=2)
        assert [(h.name, h.reason) for h in report.held] == [
            ("Beta", "over the cap of 2 automatic topics")
        ]
    finally:
        catalog.close()


def test_an_acronym_and_its_long_form_are_one_topic_titled_by_the_long_form(
    tmp_path: Path,
) -> None:
    catalog = _open(tmp_path)
    try:
        _store(catalog, "1.txt", "EC", "European Community")
        _store(catalog, "2.txt", "EC")
        _store(catalog, "3.txt", "European Community")
        _publish(catalog)
        topics = {t.slug: (t.title, n) for t, n in catalog.topics()}
        assert topics == {"european-community": ("European Community", 3)}
        [line] = catalog.topic_report(min_entries=2, share=0, cap=0).topics
        assert line.merged == (("EC", '"EC" is the acronym of "European Community"'),)
        assert catalog.explain_names(["EC"], min_entries=2, share=0) == [
            'european-community: auto: the entry is about "EC" ("EC" is the acronym of '
            '"European Community"); 3 entries are, a new topic needs 2'
        ]
    finally:
        catalog.close()


def test_a_merge_keeps_the_published_feed(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    try:
        _store(catalog, "1.txt", "SEC")
        _store(catalog, "2.txt", "SEC")
        _publish(catalog)
        assert "sec" in {t.slug for t, _ in catalog.topics()}
        _store(catalog, "3.txt", "SEC", "Securities and Exchange Commission")
        _store(catalog, "4.txt", "Securities and Exchange Commission")
        _publish(catalog)
        listed = {t.slug: n for t, n in catalog.topics()}
        assert listed == {"sec": 4}  # the URL subscribers have keeps every entry
        assert _active(catalog) == {"sec"}
    finally:
        catalog.close()


def test_two_published_feeds_are_never_merged(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    try:
        for n in range(2):
            _store(catalog, f"a{n}.txt", "SEC")
            _store(catalog, f"b{n}.txt", "Securities and Exchange Commission")
        _publish(catalog)
        _store(catalog, "both.txt", "SEC", "Securities and Exchange Commission")
        _publish(catalog)
        assert _active(catalog) == {"sec", "securities-and-exchange-commission"}
    finally:
        catalog.close()


def test_a_piece_of_a_bodys_name_joins_its_topic(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    try:
        for n in range(3):
            _store(catalog, f"a{n}.txt", "Federal Reserve Board")
        for n in range(2):
            _store(catalog, f"b{n}.txt", "Federal Reserve")
        for n in range(2):
            _store(catalog, f"c{n}.txt", "New York Stock Exchange")
            _store(catalog, f"d{n}.txt", "New York")
        _publish(catalog)
        listed = {t.slug: (t.title, n) for t, n in catalog.topics()}
        assert listed == {
            "federal-reserve-board": ("Federal Reserve Board", 5),
            "new-york": ("New York", 2),  # a city, not a piece of the exchange
            "new-york-stock-exchange": ("New York Stock Exchange", 2),
        }
    finally:
        catalog.close()


def test_a_name_joining_a_topic_leaves_the_topics_other_entries_alone(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    try:
        for n in range(3):
            _store(catalog, f"a{n}.txt", "Federal Reserve Board")
        _publish(catalog)

        def revisions() -> dict[str, int]:
            rows = catalog._db.execute("SELECT entry_id, revision FROM atom_entries")
            return {str(r[0]): int(r[1]) for r in rows}

        before = revisions()
        for n in range(2):
            _store(catalog, f"b{n}.txt", "Federal Reserve")
        _publish(catalog)
        listed = {t.slug: (t.title, n) for t, n in catalog.topics()}
        assert listed == {"federal-reserve-board": ("Federal Reserve Board", 5)}
        after = revisions()
        assert {k: after[k] for k in before} == before  # the topic's title did not change
    finally:
        catalog.close()


def test_a_long_form_seen_later_takes_its_acronym_from_a_misspelt_one(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    try:
        _store(catalog, "a.txt", "OPEC", "Organiaation of Petroleum Exporting Countries")
        _store(catalog, "b.txt", "OPEC")
        for n in range(3):
            _store(catalog, f"c{n}.txt", "OPEC", "Organization of Petroleum Exporting Countries")
        _publish(catalog)
        listed = {t.slug: (t.title, n) for t, n in catalog.topics()}
        assert listed == {
            "organization-of-petroleum-exporting-countries": (
                "Organization of Petroleum Exporting Countries",
                5,
            )
        }
    finally:
        catalog.close()
