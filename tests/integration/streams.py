"""Helpers for stream tests: a client that handles events in wire order, and stream checks."""

from __future__ import annotations

import threading
import time
import zlib

from tests.server import RunningServer, TerminalClient


class OrderedClient(TerminalClient):
    """A TerminalClient that handles events in the order they arrived, and logs them.

    python-socketio runs each incoming message in a new thread, so handlers may run out of
    order (and a binary event's attachment may race its header); stream tests need the wire order.
    """

    def __init__(self, auto_ack: bool = True):
        super().__init__(auto_ack)
        self.log: list[tuple] = []  # ("output", sid, offset, data) | ("exit", sid, message)
        self.output_fields: list[frozenset] = []  # each terminal-output's field names
        self._lock = threading.Lock()
        self.sio.on("terminal-exit", self._on_exit)
        eio = self.sio.eio
        trigger = eio._trigger_event

        def in_wire_order(event, *args, **kwargs):
            if event == "message":
                kwargs["run_async"] = False
            return trigger(event, *args, **kwargs)

        eio._trigger_event = in_wire_order

    def _on_output(self, message: dict) -> None:
        with self._lock:
            self.log.append(("output", message["sessionId"], message["offset"], message["data"]))
            self.output_fields.append(frozenset(message))
        super()._on_output(message)

    def _on_exit(self, message: dict) -> None:
        with self._lock:
            self.log.append(("exit", message["sessionId"], message))
        self.exits[message["sessionId"]] = message

    def outputs(self, session_id: str) -> list[tuple[int, bytes]]:
        with self._lock:
            return [(e[2], e[3]) for e in self.log if e[0] == "output" and e[1] == session_id]

    def received(self, session_id: str) -> int:
        return sum(len(data) for _, data in self.outputs(session_id))

    def attach(self, session_id: str, since: int | None = None) -> dict:
        payload = {"sessionId": session_id} if since is None else {"sessionId": session_id, "since": since}
        answer = self.call("attach-terminal", payload)
        assert answer["ok"], answer
        return answer


class InflatingClient(OrderedClient):
    """An OrderedClient that asks for compressed output (`compress`) and decompresses it as a page
    would: one raw-deflate stream per attachment, a fresh one at each chunk marked `reset`. Its
    stream, offsets and acks are the uncompressed ones; `wire` counts what the events carried."""

    def __init__(self, auto_ack: bool = True):
        super().__init__(auto_ack)
        self.inflaters: dict[str, zlib.Decompress] = {}
        self.wire: dict[str, int] = {}  # data bytes as sent, per session
        self.compressed_chunks: dict[str, int] = {}

    def _on_output(self, message: dict) -> None:
        sid, data = message["sessionId"], message["data"]
        self.wire[sid] = self.wire.get(sid, 0) + len(data)
        if message.get("encoding") is not None:
            assert message["encoding"] == "deflate-raw", message
            if message.get("reset"):
                self.inflaters[sid] = zlib.decompressobj(-15)
            data = self.inflaters[sid].decompress(data)
            assert len(data) == message["length"], (len(data), message["length"])
            self.compressed_chunks[sid] = self.compressed_chunks.get(sid, 0) + 1
            message = {**message, "data": data}
        super()._on_output(message)

    def create(self, workspace_id: str, cols: int = 80, rows: int = 24) -> str:
        answer = self.call("create-terminal", {"workspaceId": workspace_id, "cols": cols, "rows": rows,
                                               "compress": "deflate-raw"})
        assert answer["ok"] and answer["compress"] == "deflate-raw", answer
        return answer["sessionId"]

    def attach(self, session_id: str, since: int | None = None) -> dict:
        payload = {"sessionId": session_id, "compress": "deflate-raw"}
        if since is not None:
            payload["since"] = since
        answer = self.call("attach-terminal", payload)
        assert answer["ok"] and answer["compress"] == "deflate-raw", answer
        return answer


def contiguous(chunks: list[tuple[int, bytes]], start: int | None = None) -> tuple[int, bytes]:
    """(first offset, bytes) of chunks that must each begin where the previous ended."""
    assert chunks, "nothing was received"
    first = expected = chunks[0][0] if start is None else start
    stream = bytearray()
    for offset, data in chunks:
        assert offset == expected, f"chunk at offset {offset}, expected {expected}: a gap or a duplicate"
        assert data, f"empty chunk at {offset}"
        stream += data
        expected += len(data)
    return first, bytes(stream)


def seq_output(n: int) -> bytes:
    """What `seq 1 n` shows on a terminal (the tty turns \\n into \\r\\n)."""
    return "".join(f"{i}\r\n" for i in range(1, n + 1)).encode()


def wait_until(predicate, timeout: float = 15.0, step: float = 0.01, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(step)


class ClientPool:
    """Opens OrderedClients on a server and closes them all at the end of a test."""

    def __init__(self):
        self.clients: list[OrderedClient] = []

    def connect(self, server: RunningServer, token: str | None = None, auto_ack: bool = True,
                compress: bool = False) -> OrderedClient:
        client = (InflatingClient if compress else OrderedClient)(auto_ack=auto_ack)
        client.connect(server.url, token or server.admin_token)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            if client.sio.connected:
                client.close()
