"""A socket as a Session viewer: the session core calls these; they emit contract events."""

from __future__ import annotations

from dataclasses import dataclass, field

import gevent
from gevent.hub import get_hub

from aict import protocol
from aict.extensions import socketio
from aict.realtime.output_compression import OutputCompressor
from aict.terminals.backend import ExitStatus


@dataclass(eq=False)
class SocketViewer:
    key: str  # the socket id
    user_id: str
    attached: set[str] = field(default_factory=set)  # the connection's attached session ids
    read_only: bool = False  # attached with readOnly: a viewer whatever a membership change says
    username: str | None = None  # what others see in terminal-viewers
    # attached with compress: this attachment's deflate stream (a new attachment, a new viewer: a new stream)
    compressor: OutputCompressor | None = None
    stopped: bool = False  # detached or attached anew: a chunk still being compressed is not sent

    def send_output(self, session_id: str, offset: int, data: bytes) -> None:
        if self.compressor is None:
            socketio.server.send_terminal_output(self.key, session_id, offset, data)
            return
        # A big chunk is compressed in slices, letting the rest of the server run in between (its
        # sender, the terminal's reader or the terminal host's link, waits meanwhile, and keeps the order).
        pause = None if gevent.getcurrent() is get_hub() else gevent.idle
        deflated = self.compressor.encode(data, pause)
        if self.stopped:  # a detach or a new attachment came meanwhile: its stream alone goes on
            return
        if deflated is None:
            socketio.server.send_terminal_output(self.key, session_id, offset, data)
        else:
            socketio.server.send_terminal_output(self.key, session_id, offset, deflated.data, deflated.fields())

    def stop(self) -> None:
        self.stopped = True

    def room(self) -> int:
        return socketio.server.output_room(self.key)

    def when_room(self, callback) -> None:
        socketio.server.when_output_room(self.key, callback, callback)

    def send_exit(self, session_id: str, status: ExitStatus) -> None:
        socketio.server.emit(protocol.TERMINAL_EXIT, {"sessionId": session_id, "exitCode": status.exit_code,
                                               "signal": status.signal}, to=self.key, namespace="/")

    def send_resized(self, session_id: str, cols: int, rows: int) -> None:
        socketio.server.emit(protocol.TERMINAL_RESIZED, {"sessionId": session_id, "cols": cols, "rows": rows},
                             to=self.key, namespace="/")

    def send_revoked(self, session_id: str) -> None:
        """The user's access to the workspace was removed: this socket no longer receives the session."""
        self.attached.discard(session_id)
        self.stop()
        socketio.server.emit(protocol.ERROR, {"code": "forbidden", "sessionId": session_id,
                                       "message": "Your access to this workspace was removed."},
                             to=self.key, namespace="/")

    def send_detached(self, session_id: str) -> None:
        """An owner or admin of the workspace detached this socket: no more output of the session."""
        self.attached.discard(session_id)
        socketio.server.emit(protocol.ERROR, {"code": "detached", "sessionId": session_id,
                                              "message": "The workspace's owner or an administrator detached you "
                                                         "from this terminal."},
                             to=self.key, namespace="/")


@dataclass(eq=False)
class HeldViewer(SocketViewer):
    """A SocketViewer that keeps what it is sent until release(): a new terminal's first output
    waits for the answer that tells the page the terminal's id."""

    held: list | None = field(default_factory=list)

    def _hold(self, send, *args) -> None:
        if self.held is not None:
            self.held.append((send, args))
        else:
            send(*args)

    def send_output(self, session_id: str, offset: int, data: bytes) -> None:
        self._hold(super().send_output, session_id, offset, data)

    def send_exit(self, session_id: str, status: ExitStatus) -> None:
        self._hold(super().send_exit, session_id, status)

    def send_resized(self, session_id: str, cols: int, rows: int) -> None:
        self._hold(super().send_resized, session_id, cols, rows)

    def release(self) -> None:
        held = self.held or []
        while held:  # what arrives while a send yields joins the queue: the order holds
            send, args = held.pop(0)
            send(*args)
        self.held = None
