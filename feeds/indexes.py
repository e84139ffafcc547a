"""Indexes a first bulk load does without: dropped before it, built once at its end.

Storing 10k files into an empty catalogue kept four indexes that only publishing and
`seedfeed status` read (`entries_newest`, `entry_topics_newest`, `entry_topics_titles`,
`memberships_left`) up to date row by row, ~10% of storing; built after the load they take
~0.07 s. Their definitions are kept in the `settings` table in the transaction that drops
them, and they are built again in the one that forgets them: at the end of the load, or, if
seedfeed did not live to it, when the catalogue is next opened.
"""

from __future__ import annotations

import json
import sqlite3

DEFERRABLE = ("entries_newest", "entry_topics_newest", "entry_topics_titles", "memberships_left")
# The setting holding the definitions of the indexes dropped, while they are.
DEFERRED = "deferred_indexes"


def drop_deferrable(db: sqlite3.Connection) -> None:
    """Drop the deferrable indexes there are, keeping their definitions (in a transaction)."""
    marks = ", ".join("?" * len(DEFERRABLE))
    found = db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({marks}) "
        "ORDER BY name",
        DEFERRABLE,
    ).fetchall()
    if not found:
        return
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (DEFERRED, json.dumps([sql for _, sql in found])),
    )
    for name, _ in found:
        db.execute(f"DROP INDEX {name}")


def build_deferred(db: sqlite3.Connection) -> bool:
    """Build the indexes `drop_deferrable` dropped, if any (in a transaction); True if it did."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", (DEFERRED,)).fetchone()
    if row is None:
        return False
    for sql in json.loads(row[0]):
        db.execute(sql)
    db.execute("DELETE FROM settings WHERE key = ?", (DEFERRED,))
    return True
