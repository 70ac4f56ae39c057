"""Who is on each socket: its user, its login (for logout), and the sessions it is attached to."""

from __future__ import annotations

from dataclasses import dataclass, field

from aict.extensions import socketio


@dataclass
class Connection:
    sid: str
    user_id: str
    username: str
    login_id: str
    ip: str | None
    attached: set[str] = field(default_factory=set)


class ConnectionRegistry:
    def __init__(self):
        self._by_sid: dict[str, Connection] = {}

    def add(self, connection: Connection) -> None:
        self._by_sid[connection.sid] = connection

    def remove(self, sid: str) -> Connection | None:
        return self._by_sid.pop(sid, None)

    def get(self, sid: str) -> Connection | None:
        return self._by_sid.get(sid)

    def disconnect_login(self, login_id: str) -> int:
        """Close every socket opened with a token of this login (after logout)."""
        return self._disconnect([c.sid for c in self._by_sid.values() if c.login_id == login_id])

    def disconnect_user(self, user_id: str, keep_login: str | None = None) -> int:
        """Close every socket of this user (their logins were revoked), but those of `keep_login`."""
        return self._disconnect([c.sid for c in self._by_sid.values()
                                 if c.user_id == user_id and c.login_id != keep_login])

    @staticmethod
    def _disconnect(sids: list[str]) -> int:
        for sid in sids:
            socketio.server.disconnect(sid, namespace="/")
        return len(sids)

    def __len__(self) -> int:
        return len(self._by_sid)
