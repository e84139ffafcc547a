"""Measuring seedfeed processes (one-shot commands: wall, CPU, peak RSS; a running daemon)
and the file system they write to."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>


@dataclass(frozen=True, slots=True, kw_only=True)
class Timed:
    """One finished command: its exit code, output and the resources it used."""

    returncode: int
    wall: float  # seconds
    cpu: float  # user + system seconds of the command and of every process it started
    peak_rss_mb: float  # ru_maxrss: the largest single process in the command's tree
    stdout: str
    timed_out: bool


def run_timed(command: Sequence[str], *, log_path: Path, timeout: float) -> Timed:
    """Run `command` to the end; stderr goes to `log_path`. Killed after `timeout` seconds.

    The CPU and peak RSS cover every process the command started, including those that
    outlive it (a process pool's forkserver and workers): while the command runs this
    process adopts its orphans, and waits for them after it exits."""
    others = set(_children(os.getpid()))
    with _adopting_orphans(), open(log_path, "wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        out_chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: out_chunks.append(_read_all(proc)), daemon=True)
        reader.start()
        try:
            # wait4 gives this child's own rusage (its CPU time and its peak RSS).
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        reader.join(timeout=10)
        usages = [usage, *_reap_orphans(others | {proc.pid}, deadline=time.monotonic() + 30)]
    return Timed(
        returncode=proc.returncode,
        wall=wall,
        cpu=sum(u.ru_utime + u.ru_stime for u in usages),
        peak_rss_mb=max(u.ru_maxrss for u in usages) / 1024,
        stdout=b"".join(out_chunks).decode("utf-8", "replace"),
        timed_out=killed.is_set(),
    )


@contextmanager
def _adopting_orphans() -> Iterator[None]:
    """Make this process the new parent of its descendants' orphans (Linux's
    PR_SET_CHILD_SUBREAPER), instead of init; elsewhere, do nothing."""
    prctl = getattr(ctypes.CDLL(None), "prctl", None)
    if prctl is None or prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        yield
        return
    try:
        yield
    finally:
        prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def _reap_orphans(known: set[int], *, deadline: float) -> list[resource.struct_rusage]:
    """Wait for every child of this process not in `known` (the orphans it adopted), and for
    the orphans they leave in turn; kill those still running at `deadline`. Their rusages."""
    usages: list[resource.struct_rusage] = []
    while orphans := [pid for pid in _children(os.getpid()) if pid not in known]:
        late = time.monotonic() > deadline
        for pid in orphans:
            if late:
                os.kill(pid, signal.SIGKILL)
            waited, _, usage = os.wait4(pid, 0 if late else os.WNOHANG)
            if waited:
                usages.append(usage)
        time.sleep(0.01)
    return usages


def _read_all(proc: subprocess.Popen[bytes]) -> bytes:
    assert proc.stdout is not None
    return proc.stdout.read()


def time_file_creation(folder: Path, *, files: int, size: int, budget: float) -> float:
    """Median microseconds to create and write one `size`-byte file, over `files` new files
    in the new folder `folder` (which the caller removes); fewer files if making them takes
    longer than `budget` seconds."""
    folder.mkdir(parents=True)
    data = b"x" * size
    paths = [folder / f"{i:05d}.txt" for i in range(files)]
    samples: list[int] = []
    deadline = time.perf_counter_ns() + int(budget * 1e9)
    for path in paths:
        if time.perf_counter_ns() > deadline:
            break
        started = time.perf_counter_ns()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000


def wait_for(check: Callable[[], bool], *, timeout: float, poll: float = 0.001) -> float | None:
    """Poll `check` until it holds; the perf_counter moment it did, or None at the deadline."""
    deadline = time.perf_counter() + timeout
    while True:
        if check():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            return None
        time.sleep(poll)


def status_kb(pid: int, field: str) -> int | None:
    """A figure of /proc/PID/status in KB (VmRSS, VmHWM), None if the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def _pss_kb(pid: int) -> int | None:
    """The process's proportional set size: its private memory plus its share of pages it
    shares (a forked worker shares most of its parent's), so a tree's PSS adds up right."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                found.extend(int(c) for c in f.read().split())
        except FileNotFoundError:
            continue
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (a process pool's workers count too)."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(_children(current))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by `pid` (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


class Daemon:
    """A running `seedfeed run --no-serve`, with its log in a file and its memory watched."""

    def __init__(self, command: Sequence[str], *, log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        self._tree_peak_kb = 0
        self._tree_peak_pss_kb = 0
        self._sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _sample(self) -> None:
        while not self._sampling.wait(0.05):
            tree = process_tree(self.pid)
            total = sum(status_kb(p, "VmRSS") or 0 for p in tree)
            self._tree_peak_kb = max(self._tree_peak_kb, total)
            pss = sum(_pss_kb(p) or 0 for p in tree)
            self._tree_peak_pss_kb = max(self._tree_peak_pss_kb, pss)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_idle(self, *, timeout: float, quiet_for: float = 0.5) -> bool:
        """Wait for the start-up scan to end ("watching" logged) and the CPU to stay still."""
        if (
            wait_for(
                lambda: "watching seeds=" in self.log_text() or not self.alive(),
                timeout=timeout,
                poll=0.05,
            )
            is None
            or not self.alive()
        ):
            return False
        deadline = time.perf_counter() + timeout
        last, still_since = cpu_seconds(self.pid), time.perf_counter()
        while time.perf_counter() < deadline and self.alive():
            time.sleep(0.05)
            now_cpu = cpu_seconds(self.pid)
            if now_cpu - last > 0.01:
                last, still_since = now_cpu, time.perf_counter()
            elif time.perf_counter() - still_since >= quiet_for:
                return True
        return False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_mb(self) -> float | None:
        kb = status_kb(self.pid, "VmRSS")
        return None if kb is None else kb / 1024

    def hwm_mb(self) -> float | None:
        """The main process's peak RSS so far (VmHWM)."""
        kb = status_kb(self.pid, "VmHWM")
        return None if kb is None else kb / 1024

    def tree_peak_mb(self) -> float:
        """The largest summed RSS of the daemon and its children seen by the 50 ms sampler."""
        return self._tree_peak_kb / 1024

    def tree_peak_pss_mb(self) -> float:
        """The largest summed PSS of the daemon and its children (shared pages counted once)."""
        return self._tree_peak_pss_kb / 1024

    def stop(self, *, timeout: float = 60) -> int:
        """SIGTERM, wait (killing after `timeout`), and return the exit code."""
        self._sampling.set()
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
