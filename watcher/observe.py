"""Watching `seeds/`: watchdog's inotify observer (or its polling one), fit for bursts.

watchdog pairs each file renamed into a watched folder (IN_MOVED_TO) with the IN_MOVED_FROM
it may have queued, by scanning its whole queue of pending events, twice per file. When
thousands of files are renamed in at once and that queue backs up, the scans grow with it:
0.55 s of CPU in watchdog's reading thread for a burst of 5,000 files, all of it holding the
interpreter lock the files are stored under. `_MoveGrouper` scans only while an IN_MOVED_FROM
is queued (a rename inside `seeds/`); files renamed in from elsewhere, as scrapers drop them,
skip it. The events delivered are the same.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import DEFAULT_OBSERVER_TIMEOUT, BaseObserver
from watchdog.observers.inotify import InotifyFullEmitter, InotifyObserver, InotifyWatchGroup
from watchdog.observers.inotify_move_event_grouper import (
    GroupedInotifyEvent,
    InotifyMoveEventGrouper,
    PathedInotifyEvent,
)
from watchdog.observers.polling import PollingObserver

log = logging.getLogger(__name__)

_INOTIFY_LIMITS = {errno.ENOSPC: "max_user_watches", errno.EMFILE: "max_user_instances"}


def start_observer(
    handler: FileSystemEventHandler,
    seeds: Path,
    *,
    polling: bool,
    events: list[type[FileSystemEvent]],
) -> BaseObserver:
    """Watch `seeds` with inotify, or poll it (asked for, or when inotify runs out), for the
    kinds of `events` the handler uses: the others (a folder modified with every file
    renamed into it, opened, read) are never built nor dispatched."""
    if not polling:
        observer: BaseObserver = _InotifyObserver()
        try:
            observer.schedule(handler, str(seeds), recursive=True, event_filter=events)
            observer.start()
            return observer
        except OSError as e:
            limit = _INOTIFY_LIMITS.get(e.errno or 0)
            if limit is None:
                raise
            observer.stop()
            log.warning(
                "inotify limit reached, polling seeds/ instead error=%s fix='sysctl "
                "fs.inotify.%s=524288 (or add it to /etc/sysctl.d/) and restart seedfeed'",
                e.strerror,
                limit,
            )
    else:
        log.info("polling seeds/ as configured")
    observer = PollingObserver(timeout=1)
    observer.schedule(handler, str(seeds), recursive=True, event_filter=events)
    observer.start()
    return observer


class _MoveGrouper(InotifyMoveEventGrouper):
    """watchdog's grouper of move events, looking for an IN_MOVED_FROM to pair only while one
    is queued. `_moves_from` counts them; it is never below the number queued, so a zero
    means the scan would find nothing (events watchdog purges, of a folder that went away,
    leave it above: it then scans, as watchdog's own grouper always does)."""

    def __init__(self) -> None:
        super().__init__()
        self._moves_from = 0
        self._count_lock = threading.Lock()

    def _count(self, change: int) -> None:
        with self._count_lock:
            self._moves_from += change

    def put_event(self, event: PathedInotifyEvent) -> None:
        if event.ev.is_moved_from:
            self._count(1)
        super().put_event(event)

    def _group_moved_to_event(self, to_event: PathedInotifyEvent) -> GroupedInotifyEvent:
        if not self._moves_from:
            return to_event
        grouped = super()._group_moved_to_event(to_event)
        if grouped is not to_event:
            self._count(-1)
        return grouped

    def get_queued_moved_from_event(self, cookie: int) -> PathedInotifyEvent | None:
        if not self._moves_from:
            return None
        return super().get_queued_moved_from_event(cookie)

    def read_event(self) -> GroupedInotifyEvent | None:
        event = super().read_event()
        if isinstance(event, PathedInotifyEvent) and event.ev.is_moved_from:
            self._count(-1)
        return event


@dataclass
class _WatchGroup(InotifyWatchGroup):
    _move_event_grouper: InotifyMoveEventGrouper = field(default_factory=_MoveGrouper, init=False)


class _Emitter(InotifyFullEmitter):
    def on_thread_start(self) -> None:
        self._inotify = _WatchGroup(
            self._inotify_fd,
            os.fsencode(self.watch.path),
            is_recursive=self.watch.is_recursive,
            event_mask=self.get_event_mask_from_filter(),
            follow_symlink=self.watch.follow_symlink,
        )


class _InotifyObserver(InotifyObserver):
    """watchdog's inotify observer with full events (a file renamed in from outside is a
    move with no source, not a creation), grouping moves with `_MoveGrouper`."""

    def __init__(self) -> None:
        super().__init__(timeout=DEFAULT_OBSERVER_TIMEOUT, generate_full_events=True)
        self._emitter_class = _Emitter
