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
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from feeds.config import find_config_file, load_config
from feeds.errors import ConfigError, RejectedFile, SeedfeedError
from feeds.model import Config, Entry, TopicSource
from feeds.workers import warm_reading_pool
from watcher.lock import hold_state_lock

if TYPE_CHECKING:
    from feeds.learning import Learned

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
    serve.set_defaults(command=_serve)

    build = command("build", "bring public/ up to date with seeds/ once, then exit")
    paths(build)
    build.set_defaults(command=_build)

    status = command("status", "show files, entries, topics and rejected files")
    paths(status)
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(command=_status)

    inspect = command("inspect", "show how files would be normalized, changing nothing")
    inspect.add_argument("files", nargs="+", type=Path, metavar="FILE")
    inspect.add_argument("--seeds", type=Path, help="the folder of clippings (for folder topics)")
    inspect.add_argument(
        "--state", type=Path, help="the state folder, for learned topics (default: .seedfeed)"
    )
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.add_argument("--explain", action="store_true", help="say which rule gave each topic")
    inspect.set_defaults(command=_inspect)

    topics = command("topics", "report on the topics taught by example")
    topics.add_argument("--state", type=Path, help="the catalogue's folder (default: .seedfeed)")
    topics.add_argument(
        "--check",
        action="store_true",
        help="per taught topic, the precision and recall cross-validation on its examples gives",
    )
    topics.add_argument("--json", action="store_true", help="print JSON")
    topics.set_defaults(command=_topics)
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
    from watcher.serve import PublicServer

    server = PublicServer(config.public_dir, config.host, config.port)
    stopped = threading.Event()

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
        warm_reading_pool()
    from feeds.build import open_catalog, update

    with hold_state_lock(config.state_dir):
        catalog = open_catalog(config)
        try:
            update(catalog, config, now=_now(), workers=workers)
            counts = catalog.counts()
        finally:
            catalog.close()
    print(
        f"files={counts.files} entries={counts.entries} rejected={counts.rejected} "
        f"topics={counts.topics} seconds={time.perf_counter() - started:.2f}"
    )
    return EXIT_OK


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
    for topic, count in topics:
        print(f"  {topic.slug:30} {count:6}  {topic.title}")
    if rejected:
        print("rejected files:")
        for record in rejected:
            print(f"  {record.rel_path.as_posix()}: {record.reason}")
    return EXIT_OK


def _inspect(args: argparse.Namespace, config: Config) -> int:
    from feeds.ingest import read_document
    from feeds.normalize import split_entries
    from feeds.teaching import model_in_force, with_learned_topics
    from feeds.topics import add_auto_topics, assign_topics

    now = _now()
    seeds = (args.seeds or config.seeds_dir).resolve()
    results: list[tuple[Path, list[Entry] | str]] = []
    for file in args.files:
        path = file.resolve()
        base, rel_path = (
            (seeds, path.relative_to(seeds))
            if path.is_relative_to(seeds)
            else (path.parent, Path(path.name))
        )
        try:
            document = read_document(base, rel_path, max_file_bytes=config.max_file_bytes)
            entries = [
                assign_topics(entry, rel_path=rel_path, config=config)
                for entry in split_entries(document, config=config, now=now)
            ]
            results.append((file, entries))
        except RejectedFile as e:
            results.append((file, e.reason))
        except OSError as e:
            results.append((file, f"cannot be read: {e.strerror}"))
    every = add_auto_topics(
        [e for _, found in results if isinstance(found, list) for e in found], config=config
    )
    # The learned state in the state folder, read only.
    learned = model_in_force(config)
    tagged = iter([with_learned_topics(learned, entry) for entry in every])
    report: list[dict[str, object]] = []
    for file, found in results:
        if isinstance(found, str):
            report.append({"file": str(file), "rejected": found})
        else:
            report.append(
                {
                    "file": str(file),
                    "entries": [
                        _entry_json(next(tagged), now, learned if args.explain else None)
                        for _ in found
                    ],
                }
            )
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_inspection(report)
    return EXIT_OK


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _entry_json(entry: Entry, now: datetime, explain: Learned | None) -> dict[str, object]:
    """An entry as `inspect` shows it; with `explain`, the model that gave its learned topics
    (or LEARNING_OFF), which rule gave each topic too."""
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
        from feeds.topics import explain_topics

        others = tuple(t for t in entry.topics if t.source is not TopicSource.LEARNED)
        shown["explain"] = [
            *explain_topics(replace(entry, topics=others)),
            *explain_learned(explain, entry),
        ]
    return shown


def _print_inspection(report: list[dict[str, object]]) -> None:
    for item in report:
        print(f"== {item['file']}")
        if "rejected" in item:
            print(f"   rejected: {item['rejected']}")
            continue
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


def _topics(args: argparse.Namespace, config: Config) -> int:
    """`seedfeed topics --check`: how well each taught topic is learned from its examples."""
    if not args.check:
        print("seedfeed topics: say what to report: --check", file=sys.stderr)
        return EXIT_USAGE
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
