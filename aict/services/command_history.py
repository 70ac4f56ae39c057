"""Command history: each command run in a terminal, stored with a `command` audit event.

Local bash and zsh report their commands through shell integration (aict.terminals.integration:
capture "shell", with exit code and working directory); other terminals, SSH ones among them, have
their lines as typed and echoed (aict.terminals.typed_lines: capture "typed"). Commands are
gathered on the output path and stored by the terminal host's periodic flush (every FLUSH_SECONDS,
one transaction): never a database write per chunk of output. A command is stored (and audited)
at the first flush after it started, with its exit code when it has finished by then; a later end
updates its row (the audit event, written once, says what was known).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from gevent.lock import Semaphore

from aict.audit.events import record
from aict.extensions import db
from aict.models import Command
from aict.models.base import new_id, utcnow
from aict.models.commands import COMMAND_MAX, CWD_MAX
from aict.terminals.live import LiveTerminal
from aict.terminals.shell_marks import Mark, MarkFilter
from aict.terminals.typed_lines import TypedLines

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.5
MAX_SECONDS = 10 * 365 * 24 * 3600  # a duration past this (a shell's clock set back or forward) is not believed
# A command's audit event waits this long for the command's end, so that it carries the exit code
# (the audit trail is append-only: an event is never updated). Its history row is stored at once.
AUDIT_WAIT_SECONDS = 5.0
MAX_PENDING = 10_000  # commands kept while the database refuses them; older ones are dropped (logged)


@dataclass(eq=False)
class _Entry:
    """A command whose row, or whose end, is not stored yet."""

    id: str
    workspace_id: str
    session_id: str
    username: str | None
    command: str
    truncated: bool
    cwd: str | None
    at: object  # datetime (UTC, naive)
    time: float | None
    capture: str
    exit_code: int | None = None
    finished_at: object = None
    stored: bool = False  # its row is written (or being written): an end is an update
    shell_started: float | None = None  # the shell's clock at its start (EPOCHREALTIME), where it sends it
    seconds: float | None = None  # how long it ran by the shell's clock (None: the host's times say)

    def row(self) -> dict:
        return {"id": self.id, "workspace_id": self.workspace_id, "session_id": self.session_id,
                "username": self.username, "command": self.command, "truncated": self.truncated,
                "exit_code": self.exit_code, "cwd": self.cwd, "at": self.at, "finished_at": self.finished_at,
                "time": self.time, "capture": self.capture}

    def detail(self) -> dict:
        detail = {"command": self.command, "cwd": self.cwd, "capture": self.capture}
        if self.exit_code is not None:
            detail["exit_code"] = self.exit_code
        if self.truncated:
            detail["truncated"] = True
        return detail


class _Capture:
    """One terminal's commands: its shell's marks, or its typed lines."""

    def __init__(self, log_: CommandLog, terminal: LiveTerminal, username: str | None, workspace_id: str,
                 nonce: str | None):
        self.log, self.terminal = log_, terminal
        self.username, self.workspace_id, self.nonce = username, workspace_id, nonce
        # who typed last (a shared terminal's operators take turns); None: the terminal's owner
        self.typist: str | None = None
        self.running: _Entry | None = None  # the shell's command under way

    def on_mark(self, mark: Mark) -> None:
        if mark.kind == "E" and mark.fields:
            cwd = mark.fields[1][:CWD_MAX] if len(mark.fields) > 1 and mark.fields[1] else None
            self.running = self.log.started(self, mark.fields[0], cwd, "shell", utcnow())
            self.running.shell_started = _shell_clock(mark.fields, 2)
        elif mark.kind == "D" and self.running is not None:
            entry, self.running = self.running, None
            try:
                code = int(mark.fields[0]) if mark.fields else None
            except ValueError:
                code = None
            ended = _shell_clock(mark.fields, 1)
            if entry.shell_started is not None and ended is not None and 0 <= ended - entry.shell_started < MAX_SECONDS:
                entry.seconds = ended - entry.shell_started
            self.log.finished(entry, code)

    def on_typed(self, line: str, at: float) -> None:
        self.log.started(self, line, None, "typed", utcnow() - timedelta(seconds=max(0.0, time.time() - at)))

    def handover(self) -> dict:
        """What the host that takes this terminal over needs (after CommandLog.flush())."""
        return {"username": self.username, "typist": self.typist, "nonce": self.nonce,
                "held": self.terminal.mark_filter.held.hex(),
                "running": self.running.id if self.running is not None else None}


def _shell_clock(fields: tuple, index: int) -> float | None:
    """A mark's EPOCHREALTIME field (seconds, with the locale's decimal point), if it has one."""
    if len(fields) <= index or not fields[index]:
        return None
    try:
        return float(fields[index].replace(",", "."))
    except ValueError:
        return None


class CommandLog:
    """The commands of this host's terminals, gathered as they run and stored by flush()."""

    def __init__(self, app: Flask, clock: Callable[[str], float | None]):
        self.app = app
        self.clock = clock  # seconds into a session's recording, or None
        self.captures: dict[str, _Capture] = {}
        self._new: list[_Entry] = []
        self._ends: list[_Entry] = []
        self._unaudited: list[_Entry] = []  # stored, their audit event waiting for their end
        self._writing = Semaphore()
        # told of each command whose end the shell reported (the host's terminal-command); on the
        # output path: it must not block
        self.on_finished: Callable[[_Entry], None] | None = None

    def attach(self, terminal: LiveTerminal, *, username: str | None, workspace_id: str, nonce: str | None,
               resumed: dict | None = None) -> None:
        """Before the terminal starts: strip its marks, and capture its commands (its shell's marks
        with `nonce`, else its typed lines). `resumed`: the state a restarted host handed over."""
        capture = _Capture(self, terminal, username, workspace_id, nonce)
        if resumed is not None:
            capture.typist = resumed.get("typist")
        marks = MarkFilter(nonce, capture.on_mark if nonce else None)
        if resumed is not None:
            marks.hold(bytes.fromhex(resumed.get("held") or ""))
            if resumed.get("running"):  # its row is stored: its end is an update
                capture.running = _Entry(resumed["running"], workspace_id, terminal.id, username, "", False, None,
                                         None, None, "shell", stored=True)
        terminal.set_mark_filter(marks)
        if nonce is None:
            typed = TypedLines(capture.on_typed)
            terminal.add_input_hook(typed.input)
            terminal.add_output_hook(typed.output)
        self.captures[terminal.id] = capture

    def forget(self, session_id: str) -> None:
        self.captures.pop(session_id, None)

    def typed_by(self, session_id: str, username: str | None) -> None:
        """The terminal's input from now on is `username`'s: the commands it starts are theirs."""
        capture = self.captures.get(session_id)
        if capture is not None and username:
            capture.typist = username

    def handover(self, session_id: str) -> dict | None:
        capture = self.captures.get(session_id)
        return capture.handover() if capture is not None else None

    # ---- gathering (on the output and input paths: no I/O) ---------------------------------
    def started(self, capture: _Capture, line: str, cwd: str | None, how: str, at) -> _Entry:
        session_id = capture.terminal.id
        username = capture.typist or capture.username
        entry = _Entry(new_id(), capture.workspace_id, session_id, username, line[:COMMAND_MAX],
                       len(line) > COMMAND_MAX, cwd, at, self._clock(session_id, at), how)
        if len(self._new) >= MAX_PENDING:
            dropped = self._new.pop(0)
            log.warning("command history: dropped a command of session %s (the database is not taking them)",
                        dropped.session_id)
        self._new.append(entry)
        return entry

    def finished(self, entry: _Entry, exit_code: int | None) -> None:
        entry.exit_code, entry.finished_at = exit_code, utcnow()
        if entry.stored:
            self._ends.append(entry)
        if self.on_finished is not None and entry.command:  # a command resumed after a restart has no line
            try:
                self.on_finished(entry)
            except Exception:
                log.exception("session %s: telling of a finished command failed", entry.session_id)

    def _clock(self, session_id: str, at) -> float | None:
        now = self.clock(session_id)
        if now is None:
            return None
        return round(max(0.0, now - (utcnow() - at).total_seconds()), 3)

    # ---- storing --------------------------------------------------------------------------
    def flush(self, final: bool = False) -> None:
        """Store what was gathered, in one transaction: new commands, ends, and the audit events of
        commands that have ended or waited AUDIT_WAIT_SECONDS for it (`final`: all of them, as
        the host stops or hands over)."""
        with self._writing:
            new, ends, before = self._new, self._ends, self._unaudited
            waiting = before + new
            now = utcnow()
            due = [e for e in waiting if final or e.capture != "shell" or e.finished_at is not None
                   or (now - e.at).total_seconds() >= AUDIT_WAIT_SECONDS]  # typed lines never end
            if not new and not ends and not due:
                return
            self._new, self._ends = [], []
            due_ids = {id(e) for e in due}
            self._unaudited = [e for e in waiting if id(e) not in due_ids]
            rows = []
            for entry in new:  # from here on an end is an update, made by the next flush
                entry.stored = True
                rows.append(entry.row())
            ended = [{"id": e.id, "exit_code": e.exit_code, "finished_at": e.finished_at} for e in ends]
            details = [entry.detail() for entry in due]  # what the row says too
            try:
                self._store(due, details, rows, ended)
            except Exception:
                log.exception("storing %d command(s) failed; trying again at the next flush", len(new) + len(ends))
                for entry in new:
                    entry.stored = False
                self._new[:0] = new[-MAX_PENDING:]
                self._ends[:0] = ends
                self._unaudited = before  # the new ones wait again as new

    def _store(self, audited: list[_Entry], details: list[dict], rows: list[dict], ended: list[dict]) -> None:
        table = Command.__table__
        with self.app.app_context():
            try:
                if rows:
                    db.session.execute(table.insert(), rows)
                for end in ended:
                    db.session.execute(table.update().where(table.c.id == end["id"])
                                       .values(exit_code=end["exit_code"], finished_at=end["finished_at"]))
                for entry, detail in zip(audited, details, strict=True):
                    record("command", username=entry.username, workspace_id=entry.workspace_id,
                           session_id=entry.session_id, detail=detail, commit=False)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
