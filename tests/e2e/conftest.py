"""Fixtures for end-to-end tests: a site in tmp_path, and daemons that never outlive a test."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.e2e.daemon import DaemonProcess, Site


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """A fresh site whose seeds/ holds the two sample clippings."""
    return Site.create(tmp_path / "site")


@pytest.fixture
def daemons() -> Iterator[Callable[..., DaemonProcess]]:
    """Make daemon processes; any still running when the test ends is killed."""
    made: list[DaemonProcess] = []

    def make(site: Site, *, name: str = "daemon", args: Sequence[str] = ()) -> DaemonProcess:
        daemon = DaemonProcess(site, name=name, args=args)
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        if daemon.running:
            daemon.kill()
