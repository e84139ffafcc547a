"""Serving `public/` read-only over HTTP to feed readers.

One asyncio event loop on one thread answers every connection: it reads the request head,
decides which file the URL names, and writes a whole response from memory. What a response
needs of a file (its bytes, ETag, Last-Modified, gzipped bytes) is kept by the file's
identity (device, inode, mtime in ns, size): seedfeed replaces a document with a new file
(os.replace), never in place, so an unchanged identity means unchanged bytes, and a reader
polling with If-None-Match costs one `stat` and no read. The connection is closed after
each response, so an idle reader holds nothing.

`seedfeed run` serves from a process of its own (`ServerProcess`): many readers then take
their share of the CPU, at a lower priority, but never the daemon's GIL, and ingesting and
publishing go on at their own pace whatever the readers do.
"""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import hashlib
import logging
import mimetypes
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import quote, unquote, urlsplit

from feeds.errors import SeedfeedError

log = logging.getLogger(__name__)

_TYPES: Final = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
_REASONS: Final = {
    200: "OK",
    301: "Moved Permanently",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}
_INDEX: Final = "index.html"
_CACHE_BYTES: Final = 64 * 1024 * 1024  # file bodies (plain and gzipped) kept in memory
_CLIENT_TIMEOUT: Final = 10.0  # seconds a client may take to send its request head
_MAX_HEAD: Final = 16 * 1024  # bytes of request line and headers
_BACKLOG: Final = 1024
_MAX_CLOCK_WAIT: Final = 1.0
_STOP_TIMEOUT: Final = 5.0  # seconds a server process gets to end before it is killed
# The server process runs this much nicer than the daemon: readers take the CPU that
# ingesting and publishing leave, never the other way round.
_SERVER_NICENESS: Final = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class _Snapshot:
    """One file as read through a single open descriptor, with what its responses need."""

    identity: tuple[int, int, int, int]  # st_dev, st_ino, st_mtime_ns, st_size
    body: bytes
    mtime: float
    last_modified: str  # the HTTP date
    etag: str  # unquoted, identity encoding


def _is_public_name(name: str) -> bool:
    """A path segment that may be served: not empty, not hidden, no `..`, no separators."""
    return bool(name) and not name.startswith(".") and "\\" not in name and "\x00" not in name


def find_public_path(root: str, url_path: str) -> str | None:
    """The real path under `root` (already resolved) that `url_path` names, or None.

    `url_path` is the decoded path, so `%2e%2e` and `%2f` arrive here as `..` and `/`.
    A path ending in `/` names the folder's index.html. Any `..`, hidden or empty
    segment, and any symlink that lands outside `root`, gives None. Paths are strings
    here, not `Path`s: this runs for every request, and pathlib's parsing took a third of
    the CPU of a 304.
    """
    names = url_path.split("/")
    if names[0] != "":
        return None
    names = names[1:]
    if not names or names[-1] == "":
        names = [*names[:-1], _INDEX]
    if not all(_is_public_name(name) for name in names):
        return None
    real = os.path.realpath(os.path.join(root, *names))
    if real != root and not real.startswith(root + os.sep):
        return None
    return real


def content_type_for(path: str) -> str:
    """The Content-Type to send for a file in `public/`."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "application/octet-stream"


def _is_compressible(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in _TYPES


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def read_snapshot(path: str) -> _Snapshot | None:
    """Read a regular file through one descriptor; None when it is missing or not a file.

    Everything served (bytes, date, ETag) comes from this one open file, so a feed
    replaced with os.replace meanwhile is served whole-old or whole-new, never mixed.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError:  # missing, a symlink swapped in, unreadable
        return None
    with open(fd, "rb", closefd=True) as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        body = f.read()
    return _Snapshot(
        identity=_identity(st),
        body=body,
        mtime=st.st_mtime,
        last_modified=email.utils.formatdate(st.st_mtime, usegmt=True),
        etag=hashlib.blake2b(body, digest_size=16).hexdigest(),
    )


class _FileCache:
    """Snapshots by real path and gzipped bodies by ETag, least recently used first out,
    within a budget of bytes. Used by the event loop's thread only."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._used = 0
        self._snapshots: OrderedDict[str, _Snapshot] = OrderedDict()
        self._gzipped: OrderedDict[str, bytes] = OrderedDict()

    def snapshot(self, path: str, st: os.stat_result) -> _Snapshot | None:
        """The file at `path` whose `stat` is `st`, read again only when its identity moved."""
        cached = self._snapshots.get(path)
        if cached is not None and cached.identity == _identity(st):
            self._snapshots.move_to_end(path)
            return cached
        if cached is not None:
            del self._snapshots[path]
            self._used -= len(cached.body)
        snapshot = read_snapshot(path)
        if snapshot is not None and len(snapshot.body) <= self._budget // 4:
            self._snapshots[path] = snapshot
            self._used += len(snapshot.body)
            self._trim()
        return snapshot

    def gzipped(self, snapshot: _Snapshot) -> bytes:
        cached = self._gzipped.get(snapshot.etag)
        if cached is not None:
            self._gzipped.move_to_end(snapshot.etag)
            return cached
        compressed = gzip.compress(snapshot.body, mtime=0)
        if len(compressed) <= self._budget // 4:
            self._gzipped[snapshot.etag] = compressed
            self._used += len(compressed)
            self._trim()
        return compressed

    def _trim(self) -> None:
        while self._used > self._budget:
            older = self._snapshots if len(self._snapshots) >= len(self._gzipped) else self._gzipped
            _, dropped = older.popitem(last=False)
            self._used -= len(dropped.body if isinstance(dropped, _Snapshot) else dropped)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Request:
    method: str
    target: str
    headers: dict[str, str]  # lower-case names; repeated fields joined with ", "


@dataclass(frozen=True, slots=True, kw_only=True)
class _Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    not_before: float = 0.0  # a time.time() the response is held until


def _parse_head(head: bytes) -> _Request | None:
    """The request line and headers, or None when they are not HTTP/1.x."""
    lines = head.decode("latin-1").split("\n")
    parts = lines[0].rstrip("\r").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.rstrip("\r").partition(":")
        if not colon or not name or name != name.strip():
            return None
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return _Request(method=parts[0], target=parts[1], headers=headers)


def _url_path(target: str) -> str | None:
    """The decoded path of an origin-form or absolute-form request target."""
    if target.startswith("/"):
        raw = target.partition("?")[0].partition("#")[0]
    elif target[:7].lower() == "http://" or target[:8].lower() == "https://":
        raw = urlsplit(target).path or "/"
    else:
        return None
    return unquote(raw, errors="replace")


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match's weak comparison of `etag` (quoted) with each tag listed."""
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def _not_modified_since(header: str, mtime: float) -> bool:
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and int(mtime) <= since.timestamp()


def _accepts_gzip(header: str) -> bool:
    """Whether Accept-Encoding gives gzip (or `*`, without naming gzip) a quality above 0."""
    named: float | None = None
    anything: float | None = None
    for item in header.split(","):
        coding, *params = item.split(";")
        quality = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            named = quality
        elif coding == "*":
            anything = quality
    chosen = named if named is not None else anything
    return chosen is not None and chosen > 0


def _plain(status: int, text: str, *extra: tuple[str, str]) -> _Reply:
    return _Reply(
        status=status,
        headers=(("Content-Type", "text/plain; charset=utf-8"), *extra),
        body=text.encode(),
    )


class _Site:
    """What answers requests: GET and HEAD of files under one folder."""

    def __init__(self, public_dir: Path, *, max_age: int) -> None:
        self._root = os.path.realpath(public_dir)
        self._cache_control = f"max-age={max_age}"
        self._files = _FileCache(_CACHE_BYTES)

    def answer(self, request: _Request) -> _Reply:
        if request.method not in ("GET", "HEAD"):
            return _plain(405, "method not allowed\n", ("Allow", "GET, HEAD"))
        url_path = _url_path(request.target)
        if url_path is None:
            return _plain(400, "bad request\n")
        path = find_public_path(self._root, url_path)
        if path is None:
            return _not_found()
        try:
            st = os.stat(path)
        except OSError:
            return _not_found()
        if stat.S_ISDIR(st.st_mode):
            index = find_public_path(self._root, url_path + "/")
            if index is None or not os.path.isfile(index):
                return _not_found()  # a folder without index.html: no listing
            location = quote(url_path.rsplit("/", 1)[-1]) + "/"
            return _Reply(status=301, headers=(("Location", location),))
        snapshot = self._files.snapshot(path, st) if stat.S_ISREG(st.st_mode) else None
        if snapshot is None:
            return _not_found()
        return self._file_reply(request, path, snapshot)

    def _file_reply(self, request: _Request, path: str, snapshot: _Snapshot) -> _Reply:
        headers = [("Content-Type", content_type_for(path))]
        body, etag = snapshot.body, snapshot.etag
        if _is_compressible(path):
            headers.append(("Vary", "Accept-Encoding"))
            if _accepts_gzip(request.headers.get("accept-encoding", "")):
                body = self._files.gzipped(snapshot)
                etag = f"{etag}-gzip"
                headers.append(("Content-Encoding", "gzip"))
        quoted = f'"{etag}"'
        headers += [
            ("ETag", quoted),
            ("Last-Modified", snapshot.last_modified),
            ("Cache-Control", self._cache_control),
        ]
        if_none_match = request.headers.get("if-none-match")
        if_modified_since = request.headers.get("if-modified-since")
        if if_none_match is not None:
            unchanged = _etag_matches(if_none_match, quoted)
        else:
            unchanged = if_modified_since is not None and _not_modified_since(
                if_modified_since, snapshot.mtime
            )
        if unchanged:
            return _Reply(status=304, headers=tuple(headers), not_before=snapshot.mtime)
        return _Reply(
            status=200,
            headers=tuple(headers),
            body=body,
            not_before=snapshot.mtime,
        )


def _not_found() -> _Reply:
    return _plain(404, "not found\n")


class _HttpDate:
    """The Date header's value, formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._text = email.utils.formatdate(second, usegmt=True)
        return self._text


def _encode(reply: _Reply, date: str, *, with_body: bool) -> bytes:
    """The response's bytes; without its body for HEAD (Content-Length still that of GET)."""
    lines = [
        f"HTTP/1.1 {reply.status} {_REASONS[reply.status]}",
        "Server: seedfeed",
        f"Date: {date}",
    ]
    lines += [f"{name}: {value}" for name, value in reply.headers]
    if reply.status != 304:
        lines.append(f"Content-Length: {len(reply.body)}")
    lines += ["Connection: close", "", ""]
    head = "\r\n".join(lines).encode("latin-1")
    return head + reply.body if with_body and reply.status != 304 else head


class _Connection(asyncio.Protocol):
    """One client: read its request head, write one response, close."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._answered = False
        self._timer: asyncio.TimerHandle | None = None
        self._client = "-"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._client = str(peer[0]) if peer else "-"
        self._server.connections.add(self)
        self._timer = self._server.loop.call_later(_CLIENT_TIMEOUT, self._time_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        if self._timer is not None:
            self._timer.cancel()

    def data_received(self, data: bytes) -> None:
        if self._answered:
            return  # a body, or a second request: the connection closes after one response
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            end = self._buffer.find(b"\n\n")
        if end < 0 and len(self._buffer) <= _MAX_HEAD:
            return
        if end < 0 or end > _MAX_HEAD:
            self._send(_plain(431, "request head too large\n"), "-")
            return
        head = bytes(self._buffer[:end])
        request = _parse_head(head)
        line = head.partition(b"\n")[0].decode("latin-1").rstrip("\r")
        if request is None:
            self._send(_plain(400, "bad request\n"), line)
            return
        try:
            reply = self._server.site.answer(request)
        except Exception:  # one request's bug must not end the server
            log.error("http request failed client=%s line=%r", self._client, line, exc_info=True)
            reply = _plain(500, "internal server error\n")
        self._send(reply, line, with_body=request.method != "HEAD")

    def eof_received(self) -> bool:
        return self._answered  # keep the connection to write a held reply; else close it

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _time_out(self) -> None:
        if not self._answered:
            self._send(_plain(408, "request timeout\n"), "-")

    def _send(self, reply: _Reply, line: str, *, with_body: bool = True) -> None:
        self._answered = True
        if self._timer is not None:
            self._timer.cancel()
        log.debug(
            "http request client=%s line=%r status=%s size=%s",
            self._client,
            line,
            reply.status,
            len(reply.body),
        )
        # Last-Modified must not be later than Date (RFC 9110 §8.8.2.1), and seedfeed gives a
        # rewritten file a later whole second than the version it replaces, which may not have
        # begun yet: such a response waits for it (under a second, for a file rewritten twice
        # within one second).
        ahead = reply.not_before - time.time()
        if ahead > 0:
            delay = min(ahead, _MAX_CLOCK_WAIT)
            self._server.loop.call_later(delay, self._write, reply, with_body)
        else:
            self._write(reply, with_body)

    def _write(self, reply: _Reply, with_body: bool) -> None:
        assert self._transport is not None
        if self._transport.is_closing():
            return
        self._transport.write(_encode(reply, self._server.date.now(), with_body=with_body))
        self._transport.close()


@dataclass(slots=True, kw_only=True)
class _Server:
    """What every connection of one server shares."""

    site: _Site
    loop: asyncio.AbstractEventLoop
    date: _HttpDate
    connections: set[_Connection]


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket, or ServeError (port in use, unknown host)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, address = infos[0]
        return socket.create_server(address, family=family, backlog=_BACKLOG)
    except OSError as e:
        raise ServeError(f"cannot serve on {host}:{port}: {e.strerror or e}") from e


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


class ServeError(SeedfeedError):
    """The HTTP server cannot listen where it was asked to (port taken, unknown address)."""


class PublicServer:
    """An HTTP server for `public/` on an event loop in a thread of this process."""

    def __init__(
        self,
        public_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_age: int = 60,
        sock: socket.socket | None = None,
    ) -> None:
        """Listen on `host`:`port`, or on `sock`, a listening socket handed over."""
        self._site = _Site(public_dir, max_age=max_age)
        self._socket = sock if sock is not None else _bind(host, port)
        self._socket.setblocking(False)
        self.url = _url(self._socket)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="seedfeed-http", daemon=True)
        self._shared = _Server(
            site=self._site, loop=self._loop, date=_HttpDate(), connections=set()
        )

    def start(self) -> None:
        """Accept connections (from now on, in a thread of its own)."""
        shared = self._shared
        self._listener = self._loop.run_until_complete(
            self._loop.create_server(
                lambda: _Connection(shared), sock=self._socket, backlog=_BACKLOG
            )
        )
        self._thread.start()
        log.info("serving url=%s", self.url)

    def stop(self) -> None:
        """Stop accepting, cut open connections, and return once the thread has ended."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        else:
            self._socket.close()
            self._loop.close()
        log.debug("stopped serving url=%s", self.url)

    def _serve(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            self._listener.close()
            for connection in list(self._shared.connections):
                connection.abort()
            loop.run_until_complete(self._listener.wait_closed())
            loop.run_until_complete(asyncio.sleep(0))  # let the aborted transports finish
            loop.close()


class ServerProcess:
    """`seedfeed serve` in a process of its own, on a socket this process binds.

    Binding here reports a taken port at once, as a ServeError; the listening socket then
    passes to the child, which serves until its standard input closes: when `stop` closes
    it, or when this process ends in any way, even by kill -9. This process keeps the socket
    too, so a child that ended (it crashed, or was killed) is replaced on the same port by
    `keep_serving`, readers' connections waiting in the socket's queue meanwhile.
    """

    def __init__(self, public_dir: Path, host: str, port: int) -> None:
        self._public_dir = public_dir
        self._socket = _bind(host, port)
        self.url = _url(self._socket)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        fd = self._socket.fileno()
        level = logging.getLogger().getEffectiveLevel()
        verbosity = ["-v"] if level <= logging.DEBUG else ["-q"] if level >= logging.WARNING else []
        # Everything the child needs is on its command line: no configuration file to read.
        command = [sys.executable, "-m", "watcher", "serve", "--config", os.devnull, *verbosity]
        command += ["--public", str(self._public_dir.absolute()), "--listen-fd", str(fd)]
        self._process = subprocess.Popen(
            command, executable=_interpreter(), stdin=subprocess.PIPE, pass_fds=(fd,)
        )
        log.debug("server process started url=%s pid=%s", self.url, self._process.pid)

    def keep_serving(self) -> bool:
        """Start the server process again if it ended (the daemon calls this every second);
        True if it did."""
        process = self._process
        if process is None or process.poll() is None:
            return False
        assert process.stdin is not None
        process.stdin.close()
        log.warning(
            "server process ended pid=%s code=%s; starting it again url=%s",
            process.pid,
            process.returncode,
            self.url,
        )
        self.start()
        return True

    def stop(self) -> None:
        """Tell the server process to end, and wait for it (killing it if it hangs)."""
        process = self._process
        self._socket.close()  # the port is free once the child ends
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.warning("server process did not end pid=%s; killing it", process.pid)
            process.kill()
            process.wait()
        log.debug("stopped serving url=%s code=%s", self.url, process.returncode)


def _interpreter() -> str:
    """The file of the interpreter running now. On Linux its /proc link, which reaches it
    even when the user seedfeed runs as may not enter the folders on its path (a venv whose
    python links into another user's home); the command's first word, `sys.executable`,
    still tells Python which venv it runs in."""
    return _SELF if os.path.exists(_SELF) else sys.executable


_SELF = "/proc/self/exe"


def serve_for_parent(public_dir: Path, fd: int, stopped: threading.Event) -> PublicServer:
    """In `ServerProcess`'s child: a server on the inherited listening socket `fd`, at a
    lower priority than the daemon, and `stopped` set once standard input closes."""
    os.nice(_SERVER_NICENESS)

    def watch() -> None:
        while sys.stdin.buffer.read(4096):
            pass  # nothing is sent: the end of input is the signal
        stopped.set()

    threading.Thread(target=watch, name="seedfeed-parent-watch", daemon=True).start()
    return PublicServer(public_dir, sock=socket.socket(fileno=fd))
