"""When the daemon learns again from changed examples (debounced on the examples, not on
the drops): once their key has not changed for `settle` seconds, and no later than `max_wait`
seconds after they were first seen changed. A burst of examples is learned from once, after
it; drops that teach nothing leave the key as it is, so they never hold learning off."""

from __future__ import annotations


class LearnTiming:
    def __init__(self, *, settle: float, max_wait: float) -> None:
        self._settle = settle
        self._max_wait = max_wait
        self._key: str | None = None
        self._key_seen = 0.0
        self._first_seen = 0.0

    def wait(self, key: str, *, now: float, since: float) -> float:
        """Seconds from `now` until examples with `key` (unlike the model's, looked at `now`)
        are to be learned from; 0 or less: now. `since`: the earliest they can have changed
        (when the first batch since the last look was stored)."""
        if self._key is None:
            self._first_seen = since
        if key != self._key:
            self._key, self._key_seen = key, since
        return min(self._key_seen + self._settle, self._first_seen + self._max_wait) - now

    def reset(self) -> None:
        """The model in hand is the examples' (learned now, or they came back to it)."""
        self._key = None
