"""A socket as a Session viewer: the session core calls these; they emit contract events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from aict.extensions import socketio
from aict.realtime.transport.direct_output import send_binary_event, take_held
from aict.terminals.backend import ExitStatus


@lru_cache(maxsize=4096)
def _output_header(session_id: str) -> str:
    """terminal-output's header for a session, with '%d' where the offset goes."""
    quoted = json.dumps(session_id).replace("%", "%%")
    return '51-["terminal-output",{"sessionId":' + quoted + ',"offset":%d,"data":{"_placeholder":true,"num":0}}]'


@dataclass(eq=False)
class SocketViewer:
    key: str  # the socket id
    user_id: str

    def send_output(self, session_id: str, offset: int, data: bytes) -> None:
        # The most frequent event, encoded in one step (python-socketio's encoder walks the payload
        # for binary parts): a Socket.IO binary event, its header then its attachment, written
        # straight to the WebSocket when nothing is queued before it (aict.realtime.transport.direct_output).
        server = socketio.server
        eio_sid = server.manager.eio_sid_from_sid(self.key, "/")
        if eio_sid is None:
            return
        header = _output_header(session_id) % offset
        eio_socket = server.eio.sockets.get(eio_sid)
        held = take_held(eio_socket) if eio_socket is not None else []  # keystroke answers ride along
        if eio_socket is None or not send_binary_event(eio_socket, header, data, held):
            server.eio.send(eio_sid, header)
            server.eio.send(eio_sid, data)
            for message in held:
                server.eio.send(eio_sid, message)

    def send_exit(self, session_id: str, status: ExitStatus) -> None:
        socketio.server.emit("terminal-exit", {"sessionId": session_id, "exitCode": status.exit_code,
                                               "signal": status.signal}, to=self.key, namespace="/")

    def send_resized(self, session_id: str, cols: int, rows: int) -> None:
        socketio.server.emit("terminal-resized", {"sessionId": session_id, "cols": cols, "rows": rows},
                             to=self.key, namespace="/")


def notify_forced_detach(detached: list[tuple[str, str]]) -> None:
    """Tell sockets whose access was revoked that they no longer receive a session."""
    from flask import current_app

    connections = current_app.extensions["aict"].connections
    for session_id, sid in detached:
        connection = connections.get(sid)
        if connection is not None:
            connection.attached.discard(session_id)
        socketio.server.emit("error", {"code": "forbidden", "sessionId": session_id,
                                       "message": "Your access to this workspace was removed."},
                             to=sid, namespace="/")
