"""The wrapper every client event goes through: payload shape, throttle, errors as acks."""

from __future__ import annotations

import functools
import logging
import time

from flask import current_app, request
from limits import parse
from sqlalchemy.exc import TimeoutError as PoolTimeout

from aict.audit.denials import record_denial
from aict.db_pool import database_busy
from aict.errors import AppError, bad_request
from aict.extensions import db, socketio
from aict.models import User
from aict.realtime.connections import Connection
from aict.realtime.transport.contract_events import THROTTLED
from aict.services.access import plausible_id

log = logging.getLogger(__name__)


class SocketThrottle:
    """Events per connection, in fixed windows counted in this process.

    A socket lives in one process, so its count needs no shared storage (logins, which must be
    counted across workers, use the `limits` storage). `limits`' own MemoryStorage starts a timer
    thread after every pause: ~200 µs per keystroke under gevent, 40% of the server's part of an echo.
    """

    def __init__(self, rate: str):
        item = parse(rate)
        self.amount, self.seconds = item.amount, item.get_expiry()
        self._windows: dict[str, list] = {}  # sid -> [window end, events in it]

    def exceeded(self, sid: str) -> bool:
        now = time.monotonic()
        window = self._windows.get(sid)
        if window is None or now >= window[0]:
            self._windows[sid] = [now + self.seconds, 1]
            return False
        window[1] += 1
        return window[1] > self.amount

    def forget(self, sid: str) -> None:
        self._windows.pop(sid, None)


def _throttled(sid: str) -> bool:
    return current_app.extensions["aict"].socket_rate.exceeded(sid)


def socket_event(name: str):
    """Register a handler taking (connection, payload) and returning the ack's extra fields."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(payload=None, *_extra):
            try:
                connection = current_app.extensions["aict"].connections.get(request.sid)
                if connection is None:
                    raise AppError("unauthorized", "This connection is not authenticated.")
                if _throttled(request.sid):  # first: a flood of malformed events is throttled too
                    return THROTTLED
                if not isinstance(payload, dict):
                    raise bad_request("The payload must be an object.")
                return {"ok": True, **(handler(connection, payload) or {})}
            except AppError as error:
                if error.status == 403:
                    db.session.rollback()
                    record_denial("socket_event", username=connection.username, event=name, code=error.code,
                                  **_ids_of(payload))
                return {"ok": False, "error": error.body()}
            except PoolTimeout:
                db.session.rollback()
                return {"ok": False, "error": database_busy().body()}
            except Exception:
                log.exception("socket event %s failed", name)
                db.session.rollback()
                return {"ok": False, "error": {"code": "internal_error",
                                               "message": "Something went wrong on the server."}}

        socketio.on_event(name, wrapper)
        return handler

    return decorate


def _ids_of(payload) -> dict:
    """The workspace and session a refused event named, when they look like ids."""
    if not isinstance(payload, dict):
        return {}
    ids = {"workspace_id": payload.get("workspaceId"), "session_id": payload.get("sessionId")}
    return {name: value for name, value in ids.items() if isinstance(value, str) and 0 < len(value) <= 32}


def current_user_of(connection: Connection) -> User:
    user = db.session.get(User, connection.user_id)
    if user is None:
        raise AppError("unauthorized", "Your account no longer exists.")
    return user


def session_id_of(payload: dict) -> str:
    value = payload.get("sessionId")
    if not value or not plausible_id(value):
        raise bad_request("'sessionId' must be a session id string.")
    return value

