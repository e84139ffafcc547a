"""What the forkserver that worker processes are forked from imports (`feeds.workers`): the
modules a worker reads, tags and renders with, loaded once there and shared by every worker
(copy-on-write) instead of imported by each. `feeds.render` imports feedgen with the first
feed it renders, and `feeds.topics` its sources with the first file tagged: here they are
imported beforehand. (`feeds.preload_places` adds the gazetteer's tables.)
"""

from __future__ import annotations

import importlib

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
