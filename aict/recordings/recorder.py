"""Recordings: every session's output, kept in the database, served as asciicast v2.

The output hook packs (time, bytes) into compact binary records, cut into rows of about ROW_BYTES
(no decoding, no JSON on the live path). Once a second a flusher greenlet stores the rows, in small
commits (BATCH_ROWS rows or about ROW_BYTES) with the loop running between them; on SQLite each
commit runs in a native thread. Turning records into asciicast (UTF-8 decoded across chunk
boundaries, invalid bytes as U+FFFD) happens when a recording is read.
A recording stops (and says so) at RECORDING_MAX_BYTES.

What a recording has gathered and not stored is bounded: a full row wakes the writer at once, and a
terminal whose recording is RECORDING_BACKLOG_BYTES behind stops being read until it has caught up
(the program waits, as it would for a slow viewer). Without the bound, 60 terminals flooding at once
gathered ~220 MB faster than SQLite took it, and the allocator kept that memory after it was stored.
"""

from __future__ import annotations

import codecs
import json
import logging
import struct
import time
from collections.abc import Callable, Iterable, Iterator

import gevent
from gevent.hub import get_hub
from gevent.lock import Semaphore

from aict.extensions import db
from aict.models import RecordingChunk
from aict.models.base import utcnow
from aict.terminals.live import LiveTerminal

log = logging.getLogger(__name__)
FLUSH_SECONDS = 1.0
MERGE_SECONDS = 0.01  # output this close together becomes one event...
MAX_EVENT_BYTES = 64 * 1024  # ...up to this size
ROW_BYTES = 256 * 1024  # a flood's second is stored as many small commits (~0.5 ms each)
# Rows per commit: a hundred busy sessions' second in one commit held the loop for 5-25 ms, which
# every other terminal's echo then waited for (p99 over 10 ms with 1,000 sessions open).
BATCH_ROWS = 8
BETWEEN_COMMITS_SECONDS = 0.001  # a timer, not idle(): under steady load the loop is never idle
RECORD = struct.Struct(">dcI")  # seconds since start, kind (h=header, o=output, r=resize), length
HOLD = "recording"  # the reason a terminal's reads are held while its recording catches up


class Recorder:
    """One session's recording; `pending_rows()` drains what the hooks gathered.

    Records are packed into rows as output arrives, so handing over a busy second costs nothing:
    joining a flood's second at flush time (8-64 MB) held the loop for 3-20 ms, once a second.
    """

    def __init__(self, session_id: str, cols: int, rows: int, max_bytes: int,
                 on_row: Callable[[Recorder], None] | None = None, resumed: dict | None = None):
        self.session_id = session_id
        self.on_row = on_row  # a row is full: the writer may store it now
        self.pending_bytes = 0  # gathered and not yet handed to the writer
        self.started = time.monotonic()
        self.max_bytes = max_bytes
        self.recorded = 0
        self.stopped = False
        self.seq = 0
        self._rows: list[bytes] = []  # finished rows
        self._row = bytearray()  # the row being filled
        self._open = -1  # where the last output record starts in _row, while later output may join it
        self._open_at = 0.0
        self._open_length = 0
        if resumed is not None:  # handed over by a host that restarted: going on where it was
            self.started -= resumed["elapsed"]
            self.seq, self.recorded, self.stopped = resumed["seq"], resumed["recorded"], resumed["stopped"]
            return
        header = {"version": 2, "width": cols, "height": rows, "timestamp": int(time.time()),
                  "env": {"TERM": "xterm-256color"}}
        self._record(0.0, b"h", json.dumps(header).encode())

    def handover(self) -> dict:
        """Where this recording is, for the host that takes it over (after pending_rows() was stored)."""
        return {"elapsed": time.monotonic() - self.started, "seq": self.seq, "recorded": self.recorded,
                "stopped": self.stopped}

    def output(self, _offset: int, data: bytes) -> None:
        if self.stopped:
            return
        now = time.monotonic() - self.started
        self.recorded += len(data)
        if self.recorded > self.max_bytes:
            self.stopped = True
            note = f"\r\n[aict: recording stopped after {self.max_bytes // (1024 * 1024)} MiB]\r\n"
            self._record(now, b"o", note.encode())
            return
        if (self._open >= 0 and now - self._open_at < MERGE_SECONDS and self._open_length < MAX_EVENT_BYTES
                and len(self._row) < ROW_BYTES):
            self._row += data
            self._open_length += len(data)
            self.pending_bytes += len(data)
            RECORD.pack_into(self._row, self._open, self._open_at, b"o", self._open_length)
        else:
            self._record(now, b"o", data)

    def resized(self, cols: int, rows: int) -> None:
        self._record(time.monotonic() - self.started, b"r", f"{cols}x{rows}".encode())

    def _record(self, at: float, kind: bytes, payload: bytes) -> None:
        if len(self._row) >= ROW_BYTES:
            self._cut()
            if self.on_row is not None:
                self.on_row(self)
        self._open = len(self._row) if kind == b"o" else -1
        self._open_at, self._open_length = at, len(payload)
        self._row += RECORD.pack(at, kind, len(payload))
        self._row += payload
        self.pending_bytes += RECORD.size + len(payload)

    def _cut(self) -> None:
        self._rows.append(self._row)  # stored as is: a bytearray is a blob to both drivers, no copy
        self._row = bytearray()
        self._open = -1

    def pending_rows(self) -> list[bytearray]:
        """Everything gathered since the last call, as binary records in rows of about ROW_BYTES."""
        if self._row:
            self._cut()
        rows, self._rows = self._rows, []
        self.pending_bytes = 0
        return rows


def _records(rows: Iterable[bytes]) -> Iterator[tuple[float, bytes, bytes]]:
    for row in rows:
        view, position = memoryview(row), 0
        while position < len(row):
            at, kind, length = RECORD.unpack_from(row, position)
            position += RECORD.size
            yield at, kind, bytes(view[position:position + length])
            position += length


def asciicast(rows: Iterable[bytes]) -> Iterator[str]:
    """asciicast v2 lines (with newlines) from stored rows, in order."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    last_at = 0.0
    for at, kind, payload in _records(rows):
        last_at = at
        if kind == b"h":
            yield payload.decode() + "\n"
        elif kind == b"r":
            yield json.dumps([round(at, 6), "r", payload.decode()]) + "\n"
        else:
            text = decoder.decode(payload)
            if text:
                yield json.dumps([round(at, 6), "o", text], ensure_ascii=False) + "\n"
    tail = decoder.decode(b"", final=True)
    if tail:
        yield json.dumps([round(last_at, 6), "o", tail], ensure_ascii=False) + "\n"


class RecordingWriter:
    """Owns the live recorders of one app; stores what they gathered every second, and full rows at once."""

    def __init__(self, app):
        self.app = app
        self.max_bytes = app.config["AICT"].RECORDING_MAX_BYTES
        self.backlog_bytes = app.config["AICT"].RECORDING_BACKLOG_BYTES
        self.recorders: dict[str, Recorder] = {}
        self._terminals: dict[str, LiveTerminal] = {}
        self._full: dict[str, Recorder] = {}  # recorders with a full row waiting, in order
        self._catching_up: gevent.Greenlet | None = None
        self._writing = Semaphore()

    def attach(self, session: LiveTerminal, resumed: dict | None = None) -> Recorder:
        recorder = Recorder(session.id, session.cols, session.rows, self.max_bytes, on_row=self._row_full,
                            resumed=resumed)
        self.recorders[session.id] = recorder
        self._terminals[session.id] = session
        session.add_output_hook(recorder.output)
        session.add_resize_hook(recorder.resized)
        return recorder

    def _row_full(self, recorder: Recorder) -> None:
        """Called on the output path: store the row soon, and hold the terminal's reads when too far behind."""
        self._full[recorder.session_id] = recorder
        if recorder.pending_bytes >= self.backlog_bytes:
            terminal = self._terminals.get(recorder.session_id)
            if terminal is not None:
                terminal.hold_reading(HOLD)
        if self._catching_up is None:
            self._catching_up = gevent.spawn(self._catch_up)

    def _catch_up(self) -> None:
        try:
            while self._full:
                recorders, self._full = list(self._full.values()), {}
                try:
                    self._write(recorders)
                except Exception:
                    log.exception("storing recordings failed")
                for recorder in recorders:
                    terminal = self._terminals.get(recorder.session_id)
                    if terminal is not None:
                        terminal.release_reading(HOLD)
        finally:
            self._catching_up = None

    def forget(self, session_id: str) -> None:
        """A terminal that failed to start: nothing of it was recorded."""
        self.recorders.pop(session_id, None)
        self._full.pop(session_id, None)
        self._terminals.pop(session_id, None)

    def finish(self, session_id: str) -> None:
        """The session ended: store its last output now and forget it."""
        recorder = self.recorders.get(session_id)
        if recorder is not None:
            try:
                self._write([recorder])  # a reader meanwhile waits for the write, then sees it all
            finally:
                terminal = self._terminals.get(session_id)
                self.forget(session_id)
                if terminal is not None:
                    terminal.release_reading(HOLD)

    def flush(self, session_id: str | None = None) -> None:
        """Store what is pending (for one session, or all) so a reader sees everything so far."""
        if session_id is None:
            self._write(list(self.recorders.values()))
        elif session_id in self.recorders:
            self._write([self.recorders[session_id]])

    def _write(self, recorders: list[Recorder]) -> None:
        """Small commits, each at most BATCH_ROWS rows or about ROW_BYTES, the loop running between.
        One write at a time, so each recording's rows keep their order (a reader of a recording
        waits for the write under way, then sees it all). Per-recorder locks, taken by two writers
        (the second's flush and a full row's) in different orders, deadlocked."""
        with self._writing, self.app.app_context():
            batch, size, stored_at = [], 0, utcnow()
            for recorder in recorders:
                for data in recorder.pending_rows():
                    batch.append({"session_id": recorder.session_id, "seq": recorder.seq, "data": data,
                                  "created_at": stored_at})
                    recorder.seq += 1
                    size += len(data)
                    if size >= ROW_BYTES or len(batch) >= BATCH_ROWS:
                        _store(batch)
                        batch, size = [], 0
            if batch:
                _store(batch)


def _store(rows: list[dict]) -> None:
    engine = db.engine
    if engine.dialect.name == "sqlite":
        # SQLite writes the file with the calling thread stopped: on the loop, a flooding terminal's
        # 256 KiB row took 1-10 ms, every other terminal waiting (flood echo p99 over 10 ms). In a
        # native thread the loop runs on (sqlite3 lets go of the GIL while it writes).
        get_hub().threadpool.apply(_insert, (engine, rows))
    else:
        _insert(engine, rows)  # network drivers wait cooperatively under gevent
    gevent.sleep(BETWEEN_COMMITS_SECONDS)


def _insert(engine, rows: list[dict]) -> None:
    # A Core executemany on a connection of its own: the ORM's bulk-insert path spent ~40% more per row.
    with engine.begin() as connection:
        connection.execute(RecordingChunk.__table__.insert(), rows)


def recording_lines(session_id: str) -> Iterator[str]:
    """The stored recording as asciicast v2 lines."""
    rows = db.session.execute(db.select(RecordingChunk.data).filter_by(session_id=session_id)
                              .order_by(RecordingChunk.seq)).scalars()
    return asciicast(rows)
