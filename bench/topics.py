"""Topic quality on the Reuters corpus: how many topics, pieces and duplicates, place alignment.

Run from the repository root: `.venv/bin/python -m bench.topics [--sets ...]` (see
bench/README.md). For each set it copies the stories into a scratch `seeds/`, runs
`seedfeed build` there with no configuration file (the defaults), and reads the topics
and their entries from the catalogue. Prints a Markdown table and, with `--list`, every
topic and the problems found.

Sets: `sample` (the repository's seeds/ with its seedfeed.toml), `1k` and `10k` (the
corpus subsets), `dev` (1,000 TRAIN stories outside both subsets: the set the rules were
developed on, so that `1k` and `10k` measure them on stories they were not tuned on).
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import CorpusMissing, find_corpus, remove_tree, story_names
from feeds.model import TopicSource
from feeds.topics.names import acronym_of, spelling_key
from feeds.topics.places import continent_named, country_named

REPO = Path(__file__).resolve().parent.parent
SETS = ("sample", "dev", "1k", "10k")
DEV_SIZE = 1000
# Place alignment: the most common `places` labels of a set, "usa" left out.
ALIGNED_PLACES = 15

# What issue 17 asks for.
MAX_SAMPLE_TOPICS = 10
MAX_1K_TOPICS = 150
MAX_10K_TOPICS = 500
MIN_ALIGNMENT = 0.75


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicSet:
    """The topics of one build: slug -> (title, source, set of seed file names)."""

    titles: dict[str, str]
    sources: dict[str, str]
    members: dict[str, frozenset[str]]
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    name: str
    stories: int
    topics: int
    automatic: int
    pieces: list[str]
    duplicates: list[tuple[str, str]]
    alignment: float | None
    seconds: float


def _labels(corpus: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """labels.tsv as file name -> (lewissplit, places)."""
    with open(corpus / "labels.tsv", encoding="utf-8", newline="") as f:
        return {
            row["file"]: (row["lewissplit"], tuple(p for p in row["places"].split(",") if p))
            for row in csv.DictReader(f, delimiter="\t")
        }


def dev_names(corpus: Path, labels: dict[str, tuple[str, tuple[str, ...]]]) -> list[str]:
    """DEV_SIZE TRAIN stories in neither subset, spread evenly over the corpus."""
    taken = set(story_names(corpus, "1k")) | set(story_names(corpus, "10k"))
    pool = sorted(n for n, (split, _) in labels.items() if split == "TRAIN" and n not in taken)
    return [pool[i * len(pool) // DEV_SIZE] for i in range(DEV_SIZE)]


def build(seeds: Path, work: Path, config: Path | None) -> TopicSet:
    """`seedfeed build` of `seeds` in `work`; the topics and their live entries."""
    remove_tree(work / "public")
    remove_tree(work / "state")
    command = [str(REPO / ".venv" / "bin" / "seedfeed"), "build", "-q"]
    command += ["--seeds", str(seeds), "--public", str(work / "public")]
    command += ["--state", str(work / "state")]
    if config is not None:
        command += ["--config", str(config)]
    started = time.perf_counter()
    subprocess.run(command, cwd=work, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    db = sqlite3.connect(work / "state" / "catalog.sqlite3")
    titles: dict[str, str] = {}
    sources: dict[str, str] = {}
    members: dict[str, set[str]] = {}
    rows = db.execute(
        "SELECT t.slug, t.title, t.source, s.rel_path FROM entry_topics t "
        "JOIN sources s USING (entry_id) WHERE t.live"
    )
    for slug, title, source, rel_path in rows:
        titles.setdefault(slug, title)
        sources.setdefault(slug, source)
        members.setdefault(slug, set()).add(Path(rel_path).name)
    db.close()
    return TopicSet(
        titles=titles,
        sources=sources,
        members={slug: frozenset(found) for slug, found in members.items()},
        seconds=seconds,
    )


def pieces(topics: TopicSet, seeds: Path) -> list[str]:
    """Automatic topics that are a piece of longer names ("York" of "New York", "Exchange
    Commission" of "Securities and Exchange Commission"): in most of the stories that name
    the topic's title, every time it is named it stands inside a longer run of capitalised
    words (or joined to one by "&", "and", "of")."""
    found = []
    for slug, title in topics.titles.items():
        if topics.sources[slug] != TopicSource.AUTO.value or country_named(title):
            continue  # (a country is named in many ways: "West Germany" is Germany)
        named = inside = 0
        pattern = re.compile(rf"(?<![\w&'-]){re.escape(title)}(?![\w&'-])")
        for name in topics.members[slug]:
            text = " ".join((seeds / name).read_text(encoding="utf-8").split())
            spans = [m.span() for m in pattern.finditer(text)]
            if not spans:
                continue
            named += 1
            inside += all(_inside(text, start, end) for start, end in spans)
        if named > 1 and inside * 5 >= named * 4:
            found.append(title)
    return sorted(found)


def _inside(text: str, start: int, end: int) -> bool:
    before = _BEFORE.search(text, 0, start)
    return (before is not None and before["word"] not in _TITLES) or bool(_AFTER.match(text, end))


# A capitalised word (or one joined by a connector) right before or after a name; not a
# title before a person's name, nor a company's suffix after its name.
_BEFORE = re.compile(r"(?P<word>[A-Z][\w.'&-]*)(?: (?:&|of|de))? $")
_TITLES = frozenset(
    ["The", "Secretary", "Minister", "President", "Chairman", "Governor", "Senator", "Mr", "Dr"]
)
_AFTER = re.compile(r"(?: (?:&|of|de))? (?!(?:Co|Corp|Inc|Ltd|Plc|Group)\b)[A-Z][a-z]")


def duplicates(topics: TopicSet) -> list[tuple[str, str]]:
    """Pairs of topics that name one thing: an acronym and its expansion, two spellings, a
    country or a continent and its adjective (an automatic topic beside any other)."""
    found = []
    items = sorted(topics.titles.items())
    for i, (slug, title) in enumerate(items):
        for other_slug, other in items[i + 1 :]:
            sources = {topics.sources[slug], topics.sources[other_slug]}
            if TopicSource.AUTO.value not in sources:
                continue
            place = country_named(title) or continent_named(title)
            same_country = place is not None and place == (
                country_named(other) or continent_named(other)
            )
            if (
                acronym_of(title, other)
                or acronym_of(other, title)
                or spelling_key(title) == spelling_key(other)
                or same_country
            ):
                found.append((title, other))
    return found


def alignment(
    topics: TopicSet, names: Sequence[str], labels: dict[str, tuple[str, tuple[str, ...]]]
) -> float:
    """The mean, over the ALIGNED_PLACES most common `places` labels of `names` other
    than "usa", of the best F1 between a topic's entries and the stories with that label."""
    by_place: dict[str, set[str]] = {}
    for name in names:
        for place in labels[name][1]:
            by_place.setdefault(place, set()).add(name)
    common = Counter({p: len(s) for p, s in by_place.items() if p != "usa"})
    scores = []
    for place, _ in common.most_common(ALIGNED_PLACES):
        wanted = by_place[place]
        best = 0.0
        for found in topics.members.values():
            hit = len(wanted & found)
            if hit:
                best = max(best, 2 * hit / (len(wanted) + len(found)))
        scores.append(best)
    return statistics.fmean(scores) if scores else 0.0


def measure(name: str, corpus: Path, work: Path) -> tuple[Row, TopicSet]:
    labels = _labels(corpus)
    seeds = work / "seeds"
    if name == "sample":
        names: list[str] = []
        remove_tree(seeds)
        shutil.copytree(REPO / "seeds", seeds)
        topics = build(seeds, work, REPO / "seedfeed.toml")
    else:
        names = dev_names(corpus, labels) if name == "dev" else story_names(corpus, name)
        remove_tree(seeds)
        seeds.mkdir(parents=True)
        for story in names:
            shutil.copyfile(corpus / "docs" / story, seeds / story)
        topics = build(seeds, work, None)
    row = Row(
        name=name,
        stories=len(names) or sum(1 for _ in seeds.iterdir()),
        topics=len(topics.titles),
        automatic=sum(1 for s in topics.sources.values() if s == TopicSource.AUTO.value),
        pieces=pieces(topics, seeds),
        duplicates=duplicates(topics),
        alignment=alignment(topics, names, labels) if names else None,
        seconds=topics.seconds,
    )
    return row, topics


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.topics", description=__doc__)
    parser.add_argument("--sets", default="sample,1k,10k", help=f"of {','.join(SETS)}")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out" / "topics")
    parser.add_argument("--list", action="store_true", help="print every topic and problem")
    opts = parser.parse_args(argv)
    chosen = [s for s in opts.sets.split(",") if s]
    unknown = [s for s in chosen if s not in SETS]
    if unknown:
        parser.error(f"--sets: unknown {', '.join(unknown)} (of {', '.join(SETS)})")
    try:
        corpus = find_corpus(REPO)
    except CorpusMissing as e:
        print(e, file=sys.stderr)
        return 1
    print(
        "| set | stories | topics | automatic | pieces | duplicates | place alignment | build s |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for name in chosen:
        row, topics = measure(name, corpus, opts.work / name)
        shown = "–" if row.alignment is None else f"{row.alignment:.3f}"
        print(
            f"| {row.name} | {row.stories:,} | {row.topics} | {row.automatic} | "
            f"{len(row.pieces)} | {len(row.duplicates)} | {shown} | {row.seconds:.1f} |",
            flush=True,
        )
        if opts.list:
            counted = sorted(topics.members.items(), key=lambda item: (-len(item[1]), item[0]))
            print(", ".join(f"{topics.titles[s]} ({len(m)})" for s, m in counted))
            print("pieces:", row.pieces)
            print("duplicates:", row.duplicates)
    return 0


if __name__ == "__main__":
    sys.exit(main())
