"""The seedfeed command line: `run`, `build`, `status`, `inspect`, `topics`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from feeds.config import find_config_file, load_config
from feeds.errors import ConfigError, RejectedFile, SeedfeedError
from feeds.model import Config, Document, Entry, TopicSource
from feeds.workers import warm_reading_pool
from watcher.lock import hold_state_lock

if TYPE_CHECKING:
    from feeds.build import Progress
    from feeds.topics.learning import Learned

# The commands import the rest of seedfeed themselves, when they run: a first `build` starts
# its worker processes' forkserver before, so the two processes import seedfeed at once.

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run one seedfeed command; return its exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    try:
        config = _config(args)
        return int(args.command(args, config))
    except ConfigError as e:
        print(f"seedfeed: configuration error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except SeedfeedError as e:
        print(f"seedfeed: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedfeed", description="Turn a folder of news clippings into per-topic Atom feeds."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--config",
            type=Path,
            help="seedfeed.toml to read (default: ./seedfeed.toml if present)",
        )
        sub.add_argument("-v", "--verbose", action="store_true", help="log every event")
        sub.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
        return sub

    def paths(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--seeds", type=Path, help="the folder of clippings (default: seeds)")
        sub.add_argument("--public", type=Path, help="where feeds are written (default: public)")
        sub.add_argument("--state", type=Path, help="the catalogue's folder (default: .seedfeed)")

    run = command("run", "watch seeds/, keep public/ up to date and serve it")
    paths(run)
    run.add_argument("--host", help="address to serve on (default: 127.0.0.1)")
    run.add_argument("--port", type=int, help="port to serve on (default: 8080)")
    run.add_argument("--no-serve", dest="serve", action="store_false", help="do not serve public/")
    run.add_argument(
        "--polling", action="store_true", default=None, help="poll seeds/ instead of inotify"
    )
    run.set_defaults(command=_run)

    serve = command("serve", "serve a public/ folder built elsewhere, read-only")
    serve.add_argument("--public", type=Path, help="the folder to serve (default: public)")
    serve.add_argument("--host", help="address to serve on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to serve on (default: 8080)")
    # `seedfeed run` serves through `seedfeed serve` in a process of its own, on the socket it
    # bound, until the pipe on the child's standard input closes.
    serve.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    serve.set_defaults(command=_serve)

    build = command("build", "bring public/ up to date with seeds/ once, then exit")
    paths(build)
    build.set_defaults(command=_build)

    status = command("status", "show files, entries, topics and rejected files")
    paths(status)
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(command=_status)

    topics = command("topics", "list every topic and the automatic names held back, and why")
    paths(topics)
    topics.add_argument(
        "--check",
        action="store_true",
        help="per taught topic, the precision and recall cross-validation on its examples gives",
    )
    topics.add_argument("--json", action="store_true", help="print JSON")
    topics.set_defaults(command=_topics)

    inspect = command("inspect", "show how files would be normalized, changing nothing")
    inspect.add_argument("files", nargs="+", type=Path, metavar="FILE")
    inspect.add_argument("--seeds", type=Path, help="the folder of clippings (for folder topics)")
    inspect.add_argument(
        "--state", type=Path, help="the state folder --explain reads (default: .seedfeed)"
    )
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.add_argument(
        "--explain",
        nargs="?",
        const="topics",
        choices=("topics", "lines"),
        help="say which rule gave each topic, or (`--explain lines`) the role of each line",
    )
    inspect.set_defaults(command=_inspect)
    return parser


def _setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if not verbose:
        # A publish longer than `publish_every` makes APScheduler warn at every skipped tick;
        # the job simply runs again once the last one is done.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)


def _config(args: argparse.Namespace) -> Config:
    config = load_config(find_config_file(args.config, Path.cwd()))
    overrides: dict[str, object] = {}
    for option, field in (
        ("seeds", "seeds_dir"),
        ("public", "public_dir"),
        ("state", "state_dir"),
        ("host", "host"),
        ("port", "port"),
        ("polling", "polling"),
    ):
        value = getattr(args, option, None)
        if value is not None:
            overrides[field] = value
    return replace(config, **overrides)  # type: ignore[arg-type]


def _now() -> datetime:
    return datetime.now(UTC)


def _run(args: argparse.Namespace, config: Config) -> int:
    from watcher.daemon import Daemon

    daemon = Daemon(config, serve=args.serve, reload_config=lambda: _config(args))

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping signal=%s", signal.Signals(signum).name)
        daemon.stop()

    def reload(signum: int, frame: FrameType | None) -> None:
        log.info("reloading signal=%s", signal.Signals(signum).name)
        daemon.request_reload()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
    daemon.run()
    return EXIT_OK


def _serve(args: argparse.Namespace, config: Config) -> int:
    from watcher.serve import PublicServer, serve_for_parent

    stopped = threading.Event()
    if args.listen_fd is None:
        server = PublicServer(config.public_dir, config.host, config.port)
    else:
        server = serve_for_parent(config.public_dir, args.listen_fd, stopped)

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping signal=%s", signal.Signals(signum).name)
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.start()
    stopped.wait()
    server.stop()
    return EXIT_OK


def _build(args: argparse.Namespace, config: Config) -> int:
    started = time.perf_counter()
    workers = os.cpu_count() or 1
    if workers > 1 and not config.state_dir.exists():
        # A first build reads every file: its worker processes' forkserver starts now, and
        # imports seedfeed while this process does. A rebuild may read none (~0.05 s more
        # for a no-op of 100k files with it), and starts it once it has files to read.
        warm_reading_pool(places=config.auto_topics)
    from feeds.build import open_catalog, update

    with hold_state_lock(config.state_dir), _build_progress(args, config) as progress:
        catalog = open_catalog(config)
        try:
            update(catalog, config, now=_now(), workers=workers, progress=progress)
            counts = catalog.counts()
        finally:
            catalog.close()
    print(
        f"files={counts.files} entries={counts.entries} rejected={counts.rejected} "
        f"topics={counts.topics} seconds={time.perf_counter() - started:.2f}"
    )
    return EXIT_OK


@contextmanager
def _build_progress(args: argparse.Namespace, config: Config) -> Iterator[Progress | None]:
    """On a terminal (and without -v or -q), a progress bar of the files read instead of the
    info log lines (warnings still show, above the bar); elsewhere (systemd, CI) the log lines."""
    if args.verbose or args.quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from feeds.build import scan_seeds

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    total = sum(1 for _ in scan_seeds(config))
    bar = tqdm(total=total, desc="reading", unit=" files", file=sys.stderr, dynamic_ncols=True)

    def advance(seen: int, ingested: int, entries: int) -> None:
        bar.update(seen - bar.n)
        bar.set_postfix_str(f"read={ingested} entries={entries}", refresh=False)
        if bar.n >= total:
            bar.set_description("writing public/")

    try:
        with bar, logging_redirect_tqdm():
            yield advance
    finally:
        root.setLevel(level)


def _status(args: argparse.Namespace, config: Config) -> int:
    from feeds.build import open_catalog

    catalog = open_catalog(config)
    try:
        counts = catalog.counts()
        topics = list(catalog.topics())
        rejected = catalog.rejected_files()
    finally:
        catalog.close()
    if args.json:
        print(
            json.dumps(
                {
                    "files": counts.files,
                    "entries": counts.entries,
                    "unpublished": counts.unpublished,
                    "topics": [{"slug": t.slug, "title": t.title, "entries": n} for t, n in topics],
                    "rejected": [
                        {"file": r.rel_path.as_posix(), "reason": r.reason} for r in rejected
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    print(
        f"files: {counts.files}  entries: {counts.entries}  rejected: {counts.rejected}  "
        f"unpublished: {counts.unpublished}"
    )
    print(f"topics: {len(topics)}")
    if topics:
        # Columns as wide as their longest value: slugs of automatic topics can be long.
        slug_width = max(len(topic.slug) for topic, _ in topics)
        count_width = max(len("entries"), *(len(str(count)) for _, count in topics))
        print(f"  {'slug':<{slug_width}}  {'entries':>{count_width}}  title")
        for topic, count in topics:
            print(f"  {topic.slug:<{slug_width}}  {count:>{count_width}}  {topic.title}")
    if rejected:
        print("rejected files:")
        for record in rejected:
            print(f"  {record.rel_path.as_posix()}: {record.reason}")
    return EXIT_OK


def _topics(args: argparse.Namespace, config: Config) -> int:
    if args.check:
        return _check_topics(args, config)
    from feeds.catalog import Catalog

    catalog = Catalog.open_reader(config.state_dir, page_size=config.max_entries)
    try:
        report = catalog.topic_report(
            min_entries=config.auto_min_entries if config.auto_topics else 0,
            share=config.auto_min_share,
            cap=config.max_auto_topics,
        )
    finally:
        catalog.close()
    if args.json:
        print(
            json.dumps(
                {
                    "bar": {"new": report.bars.on, "keep": report.bars.off},
                    "max_auto_topics": report.cap,
                    "topics": [
                        {
                            "slug": t.slug,
                            "title": t.title,
                            "source": t.source,
                            "entries": t.entries,
                            "merged": [{"name": n, "why": why} for n, why in t.merged],
                        }
                        for t in report.topics
                    ],
                    "held_back": [
                        {"name": h.name, "entries": h.entries, "why": h.reason} for h in report.held
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    print(
        f"topics: {len(report.topics)}  (an automatic topic needs {report.bars.on} entries, "
        f"keeps its feed down to {report.bars.off}; at most {report.cap})"
    )
    for topic in report.topics:
        print(f"  {topic.slug:30} {topic.entries:6}  {topic.source:8}  {topic.title}")
        for name, why in topic.merged:
            print(f"  {'':30} {'':6}  {'':8}    + {name}: {why}")
    print(f"held back: {len(report.held)}")
    for held in report.held:
        print(f"  {held.entries:6}  {held.name}: {held.reason}")
    return EXIT_OK


def _inspect(args: argparse.Namespace, config: Config) -> int:
    from feeds.normalize import split_entries
    from feeds.teaching import model_in_force, with_learned_topics
    from feeds.topics import assign_topics
    from feeds.topics.automatic import add_auto_topics

    if args.explain == "lines":
        return _explain_lines(args, config)
    now = _now()
    results: list[tuple[Path, list[Entry] | str]] = []
    for file, document in _inspected_documents(args, config):
        if isinstance(document, str):
            results.append((file, document))
            continue
        try:
            entries = [
                assign_topics(entry, rel_path=document.rel_path, config=config)
                for entry in split_entries(document, config=config, now=now)
            ]
            results.append((file, entries))
        except RejectedFile as e:
            results.append((file, e.reason))
    every = add_auto_topics(
        [e for _, found in results if isinstance(found, list) for e in found], config=config
    )
    # The learned state in the state folder, read only.
    learned = model_in_force(config)
    tagged = iter([with_learned_topics(learned, entry) for entry in every])
    report: list[dict[str, object]] = []
    with _name_explainer(config) as explain_names:
        for file, found in results:
            if isinstance(found, str):
                report.append({"file": str(file), "rejected": found})
                continue
            shown = [
                _entry_json(
                    next(tagged),
                    now,
                    explain_names if args.explain == "topics" else None,
                    learned,
                )
                for _ in found
            ]
            report.append({"file": str(file), "entries": shown})
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_files(report, _print_entries)
    return EXIT_OK


def _inspected_documents(
    args: argparse.Namespace, config: Config
) -> Iterator[tuple[Path, Document | str]]:
    """Each file `inspect` was given, read as a Document, or the reason it cannot be."""
    from feeds.ingest import read_document

    seeds = (args.seeds or config.seeds_dir).resolve()
    for file in args.files:
        path = file.resolve()
        base, rel_path = (
            (seeds, path.relative_to(seeds))
            if path.is_relative_to(seeds)
            else (path.parent, Path(path.name))
        )
        try:
            yield file, read_document(base, rel_path, max_file_bytes=config.max_file_bytes)
        except RejectedFile as e:
            yield file, e.reason
        except OSError as e:
            yield file, f"cannot be read: {e.strerror}"


def _explain_lines(args: argparse.Namespace, config: Config) -> int:
    """Print each story's lines with the role the reader gave them."""
    from feeds.normalize import explain_lines

    report: list[dict[str, object]] = []
    for file, document in _inspected_documents(args, config):
        if isinstance(document, str):
            report.append({"file": str(file), "rejected": document})
            continue
        stories = explain_lines(document, config=config)
        report.append(
            {
                "file": str(file),
                "stories": [[{"role": r, "line": line} for r, line in s] for s in stories],
            }
        )
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_files(report, _print_lines)
    return EXIT_OK


def _print_lines(item: dict[str, object]) -> None:
    stories = item["stories"]
    assert isinstance(stories, list)
    for number, story in enumerate(stories, 1):
        print(f"-- story {number}")
        for row in story:
            print(f"   {row['role']:<10} | {row['line']}")


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@contextmanager
def _name_explainer(config: Config) -> Iterator[Callable[[Entry], list[str]]]:
    """What says why an entry's names are or are not automatic topics: the catalogue, if
    there is one (opened read-only); the names other topics hold in any case."""
    from feeds.catalog import CATALOG_NAME, Catalog

    def held(entry: Entry) -> list[str]:
        return [f'(held back) "{name}": {why}' for name, why in entry.held_names]

    if not (config.state_dir / CATALOG_NAME).is_file():
        yield held
        return
    # The catalogue says which names are automatic topics, not the files inspected together.
    catalog = Catalog.open_reader(config.state_dir, page_size=config.max_entries)
    try:
        yield lambda entry: [
            "(automatic topics as the catalogue has them)",
            *catalog.explain_names(
                entry.candidates,
                min_entries=config.auto_min_entries if config.auto_topics else 0,
                share=config.auto_min_share,
            ),
            *held(entry),
        ]
    finally:
        catalog.close()


def _entry_json(
    entry: Entry,
    now: datetime,
    explain: Callable[[Entry], list[str]] | None,
    learned: Learned | None = None,
) -> dict[str, object]:
    """An entry as `inspect` shows it; with `explain`, which rule gave each topic, why its
    names are or are not automatic topics, and the model that gave its learned topics."""
    shown: dict[str, object] = {
        "title": entry.title,
        "published": _rfc3339(entry.published or now),
        "updated": _rfc3339(now),
        "summary": entry.summary,
        "content": entry.content,
        "place": entry.place,
        "author": entry.author,
        "link": entry.link,
        "format": entry.format,
        "topics": [t.slug for t in entry.topics],
    }
    if explain is not None:
        from feeds.teaching import explain_learned
        from feeds.topics.automatic import explain_topics

        names = explain(entry)
        from_catalog = bool(names) and names[0].startswith("(automatic topics as")
        others = tuple(t for t in entry.topics if t.source is not TopicSource.LEARNED)
        shown["explain"] = [
            *(
                line
                for line in explain_topics(replace(entry, topics=others))
                if not (from_catalog and ": auto: " in line)
            ),
            *names[from_catalog:],
            *explain_learned(learned, entry),
        ]
    return shown


def _print_files(
    report: list[dict[str, object]], show: Callable[[dict[str, object]], None]
) -> None:
    """Each file's name, then its rejection or what `show` prints of it."""
    for item in report:
        print(f"== {item['file']}")
        if "rejected" in item:
            print(f"   rejected: {item['rejected']}")
        else:
            show(item)


def _print_entries(item: dict[str, object]) -> None:
    entries = item["entries"]
    assert isinstance(entries, list)
    for number, entry in enumerate(entries, 1):
        print(f"-- entry {number}: {entry['title']}")
        for key in ("published", "updated", "place", "author", "link", "format", "topics"):
            if entry.get(key):
                print(f"   {key}: {entry[key]}")
        print(f"   summary: {entry['summary']}")
        for line in entry.get("explain", []):
            print(f"   topic {line}")
        print(f"   content: {entry['content'][:300]}")


def _check_topics(args: argparse.Namespace, config: Config) -> int:
    """`seedfeed topics --check`: how well each taught topic is learned from its examples."""
    from feeds.catalog import Catalog
    from feeds.teaching import kept_out, model_for_check

    catalog = Catalog.open_reader(config.state_dir, page_size=config.max_entries)
    try:
        learned = model_for_check(catalog, config)
    finally:
        catalog.close()
    report = {
        "min_examples": config.learn_min_examples,
        "learning": config.learn,
        "learned": [
            {
                "slug": t.slug,
                "title": t.title,
                "examples": t.examples,
                "method": t.method,
                "precision": round(t.precision, 3),
                "recall": round(t.recall, 3),
            }
            for t in learned.topics
        ],
        "too_thin": [{"slug": slug, "examples": n} for slug, n in learned.thin],
        "excluded": list(kept_out(config)),
    }
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not config.learn:
        print("learning is off ([learn] enabled = false): these topics would be learned")
    print(f"taught topics learned: {len(learned.topics)} (cross-validated on their examples)")
    if learned.topics:
        print(f"  {'topic':30} {'examples':>8}  {'method':8} {'precision':>9} {'recall':>6}")
    for t in learned.topics:
        print(f"  {t.slug:30} {t.examples:8}  {t.method:8} {t.precision:9.2f} {t.recall:6.2f}")
    if learned.thin:
        print(f"too thin to learn (fewer than {config.learn_min_examples} examples):")
        for slug, n in learned.thin:
            print(f"  {slug:30} {n:8}")
    if report["excluded"]:
        print(f"kept from learning: {', '.join(kept_out(config))}")
    return EXIT_OK
