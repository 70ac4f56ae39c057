"""Purging old recordings against a real SQLite database: short batches, the loop running between them."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import gevent
from sqlalchemy import event

from aict.extensions import db
from aict.models import AuditEvent, RecordingChunk, TerminalSession, User, Workspace
from aict.models.base import new_id, utcnow
from aict.recordings.codec import compress_rows
from aict.services.recording_retention import PURGE_BATCH_ROWS, purge_recordings

ROWS_PER_SESSION = 50


def stored_sessions(app, ended_days_ago: list[float | None]) -> list[str]:
    """Sessions with ROWS_PER_SESSION stored rows of 256 KiB each (random hex: ~150 KiB each compressed),
    ended that many days ago (None: still running)."""
    with app.app_context():
        user = User(id=new_id(), username="purger", password_hash="x", role="admin")
        workspace = Workspace(id=new_id(), name="w", kind="local", path="/tmp", owner_id=user.id)
        db.session.add_all([user, workspace])
        ids = []
        for n, days in enumerate(ended_days_ago):
            session = TerminalSession(id=new_id(), workspace_id=workspace.id, owner_id=user.id, cols=80, rows=24,
                                      name=f"s{n}", status="running" if days is None else "exited",
                                      ended_at=None if days is None else utcnow() - timedelta(days=days))
            db.session.add(session)
            ids.append(session.id)
        db.session.commit()
        for session_id in ids:
            rows = [{"session_id": session_id, "seq": seq, "data": os.urandom(192 * 1024).hex().encode()[:256 * 1024],
                     "output_offset": seq * 256 * 1024} for seq in range(ROWS_PER_SESSION)]
            db.session.execute(RecordingChunk.__table__.insert(), compress_rows(rows))
        db.session.commit()
    return ids


def test_a_purge_deletes_ended_terminals_recordings_in_short_batches_with_the_loop_running(host_app):
    app = host_app
    old, older, recent, running = stored_sessions(app, [40, 400, 1, None])
    commits, began, ticks = [], [], 0

    def tick():
        nonlocal ticks
        while True:
            ticks += 1
            gevent.sleep(0.0001)

    with app.app_context():
        event.listen(db.engine, "begin", lambda _conn: began.append(time.perf_counter()))
        event.listen(db.engine, "commit", lambda _conn: commits.append((ticks, time.perf_counter())))
    ticker = gevent.spawn(tick)
    def purge():
        with app.app_context():
            return purge_recordings(30, "cli")

    try:
        purged = gevent.spawn(purge).get(timeout=60)
    finally:
        ticker.kill()
    batches = -(-2 * ROWS_PER_SESSION // PURGE_BATCH_ROWS)
    assert (purged.sessions, purged.rows) == (2, 2 * ROWS_PER_SESSION)
    assert purged.bytes > 2 * ROWS_PER_SESSION * 100 * 1024  # as stored: random hex, compressed about 1.7:1
    deletes = commits[:batches]
    assert [t for t, _ in deletes] == sorted({t for t, _ in deletes})  # the loop ran between every two batches
    longest = max(end - start for start, (_, end) in zip(began, deletes, strict=False))
    print(f"{batches} batches of {PURGE_BATCH_ROWS} rows (~{purged.bytes / purged.rows / 1024:.0f} KiB each stored); "
          f"the longest held the database {longest * 1000:.1f} ms")
    assert longest < 1.0  # milliseconds, measured; a second only on a machine far too busy
    with app.app_context():
        left = dict(db.session.execute(db.select(RecordingChunk.session_id, db.func.count())
                                       .group_by(RecordingChunk.session_id)).all())
        audit = db.session.execute(db.select(AuditEvent).filter_by(type="recording_purge")).scalar_one()
    assert left == {recent: ROWS_PER_SESSION, running: ROWS_PER_SESSION}  # newer and running ones kept
    assert old not in left and older not in left
    assert audit.detail["rows"] == 2 * ROWS_PER_SESSION and audit.detail["by"] == "cli"
