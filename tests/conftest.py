"""Fixtures every test shares: a deadline-based wait, a fixed clock, no leaked threads."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.config import DEFAULT_CONFIG
from feeds.model import Config
from feeds.publish import SYNC_THREAD_PREFIX

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
# The tests' own copy of the sample clippings: users add theirs to the repository's seeds/.
SAMPLE_SEEDS = REPO / "tests" / "data" / "seeds"


@pytest.fixture
def sample_site(tmp_path: Path) -> Config:
    """The default settings on a site of its own: the sample clippings in `seeds/`, empty
    `public/` and state folders under `tmp_path`."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for sample in sorted(SAMPLE_SEEDS.glob("*.txt")):
        shutil.copyfile(sample, seeds / sample.name)
    return replace(
        DEFAULT_CONFIG,
        seeds_dir=seeds,
        public_dir=tmp_path / "public",
        state_dir=tmp_path / "state",
    )


def wait_until(
    check: Callable[[], object],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    explain: Callable[[], str] | None = None,
) -> object:
    """Call `check` until it returns something truthy; fail the test at the deadline, with
    what `explain` says then (what is missing, a log) when given."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            detail = f"\n{explain()}" if explain is not None else ""
            pytest.fail(
                f"condition not met within {timeout} s: {getattr(check, '__name__', check)}"
                + detail
            )
        time.sleep(interval)


@pytest.fixture
def now() -> datetime:
    """A fixed moment for pure functions that take the time as a parameter."""
    return datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail any test that leaves a thread of its own running (but for the fsync threads each
    process starts once, `feeds.publish`'s, which live as long as the process)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        leaked = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(SYNC_THREAD_PREFIX)
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"
