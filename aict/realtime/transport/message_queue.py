"""Flask-SocketIO's Redis message queue (REDIS_URL), for what crosses web processes.

With a queue, python-socketio publishes every emit to every process, each one then looking for
the addressed socket among its own: an `error` or `terminal-exit` to a socket of this very process
(and, with FAST_PATHS off, every chunk of terminal output, base64 in JSON) went through Redis and
was decoded by every other process for nothing. Here an emit to one socket of this process goes
straight to it, as without a queue; an emit to a socket elsewhere, or to a room, takes the queue.
(The fast paths' terminal output never passes the manager: it writes to this process's sockets.)

The same channel carries aict's own notices (`publish_notice`): a login ended or a membership
changed in one process, acted on by every other at once (ConnectionRegistry). They ride on the
queue's listener, which python-socketio starts with the process's first socket: a process with no
socket has nothing to act on. A notice missed (Redis away, a process starting) is still caught
by each process's sweep of its sockets against the database (aict/realtime/connections.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import socketio

from aict.realtime.transport.versions import attribute_problems, method_problem, problems_in

log = logging.getLogger(__name__)
NOTICE = "aict-notice"  # the message `method` aict's notices carry; python-socketio ignores unknown ones
_NOTICE_START = b'{"method": "' + NOTICE.encode() + b'"'


class RedisQueue(socketio.RedisManager):
    """socketio.RedisManager that keeps emits to this process's own sockets off the queue and
    carries aict's notices (published by one process, handled by every other)."""

    def __init__(self, url: str, prefix: str):
        super().__init__(url, channel=f"{prefix}:socketio")
        self.notice_handlers: dict[str, Callable[[dict], None]] = {}

    def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if not kwargs.get("ignore_queue") and type(room) is str and self.is_connected(room, namespace or "/"):
            kwargs["ignore_queue"] = True  # a socket of this process (each socket is its own room)
        return super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid, callback=callback,
                            **kwargs)

    def publish_notice(self, kind: str, body: dict) -> None:
        """Tell every other process: handled there by notice_handlers[kind](body)."""
        self._publish({"method": NOTICE, "kind": kind, "host_id": self.host_id, "body": body})

    def _listen(self):
        for message in super()._listen():
            if isinstance(message, bytes) and message.startswith(_NOTICE_START):
                self._handle_notice(message)
            else:
                yield message

    def _handle_notice(self, message: bytes) -> None:
        try:
            notice = self.json.loads(message)
            if notice.get("host_id") == self.host_id:
                return  # this process acted on it before publishing
            handler = self.notice_handlers.get(notice.get("kind"))
            if handler is not None:
                handler(notice["body"])
        except Exception:  # one bad notice must not end the listener
            log.exception("a notice from the message queue failed")


def shape_problems() -> list[str]:
    """What RedisQueue overrides and calls in python-socketio's Redis manager, where it differs."""
    package, manager = "python-socketio", socketio.RedisManager
    return problems_in(
        method_problem(package, manager, "emit", ("self", "event", "data", "namespace", "room", "skip_sid",
                                                  "callback", "to", "kwargs")),
        method_problem(package, manager, "_listen", ("self",)),
        method_problem(package, manager, "_publish", ("self", "data")),
        method_problem(package, manager, "is_connected", ("self", "sid", "namespace")),
        attribute_problems(package, manager("redis://127.0.0.1"), ("host_id", "json"), "a socketio.RedisManager"),
    )
