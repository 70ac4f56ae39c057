"""Test doubles for the LiveTerminal core: a backend the test feeds, and viewers that record what they get."""

from __future__ import annotations

import time

import gevent
from gevent.event import Event
from gevent.queue import Queue

from aict.terminals.backend import ExitStatus


class ScriptedBackend:
    """A Backend whose output the test writes: each `output()` is what one read returns."""

    def __init__(self):
        self._chunks: Queue = Queue()
        self._ended = Event()
        self._status = ExitStatus()
        self.unread_bytes = 0
        self.reads = 0
        self.input = bytearray()
        self.sizes: list[tuple[int, int]] = []
        self.terminated = False
        self.closed = False

    def output(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self.unread_bytes += len(chunk)
            self._chunks.put(bytes(chunk))

    def finish(self, status: ExitStatus = ExitStatus(exit_code=0)) -> None:
        self._status = status
        self._chunks.put(None)

    # ---- Backend --------------------------------------------------------------------------
    def start(self, cols: int, rows: int) -> None:
        self.sizes.append((cols, rows))

    def read(self, max_bytes: int) -> bytes:
        chunk = self._chunks.get()
        if chunk is None:
            self._ended.set()
            return b""
        assert len(chunk) <= max_bytes, "tests keep chunks below the core's read size"
        self.reads += 1
        self.unread_bytes -= len(chunk)
        return chunk

    def write(self, data: bytes, promised: bool = False) -> None:
        self.input += data

    def resize(self, cols: int, rows: int) -> None:
        self.sizes.append((cols, rows))

    def terminate(self) -> None:
        self.terminated = True
        self.finish(ExitStatus(signal="SIGHUP"))

    def wait(self) -> ExitStatus:
        self._ended.wait()
        return self._status

    def close(self) -> None:
        self.closed = True


class RecordingViewer:
    """A viewer that records every call; with auto_ack it acks each chunk as it arrives."""

    def __init__(self, key: str, user_id: str = "u1", session=None, auto_ack: bool = False):
        self.key = key
        self.user_id = user_id
        self.session = session
        self.auto_ack = auto_ack
        self.events: list[tuple] = []
        self.revoked: list[str] = []
        self.room_bytes = 1 << 62  # what its connection takes now; a test lowers it to stand for a full queue
        self.waiting: list = []  # when_room callbacks not yet called

    def send_output(self, session_id: str, offset: int, data: bytes) -> None:
        assert isinstance(data, bytes)
        self.room_bytes -= len(data)
        self.events.append(("output", offset, data))
        if self.auto_ack:
            self.session.ack(self.key, offset + len(data))

    def send_exit(self, session_id: str, status: ExitStatus) -> None:
        self.events.append(("exit", status))

    def send_revoked(self, session_id: str) -> None:
        self.revoked.append(session_id)

    def room(self) -> int:
        return self.room_bytes

    def when_room(self, callback) -> None:
        self.waiting.append(callback)

    def make_room(self, size: int = 1 << 62) -> None:
        """The connection sent what it held: room again, and the waiting session goes on."""
        self.room_bytes = size
        waiting, self.waiting = self.waiting, []
        for callback in waiting:
            callback()

    def send_resized(self, session_id: str, cols: int, rows: int) -> None:
        self.events.append(("resized", cols, rows))

    # ---- what arrived ---------------------------------------------------------------------
    @property
    def chunks(self) -> list[tuple[int, bytes]]:
        return [(e[1], e[2]) for e in self.events if e[0] == "output"]

    @property
    def received(self) -> int:
        return sum(len(data) for _, data in self.chunks)

    @property
    def next_offset(self) -> int | None:
        chunks = self.chunks
        return chunks[-1][0] + len(chunks[-1][1]) if chunks else None

    @property
    def exits(self) -> list[ExitStatus]:
        return [e[1] for e in self.events if e[0] == "exit"]

    def contiguous_stream(self, chunks: list[tuple[int, bytes]] | None = None) -> tuple[int, bytes]:
        """(first offset, bytes) of chunks that must follow each other without gap or overlap."""
        chunks = self.chunks if chunks is None else chunks
        assert chunks, "nothing was received"
        first = expected = chunks[0][0]
        stream = bytearray()
        for offset, data in chunks:
            assert offset == expected, f"chunk at {offset}, expected {expected}"
            assert data, "empty chunk"
            stream += data
            expected += len(data)
        return first, bytes(stream)


def settle(seconds: float = 0.03) -> None:
    """Let the reader and flush greenlets run."""
    gevent.sleep(seconds)


def wait_until(predicate, timeout: float = 5.0, step: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        gevent.sleep(step)
