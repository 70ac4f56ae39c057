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


def _throttled(sid: str) -> bool:
    rate = current_app.extensions["aict"].socket_rate
    if rate is None:
        rate = current_app.extensions["aict"].socket_rate = (
            FixedWindowRateLimiter(limiter.storage), parse(current_app.config["AICT"]["SOCKET_EVENT_RATE"]))
    strategy, item = rate
    return not strategy.hit(item, "socket", sid)


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
                    raise AppError("throttled", "Too many events; slow down.")
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
