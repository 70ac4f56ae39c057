"""Event-loop lag: how much later than due the loop gets to what is waiting.

Every terminal's keystrokes and output go through one gevent loop, so anything that holds it (a
long computation, a call that blocks, a garbage collection, the process waiting for a CPU) delays
them all by as long. A timer asks to run every INTERVAL_SECONDS; how late it runs is such a hold,
seen from outside (Node's monitorEventLoopDelay works the same way). A recording flush that
joined a flooding terminal's whole second on the loop, for one, showed as 3-20 ms once a second.
Kept as a histogram for /metrics.
"""

from __future__ import annotations

import bisect
import time

import gevent

INTERVAL_SECONDS = 0.05
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)  # upper bounds, seconds


class LoopLag:
    def __init__(self):
        self.counts = [0] * (len(BUCKETS) + 1)  # the last one: beyond every bucket
        self.total = 0.0
        self.longest = 0.0
        self._greenlet = None

    def start(self) -> LoopLag:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._watch)
        return self

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    def _watch(self) -> None:
        while True:
            due = time.perf_counter() + INTERVAL_SECONDS
            gevent.sleep(INTERVAL_SECONDS)
            self.observe(max(0.0, time.perf_counter() - due))

    def observe(self, lag: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, lag)] += 1
        self.total += lag
        self.longest = max(self.longest, lag)

    def cumulative(self) -> list[tuple[str, int]]:
        """(upper bound, observations at or below it) pairs, Prometheus style, ending with +Inf."""
        pairs, running = [], 0
        for bound, count in zip((*map(str, BUCKETS), "+Inf"), self.counts, strict=True):
            running += count
            pairs.append((bound, running))
        return pairs
