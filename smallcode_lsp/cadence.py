"""How fast the user is typing right now, from the times of a document's Automatic requests.

An answer is only useful if it is on screen before the next keystroke, so while the user types
in a burst the latency budget shrinks to a share of their keystroke interval (short answers
that land in time; background prefetch extends them once the user pauses). After a pause the
configured budget applies again.
"""

from __future__ import annotations

import statistics
from collections import deque

WINDOW = 6  # recent intervals considered
BURST_GAP_S = 1.0  # a longer gap ends a burst
SHARE = 0.75  # of the keystroke interval: the rest absorbs transport and jitter
PAUSE_FACTOR = 1.5  # no keystroke for this many intervals: the user paused


class TypingCadence:
    """Per-document keystroke intervals (seconds) within the current typing burst."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._intervals: dict[str, deque[float]] = {}

    def note(self, uri: str, now: float) -> None:
        """An Automatic request for `uri` arrived at `now` (time.perf_counter())."""
        last = self._last.get(uri)
        self._last[uri] = now
        intervals = self._intervals.setdefault(uri, deque(maxlen=WINDOW))
        if last is None or now - last > BURST_GAP_S:
            intervals.clear()  # a new burst
        else:
            intervals.append(now - last)

    def budget_ms(self, uri: str, configured_ms: float) -> float:
        """The latency budget for the request just noted: `configured_ms`, or less in a burst."""
        interval = self._burst_interval(uri)
        return configured_ms if interval is None else min(configured_ms, SHARE * interval * 1000)

    def pause_delay(self, uri: str, now: float) -> float:
        """Seconds from `now` until a pause in the current burst would show (0: no burst).

        Background work waits for it: started between two keystrokes of a burst it is
        preempted before it finishes, and the preemption delays the next answer.
        """
        interval = self._burst_interval(uri)
        if interval is None:
            return 0.0
        return max(0.0, self._last[uri] + PAUSE_FACTOR * interval - now)

    def _burst_interval(self, uri: str) -> float | None:
        """The median keystroke interval of the current burst (None: no burst yet)."""
        intervals = self._intervals.get(uri)
        if not intervals or len(intervals) < 2:
            return None
        return statistics.median(intervals)

    def forget(self, uri: str) -> None:
        self._last.pop(uri, None)
        self._intervals.pop(uri, None)
