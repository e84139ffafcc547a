"""When the daemon learns from changed examples: debounced on the examples, not the drops."""

from __future__ import annotations

from watcher.learn_timing import LearnTiming


def timing() -> LearnTiming:
    return LearnTiming(settle=2.0, max_wait=10.0)


def test_examples_are_learned_from_once_they_settle_whatever_else_is_dropped() -> None:
    """Looks after drops that teach nothing find the same key: they never push learning
    back (it used to wait for the drops to stop, 10 s at most)."""
    due = timing()
    assert due.wait("new", now=100.0, since=100.0) == 2.0
    for now in (100.2, 100.5, 101.0, 101.5, 101.9):  # a look after each bare drop
        assert due.wait("new", now=now, since=now - 0.1) > 0
    assert due.wait("new", now=102.0, since=101.9) <= 0


def test_the_settling_counts_from_the_batch_not_the_look() -> None:
    """A look a second after the batch that changed the examples: a second is left."""
    due = timing()
    assert due.wait("new", now=11.0, since=10.0) == 1.0


def test_a_burst_of_examples_is_learned_from_once_after_it() -> None:
    due = timing()
    for i, now in enumerate((0.0, 1.0, 2.5, 4.0)):  # each look finds more examples
        assert due.wait(f"key {i}", now=now, since=now) == 2.0
    assert due.wait("key 3", now=5.0, since=5.0) == 1.0
    assert due.wait("key 3", now=6.0, since=6.0) <= 0


def test_examples_that_keep_changing_are_learned_from_ten_seconds_after_the_first_change() -> None:
    due = timing()
    for i in range(10):
        assert due.wait(f"key {i}", now=float(i), since=float(i)) > 0
    assert due.wait("key 10", now=10.0, since=10.0) <= 0


def test_after_learning_the_next_change_waits_its_own_settling() -> None:
    due = timing()
    due.wait("first", now=0.0, since=0.0)
    assert due.wait("first", now=2.0, since=2.0) <= 0
    due.reset()
    assert due.wait("second", now=50.0, since=50.0) == 2.0
    assert due.wait("second", now=51.0, since=51.0) == 1.0
