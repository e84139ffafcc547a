"""Reading `seedfeed.toml` into a Config: every key, its type and its default."""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slugify import slugify

from feeds.errors import ConfigError
from feeds.model import Config, TopicRule
from feeds.urls import FEED_FORMATS

log = logging.getLogger(__name__)

CONFIG_NAME = "seedfeed.toml"

DEFAULT_BOILERPLATE: tuple[str, ...] = (
    "Short Url",
    "Follow",
    "Close Search Window",
    "Share",
    "Share this article",
    "Share on Facebook",
    "Share on Twitter",
    "Share on WhatsApp",
    "Advertisement",
    "Read more",
    "Read More",
    "Click here to*",
    "Subscribe*",
    "Sign up for*",
    "Print",
    "Email",
    "Comments",
    "Related",
    "Related Articles",
    "Most Read",
    "Skip to content",
    "Skip to main content",
    "Back to top",
    "*cookies*",
    "Accept all",
    "Press Releases|",
)

DEFAULT_IGNORE: tuple[str, ...] = (
    ".*",
    "*~",
    "*.swp",
    "*.swx",
    "*.tmp",
    "*.temp",
    "*.part",
    "*.partial",
    "*.crdownload",
    "*.download",
    "4913",
    "#*#",
)

DEFAULT_CONFIG = Config(boilerplate=DEFAULT_BOILERPLATE, ignore=DEFAULT_IGNORE)

# table -> key -> (Config field, converter)
_Convert = Callable[[object, str], object]


def _as_str(value: object, where: str) -> object:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string")
    return value


def _as_int(value: object, where: str) -> object:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{where} must be a whole number >= 0")
    return value


def _as_positive_int(value: object, where: str) -> object:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{where} must be a whole number >= 1")
    return value


def _as_min_examples(value: object, where: str) -> object:
    if not isinstance(value, int) or isinstance(value, bool) or value < 2:
        raise ConfigError(f"{where} must be a whole number >= 2")
    return value


def _as_seconds(value: object, where: str) -> object:
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{where} must be a number of seconds >= 0")
    return float(value)


def _as_share(value: object, where: str) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ConfigError(f"{where} must be a number from 0 to 1 (a share of the entries)")
    return float(value)


def _as_merges(value: object, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`{ "European Community" = ["EC", "Common Market"] }`: a title and the names that are it."""
    if not isinstance(value, dict):
        raise ConfigError(f'{where} must be a table: {{ "Title" = ["other name", ...] }}')
    return tuple(
        (str(title), _as_strings(names, f"{where}.{title}")) for title, names in value.items()
    )


def _as_bool(value: object, where: str) -> object:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false")
    return value


def _as_path(value: object, where: str) -> object:
    return Path(str(_as_str(value, where)))


def _as_strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _as_timezone(value: object, where: str) -> object:
    name = _as_str(value, where)
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(f"{where} names no known time zone: {name!r}") from e
    return name


def _as_base_url(value: object, where: str) -> object:
    url = str(_as_str(value, where))
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where} must be an http:// or https:// URL, or empty")
    return url if url.endswith("/") else url + "/"


# A BCP 47 language tag, loosely: a 2-3 letter language, then subtags (`en`, `pt-BR`, `zh-Hant`).
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def _as_language(value: object, where: str) -> object:
    tag = str(_as_str(value, where))
    if not _LANGUAGE_TAG.fullmatch(tag):
        raise ConfigError(f'{where} must be a language tag such as "en" or "pt-BR"')
    return tag


def _as_formats(value: object, where: str) -> object:
    formats = _as_strings(value, where)
    unknown = [f for f in formats if f not in FEED_FORMATS]
    if unknown or "atom" not in formats:
        raise ConfigError(f"{where} must list formats among {list(FEED_FORMATS)}, atom included")
    return tuple(f for f in FEED_FORMATS if f in formats)


def _as_hub_url(value: object, where: str) -> object:
    url = str(_as_str(value, where))
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where} must be an http:// or https:// URL, or empty")
    return url


_KEYS: Mapping[str, Mapping[str, tuple[str, _Convert]]] = {
    "site": {
        "title": ("site_title", _as_str),
        "base_url": ("base_url", _as_base_url),
        "id_authority": ("id_authority", _as_str),
        "author": ("author", _as_str),
        "language": ("language", _as_language),
    },
    "paths": {
        "seeds": ("seeds_dir", _as_path),
        "public": ("public_dir", _as_path),
        "state": ("state_dir", _as_path),
    },
    "serve": {
        "host": ("host", _as_str),
        "port": ("port", _as_int),
    },
    "schedule": {
        "publish_every": ("publish_every", _as_seconds),
        "reconcile_every": ("reconcile_every", _as_seconds),
        "settle": ("settle", _as_seconds),
        "settle_limit": ("settle_limit", _as_seconds),
    },
    "watch": {
        "polling": ("polling", _as_bool),
    },
    "feeds": {
        "max_entries": ("max_entries", _as_positive_int),
        "tombstone_days": ("tombstone_days", _as_int),
        "formats": ("formats", _as_formats),
        "hub_url": ("hub_url", _as_hub_url),
        "summary_length": ("summary_length", _as_positive_int),
        "timezone": ("timezone", _as_timezone),
        "title_case": ("title_case", _as_bool),
    },
    "pages": {
        "entries": ("entry_pages", _as_bool),
    },
    "ingest": {
        "max_file_bytes": ("max_file_bytes", _as_positive_int),
        "ignore": ("ignore", _as_strings),
        "boilerplate": ("boilerplate", _as_strings),
    },
    "auto_topics": {
        "enabled": ("auto_topics", _as_bool),
        "min_entries": ("auto_min_entries", _as_positive_int),
        "min_share": ("auto_min_share", _as_share),
        "max_auto_topics": ("max_auto_topics", _as_int),
        "never": ("auto_never", _as_strings),
        "merge": ("auto_merge", _as_merges),
    },
    "learn": {
        "enabled": ("learn", _as_bool),
        "min_examples": ("learn_min_examples", _as_min_examples),
        "exclude": ("learn_exclude", _as_strings),
    },
}

_TOPIC_KEYS = frozenset({"title", "match", "exclude", "min_hits"})


def find_config_file(explicit: Path | None, cwd: Path) -> Path | None:
    """The config file to read: the one given, else `seedfeed.toml` in `cwd` if present."""
    if explicit is not None:
        return explicit
    candidate = cwd / CONFIG_NAME
    return candidate if candidate.is_file() else None


def load_config(path: Path | None) -> Config:
    """Read `path` (or nothing: the defaults) into a Config; paths resolve against its folder."""
    if path is None:
        return DEFAULT_CONFIG
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: no such configuration file") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot be read: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    return parse_config(data, source=path)


def parse_config(data: Mapping[str, object], *, source: Path) -> Config:
    """Turn parsed TOML into a Config, naming the file and key of anything wrong."""
    changes: dict[str, object] = {"source": source}
    for table, value in data.items():
        if table == "topics":
            changes["taxonomy"] = _parse_taxonomy(value, source)
            continue
        keys = _KEYS.get(table)
        if keys is None:
            raise ConfigError(f"{source}: unknown table [{table}]")
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{table}] must be a table")
        for key, raw in value.items():
            if key not in keys:
                raise ConfigError(f"{source}: unknown key {table}.{key}")
            field, convert = keys[key]
            changes[field] = convert(raw, f"{source}: {table}.{key}")
    config = replace(DEFAULT_CONFIG, **changes)  # type: ignore[arg-type]
    base = source.parent
    return replace(
        config,
        seeds_dir=base / config.seeds_dir,
        public_dir=base / config.public_dir,
        state_dir=base / config.state_dir,
    )


def _parse_taxonomy(value: object, source: Path) -> tuple[TopicRule, ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [topics] must be a table of topics")
    rules: list[TopicRule] = []
    for name, spec in value.items():
        where = f"{source}: topics.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where} must be a table")
        unknown = set(spec) - _TOPIC_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]}")
        slug = slugify(name)
        if not slug or slug == "all" or slug.startswith("_"):
            raise ConfigError(f"{where}: the name must give a slug other than 'all'")
        phrases = _as_strings(spec.get("match", [name]), f"{where}.match")
        if not phrases:
            raise ConfigError(f"{where}.match must list at least one phrase")
        rules.append(
            TopicRule(
                slug=slug,
                title=str(_as_str(spec.get("title", name), f"{where}.title")),
                phrases=phrases,
                exclude=_as_strings(spec.get("exclude", []), f"{where}.exclude"),
                min_hits=int(str(_as_positive_int(spec.get("min_hits", 1), f"{where}.min_hits"))),
            )
        )
    return tuple(rules)
