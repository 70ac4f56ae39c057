"""Socket connect: a valid access token in `auth`, and a browser Origin that is ours or allowed."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from flask_socketio import ConnectionRefusedError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from aict.audit.events import record
from aict.auth.tokens import is_login_revoked, user_from_access_token
from aict.auth.totp import must_enrol, totp_required_error
from aict.db_pool import database_busy
from aict.errors import AppError
from aict.extensions import socketio
from aict.realtime.connections import Connection

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _normalise(origin: str) -> str:
    parts = urlsplit(origin.strip().lower())
    port = parts.port and str(parts.port) or _DEFAULT_PORTS.get(parts.scheme, "")
    return f"{parts.scheme}://{parts.hostname}:{port}"


def origin_allowed(origin: str | None) -> bool:
    """No Origin: not a browser, judged by its token. Else it must be this server or configured."""
    if origin is None:
        return True
    try:
        own = _normalise(f"{request.scheme}://{request.host}")
        allowed = {own, *(_normalise(o) for o in current_app.config["AICT"].ALLOWED_ORIGINS)}
        return _normalise(origin) in allowed
    except ValueError:
        return False


def _refuse(code: str, message: str):
    # socket.io clients see the first argument as err.message and the second as err.data.
    raise ConnectionRefusedError(message, {"code": code, "message": message})


@socketio.on("connect")
def on_connect(auth=None):
    origin = request.headers.get("Origin")
    if not origin_allowed(origin):
        record("denied", ip=request.remote_addr, detail={"what": "socket", "origin": origin[:200]})
        _refuse("forbidden_origin", "Connections from this web origin are not allowed.")
    token = auth.get("token") if isinstance(auth, dict) else None
    try:
        user, login_id = user_from_access_token(token)
        if is_login_revoked(login_id):
            raise AppError("token_revoked", "The token was revoked by logging out.")
        if must_enrol(user):  # REQUIRE_TOTP_FOR_ADMINS
            raise totp_required_error()
    except PoolTimeout:
        error = database_busy()
        _refuse(error.code, error.message)
    except AppError as error:
        _refuse(error.code, error.message)
    state = current_app.extensions["aict"]
    state.connections.add(Connection(sid=request.sid, user_id=user.id, username=user.username,
                                     login_id=login_id, ip=request.remote_addr))


@socketio.on("disconnect")
def on_disconnect(*_args):
    state = current_app.extensions["aict"]
    state.socket_rate.forget(request.sid)
    connection = state.connections.remove(request.sid)
    if connection is None:
        return
    for session_id in connection.attached:
        session = state.terminals.get(session_id)
        if session is not None:
            session.detach(request.sid)
