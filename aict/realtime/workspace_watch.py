"""watch-workspace / unwatch-workspace: live git status and file changes (PROTOCOL v1.1).

The terminal host of this node runs one watcher per watched workspace (aict/watching/) and sends
each of its events once to this process, which hands it to its sockets that watch that workspace
(WorkspaceWatchers). Any member may watch; the socket's watches end with unwatch, a disconnect,
or the user's removal from the workspace's members.
"""

from __future__ import annotations

import gevent
from flask import current_app, request

from aict import protocol
from aict.db_pool import release_connection
from aict.errors import AppError, bad_request
from aict.extensions import socketio
from aict.realtime.connections import Connection, disconnect_quietly
from aict.realtime.guard import current_user_of, socket_event
from aict.services.access import plausible_id, workspace_for

MAX_WATCHED_PER_SOCKET = 16  # a page watches its own workspace; a switcher a few more


class WorkspaceWatchers:
    """Which sockets of this process watch which workspaces; the host sees one watch per socket."""

    def __init__(self, terminals):
        self.terminals = terminals  # the NodeRouter: watches go to this node's host (`local`)
        self._by_workspace: dict[str, set[str]] = {}
        self._by_sid: dict[str, set[str]] = {}
        self._user_of: dict[str, str] = {}
        local = getattr(terminals, "local", None)  # None in the terminal host's own app: it serves no socket
        if local is not None:
            local.on_watch_event = self.deliver
            local.on_watch_lost = self.link_lost

    def watching(self, sid: str) -> set[str]:
        return self._by_sid.get(sid, set())

    def add(self, sid: str, user_id: str, workspace_id: str) -> None:
        self._by_workspace.setdefault(workspace_id, set()).add(sid)
        self._by_sid.setdefault(sid, set()).add(workspace_id)
        self._user_of[sid] = user_id

    def remove(self, sid: str, workspace_id: str, tell_host: bool = True) -> bool:
        """Stop `sid` watching `workspace_id`; False if it did not."""
        workspaces = self._by_sid.get(sid)
        if workspaces is None or workspace_id not in workspaces:
            return False
        workspaces.discard(workspace_id)
        if not workspaces:
            del self._by_sid[sid]
            self._user_of.pop(sid, None)
        sids = self._by_workspace.get(workspace_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del self._by_workspace[workspace_id]
        if tell_host:
            self.terminals.local.notify(op="unwatch_workspace", workspace=workspace_id, key=sid)
        return True

    def forget(self, sid: str) -> None:
        """The socket disconnected."""
        for workspace_id in list(self._by_sid.get(sid, ())):
            self.remove(sid, workspace_id)

    def deliver(self, body: dict) -> None:
        """An event from the host, to every socket of this process that watches its workspace."""
        event = body.get("event")
        if event not in (protocol.WORKSPACE_STATUS, protocol.FILE_CHANGE):
            return
        for sid in list(self._by_workspace.get(body.get("workspace"), ())):
            socketio.server.emit(event, body["payload"], to=sid, namespace="/")

    def access_changed(self, user_id: str, workspace_id: str, access: str | None) -> None:
        """A membership changed; a user removed stops watching, and their sockets are told."""
        if access is not None:
            return
        for sid in [s for s in self._by_workspace.get(workspace_id, ()) if self._user_of.get(s) == user_id]:
            self.remove(sid, workspace_id)
            socketio.server.emit(protocol.ERROR, {"code": "forbidden", "workspaceId": workspace_id,
                                                  "message": "Your access to this workspace was removed."},
                                 to=sid, namespace="/")

    def link_lost(self) -> None:
        """The host restarted and its watches with it: the sockets reconnect and watch again."""
        sids = list(self._by_sid)
        self._by_workspace.clear()
        self._by_sid.clear()
        self._user_of.clear()
        if sids:
            gevent.spawn(disconnect_quietly, sids)


def _watchers() -> WorkspaceWatchers:
    return current_app.extensions["aict"].workspace_watchers


def _workspace_id(payload: dict) -> str:
    value = payload.get("workspaceId")
    if not value or not plausible_id(value):
        raise bad_request("'workspaceId' must be a workspace id string.")
    return value


@socket_event(protocol.WATCH_WORKSPACE)
def watch_workspace(connection: Connection, payload: dict) -> dict:
    workspace_id = _workspace_id(payload)
    user = current_user_of(connection)
    workspace, _level = workspace_for(user, workspace_id)  # any member, viewers too
    watchers = _watchers()
    already = workspace.id in watchers.watching(request.sid)
    if not already and len(watchers.watching(request.sid)) >= MAX_WATCHED_PER_SOCKET:
        raise AppError("throttled", f"A connection watches at most {MAX_WATCHED_PER_SOCKET} workspaces; "
                                    "unwatch one first.")
    username = user.username
    watchers.add(request.sid, connection.user_id, workspace.id)  # before the answer: no event falls between
    release_connection()  # the first status may take the host a few seconds (git in a big repository)
    try:
        status = watchers.terminals.request("watch_workspace", workspace=workspace.id, key=request.sid,
                                            username=username)
    except BaseException:
        if not already:
            watchers.remove(request.sid, workspace.id, tell_host=False)
        raise
    return {"status": status}


@socket_event(protocol.UNWATCH_WORKSPACE)
def unwatch_workspace(connection: Connection, payload: dict) -> dict:
    """Always ok: unwatching what this socket does not watch changes nothing (and tells nothing)."""
    _watchers().remove(request.sid, _workspace_id(payload))
    return {}
