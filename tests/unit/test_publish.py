"""feeds.publish: atomic writes that skip unchanged bytes, and clean-up of temp files."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from feeds.publish import (
    remove_file,
    remove_stale_temp_files,
    write_files_atomically,
    write_stream_atomically,
)


def write_atomically(path: Path, data: bytes) -> bool:
    """One document through the batch writer: True when its bytes changed on disk."""
    return write_files_atomically({path: data}) == [path]


def test_first_write_creates_parent_folders(tmp_path: Path) -> None:
    path = tmp_path / "public" / "feeds" / "all.atom"
    assert write_atomically(path, b"<feed/>") is True
    assert path.read_bytes() == b"<feed/>"


def test_unchanged_bytes_are_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "all.atom"
    write_atomically(path, b"<feed>one</feed>")
    before = path.stat()
    assert write_atomically(path, b"<feed>one</feed>") is False
    after = path.stat()
    assert after.st_mtime_ns == before.st_mtime_ns
    assert after.st_ino == before.st_ino


def test_changed_bytes_replace_the_file(tmp_path: Path) -> None:
    path = tmp_path / "all.atom"
    write_atomically(path, b"<feed>one</feed>")
    before = path.stat()
    assert write_atomically(path, b"<feed>two</feed>") is True
    assert path.read_bytes() == b"<feed>two</feed>"
    assert path.stat().st_ino != before.st_ino  # a new file renamed over, not edited in place


def test_same_size_different_bytes_are_written(tmp_path: Path) -> None:
    path = tmp_path / "all.atom"
    write_atomically(path, b"aaaa")
    assert write_atomically(path, b"bbbb") is True
    assert path.read_bytes() == b"bbbb"


def test_no_temp_file_is_left_behind(tmp_path: Path) -> None:
    path = tmp_path / "feeds" / "energy.atom"
    write_atomically(path, b"one")
    write_atomically(path, b"two")
    write_atomically(path, b"two")
    assert sorted(p.name for p in path.parent.iterdir()) == ["energy.atom"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "all.atom"
    write_atomically(path, b"old")
    with pytest.raises(TypeError):
        write_atomically(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.atom"]


def test_writes_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "all.atom"
    with caplog.at_level(logging.DEBUG, logger="feeds.publish"):
        write_atomically(path, b"x")
        write_atomically(path, b"x")
    assert [(r.levelno, r.getMessage().split()[0]) for r in caplog.records] == [
        (logging.INFO, "written"),
    ]


def test_a_streamed_document_is_written_once_and_then_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "public" / "index.html"
    chunks = [b"<ul>", *(f"<li>{n}</li>".encode() for n in range(1000)), b"</ul>"]
    assert write_stream_atomically(path, iter(chunks)) == len(b"".join(chunks))
    assert path.read_bytes() == b"".join(chunks)
    before = path.stat()
    assert write_stream_atomically(path, iter(chunks)) is None  # same bytes: not replaced
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.stat().st_ino == before.st_ino
    changed = [*chunks[:-1], b"</ol>"]  # same size, last bytes differ
    assert write_stream_atomically(path, iter(changed)) == before.st_size
    assert path.read_bytes().endswith(b"</ol>") and path.stat().st_ino != before.st_ino
    assert sorted(p.name for p in path.parent.iterdir()) == ["index.html"]


def test_a_stream_that_fails_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "index.html"
    path.write_bytes(b"old")

    def failing() -> Iterator[bytes]:
        yield b"new, half"
        raise RuntimeError("the catalogue went away")

    with pytest.raises(RuntimeError):
        write_stream_atomically(path, failing())
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]


def test_stale_temp_files_are_removed_recursively(tmp_path: Path) -> None:
    public = tmp_path / "public"
    (public / "feeds").mkdir(parents=True)
    (public / ".index.html.tmp").write_bytes(b"half")
    (public / "feeds" / ".all.atom.tmp").write_bytes(b"half")
    (public / "feeds" / "all.atom").write_bytes(b"whole")
    (public / "README.md").write_bytes(b"kept")
    (public / "notes.tmp").write_bytes(b"not ours: not hidden")
    assert remove_stale_temp_files(public) == 2
    remaining = sorted(p.relative_to(public).as_posix() for p in public.rglob("*"))
    assert remaining == ["README.md", "feeds", "feeds/all.atom", "notes.tmp"]
    assert remove_stale_temp_files(public) == 0


def test_stale_temp_removal_without_public_folder(tmp_path: Path) -> None:
    assert remove_stale_temp_files(tmp_path / "public") == 0


def test_remove_file(tmp_path: Path) -> None:
    path = tmp_path / "feeds" / "gone.atom"
    write_atomically(path, b"<feed/>")
    assert remove_file(path) is True
    assert not path.exists()
    assert remove_file(path) is False


def test_a_batch_writes_only_what_changed(tmp_path: Path) -> None:
    same, other, new = tmp_path / "a.atom", tmp_path / "b.atom", tmp_path / "deep" / "c.atom"
    write_files_atomically({same: b"same", other: b"old"})
    kept = same.stat().st_mtime_ns
    assert write_files_atomically({same: b"same", other: b"new", new: b"c"}) == [other, new]
    assert same.stat().st_mtime_ns == kept
    assert (other.read_bytes(), new.read_bytes()) == (b"new", b"c")
    assert not list(tmp_path.rglob(".*.tmp"))


def _write_in_forked_child(path: str) -> None:
    write_files_atomically({Path(path): b"<feed>child</feed>"})


def test_a_process_forked_after_writing_writes_with_threads_of_its_own(tmp_path: Path) -> None:
    """The fsync threads are started once per process: a child forked from a process that
    has written inherits the pool but not its threads, and must not wait on them forever."""
    write_atomically(tmp_path / "parent.atom", b"<feed>parent</feed>")
    child = multiprocessing.get_context("fork").Process(
        target=_write_in_forked_child, args=(str(tmp_path / "child.atom"),)
    )
    child.start()
    child.join(timeout=30)
    if child.is_alive():
        child.kill()
        child.join()
    assert child.exitcode == 0
    assert (tmp_path / "child.atom").read_bytes() == b"<feed>child</feed>"
