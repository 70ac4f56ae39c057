"""Flask-JWT-Extended's hooks: revoked logins, user lookup, and its failures as the contract's error bodies."""

from aict.api.errors import error_response
from aict.auth.tokens import is_login_revoked, is_token_current
from aict.errors import AppError
from aict.extensions import db, jwt
from aict.models import User


def _error(code: str, message: str):
    return error_response(AppError(code, message))


def register() -> None:
    @jwt.token_in_blocklist_loader
    def _revoked(_header, payload) -> bool:
        if is_login_revoked(payload.get("lid")):
            return True
        return not is_token_current(db.session.get(User, payload.get("sub")), payload)

    @jwt.token_verification_loader
    def _has_expiry(_header, payload) -> bool:
        return "exp" in payload  # tokens without an expiry are never accepted

    @jwt.token_verification_failed_loader
    def _no_expiry(_header, _payload):
        return _error("invalid_token", "The token has no expiry.")

    @jwt.user_lookup_loader
    def _lookup(_header, payload):
        return db.session.get(User, payload["sub"])

    @jwt.user_lookup_error_loader
    def _lookup_failed(_header, _payload):
        return _error("invalid_token", "The user of this token no longer exists.")

    @jwt.expired_token_loader
    def _expired(_header, _payload):
        return _error("token_expired", "The token has expired; log in again or refresh it.")

    @jwt.revoked_token_loader
    def _revoked_response(_header, _payload):
        return _error("token_revoked", "The token was revoked (logged out, or the user's logins were ended).")

    @jwt.invalid_token_loader
    def _invalid(reason):
        # PyJWT's reason, without what its decoder said after it ("Invalid header string: 'utf-8'
        # codec can't decode byte 0xb7 ..."): a client needs the kind of fault, not Python's words
        return _error("invalid_token", f"The token is not valid ({str(reason).split(':')[0][:80]}).")

    @jwt.unauthorized_loader
    def _missing(reason):
        return _error("unauthorized", "Log in first: this needs a bearer token.")

    @jwt.needs_fresh_token_loader
    def _not_fresh(_header, _payload):
        return _error("unauthorized", "This needs a fresh login.")
