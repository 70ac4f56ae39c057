"""A web process's sessions service: records from the database, live terminals from the host."""

from __future__ import annotations

import logging

from flask import Flask

from aict.db_pool import release_connection
from aict.errors import AppError
from aict.host.client import RemoteTerminal, RemoteTerminals
from aict.models import TerminalSession, User, Workspace
from aict.services.sessions import list_visible, session_dict
from aict.ssh.keys import BadKey, parse_host_key

log = logging.getLogger(__name__)
HISTORY_FLUSH_SECONDS = 5


class HostedSessions:
    """What the edges ask of terminal sessions, when a terminal host runs the terminals."""

    def __init__(self, app: Flask, terminals: RemoteTerminals):
        self.app = app
        self.terminals = terminals

    def create(self, user: User, workspace: Workspace, cols: int, rows: int, name: str | None,
               creator_ip: str | None = None) -> RemoteTerminal:
        user_id, workspace_id = user.id, workspace.id
        release_connection()  # the host may take its SSH connect timeout
        try:
            answer = self.terminals.request("create", user=user_id, workspace=workspace_id, cols=cols, rows=rows,
                                            name=name, ip=creator_ip)
        except AppError as error:
            if error.code == "host_key_unknown":
                self._remember_offer(workspace_id, error.extra.get("host_key"))
            raise
        terminal = self.terminals.get(answer["id"])
        if terminal is None:  # ended in the moment between its start and this answer
            raise AppError("conflict", "The terminal ended as soon as it started.")
        return terminal

    def _remember_offer(self, workspace_id: str, line: str | None) -> None:
        """The host saw the key; trust-host-key is answered here: this process remembers the offer."""
        if not line:
            return
        try:
            key = parse_host_key(line)
        except BadKey:
            return
        self.app.extensions["aict"].host_key_offers.remember(workspace_id, key)

    def kill(self, session_id: str, by: str | None = None, wait: bool = False) -> None:
        release_connection()
        self.terminals.request("kill", session=session_id, by=by, wait=wait)

    def flush_recording(self, session_id: str) -> None:
        release_connection()
        self.terminals.request("flush_recording", session=session_id)

    def processes(self, session_id: str) -> list[dict]:
        """The terminal's process tree, as its host sees it ([] for SSH and ended terminals)."""
        release_connection()  # a tree never sampled is sampled twice, a moment apart
        return self.terminals.request("processes", session=session_id)

    def viewers(self, session_id: str) -> list[dict]:
        release_connection()
        return self.terminals.request("viewers", session=session_id)

    def detach_viewer(self, session_id: str, viewer_id: str) -> dict:
        """Detach one attached socket (AppError not_found when no such viewer); who it was."""
        release_connection()
        return self.terminals.request("detach_viewer", session=session_id, viewer=viewer_id)

    def flush_history(self) -> None:
        """Have the host store the commands it gathered, so that the history read next has them.
        Best effort: without its host, the history is read as stored (the host stores every 0.5 s)."""
        if not self.terminals.ready:
            return
        release_connection()
        try:
            self.terminals.request("flush_history", timeout=HISTORY_FLUSH_SECONDS)
        except AppError as error:
            log.info("reading the history without the host's last commands: %s", error.message)

    def list_visible(self, user: User, workspace_id: str | None = None, status: str | None = None,
                     command: str | None = None, **narrower) -> list[dict]:
        if command:
            self.flush_history()
        return list_visible(self.terminals, user, workspace_id, status, command, **narrower)

    def as_dict(self, row: TerminalSession) -> dict:
        return session_dict(self.terminals, row)
