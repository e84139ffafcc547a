"""End to end in a real browser: headless Chromium loads the front page, a topic page and an
entry page from the running `seedfeed run`.

Each page must advertise its feeds in `<head>` (Atom, RSS and JSON Feed autodiscovery links),
need no JavaScript, and every link on it must resolve on the server. Screenshots go to
`test-output/browser/` for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import html

from tests.conftest import REPO, wait_until
from tests.e2e.daemon import DaemonProcess, publish_idle, served_site

pytestmark = pytest.mark.e2e

SCREENSHOTS = REPO / "test-output" / "browser"
WINDOW = (1200, 900)
FEED_TYPES = {
    "application/atom+xml": "application/atom+xml; charset=utf-8",
    "application/rss+xml": "application/rss+xml; charset=utf-8",
    "application/feed+json": "application/feed+json; charset=utf-8",
}
# Headless, no sandbox (root in CI), and none of Chromium's own traffic to the outside.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--mute-audio",
)


def chromium_program() -> str:
    found = shutil.which("chromium")
    if found is not None:
        return found
    if os.geteuid() != 0:
        pytest.skip("chromium is not installed (apt-get install chromium; `make system-deps`)")
    pytest.fail("chromium is not installed: run `make system-deps` (apt-get install chromium)")


class Chromium:
    """One headless Chromium profile in a temp folder, run once per page."""

    def __init__(self, profile: Path) -> None:
        self._program = chromium_program()
        self._profile = profile

    def _run(self, *args: str) -> str:
        result = subprocess.run(
            [self._program, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}", *args],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert result.returncode == 0, f"chromium {args}: {result.returncode}\n{result.stderr}"
        return result.stdout

    def dump_dom(self, url: str) -> str:
        """The DOM after Chromium loaded and rendered `url`, serialized."""
        return self._run("--dump-dom", url)

    def screenshot(self, url: str, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._run(f"--screenshot={path}", f"--window-size={WINDOW[0]},{WINDOW[1]}", url)
        assert path.is_file(), f"chromium wrote no screenshot of {url}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    url: str
    dom: html.HtmlElement

    def hrefs(self) -> list[str]:
        """Every href on the page (links in <head> and <body>), made absolute."""
        return [urljoin(self.url, str(e.get("href"))) for e in self.dom.iter() if e.get("href")]

    def feeds_advertised(self) -> dict[str, list[str]]:
        """The autodiscovery links in <head>: media type -> absolute URLs."""
        found: dict[str, list[str]] = {}
        for link in self.dom.head.iter("link"):
            if link.get("rel") == "alternate" and link.get("type") in FEED_TYPES:
                found.setdefault(str(link.get("type")), []).append(
                    urljoin(self.url, str(link.get("href")))
                )
        return found


def get(url: str) -> tuple[int, str]:
    """Status and Content-Type of GET `url` (a 404 is a status, not an error)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
            return int(response.status), str(response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as e:
        return e.code, ""


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[DaemonProcess]:
    with served_site(tmp_path / "site") as daemon:
        wait_until(lambda: publish_idle(daemon.site), timeout=10)
        yield daemon


def test_pages_advertise_their_feeds_and_every_link_resolves(
    served: DaemonProcess, tmp_path: Path
) -> None:
    daemon = served
    origin = f"http://127.0.0.1:{daemon.port}/"
    browser = Chromium(tmp_path / "chromium-profile")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    front = Page(url=origin, dom=html.fromstring(browser.dump_dom(origin)))
    topic_url = origin + "topics/pakistan.html"
    assert topic_url in front.hrefs(), "the front page does not link the Pakistan topic"
    topic = Page(url=topic_url, dom=html.fromstring(browser.dump_dom(topic_url)))
    entry_urls = [h for h in topic.hrefs() if h.startswith(origin + "entries/")]
    assert len(entry_urls) == 3, f"the topic page lists {entry_urls}"
    entry = Page(url=entry_urls[0], dom=html.fromstring(browser.dump_dom(entry_urls[0])))

    expected_feeds = {
        "front": (front, ["all", "counterterrorism", "pakistan", "sco"]),
        "topic": (topic, ["pakistan"]),
        "entry": (entry, ["all", "pakistan"]),
    }
    checked: set[str] = set()
    for name, (page, slugs) in expected_feeds.items():
        assert page.dom.find(".//h1") is not None and page.dom.findtext(".//h1"), name
        assert not page.dom.findall(".//script"), f"the {name} page needs JavaScript"
        advertised = page.feeds_advertised()
        assert set(advertised) == set(FEED_TYPES), f"{name} advertises {advertised}"
        for media_type, suffix in (
            ("application/atom+xml", "atom"),
            ("application/rss+xml", "rss"),
            ("application/feed+json", "json"),
        ):
            for slug in slugs:
                assert f"{origin}feeds/{slug}.{suffix}" in advertised[media_type], (
                    f"the {name} page does not advertise {slug}.{suffix}: {advertised}"
                )
            for url in advertised[media_type]:
                assert get(url) == (200, FEED_TYPES[media_type]), f"{name}: {url}"
        # Every link resolves: same-origin ones are fetched, others must be absolute web URLs.
        for href in page.hrefs():
            if href.startswith(origin):
                if href not in checked:
                    status, _ = get(href)
                    assert status == 200, f"the {name} page links {href}: HTTP {status}"
                    checked.add(href)
            else:
                assert urlsplit(href).scheme in ("http", "https"), f"{name}: {href}"

    for name, url in (("front", front.url), ("topic", topic.url), ("entry", entry.url)):
        shot = SCREENSHOTS / f"{name}.png"
        browser.screenshot(url, shot)
        assert png_size(shot) == WINDOW
        assert shot.stat().st_size > 10_000, f"{shot} looks blank"
    assert len(checked) >= 20, f"only {len(checked)} links checked"
