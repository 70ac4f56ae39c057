"""`authenticate`: a socket renews its access token before it expires (v1.1), so an open page is
never cut off while its login lasts. Only a token of the same user is taken; any refusal leaves the
socket as it was (its old token, and the cut-off when that one expires)."""

from __future__ import annotations

from aict import protocol
from aict.auth.tokens import user_from_access_token
from aict.errors import AppError
from aict.realtime.connections import Connection
from aict.realtime.guard import socket_event


@socket_event(protocol.AUTHENTICATE)
def authenticate(connection: Connection, payload: dict) -> dict:
    user, claims = user_from_access_token(payload.get("token"))
    if user.id != connection.user_id:
        raise AppError("forbidden", "That token is another user's; a socket keeps the user it was opened by.")
    connection.login_id = claims["lid"]
    connection.generation = claims.get("gen", 0)
    connection.expires_at = claims["exp"]
    return {}
