"""How fast the user is typing right now, from the times of a document's Automatic requests.

An answer is only useful if it is on screen before the next keystroke, so while the user types
in a burst the latency budget shrinks to a share of their keystroke interval (short answers
that land in time; background prefetch extends them once the user pauses). After a pause the
configured budget applies again.

A burst's first keys have no rhythm of their own yet, but the user's speed is known from their
earlier bursts (any document): where the spot is warm (its prompt cached: an answer costs only
decoding), those keys get the same share of the user's usual interval (opening_budget_ms), and
the answer lands before the next key instead of finishing a line that the next key cancels.
At a cold spot a lone key keeps the configured budget: its prompt costs more than a keystroke
interval anyway, and one typed key followed by a pause then still gets its whole line.
"""

from __future__ import annotations

import statistics
from collections import deque

WINDOW = 6  # recent intervals considered
BURST_GAP_S = 1.0  # a longer gap ends a burst
SHARE = 0.75  # of the keystroke interval: the rest absorbs transport and jitter
PAUSE_FACTOR = 1.5  # no keystroke for this many intervals: the user paused
USUAL_WINDOW = 32  # intervals of recent bursts (any document) behind the usual interval
USUAL_MIN = 4  # fewer are no measure of the user's speed


class TypingCadence:
    """Per-document keystroke intervals (seconds) within the current typing burst."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._intervals: dict[str, deque[float]] = {}
        self._usual: deque[float] = deque(maxlen=USUAL_WINDOW)  # the user's, any document

    def note(self, uri: str, now: float) -> None:
        """An Automatic request for `uri` arrived at `now` (time.perf_counter())."""
        last = self._last.get(uri)
        self._last[uri] = now
        intervals = self._intervals.setdefault(uri, deque(maxlen=WINDOW))
        if last is None or now - last > BURST_GAP_S:
            intervals.clear()  # a new burst
        else:
            intervals.append(now - last)
            self._usual.append(now - last)

    def budget_ms(self, uri: str, configured_ms: float) -> float:
        """The latency budget for the request just noted: `configured_ms`, or less in a burst."""
        interval = self._burst_interval(uri)
        return configured_ms if interval is None else min(configured_ms, SHARE * interval * 1000)

    def opening_budget_ms(self, uri: str, configured_ms: float) -> float | None:
        """For a key with no burst rhythm yet: a share of the user's usual keystroke interval
        (None: in a burst, or the user's speed is not known yet). For warm spots only."""
        if self._burst_interval(uri) is not None:
            return None
        usual = self._usual_interval()
        return None if usual is None else min(configured_ms, SHARE * usual * 1000)

    def pause_delay(self, uri: str, now: float) -> float:
        """Seconds from `now` until a pause in the current burst would show (0: no burst).

        Background work waits for it: started between two keystrokes of a burst it is
        preempted before it finishes, and the preemption delays the next answer.
        """
        interval = self._burst_interval(uri)
        last = self._last.get(uri)
        if interval is None and last is not None and now - last <= BURST_GAP_S:
            interval = self._usual_interval()  # the burst's first keys: the user's usual pace
        if interval is None or last is None:
            return 0.0
        return max(0.0, last + PAUSE_FACTOR * interval - now)

    def _burst_interval(self, uri: str) -> float | None:
        """The median keystroke interval of the current burst (None: no burst yet)."""
        intervals = self._intervals.get(uri)
        if not intervals or len(intervals) < 2:
            return None
        return statistics.median(intervals)

    def _usual_interval(self) -> float | None:
        """The user's median keystroke interval over their recent bursts (None: too few)."""
        if len(self._usual) < USUAL_MIN:
            return None
        return statistics.median(self._usual)

    def forget(self, uri: str) -> None:
        self._last.pop(uri, None)
        self._intervals.pop(uri, None)
