"""Users: admins list, create and change them (role, disabled, password, TOTP reset)."""

from flask import Blueprint, current_app
from flask_jwt_extended import current_user, jwt_required

from aict.api.validation import json_body
from aict.audit.events import record
from aict.errors import bad_request, forbidden, not_found
from aict.extensions import db
from aict.models import User
from aict.services.users import create_user, update_user
from aict.validation import text_field

bp = Blueprint("users", __name__)


def _require_admin() -> None:
    if not current_user.is_admin:
        raise forbidden("Only administrators manage users.")


@bp.get("/users")
@jwt_required()
def list_users():
    _require_admin()
    users = db.session.execute(db.select(User).order_by(User.username)).scalars()
    return [_shown(u) for u in users]


def _shown(user: User) -> dict:
    """A user as admins see them: with `login_locked_seconds` while failed logins lock the username."""
    data = user.to_dict()
    wait = current_app.extensions["aict"].login_throttle.username_wait(user.username)
    if wait is not None:
        data["login_locked_seconds"] = wait
    return data


@bp.post("/users")
@jwt_required()
def add_user():
    _require_admin()
    body = json_body()
    username = text_field(body, "username", max_len=64)
    password = text_field(body, "password", max_len=1024)
    role = body.get("role", "user")
    user = create_user(username, password, role if isinstance(role, str) else "", actor=current_user.username)
    return user.to_dict(), 201


@bp.patch("/users/<user_id>")
@jwt_required()
def change_user(user_id: str):
    _require_admin()
    body = json_body()
    unlock = body.pop("unlock", None)
    if unlock is not None and unlock is not True:
        raise bad_request("'unlock' can only be true: it ends the lock that failed logins put on the username.")
    if body or not unlock:
        user, _changed = update_user(current_user, user_id, body)
    else:
        user = db.session.get(User, user_id)
        if user is None:
            raise not_found("That user")
    if unlock or body.get("password") or body.get("disabled") is False:
        # asked for, or a new password, or the account enabled again: failed logins before lock it no more
        current_app.extensions["aict"].login_throttle.clear(user.username)
    if unlock:
        record("user_update", username=current_user.username, detail={"user": user.username, "changed": ["login_lock"]})
    return _shown(user)
