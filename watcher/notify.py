"""systemd's notify protocol (sd_notify): READY, STOPPING, STATUS and WATCHDOG messages."""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def send_notification(message: str) -> bool:
    """Send one message to $NOTIFY_SOCKET; False (and nothing sent) when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    target = "\0" + address[1:] if address.startswith("@") else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(target)
            sock.sendall(message.encode("utf-8"))
    except OSError as e:
        log.warning("systemd notification failed message=%s error=%s", message, e)
        return False
    log.debug("systemd notified message=%s", message)
    return True


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 pings that systemd asks for (half its limit), if any."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(int(usec) / 2_000_000, 0.5)
    except ValueError:
        return None
