"""Stored recordings read back as asciicast v2, a page of rows at a time (any size, bounded memory).

Output is decoded as UTF-8 across record and row boundaries, invalid bytes as U+FFFD. Where rows
were left out of a flood's recording (aict.recordings.recorder keeps its head and its most recent
tail), the rows' output offsets show the gap and an "o" event says how much is missing.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from typing import NamedTuple, Protocol

from aict.db_pool import release_connection
from aict.extensions import db
from aict.models import RecordingChunk
from aict.recordings.codec import stored_data
from aict.recordings.recorder import RECORD

PAGE_ROWS = 16  # rows read per query (at most ~4 MiB of records); the connection goes back between pages
WRITE_BYTES = 64 * 1024  # asciicast text handed to the server at a time


class RecordRow(Protocol):
    offset: int | None  # output before the row's first byte; None on rows stored before it was kept
    data: bytes


class StoredRow(NamedTuple):
    offset: int | None
    data: bytes


def _records(data: bytes) -> Iterator[tuple[float, bytes, bytes]]:
    view, position = memoryview(data), 0
    while position < len(data):
        at, kind, length = RECORD.unpack_from(data, position)
        position += RECORD.size
        yield at, kind, bytes(view[position:position + length])
        position += length


def _output(at: float, text: str) -> str:
    return json.dumps([round(at, 6), "o", text], ensure_ascii=False) + "\n"


def _gap_note(left_out: int) -> str:
    return (f"\r\n[aict: {left_out} bytes ({left_out / (1024 * 1024):.1f} MiB) of output were left out of "
            f"this recording here: it keeps the first and the most recent part of a flood]\r\n")


def asciicast(rows: Iterable[RecordRow]) -> Iterator[str]:
    """asciicast v2 lines (with newlines) from stored rows, in order."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    last_at = 0.0
    expected: int | None = None  # where the next row's output starts, if nothing was left out
    for row in rows:
        if row.offset is not None and expected is not None and row.offset > expected:
            tail = decoder.decode(b"", final=True)  # a character cut by the gap is not joined across it
            if tail:
                yield _output(last_at, tail)
            yield _output(last_at, _gap_note(row.offset - expected))
        output = 0
        for at, kind, payload in _records(row.data):
            last_at = at
            if kind == b"h":
                yield payload.decode() + "\n"
            elif kind == b"r":
                yield json.dumps([round(at, 6), "r", payload.decode()]) + "\n"
            else:
                output += len(payload)
                text = decoder.decode(payload)
                if text:
                    yield _output(at, text)
        expected = None if row.offset is None else row.offset + output
    tail = decoder.decode(b"", final=True)
    if tail:
        yield _output(last_at, tail)


def last_seq(session_id: str) -> int | None:
    """The newest stored row's seq (None: nothing stored, or purged)."""
    return db.session.scalar(db.select(db.func.max(RecordingChunk.seq)).where(RecordingChunk.session_id == session_id))


def stored_rows(session_id: str, until: int) -> Iterator[StoredRow]:
    """The session's rows up to seq `until`, decompressed, read a page at a time with the database
    connection given back between pages (a download of hundreds of MB holds no connection while
    its client reads). Rows a flood's tail deleted meanwhile are skipped; the offsets show the gap."""
    after = -1
    while after < until:
        page = db.session.execute(
            db.select(RecordingChunk.seq, RecordingChunk.output_offset, RecordingChunk.codec, RecordingChunk.data)
            .where(RecordingChunk.session_id == session_id, RecordingChunk.seq > after,
                   RecordingChunk.seq <= until)
            .order_by(RecordingChunk.seq).limit(PAGE_ROWS)).all()
        release_connection()
        if not page:
            return
        for seq, offset, codec, data in page:
            yield StoredRow(offset, stored_data(codec, data))
            after = seq


def recording_text(session_id: str, until: int) -> Iterator[str]:
    """The recording as asciicast v2 text in pieces of about WRITE_BYTES (one write per line was
    a system call per event)."""
    pending: list[str] = []
    size = 0
    for line in asciicast(stored_rows(session_id, until)):
        pending.append(line)
        size += len(line)
        if size >= WRITE_BYTES:
            yield "".join(pending)
            pending, size = [], 0
    if pending:
        yield "".join(pending)


def recording_lines(session_id: str) -> Iterator[str]:
    """The whole stored recording as asciicast v2 lines."""
    until = last_seq(session_id)
    return iter(()) if until is None else asciicast(stored_rows(session_id, until))
