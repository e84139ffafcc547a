"""End to end: pathological files near max_file_bytes, against the real `seedfeed run`.

The daemon reads each without dying and without growing far past its base, and a file
whose reading the daemon did not live through is rejected at the next start, not read again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.pathological import MB, SHAPES, write_shape
from tests.conftest import wait_until
from tests.e2e.daemon import DaemonProcess, Site, catalog_files, rejected_reasons

pytestmark = pytest.mark.e2e

SIZE = 9 * MB
# The daemon's peak RSS over its RSS before the drops: reading a 9 MB file takes under 100 MB
# (tests/unit/test_pathological.py), and storing and publishing a 9 MB entry (its page, its
# feeds) more on top; it took 1.4 GB to read the dashes alone.
GROWTH_MB = 250


def _shape_file(site: Site, name: str) -> Path:
    """Write the pathological shape `name` aside, then rename it into seeds/."""
    (shape,) = [s for s in SHAPES if s.name == name]
    aside = site.root / f"{name}.txt"
    write_shape(shape, aside, SIZE)
    target = site.seeds / aside.name
    aside.replace(target)
    return target


def _memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _status(site: Site, rel: str) -> str | None:
    found = catalog_files(site).get(rel)
    return None if found is None else found[2]


@pytest.fixture
def big_site(tmp_path: Path) -> Site:
    """A site whose max_file_bytes is the shipped default (10 MiB)."""
    return Site.create(tmp_path / "site", settings={"ingest": {"max_file_bytes": 10 * MB}})


def test_the_daemon_reads_nine_megabyte_pathological_files_in_bounded_memory(
    big_site: Site, daemons: Callable[..., DaemonProcess]
) -> None:
    daemon = daemons(big_site).start_serving()
    before_kb = _memory_kb(daemon.pid, "VmRSS")
    outcomes = {"dashes": "rejected", "capitalised-lines": "ok", "short-lines": "rejected"}
    for name in outcomes:
        _shape_file(big_site, name)
    for name, status in outcomes.items():
        rel = f"{name}.txt"

        def read(rel: str = rel) -> bool:
            return _status(big_site, rel) is not None

        read.__name__ = f"{rel} is read"
        wait_until(read, timeout=120, explain=daemon.log)
        assert _status(big_site, rel) == status, daemon.log()
    assert daemon.running
    reasons = rejected_reasons(big_site)
    assert "no story" in reasons["dashes.txt"]
    assert "too many short lines" in reasons["short-lines.txt"]
    grown_mb = (_memory_kb(daemon.pid, "VmHWM") - before_kb) / 1024
    assert grown_mb <= GROWTH_MB, f"the daemon grew by {grown_mb:.0f} MB"


def test_a_file_whose_reading_the_daemon_did_not_survive_is_rejected_at_restart(
    big_site: Site, daemons: Callable[..., DaemonProcess]
) -> None:
    daemon = daemons(big_site).start_serving()
    path = _shape_file(big_site, "capitalised-words")
    marks = big_site.state / "reading"

    def reading() -> bool:
        return marks.is_dir() and any(marks.iterdir())

    wait_until(reading, timeout=60, interval=0.005, explain=daemon.log)
    daemon.kill()  # as the kernel's out-of-memory killer would
    before = path.stat()
    daemon.start_serving()

    def rejected() -> bool:
        return _status(big_site, path.name) == "rejected"

    wait_until(rejected, timeout=60, explain=daemon.log)
    assert "stopped while reading" in rejected_reasons(big_site)[path.name]
    assert not any(marks.iterdir())
    assert path.stat().st_mtime_ns == before.st_mtime_ns  # seeds/ is never touched
    assert daemon.running
