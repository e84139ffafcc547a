"""Indexes a first bulk load does without, on a real catalogue: dropped, and built again."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.build import open_catalog, reconcile, update
from feeds.catalog import CATALOG_NAME
from feeds.indexes import DEFERRABLE, DEFERRED
from feeds.model import Config

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def config(sample_site: Config) -> Config:
    return sample_site


def _indexes(state_dir: Path) -> set[str]:
    db = sqlite3.connect(state_dir / CATALOG_NAME)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        db.close()


def test_a_first_load_goes_without_some_indexes_and_ends_with_every_one(
    config: Config, tmp_path: Path
) -> None:
    fresh = replace(config, state_dir=tmp_path / "fresh")
    open_catalog(fresh).close()
    every = _indexes(fresh.state_dir)
    assert set(DEFERRABLE) <= every
    during: list[set[str]] = []
    catalog = open_catalog(config)
    try:
        reconcile(
            catalog,
            config,
            now=T0,
            progress=lambda *_: during.append(_indexes(config.state_dir)),
        )
        assert during and all(not set(DEFERRABLE) & found for found in during)
        assert catalog.setting(DEFERRED) is None
    finally:
        catalog.close()
    assert _indexes(config.state_dir) == every


def test_a_first_load_cut_short_gets_its_indexes_when_the_catalogue_is_opened(
    config: Config, tmp_path: Path
) -> None:
    catalog = open_catalog(config)
    try:
        every = _indexes(config.state_dir)
        catalog.defer_indexes()  # then seedfeed dies before the load's end
        assert not set(DEFERRABLE) & _indexes(config.state_dir)
    finally:
        catalog.close()
    catalog = open_catalog(config)
    try:
        assert _indexes(config.state_dir) == every
        assert catalog.setting(DEFERRED) is None
        update(catalog, config, now=T0)
    finally:
        catalog.close()


def test_a_catalogue_with_entries_keeps_its_indexes_while_files_come(config: Config) -> None:
    """Only a catalogue that never stored an entry goes without them: rebuilding them at
    every reconcile of a big catalogue would cost more than it saves."""
    catalog = open_catalog(config)
    try:
        update(catalog, config, now=T0)
        every = _indexes(config.state_dir)
        (config.seeds_dir / "late.txt").write_text(
            "Title: A late story\nTopics: harbours\n\nQuays.\n", encoding="utf-8"
        )
        during: list[set[str]] = []
        reconcile(
            catalog, config, now=T0, progress=lambda *_: during.append(_indexes(config.state_dir))
        )
        assert during and all(found == every for found in during)
    finally:
        catalog.close()
