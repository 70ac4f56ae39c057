"""Sockets watching a workspace's terminals (`watch-terminals`), and what the host says about terminals.

A page lists a workspace's terminals, most of them not on screen: it watches the workspace to see
what each runs (`terminal-process`) and to hear when a command finishes in one (`terminal-command`).
This process tells the terminal hosts which workspaces any of its sockets watch (the first socket
to watch, the last to stop); the hosts send what concerns those, and it is passed on here to the
sockets attached to the terminal and those watching its workspace, each once.
"""

from __future__ import annotations

from aict.extensions import socketio


class TerminalWatchers:
    def __init__(self, terminals):
        self.terminals = terminals  # the NodeRouter: watch()/unwatch() reach every node's host
        self._by_workspace: dict[str, set[str]] = {}  # workspace id -> watching sids
        self._by_sid: dict[str, set[str]] = {}  # sid -> watched workspace ids

    def watch(self, sid: str, workspace_id: str) -> None:
        sids = self._by_workspace.get(workspace_id)
        if sids is None:
            sids = self._by_workspace[workspace_id] = set()
            self.terminals.watch(workspace_id)
        sids.add(sid)
        self._by_sid.setdefault(sid, set()).add(workspace_id)

    def unwatch(self, sid: str, workspace_id: str) -> None:
        watched = self._by_sid.get(sid)
        if watched is not None:
            watched.discard(workspace_id)
            if not watched:
                del self._by_sid[sid]
        sids = self._by_workspace.get(workspace_id)
        if sids is not None and sid in sids:
            sids.discard(sid)
            if not sids:
                del self._by_workspace[workspace_id]
                self.terminals.unwatch(workspace_id)

    def forget(self, sid: str) -> None:
        """The socket is gone."""
        for workspace_id in list(self._by_sid.get(sid, ())):
            self.unwatch(sid, workspace_id)

    def sids_of(self, workspace_id: str) -> set[str]:
        return self._by_workspace.get(workspace_id, set())

    def watches(self, sid: str, workspace_id: str) -> bool:
        return sid in self._by_workspace.get(workspace_id, ())

    def pass_on(self, terminal, event: str, payload: dict, to_watchers: bool) -> None:
        """Emit what the host said about `terminal` to the sockets attached to it (and, with
        `to_watchers`, those watching its workspace)."""
        targets = set(terminal.viewer_keys())
        if to_watchers:
            targets |= self.sids_of(terminal.workspace_id)
        for sid in targets:
            socketio.server.emit(event, payload, to=sid, namespace="/")
