"""Socket connect: a valid access token in `auth`, and a browser Origin that is ours or allowed."""

from __future__ import annotations

import logging

from flask import current_app, request
from flask_socketio import ConnectionRefusedError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from aict.audit.denials import record_denial
from aict.audit.events import record
from aict.auth.origins import origin_allowed
from aict.auth.tokens import user_from_access_token
from aict.auth.totp import must_enrol, totp_required_error
from aict.db_pool import database_busy
from aict.errors import AppError
from aict.extensions import db, socketio
from aict.realtime.connections import Connection

log = logging.getLogger(__name__)


def _refuse(code: str, message: str, **detail):
    """Refuse the connection, audited as `denied` (rate-limited). socket.io clients see the first
    argument as err.message and the second as err.data."""
    record_denial("socket", code=code, **detail)
    raise ConnectionRefusedError(message, {"code": code, "message": message})


@socketio.on("connect")
def on_connect(auth=None):
    origin = request.headers.get("Origin")
    if not origin_allowed(origin):
        _refuse("forbidden_origin", "Connections from this web origin are not allowed.", origin=origin[:200])
    token = auth.get("token") if isinstance(auth, dict) else None
    try:
        user, claims = user_from_access_token(token)
        if must_enrol(user):  # REQUIRE_TOTP_FOR_ADMINS
            raise totp_required_error()
    except PoolTimeout:
        error = database_busy()  # not a refusal of the client: not audited
        raise ConnectionRefusedError(error.message, {"code": error.code, "message": error.message}) from None
    except AppError as error:
        _refuse(error.code, error.message)
    state = current_app.extensions["aict"]
    state.connections.add(Connection(sid=request.sid, user_id=user.id, username=user.username,
                                     login_id=claims["lid"], ip=request.remote_addr,
                                     expires_at=claims["exp"], generation=claims.get("gen", 0)))


@socketio.on("disconnect")
def on_disconnect(*_args):
    state = current_app.extensions["aict"]
    state.socket_rate.forget(request.sid)
    state.watchers.forget(request.sid)
    connection = state.connections.remove(request.sid)
    if connection is None:
        return
    state.workspace_watchers.forget(request.sid)
    for session_id in connection.attached:
        session = state.terminals.get(session_id)
        if session is not None:
            session.detach(request.sid)
    if connection.attached:  # a tab closed, a network lost: who stopped watching what, and when
        try:
            for session_id in sorted(connection.attached):
                session = state.terminals.get(session_id)
                record("detach", username=connection.username, ip=connection.ip,
                       workspace_id=session.workspace_id if session is not None else None, session_id=session_id,
                       detail={"reason": "disconnected"}, commit=False)
            db.session.commit()
        except Exception:  # the socket is gone whatever the database says
            db.session.rollback()
            log.exception("socket %s: its detach events could not be stored", request.sid)
