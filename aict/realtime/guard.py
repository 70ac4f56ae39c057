"""The wrapper every client event goes through: payload shape, throttle, errors as acks."""

from __future__ import annotations

import functools
import logging

from flask import current_app, request
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from aict.errors import AppError, bad_request
from aict.extensions import db, limiter, socketio
from aict.models import User
from aict.realtime.connections import Connection

log = logging.getLogger(__name__)


GUARDED: dict[str, object] = {}  # event name -> its guarded handler (for raw fast paths to fall back on)


class SocketThrottle:
    """Events per connection, counted in the rate-limit storage Flask-Limiter uses."""

    def __init__(self, rate: str):
        self.strategy = FixedWindowRateLimiter(limiter.storage)
        self.item = parse(rate)

    def exceeded(self, sid: str) -> bool:
        return not self.strategy.hit(self.item, "socket", sid)


def _throttled(sid: str) -> bool:
    return current_app.extensions["aict"].socket_rate.exceeded(sid)


THROTTLED = {"ok": False, "error": {"code": "throttled", "message": "Too many events; slow down."}}


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
                return {"ok": False, "error": error.body()}
            except Exception:
                log.exception("socket event %s failed", name)
                db.session.rollback()
                return {"ok": False, "error": {"code": "internal_error",
                                               "message": "Something went wrong on the server."}}

        socketio.on_event(name, wrapper)
        GUARDED[name] = wrapper
        return handler

    return decorate


def current_user_of(connection: Connection) -> User:
    user = db.session.get(User, connection.user_id)
    if user is None:
        raise AppError("unauthorized", "Your account no longer exists.")
    return user


def session_id_of(payload: dict) -> str:
    value = payload.get("sessionId")
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise bad_request("'sessionId' must be a session id string.")
    return value


def with_fast_path(app, name: str, fast_path) -> None:
    """Serve `name` straight from the Socket.IO server: `fast_path(sid, payload)` answers the common
    case without Flask's per-event request context, or returns None to run the guarded handler."""
    guarded = GUARDED[name]

    def handler(sid, payload=None, *_extra):
        answer = fast_path(sid, payload)
        if answer is not None:
            return answer
        with app.request_context(socketio.server.get_environ(sid, namespace="/")):
            request.sid, request.namespace = sid, "/"
            return guarded(payload)

    socketio.server.on(name, handler, namespace="/")
