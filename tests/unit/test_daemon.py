"""The daemon's parts on real files and sockets: settling, the state lock, systemd notify."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from feeds.errors import SeedfeedError
from tests.conftest import wait_until
from watcher.daemon import SettleQueue
from watcher.lock import hold_state_lock
from watcher.notify import send_notification, watchdog_interval


def test_a_path_is_due_only_after_it_has_been_quiet(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text("first")
    queue = SettleQueue(settle=0.2, settle_limit=30)
    queue.add(path)
    assert queue.take_due(10) == []
    started = time.monotonic()
    wait_until(lambda: queue.take_due(10) == [path], timeout=5)
    assert time.monotonic() - started >= 0.15
    assert len(queue) == 0


def test_a_file_still_changing_is_not_due(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text("a")
    queue = SettleQueue(settle=0.05, settle_limit=30)
    queue.add(path)
    deadline = time.monotonic() + 0.6
    grew = 0
    while time.monotonic() < deadline:
        with path.open("a") as f:
            f.write("more")
        grew += 1
        os.utime(path, ns=(time.time_ns(), time.time_ns() + grew))
        assert queue.take_due(10) == [], "a growing file was handed out before it settled"
    wait_until(lambda: queue.take_due(10) == [path], timeout=5)


def test_a_renamed_path_is_due_at_once(tmp_path: Path) -> None:
    queue = SettleQueue(settle=30, settle_limit=60)
    queue.add(tmp_path / "moved.txt", immediate=True)
    assert queue.take_due(10) == [tmp_path / "moved.txt"]


def test_a_burst_is_handed_out_in_batches_in_arrival_order(tmp_path: Path) -> None:
    queue = SettleQueue(settle=30, settle_limit=60)
    paths = [tmp_path / f"{n:03d}.txt" for n in range(25)]
    for path in reversed(paths):
        queue.add(path, immediate=True)
    batches = [queue.take_due(10) for _ in range(4)]
    assert [len(batch) for batch in batches] == [10, 10, 5, 0]
    assert [p for batch in batches for p in batch] == list(reversed(paths))


def test_a_path_changing_for_longer_than_the_limit_is_handed_out(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("x")
    queue = SettleQueue(settle=10, settle_limit=0.2)
    queue.add(path)

    def due_while_still_getting_events() -> bool:
        queue.add(path)
        return queue.take_due(10) == [path]

    wait_until(due_while_still_getting_events, timeout=5)


def test_the_state_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    with hold_state_lock(tmp_path / "state"):
        with (
            pytest.raises(SeedfeedError, match="another seedfeed process") as caught,
            hold_state_lock(tmp_path / "state"),
        ):
            pass
        assert str(tmp_path / "state") in str(caught.value)
    with hold_state_lock(tmp_path / "state"):
        pass


def test_systemd_notifications_reach_the_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(address))
        server.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", str(address))
        assert send_notification("READY=1")
        assert server.recv(64) == b"READY=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not send_notification("READY=1")


def test_the_watchdog_interval_is_half_what_systemd_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval() == 30
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert watchdog_interval() is None
