"""The framing between web processes and the terminal host, over a local stream socket.

Every frame is a 5-byte header (payload length, kind) and its payload. The three frames of the hot
path are binary, so a terminal's bytes are never encoded: output (host to web), input and ack (web
to host). Everything else (requests, replies, events) is a JSON object. Measured in bench/ against
JSON for every frame: output crosses at the bare socket's speed, and a keystroke costs one frame
each way plus its acknowledgement.

Both ends write through a FrameLink: frames are gathered and written at the end of the loop's
iteration (an echo and the acknowledgement of its keystroke leave in one write), never blocking
the greenlet that sends; a link holding more than HIGH_WATER unsent tells its senders to wait
(until it is down to LOW_WATER).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import struct
from collections.abc import Callable

import gevent
from gevent.hub import get_hub
from gevent.socket import wait_write

log = logging.getLogger(__name__)

HEADER = struct.Struct(">IB")
MESSAGE, OUTPUT, INPUT, ACK = 1, 2, 3, 4
MAX_FRAME = 64 * 1024 * 1024  # a frame claiming more than this is a broken peer: the link is closed
HIGH_WATER = 4 * 1024 * 1024  # unsent bytes past which senders of output wait (flow control)
# Senders that waited are called back once the link is down to this: with room for a real send. Called
# back as soon as the link was under HIGH_WATER, a sender that needs more room than is left (the
# session core waits for MIN_ROOM) was called back at once, inside its own send, and the call-back
# was lost: 60 replays over one link stalled (27 MiB of 240 in 120 s, bench/busy_memory.py).
LOW_WATER = HIGH_WATER // 2
READ_SIZE = 256 * 1024
IOV_MAX = os.sysconf("SC_IOV_MAX")  # parts per writev

_OUTPUT = struct.Struct(">QBB")  # offset, session id length, viewer key length
_INPUT = struct.Struct(">IB")  # sequence number, session id length
# An input's sequence number has this bit set when the web process already answered it `ok` (a host
# that does not know the bit just answers the same number). Numbers go round below it.
PROMISED = 1 << 31
_ACK = struct.Struct(">QBB")  # offset, session id length, viewer key length


class LinkClosed(Exception):
    """The other end went away."""


def message(body: dict) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    return HEADER.pack(len(payload), MESSAGE) + payload


def output(session_id: str, key: str, offset: int, data: bytes) -> list[bytes]:
    sid, k = session_id.encode(), key.encode()
    head = _OUTPUT.pack(offset, len(sid), len(k)) + sid + k
    return [HEADER.pack(len(head) + len(data), OUTPUT) + head, data]


def parse_output(payload: memoryview) -> tuple[str, str, int, bytes]:
    offset, sid_len, key_len = _OUTPUT.unpack_from(payload)
    start = _OUTPUT.size
    sid = bytes(payload[start:start + sid_len]).decode()
    key = bytes(payload[start + sid_len:start + sid_len + key_len]).decode()
    return sid, key, offset, bytes(payload[start + sid_len + key_len:])


def input_frame(seq: int, session_id: str, data: bytes) -> list[bytes]:
    sid = session_id.encode()
    head = _INPUT.pack(seq, len(sid)) + sid
    return [HEADER.pack(len(head) + len(data), INPUT) + head, data]


def parse_input(payload: memoryview) -> tuple[int, str, bytes]:
    seq, sid_len = _INPUT.unpack_from(payload)
    start = _INPUT.size
    return seq, bytes(payload[start:start + sid_len]).decode(), bytes(payload[start + sid_len:])


def ack(session_id: str, key: str, offset: int) -> bytes:
    sid, k = session_id.encode(), key.encode()
    head = _ACK.pack(offset, len(sid), len(k)) + sid + k
    return HEADER.pack(len(head), ACK) + head


def parse_ack(payload: memoryview) -> tuple[str, str, int]:
    offset, sid_len, key_len = _ACK.unpack_from(payload)
    start = _ACK.size
    return (bytes(payload[start:start + sid_len]).decode(),
            bytes(payload[start + sid_len:start + sid_len + key_len]).decode(), offset)


class Outbox:
    """What both kinds of link share: frames queued without blocking, flow control on what is
    unsent, frames read in, and closing. A subclass says how queued bytes leave (`_kick`)."""

    def __init__(self, on_frame: Callable[[int, memoryview], None] | None,
                 on_close: Callable[[], None] | None, name: str):
        self.name = name
        self.on_frame = on_frame
        self.on_close = on_close
        self.closed = False
        self._out: list[bytes] = []
        self._out_bytes = 0
        self._drained: list[Callable[[], None]] = []

    @property
    def unsent(self) -> int:
        return self._out_bytes

    def send(self, *parts: bytes) -> None:
        """Queue bytes (whole frames) to write; never blocks. Written at the end of this loop pass."""
        if self.closed:
            return
        for part in parts:
            if part:
                self._out.append(part)
                self._out_bytes += len(part)
        self._kick()

    def _kick(self) -> None:
        raise NotImplementedError

    def send_message(self, body: dict) -> None:
        self.send(message(body))

    def when_drained(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the link holds at most LOW_WATER unsent (at once if it does)."""
        if self._out_bytes <= LOW_WATER or self.closed:
            callback()
        else:
            self._drained.append(callback)

    def _notify_drained(self) -> None:
        if self._drained and self._out_bytes <= LOW_WATER:
            callbacks, self._drained = self._drained, []
            for callback in callbacks:
                try:
                    callback()
                except Exception:
                    log.exception("%s: drain callback failed", self.name)

    def _frames_in(self, data, start: int = 0) -> int:
        """Hand each whole frame of `data` from `start` to on_frame; returns where the first
        incomplete one begins. LinkClosed for a frame no peer of ours would send."""
        view = memoryview(data)
        try:
            while len(data) - start >= HEADER.size:
                length, kind = HEADER.unpack_from(data, start)
                if length > MAX_FRAME:
                    raise LinkClosed(f"{self.name}: a frame of {length} bytes")
                end = start + HEADER.size + length
                if end > len(data):
                    break
                try:
                    self.on_frame(kind, view[start + HEADER.size:end])
                except LinkClosed:
                    raise
                except Exception:
                    log.exception("%s: handling a frame failed", self.name)
                start = end
        finally:
            view.release()
        return start

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._out, self._out_bytes = [], 0
        self._closing()
        callbacks, self._drained = self._drained, []
        for callback in callbacks:
            callback()
        if self.on_close is not None:
            try:
                self.on_close()
            except Exception:
                log.exception("%s: close callback failed", self.name)

    def _closing(self) -> None:
        """Release what the link holds (its socket, its greenlets)."""


class FrameLink(Outbox):
    """One connected stream socket: frames in (to `on_frame(kind, payload)`) and frames out."""

    def __init__(self, sock: socket.socket, on_frame: Callable[[int, memoryview], None],
                 on_close: Callable[[], None] | None = None, name: str = "link"):
        super().__init__(on_frame, on_close, name)
        self.sock = sock
        self._flush_scheduled = False
        self._writer: gevent.Greenlet | None = None
        # gevent keeps the descriptor itself non-blocking: os.write on it never stops the loop
        # (writes happen in the hub, at the end of a loop pass), while recv waits cooperatively.
        self._fd = sock.fileno()
        self._reader = gevent.spawn(self._read_loop)

    # ---- sending ------------------------------------------------------------------------------
    def _kick(self) -> None:
        if not self._flush_scheduled and self._writer is None:
            self._flush_scheduled = True
            get_hub().loop.run_callback(self._flush)

    def _flush(self) -> None:
        # In the hub: must not block. Writes what the socket takes now; a writer greenlet waits for the rest.
        self._flush_scheduled = False
        if self._writer is None and not self._write_some():
            self._writer = gevent.spawn(self._write_loop)

    def _write_some(self) -> bool:
        """Write without blocking; True when everything queued was written.

        One writev of the queued parts as they are: joining them, or slicing off what a short write
        left, would copy the whole queue once per write the socket takes (~200 KiB), which made a
        full queue cost more CPU than the terminal's read (bench/framing.py)."""
        out = self._out
        while out:
            parts = out[:IOV_MAX]
            try:
                sent = os.writev(self._fd, parts)
            except BlockingIOError:
                sent = 0
            except OSError as error:
                if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    sent = 0
                else:
                    gevent.spawn(self.close)
                    return True
            self._out_bytes -= sent
            done = 0
            for part in parts:
                size = len(part)
                if sent < size:
                    break
                sent -= size
                done += 1
            if done:
                del out[:done]
            if sent:  # a part written in part: keep the rest as a view, not a copy
                out[0] = memoryview(out[0])[sent:]
            if out and done < len(parts):  # the socket took less than offered: it is full
                self._notify_drained()
                return False
        self._notify_drained()
        return True

    def _write_loop(self) -> None:
        try:
            while not self.closed and not self._write_some():
                wait_write(self._fd)
        except Exception:
            log.exception("%s: writing failed", self.name)
            gevent.spawn(self.close)
        finally:
            self._writer = None
            if self._out and not self.closed:  # queued while the loop ended
                self.send()

    # ---- receiving ----------------------------------------------------------------------------
    def _read_loop(self) -> None:
        # Into a buffer kept for the link's life: recv(READ_SIZE) allocated (and the allocator mapped
        # and unmapped) 256 KiB for every read, a keystroke's 30-byte frame included.
        buffer = bytearray(READ_SIZE)
        view = memoryview(buffer)
        filled = 0
        sock = self.sock
        try:
            while True:
                if filled == len(buffer):  # a frame larger than the buffer: grow it (doubling) to hold it
                    view.release()
                    buffer += bytes(len(buffer))
                    view = memoryview(buffer)
                got = sock.recv_into(view[filled:])
                if not got:
                    break
                filled += got
                start = self._frames_in(view[:filled])
                if start:
                    rest = filled - start
                    if rest:
                        view[:rest] = view[start:filled]
                    filled = rest
        except (OSError, LinkClosed) as error:
            if not self.closed:
                log.info("%s: closed (%s)", self.name, error)
        finally:
            self.close()

    def _closing(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        if self._reader is not None and self._reader is not gevent.getcurrent():
            self._reader.kill(block=False)


def peer_uid(sock: socket.socket) -> int:
    """The user id of the process at the other end of a Unix socket (SO_PEERCRED)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid
