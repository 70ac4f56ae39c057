"""Recordings: every session's output as asciicast v2, batched into the database off the output path.

The output hook only appends (time, bytes) to a list; a flusher greenlet decodes (UTF-8 across
chunk boundaries, invalid bytes as U+FFFD), serialises and writes each second, in one transaction
for all sessions. A recording stops (and says so) at RECORDING_MAX_BYTES.
"""

from __future__ import annotations

import codecs
import json
import logging
import time

import gevent
from gevent.lock import Semaphore

from aict.extensions import db
from aict.models import RecordingChunk

log = logging.getLogger(__name__)
FLUSH_SECONDS = 1.0
MERGE_SECONDS = 0.01  # output this close together becomes one event...
MAX_EVENT_BYTES = 64 * 1024  # ...up to this size
YIELD_EVERY_BYTES = 256 * 1024  # encoding a flood's second of output must not stall the loop
ROW_BYTES = 512 * 1024  # a flood's second is stored as many small commits, the loop running between them


class Recorder:
    """One session's recording; `pending_lines()` drains what the hooks gathered."""

    def __init__(self, session_id: str, cols: int, rows: int, max_bytes: int):
        self.session_id = session_id
        self.started = time.monotonic()
        self.max_bytes = max_bytes
        self.recorded = 0
        self.stopped = False
        self.seq = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._events: list[list] = []  # [t, "o", bytearray] or [t, "r", "COLSxROWS"]
        self.lock = Semaphore()  # one batch at a time: the decoder's state and seq order depend on it
        header = {"version": 2, "width": cols, "height": rows, "timestamp": int(time.time()),
                  "env": {"TERM": "xterm-256color"}}
        self._header = json.dumps(header)

    def output(self, _offset: int, data: bytes) -> None:
        if self.stopped:
            return
        now = time.monotonic() - self.started
        self.recorded += len(data)
        if self.recorded > self.max_bytes:
            self.stopped = True
            note = f"\r\n[aict: recording stopped after {self.max_bytes // (1024 * 1024)} MiB]\r\n"
            self._events.append([now, "o", bytearray(note.encode())])
            return
        last = self._events[-1] if self._events else None
        if last is not None and last[1] == "o" and now - last[0] < MERGE_SECONDS and len(last[2]) < MAX_EVENT_BYTES:
            last[2] += data
        else:
            self._events.append([now, "o", bytearray(data)])

    def resized(self, cols: int, rows: int) -> None:
        self._events.append([time.monotonic() - self.started, "r", f"{cols}x{rows}"])

    def pending_rows(self, final: bool = False) -> list[str]:
        """pending_lines() cut at line ends into pieces of about ROW_BYTES."""
        rows, piece, size = [], [], 0
        for line in self.pending_lines(final).splitlines(keepends=True):
            piece.append(line)
            size += len(line)
            if size >= ROW_BYTES:
                rows.append("".join(piece))
                piece, size = [], 0
        if piece:
            rows.append("".join(piece))
        return rows

    def pending_lines(self, final: bool = False) -> str:
        """asciicast lines for everything gathered since the last call (header first, once)."""
        events, self._events = self._events, []
        lines = []
        if self.seq == 0:
            lines.append(self._header)
        since_yield = 0
        for at, kind, payload in events:
            since_yield += len(payload)
            if since_yield > YIELD_EVERY_BYTES:
                since_yield = 0
                gevent.idle()
            text = self._decoder.decode(bytes(payload)) if kind == "o" else payload
            if text:
                lines.append(json.dumps([round(at, 6), kind, text], ensure_ascii=False))
        if final:
            tail = self._decoder.decode(b"", final=True)
            if tail:
                lines.append(json.dumps([round(time.monotonic() - self.started, 6), "o", tail]))
        return "".join(line + "\n" for line in lines)


class RecordingWriter:
    """Owns the live recorders of one app and writes their lines to the database every second."""

    def __init__(self, app):
        self.app = app
        self.max_bytes = app.config["AICT"]["RECORDING_MAX_BYTES"]
        self.recorders: dict[str, Recorder] = {}
        self._greenlet = None

    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)

    def attach(self, session) -> Recorder:
        recorder = Recorder(session.id, session.cols, session.rows, self.max_bytes)
        self.recorders[session.id] = recorder
        session.add_output_hook(recorder.output)
        session.add_resize_hook(recorder.resized)
        return recorder

    def finish(self, session_id: str) -> None:
        """The session ended: write its last lines now and forget it."""
        recorder = self.recorders.pop(session_id, None)
        if recorder is not None:
            self._write([recorder], final=True)

    def flush(self, session_id: str | None = None) -> None:
        """Write what is pending (for one session, or all) so a reader sees everything so far."""
        if session_id is None:
            self._write(list(self.recorders.values()))
        elif session_id in self.recorders:
            self._write([self.recorders[session_id]])

    def _write(self, recorders: list[Recorder], final: bool = False) -> None:
        """Their pending lines, in transactions of about ROW_BYTES: one commit a second for many quiet
        sessions, and a flooding one never holds the loop for one huge insert."""
        held, rows = [], []
        try:
            for recorder in recorders:
                recorder.lock.acquire()
                held.append(recorder)
                for text in recorder.pending_rows(final=final):
                    rows.append(RecordingChunk(session_id=recorder.session_id, seq=recorder.seq, lines=text))
                    recorder.seq += 1
            with self.app.app_context():
                size = 0
                for index, row in enumerate(rows):
                    db.session.add(row)
                    size += len(row.lines)
                    if size >= ROW_BYTES or index == len(rows) - 1:
                        db.session.commit()
                        size = 0
                        gevent.idle()
        finally:
            for recorder in held:
                recorder.lock.release()

    def _run(self) -> None:
        while True:
            gevent.sleep(FLUSH_SECONDS)
            try:
                self.flush()
            except Exception:
                log.exception("writing recordings failed")


def recording_text(session_id: str) -> str:
    """The whole asciicast file as stored so far."""
    chunks = db.session.execute(db.select(RecordingChunk.lines).filter_by(session_id=session_id)
                                .order_by(RecordingChunk.seq)).scalars()
    return "".join(chunks)
