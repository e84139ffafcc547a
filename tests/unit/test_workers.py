"""Jobs run side by side in forked processes (feeds/workers.py `run_forked`)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from feeds.workers import run_forked


def test_each_job_runs_in_a_process_of_its_own_and_results_come_back_in_order() -> None:
    big = list(range(200_000))  # made before the fork: read in the children, never sent

    def job(i: int) -> Callable[[], tuple[int, int, int]]:
        return lambda: (i, os.getpid(), sum(big[i::3]))

    results = run_forked([job(i) for i in range(3)])
    assert [r[0] for r in results] == [0, 1, 2]
    assert [r[2] for r in results] == [sum(big[i::3]) for i in range(3)]
    assert results[0][1] == os.getpid()
    assert len({r[1] for r in results}) == 3


def test_a_job_that_fails_in_its_process_fails_the_whole_with_its_error() -> None:
    def fail() -> int:
        raise ValueError("no terms in this part")

    with pytest.raises(ChildProcessError, match="ValueError: no terms in this part"):
        run_forked([lambda: 1, fail])


def test_a_process_that_dies_fails_the_whole() -> None:
    def die() -> int:
        os._exit(3)

    with pytest.raises(ChildProcessError, match="ended with code 3"):
        run_forked([lambda: 1, die])


def test_a_failure_here_stops_the_other_processes() -> None:
    """The first job fails in this process: the others are not waited for (one would run
    for a minute)."""
    import time

    def slow() -> int:
        time.sleep(60)
        return 1

    def fail() -> int:
        raise ValueError("here")

    started = time.monotonic()
    with pytest.raises(ValueError, match="here"):
        run_forked([fail, slow])
    assert time.monotonic() - started < 30


def test_ctrl_c_is_left_to_this_process() -> None:
    """A forked process ignores SIGINT (Ctrl-C reaches the whole process group): the process
    that forked it is interrupted and ends it, with no second traceback."""
    import signal

    here, forked = run_forked([lambda: signal.getsignal(signal.SIGINT)] * 2)
    assert here is signal.default_int_handler
    assert forked == signal.SIG_IGN
