"""Database connections under gevent: a pool sized for many greenlets, never held across a wait.

Thousands of greenlets share a few connections, which works while each holds one only for its
queries. A greenlet that keeps its connection while it waits (for a process to end, an SSH
handshake, a DNS answer, a password hash in a thread) takes it from everyone: sixteen
kill-terminal waits of up to 5 s emptied the old pool (5 + 10), and every login, page, health
check and exit record behind them waited 30 s and failed. So:

- `release_connection()` ends the current transaction before a wait; it refuses unsaved
  changes, so a wait never splits a unit of work (validate and wait first, then write);
- `HoldWatch` notes every checkout and logs a warning, with where the holder waits, when a
  connection is held longer than HOLD_WARN_SECONDS; the test servers fail on that line, so a
  new wait that keeps its connection is found by the suite, not by users. Time the whole
  process did not run (its loop late because the machine was starved) is not counted: that
  is not a wait that kept a connection, and on a loaded CI machine it raised false alarms;
- when the pool really is empty a caller waits at most DB_POOL_TIMEOUT_SECONDS and then gets
  `503 database_busy` (an ack with `ok: false` on sockets), never a 30 s hang.
"""

from __future__ import annotations

import logging
import time
import traceback

import gevent
from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from aict.errors import AppError
from aict.extensions import db

log = logging.getLogger(__name__)

HOLD_WARN_SECONDS = 1.0  # a query takes milliseconds; a hold this long is a wait that kept its connection
CHECK_SECONDS = 0.25  # how often the serving process runs HoldWatch.check
HOLD_WARNING = "held a database connection"  # tests/server.py fails a server whose log says this
_UNSAVED_FLUSH = "aict_unsaved_flush"


def database_busy() -> AppError:
    return AppError("database_busy", "The server is too busy to reach its database; try again in a moment.",
                    status=503)


# ---- releasing before a wait ------------------------------------------------------------------
def release_connection() -> None:
    """Give the current database session's connection back to the pool before waiting.

    Loaded objects stay usable (they are not expired); what is read after the wait starts a new
    transaction. Unsaved changes are a programming error: write after the wait, not across it.
    Outside an app context there is no session, and nothing to release."""
    if not has_app_context():
        return
    session = db.session()
    if session.new or session.dirty or session.deleted or session.info.get(_UNSAVED_FLUSH):
        raise RuntimeError("release_connection() with unsaved changes: finish the write before waiting, "
                           "or validate and wait first, then write")
    if not session.in_transaction():
        return
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()  # nothing to write: ends the transaction and returns the connection
    finally:
        session.expire_on_commit = keep


@event.listens_for(Session, "after_flush")
def _note_flush(session, _context) -> None:
    session.info[_UNSAVED_FLUSH] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_flush(session, *_args) -> None:
    session.info.pop(_UNSAVED_FLUSH, None)


# ---- watching holds ---------------------------------------------------------------------------
class HoldWatch:
    """Every checked-out connection with who holds it since when; long holds are logged once each."""

    def __init__(self, engine: Engine, warn_after: float = HOLD_WARN_SECONDS):
        self.engine = engine
        self.warn_after = warn_after
        self.too_long = 0  # holds that passed warn_after, for /metrics
        self.longest = 0.0
        self._held: dict[int, list] = {}  # id(connection record) -> [since, holder, reported, stalled then]
        self._stalled = 0.0  # seconds the loop ran late, summed: time nothing in this process ran
        self._last_check: float | None = None
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)

    @property
    def checked_out(self) -> int:
        return len(self._held)

    def _stalled_until(self, now: float) -> float:
        """Loop lateness so far, counting the check that is due but has not run yet."""
        if self._last_check is None:
            return self._stalled
        return self._stalled + max(0.0, now - self._last_check - CHECK_SECONDS)

    def _held_for(self, entry: list, now: float) -> float:
        return (now - entry[0]) - (self._stalled_until(now) - entry[3])

    def _checkout(self, _dbapi_connection, record, _proxy) -> None:
        now = time.monotonic()
        self._held[id(record)] = [now, gevent.getcurrent(), False, self._stalled_until(now)]

    def _checkin(self, _dbapi_connection, record) -> None:
        entry = self._held.pop(id(record), None)
        if entry is not None:
            held = self._held_for(entry, time.monotonic())
            self.longest = max(self.longest, held)
            if not entry[2] and held > self.warn_after:
                self._report(entry, held, "until it was given back")

    def check(self) -> None:
        """Run every CHECK_SECONDS by the serving process; its lateness is the stall measure."""
        now = time.monotonic()
        self._stalled = self._stalled_until(now)
        self._last_check = now
        for entry in list(self._held.values()):
            if not entry[2]:
                held = self._held_for(entry, now)
                if held > self.warn_after:
                    self._report(entry, held, "and still holds it, waiting here")

    def _report(self, entry: list, held: float, state: str) -> None:
        entry[2] = True
        self.too_long += 1
        if entry[1] is gevent.getcurrent():  # reported on check-in: where it was given back
            where = "".join(traceback.format_stack()[:-3])
        else:
            frame = getattr(entry[1], "gr_frame", None)
            where = "".join(traceback.format_stack(frame)) if frame is not None else "  (held by a native thread)\n"
        log.warning("%r %s for %.1f s %s (release it before any wait: aict.db_pool.release_connection):\n%s",
                    entry[1], HOLD_WARNING, held, state, where.rstrip())
