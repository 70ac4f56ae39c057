"""The real PostgreSQL the suite runs against: which database a run (or an xdist worker) uses."""

from __future__ import annotations

import os

POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def postgres_dsn() -> str:
    """The libpq URL of this run's PostgreSQL database: `test`, or under pytest-xdist one per worker
    (test_gw0, test_gw1, ...), made when missing: each test empties its database first, and two
    workers emptying one would pull it from under each other's servers."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{POSTGRES}/test_{worker}" if worker else f"{POSTGRES}/test"


def ensure_database(dsn: str) -> None:
    import psycopg
    from psycopg import errors, sql

    name = dsn.rsplit("/", 1)[1]
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except errors.DuplicateDatabase:  # made meanwhile by another run
            pass
