"""End to end: topics taught by example in the real daemon. Make a folder, drop five
clippings in it, and the stories like them are filed there too; a kill -9 keeps what was
learned."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.e2e.daemon import (
    DaemonProcess,
    Site,
    modules_a_build_imports,
    query_catalog,
    read_feed_on_disk,
    run_cli,
)
from tests.unit.test_learning import story

pytestmark = pytest.mark.e2e

Daemons = Callable[..., DaemonProcess]
LEARN_TIMEOUT = 90  # the first model is learned in a process that imports scikit-learn


def clipping(topic: str | None, seed: int) -> str:
    title, text = story(topic, seed)
    return f"Title: {title}\n\n{text}\n"


def titles_in(site: Site, slug: str) -> set[str]:
    feed = read_feed_on_disk(site, slug)
    return set() if feed is None else {entry.title for entry in feed.entries}


def learned_files(site: Site) -> set[str]:
    rows = query_catalog(
        site,
        "SELECT s.rel_path FROM sources s JOIN entry_topics t USING (entry_id) "
        "WHERE t.source = 'learned' AND t.slug = 'astronomy'",
    )
    return {str(row[0]) for row in rows}


def test_five_clippings_in_a_folder_file_the_others_and_survive_a_kill(
    tmp_path: Path, daemons: Daemons
) -> None:
    site = Site.create(tmp_path / "site")
    for seed in range(10, 13):
        (site.seeds / f"sky-{seed}.txt").write_text(clipping("astronomy", seed), encoding="utf-8")
    for seed in range(20, 36):
        (site.seeds / f"other-{seed}.txt").write_text(clipping(None, seed), encoding="utf-8")
    daemon = daemons(site).start_serving()
    assert learned_files(site) == set()
    for seed in range(5):
        site.drop(f"astronomy/{seed}.txt", clipping("astronomy", seed))
    # Learned in the background, then the stories stored before are filed too.
    wait_until(
        lambda: learned_files(site) == {"sky-10.txt", "sky-11.txt", "sky-12.txt"},
        timeout=LEARN_TIMEOUT,
    )
    sky = {story("astronomy", seed)[0] for seed in range(10, 13)}
    wait_until(lambda: sky <= titles_in(site, "astronomy"), timeout=10)
    assert not any(title.startswith("Other") for title in titles_in(site, "astronomy"))
    # A new drop is tagged at once, with the model the daemon holds.
    site.drop("sky-40.txt", clipping("astronomy", 40))
    wait_until(lambda: story("astronomy", 40)[0] in titles_in(site, "astronomy"), timeout=10)
    site.drop("other-41.txt", clipping(None, 41))
    wait_until(
        lambda: (
            "other-41.txt" in {str(r[0]) for r in query_catalog(site, "SELECT rel_path FROM files")}
        ),
        timeout=10,
    )
    assert "other-41.txt" not in learned_files(site)
    # kill -9: the model in the state folder tags the next drop after the restart.
    daemon.kill()
    assert (site.state / "learned.pickle").is_file()
    daemon = daemons(site, name="restarted").start_serving()
    site.drop("sky-42.txt", clipping("astronomy", 42))
    wait_until(lambda: story("astronomy", 42)[0] in titles_in(site, "astronomy"), timeout=10)
    assert "topics learned" not in daemon.log()
    daemon.stop()


def test_an_example_taken_away_is_learned_without(tmp_path: Path, daemons: Daemons) -> None:
    """Removing an example changes what is taught: the daemon learns again (it used to wait
    for the next file stored, the removal alone asked for no look at the examples)."""
    site = Site.create(tmp_path / "site")
    for seed in range(6):
        site.drop(f"astronomy/{seed}.txt", clipping("astronomy", seed))
    for seed in range(20, 30):
        site.drop(f"other-{seed}.txt", clipping(None, seed))
    daemon = daemons(site).start_serving()
    wait_until(lambda: "topics learned topics=1 examples=6 " in daemon.log(), timeout=LEARN_TIMEOUT)
    (site.seeds / "astronomy" / "5.txt").unlink()
    wait_until(lambda: "topics learned topics=1 examples=5 " in daemon.log(), timeout=LEARN_TIMEOUT)
    daemon.stop()


def test_check_and_explain_report_what_was_learned_without_writing_it(tmp_path: Path) -> None:
    site = Site.create(tmp_path / "site")
    for seed in range(5):
        (site.seeds / "astronomy").mkdir(exist_ok=True)
        (site.seeds / "astronomy" / f"{seed}.txt").write_text(clipping("astronomy", seed))
    (site.seeds / "cooking").mkdir()
    (site.seeds / "cooking" / "1.txt").write_text(clipping("cooking", 1))
    for seed in range(20, 40):
        (site.seeds / f"other-{seed}.txt").write_text(clipping(None, seed), encoding="utf-8")
    built = run_cli(site, "build", *site.path_options(), timeout=120)
    assert built.returncode == 0, built.stderr
    check = run_cli(site, "topics", "--check", *site.path_options()[:2], "--state", str(site.state))
    assert check.returncode == 0, check.stderr
    lines = check.stdout.splitlines()
    assert any(line.split()[:3] == ["astronomy", "5", "centroid"] for line in lines), lines
    assert "too thin to learn (fewer than 5 examples):" in lines
    assert any(line.split() == ["cooking", "1"] for line in lines), lines
    # Every file of the state folder but SQLite's shared-memory index of the WAL, which any
    # reader of the catalogue (--explain asks it about names) updates.
    state = {
        p.name: p.stat().st_mtime_ns for p in site.state.iterdir() if p.suffix != ".sqlite3-shm"
    }
    probe = tmp_path / "probe.txt"
    probe.write_text(clipping("astronomy", 50), encoding="utf-8")
    explained = run_cli(
        site,
        "inspect",
        "--explain",
        "--config",
        str(site.config),
        "--state",
        str(site.state),
        str(probe),
    )
    assert explained.returncode == 0, explained.stderr
    line = next(x for x in explained.stdout.splitlines() if "topic astronomy:" in x)
    assert "learned: score" in line and "(threshold" in line
    nearest = {story("astronomy", seed)[0] for seed in range(5)}
    assert sum(f'"{title}"' in line for title in nearest) == 3, line
    assert {
        p.name: p.stat().st_mtime_ns for p in site.state.iterdir() if p.suffix != ".sqlite3-shm"
    } == state


def scikit_learn_loaded(pid: int) -> bool:
    """Whether process `pid`, or any process it started, has scikit-learn loaded (importing
    it maps its compiled modules)."""
    waiting = [pid]
    while waiting:
        current = waiting.pop()
        try:
            if "/sklearn/" in Path(f"/proc/{current}/maps").read_text(errors="replace"):
                return True
            for task in Path(f"/proc/{current}/task").iterdir():
                waiting += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # it ended meanwhile
    return False


def build_imports_scikit_learn(site: Site) -> bool:
    return "sklearn" in modules_a_build_imports(site)


def test_nothing_taught_imports_no_scikit_learn(tmp_path: Path, daemons: Daemons) -> None:
    """With no topic to learn (four examples, one fewer than `min_examples`; or learning
    off), neither `seedfeed build` nor the daemon imports scikit-learn (a second or two of
    CPU, and memory), even when the examples change."""
    site = Site.create(tmp_path / "site")
    for seed in range(4):
        site.drop(f"astronomy/{seed}.txt", clipping("astronomy", seed))
    for seed in range(20, 26):
        site.drop(f"other-{seed}.txt", clipping(None, seed))
    assert not build_imports_scikit_learn(site)
    daemon = daemons(site).start_serving()
    site.drop("cooking/1.txt", clipping("cooking", 1))  # the examples change: a look, no fit
    wait_until(lambda: "topics learned topics=0" in daemon.log(), timeout=LEARN_TIMEOUT)
    assert not scikit_learn_loaded(daemon.pid)
    daemon.stop()
    off = Site.create(tmp_path / "off", settings={"learn": {"enabled": False}})
    for seed in range(5):
        off.drop(f"astronomy/{seed}.txt", clipping("astronomy", seed))
    assert not build_imports_scikit_learn(off)
    daemon = daemons(off, name="off").start_serving()
    off.drop("astronomy/5.txt", clipping("astronomy", 5))
    wait_until(lambda: "file ingested path=astronomy/5.txt" in daemon.log(), timeout=10)
    assert not scikit_learn_loaded(daemon.pid)
    daemon.stop()
    # What finds it finds it where it is loaded (in a process of its own: this one stays
    # as small as it is, for the tests that measure processes it starts).
    with subprocess.Popen(
        [sys.executable, "-c", "import sys, sklearn; print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as probe:
        assert probe.stdout is not None and probe.stdin is not None
        assert probe.stdout.readline() == "ready\n"
        assert scikit_learn_loaded(probe.pid)
        probe.stdin.close()
