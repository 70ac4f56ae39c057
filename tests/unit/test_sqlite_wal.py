"""SQLite WAL: the app's connections never checkpoint on the loop; the checkpointer does, on its own."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, event, text

from aict.runtime.sqlite_wal import checkpointer_for, pragmas


def _engine(path):
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", pragmas)
    return engine


def test_app_connections_leave_checkpoints_to_the_checkpointer(tmp_path):
    db_file = tmp_path / "aict.sqlite"
    engine = _engine(db_file)
    with engine.begin() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        conn.execute(text("CREATE TABLE blobs (data BLOB)"))
    for _ in range(20):  # ~5 MB: well past the 1000 pages at which SQLite would checkpoint itself
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO blobs VALUES (:d)"), {"d": os.urandom(256 * 1024)})
    wal = db_file.with_name(db_file.name + "-wal")
    assert wal.stat().st_size > 5_000_000  # everything still sits in the WAL
    size_before = db_file.stat().st_size

    checkpointer = checkpointer_for(engine)
    busy, wal_pages, copied = checkpointer.checkpoint()
    assert busy == 0 and wal_pages > 1000 and copied == wal_pages
    assert db_file.stat().st_size >= size_before + 5_000_000  # now in the database file itself
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM blobs")).scalar() == 20


def test_only_file_backed_sqlite_gets_a_checkpointer():
    assert checkpointer_for(create_engine("sqlite://")) is None
    assert checkpointer_for(create_engine("postgresql+psycopg://u@127.0.0.1/test")) is None
