"""Benchmark inputs built from the shared Reuters corpus, into a scratch folder only.

The corpus is research-only data: it is read from `<repo>/../shared/corpus/reuters` and
copied (transformed) into the work folder, never into the repository.

Three flavours, on two kinds of input file:

* ``headered``: every file starts with a header block (``Title:`` from line 1 of the
  story, ``Date:`` from ``date_iso`` in labels.tsv, ``Topics:`` the story's own topic
  codes from labels.tsv), a blank line, then the story text from line 4 on.
* ``raw``: the corpus files as they are (title, wire date, blank line, story), so topics
  come from the configured taxonomy and automatic topics.
* ``peers``: the ``headered`` files themselves (the same folder, not a copy), built under
  another config by the harness.

Sizes: ``1k`` and ``10k`` are the corpus's own subsets, ``19k`` is every story, and
``100k`` is synthetic: every story once as it is (variant 0), then variants 1, 2, ... of
each story until 100,000 files exist. Variant ``k`` prefixes the title with ``(k)``,
shifts the date forward by ``k`` x 365 days, and, when the story has no topic codes of its
own, borrows those of story ``(i + k * 7919) mod N``; so every entry has its own title,
id and fingerprint while the bodies and topic mix stay those of real stories.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

FLAVOURS = ("headered", "raw", "peers")
# The input files each flavour reads: peers differs from headered by its config only.
_INPUT_OF = {"headered": "headered", "raw": "raw", "peers": "headered"}
SIZES = ("1k", "10k", "19k", "100k")
SYNTHETIC_COUNT = 100_000
_STRIDE = 7919  # a prime, so borrowed topics come from stories spread over the corpus
_READY = "READY"
# How the files dropped into a running daemon are named (`burst-<tag>-<n>.txt`,
# `probe-<tag>-<n>.txt`); no input file is.
DROP_PREFIXES = ("burst-", "probe-")


class CorpusMissing(Exception):
    """The shared Reuters corpus is not where the harness looks for it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Story:
    """One corpus document and its labels."""

    name: str  # file name under docs/, e.g. 00001.txt
    title: str
    wire_date: str  # line 2 as written: 26-FEB-1987 15:01:01
    published: datetime
    topics: tuple[str, ...]
    body: str  # line 4 on, ending with one newline


@dataclass(frozen=True, slots=True, kw_only=True)
class InputSet:
    """A built `seeds/` folder for one flavour and size."""

    flavour: str
    size: str
    seeds_dir: Path
    files: int


def find_corpus(repo: Path) -> Path:
    """The corpus folder next to the repository, or CorpusMissing naming where it looked."""
    corpus = (repo / ".." / "shared" / "corpus" / "reuters").resolve()
    needed = ("labels.tsv", "subset-1k.txt", "subset-10k.txt", "docs")
    missing = [name for name in needed if not (corpus / name).exists()]
    if missing:
        raise CorpusMissing(
            f"the Reuters corpus is missing: looked in {corpus} for {', '.join(needed)} "
            f"(not found: {', '.join(missing)}). The corpus-based measurements need it."
        )
    return corpus


def read_labels(corpus: Path) -> dict[str, tuple[datetime, tuple[str, ...]]]:
    """labels.tsv as file name -> (date, topic codes)."""
    labels: dict[str, tuple[datetime, tuple[str, ...]]] = {}
    with open(corpus / "labels.tsv", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {name: header.index(name) for name in ("file", "date_iso", "topics")}
        for line in f:
            cells = line.rstrip("\n").split("\t")
            date = datetime.strptime(cells[col["date_iso"]], "%Y-%m-%dT%H:%M:%SZ")
            topics = tuple(t for t in cells[col["topics"]].split(",") if t)
            labels[cells[col["file"]]] = (date.replace(tzinfo=UTC), topics)
    return labels


def read_story(
    corpus: Path, name: str, labels: dict[str, tuple[datetime, tuple[str, ...]]]
) -> Story:
    text = (corpus / "docs" / name).read_text(encoding="utf-8")
    lines = text.split("\n", 3)
    published, topics = labels[name]
    return Story(
        name=name,
        title=lines[0],
        wire_date=lines[1],
        published=published,
        topics=topics,
        body=lines[3] if len(lines) > 3 else "",
    )


def story_names(corpus: Path, size: str) -> list[str]:
    """The corpus file names a size starts from (all of them for 19k and 100k)."""
    if size in ("1k", "10k"):
        text = (corpus / f"subset-{size}.txt").read_text(encoding="utf-8")
        return [line for line in text.splitlines() if line]
    return sorted(p.name for p in (corpus / "docs").iterdir() if p.suffix == ".txt")


def headered_text(title: str, published: datetime, topics: Sequence[str], body: str) -> str:
    """A clipping with a header block: the format seedfeed's `header` style reads."""
    stamp = published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = [f"Title: {title}", f"Date: {stamp}"]
    if topics:
        header.append(f"Topics: {', '.join(topics)}")
    return "\n".join(header) + "\n\n" + body


def raw_text(title: str, published: datetime, body: str) -> str:
    """A clipping in the corpus's own layout: title, wire date, blank line, story."""
    wire = f"{published.day}-{published:%b}-{published:%Y %H:%M:%S}".upper()
    return f"{title}\n{wire}\n\n{body}"


def _variants(
    stories: Sequence[Story], count: int
) -> Iterator[tuple[str, str, datetime, tuple[str, ...], Story]]:
    """(file name, title, date, topics, story) for `count` files, variant 0 first."""
    n = len(stories)
    made = 0
    k = 0
    while made < count:
        for i, story in enumerate(stories):
            if made >= count:
                return
            if k == 0:
                yield story.name, story.title, story.published, story.topics, story
            else:
                topics = story.topics or stories[(i + k * _STRIDE) % n].topics
                yield (
                    f"v{k}-{story.name}",
                    f"({k}) {story.title}",
                    story.published + timedelta(days=365 * k),
                    topics,
                    story,
                )
            made += 1
        k += 1


def build_inputs(corpus: Path, work: Path, flavour: str, size: str) -> InputSet:
    """The seeds folder for (flavour, size) under `work`, made once and reused after (and
    shared by the flavours that read the same input files)."""
    kind = _INPUT_OF[flavour]
    root = work / "inputs" / f"{kind}-{size}"
    seeds = root / "seeds"
    ready = root / _READY
    if ready.exists():
        _remove_dropped(seeds)
        return InputSet(
            flavour=flavour, size=size, seeds_dir=seeds, files=int(ready.read_text().strip())
        )
    labels = read_labels(corpus)
    stories = [read_story(corpus, name, labels) for name in story_names(corpus, size)]
    count = SYNTHETIC_COUNT if size == "100k" else len(stories)
    if seeds.exists():
        shutil.rmtree(seeds)
    seeds.mkdir(parents=True)
    written = 0
    for name, title, published, topics, story in _variants(stories, count):
        text = (
            headered_text(title, published, topics, story.body)
            if kind == "headered"
            else raw_text(title, published, story.body)
        )
        (seeds / name).write_text(text, encoding="utf-8")
        written += 1
    ready.write_text(f"{written}\n")
    return InputSet(flavour=flavour, size=size, seeds_dir=seeds, files=written)


def _remove_dropped(seeds: Path) -> None:
    """Remove the files a latency or burst run dropped into `seeds` and did not take back
    (it was killed): left there, they would make every later run measure a bigger input."""
    left = [path for prefix in DROP_PREFIXES for path in seeds.glob(f"{prefix}*")]
    for path in left:
        path.unlink()
    if left:
        print(f"removed {len(left)} files a killed run left in {seeds}", file=sys.stderr)


def stories_with_topics(corpus: Path, limit: int) -> list[Story]:
    """Up to `limit` stories that carry topic codes, spread over the corpus (probe bodies)."""
    labels = read_labels(corpus)
    names = [name for name, (_, topics) in sorted(labels.items()) if topics]
    step = max(1, len(names) // max(1, limit))
    return [read_story(corpus, name, labels) for name in names[::step][:limit]]


def remove_tree(folder: Path) -> None:
    """Remove a scratch folder and everything in it, if it exists."""
    if folder.exists():
        shutil.rmtree(folder)
