"""The socketio.Server aict runs: it refuses what the socket contract refuses (docs/api.md).

python-socketio alone would dispatch a client's '["disconnect"]' to the disconnect handler, drop
an event of an unknown name or an unparseable packet without an answer, and hold the attachments
of a binary event announcing any number of them. Here each of those is answered bad_request when
the client asked for an answer, counted against the socket's event rate, and dropped otherwise.
This runs on both paths (FAST_PATHS on or off): it is the contract, not a speed-up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import socketio
from engineio import json as engineio_json

from aict import protocol
from aict.errors import bad_request
from aict.realtime.transport.log_budget import log_bad_input
from aict.realtime.transport.versions import attribute_problems, method_problem, problem, problems_in

log = logging.getLogger(__name__)
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
# Messages a connection may send before it has logged in (its namespace connect accepted): a login
# attempt or a few. Past that it is disconnected; until then nothing it sends is dispatched.
PRE_LOGIN_MESSAGES = 8


class DepthSafeJson:
    """The JSON module Engine.IO and Socket.IO packets are decoded with (socketio.Server's `json`
    option): stdlib json, except that JSON nested past the parser's recursion limit is a ValueError,
    bad JSON like any other. As a RecursionError it escaped both libraries' handling: engineio's own
    websocket loop logged a traceback and closed the connection, and an event got no answer."""

    @staticmethod
    def dumps(*args, **kwargs):
        return engineio_json.dumps(*args, **kwargs)

    @staticmethod
    def loads(*args, **kwargs):
        try:
            return engineio_json.loads(*args, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class ContractServer(socketio.Server):
    """socketio.Server that answers events naming nothing it handles with bad_request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.throttle: Callable[[str], bool] | None = None  # sid -> over its event rate (refusals count)

    def send_terminal_output(self, sid: str, session_id: str, offset: int, data: bytes,
                             fields: dict | None = None) -> None:
        """terminal-output to one socket: a binary event, its header then its attachment. `fields`:
        more of the event's fields (a compressed chunk's, aict.realtime.output_compression)."""
        payload = {"sessionId": session_id, "offset": offset, "data": data}
        if fields:
            payload.update(fields)
        self.emit(protocol.TERMINAL_OUTPUT, payload, to=sid, namespace="/")

    def output_room(self, sid: str) -> int:
        """Bytes of terminal output the socket takes now. Unbounded here: only each attachment's
        flow-control window bounds it (the fast path also bounds the socket, output_budget)."""
        return 1 << 62

    def when_output_room(self, sid: str, key: object, callback) -> None:
        callback()

    def _handle_eio_message(self, eio_sid, data):
        if not self._logged_in(eio_sid) and not self._before_login(eio_sid, data):
            return
        awaited = self._binary_packet.get(eio_sid)  # this message is the attachment of a binary event admitted before
        if awaited is None and not self._admissible(eio_sid, data):
            return
        try:
            super()._handle_eio_message(eio_sid, data)
        except (LookupError, TypeError):
            if awaited is None:
                raise
            self._refuse_attachment(eio_sid, awaited)  # its placeholder names another attachment, or none
        except (ValueError, RecursionError):
            # python-socketio could not decode the packet (not JSON, an unknown type, or nested past
            # the parser's recursion limit), or rebuild a binary event from its attachment
            self._binary_packet.pop(eio_sid, None)
            ack_id = awaited.id if awaited is not None else _event_ack_id(data)
            if ack_id is None:
                log_bad_input(log, "socket %s sent a message that is not a Socket.IO packet", eio_sid)
                return
            self._refuse(eio_sid, ack_id, "An event must be a JSON array: its name, then its payload.")

    def _refuse_attachment(self, eio_sid, awaited) -> None:
        self._binary_packet.pop(eio_sid, None)
        if awaited.id is None:
            log_bad_input(log, "socket %s sent a binary event its attachment does not fit", eio_sid)
        else:
            self._refuse(eio_sid, awaited.id, "A binary event's placeholder must name its one attachment (num 0).")

    def _logged_in(self, eio_sid) -> bool:
        sid = self.manager.sid_from_eio_sid(eio_sid, "/")
        return sid is not None and self.manager.is_connected(sid, "/")

    def _before_login(self, eio_sid, data) -> bool:
        """A message from a connection that has not logged in: True to handle it (a namespace
        connect: the login attempt), False to drop it. Every such message counts; past
        PRE_LOGIN_MESSAGES the connection is closed."""
        eio_socket = self.eio.sockets.get(eio_sid)
        if eio_socket is None:
            return False
        count = eio_socket.aict_pre_login = getattr(eio_socket, "aict_pre_login", 0) + 1
        if count > PRE_LOGIN_MESSAGES:
            if not getattr(eio_socket, "aict_closing", False):
                eio_socket.aict_closing = True
                address = (self.environ.get(eio_sid) or {}).get("REMOTE_ADDR")
                log_bad_input(log, "socket %s from %s sent %d messages without logging in: disconnected",
                              eio_sid, address, count)
                self.eio.disconnect(eio_sid)
            return False
        return type(data) is str and data[:1] == "0"  # CONNECT; anything else is refused unread

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
        name = data[0] if type(data) is list and data and type(data[0]) is str else None
        if (namespace or "/") == "/" and (name is None or name in RESERVED_EVENTS
                                          or name not in self.handlers.get("/", ())):
            self._refuse(eio_sid, id, "An event must be a JSON array that starts with its name." if name is None
                         else f"There is no event {name[:64]!r}.")
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

    def _answer(self, eio_sid, ack) -> None:
        self._send_packet(eio_sid, ack)


def log_failure_once(eio_socket) -> None:
    """Log the exception being handled, once per connection and within the bad-input log budget: as
    engineio does, the connection outlives a message that fails, but garbage never floods the log."""
    if eio_socket is None or getattr(eio_socket, "failure_logged", False):
        return
    eio_socket.failure_logged = True
    log_bad_input(log, "a message from socket %s failed (further ones from this connection are not logged)",
                  eio_socket.sid, exc_info=True)


def _event_ack_id(data: object) -> int | None:
    """The ack id of an event packet of the default namespace (a type character, digits, body), if
    it has one: '2' for a text event, or what follows the attachment count's '-' of a binary one."""
    if type(data) is not str or data[:1] not in ("2", "-"):
        return None
    end = 1
    while end < len(data) and data[end].isdigit():
        end += 1
    return int(data[1:end]) if 1 < end <= 16 else None  # no int() of a megabyte of digits


def shape_problems() -> list[str]:
    """What ContractServer overrides and reads in python-socketio, where it differs."""
    package, server = "python-socketio", socketio.Server
    probe = server(async_mode="gevent")
    return problems_in(
        method_problem(package, server, "_handle_eio_message", ("self", "eio_sid", "data")),
        method_problem(package, server, "_handle_event", ("self", "eio_sid", "namespace", "id", "data")),
        method_problem(package, server, "_send_packet", ("self", "eio_sid", "pkt")),
        attribute_problems(package, probe, ("_binary_packet", "handlers", "manager", "packet_class", "eio"),
                           "a socketio.Server"),
        attribute_problems("python-engineio", probe.eio, ("sockets",), "an engineio.Server"),
        method_problem("python-engineio", type(probe.eio), "disconnect", ("self", "sid")),
        method_problem(package, type(probe.manager), "sid_from_eio_sid", ("self", "eio_sid", "namespace")),
        method_problem(package, type(probe.manager), "is_connected", ("self", "sid", "namespace")),
        None if getattr(socketio.packet, "ACK", None) == 3 else problem(package, "socketio.packet.ACK is not 3"),
    )
