"""The caller's own account: password and TOTP (POST /api/me/password, /api/me/totp...)."""

from flask import Blueprint
from flask_jwt_extended import current_user, get_jwt, jwt_required

from aict.api.validation import json_body
from aict.services import totp
from aict.services.users import change_own_password
from aict.validation import text_field

bp = Blueprint("account", __name__)


@bp.post("/me/password")
@jwt_required()
def change_password():
    body = json_body()
    current = text_field(body, "current_password", max_len=1024)
    new = text_field(body, "new_password", max_len=1024)
    change_own_password(current_user, get_jwt()["lid"], current, new)
    return "", 204


@bp.post("/me/totp")
@jwt_required()
def enrol_totp():
    return totp.start_enrolment(current_user)


@bp.post("/me/totp/confirm")
@jwt_required()
def confirm_totp():
    totp.confirm_enrolment(current_user, json_body().get("otp"))
    return "", 204


@bp.delete("/me/totp")
@jwt_required()
def turn_off_totp():
    totp.turn_off(current_user, json_body().get("otp"))
    return "", 204
