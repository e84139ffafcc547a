"""Feed readers polling seedfeed's HTTP server: many clients on 127.0.0.1, each asking for one
document again and again on a new connection, for a bounded time and number of requests.

Run as its own process (`python -m bench.readers`), so that its work never shares a GIL
with the harness timing the daemon: it prints one JSON line with the count of each status
and the requests per second once it ends (after `--seconds`, `--max-requests`, or SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"  # the only address this load is ever sent to
_READ_LIMIT = 1 << 16


@dataclass(frozen=True, slots=True, kw_only=True)
class Load:
    """What the readers did: responses by status, and how long it took."""

    statuses: dict[int, int]
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return sum(self.statuses.values()) / self.seconds if self.seconds else 0.0


async def _get(port: int, request: bytes) -> int:
    """One request on a new connection; its status, once the response is read to its end."""
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setblocking(False)
        await loop.sock_connect(sock, (LOOPBACK, port))
        await loop.sock_sendall(sock, request)
        first = await loop.sock_recv(sock, _READ_LIMIT)
        chunk = first
        while chunk:
            chunk = await loop.sock_recv(sock, _READ_LIMIT)
    return int(first.split(b" ", 2)[1])


async def _etag(port: int, path: str) -> str:
    """The document's current ETag, for conditional requests."""
    reader, writer = await asyncio.open_connection(LOOPBACK, port, limit=_READ_LIMIT)
    try:
        writer.write(f"HEAD {path} HTTP/1.0\r\nHost: {LOOPBACK}\r\n\r\n".encode())
        head = (await reader.read()).decode("latin-1")
    finally:
        writer.close()
    for line in head.split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "etag":
            return value.strip()
    raise RuntimeError(f"no ETag for {path}: {head[:200]!r}")


async def poll(
    port: int, path: str, *, clients: int, seconds: float, max_requests: int, conditional: bool
) -> Load:
    """`clients` readers asking for `path` until `seconds` pass or `max_requests` are sent;
    with `conditional`, each asks with the ETag it was first given (If-None-Match). SIGTERM
    ends it early."""
    headers = f"Host: {LOOPBACK}\r\n"
    if conditional:
        headers += f"If-None-Match: {await _etag(port, path)}\r\n"
    request = f"GET {path} HTTP/1.0\r\n{headers}\r\n".encode()
    statuses: Counter[int] = Counter()
    errors = 0
    sent = 0
    stopped = asyncio.Event()  # SIGTERM: stop early, and still report
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    started = time.perf_counter()
    deadline = started + seconds

    async def reader() -> None:
        nonlocal errors, sent
        while sent < max_requests and time.perf_counter() < deadline and not stopped.is_set():
            sent += 1
            try:
                statuses[await _get(port, request)] += 1
            except (OSError, ValueError, IndexError):
                errors += 1

    await asyncio.gather(*(reader() for _ in range(clients)))
    return Load(statuses=dict(statuses), errors=errors, seconds=time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.readers", description=__doc__)
    parser.add_argument("url", help=f"the document to poll, on http://{LOOPBACK}:PORT/")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--conditional", action="store_true", help="send If-None-Match")
    args = parser.parse_args(argv)
    url = urlsplit(args.url)
    if url.scheme != "http" or url.hostname != LOOPBACK or url.port is None:
        parser.error(f"the URL must be http://{LOOPBACK}:PORT/...")
    load = asyncio.run(
        poll(
            url.port,
            url.path or "/",
            clients=args.clients,
            seconds=args.seconds,
            max_requests=args.max_requests,
            conditional=args.conditional,
        )
    )
    print(
        json.dumps(
            {
                "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
                "errors": load.errors,
                "seconds": round(load.seconds, 3),
                "per_second": round(load.per_second, 1),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
