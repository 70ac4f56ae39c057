"""Audit writers of one process on PostgreSQL: a transaction that records two events while another
writer comes along, as the terminal host's batch of exits during a burst of kills does."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
from flask_migrate import upgrade

from aict import create_app
from aict.audit.events import record
from aict.extensions import db
from aict.models import AuditEvent

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def test_a_batch_of_events_and_another_writer_both_finish_and_chain_in_one_line(tmp_path, postgres_url):
    app = create_app({"INSTANCE_DIR": str(tmp_path), "DATABASE_URL": postgres_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
    first_recorded, done = threading.Event(), []

    def batch():  # two events in one transaction, and a pause between them
        with app.app_context():
            record("session_end", detail={"n": 1}, commit=False)
            first_recorded.set()
            time.sleep(0.5)  # the other writer comes meanwhile
            record("session_end", detail={"n": 2}, commit=False)
            db.session.commit()
            done.append("batch")

    def single():
        first_recorded.wait(10)
        with app.app_context():
            record("login", username="someone")
            done.append("single")

    writers = [threading.Thread(target=batch, daemon=True), threading.Thread(target=single, daemon=True)]
    for writer in writers:
        writer.start()
    try:
        for writer in writers:
            writer.join(20)
        # Before the fix each waited for the other (the lock, the head row): neither ever finished.
        assert sorted(done) == ["batch", "single"], done
    finally:
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as conn:  # never a stuck suite
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]  # one line, no fork
        assert sorted(e.type for e in events[-3:]) == ["login", "session_end", "session_end"]


def test_an_event_rolled_back_is_never_chained_to(tmp_path, postgres_url):
    """A transaction chains its later events to its own last one without asking the database; an
    event taken back (the transaction or a savepoint rolled back) must not be that one."""
    app = create_app({"INSTANCE_DIR": str(tmp_path), "DATABASE_URL": postgres_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        record("login", username="kept-1")
        record("session_end", detail={"n": "gone"}, commit=False)
        db.session.rollback()
        record("login", username="kept-2")
        savepoint = db.session.begin_nested()
        record("session_end", detail={"n": "gone too"}, commit=False)
        savepoint.rollback()
        record("login", username="kept-3", commit=False)
        record("login", username="kept-4", commit=False)  # chained to kept-3 without a query
        db.session.commit()
        events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.username for e in events[-4:]] == ["kept-1", "kept-2", "kept-3", "kept-4"]
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]  # one line, no fork
