"""Serving `public/` read-only over HTTP, on a thread of its own."""

from __future__ import annotations

import logging
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from os import PathLike
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


class _PublicHandler(SimpleHTTPRequestHandler):
    """Files under `public/` only: no listings, no hidden files, nothing outside it."""


    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.extensions_map = {**self.extensions_map, **_TYPES}
        super().__init__(*args, **kwargs)

    def list_directory(self, path: str | PathLike[str]) -> BytesIO | None:
        self.send_error(HTTPStatus.NOT_FOUND, "no listing")
        return None

    def send_head(self) -> BytesIO | object | None:  # type: ignore[override]
        parts = self.path.split("?", 1)[0].split("/")
        if any(part.startswith(".") for part in parts if part):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return super().send_head()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("http " + format, *args)


class PublicServer:
    """An HTTP server for one folder, started and stopped with the daemon."""

    def __init__(self, public_dir: Path, host: str, port: int) -> None:
        handler = partial(_PublicHandler, directory=str(public_dir))
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="seedfeed-http", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> None:
        self._thread.start()
        log.info("serving url=%s", self.url)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
