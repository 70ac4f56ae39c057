"""SQLite's WAL checkpoints, run off the event loop.

By default SQLite checkpoints inside whichever commit grows the WAL past 1000 pages: that commit
copies the WAL into the database file and fsyncs both, on the event loop, stalling every
terminal. Measured while a flood was being recorded: every ~8th recording commit took 10-30 ms
instead of ~1 ms (and a slow disk makes it hundreds). So the app's connections turn automatic
checkpoints off (see `pragmas`) and a checkpointer runs them once a second in a native thread on
a connection of its own; sqlite3 releases the GIL while it copies and syncs.
"""

from __future__ import annotations

import sqlite3

from gevent.hub import get_hub

from aict.runtime.periodic import every

CHECKPOINT_SECONDS = 1.0
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # a WAL file that grew in a burst is cut back to this once reset


def pragmas(connection, _record) -> None:
    """Every app connection: WAL (readers never wait for the writer, a commit is one sequential
    append), NORMAL sync (crash-safe in WAL mode), and no checkpoints on the loop."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    cursor.close()


class WalCheckpointer:
    def __init__(self, database_path: str):
        self.path = database_path
        self._connection: sqlite3.Connection | None = None
        self._greenlet = None

    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = every(CHECKPOINT_SECONDS, lambda: get_hub().threadpool.apply(self.checkpoint),
                                   "checkpointing the SQLite WAL")

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint (never waits for readers or writers): (busy, WAL pages, pages copied)."""
        if self._connection is None:  # made in the thread that uses it; one call at a time
            self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=1)
        return self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


def checkpointer_for(engine) -> WalCheckpointer | None:
    """A checkpointer for a file-backed SQLite engine; None for anything else."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    return WalCheckpointer(engine.url.database)
