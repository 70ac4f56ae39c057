"""Recordings are kept RECORDING_RETENTION_DAYS after their terminal ended (0: forever), then purged.

The terminal host purges a minute after it starts and every RECORDING_PURGE_SECONDS (a day);
`flask aict purge-recordings` purges on demand. Either way rows go in batches of PURGE_BATCH_ROWS,
each its own short transaction in a native thread, with a pause between: SQLite has one writer at
a time, and a purge of gigabytes in one transaction would keep every recording and audit write
waiting. Terminals
still running are never touched (only ended ones have an end to count from). Every purge writes
a `recording_purge` audit event saying what it removed, also when that was nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import gevent
from flask import Flask
from gevent.hub import get_hub

from aict.audit.events import record
from aict.db_pool import release_connection
from aict.extensions import db
from aict.models import RecordingChunk, TerminalSession
from aict.models.base import iso, utcnow

log = logging.getLogger(__name__)
PURGE_BATCH_ROWS = 16  # rows per delete: ~2.3 MiB of random text as stored held SQLite 20-45 ms (64 rows: 25-125 ms)
BETWEEN_BATCHES_SECONDS = 0.05  # other writers' turn between two batches


@dataclass
class Purged:
    cutoff: datetime
    sessions: int = 0
    rows: int = 0
    bytes: int = 0  # as stored (compressed)

    def detail(self, older_than_days: float, by: str) -> dict:
        return {"sessions": self.sessions, "rows": self.rows, "bytes": self.bytes, "cutoff": iso(self.cutoff),
                "older_than_days": older_than_days, "by": by}


def purge_recordings(older_than_days: float, by: str) -> Purged:
    """Delete the recordings of terminals that ended more than `older_than_days` ago (within an app
    context); `by` says who asked ("cli", "schedule"). Audited."""
    if older_than_days < 0:
        raise ValueError("older_than_days must be 0 or more")
    purged = Purged(cutoff=utcnow() - timedelta(days=older_than_days))
    engine = db.engine
    release_connection()  # the batches use connections of their own, in threads
    sessions: set[str] = set()
    while True:
        batch = get_hub().threadpool.apply(_delete_batch, (engine, purged.cutoff))
        if not batch:
            break
        purged.rows += len(batch)
        purged.bytes += sum(size or 0 for _, size in batch)
        sessions.update(session_id for session_id, _ in batch)
        gevent.sleep(BETWEEN_BATCHES_SECONDS)
    purged.sessions = len(sessions)
    record("recording_purge", detail=purged.detail(older_than_days, by))
    log.info("purged %d recording row(s) (%d bytes) of %d terminal(s) ended before %s", purged.rows,
             purged.bytes, purged.sessions, iso(purged.cutoff))
    return purged


def _delete_batch(engine, cutoff: datetime) -> list[tuple[str, int]]:
    chunks, sessions = RecordingChunk.__table__, TerminalSession.__table__
    with engine.begin() as connection:
        rows = connection.execute(
            db.select(chunks.c.id, chunks.c.session_id, db.func.length(chunks.c.data))
            .join(sessions, sessions.c.id == chunks.c.session_id)
            .where(sessions.c.status == "exited", sessions.c.ended_at < cutoff)
            .limit(PURGE_BATCH_ROWS)).all()
        if rows:
            connection.execute(chunks.delete().where(chunks.c.id.in_([row_id for row_id, _, _ in rows])))
    return [(session_id, size) for _, session_id, size in rows]


class ScheduledPurge:
    """The terminal host's daily purge (runtime.periodic calls it); nothing when retention is 0."""

    def __init__(self, app: Flask):
        self.app = app
        self.days = app.config["AICT"].RECORDING_RETENTION_DAYS

    def __call__(self) -> None:
        if self.days <= 0:
            return
        with self.app.app_context():
            purge_recordings(self.days, by="schedule")
