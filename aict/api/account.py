"""The caller's own account: password, TOTP and page settings (/api/me/password, /api/me/totp, /api/me/settings)."""

from flask import Blueprint, request
from flask_jwt_extended import current_user, get_jwt, jwt_required

from aict.api.validation import json_body
from aict.errors import AppError
from aict.services import totp, user_settings
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


# A settings body is a handful of short values: anything bigger is not one.
MAX_SETTINGS_BYTES = 4096


@bp.get("/me/settings")
@jwt_required()
def get_settings():
    return user_settings.settings_of(current_user)


@bp.put("/me/settings")
@jwt_required()
def put_settings():
    if (request.content_length or 0) > MAX_SETTINGS_BYTES:
        raise AppError("too_large", f"Settings take at most {MAX_SETTINGS_BYTES} bytes.")
    return user_settings.replace_settings(current_user, json_body())
