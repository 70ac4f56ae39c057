"""Per-keystroke and per-chunk events answered in the greenlet that read them.

python-socketio runs every event handler in a greenlet of its own. A greenlet hop costs ~50 µs on
this stack (measured up to ~180 µs under load), on every keystroke's way to the terminal and for
every flow-control ack. Events given an inline handler here skip it, and their text packets are
parsed in one step rather than through python-socketio's packet objects. The handler never
blocks: it answers the common case or returns None to let the event take the usual spawned path.

Before that, engineio made each WebSocket message a Packet object, logged it, and dispatched it
through two more calls: ~80 µs of a keystroke's ~180 µs from frame to terminal, timed inside the
server between keystrokes (the code runs cold then). install_message_shortcut() hands text
messages of an upgraded WebSocket straight to the same 'message' handler, in the same greenlet
and order; pings, pongs, binary attachments and everything before the upgrade keep engineio's path.
"""

from __future__ import annotations

import json
import json.scanner
import logging
import re
from collections.abc import Callable

import gevent
import socketio
from engineio.socket import Socket
from gevent.hub import get_hub

from aict.errors import bad_request
from aict.realtime.transport.direct_output import has_held, hold, send_text, take_held

log = logging.getLogger(__name__)
InlineHandler = Callable[[str, object], object]  # (sid, payload) -> ack data, or None: not handled here
# The Socket.IO server's own lifecycle names. python-socketio dispatches a client's event of that name
# to the lifecycle handler: '["disconnect"]' dropped a socket's identity and attachments while it
# stayed open, and '["connect", {"token": ...}]' re-ran the login check with another user's token.
RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect", "__disconnect_final"})
THROTTLED = {"ok": False, "error": {"code": "throttled", "message": "Too many events; slow down."}}
# A binary event's attachments are held until all of them have arrived. The only binary a client
# sends is terminal-input's bytes: one attachment. Announcing thousands let one connection pin as
# many 4 MiB messages (200 MiB held after 200 of them, growing); announcing none left it stuck.
MAX_ATTACHMENTS = 1
_BINARY_HEADER = re.compile(r"[56](\d{1,10})-")


class Later:
    """An inline handler's answer that leaves with the socket's next terminal output (in the same
    write), or when `schedule(send)` calls send, whichever comes first; not at once."""

    __slots__ = ("answer", "schedule")

    def __init__(self, answer, schedule: Callable[[Callable[[], None]], None]):
        self.answer, self.schedule = answer, schedule


class InlineEventsServer(socketio.Server):
    """socketio.Server that tries `inline_handlers` before spawning a handler greenlet."""

    inline_handlers: dict[str, InlineHandler]
    throttle: Callable[[str], bool] | None  # sid -> over its event rate (counts refused events too)

    @classmethod
    def adopt(cls, server: socketio.Server) -> InlineEventsServer:
        """Flask-SocketIO builds its own socketio.Server: give that instance this behaviour."""
        if not isinstance(server, cls):
            server.__class__ = cls
            server.inline_handlers = {}
            server.throttle = None
            server.eio.on("message", server._handle_eio_message)  # the bound method of the old class
        return server

    def _handle_eio_message(self, eio_sid, data):
        awaited = eio_sid in self._binary_packet  # this message is an attachment of a binary event
        if not awaited and not self._admissible(eio_sid, data):
            return
        # '2' (event), an optional ack id, then the JSON array: namespaced or binary packets, and
        # events without an inline handler, take python-socketio's path.
        if isinstance(data, str) and data[:1] == "2" and not awaited:
            start = 1
            while start < len(data) and data[start].isdigit():
                start += 1
            if data[start:start + 1] == "[":
                event = _json_array_at(data, start)
                if isinstance(event, list) and event and isinstance(event[0], str) \
                        and event[0] in self.inline_handlers:
                    self._handle_event(eio_sid, "/", int(data[1:start]) if start > 1 else None, event)
                    return
        try:
            super()._handle_eio_message(eio_sid, data)
        except ValueError:  # python-socketio could not decode the packet: not JSON
            ack_id = _event_ack_id(data)
            if ack_id is None:
                raise
            self._refuse(eio_sid, ack_id, "An event must be a JSON array: its name, then its payload.")

    def _admissible(self, eio_sid, data) -> bool:
        """False for binary that no event announced, binary acks (this server asks clients for
        none), and binary events announcing other than one attachment (refused as bad_request)."""
        if type(data) is not str:
            return False
        if data[:1] not in ("5", "6"):
            return True
        match = _BINARY_HEADER.match(data)
        if data[0] == "5" and match and 1 <= int(match.group(1)) <= MAX_ATTACHMENTS:
            return True
        if data[0] == "5":
            self._refuse(eio_sid, _event_ack_id(data[match.end() - 1:] if match else data),
                         f"An event may carry at most {MAX_ATTACHMENTS} binary attachment.")
        return False

    def _handle_event(self, eio_sid, namespace, id, data):
        own_namespace = (namespace or "/") == "/"
        name = data[0] if type(data) is list and data and type(data[0]) is str else None
        handler = self.inline_handlers.get(name) if own_namespace else None
        if handler is None and own_namespace and (name is None or name in RESERVED_EVENTS
                                                  or name not in self.handlers.get("/", ())):
            self._refuse(eio_sid, id, "An event must be a JSON array that starts with its name." if name is None
                         else f"There is no event {name[:64]!r}.")
            return
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

    def _refuse(self, eio_sid, id, message: str) -> None:
        """Answer an event that names nothing this server handles with bad_request (no ack id: ignore it)."""
        sid = self.manager.sid_from_eio_sid(eio_sid, "/")
        if id is None or sid is None or not self.manager.is_connected(sid, "/"):
            return
        throttled = self.throttle is not None and self.throttle(sid)
        answer = THROTTLED if throttled else {"ok": False, "error": bad_request(message).body()}
        self._answer(eio_sid, self.packet_class(socketio.packet.ACK, namespace="/", id=id, data=[answer]))

    def _hold(self, eio_sid, ack, schedule) -> None:
        encoded, eio_socket = ack.encode(), self.eio.sockets.get(eio_sid)
        if not isinstance(encoded, str) or eio_socket is None:
            schedule(lambda: self._answer(eio_sid, ack))
            return
        hold(eio_socket, encoded)  # aict.realtime.viewer sends it behind the next output

        def send_if_still_held():  # no output came for this socket, or it went to another
            if has_held(eio_socket):
                gevent.spawn(self._send_held, eio_sid, eio_socket)

        schedule(send_if_still_held)

    def _send_held(self, eio_sid, eio_socket) -> None:
        for message in take_held(eio_socket):
            if not send_text(eio_socket, message):
                self.eio.send(eio_sid, message)

    def _answer(self, eio_sid, ack) -> None:
        # Straight to the WebSocket when possible (aict.realtime.transport.direct_output): queued, a keystroke's
        # answer would make the echo right behind it take the queue as well. Answers scheduled
        # behind output come from a hub callback, where nothing may wait: a greenlet sends them.
        if gevent.getcurrent() is get_hub():
            gevent.spawn(self._answer, eio_sid, ack)
            return
        encoded = ack.encode()
        eio_socket = self.eio.sockets.get(eio_sid)
        if not (isinstance(encoded, str) and eio_socket is not None and send_text(eio_socket, encoded)):
            self._send_packet(eio_sid, ack)


def _event_ack_id(data: object) -> int | None:
    """The ack id of an event packet of the default namespace (a type character, digits, body), if
    it has one: '2' for a text event, or what follows the attachment count's '-' of a binary one."""
    if type(data) is not str or data[:1] not in ("2", "-"):
        return None
    end = 1
    while end < len(data) and data[end].isdigit():
        end += 1
    return int(data[1:end]) if 1 < end <= 16 else None  # no int() of a megabyte of digits


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
_shortcut_installed = False


def install_message_shortcut() -> None:
    """Deliver engineio message packets read from a WebSocket without engineio's Packet (once)."""
    global _shortcut_installed
    if _shortcut_installed:
        return
    _shortcut_installed = True
    handle_websocket = Socket._websocket_handler

    def _websocket_handler(self, ws):
        wait = ws.wait
        failures = 0

        def wait_for_what_engineio_handles():
            nonlocal failures
            while True:
                data = wait()
                # '4' + text: an Engine.IO message, what engineio's receive() would pass on as is.
                if type(data) is str and data[:1] == "4" and self.upgraded and not self.closed:
                    handler = self.server.handlers.get("message")
                    if handler is not None:
                        try:
                            handler(self.sid, data[1:])
                        except Exception:  # as engineio does: the connection outlives a handler's error,
                            failures += 1  # but a client sending garbage gets one traceback, not a log flood
                            if failures == 1:
                                log.exception("a message from socket %s failed (further ones from this "
                                              "connection are not logged)", self.sid)
                        continue
                return data

        ws.wait = wait_for_what_engineio_handles
        return handle_websocket(self, ws)

    Socket._websocket_handler = _websocket_handler
