"""Recordings: every session's output, kept in the database, served as asciicast v2.

The output hook packs (time, bytes) into compact binary records, cut into rows of about ROW_BYTES
(no decoding, no JSON on the live path). Once a second a flusher greenlet stores the rows, in small
commits (BATCH_ROWS rows or about ROW_BYTES) with the loop running between them; each commit's rows
are compressed (aict.recordings.codec) in a native thread, and on SQLite written there too. Turning
records into asciicast happens when a recording is read (aict.recordings.playback).

What is kept: a terminal's output whole up to RECORDING_MAX_BYTES. Past it the recording keeps its
first RECORDING_MAX_BYTES - RECORDING_TAIL_BYTES and its most recent RECORDING_TAIL_BYTES: the rows
in between are deleted as newer ones are stored, and a reader finds the gap by the rows' output
offsets and says how much was left out. So a flood of any size stores at most RECORDING_MAX_BYTES
of output (plus a row: ROW_BYTES and a read at most) per terminal, compressed. Flooding a terminal
does not push what is done after the flood out of its recording (the newest output is always
kept); what was done between two floods past the limit may be left out (the command history
keeps the commands).

What a recording has gathered and not stored is bounded: a full row wakes the writer at once, and a
terminal whose recording is RECORDING_BACKLOG_BYTES behind stops being read until it has caught up
(the program waits, as it would for a slow viewer). Without the bound, 60 terminals flooding at once
gathered ~220 MB faster than SQLite took it, and the allocator kept that memory after it was stored.
"""

from __future__ import annotations

import base64
import json
import logging
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import gevent
from gevent.hub import get_hub
from gevent.lock import Semaphore

from aict.extensions import db
from aict.models import RecordingChunk
from aict.models.base import utcnow
from aict.recordings.codec import compress_rows
from aict.terminals.live import LiveTerminal

log = logging.getLogger(__name__)
FLUSH_SECONDS = 1.0
MERGE_SECONDS = 0.01  # output this close together becomes one event...
MAX_EVENT_BYTES = 64 * 1024  # ...up to this size
# A flood's second is stored as several commits of a row each. Per row, the hops to the native threads
# and the transaction cost more than its bytes: with rows of 256 KiB a flood through the host ran at
# 0.68× its unrecorded speed, with rows of 1 MiB at 0.80× (bench.paired, 7 rounds; docs/performance.md).
ROW_BYTES = 1024 * 1024
# Rows per commit: a hundred busy sessions' second in one commit held the loop for 5-25 ms, which
# every other terminal's echo then waited for (p99 over 10 ms with 1,000 sessions open).
BATCH_ROWS = 8
BETWEEN_COMMITS_SECONDS = 0.001  # a timer, not idle(): under steady load the loop is never idle
RECORD = struct.Struct(">dcI")  # seconds since start, kind (h=header, o=output, r=resize), length
HOLD = "recording"  # the reason a terminal's reads are held while its recording catches up


@dataclass(slots=True)
class Row:
    """A row of packed records, as gathered: `offset` is the output printed before its first byte,
    `output` how many bytes of output it holds."""

    data: bytearray
    offset: int
    output: int


class KeptTail:
    """The rows stored past a recording's head, oldest first, as (seq, output bytes): the oldest
    are deleted once the newer ones hold more than the tail's budget."""

    def __init__(self, rows: list | None = None):
        self.rows: deque[tuple[int, int]] = deque(tuple(row) for row in rows or ())
        self.output = sum(size for _, size in self.rows)

    def add(self, seq: int, output: int) -> None:
        self.rows.append((seq, output))
        self.output += output

    def trim(self, budget: int) -> tuple[int, int] | None:
        """Forget the oldest rows until the rest hold at most `budget` bytes of output (the newest
        row is always kept); the first and last seq to delete, or None."""
        first = last = None
        while len(self.rows) > 1 and self.output > budget:
            seq, output = self.rows.popleft()
            self.output -= output
            first = seq if first is None else first
            last = seq
        return None if first is None else (first, last)


class Recorder:
    """One session's recording; `pending_rows()` drains what the hooks gathered.

    Records are packed into rows as output arrives, so handing over a busy second costs nothing:
    joining a flood's second at flush time (8-64 MB) held the loop for 3-20 ms, once a second.
    `started` is the recording's clock (an event's time is `time.monotonic() - started`).
    """

    def __init__(self, session_id: str, cols: int, rows: int,
                 on_row: Callable[[Recorder], None] | None = None, resumed: dict | None = None):
        self.session_id = session_id
        self.on_row = on_row  # a row is full: the writer may store it now
        self.pending_bytes = 0  # gathered and not yet handed to the writer
        self.started = time.monotonic()
        self.recorded = 0  # output bytes so far
        self.seq = 0  # the next stored row's
        self.tail = KeptTail()  # the writer's: rows stored past the head
        self._rows: list[Row] = []  # finished rows
        self._row = bytearray()  # the row being filled
        self._row_offset = 0  # output before the row being filled
        self._open = -1  # where the last output record starts in _row, while later output may join it
        self._open_at = 0.0
        self._open_length = 0
        if resumed is not None:  # handed over by a host that restarted: going on where it was
            self._resume(resumed)
            return
        header = {"version": 2, "width": cols, "height": rows, "timestamp": int(time.time()),
                  "env": {"TERM": "xterm-256color"}}
        self._record(0.0, b"h", json.dumps(header).encode())

    def handover(self) -> dict:
        """Where this recording is, for the host image that takes it over (JSON), with what it
        gathered and has not stored (normally nothing: the host stores all before it hands over)."""
        pending = [[base64.b64encode(row.data).decode(), row.offset, row.output] for row in self.pending_rows()]
        return {"elapsed": time.monotonic() - self.started, "seq": self.seq, "recorded": self.recorded,
                "tail": list(self.tail.rows), "pending": pending}

    def _resume(self, state: dict) -> None:
        self.started -= state["elapsed"]
        self.seq, self.recorded = state["seq"], state["recorded"]
        self._row_offset = self.recorded
        self.tail = KeptTail(state.get("tail"))
        for entry in state.get("pending", ()):
            if isinstance(entry, str):  # from an image before rows carried their offsets
                entry = [entry, self.recorded, 0]
            data = bytearray(base64.b64decode(entry[0]))
            self._rows.append(Row(data, entry[1], entry[2]))
            self.pending_bytes += len(data)

    def output(self, _offset: int, data: bytes) -> None:
        now = time.monotonic() - self.started
        if (self._open >= 0 and now - self._open_at < MERGE_SECONDS and self._open_length < MAX_EVENT_BYTES
                and len(self._row) < ROW_BYTES):
            self._row += data
            self._open_length += len(data)
            self.pending_bytes += len(data)
            RECORD.pack_into(self._row, self._open, self._open_at, b"o", self._open_length)
        else:
            self._record(now, b"o", data)
        self.recorded += len(data)

    def input_arrived(self, _data: bytes) -> None:
        """Output after input starts an event of its own, even within MERGE_SECONDS: a command typed
        right after a prompt, or the next one right after a quick command's output, is not folded into
        the output before it, where a reviewer's jump to either could not tell them apart."""
        self._open = -1

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
        # Called between records: `recorded` does not count the output about to be added yet.
        self._rows.append(Row(self._row, self._row_offset, self.recorded - self._row_offset))
        self._row = bytearray()
        self._row_offset = self.recorded
        self._open = -1

    def pending_rows(self) -> list[Row]:
        """Everything gathered since the last call, as binary records in rows of about ROW_BYTES."""
        if self._row:
            self._cut()
        rows, self._rows = self._rows, []
        self.pending_bytes = 0
        return rows


class RecordingWriter:
    """Owns the live recorders of one app; stores what they gathered every second, and full rows at once."""

    def __init__(self, app):
        self.app = app
        settings = app.config["AICT"]
        self.tail_bytes = settings.RECORDING_TAIL_BYTES
        self.head_bytes = settings.RECORDING_MAX_BYTES - settings.RECORDING_TAIL_BYTES  # rows starting past it: tail
        self.backlog_bytes = settings.RECORDING_BACKLOG_BYTES
        self.recorders: dict[str, Recorder] = {}
        self._terminals: dict[str, LiveTerminal] = {}
        self._full: dict[str, Recorder] = {}  # recorders with a full row waiting, in order
        self._catching_up: gevent.Greenlet | None = None
        self._writing = Semaphore()

    def attach(self, session: LiveTerminal, resumed: dict | None = None) -> Recorder:
        recorder = Recorder(session.id, session.cols, session.rows, on_row=self._row_full, resumed=resumed)
        self.recorders[session.id] = recorder
        self._terminals[session.id] = session
        session.add_output_hook(recorder.output)
        session.add_input_hook(recorder.input_arrived)
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
        (the second's flush and a full row's) in different orders, deadlocked.
        Every batch is compressed in a native thread from the start, so that the next batches
        compress while one is written (one after the other, a flood's recording stored ~15% slower
        than uncompressed: compression and the write took turns)."""
        with self._writing, self.app.app_context():
            threadpool = get_hub().threadpool
            batches = self._batches(recorders)
            compressing = [threadpool.spawn(compress_rows, rows) for rows, _ in batches]
            for (rows, dropped), compressed in zip(batches, compressing, strict=True):
                compressed.get()
                _store(rows, dropped)

    def _batches(self, recorders: list[Recorder]) -> list[tuple[list[dict], list[tuple[str, int, int]]]]:
        """What the recorders gathered as batches of rows to insert, each with the seq ranges to delete
        in its commit: a row past a recording's head joins its tail, and the tail's oldest rows past
        its budget go in the commit that stores the newer ones."""
        batches, batch, dropped, size, stored_at = [], [], [], 0, utcnow()
        for recorder in recorders:
            for row in recorder.pending_rows():
                batch.append({"session_id": recorder.session_id, "seq": recorder.seq, "data": row.data,
                              "output_offset": row.offset, "created_at": stored_at})
                if row.offset >= self.head_bytes:
                    recorder.tail.add(recorder.seq, row.output)
                    cut = recorder.tail.trim(self.tail_bytes)
                    if cut is not None:
                        dropped.append((recorder.session_id, *cut))
                recorder.seq += 1
                size += len(row.data)
                if size >= ROW_BYTES or len(batch) >= BATCH_ROWS:
                    batches.append((batch, dropped))
                    batch, dropped, size = [], [], 0
        if batch:
            batches.append((batch, dropped))
        return batches


def _store(rows: list[dict], dropped: list[tuple[str, int, int]]) -> None:
    """Insert `rows` (compressed) and delete the `dropped` (session, first seq, last seq) ranges, in
    one transaction."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        # SQLite writes the file with the calling thread stopped: on the loop, a flooding terminal's
        # 256 KiB row took 1-10 ms, every other terminal waiting (flood echo p99 over 10 ms). In a
        # native thread the loop runs on (sqlite3 lets go of the GIL while it writes).
        get_hub().threadpool.apply(_write_rows, (engine, rows, dropped))
    else:
        _write_rows(engine, rows, dropped)  # network drivers wait cooperatively under gevent
    gevent.sleep(BETWEEN_COMMITS_SECONDS)


def _write_rows(engine, rows: list[dict], dropped: list[tuple[str, int, int]]) -> None:
    # A Core executemany on a connection of its own: the ORM's bulk-insert path spent ~40% more per row.
    table = RecordingChunk.__table__
    with engine.begin() as connection:
        connection.execute(table.insert(), rows)
        for session_id, first, last in dropped:
            connection.execute(table.delete().where(table.c.session_id == session_id,
                                                    table.c.seq.between(first, last)))
