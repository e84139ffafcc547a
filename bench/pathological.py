"""Pathological clippings, made by code, and what reading each costs in memory and time.

Each shape is a file a user could drop into `seeds/` by mistake or a tool could write: one
huge line of dashes, megabytes of capitalised words, prose without a line break or without
a paragraph, thousands of stories in one file, ... `write_shape` writes one at any size
(deterministic: the same size gives the same bytes). `measure_reading` reads a file the way
a drop is read (`feeds.build.read_files`: ingest, normalize, topics) in a fresh Python
process and returns that process's peak memory over its base and the time it took.

`measure_reading_phase` is the `pathological` row set of `make bench`: every shape at
BENCH_SIZE, then the median time `seedfeed inspect` takes per file (ingest, normalize,
topics) over 1,000 Reuters stories held out (`INSPECTED`), in a fresh process.

Run as a module, it is those child processes: `python -m bench.pathological FILE [CONFIG]`
and `python -m bench.pathological --inspect CORPUS [CONFIG]` print one JSON line.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.measure import status_kb

MB = 1024 * 1024
_REPO = Path(__file__).resolve().parent.parent
BENCH_SIZE = 9 * MB  # the size issue 19 names; within the default max_file_bytes (10 MiB)
# A story in the usual shape, read by the child before the file measured: its peak memory
# after that is the process's base (interpreter, seedfeed's modules, compiled patterns).
_WARM_UP = (
    "Central bank holds rates\n\nUpdated 3 March 2026\n\n"
    "LIMA: Peru's central bank kept its benchmark interest rate unchanged on Thursday, "
    "saying inflation had returned to its target range.\n"
)
_SYLLABLES = (
    "ka", "lo", "mi", "ra", "te", "su", "no", "vi", "da", "pe", "zo", "ri", "an", "el", "or",
    "us", "ba", "ki", "ma", "to",
)  # fmt: skip
_PROSE_WORDS = (
    "the", "minister", "said", "on", "Tuesday", "that", "talks", "with", "Islamabad", "would",
    "resume", "after", "a", "pause", "of", "three", "weeks", "and", "officials", "in", "New",
    "Delhi", "expected", "progress", "trade", "border", "water", "security", "before",
    "summer", "Imran", "Khan",
)  # fmt: skip


def _capitalised(rng: random.Random) -> str:
    """A made-up capitalised word ("Kalomi"): a fresh name nearly every time."""
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_PROSE_WORDS) for _ in range(rng.randint(8, 22))]
    return " ".join(words).capitalize() + "."


def _dashes(rng: random.Random) -> Iterator[str]:
    """One line of dashes, the whole file long."""
    while True:
        yield "-" * 65536


def _capitalised_lines(rng: random.Random) -> Iterator[str]:
    """Lines of capitalised made-up words, no blank line: one endless run of names."""
    while True:
        yield " ".join(_capitalised(rng) for _ in range(10)) + "\n"


def _capitalised_words(rng: random.Random) -> Iterator[str]:
    """Capitalised words in ordinary paragraphs of ten sentences: a million names for 9 MB."""
    while True:
        for _ in range(10):
            yield " ".join(_capitalised(rng) for _ in range(12)) + ". "
        yield "\n\n"


def _one_line(rng: random.Random) -> Iterator[str]:
    """A headline, then prose with no line break at all."""
    yield "A story pasted without its line breaks\n\n"
    while True:
        yield _sentence(rng) + " "


def _prose_alone(rng: random.Random) -> Iterator[str]:
    """Prose with no headline and no line break: a title has to be made from a sentence."""
    while True:
        yield _sentence(rng) + " "


def _capitals_line(rng: random.Random) -> Iterator[str]:
    """A headline, then one line of words in capitals with a dash near its start."""
    yield "Shouting\n\nKARACHI - "
    while True:
        yield _capitalised(rng).upper() + " "


def _blank_lines(rng: random.Random) -> Iterator[str]:
    """A short story, then nothing but empty lines."""
    yield _WARM_UP
    while True:
        yield "\n" * 65536


def _no_paragraphs(rng: random.Random) -> Iterator[str]:
    """A headline, then prose wrapped at 70 columns with no blank line."""
    yield "A story pasted without its paragraphs\n\n"
    line = ""
    while True:
        for word in _sentence(rng).split():
            if len(line) + len(word) >= 70:
                yield line + "\n"
                line = ""
            line = f"{line} {word}" if line else word


def _web_story(rng: random.Random, number: int) -> str:
    """A short web story: headline, date line, two paragraphs."""
    return (
        f"Story number {number} about {_capitalised(rng)} talks\n\n"
        f"Updated {1 + number % 28} March 2026\n\n"
        f"ISLAMABAD: {_sentence(rng)} {_sentence(rng)}\n\n{_sentence(rng)}\n\n"
    )


def _headered_story(rng: random.Random, number: int) -> str:
    """A story with a header block, and a divider after it."""
    title = f"Report {number} on {_capitalised(rng)}"
    topics = f"{_capitalised(rng)}, {_capitalised(rng)}"
    body = f"{_sentence(rng)} {_sentence(rng)}"
    date = f"2026-03-{1 + number % 28:02}"
    return f"Title: {title}\nDate: {date}\nTopics: {topics}\n\n{body}\n\n---\n\n"


def _stories(
    story: Callable[[random.Random, int], str],
) -> Callable[[random.Random], Iterator[str]]:
    """Thousands of stories one after another in one file."""

    def pieces(rng: random.Random) -> Iterator[str]:
        for number in itertools.count(1):
            yield story(rng, number)

    return pieces


def _one_character_lines(rng: random.Random) -> Iterator[str]:
    """Paragraphs that are each one 64 KB line of a single letter."""
    yield "A story of one long word\n\n"
    while True:
        yield "x" * 65536 + "\n\n"


def _short_lines(rng: random.Random) -> Iterator[str]:
    """One short word a line, no blank line: millions of lines."""
    yield "A list of words\n\n"
    while True:
        yield rng.choice(_PROSE_WORDS) + "\n"


def _repeated_headline(rng: random.Random) -> Iterator[str]:
    """The same headline-like line over and over, each a paragraph of its own."""
    while True:
        yield "Breaking News Live\n\n"


def _repeated_paragraph(rng: random.Random) -> Iterator[str]:
    """One headline, then the same paragraph repeated: deep repetition in one story."""
    yield "The same paragraph again and again\n\n"
    paragraph = " ".join(_sentence(rng) for _ in range(5)) + "\n\n"
    while True:
        yield paragraph


def _topic_words(rng: random.Random) -> Iterator[str]:
    """A headline, then paragraphs of nothing but place names of the shipped taxonomy."""
    yield "Places\n\n"
    names = ("Pakistan", "Karachi", "Kabul", "Islamabad", "India", "Lahore", "Taliban")
    while True:
        yield " ".join(rng.choice(names) for _ in range(60)) + ".\n\n"


def _astral(rng: random.Random) -> Iterator[str]:
    """Prose with an emoji in every paragraph: Python keeps such text at 4 bytes a letter."""
    yield "Reactions pour in \U0001f4f0\n\n"
    while True:
        yield " ".join(_sentence(rng) for _ in range(5)) + " \U0001f44d\n\n"


def _western_legacy(rng: random.Random) -> Iterator[str]:
    """Prose with accented letters, written as Windows-1252 (not UTF-8)."""
    yield "Café society returns to the capital\n\n"
    while True:
        yield " ".join(_sentence(rng) for _ in range(5)) + " Déjà vu à Zürich.\n\n"


def _cyrillic_legacy(rng: random.Random) -> Iterator[str]:
    """Russian prose written as Windows-1251: the encoding has to be guessed."""
    yield "Переговоры возобновятся в марте\n\n"
    sentence = "Министр заявил во вторник, что переговоры с соседями возобновятся после паузы. "
    while True:
        yield sentence * 5 + "\n\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape:
    """A kind of pathological file: its text in pieces, and the encoding it is written in."""

    name: str
    pieces: Callable[[random.Random], Iterator[str]]
    encoding: str = "utf-8"


SHAPES: tuple[Shape, ...] = (
    Shape(name="dashes", pieces=_dashes),
    Shape(name="capitalised-lines", pieces=_capitalised_lines),
    Shape(name="capitalised-words", pieces=_capitalised_words),
    Shape(name="one-line", pieces=_one_line),
    Shape(name="prose-alone", pieces=_prose_alone),
    Shape(name="capitals-line", pieces=_capitals_line),
    Shape(name="no-paragraphs", pieces=_no_paragraphs),
    Shape(name="blank-lines", pieces=_blank_lines),
    Shape(name="many-stories", pieces=_stories(_web_story)),
    Shape(name="headered-stories", pieces=_stories(_headered_story)),
    Shape(name="one-character-lines", pieces=_one_character_lines),
    Shape(name="short-lines", pieces=_short_lines),
    Shape(name="repeated-headline", pieces=_repeated_headline),
    Shape(name="repeated-paragraph", pieces=_repeated_paragraph),
    Shape(name="topic-words", pieces=_topic_words),
    Shape(name="astral", pieces=_astral),
    Shape(name="cp1252", pieces=_western_legacy, encoding="cp1252"),
    Shape(name="cp1251", pieces=_cyrillic_legacy, encoding="cp1251"),
)


def write_shape(shape: Shape, path: Path, size: int) -> None:
    """Write `size` bytes of `shape` to `path` (cut at a character and ended by a newline)."""
    rng = random.Random(f"{shape.name}-{size}")
    written = 0
    with open(path, "wb") as f:
        for piece in shape.pieces(rng):
            data = piece.encode(shape.encoding)
            room = size - 1 - written
            if len(data) >= room:
                f.write(data[:room].decode(shape.encoding, "ignore").encode(shape.encoding))
                f.write(b"\n")
                return
            f.write(data)
            written += len(data)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingCost:
    """What reading one file took in a fresh process."""

    base_kb: int  # the process's peak RSS before the file (after a warm-up story)
    peak_kb: int  # its peak RSS once the file is read
    seconds: float  # wall time of reading the file
    cpu_seconds: float
    entries: int
    reason: str | None  # why the file was rejected, if it was

    @property
    def over_base_kb(self) -> int:
        return self.peak_kb - self.base_kb


def measure_reading(path: Path, *, config: Path | None = None, timeout: float = 600) -> ReadingCost:
    """Read `path` in a fresh Python process as a drop is read; its memory and time."""
    command = [sys.executable, "-m", "bench.pathological", str(path)]
    if config is not None:
        command.append(str(config))
    done = subprocess.run(
        command, cwd=_REPO, capture_output=True, text=True, timeout=timeout, check=True
    )
    fields = json.loads(done.stdout.strip().splitlines()[-1])
    return ReadingCost(**fields)


def _peak_kb() -> int:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: a process started by another
    (vfork, then exec) carries the starter's peak in it, so a test process grown past the
    bound showed as the base of every reading it measured."""
    return status_kb(os.getpid(), "VmHWM") or 0


def _reset_peak() -> None:
    """Start the peak over from the memory held now (Linux; elsewhere nothing to do)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")


def _read_here(path: Path, config_path: Path | None) -> ReadingCost:
    """Read `path` through `feeds.build.read_files` in this process (the child's work)."""
    from dataclasses import replace

    from feeds.build import FileToRead, read_files
    from feeds.config import load_config

    _reset_peak()
    config = load_config(config_path)
    now = datetime.now(UTC)
    warm = path.parent / f".warm-up-{os.getpid()}.txt"
    warm.write_text(_WARM_UP, encoding="utf-8")
    try:
        config = replace(config, seeds_dir=path.parent)
        first = FileToRead(rel_path=Path(warm.name), info=warm.lstat(), known=None)
        list(read_files(config, [first], now=now))
    finally:
        warm.unlink()
    base = _peak_kb()
    file = FileToRead(rel_path=Path(path.name), info=path.lstat(), known=None)
    started, cpu = time.perf_counter(), time.process_time()
    (reading,) = read_files(config, [file], now=now)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return ReadingCost(
        base_kb=base,
        peak_kb=_peak_kb(),
        seconds=round(seconds, 3),
        cpu_seconds=round(cpu_seconds, 3),
        entries=len(reading.entries),
        reason=reading.reason,
    )


INSPECTED = "1,000 stories of subset-10k outside subset-1k"


def inspected(corpus: Path) -> list[str]:
    """The stories `inspect`'s time is measured on (`INSPECTED`): held out from subset-1k,
    which the reading and naming work was profiled and its caches sized on. Evenly spread
    over subset-10k's others, by name."""
    tuned = set((corpus / "subset-1k.txt").read_text(encoding="utf-8").split())
    rest = (corpus / "subset-10k.txt").read_text(encoding="utf-8").split()
    others = sorted(n for n in rest if n not in tuned)
    return others[:: len(others) // 1000][:1000]


def _inspect_times_here(corpus: Path, config_path: Path | None) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per file of `INSPECTED` read as `seedfeed inspect` reads it, here."""
    from feeds.config import load_config
    from feeds.ingest import read_document
    from feeds.normalize import split_entries
    from feeds.topics import assign_topics

    config = load_config(config_path)
    now = datetime.now(UTC)
    docs = corpus / "docs"
    names = inspected(corpus)
    times: list[tuple[float, float]] = []
    for name in names:
        rel_path = Path(name)
        started, cpu = time.perf_counter(), time.process_time()
        document = read_document(docs, rel_path, max_file_bytes=config.max_file_bytes)
        for entry in split_entries(document, config=config, now=now):
            assign_topics(entry, rel_path=rel_path, config=config)
        times.append((time.perf_counter() - started, time.process_time() - cpu))
    return times


@dataclass(frozen=True, slots=True, kw_only=True)
class ShapeRow:
    shape: str
    size_mb: float
    peak_mb: float
    over_base_mb: float
    seconds: float
    cpu_seconds: float
    entries: int
    reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingFigures:
    """The `pathological` phase's figures."""

    shapes: tuple[ShapeRow, ...]
    inspect_files: int
    inspect_median_us: float  # wall time
    inspect_median_cpu_us: float  # CPU time of the process: less moved by a loaded machine


def measure_reading_phase(work: Path, corpus: Path, config: Path) -> ReadingFigures:
    """Every shape at BENCH_SIZE (written once into `work`/pathological), then `inspect`
    per file over `INSPECTED`; each in a fresh process with `config`."""
    folder = work / "pathological"
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[ShapeRow] = []
    for shape in SHAPES:
        path = folder / f"{shape.name}.txt"
        if not path.exists() or path.stat().st_size != BENCH_SIZE:
            write_shape(shape, path, BENCH_SIZE)
        cost = measure_reading(path, config=config)
        rows.append(
            ShapeRow(
                shape=shape.name,
                size_mb=round(path.stat().st_size / MB, 1),
                peak_mb=round(cost.peak_kb / 1024, 1),
                over_base_mb=round(cost.over_base_kb / 1024, 1),
                seconds=cost.seconds,
                cpu_seconds=cost.cpu_seconds,
                entries=cost.entries,
                reason=cost.reason,
            )
        )
    command = [sys.executable, "-m", "bench.pathological", "--inspect", str(corpus), str(config)]
    done = subprocess.run(
        command, cwd=_REPO, capture_output=True, text=True, timeout=600, check=True
    )
    times = json.loads(done.stdout.strip().splitlines()[-1])
    return ReadingFigures(
        shapes=tuple(rows),
        inspect_files=len(times),
        inspect_median_us=round(statistics.median(wall for wall, _ in times) * 1e6, 1),
        inspect_median_cpu_us=round(statistics.median(cpu for _, cpu in times) * 1e6, 1),
    )


def render_reading(figures: ReadingFigures) -> str:
    """The phase's figures as Markdown."""
    lines = [
        "| pathological file | MB | peak RSS MB | over base MB | × size | wall s | CPU s "
        "| entries | rejected |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in figures.shapes:
        lines.append(
            f"| {row.shape} | {row.size_mb} | {row.peak_mb:.0f} | {row.over_base_mb:.0f} "
            f"| {row.over_base_mb / row.size_mb:.1f} | {row.seconds:.2f} | {row.cpu_seconds:.2f} "
            f"| {row.entries:,} | {row.reason or ''} |"
        )
    lines += [
        "",
        f"`inspect` per file over {INSPECTED} ({figures.inspect_files} files): median "
        f"{figures.inspect_median_us:.0f} µs wall, {figures.inspect_median_cpu_us:.0f} µs CPU",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[0] == "--inspect":
        config = Path(argv[2]) if len(argv) > 2 else None
        print(json.dumps(_inspect_times_here(Path(argv[1]), config)))
        return 0
    path = Path(argv[0]).resolve()
    config = Path(argv[1]) if len(argv) > 1 else None
    cost = _read_here(path, config)
    print(
        json.dumps(
            {
                "base_kb": cost.base_kb,
                "peak_kb": cost.peak_kb,
                "seconds": cost.seconds,
                "cpu_seconds": cost.cpu_seconds,
                "entries": cost.entries,
                "reason": cost.reason,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
