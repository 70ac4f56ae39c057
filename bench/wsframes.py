"""Reading WebSocket messages for the benchmark clients, aict's and terminado's alike.

websocket-client connects and sends. It also reads, but every frame with several small recv
calls (header, length, then the payload 16 KiB at a time), each behind a poll() while a timeout
is set: under a flood that is most of a client's CPU, taken from the 2 cores the terminal and the
server share. This reads whatever the socket holds in one call and cuts frames out of it.
"""

from __future__ import annotations

import websocket

OPCODE_CONTINUATION, OPCODE_TEXT, OPCODE_BINARY = 0x0, 0x1, 0x2
OPCODE_CLOSE, OPCODE_PING = 0x8, 0x9
PIECE = 1 << 20
BIG_FRAME = 64 * 1024  # payloads from this size on skip the shared buffer
MID_FRAME_TIMEOUT = 30.0


class FrameReader:
    def __init__(self, ws: websocket.WebSocket):
        self.ws = ws
        self._buf = bytearray()
        self._pos = 0
        self._scratch = bytearray(PIECE)
        self._view = memoryview(self._scratch)
        self._fragments: list[bytes] = []
        self._first_opcode = 0

    def settimeout(self, seconds: float | None) -> None:
        self.ws.sock.settimeout(seconds)

    def recv_data(self) -> tuple[int, bytes | bytearray]:
        """(opcode, payload) of the next whole message; TimeoutError if none arrives in time."""
        while True:
            frame = self._next_frame()
            if frame is None:
                self._fill()
                continue
            fin, opcode, payload = frame
            if opcode == OPCODE_PING:
                self.ws.pong(payload)
                continue
            if opcode >= OPCODE_CLOSE:  # close, pong
                return opcode, payload
            if opcode != OPCODE_CONTINUATION:
                self._first_opcode = opcode
            if not fin:
                self._fragments.append(payload)
                continue
            if self._fragments:
                payload = b"".join([*self._fragments, payload])
                self._fragments.clear()
            return self._first_opcode, payload

    def recv_text(self) -> str:
        opcode, payload = self.recv_data()
        if opcode == OPCODE_CLOSE:
            raise ConnectionError("the server closed the connection")
        return payload.decode()

    def _fill(self) -> None:
        n = self.ws.sock.recv_into(self._scratch)  # TimeoutError (socket.timeout) when none comes in time
        if n == 0:
            raise ConnectionError("the server closed the connection")
        if self._pos:
            del self._buf[:self._pos]  # cheap: a bytearray drops its head without moving the rest
            self._pos = 0
        self._buf += self._view[:n]

    def _next_frame(self) -> tuple[bool, int, bytes | bytearray] | None:
        buf, pos = self._buf, self._pos
        available = len(buf) - pos
        if available < 2:
            return None
        first, second = buf[pos], buf[pos + 1]
        if second & 0x80:
            raise ConnectionError("a masked frame from the server")
        length, header = second & 0x7F, 2
        if length == 126:
            if available < 4:
                return None
            length, header = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
        elif length == 127:
            if available < 10:
                return None
            length, header = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
        start = pos + header
        if available < header + length:
            if length < BIG_FRAME or available < header:
                return None
            return bool(first & 0x80), first & 0x0F, self._receive_big(start, length)
        self._pos = start + length
        return bool(first & 0x80), first & 0x0F, bytes(buf[start:self._pos])

    def _receive_big(self, start: int, length: int) -> bytearray:
        """A large payload is received straight into its own buffer: no copy through _buf."""
        payload = bytearray(length)
        have = len(self._buf) - start
        payload[:have] = self._buf[start:]
        self._buf.clear()
        self._pos = 0
        view, sock = memoryview(payload), self.ws.sock
        timeout = sock.gettimeout()
        if timeout is not None and timeout < MID_FRAME_TIMEOUT:
            sock.settimeout(MID_FRAME_TIMEOUT)  # a short wait must not cut a frame in half
        try:
            while have < length:
                n = sock.recv_into(view[have:])
                if n == 0:
                    raise ConnectionError("the server closed the connection")
                have += n
        finally:
            sock.settimeout(timeout)
        return payload
