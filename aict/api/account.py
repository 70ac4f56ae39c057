"""The caller's own account: password, TOTP and page settings (/api/me/password, /api/me/totp, /api/me/settings)."""

from flask import Blueprint, current_app, request
from flask_jwt_extended import current_user, get_jwt, jwt_required

from aict.api.auth import throttled_login
from aict.api.validation import json_body
from aict.audit.events import record
from aict.errors import AppError
from aict.services import totp, user_settings
from aict.services.users import change_own_password
from aict.validation import text_field

bp = Blueprint("account", __name__)


@bp.post("/me/password")
@jwt_required()
def change_password():
    """A wrong current password counts as a failed login of the username (audited, and locking it
    as logins do): a stolen session must not be a way to guess the password at the API's rate."""
    body = json_body()
    current = text_field(body, "current_password", max_len=1024)
    new = text_field(body, "new_password", max_len=1024)
    throttle = current_app.extensions["aict"].login_throttle
    username = current_user.username
    wait = throttle.username_wait(username)
    if wait is not None:
        raise throttled_login(username, wait, "username")
    try:
        change_own_password(current_user, get_jwt()["lid"], current, new)
    except AppError as refused:
        if refused.code == "invalid_credentials":
            throttle.failed(username, request.remote_addr or "unknown")
            record("login_failed", username=username, detail={"reason": "password_change"})
        raise
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
