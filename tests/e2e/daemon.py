"""A harness for end-to-end tests: the real `seedfeed` process on a temp folder and a free port.

`Site` is one temp folder with seeds/, public/, a state folder and a test configuration with
short intervals. `DaemonProcess` runs `seedfeed run` on it as a subprocess, waits until it
serves, and stops it with SIGTERM (which must end it with exit code 0 within 5 s) or kill -9.
`read_feed` reads one feed both from disk and over HTTP, validates it against the Atom schema,
parses it as a feed reader does, and fails on duplicate entry ids.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import cast

import pytest

from tests.atom_schema import assert_valid_atom, parse_with_feedparser
from tests.conftest import SAMPLE_SEEDS, wait_until

SAMPLE_FILES = ("000_5a940adfff668c84.txt", "001_ddbcc2360f6b3daf.txt")
SAMPLE_TITLES = frozenset(
    {
        "Pakistan assumes chair of SCO\u2019s permanent body on counterterrorism",
        "Pakistan opposition rallies in Khyber Pakhtunkhwa to demand release of Imran Khan",
    }
)
STOP_TIMEOUT = 5.0
START_TIMEOUT = 20.0
FEED_TIMEOUT = 10.0

# Short intervals so outcomes show within a fraction of a second; a small taxonomy without a
# `politics` rule, so `politics.atom` can only come from the seeds/politics/ folder; no automatic
# topics, so which feeds an entry lands in depends on its own text alone.
TEST_CONFIG = """\
[site]
title = "seedfeed test"
base_url = "http://127.0.0.1:{port}/"
id_authority = "e2e.seedfeed.localhost"

[schedule]
publish_every = 0.2
settle = 0.2
reconcile_every = 600

[auto_topics]
enabled = false

[topics.pakistan]
title = "Pakistan"
match = ["Pakistan", "Pakistani", "Islamabad", "Peshawar", "Khyber Pakhtunkhwa", "Imran Khan"]

[topics.counterterrorism]
title = "Counterterrorism"
match = ["counterterrorism", "counter-terrorism", "anti-terrorist", "terrorism", "terrorist",
         "militant", "extremism", "separatism", "RATS"]
min_hits = 2

[topics.sco]
title = "Shanghai Cooperation Organisation"
match = ["SCO", "Shanghai Cooperation Organization", "Shanghai Cooperation Organisation",
         "SCO-RATS"]
"""

Setting = int | float | bool | str | Sequence[str]


def _toml_value(value: Setting) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value if isinstance(value, str) else list(value), ensure_ascii=False)


def config_text(
    *, port: int = 8080, settings: Mapping[str, Mapping[str, Setting]] | None = None
) -> str:
    """The test configuration with `settings` (table -> key -> value) put in their tables."""
    lines = TEST_CONFIG.format(port=port).splitlines()
    for table, values in (settings or {}).items():
        header = f"[{table}]"
        if header not in lines:
            lines += ["", header]
        start = lines.index(header) + 1
        end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
        kept = [line for line in lines[start:end] if line.partition("=")[0].strip() not in values]
        added = [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        lines[start:end] = added + kept
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    """One temp folder for seedfeed: seeds/, public/, state/, its config and its logs."""

    root: Path
    seeds: Path
    public: Path
    state: Path
    config: Path

    @classmethod
    def create(
        cls,
        root: Path,
        *,
        samples: bool = True,
        port: int = 8080,
        settings: Mapping[str, Mapping[str, Setting]] | None = None,
    ) -> Site:
        """Lay out a site under `root`; with `samples`, seeds/ holds the two sample clippings.

        `settings` adds keys to the test configuration, by table: `{"ingest": {"max_file_bytes":
        4096}}`; a key given here replaces the test configuration's own.
        """
        site = cls(
            root=root,
            seeds=root / "seeds",
            public=root / "public",
            state=root / "state",
            config=root / "seedfeed-test.toml",
        )
        site.seeds.mkdir(parents=True)
        if samples:
            for name in SAMPLE_FILES:
                shutil.copyfile(SAMPLE_SEEDS / name, site.seeds / name)
        site.config.write_text(config_text(port=port, settings=settings), encoding="utf-8")
        return site

    def path_options(self, *, state: Path | None = None, public: Path | None = None) -> list[str]:
        return [
            "--config",
            str(self.config),
            "--seeds",
            str(self.seeds),
            "--public",
            str(public or self.public),
            "--state",
            str(state or self.state),
        ]

    def drop(self, rel_path: str, text: str) -> Path:
        """Put a file into seeds/ the way a careful writer does: write aside, then rename in."""
        staging = self.root / "staging"
        staging.mkdir(exist_ok=True)
        aside = staging / Path(rel_path).name
        aside.write_text(text, encoding="utf-8")
        target = self.seeds / rel_path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(aside, target)
        return target


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seedfeed_command(*args: str) -> list[str]:
    """The command line of the seedfeed CLI, run by this interpreter."""
    return [sys.executable, "-m", "watcher", *args]


def modules_a_build_imports(site: Site) -> set[str]:
    """The modules `seedfeed build` on `site` imports (read from `python -X importtime`)."""
    built = subprocess.run(
        [sys.executable, "-X", "importtime", *seedfeed_command("build", *site.path_options())[1:]],
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return set(re.findall(r"\|\s+([\w.]+)$", built.stderr, re.MULTILINE))


def run_cli(site: Site, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run one seedfeed command in the site's folder; return what it printed and its exit code."""
    return subprocess.run(
        seedfeed_command(*args),
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class DaemonProcess:
    """`seedfeed run` on a site, as a separate process, with its log kept in a file."""

    def __init__(
        self,
        site: Site,
        *,
        name: str = "daemon",
        args: Sequence[str] = (),
        prefix: Sequence[str] = (),
        port: int | None = None,
    ) -> None:
        """`args` go after `seedfeed run`'s own (e.g. `--polling`); `prefix` goes before the
        interpreter (e.g. `setpriv --reuid=65534 ...` to run as another user). `port` pins the
        port for every start (a site whose `base_url` names it, so the links in its feeds
        resolve); without it each start takes a fresh free port."""
        self.site = site
        self._pinned_port = port
        self.port = port or free_port()
        self.log_path = site.root / f"{name}.log"
        self.args = tuple(args)
        self.prefix = tuple(prefix)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        return self._require_process().pid

    def start(self) -> DaemonProcess:
        """Start the daemon on its pinned port, else on a fresh free one (new at each restart)."""
        assert not self.running, "the daemon is running already"
        self.port = self._pinned_port or free_port()
        with open(self.log_path, "ab") as log:
            log.write(f"--- seedfeed run on port {self.port}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [
                    *self.prefix,
                    *seedfeed_command(
                        "run", *self.site.path_options(), "--port", str(self.port), *self.args
                    ),
                ],
                cwd=self.site.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        return self

    def start_serving(self, *, timeout: float = START_TIMEOUT) -> DaemonProcess:
        """Start the daemon and wait until it serves all.atom."""
        self.start()
        self.wait_serving(timeout=timeout)
        return self

    def wait_serving(self, *, timeout: float = START_TIMEOUT) -> None:
        """Wait until /feeds/all.atom answers 200; fail at once if the process died."""

        def serving() -> bool:
            self._fail_if_exited()
            try:
                return self.fetch("feeds/all.atom") is not None
            except OSError:
                return False

        wait_until(serving, timeout=timeout)

    def fetch(self, rel_url: str) -> bytes | None:
        """The body of GET /rel_url, or None on 404. Other HTTP errors fail the test."""
        url = f"http://127.0.0.1:{self.port}/{rel_url}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200, f"GET {url}: {response.status}"
                return cast(bytes, response.read())
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            pytest.fail(f"GET {url}: HTTP {e.code}\n{self.log()}")

    def stop(self, *, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM; the daemon must exit with code 0 within `timeout` seconds."""
        process = self._require_process()
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"seedfeed run did not exit within {timeout} s of SIGTERM\n{self.log()}")
        assert code == 0, f"seedfeed run exited with {code} after SIGTERM\n{self.log()}"

    def send_signal(self, signum: signal.Signals) -> None:
        """Send `signum` (SIGHUP, ...) to the running daemon."""
        self._fail_if_exited()
        self._require_process().send_signal(signum)

    def exit_code(self) -> int | None:
        """The exit code if the daemon has ended, else None."""
        return self._require_process().poll()

    def kill(self) -> None:
        """kill -9: no chance to finish anything."""
        process = self._require_process()
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)

    def wait_exit(self, *, timeout: float) -> int:
        """The exit code of a daemon expected to end by itself."""
        try:
            return self._require_process().wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"seedfeed run still running after {timeout} s\n{self.log()}")

    def log(self) -> str:
        """Everything the daemon wrote to stdout and stderr, for failure messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log)"
        tail = text[-8000:]
        crash = text.rfind("Traceback")
        if crash != -1 and crash < len(text) - 8000:
            tail = f"{text[crash : crash + 4000]}\n[...]\n{text[-4000:]}"
        return f"--- log of {self.log_path}:\n{tail}"

    def _fail_if_exited(self) -> None:
        process = self._require_process()
        code = process.poll()
        if code is not None:
            pytest.fail(f"seedfeed run exited with {code}\n{self.log()}")

    def _require_process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "the daemon was never started"
        return self._process


@contextmanager
def served_site(
    root: Path,
    *,
    samples: bool = True,
    settings: Mapping[str, Mapping[str, Setting]] | None = None,
    args: Sequence[str] = (),
) -> Iterator[DaemonProcess]:
    """A site under `root` whose `base_url` names the port its daemon serves on, so every
    absolute link in its feeds, pages and OPML resolves; the daemon is serving inside the block
    and killed after it if still running."""
    port = free_port()
    site = Site.create(root, samples=samples, port=port, settings=settings)
    daemon = DaemonProcess(site, port=port, args=args)
    try:
        yield daemon.start_serving()
    finally:
        if daemon.running:
            daemon.kill()


# --- feeds ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedEntry:
    """What a feed reader sees of one entry."""

    entry_id: str
    title: str
    published: datetime
    updated: datetime
    content: str
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Feed:
    """One Atom feed as published: its raw bytes and its entries."""

    slug: str
    data: bytes
    updated: datetime
    entries: tuple[FeedEntry, ...]

    def by_title(self, title: str) -> list[FeedEntry]:
        return [entry for entry in self.entries if entry.title == title]

    def by_id(self, entry_id: str) -> FeedEntry | None:
        return next((e for e in self.entries if e.entry_id == entry_id), None)

    @property
    def ids(self) -> set[str]:
        return {entry.entry_id for entry in self.entries}


def _moment(text: object) -> datetime:
    moment = datetime.fromisoformat(str(text))
    assert moment.tzinfo is not None, f"date without a zone: {text}"
    return moment


def parse_feed(slug: str, data: bytes) -> Feed:
    """Validate `data` as Atom, parse it with feedparser, and fail on duplicate entry ids."""
    assert_valid_atom(data)
    parsed = parse_with_feedparser(data)
    entries = tuple(
        FeedEntry(
            entry_id=str(item.id),
            title=str(item.title),
            published=_moment(item.published),
            updated=_moment(item.updated),
            content=str(item.content[0].value),
            categories=tuple(str(tag.term) for tag in item.get("tags", ())),
        )
        for item in parsed.entries
    )
    ids = [entry.entry_id for entry in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"{slug}.atom holds duplicate entry ids: {duplicates}"
    return Feed(slug=slug, data=data, updated=_moment(parsed.feed.updated), entries=entries)


def feed_path(site: Site, slug: str) -> Path:
    return site.public / "feeds" / f"{slug}.atom"


def read_feed_on_disk(site: Site, slug: str) -> Feed | None:
    try:
        data = feed_path(site, slug).read_bytes()
    except FileNotFoundError:
        return None
    return parse_feed(slug, data)


def read_feed(daemon: DaemonProcess, slug: str, *, timeout: float = FEED_TIMEOUT) -> Feed | None:
    """The feed `slug` once the file on disk and the server's answer are the same bytes.

    None when the feed exists neither on disk nor over HTTP. Both copies are validated.
    """

    def agreed() -> tuple[Feed | None] | None:
        served = daemon.fetch(f"feeds/{slug}.atom")
        try:
            on_disk: bytes | None = feed_path(daemon.site, slug).read_bytes()
        except FileNotFoundError:
            on_disk = None
        if served != on_disk:
            return None
        return (None if on_disk is None else parse_feed(slug, on_disk),)

    return cast(tuple[Feed | None], wait_until(agreed, timeout=timeout))[0]


def wait_for_feed(
    daemon: DaemonProcess,
    slug: str,
    check: Callable[[Feed], bool],
    *,
    timeout: float = FEED_TIMEOUT,
    what: str = "",
) -> Feed:
    """Read feed `slug` (disk and HTTP) until `check` holds for it; fail at the deadline."""
    seen: list[Feed | None] = []

    def holds() -> Feed | None:
        feed = read_feed(daemon, slug)
        seen.append(feed)
        return feed if feed is not None and check(feed) else None

    holds.__name__ = f"{slug}.atom: {what or check.__name__}"
    try:
        return cast(Feed, wait_until(holds, timeout=timeout))
    except pytest.fail.Exception:
        last = seen[-1] if seen else None
        titles = [] if last is None else [e.title for e in last.entries]
        pytest.fail(
            f"{slug}.atom never met {what or check.__name__!r} within {timeout} s; "
            f"last titles: {titles}\n{daemon.log()}"
        )


def assert_public_valid(public: Path) -> int:
    """Validate every Atom document under `public/` (schema and feedparser); return how many."""
    checked = 0
    for path in sorted(public.rglob("*.atom")):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        parse_feed(path.stem, data)
        checked += 1
    assert checked, f"no Atom documents under {public}"
    return checked


@dataclass(frozen=True, slots=True, kw_only=True)
class FileState:
    mtime_ns: int
    data: bytes


def snapshot_files(folder: Path, names: Iterable[str] | None = None) -> dict[str, FileState]:
    """mtime and bytes of every file under `folder` (or of the named ones), by relative path."""
    paths = (
        sorted(p for p in folder.rglob("*") if p.is_file())
        if names is None
        else [folder / name for name in names]
    )
    return {
        path.relative_to(folder).as_posix(): FileState(
            mtime_ns=path.stat().st_mtime_ns, data=path.read_bytes()
        )
        for path in paths
    }


# --- the catalogue, as `seedfeed status` and its SQLite file show it -------------------------


def read_status(site: Site, *, prefix: Sequence[str] = ()) -> dict[str, object]:
    """`seedfeed status --json` for the site, run with `prefix` (e.g. as another user)."""
    result = subprocess.run(
        [*prefix, *seedfeed_command("status", "--json", *site.path_options())],
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, f"seedfeed status failed: {result.stderr}"
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return report


def rejected_reasons(site: Site, *, prefix: Sequence[str] = ()) -> dict[str, str]:
    """The rejected files `seedfeed status --json` lists, with their reasons."""
    rejected = read_status(site, prefix=prefix)["rejected"]
    assert isinstance(rejected, list)
    return {str(r["file"]): str(r["reason"]) for r in rejected}


def query_catalog(site: Site, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Rows of one read-only query on the site's catalogue (the daemon may be writing)."""
    path = site.state / "catalog.sqlite3"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return [tuple(row) for row in db.execute(sql, args)]
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return []  # created, not yet migrated: a daemon killed while starting
        raise
    finally:
        db.close()


def catalog_files(site: Site) -> dict[str, tuple[int, int, str]]:
    """Every file the catalogue knows: rel_path -> (size, mtime_ns, status)."""
    return {
        str(path): (int(str(size)), int(str(mtime)), str(status))
        for path, size, mtime, status in query_catalog(
            site, "SELECT rel_path, size, mtime_ns, status FROM files"
        )
    }


def catalog_idle(site: Site) -> bool:
    """True when no feed is waiting to be published (the daemon's own test, `has_dirty`)."""
    return not query_catalog(site, "SELECT slug FROM dirty LIMIT 1")


def publish_idle(site: Site) -> bool:
    """True when nothing waits to be published: no feed in any format, archive page or entry
    page.

    A publish writes Atom feeds first and the other formats, archive and entry pages after
    them, so `catalog_idle` can hold while those are still on their way.
    """
    return not any(
        query_catalog(site, f"SELECT 1 FROM {table} LIMIT 1")
        for table in ("dirty", "dirty_others", "dirty_pages", "dirty_entries")
    )


def seed_files(site: Site, ignore: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Every file under seeds/ that no ignore pattern hides: rel_path -> (size, mtime_ns)."""
    patterns = tuple(ignore)
    found: dict[str, tuple[int, int]] = {}
    for path in site.seeds.rglob("*"):
        rel = path.relative_to(site.seeds)
        if any(fnmatchcase(part, p) for part in rel.parts for p in patterns):
            continue
        info = path.lstat()
        if not path.is_dir() or path.is_symlink():
            found[rel.as_posix()] = (info.st_size, info.st_mtime_ns)
    return found
