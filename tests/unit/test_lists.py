"""feeds.lists: index.html and feeds.opml streamed from a snapshot of the catalogue."""

from __future__ import annotations

import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.catalog import Catalog
from feeds.lists import lists_pending, lists_written, mark_lists_pending, take_lists, write_lists
from feeds.model import Config

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MANY = 10_000


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(tmp_path / "state", id_authority="example.org", auto_min_entries=2)
    yield opened
    opened.close()


def _config(tmp_path: Path, public: str = "public") -> Config:
    return Config(
        site_title="Clippings",
        base_url="https://news.example.org/",
        id_authority="news.example.org",
        public_dir=tmp_path / public,
        state_dir=tmp_path / "state",
    )


def _add_topics(catalog: Catalog, count: int) -> None:
    with catalog.transaction():
        for n in range(count):
            catalog.topic(f"topic-{n:05d}", title=f"Topic {n:05d} & <more>", now=T0)


def test_a_reader_writes_the_same_lists_as_the_writer(catalog: Catalog, tmp_path: Path) -> None:
    _add_topics(catalog, 30)
    mark_lists_pending(catalog)
    lists = take_lists(catalog, _config(tmp_path), now=T0)
    written = write_lists(catalog, lists, _config(tmp_path))
    assert [path.name for path, _ in written] == ["index.html", "feeds.opml"]
    reader = Catalog.open_reader(catalog.path.parent, page_size=catalog.page_size)
    try:
        assert write_lists(reader, lists, _config(tmp_path, "other"))
    finally:
        reader.close()
    for name in ("index.html", "feeds.opml"):
        assert (tmp_path / "public" / name).read_bytes() == (tmp_path / "other" / name).read_bytes()
    outlines = ET.parse(tmp_path / "public" / "feeds.opml").getroot().findall("body/outline")
    assert [o.get("title") for o in outlines][:2] == ["Clippings", "Topic 00000 & <more>"]
    assert len(outlines) == 31
    # Written again from the same catalogue: same bytes, nothing replaced.
    assert write_lists(catalog, lists, _config(tmp_path)) == []
    assert lists_pending(catalog)
    lists_written(catalog, lists)
    assert not lists_pending(catalog)


def test_the_lists_of_many_topics_are_streamed_not_held(catalog: Catalog, tmp_path: Path) -> None:
    _add_topics(catalog, MANY)
    config = _config(tmp_path)
    lists = take_lists(catalog, config, now=T0)
    tracemalloc.start()
    try:
        write_lists(catalog, lists, config)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = sum((config.public_dir / name).stat().st_size for name in ("index.html", "feeds.opml"))
    assert size > 8_000_000  # ~800 bytes per topic across the two documents
    # Held whole, the documents and their parts took several times their size.
    assert peak < size / 10, f"peak {peak} bytes of Python memory for {size} bytes written"


def test_the_writer_gives_way_between_chunks(catalog: Catalog, tmp_path: Path) -> None:
    _add_topics(catalog, 2_000)
    config = _config(tmp_path)
    calls: list[int] = []

    def give_way() -> None:
        index = config.public_dir / ".index.html.tmp"
        calls.append(index.stat().st_size if index.exists() else 0)

    write_lists(catalog, take_lists(catalog, config, now=T0), config, give_way=give_way)
    # The daemon waits there for drops being stored: often enough that none waits long.
    index_size = (config.public_dir / "index.html").stat().st_size
    assert len(calls) > index_size // 200_000
    assert len(set(calls)) > 2, "not called while the index grows"
