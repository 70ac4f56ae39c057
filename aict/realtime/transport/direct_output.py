"""terminal-output written straight to the client's WebSocket, not through engineio's queue (fast path).

engineio hands every packet to a writer greenlet through a queue: for each chunk of output that
is a queue put, a wake-up of the writer on a later pass of the loop, and its packet encoding.
Timed inside the server, an echo's output spent ~270 µs (p50) between leaving the session and
reaching the socket, more than the keystroke's whole way in. The session's greenlet now writes
small output (an echo, a prompt, a line) itself, header and attachment under the socket's send
lock so that nothing comes between them, whenever nothing is waiting in the queue or being written
by the writer, and the kernel holds no more than a few KiB (awaiting the peer's ACK): then nothing
sent before is overtaken, and the write cannot block. Otherwise, and on long-polling, the queue carries
it. An event's answer (a keystroke's ack) takes the same path, so that it does not fill the queue
that the echo behind it would then have to wait in. engineio_hooks exposes the socket's WebSocket
(direct_websocket) and whether its writer is idle (writer_idle).
"""

from __future__ import annotations

import array
import fcntl
import termios

from engineio.socket import Socket
from geventwebsocket.exceptions import WebSocketError

from aict.realtime.transport.websocket_frames import BoundedWebSocket

# Only what a nearly empty socket buffer takes at once: writing never waits, so a slow tab can never
# hold up the session's greenlet (and with it the other tabs). Bulk output keeps engineio's queue.
DIRECT_MAX_BYTES = 16 * 1024
# What the kernel may still hold for the socket (sent but not acknowledged, or not sent): a peer's
# delayed ACK keeps the last small write here for up to 40 ms. Requiring none sent the next echo to
# engineio's queue, whose writer runs only after everything else the loop has at hand: with a
# hundred busy sessions an echo waited 44 ms. This little leaves room for a whole small frame.
DIRECT_OUTSTANDING_BYTES = 4096


def send_binary_event(eio_socket: Socket, header: str, data: bytes, then: list[str] = ()) -> bool:
    """Write a Socket.IO binary event ('4' + header text, then the attachment), and the messages
    `then` behind it, on the socket's WebSocket now; False if it must go through engineio's queue."""
    ws = _writable_now(eio_socket, len(data))
    if ws is None:
        return False
    text = ws.OPCODE_TEXT
    return _send(ws, ((text, "4" + header), (ws.OPCODE_BINARY, data), *((text, "4" + m) for m in then)))


def hold(eio_socket: Socket, message: str) -> None:
    """Keep a message (a keystroke's answer) to leave in the same write as the socket's next output.

    Written on its own after the echo, it kept the server busy for ~200 µs after the echo left, and
    the client, woken onto the server's CPU, waited for it: the client read the echo ~260 µs after
    it was sent (p50, idle, timed on both ends), ~90 µs since the answer rides along."""
    held = getattr(eio_socket, "held_messages", None)
    if held is None:
        eio_socket.held_messages = [message]
    else:
        held.append(message)


def has_held(eio_socket: Socket) -> bool:
    return bool(getattr(eio_socket, "held_messages", None))


def take_held(eio_socket: Socket) -> list[str]:
    """The messages held for the socket, which the caller now sends (oldest first)."""
    held = getattr(eio_socket, "held_messages", None)
    if not held:
        return []
    eio_socket.held_messages = []
    return held


def send_text(eio_socket: Socket, text: str) -> bool:
    """Write one Engine.IO message packet ('4' + text) now (an event's answer); False as above."""
    ws = _writable_now(eio_socket, len(text))
    if ws is None:
        return False
    return _send(ws, ((ws.OPCODE_TEXT, "4" + text),))


def _writable_now(eio_socket: Socket, size: int) -> BoundedWebSocket | None:
    """The socket's WebSocket if nothing engineio holds could be overtaken and the write cannot wait."""
    if size > DIRECT_MAX_BYTES:
        return None
    ws = getattr(eio_socket, "direct_websocket", None)
    if (not isinstance(ws, BoundedWebSocket) or ws.closed or eio_socket.closed or not eio_socket.upgraded
            or eio_socket.upgrading or not getattr(eio_socket, "writer_idle", False)
            or not eio_socket.queue.empty() or not 0 <= _outstanding_bytes(ws) <= DIRECT_OUTSTANDING_BYTES):
        return None
    return ws


def _send(ws: BoundedWebSocket, frames) -> bool:
    try:
        ws.send_frames(frames)
    except WebSocketError:
        pass  # the connection is going away: its reader ends the session's viewer
    return True


def _outstanding_bytes(ws: BoundedWebSocket) -> int:
    """Bytes the kernel holds for the socket, not yet acknowledged by the peer (-1: unknown)."""
    try:
        fcntl.ioctl(ws.handler.socket.fileno(), termios.TIOCOUTQ, _outq, True)
    except (OSError, AttributeError):
        return -1
    return _outq[0]


_outq = array.array("i", [0])  # the ioctl's answer: written in place, nothing to allocate or unpack
