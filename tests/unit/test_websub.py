"""WebSub pings against a small hub of our own on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from watcher.websub import notify_hub


class _Hub(HTTPServer):
    def __init__(self, status: int) -> None:
        super().__init__(("127.0.0.1", 0), _HubHandler)
        self.status = status
        self.pings: list[dict[str, list[str]]] = []


class _HubHandler(BaseHTTPRequestHandler):
    server: _Hub

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        assert self.headers["Content-Type"] == "application/x-www-form-urlencoded"
        self.server.pings.append(urllib.parse.parse_qs(self.rfile.read(length).decode()))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=[204])
def hub(request: pytest.FixtureRequest) -> Iterator[_Hub]:
    server = _Hub(request.param)
    thread = threading.Thread(target=server.serve_forever, name="test-hub")
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _url(hub: _Hub) -> str:
    host, port = hub.server_address[:2]
    return f"http://{host!s}:{port}/"


def test_each_changed_feed_is_announced_to_the_hub(hub: _Hub) -> None:
    feeds = ["http://127.0.0.1:8080/feeds/all.atom", "http://127.0.0.1:8080/feeds/sco.atom"]
    assert notify_hub(_url(hub), feeds) == 2
    assert hub.pings == [{"hub.mode": ["publish"], "hub.url": [feed]} for feed in feeds]


@pytest.mark.parametrize("hub", [500], indirect=True)
def test_a_refusing_hub_costs_a_warning_not_the_publish(
    hub: _Hub, caplog: pytest.LogCaptureFixture
) -> None:
    assert notify_hub(_url(hub), ["http://127.0.0.1:8080/feeds/all.atom"]) == 0
    assert "hub refused" in caplog.text


def test_an_unreachable_hub_costs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert notify_hub(f"http://127.0.0.1:{port}/", ["http://127.0.0.1:8080/feeds/a.atom"]) == 0
    assert "hub unreachable" in caplog.text
