"""Terminal output a socket holds in engineio's queue, bounded per socket (fast path).

Bulk output (replays, floods) goes through engineio's queue, which takes whatever it is given, and
each attachment may have a whole flow-control window in flight. 60 terminals re-attached at once
over 6 sockets queued a window for every terminal: ~150 MB held until the writers caught up
(issue 23). Now a socket holds at most `budget` bytes of output queued or being written; a session
with more to send for it waits, without blocking anything, until the socket's writer has written
what it took (engineio_hooks tells us when the writer comes back for more), then goes on.
Small output (an echo) goes straight to the WebSocket (direct_output) and never waits here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from engineio.socket import Socket

log = logging.getLogger(__name__)


def room(eio_socket: Socket, budget: int) -> int:
    """Bytes of output the socket may still take into its queue."""
    return budget - getattr(eio_socket, "output_queued", 0)


def queued(eio_socket: Socket, size: int) -> None:
    """`size` bytes of output were put in the socket's queue."""
    eio_socket.output_queued = getattr(eio_socket, "output_queued", 0) + size


def when_room(eio_socket: Socket, key: object, callback: Callable[[], None]) -> None:
    """Call `callback` once the writer has written what it holds (one call per key)."""
    waiters = getattr(eio_socket, "room_waiters", None)
    if waiters is None:
        waiters = eio_socket.room_waiters = {}
    waiters[key] = callback


def writer_taking(eio_socket: Socket) -> None:
    """The writer is back for more: everything it took before is written. Wakes the waiting sessions,
    whose output then goes into the queue for the writer to take now."""
    eio_socket.output_queued = getattr(eio_socket, "output_queued", 0) - getattr(eio_socket, "output_taken", 0)
    eio_socket.output_taken = 0
    waiters = getattr(eio_socket, "room_waiters", None)
    if not waiters:
        return
    eio_socket.room_waiters = {}
    for callback in waiters.values():
        try:
            callback()
        except Exception:
            log.exception("sending output that waited for room failed")


def writer_took(eio_socket: Socket, packets) -> None:
    """The writer took these packets to write: their output counts until it comes back."""
    if packets and getattr(eio_socket, "output_queued", 0):
        eio_socket.output_taken = sum(len(p.data) for p in packets if p is not None and type(p.data) is bytes)
