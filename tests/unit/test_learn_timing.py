"""When the daemon learns from changed examples: debounced on the examples, not the drops."""

from __future__ import annotations

from watcher.learn_timing import LearnTiming


def timing() -> LearnTiming:
    return LearnTiming(settle=2.0, max_wait=10.0)


def test_examples_are_learned_from_once_they_settle_whatever_else_is_dropped() -> None:
    """Looks after drops that teach nothing find the same key: they never push learning
    back (it used to wait for the drops to stop, 10 s at most)."""
    due = timing()
    assert due.wait("new", 100.0) == 2.0
    for now in (100.2, 100.5, 101.0, 101.5, 101.9):  # a look after each bare drop
        assert due.wait("new", now) > 0
    assert due.wait("new", 102.0) <= 0


def test_a_burst_of_examples_is_learned_from_once_after_it() -> None:
    due = timing()
    for i, now in enumerate((0.0, 1.0, 2.5, 4.0)):  # each look finds more examples
        assert due.wait(f"key {i}", now) == 2.0
    assert due.wait("key 3", 5.0) == 1.0
    assert due.wait("key 3", 6.0) <= 0


def test_examples_that_keep_changing_are_learned_from_ten_seconds_after_the_first_change() -> None:
    due = timing()
    for i in range(10):
        assert due.wait(f"key {i}", float(i)) > 0
    assert due.wait("key 10", 10.0) <= 0


def test_after_learning_the_next_change_waits_its_own_settling() -> None:
    due = timing()
    due.wait("first", 0.0)
    assert due.wait("first", 2.0) <= 0
    due.reset()
    assert due.wait("second", 50.0) == 2.0
    assert due.wait("second", 51.0) == 1.0
