"""Users: admins list, create and change them (role, disabled, password, TOTP reset)."""

from flask import Blueprint
from flask_jwt_extended import current_user, jwt_required

from aict.api.validation import json_body
from aict.errors import forbidden
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
    return [u.to_dict() for u in users]


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
    user, _changed = update_user(current_user, user_id, json_body())
    return user.to_dict()
