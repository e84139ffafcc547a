"""Readers against seedfeed's HTTP server: the load that runs beside the drop-to-feed probes,
and the rate of conditional (304) and full (200) answers of the server on its own.

Every request goes to 127.0.0.1 only, from `python -m bench.readers` processes, bounded in
time (and in count: `MAX_REQUESTS`)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure import cpu_seconds, wait_for
from bench.readers import LOOPBACK

READERS = 50  # clients polling /feeds/all.atom while files are dropped
RATE_SECONDS = 10.0  # each timing of the 304 and 200 rates
MAX_REQUESTS = 2_000_000  # a bound on any one load, whatever its duration
POLLED = "/feeds/all.atom"
# A document the drops never rewrite (a full archive page): its readers are answered at once,
# while those of all.atom, rewritten at each drop, wait for its date (see bench/README.md).
STEADY = "/feeds/archive/all/1.atom"
# Processes the rate clients are spread over: one Python process of clients is slower than
# the server, so on 2 cores two of them keep it busy.
_CLIENT_PROCESSES = 2
_RAMP_S = 1.0  # the readers' time to start and reach their pace before files are dropped


@dataclass(slots=True, kw_only=True)
class RateRow:
    """What the server alone answered to `READERS` clients, per timing."""

    conditional: list[dict[str, float]] = field(default_factory=list)
    full: list[dict[str, float]] = field(default_factory=list)
    error: str | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _readers_command(
    port: int, *, clients: int, seconds: float, conditional: bool, path: str = POLLED
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.readers",
        f"http://{LOOPBACK}:{port}{path}",
        "--clients",
        str(clients),
        "--seconds",
        str(seconds),
        "--max-requests",
        str(MAX_REQUESTS),
        *(["--conditional"] if conditional else []),
    ]


def _report(proc: subprocess.Popen[str]) -> dict[str, float]:
    out, _ = proc.communicate(timeout=60)
    if proc.returncode != 0 or not out.strip():
        raise RuntimeError(f"the readers exited {proc.returncode}")
    found = json.loads(out.strip().splitlines()[-1])
    statuses = {int(k): int(v) for k, v in found["statuses"].items()}
    return {
        "requests": float(sum(statuses.values())),
        "ok": float(statuses.get(200, 0)),
        "not_modified": float(statuses.get(304, 0)),
        "errors": float(found["errors"]),
        "seconds": float(found["seconds"]),
        "per_second": float(found["per_second"]),
    }


@contextmanager
def reading(
    port: int, clients: int, path: str, *, seconds: float, into: list[dict[str, float]]
) -> Iterator[None]:
    """`clients` readers polling `path` with plain GETs (no ETag, no gzip: the costliest
    reader) while the block runs; what they did is appended to `into`."""
    proc = subprocess.Popen(
        _readers_command(port, clients=clients, seconds=seconds, conditional=False, path=path),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(_RAMP_S)
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        into.append(_report(proc))


def server_command(seedfeed: Path, public: Path, port: int) -> list[str]:
    return [str(seedfeed), "serve", "-q", "--public", str(public), "--port", str(port)]


def measure_rates(seedfeed: Path, public: Path, runs: int, log: Path) -> RateRow:
    """`seedfeed serve` on `public`, with `READERS` clients (in `_CLIENT_PROCESSES`
    processes) asking for the feed of all entries, with its ETag (304s) and without (200s),
    alternating, `runs` times each; each timing also records the server's CPU seconds, a
    figure that depends less on what else the machine runs."""
    row = RateRow()
    # seedfeed gives each version of a document a later whole second than the last, and the
    # server holds a response until the clock reaches it (Last-Modified is never later than
    # Date): after many publishes within seconds, the feed's time runs ahead for a while.
    # The rates are those of a feed published before, as most are.
    newest = (public / POLLED.lstrip("/")).stat().st_mtime
    if wait_for(lambda: time.time() >= newest + 1, timeout=300, poll=0.1) is None:
        row.error = f"{POLLED} is dated more than 300 s ahead of the clock"
        return row
    port = free_port()
    with open(log, "wb") as out:
        server = subprocess.Popen(server_command(seedfeed, public, port), stderr=out)
        try:
            if wait_for(lambda: _answers(port), timeout=30, poll=0.05) is None:
                row.error = f"seedfeed serve did not answer; log: {log}"
                return row
            for _ in range(runs):
                for conditional, into in ((True, row.conditional), (False, row.full)):
                    before = cpu_seconds(server.pid)
                    procs = [
                        subprocess.Popen(
                            _readers_command(
                                port,
                                clients=READERS // _CLIENT_PROCESSES,
                                seconds=RATE_SECONDS,
                                conditional=conditional,
                            ),
                            stdout=subprocess.PIPE,
                            text=True,
                        )
                        for _ in range(_CLIENT_PROCESSES)
                    ]
                    reports = [_report(proc) for proc in procs]
                    cpu = cpu_seconds(server.pid) - before
                    timing = {
                        key: sum(report[key] for report in reports)
                        for key in ("requests", "ok", "not_modified", "errors", "per_second")
                    }
                    timing["seconds"] = max(report["seconds"] for report in reports)
                    timing["server_cpu_s"] = round(cpu, 3)
                    timing["per_server_cpu_s"] = round(timing["requests"] / cpu, 1) if cpu else 0
                    into.append(timing)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return row


def _answers(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1) as sock:
            sock.sendall(f"HEAD {POLLED} HTTP/1.0\r\n\r\n".encode())
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
