"""Terminal sessions as the product sees them: a record, audit events and a recording around each
live terminal (aict.terminals.manager holds the terminals themselves)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import gevent
from flask import Flask
from gevent.event import Event
from gevent.queue import Queue

from aict.audit.events import record
from aict.config import Settings
from aict.db_pool import release_connection
from aict.errors import AppError, bad_request
from aict.extensions import db
from aict.models import TerminalSession, User, Workspace
from aict.models.base import iso, new_id, utcnow
from aict.recordings.recorder import RecordingWriter
from aict.services.access import plausible_id, visible_workspaces, workspace_for
from aict.services.backends import backend_for, start_failure_for
from aict.services.command_history import CommandLog
from aict.services.history import sessions_running
from aict.terminals.live import LiveTerminal, TerminalLimits
from aict.terminals.local import KILL_GRACE_SECONDS
from aict.terminals.manager import LifetimePolicy, TerminalManager

log = logging.getLogger(__name__)
# kill(wait=True) answers once the record says the terminal ended: SIGHUP, SIGKILL after the grace.
KILL_WAIT_SECONDS = KILL_GRACE_SECONDS + 2
EXIT_BATCH = 100  # ended terminals stored per transaction
MAX_LISTED = 1000  # sessions in one list (GET /api/sessions pages with `after`)


def manager_for(settings: Settings, on_exit) -> TerminalManager:
    limits = TerminalLimits(ring_bytes=settings.RING_BYTES, window_bytes=settings.FLOW_WINDOW_BYTES,
                            coalesce_seconds=settings.COALESCE_MS / 1000,
                            stream_coalesce_seconds=settings.STREAM_COALESCE_MS / 1000)
    policy = LifetimePolicy(idle_timeout=settings.IDLE_TIMEOUT_SECONDS,
                            retention=settings.EXITED_RETENTION_SECONDS,
                            max_per_owner=settings.MAX_SESSIONS_PER_USER)
    return TerminalManager(limits, policy, on_exit=on_exit)


class SessionService:
    def __init__(self, app: Flask):
        self.app = app
        self.settings = app.config["AICT"]
        self.terminals = manager_for(self.settings, on_exit=self._ended)
        self.recordings = RecordingWriter(app)
        self.history = CommandLog(app, clock=self._recording_clock)
        self._killed_by: dict[str, tuple[str | None, str | None]] = {}  # who ended it, and why
        self._exit_stored: dict[str, Event] = {}  # set once a killed terminal's record says it ended
        self._exits: Queue = Queue()  # ended terminals whose records still say running
        self._exit_writer: gevent.Greenlet | None = None
        self._state_hooks: list = []  # called with (terminal, owner id, workspace id) on start, resize, exit

    def on_state(self, hook) -> None:
        """Call hook(terminal, owner_id, workspace_id) whenever a terminal starts, is resized or ends
        (the terminal host tells its web processes)."""
        self._state_hooks.append(hook)

    def _state_changed(self, terminal: LiveTerminal) -> None:
        owner_id, workspace_id = self.terminals.placement_of(terminal.id)
        for hook in self._state_hooks:
            try:
                hook(terminal, owner_id, workspace_id)
            except Exception:
                log.exception("session %s: state hook failed", terminal.id)

    # ---- starting -------------------------------------------------------------------------
    def create(self, user: User, workspace: Workspace, cols: int, rows: int, name: str | None,
               creator_ip: str | None = None) -> LiveTerminal:
        """Start a terminal on a workspace (within the request's app context).

        Reads, then starts without a database connection (an SSH login can take its whole connect
        timeout), then records: a failed start leaves no row."""
        self.terminals.check_capacity(user.id)
        row = TerminalSession(id=new_id(), workspace_id=workspace.id, owner_id=user.id, cols=cols, rows=rows,
                              name=name or f"{workspace.name} #{self._next_number(workspace.id)}",
                              node=self.settings.node)
        backend = backend_for(workspace, self.settings, user.username)
        release_connection()
        started = time.monotonic()
        username, workspace_id = user.username, workspace.id

        def before_start(terminal: LiveTerminal) -> None:
            self.recordings.attach(terminal)
            self.history.attach(terminal, username=username, workspace_id=workspace_id,
                                nonce=getattr(backend, "shell_nonce", None))

        try:
            terminal = self.terminals.start(row.id, backend, owner_id=user.id, workspace_id=workspace.id,
                                            cols=cols, rows=rows, before_start=before_start)
        except AppError as error:
            self._forget(row.id)  # raised before anything was recorded
            raise start_failure_for(user, workspace, error, started, self.settings.SSH_CONNECT_TIMEOUT) from None
        except BaseException:
            self._forget(row.id)
            raise
        terminal.add_resize_hook(lambda _cols, _rows: self._state_changed(terminal))
        self._state_changed(terminal)
        db.session.add(row)
        record("session_start", username=user.username, workspace_id=workspace.id, session_id=row.id,
               detail={"name": row.name, "kind": workspace.kind}, commit=False)
        # its creator's socket is its first attachment: audited as any other (every detach, a tab
        # closed too, has the attach it ends), in the same transaction as its start
        record("attach", username=user.username, ip=creator_ip, workspace_id=workspace.id, session_id=row.id,
               detail={"since": 0, "access": "operator", "created": True}, commit=False)
        db.session.commit()
        return terminal

    def _forget(self, session_id: str) -> None:
        self.recordings.forget(session_id)
        self.history.forget(session_id)

    def _recording_clock(self, session_id: str) -> float | None:
        """Seconds into the session's recording now (where the replay page puts a command's marker)."""
        recorder = self.recordings.recorders.get(session_id)
        return time.monotonic() - recorder.started if recorder is not None else None

    def adopt(self, terminal: LiveTerminal, *, owner_id: str, workspace_id: str) -> None:
        """Go on with a terminal the previous host image ran (aict.host.handoff); its record exists."""
        self.terminals.adopt(terminal, owner_id=owner_id, workspace_id=workspace_id)
        terminal.add_resize_hook(lambda _cols, _rows: self._state_changed(terminal))

    def _next_number(self, workspace_id: str) -> int:
        return 1 + db.session.scalar(
            db.select(db.func.count()).select_from(TerminalSession).filter_by(workspace_id=workspace_id))

    # ---- control --------------------------------------------------------------------------
    def kill(self, session_id: str, by: str | None = None, wait: bool = False, reason: str | None = None) -> None:
        """End a terminal. With `wait`, return once its record says it ended (a reader right after
        sees it exited), or after KILL_WAIT_SECONDS; the wait yields to the loop. `by` and `reason`
        go into its session_end event."""
        terminal = self.terminals.get(session_id)
        if terminal is None or not terminal.running:
            return
        self._killed_by[session_id] = (by, reason)
        stored = self._exit_stored.setdefault(session_id, Event())
        terminal.kill()
        if wait:
            release_connection()  # the exit is stored by another greenlet, which needs a connection too
            stored.wait(KILL_WAIT_SECONDS)

    def end_all(self, timeout: float = KILL_WAIT_SECONDS) -> int:
        """On the way out: end every running terminal and wait (at most `timeout`, cooperatively) until
        their records and audit events say so; returns how many were still unrecorded then."""
        stored = []
        for terminal in self.terminals.all():
            if terminal.running:
                stored.append(self._exit_stored.setdefault(terminal.id, Event()))
                terminal.kill()
        deadline = time.monotonic() + timeout
        for event in stored:
            event.wait(max(0.0, deadline - time.monotonic()))
        missing = sum(1 for event in stored if not event.is_set())
        if missing:
            log.warning("%d terminal(s) ended without their end being recorded", missing)
        return missing

    def flush_recording(self, session_id: str) -> None:
        """Store what the session's recording holds, so that a reader sees everything so far."""
        self.recordings.flush(session_id)

    def flush_history(self) -> None:
        """Store the commands gathered so far, so that a reader of the history sees them."""
        self.history.flush()

    # ---- records --------------------------------------------------------------------------
    def list_visible(self, user: User, workspace_id: str | None = None, status: str | None = None,
                     command: str | None = None, **narrower) -> list[dict]:
        return list_visible(self.terminals, user, workspace_id, status, command, **narrower)

    def as_dict(self, row: TerminalSession) -> dict:
        return session_dict(self.terminals, row)

    def mark_orphans_exited(self, kept: tuple[str, ...] = ()) -> None:
        """At the host's start: records this node's previous host left 'running' have no process any
        more, but for the terminals it handed over (`kept`). Another node's terminals are its own.
        Each gets its session_end audit event (the previous host died before it could write them)."""
        with self.app.app_context():
            orphans = db.session.execute(
                db.select(TerminalSession.id, TerminalSession.workspace_id)
                .where(TerminalSession.status == "running", TerminalSession.id.not_in(kept),
                       db.or_(TerminalSession.node == self.settings.node, TerminalSession.node.is_(None)))).all()
            for session_id, workspace_id in orphans:
                ended = db.session.execute(db.update(TerminalSession)
                                           .where(TerminalSession.id == session_id, TerminalSession.status == "running")
                                           .values(status="exited", ended_at=utcnow()))
                if ended.rowcount:
                    record("session_end", workspace_id=workspace_id, session_id=session_id,
                           detail={"reason": "host_lost", "node": self.settings.node}, commit=False)
            db.session.commit()

    # ---- ends -----------------------------------------------------------------------------
    def _ended(self, terminal: LiveTerminal) -> None:
        self.history.forget(terminal.id)  # what it gathered is stored by the next flush
        self._state_changed(terminal)
        self._exits.put(terminal)
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

    def _persist_exit_batch(self, terminals: list[LiveTerminal]) -> None:
        # The rows first: viewers were told of the exits already, and the API should agree at once.
        # The recordings' tails follow (a reader of a recording waits for it).
        try:
            self._store_exits(terminals)
        except Exception:
            log.exception("storing the end of %d terminals failed; storing them one by one", len(terminals))
            for terminal in terminals:
                try:
                    self._store_exits([terminal])
                except Exception:
                    log.exception("session %s: storing its end failed", terminal.id)
        for terminal in terminals:
            stored = self._exit_stored.pop(terminal.id, None)
            if stored is not None:
                stored.set()
        for terminal in terminals:
            try:
                self.recordings.finish(terminal.id)
            except Exception:
                log.exception("session %s: writing the end of its recording failed", terminal.id)

    def _store_exits(self, terminals: list[LiveTerminal]) -> None:
        with self.app.app_context():
            try:
                rows = {row.id: row for row in db.session.scalars(  # one query, not two per terminal
                    db.select(TerminalSession).where(TerminalSession.id.in_([t.id for t in terminals]))
                    .options(db.joinedload(TerminalSession.owner)))}
                for terminal in terminals:
                    self._store_exit(terminal, rows.get(terminal.id))
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise

    def _store_exit(self, terminal: LiveTerminal, row: TerminalSession | None) -> None:
        status = terminal.exit_status
        if row is None:
            return
        row.status, row.ended_at = "exited", utcnow()
        row.exit_code, row.signal = status.exit_code, status.signal
        row.cols, row.rows = terminal.cols, terminal.rows
        by, reason = self._killed_by.pop(terminal.id, (None, None))
        detail = {"exit_code": status.exit_code, "signal": status.signal, "bytes": terminal.ring.end}
        if reason:
            detail["reason"] = reason
        record("session_end", workspace_id=row.workspace_id, session_id=row.id,
               username=by or row.owner.username, detail=detail, commit=False)


def _had_sessions(workspace_id: str) -> bool:
    return db.session.execute(db.select(TerminalSession.id).where(TerminalSession.workspace_id == workspace_id)
                              .limit(1)).first() is not None


def list_visible(terminals, user: User, workspace_id: str | None = None, status: str | None = None,
                 command: str | None = None, *, owner: str | None = None, after: str | None = None,
                 limit: int = MAX_LISTED) -> list[dict]:
    """Sessions the user may see, newest first (HTTP and `list-terminals`); `terminals` is the live
    terminals' manager (the host's, or a web process's mirror of it). With `command`, only those
    that ran a command containing it (any case); `owner` (a username) narrows it too; `after` (a
    session's id) lists those that come after that one: the next page."""
    query = db.select(TerminalSession).order_by(TerminalSession.created_at.desc(), TerminalSession.id.desc())
    visible = None if user.is_admin else {w.id for w in visible_workspaces(user)}
    if workspace_id is not None:
        # admins list a deleted workspace's kept sessions too (an id no database could hold: not asked)
        if not (user.is_admin and plausible_id(workspace_id) and _had_sessions(workspace_id)):
            workspace_for(user, workspace_id)
        query = query.where(TerminalSession.workspace_id == workspace_id)
    elif visible is not None:
        query = query.where(TerminalSession.workspace_id.in_(visible))
    if status == "exited":  # with those that ended a moment ago, their end not stored yet
        query = query.where(db.or_(TerminalSession.status == "exited", TerminalSession.id.in_(_just_ended(terminals))))
    elif status is not None:
        query = query.where(TerminalSession.status == status)
    if command:
        query = query.where(TerminalSession.id.in_(sessions_running(command)))
    if owner is not None:
        query = query.where(TerminalSession.owner_id.in_(db.select(User.id).where(User.username == owner)))
    if after is not None:
        anchor = db.session.get(TerminalSession, after) if plausible_id(after) else None
        if anchor is None or (visible is not None and anchor.workspace_id not in visible):  # invisible: unknown
            raise bad_request("'after' must be the id of a session of the previous page.")
        query = query.where(db.or_(TerminalSession.created_at < anchor.created_at,
                                   db.and_(TerminalSession.created_at == anchor.created_at,
                                           TerminalSession.id < anchor.id)))
    rows = db.session.execute(query.limit(limit)).scalars()
    if status == "running":  # its end may not be stored yet (the host stores exits in batches), but
        # the page that heard terminal-exit asks at once: a terminal known to have ended is not running
        rows = [row for row in rows if not _ended_live(terminals, row.id)]
    return [session_dict(terminals, row) for row in rows]


JUST_ENDED_SECONDS = 30.0  # ends are stored within a second or two; older ones are in the records


def _just_ended(terminals) -> list[str]:
    now = time.monotonic()
    return [t.id for t in terminals.all()
            if not t.running and t.ended is not None and now - t.ended < JUST_ENDED_SECONDS]


def _ended_live(terminals, session_id: str) -> bool:
    live = terminals.get(session_id)
    return live is not None and not live.running


def session_dict(terminals, row: TerminalSession) -> dict:
    """The record, with the size of its terminal now: a resize changes the running terminal, and
    its record only when it ends (no database write for every drag of a window's edge)."""
    data = row.to_dict()
    live = terminals.get(row.id)
    if live is not None and live.running:
        data["cols"], data["rows"] = live.cols, live.rows
    elif live is not None and row.status == "running" and live.exit_status is not None:
        # Ended, and its record not stored yet (the host stores ends in batches): a client that heard
        # terminal-exit and asks at once is told what the record will say, not "running".
        since = time.monotonic() - live.ended if live.ended is not None else 0.0
        data.update(status="exited", ended_at=iso(utcnow() - timedelta(seconds=since)), cols=live.cols,
                    rows=live.rows, exit_code=live.exit_status.exit_code, signal=live.exit_status.signal)
    return data
