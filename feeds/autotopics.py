"""Catalogue queries for automatic topics: how many live entries are about a name, which
names are topics, and the bars a name must clear.

A name becomes a topic when `Bars.on` live entries are about it and stops being one only
when fewer than `Bars.off` are (hysteresis: a feed near the bar does not come and go with
every file). The bar rises with the catalogue: a share of its live entries, never less
than `min_entries`. Past the cap, the topics with the fewest entries go. A topic that goes
keeps its feed, with its entries as tombstones, like a taxonomy topic taken out.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

# A topic stays until fewer than this share of its bar are about it.
HYSTERESIS = 0.75


@dataclass(frozen=True, slots=True)
class Bars:
    on: int  # live entries a name needs to become a topic
    off: int  # a topic with fewer than this stops being one


def bars(live: int, min_entries: int, share: float) -> Bars:
    """The bars for a catalogue of `live` entries."""
    on = max(min_entries, math.ceil(share * live))
    return Bars(on=on, off=max(min(min_entries, on), math.ceil(on * HYSTERESIS)))


def live_entries(db: sqlite3.Connection, all_slug: str) -> int:
    """The live entries as of the last transaction (the `all` feed's count: no table scan)."""
    row = db.execute("SELECT entries FROM topic_counts WHERE slug = ?", (all_slug,)).fetchone()
    return 0 if row is None else int(row[0])


def name_count(db: sqlite3.Connection, slug: str, *, limit: int) -> int:
    """How many live entries are about the name `slug`, counted up to `limit`."""
    (count,) = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM candidates c JOIN entries e USING (entry_id) "
        "WHERE c.slug = ? AND e.live LIMIT ?)",
        (slug, max(limit, 1)),
    ).fetchone()
    return int(count)


def is_active(db: sqlite3.Connection, slug: str) -> bool:
    return db.execute("SELECT 1 FROM auto_topics WHERE slug = ?", (slug,)).fetchone() is not None


def active_slugs(db: sqlite3.Connection) -> list[str]:
    return [str(r[0]) for r in db.execute("SELECT slug FROM auto_topics")]


def title_of(db: sqlite3.Connection, slug: str) -> str:
    """The spelling of the name that most entries use (ties: the smallest)."""
    (label,) = db.execute(
        "SELECT label FROM candidates WHERE slug = ? GROUP BY label "
        "ORDER BY count(*) DESC, label LIMIT 1",
        (slug,),
    ).fetchone()
    return str(label)


def over_cap(db: sqlite3.Connection, cap: int) -> list[str]:
    """The automatic topics beyond the `cap` largest (none when `cap` is 0)."""
    if cap <= 0 or len(active_slugs(db)) <= cap:
        return []
    rows = db.execute(
        "SELECT a.slug FROM auto_topics a JOIN candidates c USING (slug) "
        "JOIN entries e USING (entry_id) WHERE e.live GROUP BY a.slug "
        "ORDER BY count(*) DESC, a.slug LIMIT -1 OFFSET ?",
        (cap,),
    )
    return [str(r[0]) for r in rows]
