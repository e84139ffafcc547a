"""Topics taught by example, measured (issue 18): how well the TEST stories are filed, how long
retraining takes in the daemon, and what learning costs a drop.

F1 is measured on the corpus's TEST stories only, never on the examples (TRAIN stories):

* ``all-train``: every labelled TRAIN story with its topics in a ``Topics:`` header, every TEST
  story bare (a header without topics);
* ``10-per-topic``: 10 TRAIN stories for each of the ten most common TEST topics in
  ``seeds/<topic>/`` (each story in one folder; three draws, seeds 0, 1 and 2), every TEST
  story bare at the root.

Each is one ``seedfeed build`` with the default settings; the micro-F1 over the ten most
common TEST topics is computed from the catalogue, over the TEST stories that have topics
(as the anchors of the issue are) and over all of them (the stories without any topic count
against precision).
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bench.corpus import Story, headered_text, read_labels, read_story, remove_tree
from bench.measure import Daemon, run_timed, wait_for
from bench.run import _fmt, _holds, _median, _p95

TOP_TOPICS = 10
PER_TOPIC = 10
DRAWS = (0, 1, 2)
# The floors.
FLOOR_F1_ALL_TRAIN = 0.88
FLOOR_F1_TEN = 0.65
FLOOR_RETRAIN_S = 15.0
FLOOR_TAGGED_SHARE = 0.80
FLOOR_RSS_MB = 250.0
_LEARNED_LINE = re.compile(
    r"topics learned topics=(\d+) examples=(\d+) thin=\d+ seconds=([\d.]+)(?: cpu=([\d.]+))?"
)
MODEL_SETTING = "learned_model"  # feeds.lessons.MODEL_SETTING, read from the outside


@dataclass(slots=True, kw_only=True)
class F1Row:
    setting: str
    examples: int = 0
    test_stories: int = 0
    f1: float | None = None
    precision: float | None = None
    recall: float | None = None
    f1_all_test: float | None = None
    build_s: float | None = None
    learn_s: float | None = None
    error: str | None = None


@dataclass(slots=True, kw_only=True)
class DaemonRow:
    size: str
    drops: int = 0
    samples_ms: list[float] = field(default_factory=list)
    tagged: int = 0
    retrain_s: float | None = None
    learn_s: float | None = None
    # The learning process's CPU seconds from its start (importing scikit-learn included).
    learn_cpu_s: float | None = None
    during_retrain_ms: list[float] = field(default_factory=list)
    peak_rss_mb: float | None = None
    error: str | None = None


def _splits(corpus: Path) -> dict[str, str]:
    """labels.tsv's `lewissplit` per file name (TRAIN, TEST, NOT-USED)."""
    with open(corpus / "labels.tsv", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        column = header.index("lewissplit")
        return {cells[0]: cells[column] for cells in (line.rstrip("\n").split("\t") for line in f)}


def _stories(corpus: Path) -> tuple[list[Story], list[Story]]:
    """The labelled TRAIN stories and every TEST story (those with a title and a body)."""
    labels = read_labels(corpus)
    split = _splits(corpus)
    names = sorted(p.name for p in (corpus / "docs").iterdir() if p.suffix == ".txt")
    stories = [read_story(corpus, name, labels) for name in names]
    train = [s for s in stories if split.get(s.name) == "TRAIN" and s.topics]
    test = [s for s in stories if split.get(s.name) == "TEST"]
    return train, test


def top_topics(test: Sequence[Story]) -> list[str]:
    counts = Counter(topic for story in test for topic in story.topics)
    return [topic for topic, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][
        :TOP_TOPICS
    ]


def micro_f1(
    truth: dict[str, set[str]], found: dict[str, set[str]], topics: Sequence[str]
) -> tuple[float, float, float]:
    """(F1, precision, recall) over `topics`, summed over the stories of `truth`."""
    wanted = set(topics)
    tp = fp = fn = 0
    for name, true in truth.items():
        t, p = true & wanted, found.get(name, set()) & wanted
        tp, fp, fn = tp + len(t & p), fp + len(p - t), fn + len(t - p)
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    return 2 * precision * recall / max(precision + recall, 1e-12), precision, recall


def _write(path: Path, story: Story, topics: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(headered_text(story.title, story.published, topics, story.body), "utf-8")


def measure_f1(seedfeed: Path, corpus: Path, work: Path, timeout: float) -> list[F1Row]:
    train, test = _stories(corpus)
    topics = top_topics(test)
    settings: list[tuple[str, dict[str, tuple[str, ...]]]] = [
        ("all-train", {s.name: s.topics for s in train})
    ]
    for draw in DRAWS:
        rng = random.Random(draw)
        chosen: dict[str, tuple[str, ...]] = {}
        for topic in topics:
            pool = [s.name for s in train if topic in s.topics and s.name not in chosen]
            for name in rng.sample(pool, PER_TOPIC):
                chosen[name] = (topic,)
        settings.append((f"{PER_TOPIC}-per-topic, draw {draw}", chosen))
    by_name = {s.name: s for s in train}
    rows = []
    for setting, examples in settings:
        row = F1Row(setting=setting, examples=len(examples), test_stories=len(test))
        rows.append(row)
        root = work / "learn" / re.sub(r"\W+", "-", setting)
        remove_tree(root)
        seeds = root / "seeds"
        in_folders = setting != "all-train"
        for name, slugs in examples.items():
            if in_folders:
                _write(seeds / slugs[0] / name, by_name[name], ())
            else:
                _write(seeds / name, by_name[name], slugs)
        for story in test:
            _write(seeds / story.name, story, ())
        config = root / "seedfeed.toml"
        config.write_text("", encoding="utf-8")  # the defaults
        log = work / "logs" / f"learn-{root.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        command = [
            str(seedfeed),
            "build",
            "--seeds",
            str(seeds),
            "--public",
            str(root / "public"),
            "--state",
            str(root / "state"),
            "--config",
            str(config),
        ]
        timed = run_timed(command, log_path=log, timeout=timeout)
        if timed.returncode != 0:
            row.error = f"seedfeed build exited {timed.returncode}; log: {log}"
            continue
        row.build_s = round(timed.wall, 1)
        learned = _LEARNED_LINE.findall(log.read_text(encoding="utf-8", errors="replace"))
        row.learn_s = float(learned[-1][2]) if learned else None
        found = _topics_by_file(root / "state")
        labelled = {s.name: set(s.topics) for s in test if s.topics}
        row.f1, row.precision, row.recall = micro_f1(labelled, found, topics)
        every = {s.name: set(s.topics) for s in test}
        row.f1_all_test = micro_f1(every, found, topics)[0]
        remove_tree(root)
    return rows


def _topics_by_file(state: Path) -> dict[str, set[str]]:
    db = sqlite3.connect(f"file:{state / 'catalog.sqlite3'}?mode=ro", uri=True)
    try:
        found: dict[str, set[str]] = {}
        for rel_path, slug in db.execute(
            "SELECT s.rel_path, t.slug FROM sources s JOIN entry_topics t USING (entry_id)"
        ):
            found.setdefault(Path(rel_path).name, set()).add(slug)
        return found
    finally:
        db.close()


# ----------------------------------------------------------------------------- daemon


def _setting(state: Path, key: str) -> str | None:
    db = sqlite3.connect(f"file:{state / 'catalog.sqlite3'}?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])
    except sqlite3.Error:
        return None
    finally:
        db.close()


def _learned_drops(state: Path, prefix: str) -> int:
    """How many dropped files named `prefix`* hold an entry with a learned topic."""
    db = sqlite3.connect(f"file:{state / 'catalog.sqlite3'}?mode=ro", uri=True, timeout=5)
    try:
        (count,) = db.execute(
            "SELECT count(DISTINCT s.rel_path) FROM sources s JOIN entry_topics t "
            "USING (entry_id) WHERE s.rel_path >= ? AND s.rel_path < ? AND t.source = 'learned'",
            (prefix, prefix + "\uffff"),
        ).fetchone()
        return int(count)
    finally:
        db.close()


def measure_daemon(
    start_daemon: Callable[[str], Daemon],
    root: Path,
    seeds: Path,
    work: Path,
    probes: Sequence[Story],
    *,
    drops: int,
    timeout: float,
) -> DaemonRow:
    """A daemon on a built catalogue (its examples learned by the build): `drops` bare
    stories dropped one at a time (time to `all.atom`, and whether each got a learned
    topic); then one new example, timing the background retrain to the moment the catalogue
    holds the new model's topics, while bare stories keep being dropped."""
    row = DaemonRow(size=root.name)
    tag = uuid.uuid4().hex[:8]
    incoming = work / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    state = root / "state"
    all_feed = root / "public" / "feeds" / "all.atom"
    dropped: list[Path] = []
    before: str | None = None
    daemon = start_daemon(f"learn-{root.name}")

    def drop(i: int) -> float | None:
        story = probes[i % len(probes)]
        marker = f"SEEDFEED LEARN {tag} {i:04d}"
        staged = incoming / f"probe-{tag}-{i:04d}.txt"
        staged.write_text(
            headered_text(f"{marker} {story.title}", datetime.now(UTC), (), story.body), "utf-8"
        )
        target = seeds / staged.name
        started = time.perf_counter()
        os.replace(staged, target)
        dropped.append(target)
        seen = wait_for(partial(_holds, all_feed, marker.encode()), timeout=30)
        return None if seen is None else round((seen - started) * 1000, 2)

    try:
        if not daemon.wait_idle(timeout=timeout):
            row.error = f"the daemon did not become idle; log: {daemon.log_path}"
            return row
        for i in range(drops):
            sample = drop(i)
            if sample is not None:
                row.samples_ms.append(sample)
        row.drops = drops
        row.tagged = _learned_drops(state, f"probe-{tag}-")
        # A new example: the examples changed, so the daemon learns again in the background.
        before = _setting(state, MODEL_SETTING)
        example = probes[0]
        target = seeds / f"probe-{tag}-example.txt"
        staged = incoming / target.name
        staged.write_text(
            headered_text(
                f"{tag} {example.title}", datetime.now(UTC), example.topics, example.body
            ),
            "utf-8",
        )
        started = time.perf_counter()
        os.replace(staged, target)
        dropped.append(target)
        i = drops
        while time.perf_counter() - started < timeout:
            if _setting(state, MODEL_SETTING) not in (before, None):
                row.retrain_s = round(time.perf_counter() - started, 1)
                break
            sample = drop(i)
            i += 1
            if sample is not None:
                row.during_retrain_ms.append(sample)
        learned = _LEARNED_LINE.findall(daemon.log_text())
        row.learn_s = float(learned[-1][2]) if learned else None
        row.learn_cpu_s = float(learned[-1][3]) if learned and learned[-1][3] else None
        row.peak_rss_mb = daemon.hwm_mb()
    finally:
        for path in dropped:
            path.unlink(missing_ok=True)
        if before is not None:
            # The examples as they were: the daemon learns them again, so that the next run
            # on this catalogue starts with nothing to learn (else it retrains meanwhile).
            wait_for(lambda: _setting(state, MODEL_SETTING) == before, timeout=timeout, poll=0.2)
        code = daemon.stop()
        if code != 0 and row.error is None:
            row.error = f"the daemon exited {code}; log: {daemon.log_path}"
    return row


def render(f1_rows: Sequence[F1Row], daemon_rows: Sequence[DaemonRow]) -> list[str]:
    """The Markdown rows of the learning figures."""
    lines: list[str] = []
    if f1_rows:
        lines += [
            "| taught by example | examples | TEST stories | micro-F1 (labelled TEST) "
            "| precision | recall | micro-F1 (all TEST) | build s | learning s |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for r in f1_rows:
            lines.append(
                f"| {r.setting} | {r.examples:,} | {r.test_stories:,} | {_fmt(r.f1, 3)} "
                f"| {_fmt(r.precision, 3)} | {_fmt(r.recall, 3)} | {_fmt(r.f1_all_test, 3)} "
                f"| {_fmt(r.build_s, 1)} | {_fmt(r.learn_s, 1)} |"
            )
            if r.error:
                lines.append(f"|  | ↳ error: {r.error.replace('|', '/')} ||||||||")
        lines.append("")
    if daemon_rows:
        lines += [
            "| learning in the daemon | drops | median ms | p95 ms | with a learned topic "
            "| retrain s (drop to topics) | learning s | learning process CPU s "
            "| drops meanwhile: median / p95 ms | peak RSS MB |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for d in daemon_rows:
            share = d.tagged / d.drops if d.drops else None
            lines.append(
                f"| {d.size} | {d.drops} | {_fmt(_median(d.samples_ms), 0)} "
                f"| {_fmt(_p95(d.samples_ms), 0)} | {_fmt(share and share * 100, 0)} % "
                f"| {_fmt(d.retrain_s, 1)} | {_fmt(d.learn_s, 1)} | {_fmt(d.learn_cpu_s, 1)} "
                f"| {_fmt(_median(d.during_retrain_ms), 0)} / {_fmt(_p95(d.during_retrain_ms), 0)} "
                f"| {_fmt(d.peak_rss_mb, 0)} |"
            )
            if d.error:
                lines.append(f"|  | ↳ error: {d.error.replace('|', '/')} |||||||||")
        lines.append("")
    return lines


def targets(
    f1_rows: Sequence[F1Row], daemon_rows: Sequence[DaemonRow]
) -> list[tuple[str, str, str, bool | None]]:
    """The issue's floors, met or not."""
    found: list[tuple[str, str, str, bool | None]] = []
    full = next((r for r in f1_rows if r.setting == "all-train" and r.f1 is not None), None)
    if full is not None and full.f1 is not None:
        ok = full.f1 >= FLOOR_F1_ALL_TRAIN
        found.append(
            ("learned micro-F1, all TRAIN taught", f"{FLOOR_F1_ALL_TRAIN}", f"{full.f1:.3f}", ok)
        )
    ten = [r.f1 for r in f1_rows if r.setting != "all-train" and r.f1 is not None]
    if ten:
        worst = min(ten)
        found.append(
            (
                "learned micro-F1, 10 per topic (worst draw)",
                f"{FLOOR_F1_TEN}",
                f"{worst:.3f}",
                worst >= FLOOR_F1_TEN,
            )
        )
    for d in daemon_rows:
        if d.samples_ms:
            med, p95 = _median(d.samples_ms), _p95(d.samples_ms)
            found.append(
                (
                    f"drop-to-feed with learning, {d.size}",
                    "150 / 300 ms",
                    f"{med:.0f} / {p95:.0f}",
                    med <= 150 and p95 <= 300,
                )
            )
        if d.drops:
            share = d.tagged / d.drops
            found.append(
                (
                    "drops with a learned topic",
                    "80 %",
                    f"{share * 100:.0f} %",
                    share >= FLOOR_TAGGED_SHARE,
                )
            )
        if d.retrain_s is not None:
            found.append(
                (
                    "retrain in the background",
                    f"{FLOOR_RETRAIN_S:.0f} s",
                    _fmt(d.retrain_s, 1),
                    d.retrain_s <= FLOOR_RETRAIN_S,
                )
            )
        if d.peak_rss_mb is not None:
            found.append(
                (
                    "daemon peak RSS with models",
                    f"{FLOOR_RSS_MB:.0f} MB",
                    f"{d.peak_rss_mb:.0f}",
                    d.peak_rss_mb <= FLOOR_RSS_MB,
                )
            )
    return found
