"""Who is on each socket: its user, its login (for logout), the sessions it is attached to, and until
when its token holds. The sweep ends sockets whose token expired or whose login ended elsewhere.

With several web processes (REDIS_URL), a login ended or a membership changed in one process is
acted on by every other at once, through a notice on the Socket.IO message queue; the sweep, which
checks the database, still catches what a notice missed (Redis away, or no Redis at all)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask

from aict import protocol
from aict.audit.events import record
from aict.db_pool import release_connection
from aict.extensions import db, socketio
from aict.models import Login, User

if TYPE_CHECKING:
    from aict.realtime.transport.message_queue import RedisQueue

log = logging.getLogger(__name__)


@dataclass
class Connection:
    sid: str
    user_id: str
    username: str
    login_id: str
    ip: str | None
    expires_at: float = float("inf")  # the access token's `exp`; `authenticate` moves it on
    generation: int = 0  # the user's login generation the token was issued under
    attached: set[str] = field(default_factory=set)
    # session id -> the SocketViewer of its attachment, when that compresses: stopped when it ends
    compressing: dict[str, object] = field(default_factory=dict)


class ConnectionRegistry:
    # Expired tokens are cut off within this (the contract allows 60 s); a login ended by another
    # process (logout there, a new password, a disabled user) closes this process's sockets within it too.
    SWEEP_SECONDS = 2.0

    REVOKED = ("token_revoked", "Your login was ended.")

    def __init__(self, app: Flask | None = None, queue: RedisQueue | None = None):
        self._by_sid: dict[str, Connection] = {}
        self.app = app
        self.queue = queue  # the other web processes, when there are any (REDIS_URL)
        if queue is not None:
            queue.notice_handlers["revoke"] = self._revoke_here
            queue.notice_handlers["access"] = self._access_here

    def add(self, connection: Connection) -> None:
        self._by_sid[connection.sid] = connection

    def remove(self, sid: str) -> Connection | None:
        return self._by_sid.pop(sid, None)

    def get(self, sid: str) -> Connection | None:
        return self._by_sid.get(sid)

    def disconnect_login(self, login_id: str) -> int:
        """Close every socket opened with a token of this login (after logout), in every process."""
        return self._revoke_everywhere({"login": login_id, "revoked": True})

    def disconnect_user(self, user_id: str, keep_login: str | None = None, revoked: bool = True) -> int:
        """Close every socket of this user, but those of `keep_login`, in every process: their logins
        were revoked (`token_revoked` first), or with `revoked` False they must only reconnect."""
        return self._revoke_everywhere({"user": user_id, "keep_login": keep_login, "revoked": revoked})

    def _revoke_everywhere(self, notice: dict) -> int:
        closed = self._revoke_here(notice)
        if self.queue is not None:
            self.queue.publish_notice("revoke", notice)
        return closed

    def _revoke_here(self, notice: dict) -> int:
        """This process's part of a revocation: {"login"} or {"user", "keep_login"}, and "revoked"."""
        if "login" in notice:
            sids = [c.sid for c in self._by_sid.values() if c.login_id == notice["login"]]
        else:
            sids = [c.sid for c in self._by_sid.values()
                    if c.user_id == notice["user"] and c.login_id != notice.get("keep_login")]
        code, message = self.REVOKED if notice.get("revoked") else (None, "")
        return self._disconnect(sids, code, message)

    def access_changed(self, user_id: str, workspace_id: str, access: str | None) -> None:
        """A user's membership of a workspace changed (None: removed): their attachments to its live
        terminals follow, in every process."""
        notice = {"user": user_id, "workspace": workspace_id, "access": access}
        self._access_here(notice)
        if self.queue is not None:
            self.queue.publish_notice("access", notice)

    def _access_here(self, notice: dict) -> None:
        if self.app is None:
            return
        state = self.app.extensions["aict"]
        user, workspace, access = notice["user"], notice["workspace"], notice["access"]
        theirs = [connection for connection in self._by_sid.values() if connection.user_id == user]
        if access is None:  # first: the host's answer detaches them (Viewer.send_revoked)
            self._audit_revoked_attachments(theirs, workspace)
        state.terminals.set_access(user, workspace, access)
        for connection in theirs:
            if access is not None:  # their open pages change what they offer (typing, New terminal)
                socketio.emit(protocol.WORKSPACE_ACCESS, {"workspaceId": workspace, "access": access},
                              to=connection.sid, namespace="/")
            else:  # removed: their sockets stop watching the workspace's terminals
                state.watchers.unwatch(connection.sid, workspace)
        state.workspace_watchers.access_changed(user, workspace, access)

    def _audit_revoked_attachments(self, connections: list, workspace_id: str) -> None:
        """The `detach` events of a removed member's sockets here (each process writes its own): the
        audit log says who stopped watching what, and why, as it does for a closed tab."""
        terminals = self.app.extensions["aict"].terminals
        ended = []
        for connection in connections:
            for session_id in sorted(connection.attached):
                terminal = terminals.get(session_id)
                if terminal is not None and terminal.workspace_id == workspace_id:
                    connection.attached.discard(session_id)  # its socket's disconnect writes no second one
                    ended.append((connection, session_id))
        if not ended:
            return
        with self.app.app_context():
            try:
                for connection, session_id in ended:
                    record("detach", username=connection.username, ip=connection.ip, workspace_id=workspace_id,
                           session_id=session_id, detail={"reason": "access_revoked"}, commit=False)
                db.session.commit()
            except Exception:  # the sockets are detached whatever the database says
                db.session.rollback()
                log.exception("the detach events of a removed member could not be stored")
            finally:
                release_connection()

    @staticmethod
    def _disconnect(sids: list[str], code: str | None = None, message: str = "") -> int:
        for sid in sids:
            if code is not None:
                socketio.emit(protocol.ERROR, {"code": code, "message": message}, to=sid, namespace="/")
            socketio.server.disconnect(sid, namespace="/")
        return len(sids)

    def sweep(self) -> None:
        """Cut off sockets whose access token expired without `authenticate` (their terminals run on),
        and those whose login or user was revoked, wherever that happened."""
        now = time.time()
        expired = [c.sid for c in self._by_sid.values() if c.expires_at <= now]
        if expired:
            self._disconnect(expired, "token_expired",
                             "Your access token expired; reconnect with a new one (your terminals keep running).")
        if self._by_sid and self.app is not None:
            with self.app.app_context():
                revoked = [sid for sid in self._revoked() if sid not in expired]
                release_connection()
            if revoked:
                self._disconnect(revoked, *self.REVOKED)

    def _revoked(self) -> list[str]:
        connections = list(self._by_sid.values())
        ended: set[str] = set()
        login_ids = sorted({c.login_id for c in connections})
        user_ids = sorted({c.user_id for c in connections})
        current: dict[str, tuple[int, bool]] = {}
        for chunk in _chunks(login_ids):
            live = set(db.session.execute(db.select(Login.id).where(Login.id.in_(chunk),
                                                                  Login.revoked_at.is_(None))).scalars())
            ended.update(set(chunk) - live)
        for chunk in _chunks(user_ids):
            rows = db.session.execute(db.select(User.id, User.login_generation, User.disabled)
                                      .where(User.id.in_(chunk)))
            current.update({row.id: (row.login_generation or 0, bool(row.disabled)) for row in rows})
        stale = []
        for c in connections:
            generation, disabled = current.get(c.user_id, (None, True))
            if c.login_id in ended or disabled or generation != c.generation:
                stale.append(c.sid)
        return [sid for sid in stale if sid in self._by_sid]

    def __len__(self) -> int:
        return len(self._by_sid)


def disconnect_quietly(sids: list[str]) -> None:
    """Close these sockets (those gone meanwhile are skipped): their pages reconnect by themselves."""
    for sid in sids:
        try:
            socketio.server.disconnect(sid, namespace="/")
        except Exception:  # gone meanwhile
            pass


def _chunks(ids: list[str], size: int = 500):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
