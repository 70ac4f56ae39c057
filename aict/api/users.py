"""Users: admins list and create them."""

from flask import Blueprint
from flask_jwt_extended import current_user, jwt_required

from aict.api.validation import json_body
from aict.errors import bad_request, forbidden
from aict.extensions import db
from aict.models import User
from aict.models.users import ROLES
from aict.services.users import create_user
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
    role = text_field(body, "role", required=False, default="user")
    if role not in ROLES:
        raise bad_request("'role' must be 'admin' or 'user'.")
    user = create_user(username, password, role)
    return user.to_dict(), 201
