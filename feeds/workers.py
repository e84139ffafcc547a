"""Worker processes that read files and render documents for the process that stores them,
and the forkserver they are forked from; and jobs run side by side in processes forked from
the one that needs them (`run_forked`: learning)."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, ParamSpec, TypeVar

# multiprocessing and the process pool are imported where a process is started (~30 ms to
# import, which a rebuild with nothing to read never needs).
if TYPE_CHECKING:
    import multiprocessing.context
    import multiprocessing.process
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.connection import Connection

log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_T = TypeVar("_T")

# How often (seconds) a worker process checks that the process that started it lives.
_OWNER_CHECK = 1.0
# The daemon's worker processes run this much nicer than the process that stores files: the
# single writer is what a burst waits for, and the workers take the CPU it leaves.
_WORKER_NICENESS = 5
# What the forkserver imports once, so each worker starts with it: seedfeed's modules
# (`feeds.preload`), the gazetteer's tables when workers look places up, and the program's
# main module (each worker would import it again otherwise).
_PRELOAD = ("__main__", "feeds.preload")
_PRELOAD_PLACES = "feeds.preload_places"


def start_reading_pool(
    workers: int, *, niceness: int = _WORKER_NICENESS, places: bool = True
) -> ProcessPoolExecutor:
    """Worker processes for reading files and rendering (forkserver: safe beside the daemon's
    threads; each starts with seedfeed's modules already imported, and the gazetteer with
    `places` (automatic topics on), and ends if this process dies without stopping them),
    `niceness` below this process. The first pool or warm-up of a process starts its
    forkserver: what it preloads stays for the process's life."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        workers,
        mp_context=_forkserver(places=places),
        initializer=_start_worker,
        initargs=(os.getpid(), niceness),
    )


def _start_worker(owner: int, niceness: int) -> None:
    """Run in each worker process as it starts: yield the CPU to the writer first, and end
    with `owner`."""
    if niceness:
        os.nice(niceness)
    # What the worker inherits from the forkserver (seedfeed's modules) is never garbage, and
    # a collection that visited it would write to every page of it: each worker would copy
    # pages it could share.
    gc.freeze()
    _end_with(owner)


def _end_with(owner: int) -> None:
    """Run in each worker process as it starts: end it once `owner` (the process that
    started the pool) is gone. A worker waits for work on a pipe it holds both ends of, so
    after a kill -9 of seedfeed it would wait forever, and keep its forkserver alive."""

    def watch() -> None:
        while True:
            time.sleep(_OWNER_CHECK)
            try:
                os.kill(owner, 0)
            except (ProcessLookupError, PermissionError):  # gone (or its pid reused)
                os._exit(1)

    threading.Thread(target=watch, name="seedfeed-owner-watch", daemon=True).start()


def warm_reading_pool(*, places: bool) -> None:
    """Start, in the background, the process that worker processes are forked from: it imports
    seedfeed (`_PRELOAD`, with the gazetteer if `places`) while this process goes on, so the
    first batch of files, or the daemon's first burst, does not wait for that."""
    import multiprocessing.forkserver

    _forkserver(places=places)
    multiprocessing.forkserver.ensure_running()


def _forkserver(*, places: bool) -> multiprocessing.context.ForkServerContext:
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*_PRELOAD, *([_PRELOAD_PLACES] if places else [])])
    return context


def reading_pool(workers: int, *, places: bool) -> AbstractContextManager[Executor | None]:
    """The pool of a `seedfeed build`, whose workers run at its own priority: the user waits
    for the build as a whole, and niced workers lose the CPU to every other program on a shared
    machine, not only to the writer (which mostly waits for them in a cold build). It starts
    when first given work: a rebuild with nothing to read or render starts no process."""
    if workers <= 1:
        return nullcontext()
    return _StartedOnUse(lambda: start_reading_pool(workers, niceness=0, places=places))


class _StartedOnUse(Executor):
    """A pool of worker processes made when first given work (even an idle pool's queue
    starts multiprocessing's resource tracker, a Python process of its own). `map` is
    `Executor.map`, which submits each call here."""

    def __init__(self, start: Callable[[], ProcessPoolExecutor]) -> None:
        self._start = start
        self._pool: ProcessPoolExecutor | None = None

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = self._start()
        return self._pool

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        return self._started().submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def run_forked(jobs: Sequence[Callable[[], _T]], /) -> list[_T]:
    """Run `jobs` side by side, the first in this process and each other in a process forked
    from it (which starts with this process's memory: what a job reads is neither copied nor
    sent, only its result comes back, pickled), and return their results in order. A job
    that fails in its process fails the whole, here; a forked process ends with this one."""
    if len(jobs) < 2:
        return [job() for job in jobs]
    import multiprocessing

    context = multiprocessing.get_context("fork")
    children: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    ended = False
    try:
        for job in jobs[1:]:
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_run_job, args=(job, sender, os.getpid()))
            process.start()
            sender.close()
            children.append((process, receiver))
        results = [jobs[0]()]
        for child, receiver in children:
            try:
                done, result = receiver.recv()
            except EOFError:
                child.join()
                raise ChildProcessError(f"a forked job ended with code {child.exitcode}") from None
            if not done:
                raise ChildProcessError(f"a forked job failed:\n{result}")
            results.append(result)
        ended = True
        return results
    finally:
        for child, receiver in children:
            receiver.close()
            if not ended:
                child.kill()
            child.join()


def _run_job(job: Callable[[], object], sender: Connection, owner: int) -> None:
    """Run in a forked process: `job`, its result (or what failed) sent back on `sender`."""
    # Its memory is the parent's: a garbage collection that visited it would copy each page.
    gc.freeze()
    # Ctrl-C reaches the whole terminal's process group: the parent, interrupted, ends this
    # process itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_with(owner)
    try:
        outcome: tuple[bool, object] = (True, job())
    except Exception:
        outcome = (False, traceback.format_exc())
    sender.send(outcome)
    sender.close()
