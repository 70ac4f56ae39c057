"""Background work that repeats: one greenlet per job, which logs a failed round and goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable

import gevent

log = logging.getLogger(__name__)


def every(seconds: float, work: Callable[[], object], what: str, first: float | None = None) -> gevent.Greenlet:
    """Call `work()` every `seconds` (after the first wait: `first` seconds when given), in a greenlet
    of its own."""

    def run() -> None:
        wait = seconds if first is None else first
        while True:
            gevent.sleep(wait)
            wait = seconds
            try:
                work()
            except Exception:
                log.exception("%s failed", what)

    return gevent.spawn(run)
