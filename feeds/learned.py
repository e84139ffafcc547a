"""The learned state in the state folder (`learned.pickle`): what the examples taught, kept
across restarts. Written atomically (temp file, fsync, rename), so a `kill -9` leaves the old
model or the new one; one that cannot be read (damaged, or written by another version of
seedfeed or scikit-learn) is set aside with a warning and learned again."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

from feeds.publish import write_files_atomically
from feeds.topics.learning import METHOD_VERSION, Learned

log = logging.getLogger(__name__)

STATE_NAME = "learned.pickle"
# What unpickling a damaged or foreign file raises.
_UNREADABLE = (
    pickle.UnpicklingError,
    EOFError,
    AttributeError,
    ImportError,
    IndexError,
    TypeError,
    ValueError,
)


def _library() -> str:
    """The method and scikit-learn version a model comes from (read without importing it)."""
    from importlib.metadata import version  # (~25 ms to import: only when a model is kept or read)

    return f"{METHOD_VERSION}/{version('scikit-learn')}"


def save_learned(state_dir: Path, learned: Learned) -> None:
    """Keep `learned` in the state folder, replacing what was there."""
    data = pickle.dumps((_library(), learned), protocol=pickle.HIGHEST_PROTOCOL)
    write_files_atomically({state_dir / STATE_NAME: data}, announce=False)
    log.info("learned state saved topics=%d bytes=%d", len(learned.topics), len(data))


def is_learned_kept(state_dir: Path) -> bool:
    """Whether the state folder keeps a learned state (readable or not)."""
    return (state_dir / STATE_NAME).is_file()


def load_learned(state_dir: Path) -> Learned | None:
    """The learned state kept in the state folder, or None when there is none to use."""
    path = state_dir / STATE_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        library, learned = pickle.loads(data)
    except _UNREADABLE as e:
        log.warning("learned state unreadable, learning again path=%s error=%s", path, e)
        return None
    if library != _library() or not isinstance(learned, Learned):
        log.warning("learned state from another version, learning again path=%s", path)
        return None
    return learned
