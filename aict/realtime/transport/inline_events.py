"""Per-keystroke and per-chunk events answered in the greenlet that read them (fast path).

python-socketio runs every event handler in a greenlet of its own. A greenlet hop costs ~50 µs on
this stack (measured up to ~180 µs under load), on every keystroke's way to the terminal and for
every flow-control ack. Events given an inline handler here skip it, and their text packets are
parsed in one step rather than through python-socketio's packet objects. The handler never
blocks: it answers the common case or returns None to let the event take the usual spawned path.
A keystroke's answer (Later) waits for the echo and leaves in the same write (direct_output).
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable

import gevent
import socketio
from gevent.hub import get_hub

from aict.realtime.transport import output_budget, output_packet
from aict.realtime.transport.contract_events import ContractServer
from aict.realtime.transport.direct_output import has_held, hold, send_text, take_held
from aict.realtime.transport.versions import attribute_problems, method_problem, problems_in

InlineHandler = Callable[[str, object], object]  # (sid, payload) -> ack data, or None: not handled here


class Later:
    """An inline handler's answer that leaves with the socket's next terminal output (in the same
    write), or when `schedule(send)` calls send, whichever comes first; not at once."""

    __slots__ = ("answer", "schedule")

    def __init__(self, answer, schedule: Callable[[Callable[[], None]], None]):
        self.answer, self.schedule = answer, schedule


class InlineEventsServer(ContractServer):
    """ContractServer that tries `inline_handlers` before spawning a handler greenlet, and writes
    terminal-output and answers straight to the WebSocket when it can."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.inline_handlers: dict[str, InlineHandler] = {}
        self.output_budget = 2 * 1024 * 1024  # bytes of output one socket holds queued (FLOW_WINDOW_BYTES)

    def send_terminal_output(self, sid: str, session_id: str, offset: int, data: bytes,
                             fields: dict | None = None) -> None:
        output_packet.send_terminal_output(self, sid, session_id, offset, data, fields)

    def output_room(self, sid: str) -> int:
        eio_socket = self._eio_socket(sid)
        return 0 if eio_socket is None else output_budget.room(eio_socket, self.output_budget)

    def when_output_room(self, sid: str, key: object, callback) -> None:
        eio_socket = self._eio_socket(sid)
        if eio_socket is not None:  # else the socket is gone, and its attachments with it
            output_budget.when_room(eio_socket, key, callback)

    def _eio_socket(self, sid: str):
        eio_sid = self.manager.eio_sid_from_sid(sid, "/")
        return None if eio_sid is None else self.eio.sockets.get(eio_sid)

    def _handle_eio_message(self, eio_sid, data):
        # '2' (event), an optional ack id, then the JSON array: namespaced or binary packets, events
        # without an inline handler, and attachments awaited by a binary event take the usual path.
        if type(data) is str and data[:1] == "2" and eio_sid not in self._binary_packet:
            start = 1
            while start < len(data) and data[start].isdigit():
                start += 1
            if data[start:start + 1] == "[":
                event = _json_array_at(data, start)
                if isinstance(event, list) and event and isinstance(event[0], str) \
                        and event[0] in self.inline_handlers:
                    self._handle_event(eio_sid, "/", int(data[1:start]) if start > 1 else None, event)
                    return
        super()._handle_eio_message(eio_sid, data)

    def _handle_event(self, eio_sid, namespace, id, data):
        name = data[0] if type(data) is list and data and type(data[0]) is str else None
        handler = self.inline_handlers.get(name) if (namespace or "/") == "/" else None
        if handler is not None:
            sid = self.manager.sid_from_eio_sid(eio_sid, "/")
            if sid is None or not self.manager.is_connected(sid, "/"):
                return
            answer = handler(sid, data[1] if len(data) > 1 else None)
            if answer is not None:
                schedule = None
                if isinstance(answer, Later):
                    answer, schedule = answer.answer, answer.schedule
                if id is not None:  # as python-socketio answers: a tuple is the ack's argument list
                    args = list(answer) if isinstance(answer, tuple) else [answer]
                    ack = self.packet_class(socketio.packet.ACK, namespace="/", id=id, data=args)
                    if schedule is None:
                        self._answer(eio_sid, ack)
                    else:
                        self._hold(eio_sid, ack, schedule)
                return
        super()._handle_event(eio_sid, namespace, id, data)

    def _hold(self, eio_sid, ack, schedule) -> None:
        encoded, eio_socket = ack.encode(), self.eio.sockets.get(eio_sid)
        if not isinstance(encoded, str) or eio_socket is None:
            schedule(lambda: self._answer(eio_sid, ack))
            return
        hold(eio_socket, encoded)  # output_packet sends it behind the next output

        def send_if_still_held():  # no output came for this socket, or it went to another
            if has_held(eio_socket):
                gevent.spawn(self._send_held, eio_sid, eio_socket)

        schedule(send_if_still_held)

    def _send_held(self, eio_sid, eio_socket) -> None:
        for message in take_held(eio_socket):
            if not send_text(eio_socket, message):
                self.eio.send(eio_sid, message)

    def _answer(self, eio_sid, ack) -> None:
        # Straight to the WebSocket when possible (direct_output): queued, a keystroke's answer
        # would make the echo right behind it take the queue as well. Answers scheduled behind
        # output come from a hub callback, where nothing may wait: a greenlet sends them.
        if gevent.getcurrent() is get_hub():
            gevent.spawn(self._answer, eio_sid, ack)
            return
        encoded = ack.encode()
        eio_socket = self.eio.sockets.get(eio_sid)
        if not (isinstance(encoded, str) and eio_socket is not None and send_text(eio_socket, encoded)):
            self._send_packet(eio_sid, ack)


def _json_array_at(text: str, start: int) -> object:
    """The JSON value that fills `text` from `start` on, or None: json's C scanner called directly.
    json.loads wraps it in two Python layers and a regex: a keystroke's parse took 31 µs, now 14
    (p50, timed in the server between keystrokes; the code runs cold then). Anything this refuses
    takes python-socketio's path, which decides as before."""
    try:
        value, end = _scan_json(text, start)
    except (StopIteration, ValueError, RecursionError):
        return None
    return value if end == len(text) else None


_scan_json = json.scanner.make_scanner(json.JSONDecoder())


def shape_problems() -> list[str]:
    """What InlineEventsServer reads in python-socketio and engineio beyond ContractServer."""
    probe = socketio.Server(async_mode="gevent")
    return problems_in(
        attribute_problems("python-engineio", probe.eio, ("sockets",), "an engineio.Server"),
        method_problem("python-engineio", type(probe.eio), "send", ("self", "sid", "data")),
    )
