"""Large files are read under a mark in the state folder, so that one whose reading stopped
seedfeed (killed for its memory, say) is rejected at the next start instead of read again.

While a file of at least MARKED_SIZE bytes is read, `<state>/reading/<pid>-<n>.json` names
it with the size and mtime it had. The mark goes when the reading ends, however it ends,
unless the process itself ends first. `take_interrupted` gives the files of the marks whose
process is gone, and removes those marks.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Smaller files are read without a mark: reading one takes a few times its size at most,
# and marking every file would cost a burst of small drops two file operations each.
MARKED_SIZE = 1024 * 1024
_FOLDER = "reading"
_numbers = itertools.count()


@dataclass(frozen=True, slots=True, kw_only=True)
class Interrupted:
    """A file whose reading was under way when its process ended."""

    rel_path: Path
    size: int
    mtime_ns: int


@contextmanager
def marked_reading(state_dir: Path, rel_path: Path, *, size: int, mtime_ns: int) -> Iterator[None]:
    """Mark `rel_path` as being read by this process while the block runs (large files only)."""
    if size < MARKED_SIZE:
        yield
        return
    folder = state_dir / _FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    mark = folder / f"{os.getpid()}-{next(_numbers)}.json"
    fields = {"path": os.fsencode(rel_path).hex(), "size": size, "mtime_ns": mtime_ns}
    mark.write_text(json.dumps(fields), encoding="utf-8")
    try:
        yield
    finally:
        mark.unlink(missing_ok=True)


def take_interrupted(state_dir: Path) -> list[Interrupted]:
    """The files being read by processes that are gone; their marks are removed."""
    folder = state_dir / _FOLDER
    try:
        marks = sorted(folder.iterdir())
    except FileNotFoundError:
        return []
    found: list[Interrupted] = []
    for mark in marks:
        pid, _, _ = mark.name.partition("-")
        if not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            fields = json.loads(mark.read_text(encoding="utf-8"))
            found.append(
                Interrupted(
                    rel_path=Path(os.fsdecode(bytes.fromhex(fields["path"]))),
                    size=int(fields["size"]),
                    mtime_ns=int(fields["mtime_ns"]),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("reading mark unreadable, removed mark=%s", mark)
        mark.unlink(missing_ok=True)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
