"""End to end: the automatic topics of real news, as `seedfeed build` makes them (issue 17's
numbers; the same measurement as `make bench`'s topic rows, see bench/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.corpus import CorpusMissing, find_corpus
from bench.topics import (
    MAX_1K_TOPICS,
    MAX_SAMPLE_TOPICS,
    MIN_ALIGNMENT,
    REPO,
    measure,
)

pytestmark = pytest.mark.e2e


def _corpus() -> Path:
    try:
        return find_corpus(REPO)
    except CorpusMissing as e:
        pytest.skip(str(e))


def test_the_sample_seeds_give_one_feed_per_body(tmp_path: Path) -> None:
    row, topics = measure("sample", _corpus(), tmp_path)
    assert row.topics <= MAX_SAMPLE_TOPICS, topics.titles
    assert row.pieces == [] and row.duplicates == []


def test_the_1k_subset_gives_few_whole_names_that_align_with_places(tmp_path: Path) -> None:
    """Measured on the subset, not on the stories the rules were developed on (`dev`)."""
    row, topics = measure("1k", _corpus(), tmp_path)
    assert row.topics <= MAX_1K_TOPICS, len(topics.titles)
    assert row.pieces == [], row.pieces
    assert row.duplicates == [], row.duplicates
    assert row.alignment is not None and row.alignment >= MIN_ALIGNMENT, row.alignment
