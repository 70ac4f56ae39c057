"""JWT wiring: every token names its login (`lid`, a `Login` row) and the user's login generation
(`gen`). Logging out ends the login; a new password or a disabled user ends every login at once.

Refresh tokens rotate: each use answers a new one. The one it replaced keeps working until the new
one is first used (two tabs refreshing at once, v1 clients that keep the token they logged in
with); a token older than that, used again, was copied by someone: the whole login ends.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from jwt import ExpiredSignatureError, InvalidTokenError
from sqlalchemy import delete, update

from aict.errors import AppError
from aict.extensions import db
from aict.models import Login, User
from aict.models.base import new_id, utcnow


class RefreshTokenReused(AppError):
    """A rotated-out refresh token came back after its successor was used: its login is ended."""

    def __init__(self, login_id: str):
        super().__init__("token_revoked", "This refresh token was already replaced; the login has been "
                                          "ended because a copy of it was used. Log in again.")
        self.login_id = login_id


def _claims(user: User, login_id: str) -> dict:
    # `gen`: the user's login generation; revoke_user_logins bumps it, ending every older token.
    return {"lid": login_id, "gen": user.login_generation or 0}


def start_login(user: User, ip: str | None = None, user_agent: str | None = None) -> tuple[str, dict]:
    """A new login: its row (whose id is returned), an access token and the refresh token that renews it."""
    now = utcnow()
    login = Login(id=new_id(), user_id=user.id, refresh_jti=new_id(), created_at=now, last_used_at=now,
                  expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
                  ip=(ip or "")[:64] or None, user_agent=(user_agent or "")[:256] or None)
    db.session.add(login)
    user.last_login_at = now
    db.session.commit()
    refresh = _refresh_token(user, login, login.refresh_jti)
    return login.id, access_token_for(user, login.id) | {"refresh_token": refresh}


def access_token_for(user: User, login_id: str) -> dict:
    """A new access token for an existing login."""
    access = create_access_token(identity=user.id, additional_claims=_claims(user, login_id))
    expires_in = int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
    return {"access_token": access, "token_type": "Bearer", "expires_in": expires_in}


def _refresh_token(user: User, login: Login, jti: str) -> str:
    # Every refresh token of a login ends when the login does: rotation does not extend it.
    lifetime = max(login.expires_at - utcnow(), timedelta(seconds=1))
    return create_refresh_token(identity=user.id, expires_delta=lifetime,
                                additional_claims=_claims(user, login.id) | {"jti": jti})


def login_lifetime_left(login_id: str) -> int:
    """Seconds until this login ends (the refresh cookie's Max-Age)."""
    login = db.session.get(Login, login_id)
    return max(0, int((login.expires_at - utcnow()).total_seconds())) if login else 0


def rotate_refresh(user: User, claims: dict) -> dict:
    """A decoded, valid refresh token of `user` → a new access token and the login's next refresh token."""
    login = db.session.get(Login, claims.get("lid"))
    if login is None or login.revoked_at is not None or login.user_id != user.id:
        raise AppError("token_revoked", "This login has ended (logged out or revoked). Log in again.")
    jti = claims.get("jti")
    if jti is not None and jti == login.refresh_jti:
        successor = new_id()
        # Compare-and-set: of two requests racing with the same token one rotates, the other finds
        # its token the previous one and gets the same successor.
        rotated = db.session.execute(
            update(Login).where(Login.id == login.id, Login.refresh_jti == jti)
            .values(previous_jti=jti, refresh_jti=successor, last_used_at=utcnow())).rowcount
        db.session.commit()
        if rotated:
            db.session.expire(login)
            return access_token_for(user, login.id) | {"refresh_token": _refresh_token(user, login, successor)}
        db.session.expire(login)
    if jti is not None and jti == login.previous_jti and login.revoked_at is None:
        login.last_used_at = utcnow()
        successor = login.refresh_jti
        db.session.commit()
        return access_token_for(user, login.id) | {"refresh_token": _refresh_token(user, login, successor)}
    end_login(login.id)
    raise RefreshTokenReused(login.id)


def end_login(login_id: str) -> None:
    """Revoke every token of this login and close its sockets in this process (others notice within
    a sweep: aict/realtime/connections.py)."""
    db.session.execute(update(Login).where(Login.id == login_id, Login.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))
    db.session.commit()
    current_app.extensions["aict"].connections.disconnect_login(login_id)


def forget_ended_logins() -> int:
    """Delete logins past their end (a day late: a missing row is refused like a revoked one)."""
    ended = db.session.execute(delete(Login).where(Login.expires_at < utcnow() - timedelta(days=1))).rowcount
    db.session.commit()
    return ended


def is_login_revoked(login_id: str | None) -> bool:
    """True for a login that was ended, and for one this server never started (no row)."""
    if login_id is None:
        return True
    login = db.session.get(Login, login_id)
    return login is None or login.revoked_at is not None


def is_token_current(user: User | None, claims: dict) -> bool:
    """False for a token of a deleted or disabled user, or one issued before their logins were revoked."""
    return (user is not None and not user.disabled
            and claims.get("gen", 0) == (user.login_generation or 0))


def revoke_user_logins(user: User) -> None:
    """End every login of this user at once (new password, disabled, demoted): tokens and sockets."""
    user.login_generation = (user.login_generation or 0) + 1
    db.session.commit()
    current_app.extensions["aict"].connections.disconnect_user(user.id)


def _decode(token: object, kind: str) -> tuple[User, dict]:
    article = "An" if kind == "access" else "A"
    if not isinstance(token, str) or not token:
        raise AppError("unauthorized", f"{article} {kind} token is required.")
    try:
        claims = decode_token(token)
    except ExpiredSignatureError:
        raise AppError("token_expired", f"The {kind} token has expired.") from None
    except (InvalidTokenError, ValueError, KeyError) as exc:
        raise AppError("invalid_token", f"The {kind} token is not valid.") from exc
    except Exception as exc:  # flask-jwt-extended raises its own types for revoked/wrong type
        raise AppError("invalid_token", f"The {kind} token is not valid.") from exc
    if "exp" not in claims:
        raise AppError("invalid_token", f"The {kind} token has no expiry.")
    if claims.get("type") != kind:
        raise AppError("invalid_token", f"{article} {kind} token is required.")
    user = db.session.get(User, claims.get("sub"))
    if user is None:
        raise AppError("invalid_token", f"The {kind} token is not valid.")
    if not is_token_current(user, claims):
        raise AppError("token_revoked", "The token was revoked.")
    return user, claims


def user_from_access_token(token: object) -> tuple[User, dict]:
    """Validate a raw access token (socket connect, authenticate); returns the user and its claims."""
    user, claims = _decode(token, "access")
    if is_login_revoked(claims.get("lid")):
        raise AppError("token_revoked", "The token was revoked by logging out.")
    return user, claims


def user_from_refresh_token(token: object) -> tuple[User, dict]:
    """Validate a raw refresh token (from the header or the cookie); the login is checked by rotate_refresh."""
    return _decode(token, "refresh")
