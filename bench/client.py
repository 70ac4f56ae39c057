"""A lean, fast aict socket client for the benchmark (python-socketio over websocket).

Three things make the stock python-socketio client slow and unfit for timing:
websocket-client validates UTF-8 in pure Python (turned off with skip_utf8_validation);
python-engineio hands every websocket message to a new thread (`run_async=True`), so a binary
event (a header message, then its attachment) costs two thread starts; and every packet sent
waits for engineio's writer thread. Here messages are dispatched on the reading thread, in
order (handlers must not block), and packets are written by the thread that sends them.
"""

from __future__ import annotations

import threading
import time

import socketio
from engineio.packet import MESSAGE

MARKER_TAIL = 64


class FastClient:
    def __init__(self, url: str, token: str, ack: bool = True):
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"skip_utf8_validation": True})
        trigger = self.sio.eio._trigger_event

        def inline(event, *args, **kwargs):
            if event == "message":
                if self.closing:  # a half-received binary event at disconnect is not an error
                    return None
                kwargs["run_async"] = False
            return trigger(event, *args, **kwargs)

        self.sio.eio._trigger_event = inline
        eio, send_lock = self.sio.eio, threading.Lock()
        queued = eio._send_packet

        def send_now(pkt):  # on the calling thread, not via engineio's writer thread: one hop less
            if pkt.packet_type != MESSAGE or eio.state != "connected" or eio.ws is None:
                return queued(pkt)  # pongs keep engineio's writer thread (and its liveness check) fed
            encoded = pkt.encode()
            with send_lock:
                if pkt.binary:
                    eio.ws.send_binary(encoded)
                else:
                    eio.ws.send(encoded)

        self._send_now = send_now
        self.closing = False
        self.ack_enabled = ack
        self.received: dict[str, int] = {}  # bytes per session
        self.expected: dict[str, int] = {}  # next offset per session (contiguity check)
        self.gaps = 0
        self.chunks = 0
        self._watch: tuple[str, bytes] | None = None  # (session, needle) being waited for
        self._tail = b""
        self._seen = threading.Event()
        self.seen_at = 0.0
        self.exits: set[str] = set()
        self.sio.on("terminal-output", self._on_output)
        self.sio.on("terminal-exit", lambda m: self.exits.add(m["sessionId"]))
        self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        self.sio.eio._send_packet = send_now  # after the handshake, which needs the stock path

    # ---- receiving ------------------------------------------------------------------------
    def _on_output(self, message: dict) -> None:
        sid, offset, data = message["sessionId"], message["offset"], message["data"]
        self.chunks += 1
        expected = self.expected.get(sid)
        if expected is not None and offset != expected:
            self.gaps += 1
        self.expected[sid] = offset + len(data)
        self.received[sid] = self.received.get(sid, 0) + len(data)
        if self.ack_enabled:
            self.sio.emit("terminal-ack", {"sessionId": sid, "offset": offset + len(data)})
        watch = self._watch
        if watch is not None and watch[0] == sid:
            needle = watch[1]
            if needle in data or needle in self._tail + data[:len(needle)]:
                self.seen_at = time.perf_counter()
                self._watch = None
                self._seen.set()
            self._tail = data[-MARKER_TAIL:]

    def watch(self, session_id: str, needle: bytes) -> None:
        """Arm a wait for `needle` in the session's output from now on."""
        self._seen.clear()
        self._tail = b""
        self._watch = (session_id, needle)

    def wait_seen(self, timeout: float) -> float:
        """perf_counter() time at which the armed needle arrived; raises on timeout."""
        if not self._seen.wait(timeout):
            self._watch = None
            raise TimeoutError("expected output did not arrive")
        return self.seen_at

    # ---- sending --------------------------------------------------------------------------
    def call(self, event: str, payload: dict, timeout: float = 30) -> dict:
        answer = self.sio.call(event, payload, timeout=timeout)
        if not answer.get("ok"):
            raise RuntimeError(f"{event} failed: {answer}")
        return answer

    def create(self, workspace_id: str, cols: int = 80, rows: int = 24) -> str:
        return self.call("create-terminal", {"workspaceId": workspace_id, "cols": cols, "rows": rows})["sessionId"]

    def type(self, session_id: str, data: str) -> None:
        """terminal-input with an ack callback, without waiting for the ack."""
        self.sio.emit("terminal-input", {"sessionId": session_id, "data": data}, callback=_ignore)

    def run(self, session_id: str, command: str, needle: bytes, timeout: float = 30) -> None:
        """Type a command line and wait until `needle` appears in the output."""
        self.watch(session_id, needle)
        self.type(session_id, command + "\n")
        self.wait_seen(timeout)

    def close(self) -> None:
        self.closing = True
        try:
            self.sio.disconnect()
        except Exception:
            pass


def _ignore(*_args) -> None:
    pass
