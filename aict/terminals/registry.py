"""The live sessions of this process: creation, lookup, lifetime policy (idle timeout, retention)."""

from __future__ import annotations

import logging
import time

import gevent
from flask import Flask
from gevent.event import Event
from gevent.queue import Queue

from aict.audit.events import record
from aict.db_pool import release_connection
from aict.errors import AppError
from aict.extensions import db
from aict.models import TerminalSession, User, Workspace
from aict.models.base import new_id, utcnow
from aict.recordings.recorder import RecordingWriter
from aict.runtime.periodic import every
from aict.terminals.backend import Backend
from aict.terminals.live import LiveTerminal, TerminalLimits
from aict.terminals.local import KILL_GRACE_SECONDS, LocalPtyBackend

log = logging.getLogger(__name__)
SWEEP_SECONDS = 15
# kill(wait=True) answers once the record says the terminal ended: SIGHUP, SIGKILL after the grace.
KILL_WAIT_SECONDS = KILL_GRACE_SECONDS + 2
EXIT_BATCH = 100  # ended terminals stored per transaction


class SessionRegistry:
    def __init__(self, app: Flask):
        self.app = app
        self.settings = app.config["AICT"]
        self.limits = TerminalLimits(ring_bytes=self.settings["RING_BYTES"],
                                    window_bytes=self.settings["FLOW_WINDOW_BYTES"],
                                    coalesce_seconds=self.settings["COALESCE_MS"] / 1000,
                                    stream_coalesce_seconds=self.settings["STREAM_COALESCE_MS"] / 1000)
        self._sessions: dict[str, LiveTerminal] = {}
        self._workspace_of: dict[str, str] = {}
        self._killed_by: dict[str, str | None] = {}
        self._exit_stored: dict[str, Event] = {}  # set once a killed session's record says it ended
        self._starting: dict[str, int] = {}  # user id -> terminals being started (not yet recorded)
        self._exits: Queue = Queue()  # ended sessions whose records still say running
        self._exit_writer: gevent.Greenlet | None = None
        self.recordings = RecordingWriter(app)
        self._sweeper = None

    def start_sweeper(self) -> None:
        if self._sweeper is None:
            self._sweeper = every(SWEEP_SECONDS, self.sweep, "session sweep")
            self.recordings.start()

    # ---- creation -------------------------------------------------------------------------
    def backend_for(self, workspace: Workspace) -> Backend:
        if workspace.kind == "local":
            argv = [self.settings["SHELL"], *self.settings["SHELL_ARGS"]]
            return LocalPtyBackend(argv, workspace.path)
        from aict.ssh.backend import backend_for_workspace

        return backend_for_workspace(workspace, self.settings)

    def create(self, user: User, workspace: Workspace, cols: int, rows: int, name: str | None) -> LiveTerminal:
        """Start a terminal on a workspace (within the request's app context).

        Reads, then starts without a database connection (an SSH login can take its whole connect
        timeout), then records: a failed start leaves no row."""
        running_own = db.session.scalar(
            db.select(db.func.count()).select_from(TerminalSession).filter_by(owner_id=user.id, status="running"))
        if running_own + self._starting.get(user.id, 0) >= self.settings["MAX_SESSIONS_PER_USER"]:
            raise AppError("too_many_sessions", "You have too many running terminals; close some first.",
                           status=409)
        row = TerminalSession(id=new_id(), workspace_id=workspace.id, owner_id=user.id, cols=cols, rows=rows,
                              name=name or f"{workspace.name} #{self._next_number(workspace.id)}")
        session = LiveTerminal(row.id, self.backend_for(workspace), cols=cols, rows=rows,
                          limits=self.limits, on_exit=self._on_exit)
        self.recordings.attach(session)  # before start: the first prompt is recorded too
        release_connection()
        self._starting[user.id] = self._starting.get(user.id, 0) + 1
        try:
            session.start()  # raises AppError (e.g. SSH failures) before anything is recorded
        except BaseException:
            self.recordings.recorders.pop(row.id, None)
            raise
        finally:
            self._starting[user.id] -= 1
            if not self._starting[user.id]:
                del self._starting[user.id]
        db.session.add(row)
        self._sessions[row.id] = session
        self._workspace_of[row.id] = workspace.id
        record("session_start", username=user.username, workspace_id=workspace.id, session_id=row.id,
               detail={"name": row.name, "kind": workspace.kind}, commit=False)
        db.session.commit()
        return session

    def _next_number(self, workspace_id: str) -> int:
        return 1 + db.session.scalar(
            db.select(db.func.count()).select_from(TerminalSession).filter_by(workspace_id=workspace_id))

    # ---- lookup ---------------------------------------------------------------------------
    def get(self, session_id: str) -> LiveTerminal | None:
        return self._sessions.get(session_id)

    def count_running(self) -> int:
        return sum(1 for s in self._sessions.values() if s.running)

    def in_workspace(self, workspace_id: str) -> list[LiveTerminal]:
        return [s for sid, s in self._sessions.items() if self._workspace_of.get(sid) == workspace_id]

    def all(self) -> list[LiveTerminal]:
        return list(self._sessions.values())

    # ---- control --------------------------------------------------------------------------
    def kill(self, session_id: str, by: str | None = None, wait: bool = False) -> None:
        """End a terminal. With `wait`, return once its record says it ended (a reader right after
        sees it exited), or after KILL_WAIT_SECONDS; the wait yields to the loop."""
        session = self._sessions.get(session_id)
        if session is None or not session.running:
            return
        self._killed_by[session_id] = by
        stored = self._exit_stored.setdefault(session_id, Event())
        session.kill()
        if wait:
            release_connection()  # the exit is stored by another greenlet, which needs a connection too
            stored.wait(KILL_WAIT_SECONDS)

    def kill_workspace(self, workspace_id: str) -> None:
        for session in self.in_workspace(workspace_id):
            session.kill()

    def update_access(self, user_id: str, workspace_id: str, access: str | None) -> list[tuple[str, str]]:
        """Apply a membership change to live attachments; returns (session id, socket key) detached."""
        detached = []
        for session in self.in_workspace(workspace_id):
            detached += [(session.id, key) for key in session.set_access(user_id, access)]
        if detached and self.on_forced_detach is not None:
            self.on_forced_detach(detached)
        return detached

    on_forced_detach = None  # set by the realtime layer to tell the detached sockets

    def shutdown(self) -> None:
        for session in self.all():
            session.kill()

    # ---- lifetime -------------------------------------------------------------------------
    def _on_exit(self, session: LiveTerminal) -> None:
        self._exits.put(session)
        if self._exit_writer is None or self._exit_writer.dead:
            self._exit_writer = gevent.spawn(self._persist_exits)

    def _persist_exits(self) -> None:
        """Store ended terminals in batches, one transaction each: 200 terminals ending at once are
        a few commits on one connection, not 200 writers queueing for the pool and the audit lock."""
        while not self._exits.empty():
            batch = [self._exits.get()]
            while len(batch) < EXIT_BATCH and not self._exits.empty():
                batch.append(self._exits.get())
            self._persist_exit_batch(batch)

    def _persist_exit_batch(self, sessions: list[LiveTerminal]) -> None:
        # The rows first: viewers were told of the exits already, and the API should agree at once.
        # The recordings' tails follow (a reader of a recording waits for it).
        try:
            self._store_exits(sessions)
        except Exception:
            log.exception("storing the end of %d terminals failed; storing them one by one", len(sessions))
            for session in sessions:
                try:
                    self._store_exits([session])
                except Exception:
                    log.exception("session %s: storing its end failed", session.id)
        for session in sessions:
            stored = self._exit_stored.pop(session.id, None)
            if stored is not None:
                stored.set()
        for session in sessions:
            try:
                self.recordings.finish(session.id)
            except Exception:
                log.exception("session %s: writing the end of its recording failed", session.id)

    def _store_exits(self, sessions: list[LiveTerminal]) -> None:
        with self.app.app_context():
            try:
                for session in sessions:
                    self._store_exit(session)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise

    def _store_exit(self, session: LiveTerminal) -> None:
        status = session.exit_status
        row = db.session.get(TerminalSession, session.id)
        if row is None:
            return
        row.status, row.ended_at = "exited", utcnow()
        row.exit_code, row.signal = status.exit_code, status.signal
        row.cols, row.rows = session.cols, session.rows
        record("session_end", workspace_id=row.workspace_id, session_id=row.id,
               username=self._killed_by.pop(session.id, None) or row.owner.username,
               detail={"exit_code": status.exit_code, "signal": status.signal,
                       "bytes": session.ring.end}, commit=False)

    def sweep(self, now: float | None = None) -> None:
        """End idle detached sessions; forget exited ones whose retention has passed."""
        now = time.monotonic() if now is None else now
        idle, retention = self.settings["IDLE_TIMEOUT_SECONDS"], self.settings["EXITED_RETENTION_SECONDS"]
        for sid, session in list(self._sessions.items()):
            if session.running and idle and session.viewer_count == 0 and now - session.last_detached > idle:
                log.info("session %s idle for %ss with nobody attached: ending it", sid, idle)
                session.kill()
            elif session.status == "exited" and session.ended and now - session.ended > retention:
                self._sessions.pop(sid, None)
                self._workspace_of.pop(sid, None)

    def mark_orphans_exited(self) -> None:
        """At startup: records left 'running' by a previous process have no process any more."""
        with self.app.app_context():
            db.session.execute(db.update(TerminalSession).where(TerminalSession.status == "running")
                               .values(status="exited", ended_at=utcnow()))
            db.session.commit()
