"""Reading client WebSocket frames at C speed, and never more than the transport's limit.

gevent-websocket unmasks every client frame and checks its UTF-8 byte by byte in Python: a
1 MiB paste held the event loop (every terminal of every user) for about half a second, and a
frame of any announced length was read into memory whole. That happens before Socket.IO has
seen a token, so anyone could stall the server. Here a message that would exceed
MAX_MESSAGE_BYTES is refused (close code 1009) from its frame header, before its payload is read;
unmasking is one big-integer XOR; text is checked by decoding it once. Close frames carry their
status code (gevent-websocket sends them empty). Frames are sent whole, under the connection's
send lock. This runs on both paths (FAST_PATHS on or off): the limit, 1009 and 1007 are the
contract (docs/api.md), and gevent-websocket alone would hold any frame and stall the loop.
"""

from __future__ import annotations

import struct

from geventwebsocket.exceptions import FrameTooLargeException, ProtocolError, WebSocketError
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import Header, WebSocket

from aict.realtime.transport.versions import method_problem, problem, problems_in

DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
CLOSE_TOO_BIG = 1009
LARGE_FRAME_BYTES = 64 * 1024


def frame_header(opcode: int, length: int) -> bytes:
    """The header of a final, unmasked frame (what a server sends)."""
    if length < 126:
        return bytes((0x80 | opcode, length))
    if length <= 0xFFFF:
        return struct.pack("!BBH", 0x80 | opcode, 126, length)
    return struct.pack("!BBQ", 0x80 | opcode, 127, length)


def unmask(payload: bytes, mask: bytes) -> bytes:
    """RFC 6455 §5.3: XOR with the 4-byte key repeated, done on whole integers instead of bytes."""
    n = len(payload)
    if not n:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


class BoundedWebSocket(WebSocket):
    """gevent-websocket's WebSocket with a fast, bounded read_message (no new state: see adopt())."""

    __slots__ = ()

    @classmethod
    def adopt(cls, websocket: WebSocket) -> None:
        """Turn the handler's freshly made WebSocket into this class (same slots, same state)."""
        if type(websocket) is WebSocket:
            websocket.__class__ = cls

    def _limit(self) -> int:
        return getattr(self.handler, "max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES)

    def _read_payload(self, header: Header) -> bytes:
        payload = self.raw_read(header.length) if header.length else b""
        if len(payload) != header.length:
            raise WebSocketError("Unexpected EOF reading frame payload")
        return unmask(payload, header.mask) if header.mask else payload

    def close(self, code: int = 1000, message: bytes | str = b"") -> None:
        """Send a close frame with its status code (once), then drop the stream; the handler closes the socket."""
        if not self.closed:
            reason = message.encode() if isinstance(message, str) else bytes(message or b"")
            try:
                self.send_frame(struct.pack("!H", code) + reason[:123], opcode=self.OPCODE_CLOSE)
            except WebSocketError:
                pass  # the peer is gone: nothing to tell it
        self.closed = True
        self.stream = self.raw_write = self.raw_read = self.environ = None

    def send_frame(self, message, opcode) -> None:
        """One frame, whole (see send_frames)."""
        self.send_frames(((opcode, message),))

    def send_frames(self, frames) -> None:
        """(opcode, payload) frames, back to back and whole: greenlets that send on this socket
        (engineio's writer, aict.realtime.transport.direct_output, the reader answering a ping, a close) take turns,
        so a frame is never split by another one when a send has to wait, and a Socket.IO binary
        event's header and attachment stay together. Written with plain sends (gevent's sendall
        asks the kernel for SO_SNDBUF first: a syscall per call); a large payload is not copied
        behind its header."""
        if self.closed:
            raise WebSocketError("Connection is already closed")
        pending, chunks = b"", []
        for opcode, message in frames:
            if type(message) is str:
                message = message.encode()
            elif type(message) is not bytes:
                message = bytes(message or b"")
            pending += frame_header(opcode, len(message))
            if len(message) > LARGE_FRAME_BYTES:
                chunks += [pending, message]
                pending = b""
            else:
                pending += message
        if pending:
            chunks.append(pending)
        sock, lock = self.handler.socket, self.handler.send_lock
        try:
            with lock:
                for chunk in chunks:
                    sent = sock.send(chunk)
                    if sent < len(chunk):
                        sock.sendall(memoryview(chunk)[sent:])
        except OSError as exc:
            raise WebSocketError("Socket is dead") from exc

    def read_message(self):
        """The next text (str) or binary (bytes) message, answering pings and closes on the way."""
        limit = self._limit()
        opcode, parts, size = None, [], 0
        while True:
            header = Header.decode_header(self.stream)
            if header.flags:
                raise ProtocolError("Reserved bits set in a frame header")
            kind = header.opcode
            if kind in (self.OPCODE_PING, self.OPCODE_PONG, self.OPCODE_CLOSE):
                payload = self._read_payload(header)  # control frames are at most 125 bytes
                if kind == self.OPCODE_PING:
                    self.handle_ping(header, payload)
                    continue
                if kind == self.OPCODE_PONG:
                    continue
                self.handle_close(header, payload)
                return None
            if kind in (self.OPCODE_TEXT, self.OPCODE_BINARY):
                if opcode is not None:
                    raise ProtocolError("A new message began before the last one ended")
                opcode = kind
            elif kind == self.OPCODE_CONTINUATION:
                if opcode is None:
                    raise ProtocolError("A continuation frame without a message")
            else:
                raise ProtocolError(f"Unexpected opcode {kind!r}")
            size += header.length
            if size > limit:  # refuse before reading (and holding) the payload
                self.close(CLOSE_TOO_BIG, b"message too big")
                raise FrameTooLargeException(f"a message of more than {limit} bytes")
            parts.append(self._read_payload(header))
            if header.fin:
                break
        message = parts[0] if len(parts) == 1 else b"".join(parts)
        if opcode == self.OPCODE_TEXT:
            return self._decode_bytes(message)  # invalid UTF-8 closes with 1007
        return message


def shape_problems() -> list[str]:
    """What BoundedWebSocket replaces and reads in gevent-websocket, where it differs."""
    package = "gevent-websocket"
    wanted = {"environ", "closed", "stream", "raw_write", "raw_read", "handler"}
    slots = set(getattr(WebSocket, "__slots__", ()))
    return problems_in(
        # adopt() swaps the class of the handler's WebSocket: only a subclass with no new state can
        None if wanted <= slots else problem(package, f"WebSocket.__slots__ lacks {sorted(wanted - slots)}"),
        method_problem(package, WebSocket, "read_message", ("self",)),
        method_problem(package, WebSocket, "send_frame", ("self", "message", "opcode")),
        method_problem(package, WebSocket, "close", ("self", "code", "message")),
        method_problem(package, WebSocket, "handle_ping", ("self", "header", "payload")),
        method_problem(package, WebSocket, "handle_close", ("self", "header", "payload")),
        method_problem(package, WebSocket, "_decode_bytes", ("self", "bytestring")),
        method_problem(package, Header, "decode_header", ("cls", "stream")),
        method_problem(package, WebSocketHandler, "run_websocket", ("self",)),
    )
