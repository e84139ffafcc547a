"""WebSub publisher pings: tell the configured hub which feeds changed (hub.mode=publish)."""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

log = logging.getLogger(__name__)

TIMEOUT = 5.0


def notify_hub(hub_url: str, feed_urls: Sequence[str]) -> int:
    """POST one `hub.mode=publish` per changed feed; return how many the hub accepted (2xx).

    A hub that is down or refuses costs a warning, never the publish: subscribers still get
    the change at their next poll.
    """
    accepted = 0
    for feed_url in feed_urls:
        body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": feed_url}).encode()
        request = urllib.request.Request(
            hub_url,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                status = int(response.status)
        except urllib.error.HTTPError as e:
            log.warning("hub refused the ping hub=%s feed=%s status=%d", hub_url, feed_url, e.code)
            continue
        except (urllib.error.URLError, OSError) as e:
            log.warning("hub unreachable hub=%s feed=%s error=%s", hub_url, feed_url, e)
            continue
        log.info("hub notified hub=%s feed=%s status=%d", hub_url, feed_url, status)
        accepted += 1
    return accepted
