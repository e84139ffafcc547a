"""watcher.serve against a real server on 127.0.0.1 and real HTTP clients."""

from __future__ import annotations

import gzip
import http.client
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests.conftest import REPO, wait_until
from watcher.serve import PublicServer, ServeError, ServerProcess

MODIFIED = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)
SECRET = b"private notes that must never be served"

FILES = {
    "index.html": b"<!doctype html><title>seedfeed</title><p>topics</p>\n",
    "feeds/all.atom": b'<?xml version="1.0" encoding="utf-8"?>\n<feed>'
    + b"<entry/>" * 400
    + b"</feed>\n",
    "feeds/all.rss": b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"/>\n',
    "feeds/all.json": b'{"version": "https://jsonfeed.org/version/1.1", "items": []}\n',
    "feeds.opml": b'<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0"/>\n',
    "topics/index.html": b"<!doctype html><title>topics</title>\n",
    "topics/counterterrorism.html": b"<!doctype html><title>Counterterrorism</title>\n",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    status: int
    headers: Message
    body: bytes  # exactly the bytes the server sent after the header block


@pytest.fixture
def public(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    for rel_path, data in FILES.items():
        path = root / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (MODIFIED.timestamp(), MODIFIED.timestamp()))
    (root / "feeds" / ".all.atom.tmp").write_bytes(b"<feed>half a fee")
    (root / ".hidden.html").write_bytes(b"hidden")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.atom").write_bytes(SECRET)
    (root / "leak.atom").symlink_to(tmp_path / "secret.txt")
    (root / "outside").symlink_to(tmp_path / "private", target_is_directory=True)
    (root / "latest.atom").symlink_to(root / "feeds" / "all.atom")
    return root


@pytest.fixture
def server(public: Path) -> Iterator[PublicServer]:
    server = PublicServer(public, "127.0.0.1", 0)
    server.start()
    yield server
    server.stop()


def _port(server: PublicServer) -> int:
    port = urlsplit(server.url).port
    assert port is not None
    return port


def exchange(
    server: PublicServer, request_line: str, headers: dict[str, str] | None = None
) -> Reply:
    """Send one raw request and read the socket to its end, so every body byte is counted."""
    lines = [request_line, f"Host: 127.0.0.1:{_port(server)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    message = Message()
    for line in header_lines:
        name, _, value = line.partition(":")
        message[name.strip()] = value.strip()
    return Reply(status=int(status_line.split()[1]), headers=message, body=body)


def fetch(server: PublicServer, path: str, headers: dict[str, str] | None = None) -> Reply:
    """GET with http.client, as a feed reader would."""
    connection = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        message = Message()
        for name, value in response.getheaders():
            message[name] = value
        return Reply(status=response.status, headers=message, body=body)
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "rel_path", "content_type"),
    [
        ("/feeds/all.atom", "feeds/all.atom", "application/atom+xml; charset=utf-8"),
        ("/feeds/all.rss", "feeds/all.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/all.json", "feeds/all.json", "application/feed+json; charset=utf-8"),
        ("/feeds.opml", "feeds.opml", "text/x-opml; charset=utf-8"),
        (
            "/topics/counterterrorism.html",
            "topics/counterterrorism.html",
            "text/html; charset=utf-8",
        ),
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/topics/", "topics/index.html", "text/html; charset=utf-8"),
    ],
)
def test_each_file_is_served_with_its_type_and_cache_headers(
    server: PublicServer, path: str, rel_path: str, content_type: str
) -> None:
    reply = fetch(server, path)

    assert reply.status == 200
    assert reply.body == FILES[rel_path]
    assert reply.headers["Content-Type"] == content_type
    assert reply.headers["Content-Length"] == str(len(FILES[rel_path]))
    assert reply.headers["ETag"].startswith('"')
    assert parsedate_to_datetime(reply.headers["Last-Modified"]) == MODIFIED
    assert reply.headers["Cache-Control"] == "max-age=60"
    assert reply.headers["Vary"] == "Accept-Encoding"
    assert len(reply.headers.get_all("Date") or []) == 1


def test_cache_control_max_age_is_configurable(public: Path) -> None:
    server = PublicServer(public, "127.0.0.1", 0, max_age=300)
    server.start()
    try:
        assert fetch(server, "/feeds/all.atom").headers["Cache-Control"] == "max-age=300"
    finally:
        server.stop()


def test_a_symlink_inside_public_is_followed(server: PublicServer) -> None:
    reply = fetch(server, "/latest.atom")

    assert reply.status == 200
    assert reply.body == FILES["feeds/all.atom"]


def test_if_none_match_gives_304_with_no_body(server: PublicServer) -> None:
    etag = fetch(server, "/feeds/all.atom").headers["ETag"]

    reply = exchange(server, "GET /feeds/all.atom HTTP/1.1", {"If-None-Match": etag})
    weak = exchange(server, "GET /feeds/all.atom HTTP/1.1", {"If-None-Match": f"W/{etag}"})

    assert reply.status == 304
    assert reply.body == b""
    assert reply.headers["ETag"] == etag
    assert reply.headers["Cache-Control"] == "max-age=60"
    assert weak.status == 304
    assert weak.body == b""


def test_if_modified_since_gives_304_with_no_body(server: PublicServer) -> None:
    last_modified = fetch(server, "/feeds/all.atom").headers["Last-Modified"]
    earlier = format_datetime(MODIFIED - timedelta(hours=1), usegmt=True)

    unchanged = exchange(
        server, "GET /feeds/all.atom HTTP/1.1", {"If-Modified-Since": last_modified}
    )
    changed = exchange(server, "GET /feeds/all.atom HTTP/1.1", {"If-Modified-Since": earlier})

    assert unchanged.status == 304
    assert unchanged.body == b""
    assert changed.status == 200
    assert changed.body == FILES["feeds/all.atom"]


def test_a_replaced_feed_gets_a_new_etag_and_a_full_reply(
    server: PublicServer, public: Path
) -> None:
    old_etag = fetch(server, "/feeds/all.atom").headers["ETag"]
    new_bytes = FILES["feeds/all.atom"].replace(b"<entry/>", b"<entry></entry>", 1)
    (public / "feeds" / ".all.atom.tmp").write_bytes(new_bytes)
    os.replace(public / "feeds" / ".all.atom.tmp", public / "feeds" / "all.atom")

    reply = fetch(server, "/feeds/all.atom", {"If-None-Match": old_etag})

    assert reply.status == 200
    assert reply.body == new_bytes
    assert reply.headers["ETag"] != old_etag


def test_head_sends_the_headers_and_no_body(server: PublicServer) -> None:
    reply = exchange(server, "HEAD /feeds/all.atom HTTP/1.1")

    assert reply.status == 200
    assert reply.body == b""
    assert reply.headers["Content-Length"] == str(len(FILES["feeds/all.atom"]))
    assert reply.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert reply.headers["ETag"] == fetch(server, "/feeds/all.atom").headers["ETag"]
    assert parsedate_to_datetime(reply.headers["Last-Modified"]) == MODIFIED


def test_gzip_is_sent_when_asked_for_with_its_own_etag(server: PublicServer) -> None:
    plain = fetch(server, "/feeds/all.atom")

    zipped = fetch(server, "/feeds/all.atom", {"Accept-Encoding": "gzip"})
    again = exchange(
        server,
        "GET /feeds/all.atom HTTP/1.1",
        {"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]},
    )
    refused = fetch(server, "/feeds/all.atom", {"Accept-Encoding": "gzip;q=0"})

    assert zipped.status == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert len(zipped.body) < len(FILES["feeds/all.atom"])
    assert gzip.decompress(zipped.body) == FILES["feeds/all.atom"]
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert again.status == 304
    assert again.body == b""
    assert refused.headers["Content-Encoding"] is None
    assert refused.body == FILES["feeds/all.atom"]


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/feeds/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",
        "/feeds/..%2f..%2fsecret.txt",
        "/feeds%2f..%2f..%2fsecret.txt",
        "/%5c..%5csecret.txt",
        "{absolute}",
        "/{absolute_encoded}",
        "/leak.atom",
        "/outside/secret.atom",
        "/feeds/.all.atom.tmp",
        "/feeds/%2eall.atom.tmp",
        "/.hidden.html",
        "/feeds/all.atom%00.html",
    ],
)
def test_nothing_outside_public_or_hidden_is_reachable(
    server: PublicServer, public: Path, target: str
) -> None:
    secret = public.parent / "secret.txt"
    path = target.format(absolute="/" + str(secret), absolute_encoded=quote(str(secret), safe=""))

    reply = exchange(server, f"GET {path} HTTP/1.1")

    assert reply.status == 404
    assert SECRET not in reply.body
    assert b"half a fee" not in reply.body


def test_absolute_form_request_target_stays_inside_public(server: PublicServer) -> None:
    reply = exchange(server, f"GET http://127.0.0.1:{_port(server)}/../secret.txt HTTP/1.1")

    assert reply.status == 404
    assert SECRET not in reply.body


def test_a_folder_is_never_listed(server: PublicServer) -> None:
    with_slash = fetch(server, "/feeds/")
    without_slash = fetch(server, "/feeds")

    assert with_slash.status == 404
    assert without_slash.status == 404
    assert b"all.atom" not in with_slash.body + without_slash.body


def test_a_folder_with_an_index_redirects_to_its_slash_url(server: PublicServer) -> None:
    reply = fetch(server, "/topics")

    assert reply.status == 301
    assert reply.headers["Location"] == "topics/"


def test_other_methods_are_refused(server: PublicServer) -> None:
    reply = exchange(server, "POST /feeds/all.atom HTTP/1.1", {"Content-Length": "0"})

    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, HEAD"


def test_a_feed_replaced_while_read_is_served_whole_old_or_whole_new(
    server: PublicServer, public: Path
) -> None:
    versions = (
        b"<feed>" + b"<entry>old</entry>\n" * 20_000 + b"</feed>\n",
        b"<feed>" + b"<entry>brand new</entry>\n" * 15_000 + b"</feed>\n",
    )
    feed = public / "feeds" / "all.atom"
    tmp = public / "feeds" / ".all.atom.tmp"
    feed.write_bytes(versions[0])
    done = threading.Event()

    def poll(ask_gzip: bool) -> list[tuple[str, bytes]]:
        seen = []
        headers = {"Accept-Encoding": "gzip"} if ask_gzip else {}
        while not done.is_set():
            reply = fetch(server, "/feeds/all.atom", headers)
            assert reply.status == 200
            body = gzip.decompress(reply.body) if ask_gzip else reply.body
            seen.append((reply.headers["ETag"].removesuffix('-gzip"').strip('"'), body))
        return seen

    with ThreadPoolExecutor(max_workers=4) as clients:
        polls = [clients.submit(poll, ask_gzip) for ask_gzip in (False, True, False, True)]
        try:
            for i in range(200):
                tmp.write_bytes(versions[(i + 1) % 2])
                os.replace(tmp, feed)
        finally:
            done.set()
        seen = [pair for p in polls for pair in p.result()]

    assert seen
    assert all(body in versions for _, body in seen)
    bodies_by_etag: dict[str, set[bytes]] = {}
    for etag, body in seen:
        bodies_by_etag.setdefault(etag, set()).add(body)
    assert all(len(bodies) == 1 for bodies in bodies_by_etag.values())


def test_twenty_concurrent_clients_are_all_served_by_one_thread(public: Path) -> None:
    server = PublicServer(public, "127.0.0.1", 0)
    server.start()
    start = threading.Barrier(20)

    def client() -> Reply:
        start.wait(timeout=10)
        return fetch(server, "/feeds/all.atom")

    try:
        with ThreadPoolExecutor(max_workers=20) as clients:
            replies = list(clients.map(lambda _: client(), range(20)))
        workers = [t for t in threading.enumerate() if t.name.startswith("seedfeed-http")]
    finally:
        server.stop()

    assert [reply.status for reply in replies] == [200] * 20
    assert all(reply.body == FILES["feeds/all.atom"] for reply in replies)
    assert len(workers) == 1  # the event loop's


def test_stop_is_prompt_cuts_slow_clients_and_leaves_no_thread(public: Path) -> None:
    server = PublicServer(public, "127.0.0.1", 0)
    server.start()
    slow = socket.create_connection(("127.0.0.1", _port(server)), timeout=10)
    try:
        slow.sendall(b"GET /feeds/all.atom HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        # Connections are accepted in order: once a later one is answered, the slow one is open.
        assert fetch(server, "/feeds/all.atom").status == 200

        started = time.monotonic()
        server.stop()
        elapsed = time.monotonic() - started

        assert elapsed < 2
        assert not [t for t in threading.enumerate() if t.name.startswith("seedfeed-http")]
        assert slow.recv(1024) == b""
    finally:
        slow.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", _port(server)), timeout=2).close()


def test_stop_without_start_returns(public: Path) -> None:
    server = PublicServer(public, "127.0.0.1", 0)

    server.stop()


def test_a_port_in_use_raises_without_printing(
    public: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=f"cannot serve on 127.0.0.1:{port}"):
            PublicServer(public, "127.0.0.1", port)

    assert capfd.readouterr() == ("", "")


def test_requests_are_logged_at_debug_and_nothing_is_printed(
    server: PublicServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="watcher.serve")

    fetch(server, "/feeds/all.atom")
    fetch(server, "/missing.atom")

    requests = [r for r in caplog.records if r.getMessage().startswith("http request")]
    assert [r.levelno for r in requests] == [logging.DEBUG, logging.DEBUG]
    assert "status=200" in requests[0].getMessage()
    assert "status=404" in requests[1].getMessage()
    assert capfd.readouterr() == ("", "")


def test_url_names_the_bound_address(server: PublicServer) -> None:
    parts = urlsplit(server.url)

    assert parts.hostname == "127.0.0.1"
    assert parts.port == _port(server)
    assert fetch(server, "/").status == 200


def test_if_none_match_with_a_list_or_a_star_gives_304(server: PublicServer) -> None:
    etag = fetch(server, "/feeds/all.atom").headers["ETag"]

    listed = exchange(server, "GET /feeds/all.atom HTTP/1.1", {"If-None-Match": f'"other", {etag}'})
    star = exchange(server, "GET /feeds/all.atom HTTP/1.1", {"If-None-Match": "*"})
    others = exchange(server, "GET /feeds/all.atom HTTP/1.1", {"If-None-Match": '"a", "b"'})

    assert (listed.status, star.status, others.status) == (304, 304, 200)
    assert others.body == FILES["feeds/all.atom"]


def test_a_feed_replaced_with_the_same_size_and_time_is_served_new(
    server: PublicServer, public: Path
) -> None:
    feed = public / "feeds" / "all.atom"
    old = fetch(server, "/feeds/all.atom")
    new_bytes = FILES["feeds/all.atom"].replace(b"<entry/>", b"<entrY/>", 1)
    tmp = public / "feeds" / ".all.atom.tmp"
    tmp.write_bytes(new_bytes)
    os.utime(tmp, ns=(feed.stat().st_atime_ns, feed.stat().st_mtime_ns))
    os.replace(tmp, feed)

    reply = fetch(server, "/feeds/all.atom", {"If-None-Match": old.headers["ETag"]})

    assert reply.status == 200
    assert reply.body == new_bytes
    assert reply.headers["ETag"] != old.headers["ETag"]


def test_a_feed_replaced_with_the_same_bytes_keeps_its_etag(
    server: PublicServer, public: Path
) -> None:
    old = fetch(server, "/feeds/all.atom")
    tmp = public / "feeds" / ".all.atom.tmp"
    tmp.write_bytes(FILES["feeds/all.atom"])
    os.replace(tmp, public / "feeds" / "all.atom")

    reply = exchange(server, "GET /feeds/all.atom HTTP/1.1", {"If-None-Match": old.headers["ETag"]})

    assert reply.status == 304


def test_a_request_head_too_large_is_answered_431(server: PublicServer) -> None:
    reply = exchange(server, "GET /feeds/all.atom HTTP/1.1\r\nX-Long: " + "x" * 20_000)

    assert reply.status == 431


def _serving_child(public: Path) -> subprocess.Popen[str]:
    """A process that serves `public` through a ServerProcess, and says where on stdout."""
    code = (
        "import sys, time; from pathlib import Path; from watcher.serve import ServerProcess\n"
        "server = ServerProcess(Path(sys.argv[1]), '127.0.0.1', 0)\n"
        "server.start(); print(server.url, flush=True); time.sleep(600)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, str(public)], stdout=subprocess.PIPE, text=True, cwd=REPO
    )


def _refused(url: str) -> bool:
    try:
        socket.create_connection(("127.0.0.1", urlsplit(url).port or 0), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_a_server_process_serves_and_stops_with_its_parent(public: Path) -> None:
    server = ServerProcess(public, "127.0.0.1", 0)
    server.start()
    try:
        port = urlsplit(server.url).port
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/feeds/all.atom")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, FILES["feeds/all.atom"])
        connection.close()
    finally:
        server.stop()

    assert _refused(server.url)


def test_a_server_process_ends_when_its_parent_is_killed(public: Path) -> None:
    parent = _serving_child(public)
    try:
        assert parent.stdout is not None
        url = parent.stdout.readline().strip()
        wait_until(lambda: fetch_status(url) == 200, timeout=10)

        parent.kill()
        parent.wait(timeout=5)

        wait_until(lambda: _refused(url), timeout=10)
    finally:
        parent.kill()
        parent.wait()


def fetch_status(url: str) -> int | None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=5)
    try:
        connection.request("GET", "/feeds/all.atom")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def test_a_server_process_on_a_taken_port_raises_at_once(public: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=f"cannot serve on 127.0.0.1:{port}"):
            ServerProcess(public, "127.0.0.1", port)


def test_head_of_a_missing_file_sends_no_body(server: PublicServer) -> None:
    reply = exchange(server, "HEAD /missing.atom HTTP/1.1")

    assert reply.status == 404
    assert reply.body == b""
