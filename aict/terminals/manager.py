"""The live terminals of this process and their lifetime policy. Knows no Flask and no database.

terminado's managers are the model: the manager starts, finds, ends and forgets terminals;
what happens around that (rows, audit events, recordings) is given to it as callbacks by the
sessions service (aict.services.sessions). The terminal host will be cut out at this seam.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from aict.errors import AppError
from aict.terminals.backend import Backend
from aict.terminals.live import LiveTerminal, TerminalLimits

log = logging.getLogger(__name__)
SWEEP_SECONDS = 15  # how often the serving process runs TerminalManager.sweep


@dataclass(frozen=True)
class LifetimePolicy:
    idle_timeout: float = 24 * 3600  # a terminal nobody watches is ended after this (0: never)
    retention: float = 1800  # an ended terminal's output stays attachable this long
    max_per_owner: int = 50  # running (and starting) terminals per user


@dataclass(frozen=True)
class _Placement:
    owner_id: str
    workspace_id: str


class TerminalManager:
    def __init__(self, limits: TerminalLimits, policy: LifetimePolicy,
                 on_exit: Callable[[LiveTerminal], None] | None = None):
        self.limits = limits
        self.policy = policy
        self.on_exit = on_exit
        self._terminals: dict[str, LiveTerminal] = {}
        self._placement: dict[str, _Placement] = {}
        self._starting: dict[str, int] = {}  # owner id -> terminals being started
        # owner id -> its running terminals' ids: counting them by walking every terminal held (ended
        # ones too, for their retention) cost ~0.1 ms per 1,000 held, twice on every start
        self._running: dict[str, set[str]] = {}

    # ---- starting ---------------------------------------------------------------------------
    def check_capacity(self, owner_id: str) -> None:
        """AppError too_many_sessions when the owner may start no more terminals."""
        if self.running_of(owner_id) + self._starting.get(owner_id, 0) >= self.policy.max_per_owner:
            raise AppError("too_many_sessions", "You have too many running terminals; close some first.",
                           status=409)

    def start(self, terminal_id: str, backend: Backend, *, owner_id: str, workspace_id: str, cols: int,
              rows: int, before_start: Callable[[LiveTerminal], None] | None = None) -> LiveTerminal:
        """Start a terminal (its backend may take seconds, e.g. an SSH login); AppError if it cannot."""
        self.check_capacity(owner_id)
        terminal = LiveTerminal(terminal_id, backend, cols=cols, rows=rows, limits=self.limits,
                                on_exit=self._ended)
        if before_start is not None:
            before_start(terminal)  # e.g. a recorder, so the first prompt is recorded too
        self._starting[owner_id] = self._starting.get(owner_id, 0) + 1
        try:
            terminal.start()
        finally:
            self._starting[owner_id] -= 1
            if not self._starting[owner_id]:
                del self._starting[owner_id]
        self._terminals[terminal_id] = terminal
        self._placement[terminal_id] = _Placement(owner_id, workspace_id)
        if terminal.running:
            self._running.setdefault(owner_id, set()).add(terminal_id)
        return terminal

    def adopt(self, terminal: LiveTerminal, *, owner_id: str, workspace_id: str) -> None:
        """Take over a running terminal handed over by the previous host (aict.host.handoff)."""
        self._terminals[terminal.id] = terminal
        self._placement[terminal.id] = _Placement(owner_id, workspace_id)
        terminal.on_exit = self._ended
        terminal.start()

    def _ended(self, terminal: LiveTerminal) -> None:
        placement = self._placement.get(terminal.id)
        running = self._running.get(placement.owner_id) if placement is not None else None
        if running is not None:
            running.discard(terminal.id)
            if not running:
                del self._running[placement.owner_id]
        if self.on_exit is not None:
            self.on_exit(terminal)

    # ---- lookup -----------------------------------------------------------------------------
    def get(self, terminal_id: str) -> LiveTerminal | None:
        return self._terminals.get(terminal_id)

    def placement_of(self, terminal_id: str) -> tuple[str, str]:
        """(owner id, workspace id) of a terminal this manager holds."""
        placement = self._placement[terminal_id]
        return placement.owner_id, placement.workspace_id

    def all(self) -> list[LiveTerminal]:
        return list(self._terminals.values())

    def count_running(self) -> int:
        return sum(1 for t in self._terminals.values() if t.running)

    def running_of(self, owner_id: str) -> int:
        return len(self._running.get(owner_id, ()))

    def in_workspace(self, workspace_id: str) -> list[LiveTerminal]:
        return [t for tid, t in self._terminals.items() if self._placement[tid].workspace_id == workspace_id]

    # ---- control ----------------------------------------------------------------------------
    def set_access(self, user_id: str, workspace_id: str, access: str | None) -> list[tuple[str, str]]:
        """Apply a membership change to live attachments; returns (terminal id, viewer key) detached."""
        return [(terminal.id, key) for terminal in self.in_workspace(workspace_id)
                for key in terminal.set_access(user_id, access)]

    def shutdown(self) -> None:
        for terminal in self.all():
            terminal.kill()

    # ---- lifetime ---------------------------------------------------------------------------
    def sweep(self, now: float | None = None) -> list[str]:
        """End idle unwatched terminals; forget ended ones whose retention has passed (their ids)."""
        forgotten = []
        now = time.monotonic() if now is None else now
        idle, retention = self.policy.idle_timeout, self.policy.retention
        for tid, terminal in list(self._terminals.items()):
            if terminal.running and idle and terminal.viewer_count == 0 and now - terminal.last_detached > idle:
                log.info("terminal %s idle for %ss with nobody attached: ending it", tid, idle)
                terminal.kill()
            elif terminal.status == "exited" and terminal.ended and now - terminal.ended > retention:
                self._terminals.pop(tid, None)
                self._placement.pop(tid, None)
                forgotten.append(tid)
        return forgotten
