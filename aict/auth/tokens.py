"""JWT wiring: every token carries its login id (`lid`); logging out revokes the whole login."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from jwt import ExpiredSignatureError, InvalidTokenError

from aict.errors import AppError
from aict.extensions import db
from aict.models import RevokedLogin, User
from aict.models.base import new_id


def _claims(user: User, login_id: str) -> dict:
    # `gen`: the user's login generation; revoke_user_logins bumps it, ending every older token.
    return {"lid": login_id, "gen": user.login_generation or 0}


def issue_tokens(user: User, login_id: str | None = None) -> dict:
    """A new login: an access token and the refresh token that renews it, both carrying its id."""
    login_id = login_id or new_id()
    refresh = create_refresh_token(identity=user.id, additional_claims=_claims(user, login_id))
    return refresh_access(user, login_id) | {"refresh_token": refresh}


def refresh_access(user: User, login_id: str) -> dict:
    """A new access token for an existing login."""
    access = create_access_token(identity=user.id, additional_claims=_claims(user, login_id))
    expires_in = int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
    return {"access_token": access, "token_type": "Bearer", "expires_in": expires_in}


def revoke_login(login_id: str) -> None:
    expires = datetime.now(UTC) + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    if db.session.get(RevokedLogin, login_id) is None:
        db.session.add(RevokedLogin(login_id=login_id, expires_at=expires.replace(tzinfo=None)))
    db.session.commit()


def is_login_revoked(login_id: str | None) -> bool:
    return login_id is None or db.session.get(RevokedLogin, login_id) is not None


def is_token_current(user: User | None, claims: dict) -> bool:
    """False for a token of a deleted or disabled user, or one issued before their logins were revoked."""
    return (user is not None and not user.disabled
            and claims.get("gen", 0) == (user.login_generation or 0))


def revoke_user_logins(user: User) -> None:
    """End every login of this user at once (new password, disabled, demoted): tokens and sockets."""
    user.login_generation = (user.login_generation or 0) + 1
    db.session.commit()
    current_app.extensions["aict"].connections.disconnect_user(user.id)


def user_from_access_token(token: object) -> tuple[User, str]:
    """Validate a raw access token (socket connect); returns the user and the login id."""
    if not isinstance(token, str) or not token:
        raise AppError("unauthorized", "An access token is required.")
    try:
        claims = decode_token(token)
    except ExpiredSignatureError:
        raise AppError("token_expired", "The access token has expired.") from None
    except (InvalidTokenError, ValueError, KeyError) as exc:
        raise AppError("invalid_token", "The access token is not valid.") from exc
    except Exception as exc:  # flask-jwt-extended raises its own types for revoked/wrong type
        raise AppError("invalid_token", "The access token is not valid.") from exc
    if "exp" not in claims:
        raise AppError("invalid_token", "The access token has no expiry.")
    if claims.get("type") != "access":
        raise AppError("invalid_token", "An access token is required, not a refresh token.")
    user = db.session.get(User, claims.get("sub"))
    if user is None:
        raise AppError("invalid_token", "The access token is not valid.")
    if not is_token_current(user, claims):
        raise AppError("token_revoked", "The token was revoked.")
    return user, claims["lid"]
