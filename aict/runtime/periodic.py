"""Background work that repeats: one greenlet per job, which logs a failed round and goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable

import gevent

log = logging.getLogger(__name__)


def every(seconds: float, work: Callable[[], object], what: str) -> gevent.Greenlet:
    """Call `work()` every `seconds` (after the first wait), in a greenlet of its own."""

    def run() -> None:
        while True:
            gevent.sleep(seconds)
            try:
                work()
            except Exception:
                log.exception("%s failed", what)

    return gevent.spawn(run)
