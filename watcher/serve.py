"""Serving `public/` read-only over HTTP to feed readers, on threads of its own.

Werkzeug does the HTTP: request parsing, its socketserver-based WSGI server (starts at
once, one small dependency, and `shutdown()` returns within a poll interval, unlike an
event loop in a thread) and the conditional-request rules (ETag, If-None-Match,
If-Modified-Since, 304, HEAD). This module only decides which file a URL names, reads
it once, and hands werkzeug the bytes with their ETag, date, type and encoding.
Connections are served by a bounded pool of worker threads; werkzeug closes each
connection after one response, so an idle reader never holds a worker.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
import os
import socket
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, get_sockaddr, select_address_family
from werkzeug.wrappers import Request, Response

from feeds.errors import SeedfeedError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

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
_INDEX: Final = "index.html"
_GZIP_CACHE_SIZE: Final = 64
_POLL_INTERVAL: Final = 0.1  # seconds; bounds how long stop() waits for the accept loop
_CLIENT_TIMEOUT: Final = 10.0  # seconds a slow client may hold a worker


@dataclass(frozen=True, slots=True, kw_only=True)
class _Snapshot:
    """One file as read through a single open descriptor."""

    body: bytes
    modified: datetime
    etag: str  # unquoted, identity encoding


def _is_public_name(name: str) -> bool:
    """A path segment that may be served: not empty, not hidden, no `..`, no separators."""
    return bool(name) and not name.startswith(".") and "\\" not in name and "\x00" not in name


def find_public_path(root: Path, url_path: str) -> Path | None:
    """The real path under `root` (already resolved) that `url_path` names, or None.

    `url_path` is the decoded path, so `%2e%2e` and `%2f` arrive here as `..` and `/`.
    A path ending in `/` names the folder's index.html. Any `..`, hidden or empty
    segment, and any symlink that lands outside `root`, gives None.
    """
    names = url_path.split("/")
    if names[0] != "":
        return None
    names = names[1:]
    if not names or names[-1] == "":
        names = [*names[:-1], _INDEX]
    if not all(_is_public_name(name) for name in names):
        return None
    real = Path(os.path.realpath(root.joinpath(*names)))
    if real != root and root not in real.parents:
        return None
    return real


def content_type_for(path: Path) -> str:
    """The Content-Type to send for a file in `public/`."""
    suffix = path.suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _is_compressible(path: Path) -> bool:
    return path.suffix.lower() in _TYPES


def read_snapshot(path: Path) -> _Snapshot | None:
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
        body=body,
        modified=datetime.fromtimestamp(st.st_mtime, tz=UTC),
        etag=hashlib.blake2b(body, digest_size=16).hexdigest(),
    )


class _GzipCache:
    """Gzipped bodies by identity ETag, so many pollers of one feed compress it once."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def compress(self, etag: str, body: bytes) -> bytes:
        with self._lock:
            cached = self._bodies.get(etag)
            if cached is not None:
                self._bodies.move_to_end(etag)
                return cached
        compressed = gzip.compress(body, mtime=0)
        with self._lock:
            self._bodies[etag] = compressed
            while len(self._bodies) > self._size:
                self._bodies.popitem(last=False)
        return compressed


class _PublicApp:
    """The WSGI application: GET and HEAD of files under one folder."""

    def __init__(self, public_dir: Path, *, max_age: int) -> None:
        self._root = Path(os.path.realpath(public_dir))
        self._max_age = max_age
        self._gzip = _GzipCache(_GZIP_CACHE_SIZE)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        return self.respond(request)(environ, start_response)

    def respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("method not allowed\n", status=405, headers={"Allow": "GET, HEAD"})
        path = find_public_path(self._root, request.path)
        if path is None:
            return _not_found()
        if path.is_dir():
            index = find_public_path(self._root, request.path + "/")
            if index is None or not index.is_file():
                return _not_found()  # a folder without index.html: no listing
            location = quote(request.path.rsplit("/", 1)[-1]) + "/"
            return Response(status=301, headers={"Location": location})
        snapshot = read_snapshot(path)
        if snapshot is None:
            return _not_found()
        _wait_for_the_clock(snapshot.modified)
        return self._file_response(request, path, snapshot)

    def _file_response(self, request: Request, path: Path, snapshot: _Snapshot) -> Response:
        body, etag = snapshot.body, snapshot.etag
        response = Response(content_type=content_type_for(path))
        if _is_compressible(path):
            response.vary.add("Accept-Encoding")
            if request.accept_encodings["gzip"] > 0:
                body = self._gzip.compress(etag, body)
                etag = f"{etag}-gzip"
                response.headers["Content-Encoding"] = "gzip"
        response.set_data(body)
        response.set_etag(etag)
        response.last_modified = snapshot.modified
        response.cache_control.max_age = self._max_age
        response.make_conditional(request)
        del response.headers["Date"]  # the server sends its own; Date must appear once
        return response


def _wait_for_the_clock(modified: datetime) -> None:
    """Hold a response until the clock reaches the file's modification time.

    seedfeed gives a rewritten file a later whole second than the version it replaces, so
    Last-Modified grows with every change (readers polling with If-Modified-Since compare
    whole seconds); that second may not have begun yet, and Last-Modified must never be
    later than the response's Date (RFC 9110 §8.8.2.1). The wait is under a second, and only
    for a file rewritten twice within one second.
    """
    ahead = modified.timestamp() - time.time()
    if ahead > 0:
        time.sleep(min(ahead, _MAX_CLOCK_WAIT))


_MAX_CLOCK_WAIT = 1.0


def _not_found() -> Response:
    return Response("not found\n", status=404, content_type="text/plain; charset=utf-8")


class _Handler(WSGIRequestHandler):
    """Werkzeug's request handler, logging to our logger and never printing."""

    timeout = _CLIENT_TIMEOUT

    def version_string(self) -> str:
        return "seedfeed"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug(
            "http request client=%s line=%r status=%s size=%s",
            self.address_string(),
            getattr(self, "requestline", ""),
            code,
            size,
        )

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("http problem client=%s detail=%s", self.address_string(), format % args)


class _PooledServer(BaseWSGIServer):
    """Werkzeug's WSGI server with a bounded pool of worker threads instead of one per request."""

    multithread = True

    def __init__(self, sock: socket.socket, app: _PublicApp, *, threads: int) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(host, port, app, handler=_Handler, fd=sock.fileno())
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="seedfeed-http")
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._open.add(request)
        self._pool.submit(self._serve_connection, request, client_address)

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self._lock:
                self._open.discard(request)
            self.shutdown_request(request)

    def close_connections(self) -> None:
        """Cut every open connection and wait for the workers to finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                log.debug("http connection already closed")
        self._pool.shutdown(wait=True)
        with self._lock:
            never_served = list(self._open)
            self._open.clear()
        for connection in never_served:
            connection.close()

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            log.error("http failed detail=%s", message % args if args else message)
        else:
            log.debug("http %s detail=%s", type, message % args if args else message)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.error("http connection failed client=%s", client_address, exc_info=True)


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket, or OSError (port in use, unknown host) for the caller to report."""
    family = select_address_family(host, port)
    address = get_sockaddr(host, port, family)
    return socket.create_server(address, family=family, backlog=128)


class ServeError(SeedfeedError):
    """The HTTP server cannot listen where it was asked to (port taken, unknown address)."""


class PublicServer:
    """An HTTP server for `public/`, started and stopped with the daemon."""

    def __init__(
        self,
        public_dir: Path,
        host: str,
        port: int,
        *,
        max_age: int = 60,
        threads: int = 32,
    ) -> None:
        app = _PublicApp(public_dir, max_age=max_age)
        try:
            sock = _bind(host, port)
        except OSError as e:
            raise ServeError(f"cannot serve on {host}:{port}: {e.strerror or e}") from e
        try:
            self._server = _PooledServer(sock, app, threads=threads)
        finally:
            sock.close()  # the server holds its own duplicate of the descriptor
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name="seedfeed-http",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.host, self._server.port
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def start(self) -> None:
        self._thread.start()
        log.info("serving url=%s", self.url)

    def stop(self) -> None:
        """Stop accepting, cut open connections, and return once every thread has ended."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.close_connections()
        self._server.server_close()
        log.debug("stopped serving url=%s", self.url)
