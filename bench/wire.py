"""A fast aict client for the benchmark: Socket.IO v5 over an Engine.IO v4 websocket, one thread.

Like the terminado client beside it, it connects and sends with websocket-client, reads messages
with bench/wsframes.py, on the thread that waits for them: no library threads, queues or
per-message thread hops between the server and the clock. It speaks just what the benchmark
needs of the protocol (docs/api.md): connect with a token, events with acks, binary `terminal-output` (header
message + attachment), pings.
"""

from __future__ import annotations

import json
import random
import threading
import time
import zlib
from urllib.parse import urlsplit

import websocket

from bench.wsframes import OPCODE_BINARY, OPCODE_CLOSE, FrameReader

MARKER_TAIL = 64


class ProtocolError(RuntimeError):
    pass


class WireClient:
    def __init__(self, url: str, token: str, ack: bool = True, timeout: float = 30, compress: bool = False):
        parts = urlsplit(url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        self.ws = websocket.create_connection(f"{scheme}://{parts.netloc}/socket.io/?EIO=4&transport=websocket",
                                              skip_utf8_validation=True, timeout=timeout)
        self.frames = FrameReader(self.ws)
        self.ack_enabled = ack
        self.compress = compress  # ask for deflate-raw output (docs/api.md) and inflate it
        self.inflaters: dict[str, zlib.Decompress] = {}
        self.wire_bytes = 0  # payload bytes of every frame received (text and binary)
        self.received: dict[str, int] = {}  # bytes per session
        self.expected: dict[str, int] = {}  # next offset per session (contiguity check)
        self.gaps = 0
        self.chunks = 0
        self.exits: set[str] = set()
        self.seen_at = 0.0
        self._watch: tuple[str, bytes] | None = None  # (session, needle) being waited for
        self._tail = b""
        self._answers: dict[int, object] = {}
        self._next_id = 0
        self._binary_header: dict | None = None  # a terminal-output waiting for its attachment
        self._send_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self.closed = False
        opening = self.frames.recv_text()
        if not opening.startswith("0"):
            raise ProtocolError(f"expected an Engine.IO open packet, got {opening[:80]!r}")
        self._send_text("40" + json.dumps({"token": token}))
        while True:
            message = self.frames.recv_text()
            if message.startswith("40"):
                break
            if message.startswith("44"):
                raise ProtocolError(f"connection refused: {message[2:]}")
            self._handle(message)

    # ---- sending --------------------------------------------------------------------------
    def _send_text(self, text: str) -> None:
        with self._send_lock:
            self.ws.send(text)

    def emit(self, event: str, payload: dict, want_answer: bool = True) -> int | None:
        ack_id = None
        if want_answer:
            ack_id = self._next_id = self._next_id + 1
        body = json.dumps([event, payload], separators=(",", ":"))
        self._send_text(f"42{'' if ack_id is None else ack_id}{body}")
        return ack_id

    def call(self, event: str, payload: dict, timeout: float = 30) -> dict:
        ack_id = self.emit(event, payload)
        self.pump_until(lambda: ack_id in self._answers, timeout)
        answer = self._answers.pop(ack_id)
        if not isinstance(answer, dict) or not answer.get("ok"):
            raise RuntimeError(f"{event} failed: {answer}")
        return answer

    def create(self, workspace_id: str, cols: int = 80, rows: int = 24) -> str:
        payload = {"workspaceId": workspace_id, "cols": cols, "rows": rows}
        if self.compress:
            payload["compress"] = "deflate-raw"
        return self.call("create-terminal", payload)["sessionId"]

    def type(self, session_id: str, data: str) -> None:
        """terminal-input with an ack id, as the contract asks; the answer is read and dropped."""
        self.emit("terminal-input", {"sessionId": session_id, "data": data})

    # ---- receiving ------------------------------------------------------------------------
    def pump_until(self, done, timeout: float) -> None:
        """Read and handle messages on this thread until done() is true."""
        if self._reader is not None:  # a reader thread owns the socket: wait for it instead
            deadline = time.monotonic() + timeout
            while not done():
                if time.monotonic() > deadline or self.closed:
                    raise TimeoutError("expected message did not arrive")
                time.sleep(0.001)
            return
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("expected message did not arrive")
            self._receive_within(left)

    def start_reader(self) -> None:
        """Hand the socket to a background thread (for load generators that wait on other things)."""

        def read() -> None:
            self.frames.settimeout(None)
            try:
                while not self.closed:
                    self._receive()
            except Exception:  # noqa: BLE001 - the socket closed: the reader ends
                self.closed = True

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()

    def _receive_within(self, seconds: float) -> bool:
        """Read and handle one message if one arrives within `seconds`."""
        self.frames.settimeout(seconds)
        try:
            self._receive()
        except TimeoutError:
            return False
        return True

    def _receive(self) -> None:
        opcode, message = self.frames.recv_data()
        self.wire_bytes += len(message)
        if opcode == OPCODE_CLOSE:
            self.closed = True
            raise ConnectionError(f"the server closed the connection: {message[:2].hex()}")
        self._handle(message if opcode == OPCODE_BINARY else message.decode())

    def _handle(self, message) -> None:
        if not isinstance(message, str):
            header, self._binary_header = self._binary_header, None
            if header is None:
                raise ProtocolError("a binary message without its event header")
            self._on_output(header, message)
            return
        kind = message[:1]
        if kind == "2":  # ping
            self._send_text("3")
        elif kind == "4":
            self._on_socketio(message[1:])
        elif kind == "1":  # close
            self.closed = True

    def _on_socketio(self, packet: str) -> None:
        kind, rest = packet[:1], packet[1:]
        if kind in "56":  # binary event/ack: "<attachments>-" before the body
            count, _, rest = rest.partition("-")
            if count != "1":
                raise ProtocolError(f"unexpected attachment count {count}")
        ack_id, body = _split_id(rest)
        if kind == "3":
            args = json.loads(body)
            self._answers[ack_id] = args[0] if args else None  # an ack may carry no arguments
        elif kind == "2":
            event, *args = json.loads(body)
            if event == "terminal-exit":
                self.exits.add(args[0]["sessionId"])
        elif kind == "5":
            event, payload = json.loads(body)
            if event != "terminal-output":
                raise ProtocolError(f"unexpected binary event {event}")
            self._binary_header = payload

    def _on_output(self, header: dict, data: bytes) -> None:
        sid, offset = header["sessionId"], header["offset"]
        if header.get("encoding") == "deflate-raw":
            if header.get("reset"):
                self.inflaters[sid] = zlib.decompressobj(-15)
            data = self.inflaters[sid].decompress(data)
        watch = self._watch
        if watch is not None and watch[0] == sid:  # before anything else: this is the clock
            needle = watch[1]
            if needle in data or needle in self._tail + data[:len(needle)]:
                self.seen_at = time.perf_counter()
                self._watch = None
            else:
                self._tail = data[-MARKER_TAIL:]
        self.chunks += 1
        expected = self.expected.get(sid)
        if expected is not None and offset != expected:
            self.gaps += 1
        self.expected[sid] = offset + len(data)
        self.received[sid] = self.received.get(sid, 0) + len(data)
        if self.ack_enabled:
            self.emit("terminal-ack", {"sessionId": sid, "offset": offset + len(data)}, want_answer=False)

    # ---- waiting for output ---------------------------------------------------------------
    def watch(self, session_id: str, needle: bytes) -> None:
        """Arm a wait for `needle` in the session's output from now on."""
        self._tail = b""
        self.seen_at = 0.0
        self._watch = (session_id, needle)

    def wait_seen(self, timeout: float) -> float:
        """perf_counter() time at which the armed needle arrived; raises on timeout."""
        try:
            self.pump_until(lambda: self._watch is None, timeout)
        except TimeoutError:
            self._watch = None
            raise
        return self.seen_at

    def run(self, session_id: str, command: str, needle: bytes, timeout: float = 30) -> None:
        """Type a command line and wait until `needle` appears in the output."""
        self.watch(session_id, needle)
        self.type(session_id, command + "\n")
        self.wait_seen(timeout)

    def settle(self, seconds: float) -> None:
        """Keep reading (and acking) for a while."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self._reader is not None:
                time.sleep(left)
                return
            if not self._receive_within(left):
                return

    def close(self) -> None:
        self.closed = True
        try:
            self.ws.close(timeout=1)
        except Exception:  # noqa: BLE001 - closing a socket that may be gone
            pass


def _split_id(rest: str) -> tuple[int | None, str]:
    """'12["x"]' -> (12, '["x"]'); namespaces other than '/' are not used by aict."""
    digits = 0
    while digits < len(rest) and rest[digits].isdigit():
        digits += 1
    return (int(rest[:digits]) if digits else None), rest[digits:]


def aict_echo(client: WireClient, sid: str, samples: int, gap: tuple[float, float]) -> list[float]:
    """Type one character, time until its echo arrives; clear the line now and then."""
    latencies = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i in range(samples):
        if i % 25 == 0:
            client.type(sid, "\x15")  # readline: erase the line typed so far
            client.settle(0.05)
        ch = letters[i % 26]
        client.watch(sid, ch.encode())
        start = time.perf_counter()
        client.type(sid, ch)
        latencies.append((client.wait_seen(5) - start) * 1000)
        if gap[1]:
            client.settle(random.uniform(*gap))
    client.type(sid, "\x15")
    return latencies
