"""feeds.urls: the site's URL, from `base_url` or from the address served."""

from __future__ import annotations

from dataclasses import replace

import pytest

from feeds.config import DEFAULT_CONFIG
from feeds.urls import feed_url, served_url, site_url, topic_page_url


def test_without_base_url_links_follow_the_address_served() -> None:
    config = replace(DEFAULT_CONFIG, port=9090)
    assert site_url(config) == "http://127.0.0.1:9090/"
    assert feed_url("all", config=config) == "http://127.0.0.1:9090/feeds/all.atom"
    assert topic_page_url("all", config=config) == "http://127.0.0.1:9090/"
    moved = replace(config, host="news.lan", port=80)
    assert feed_url("sco", config=moved, fmt="rss") == "http://news.lan:80/feeds/sco.rss"


def test_a_base_url_that_is_set_wins_over_the_address_served() -> None:
    config = replace(DEFAULT_CONFIG, base_url="https://news.example.org/", port=9090)
    assert site_url(config) == "https://news.example.org/"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080/"),
        ("::1", "http://[::1]:8080/"),
        ("0.0.0.0", "http://localhost:8080/"),
        ("::", "http://localhost:8080/"),
        ("", "http://localhost:8080/"),
    ],
)
def test_served_url_names_a_host_a_reader_can_reach(host: str, url: str) -> None:
    assert served_url(host, 8080) == url
