"""A file whose reading a process did not live through is rejected, not read again.

The process that dies is real: a child Python process marks the file as being read
(`feeds.interrupted.marked_reading`) and ends with `os._exit` inside the mark, as one killed
for its memory would; the reconcile that follows runs on a real catalogue.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.build import open_catalog, reconcile
from feeds.config import DEFAULT_CONFIG
from feeds.interrupted import MARKED_SIZE, marked_reading, take_interrupted
from feeds.model import Config, FileStatus
from tests.conftest import REPO

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_DIE_READING = """
import os, sys
from pathlib import Path
from feeds.interrupted import marked_reading
state, rel, size, mtime_ns = sys.argv[1:]
with marked_reading(Path(state), Path(rel), size=int(size), mtime_ns=int(mtime_ns)):
    os._exit(9)
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    return replace(
        DEFAULT_CONFIG,
        seeds_dir=seeds,
        public_dir=tmp_path / "public",
        state_dir=tmp_path / "state",
    )


def _big_story(config: Config, name: str, words: str = "Cranes load the ships. ") -> Path:
    path = config.seeds_dir / name
    body = words * (MARKED_SIZE // len(words) + 1)
    path.write_text(f"Title: Harbour report\nDate: 2026-02-01\n\n{body}\n", encoding="utf-8")
    return path


def _die_reading(config: Config, path: Path) -> None:
    """A child process that marks `path` as being read and ends before unmarking it."""
    info = path.stat()
    rel = path.relative_to(config.seeds_dir)
    args = [str(config.state_dir), str(rel), str(info.st_size), str(info.st_mtime_ns)]
    done = subprocess.run([sys.executable, "-c", _DIE_READING, *args], cwd=REPO, check=False)
    assert done.returncode == 9


def _reconcile(config: Config, now: datetime) -> tuple[FileStatus, str | None, int]:
    """Reconcile; the status and reason of the one file, and how many entries there are."""
    catalog = open_catalog(config)
    try:
        reconcile(catalog, config, now=now)
        (rel,) = catalog.file_paths()
        record = catalog.file_record(Path(rel))
        assert record is not None
        return record.status, record.reason, catalog.counts().entries
    finally:
        catalog.close()


def test_a_file_whose_reading_a_process_did_not_survive_is_rejected_until_it_changes(
    config: Config,
) -> None:
    path = _big_story(config, "big.txt")
    _die_reading(config, path)
    status, reason, entries = _reconcile(config, T0)
    assert status is FileStatus.REJECTED and entries == 0
    assert reason is not None and "stopped while reading" in reason
    assert not any((config.state_dir / "reading").iterdir())
    # Later reconciles leave it alone (other rejected files are read each time) ...
    assert _reconcile(config, T0 + timedelta(hours=1)) == (status, reason, 0)
    # ... until it is edited.
    path.write_text(path.read_text(encoding="utf-8") + "One more line.\n", encoding="utf-8")
    status, reason, entries = _reconcile(config, T0 + timedelta(hours=2))
    assert (status, reason, entries) == (FileStatus.OK, None, 1)


def test_a_file_read_since_its_mark_was_left_is_kept(config: Config) -> None:
    path = _big_story(config, "big.txt")
    assert _reconcile(config, T0)[0] is FileStatus.OK
    _die_reading(config, path)  # a worker died on it, and the daemon read it itself
    assert _reconcile(config, T0 + timedelta(hours=1)) == (FileStatus.OK, None, 1)


def test_a_mark_of_a_living_process_is_left_alone(config: Config) -> None:
    path = _big_story(config, "big.txt")
    info = path.stat()
    with marked_reading(
        config.state_dir, Path("big.txt"), size=info.st_size, mtime_ns=info.st_mtime_ns
    ):
        assert take_interrupted(config.state_dir) == []
        assert len(list((config.state_dir / "reading").iterdir())) == 1
    assert not any((config.state_dir / "reading").iterdir())


def test_a_small_file_is_read_without_a_mark(config: Config) -> None:
    with marked_reading(config.state_dir, Path("small.txt"), size=MARKED_SIZE - 1, mtime_ns=0):
        assert not (config.state_dir / "reading").exists()
