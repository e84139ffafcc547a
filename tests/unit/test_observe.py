"""The watchdog observer seedfeed watches seeds/ with, on real folders."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from watchdog.events import FileMovedEvent, FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver

from tests.conftest import wait_until
from watcher.observe import _MoveGrouper, start_observer


class _Moves(FileSystemEventHandler):
    def __init__(self) -> None:
        self.moves: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, FileMovedEvent):
            with self._lock:
                self.moves.append((os.fsdecode(event.src_path), os.fsdecode(event.dest_path)))

    def names(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(Path(src).name if src else "", Path(dest).name) for src, dest in self.moves]


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Path, _Moves, BaseObserver]]:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    handler = _Moves()
    observer = start_observer(handler, seeds, polling=False, events=[FileMovedEvent])
    try:
        yield seeds, handler, observer
    finally:
        observer.stop()
        observer.join(timeout=5)


def test_files_renamed_in_from_outside_are_moves_without_a_source(
    tmp_path: Path, watched: tuple[Path, _Moves, BaseObserver]
) -> None:
    """A scraper writes elsewhere and renames into seeds/: each file is a move with no
    source (read at once by the daemon), not a creation left to settle."""
    seeds, handler, _ = watched
    staging = tmp_path / "staging"
    staging.mkdir()
    names = [f"drop-{n:04d}.txt" for n in range(300)]
    for name in names:
        (staging / name).write_text("story", encoding="utf-8")
    for name in names:
        os.replace(staging / name, seeds / name)
    wait_until(lambda: len(handler.names()) >= len(names), explain=lambda: str(handler.names()))
    assert sorted(handler.names()) == sorted(("", name) for name in names)


def test_a_rename_inside_seeds_keeps_its_source_among_moves_from_outside(
    tmp_path: Path, watched: tuple[Path, _Moves, BaseObserver]
) -> None:
    """The daemon hands a renamed file's stories (and ids) over to its new name: a rename
    inside seeds/ must still be paired, whatever else is moving in around it."""
    seeds, handler, _ = watched
    staging = tmp_path / "staging"
    staging.mkdir()
    (seeds / "old.txt").write_text("story", encoding="utf-8")
    for n in range(100):
        (staging / f"in-{n:03d}.txt").write_text("story", encoding="utf-8")
    for n in range(100):
        os.replace(staging / f"in-{n:03d}.txt", seeds / f"in-{n:03d}.txt")
        if n == 50:
            os.replace(seeds / "old.txt", seeds / "new.txt")
    wait_until(lambda: len(handler.names()) >= 101, explain=lambda: str(handler.names()))
    moves = handler.names()
    assert ("old.txt", "new.txt") in moves
    assert sorted(move for move in moves if move[0] == "") == [
        ("", f"in-{n:03d}.txt") for n in range(100)
    ]


def test_the_inotify_observer_groups_moves_without_scanning_for_files_moved_in(
    watched: tuple[Path, _Moves, BaseObserver],
) -> None:
    """watchdog's own grouper scans its whole queue for every file moved in; if seedfeed's
    cannot be put in place (another watchdog), bursts are slow again: fail loudly here."""
    _, _, observer = watched
    groupers = [emitter._inotify._move_event_grouper for emitter in observer.emitters]  # type: ignore[attr-defined]
    assert groupers and all(isinstance(g, _MoveGrouper) for g in groupers)
