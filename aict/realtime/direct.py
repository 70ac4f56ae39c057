"""terminal-output written straight to the client's WebSocket, not through engineio's queue.

engineio hands every packet to a writer greenlet through a queue: for each chunk of output that
is a queue put, a wake-up of the writer on a later pass of the loop, and its packet encoding.
Timed inside the server, an echo's output spent ~270 µs (p50) between leaving the session and
reaching the socket, more than the keystroke's whole way in. The session's greenlet now writes
small output (an echo, a prompt, a line) itself, header and attachment under the socket's send
lock so that nothing comes between them, whenever nothing is waiting in the queue, being written
by the writer, or unsent in the kernel: then nothing sent before is overtaken, and the write
cannot block. Otherwise, and on long-polling, the queue carries it.
"""

from __future__ import annotations

import fcntl
import struct
import termios

from engineio.socket import Socket
from geventwebsocket.exceptions import WebSocketError

from aict.realtime.frames import BoundedWebSocket

# Only what an empty socket buffer takes at once: writing never waits, so a slow tab can never hold
# up the session's greenlet (and with it the other tabs). Bulk output keeps engineio's queue.
DIRECT_MAX_BYTES = 16 * 1024
_installed = False


def install() -> None:
    """Teach engineio's Socket to expose its WebSocket and whether its writer is idle (once)."""
    global _installed
    if _installed:
        return
    _installed = True
    handle_websocket, poll = Socket._websocket_handler, Socket.poll

    def _websocket_handler(self, ws):
        self.direct_websocket = getattr(ws, "_sock", None)  # engineio's wrapper around gevent-websocket's
        try:
            return handle_websocket(self, ws)
        finally:
            self.direct_websocket = None

    def polling(self):
        # The writer calls poll() once it has written everything it took: idle from here until
        # it takes the next packets (which it does without yielding once they are there).
        self.writer_idle = True
        try:
            return poll(self)
        finally:
            self.writer_idle = False

    Socket._websocket_handler = _websocket_handler
    Socket.poll = polling


def send_binary_event(eio_socket: Socket, header: str, data: bytes) -> bool:
    """Write a Socket.IO binary event ('4' + header text, then the attachment) on the socket's
    WebSocket now; False if it must go through engineio's queue instead."""
    if len(data) > DIRECT_MAX_BYTES:
        return False
    ws = getattr(eio_socket, "direct_websocket", None)
    if (not isinstance(ws, BoundedWebSocket) or ws.closed or eio_socket.closed or not eio_socket.upgraded
            or eio_socket.upgrading or not getattr(eio_socket, "writer_idle", False)
            or not eio_socket.queue.empty() or _unsent_bytes(ws) != 0):
        return False
    try:
        ws.send_frames(((ws.OPCODE_TEXT, "4" + header), (ws.OPCODE_BINARY, data)))
    except WebSocketError:
        pass  # the connection is going away: its reader ends the session's viewer
    return True


def _unsent_bytes(ws: BoundedWebSocket) -> int:
    try:
        return struct.unpack("i", fcntl.ioctl(ws.handler.socket.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
    except (OSError, AttributeError):
        return -1
