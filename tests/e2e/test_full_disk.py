"""End to end: a full file system under `public/` or the state folder, made with a small
tmpfs (mounting needs root; the tests are skipped, saying so, where it is not permitted).

A full `public/` at start-up does not stop `seedfeed run`: it logs each failed publish and
writes everything once there is space. `seedfeed build` says in one line what happened and
what to do. A full state folder makes the catalogue refuse the files it cannot record.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.e2e.daemon import (
    DaemonProcess,
    Setting,
    Site,
    free_port,
    publish_idle,
    query_catalog,
    run_cli,
)
from tests.history import assert_history_complete

pytestmark = pytest.mark.e2e

FILLER = "filler"


class SmallDisk:
    """A tmpfs of a few MB mounted on a folder, which can be filled up and freed."""

    def __init__(self, mount_point: Path) -> None:
        self.mount_point = mount_point

    def fill(self) -> None:
        """Take every free byte, so the next write fails with ENOSPC."""
        fd = os.open(self.mount_point / FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            block = b"\0" * 4096
            while True:
                os.write(fd, block)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
        finally:
            os.close(fd)
        assert os.statvfs(self.mount_point).f_bavail == 0

    def free(self) -> None:
        (self.mount_point / FILLER).unlink()


@pytest.fixture
def small_disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SmallDisk]:
    """Mount an 8 MB tmpfs on `tmp_path/disk` (root only); unmounted after the test."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill up (needs root): {mounted.stderr.strip()}")
    try:
        yield SmallDisk(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def story(n: int) -> str:
    return (
        f"Title: Harbour bulletin {n}: berth {n} reopens\nDate: 2025-10-{1 + n % 28:02d}\n"
        f"Topics: harbours\n\nThe harbour authority said berth {n} reopened after repairs. "
        + "Dredging went on through the night along the quay wall. " * 40
        + "\n"
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error `seedfeed build` ended with: one line on stderr after the log, no traceback."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("seedfeed: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_a_full_public_folder_at_start_is_caught_up_once_there_is_space(
    tmp_path: Path, small_disk: SmallDisk
) -> None:
    port = free_port()
    public = small_disk.mount_point / "public"
    site = replace(Site.create(tmp_path / "site", port=port), public=public)
    for n in range(1, 6):
        site.drop(f"harbours-{n}.txt", story(n))
    small_disk.fill()

    # `seedfeed build`: one line saying what happened and what to do, the catalogue kept.
    built = run_cli(site, "build", *site.path_options())
    line = one_line_error(built)
    assert "No space left on device" in line and "free space" in line, line
    assert query_catalog(site, "SELECT count(*) FROM entries WHERE live") == [(8,)]

    # `seedfeed run` keeps running, logging each failed publish, and writes everything once
    # space is freed (the catalogue lost nothing meanwhile).
    daemon = DaemonProcess(site, port=port)
    daemon.start()
    try:
        wait_until(lambda: daemon.log().count("publish failed") >= 2, timeout=20)
        assert daemon.running, daemon.log()
        site.drop("harbours-6.txt", story(6))
        wait_until(lambda: query_catalog(site, "SELECT count(*) FROM files") == [(8,)], timeout=20)
        small_disk.free()
        daemon.wait_serving()
        wait_until(lambda: publish_idle(site), timeout=20)
        assert_history_complete(public, site.state)
        assert (public / "feeds" / "harbours.atom").is_file()
        # The lists (index page, OPML) are their own job, written after the feeds.
        wait_until(
            lambda: (public / "index.html").is_file() and (public / "feeds.opml").is_file(),
            timeout=20,
        )
        daemon.stop()
    finally:
        if daemon.running:
            daemon.kill()
    assert "Traceback" not in daemon.log(), daemon.log()


def test_a_full_state_folder_refuses_the_files_it_cannot_record(
    tmp_path: Path, small_disk: SmallDisk
) -> None:
    state = small_disk.mount_point / "state"
    site = replace(Site.create(tmp_path / "site"), state=state)
    options = site.path_options()
    assert run_cli(site, "build", *options).returncode == 0
    recorded = query_catalog(site, "SELECT rel_path FROM files ORDER BY rel_path")
    for n in range(1, 120):
        site.drop(f"harbours-{n}.txt", story(n))
    small_disk.fill()

    built = run_cli(site, "build", *options)
    line = one_line_error(built)
    assert "state folder is full" in line and "free space" in line, line

    small_disk.free()
    assert query_catalog(site, "SELECT rel_path FROM files ORDER BY rel_path") == recorded
    assert run_cli(site, "build", *options).returncode == 0
    assert query_catalog(site, "SELECT count(*) FROM files") == [(len(recorded) + 119,)]
    assert_history_complete(site.public, state)


def test_a_daemon_whose_state_folder_fills_up_keeps_running_and_records_files_later(
    tmp_path: Path, small_disk: SmallDisk
) -> None:
    state = small_disk.mount_point / "state"
    settings: dict[str, dict[str, Setting]] = {"schedule": {"reconcile_every": 1}}
    site = replace(Site.create(tmp_path / "site", settings=settings), state=state)
    daemon = DaemonProcess(site)
    daemon.start_serving()
    try:
        small_disk.fill()
        for n in range(1, 40):
            site.drop(f"harbours-{n}.txt", story(n))
        # Each batch it cannot record is refused, said so in one line; the daemon runs on.
        wait_until(lambda: "state folder is full" in daemon.log(), timeout=20)
        assert daemon.running, daemon.log()
        assert query_catalog(site, "SELECT count(*) FROM files") == [(2,)]
        small_disk.free()
        # The periodic reconcile reads the files again once there is space.
        wait_until(lambda: query_catalog(site, "SELECT count(*) FROM files") == [(41,)], timeout=30)
        wait_until(lambda: publish_idle(site), timeout=20)
        assert_history_complete(site.public, state)
        daemon.stop()
    finally:
        if daemon.running:
            daemon.kill()
