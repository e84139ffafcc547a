"""What the forkserver of worker processes also loads when automatic topics are on (see
`feeds.preload`): the gazetteer's tables, which a worker needs at its first dateline. Loaded
once there, they are shared by every worker instead of read by each: the cities alone took
each worker ~0.3 s of CPU and ~40 MB at their peak. With automatic topics off no worker
looks a place up, and a first build's workers would only wait for them.
"""

from __future__ import annotations

from feeds.topics.places import load_gazetteer

load_gazetteer()
