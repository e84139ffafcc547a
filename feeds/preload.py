"""What the forkserver that worker processes are forked from imports (`feeds.workers`): the
modules a worker reads, tags and renders with, and the gazetteer's tables. Loaded once there,
they are shared by every worker (copy-on-write) instead of loaded by each: the gazetteer's
cities alone took each worker ~0.3 s of CPU and ~40 MB at their peak, at its first dateline.
`feeds.render` imports feedgen with the first feed it renders, and `feeds.topics` its
sources with the first file tagged: here they are imported beforehand.
"""

from __future__ import annotations

import importlib

from feeds.topics.places import load_gazetteer

MODULES = (
    "feeds.build",  # whose functions the workers run
    "feeds.ingest",
    "feeds.normalize",
    "feeds.topics.automatic",
    "feeds.topics.explicit",
    "feeds.topics.taxonomy",
    "feedgen.feed",
)

for _name in MODULES:
    importlib.import_module(_name)
load_gazetteer()
