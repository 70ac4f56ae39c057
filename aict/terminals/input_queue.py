"""Input a terminal has not taken yet: bounded, drained in order by one greenlet per terminal."""

from __future__ import annotations

from collections.abc import Callable

import gevent
from gevent.event import Event

from aict.terminals.backend import InputBacklogFull

MAX_INPUT_BACKLOG = 8 * 1024 * 1024
# Input a web process has already answered `ok` (its fast path: it believed the queue empty) is
# taken this far past the limit rather than refused, since a refusal would reach no one and the
# keystroke would be lost. Each web process has at most 64 KiB answered ahead, so this covers 16.
PROMISED_SLACK = 1024 * 1024


class InputQueue:
    """`write_some(chunk)` writes a prefix and returns its length (0: the terminal is gone, drop the
    rest); it may raise BlockingIOError, after which `wait_writable()` blocks this greenlet."""

    def __init__(self, write_some: Callable[[bytes], int], wait_writable: Callable[[], None] | None = None,
                 chunk_size: int = 64 * 1024, limit: int = MAX_INPUT_BACKLOG):
        self.write_some = write_some
        self.wait_writable = wait_writable
        self.chunk_size = chunk_size
        self.limit = limit
        self._buffer = bytearray()
        self._ready = Event()
        self._greenlet = None

    def __len__(self) -> int:
        return len(self._buffer)

    def put(self, data: bytes, promised: bool = False) -> None:
        """Queue data behind what is waiting; InputBacklogFull past the limit (past PROMISED_SLACK
        more for input already answered as taken)."""
        if len(self._buffer) + len(data) > self.limit + (PROMISED_SLACK if promised else 0):
            raise InputBacklogFull()
        if data:
            self._buffer += data
            self._ready.set()

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._drain_forever)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)

    def _drain_forever(self) -> None:
        while True:
            self._ready.wait()
            while self._buffer:
                try:
                    written = self.write_some(bytes(self._buffer[:self.chunk_size]))
                except BlockingIOError:
                    self.wait_writable()
                    continue
                if written <= 0:
                    self._buffer.clear()  # the terminal is gone; input has nowhere to go
                else:
                    del self._buffer[:written]
            self._ready.clear()
