"""POST /api/auth/login|refresh|logout and GET /api/me."""

from flask import Blueprint, current_app, request
from flask_jwt_extended import current_user, get_jwt, jwt_required

from aict.api.validation import json_body
from aict.audit.events import record
from aict.auth.passwords import password_matches
from aict.auth.tokens import issue_tokens, refresh_access, revoke_login
from aict.auth.totp import check_login_otp, totp_required_of
from aict.db_pool import release_connection
from aict.errors import AppError
from aict.extensions import db, limiter
from aict.models import User
from aict.models.base import utcnow
from aict.services.workspaces import may_create_local, may_create_ssh
from aict.validation import text_field

bp = Blueprint("auth", __name__)


def _login_rate() -> str:
    return current_app.config["AICT"].LOGIN_RATE


@bp.post("/auth/login")
@limiter.limit(_login_rate)
def login():
    body = json_body()
    username = text_field(body, "username", max_len=64)
    password = text_field(body, "password", max_len=1024)
    ip = request.remote_addr or "unknown"
    throttle = current_app.extensions["aict"].login_throttle
    wait = throttle.retry_after(username, ip)
    if wait is not None:
        record("throttled", username=username, detail={"what": "login"})
        raise AppError("throttled", f"Too many failed logins; try again in {wait} seconds.",
                       retry_after=wait)
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    release_connection()  # the password check takes ~160 ms in a thread
    if not password_matches(user.password_hash if user else None, password) or user.disabled:
        throttle.failed(username, ip)
        record("login_failed", username=username)
        raise AppError("invalid_credentials", "The username or password is wrong.")
    try:  # True with a valid code: such a login is not held by the username lock
        check_login_otp(user, body.get("otp"))
    except AppError as refused:  # otp_required is no failure; a wrong or used code is one
        if refused.code == "invalid_credentials":
            throttle.failed(username, ip)
            record("login_failed", username=username, detail={"reason": "otp"})
        raise
    throttle.succeeded(username)
    user.last_login_at = utcnow()
    record("login", username=user.username)
    return issue_tokens(user)


@bp.post("/auth/refresh")
@jwt_required(refresh=True)
def refresh():
    return refresh_access(current_user, get_jwt()["lid"])


@bp.post("/auth/logout")
@jwt_required()
def logout():
    login_id = get_jwt()["lid"]
    revoke_login(login_id)
    record("logout", username=current_user.username)
    current_app.extensions["aict"].connections.disconnect_login(login_id)
    return "", 204


@bp.get("/me")
@jwt_required()
def me():
    can = {"create_local_workspace": may_create_local(current_user),
           "create_ssh_workspace": may_create_ssh(current_user)}
    # totp_required: this server wants TOTP of this user (REQUIRE_TOTP_FOR_ADMINS); without it on,
    # only enrolling is allowed.
    return {**current_user.to_dict(), "can": can, "totp_required": totp_required_of(current_user)}
