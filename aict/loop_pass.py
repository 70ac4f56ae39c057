"""How long ago the event loop last polled for I/O: how long a keystroke may have been waiting.

A check watcher of the highest priority runs right after every poll, before any I/O callback, and
notes the time. Work that can wait (output to forward, which the coalescing holds for a few
milliseconds anyway) compares against it and lets the loop poll first once a pass has run long.
"""

from __future__ import annotations

import time

from gevent.hub import get_hub

_clocks: dict[int, _PollClock] = {}


class _PollClock:
    def __init__(self, loop):
        self.loop = loop
        self.polled = time.perf_counter()
        self._watcher = loop.check(ref=False, priority=loop.MAXPRI)
        self._watcher.start(self._mark)

    def _mark(self) -> None:
        self.polled = time.perf_counter()


def since_poll() -> float:
    """Seconds since this thread's loop last polled for I/O."""
    loop = get_hub().loop
    clock = _clocks.get(id(loop))
    if clock is None or clock.loop is not loop:  # first use in this process (a gunicorn worker) or thread
        clock = _clocks[id(loop)] = _PollClock(loop)
    return time.perf_counter() - clock.polled
