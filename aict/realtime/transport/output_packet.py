"""terminal-output, the most frequent event, encoded by hand and written straight out (fast path).

python-socketio's encoder walks the payload for binary parts, builds a Packet and JSON-encodes it
for every chunk; this formats one string per session with the offset put in. The header must be
exactly what python-socketio would send: tests/unit/test_output_packet.py compares them, and so
does shape_problems() at start-up, for a session id that needs escaping.
"""

from __future__ import annotations

import json
from functools import lru_cache

import socketio

from aict.realtime.transport import output_budget
from aict.realtime.transport.direct_output import send_binary_event, take_held
from aict.realtime.transport.versions import method_problem, problem, problems_in


@lru_cache(maxsize=4096)
def _header_format(session_id: str) -> str:
    """terminal-output's header for a session, with '%d' where the offset goes."""
    quoted = json.dumps(session_id).replace("%", "%%")
    return '51-["terminal-output",{"sessionId":' + quoted + ',"offset":%d,"data":{"_placeholder":true,"num":0}}]'


def terminal_output_header(session_id: str, offset: int, fields: dict | None = None) -> str:
    """The Socket.IO packet of a terminal-output event without its one attachment (the data);
    `fields` follow the data's placeholder, as python-socketio would put them (a compressed chunk's)."""
    header = _header_format(session_id) % offset
    if fields:
        header = header[:-2] + "," + json.dumps(fields, separators=(",", ":"))[1:-1] + "}]"
    return header


def send_terminal_output(server: socketio.Server, sid: str, session_id: str, offset: int, data: bytes,
                         fields: dict | None = None) -> None:
    """A binary event, its header then its attachment, written straight to the WebSocket when nothing
    is queued before it (direct_output), with any keystroke answers held for the socket behind it."""
    eio_sid = server.manager.eio_sid_from_sid(sid, "/")
    if eio_sid is None:
        return
    header = terminal_output_header(session_id, offset, fields)
    eio_socket = server.eio.sockets.get(eio_sid)
    held = take_held(eio_socket) if eio_socket is not None else []
    if eio_socket is None or not send_binary_event(eio_socket, header, data, held):
        server.eio.send(eio_sid, header)
        server.eio.send(eio_sid, data)
        if eio_socket is not None:
            output_budget.queued(eio_socket, len(data))
        for message in held:
            server.eio.send(eio_sid, message)


def python_socketio_encoding(session_id: str, offset: int, data: bytes, fields: dict | None = None) -> list:
    """The same event as python-socketio encodes it: [header, attachment]."""
    return socketio.packet.Packet(socketio.packet.EVENT, namespace="/", data=[
        "terminal-output", {"sessionId": session_id, "offset": offset, "data": data, **(fields or {})}]).encode()


def shape_problems() -> list[str]:
    """Whether python-socketio still encodes terminal-output as the hand-made header does."""
    session_id, offset = 'probe "50%" é\u2028', 2**40 + 7
    expected = python_socketio_encoding(session_id, offset, b"\xff")
    made = [terminal_output_header(session_id, offset), b"\xff"]
    fields = {"encoding": "deflate-raw", "length": 300, "reset": True}
    expected_compressed = python_socketio_encoding(session_id, offset, b"\xff", fields)
    made_compressed = [terminal_output_header(session_id, offset, fields), b"\xff"]
    package = "python-socketio"
    return problems_in(
        None if expected == made else problem(package, f"terminal-output is encoded as {expected[0]!r}, "
                                                       f"the hand-made header is {made[0]!r}"),
        None if expected_compressed == made_compressed else problem(
            package, f"compressed terminal-output is encoded as {expected_compressed[0]!r}, "
                     f"the hand-made header is {made_compressed[0]!r}"),
        method_problem(package, type(socketio.Server(async_mode="gevent").manager), "eio_sid_from_sid",
                       ("self", "sid", "namespace")),
    )
