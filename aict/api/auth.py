"""POST /api/auth/login|refresh|logout and GET /api/me.

API clients get both tokens in the JSON body (v1). The page asks for the refresh token as an
HttpOnly cookie instead (`"refresh_cookie": true`) and keeps its access token in memory only.
"""

from flask import Blueprint, current_app, jsonify, request
from flask_jwt_extended import current_user, get_jwt, jwt_required, verify_jwt_in_request

from aict.api.auth_cookies import (
    DEVICE_COOKIE,
    REFRESH_COOKIE,
    bearer_token,
    clear_refresh_cookie_afterwards,
    refresh_cookie,
    set_device_cookie,
    set_refresh_cookie,
)
from aict.api.validation import json_body
from aict.audit.events import record
from aict.auth.devices import device_lifetime_seconds, is_trusted_device, remember_device
from aict.auth.passwords import password_matches
from aict.auth.tokens import (
    RefreshTokenReused,
    end_login,
    login_lifetime_left,
    rotate_refresh,
    start_login,
    user_from_refresh_token,
)
from aict.auth.totp import check_login_otp, totp_required_of
from aict.db_pool import release_connection
from aict.errors import AppError, bad_request
from aict.extensions import db, limiter
from aict.models import User
from aict.services.workspaces import may_create_local, may_create_ssh
from aict.validation import text_field

bp = Blueprint("auth", __name__)


def _login_rate() -> str:
    return current_app.config["AICT"].LOGIN_RATE


def throttled_login(username: str, wait: int, held_by: str) -> AppError:
    """The refusal of a locked login (audited `throttled`): a login, or a password change's check."""
    record("throttled", username=username, detail={"what": "login", "lock": held_by})
    return AppError("throttled", f"Too many failed logins; try again in {wait_text(wait)}.", retry_after=wait)


def wait_text(seconds: int) -> str:
    """"15 minutes", "45 seconds": how long a throttled login waits, as a person says it."""
    if seconds >= 120:
        minutes = -(-seconds // 60)
        return f"{minutes} minutes"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def _may_pass_with_a_code(user: User | None, otp: object) -> bool:
    """While a username is locked, only its own browsers (the device cookie) or the right password
    with a valid one-time code get in: worth checking only for a user with TOTP who sent a code."""
    return user is not None and user.totp_enabled and isinstance(otp, str) and bool(otp)


def _wants_cookie(body: dict) -> bool:
    value = body.get("refresh_cookie", False)
    if not isinstance(value, bool):
        raise bad_request("'refresh_cookie' must be true or false.")
    return value


def _tokens_response(tokens: dict, in_cookie: bool, login_id: str):
    """The JSON answer; in cookie mode the refresh token goes into the cookie, not the body."""
    if not in_cookie:
        return jsonify(tokens)
    response = jsonify({k: v for k, v in tokens.items() if k != "refresh_token"})
    set_refresh_cookie(response, tokens["refresh_token"], login_lifetime_left(login_id))
    return response


@bp.post("/auth/login")
@limiter.limit(_login_rate)
def login():
    body = json_body()
    username = text_field(body, "username", max_len=64)
    password = text_field(body, "password", max_len=1024)
    in_cookie = _wants_cookie(body)
    ip = request.remote_addr or "unknown"
    throttle = current_app.extensions["aict"].login_throttle
    wait = throttle.ip_wait(ip)
    if wait is not None:
        raise throttled_login(username, wait, "ip")
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    device_token = request.cookies.get(DEVICE_COOKIE)
    device_ok = is_trusted_device(user, device_token)
    username_locked = (wait := throttle.username_wait(username)) is not None
    otp = body.get("otp")
    if username_locked and not device_ok and not _may_pass_with_a_code(user, otp):
        throttle.refused(ip)
        raise throttled_login(username, wait, "username")
    release_connection()  # the password check takes ~160 ms in a thread
    if not password_matches(user.password_hash if user else None, password) or user.disabled:
        if username_locked and not device_ok:  # the lock's answer, whatever was wrong: no oracle
            throttle.refused(ip)
            raise throttled_login(username, wait, "username")
        throttle.failed(username, ip)
        record("login_failed", username=username, detail={"reason": "disabled"} if user and user.disabled else None)
        raise AppError("invalid_credentials", "The username or password is wrong.")
    try:
        otp_ok = check_login_otp(user, otp)  # a valid code is used up here
    except AppError as refused:  # otp_required is no failure; a wrong or used code is one
        if refused.code == "invalid_credentials" or username_locked and not device_ok:
            throttle.failed(username, ip)
            record("login_failed", username=username, detail={"reason": "otp"})
            if username_locked and not device_ok:
                raise throttled_login(username, wait, "username") from None
        raise
    throttle.succeeded(username)
    login_id, tokens = start_login(user, ip, request.headers.get("User-Agent"))
    detail = {"known_device": True, "username_locked": username_locked} if device_ok else {}
    if otp_ok and username_locked and not device_ok:
        detail = {"otp": True, "username_locked": True}
    record("login", username=user.username, detail=detail or None)
    if in_cookie:
        _end_replaced_cookie_login()
    response = _tokens_response(tokens, in_cookie, login_id)
    set_device_cookie(response, remember_device(user, device_token), device_lifetime_seconds())
    return response


def _end_replaced_cookie_login() -> None:
    """A new login in a browser that still held one: its cookie is about to be replaced, so the old
    login would live on with nobody holding its token but whoever copied it."""
    try:
        _, claims = user_from_refresh_token(request.cookies.get(REFRESH_COOKIE))
    except AppError:
        return
    end_login(claims["lid"])


@bp.post("/auth/refresh")
def refresh():
    token = bearer_token()
    in_cookie = token is None
    if in_cookie:
        token = refresh_cookie()
        if token is None:
            raise AppError("unauthorized", "Log in first: this needs a refresh token.")
    user = None
    try:
        user, claims = user_from_refresh_token(token)
        tokens = rotate_refresh(user, claims)
    except RefreshTokenReused as reuse:
        record("refresh_reuse", username=user.username, detail={"login_id": reuse.login_id})
        if in_cookie:
            clear_refresh_cookie_afterwards()
        raise
    except AppError:
        if in_cookie:
            clear_refresh_cookie_afterwards()
        raise
    return _tokens_response(tokens, in_cookie, claims["lid"])


@bp.post("/auth/logout")
def logout():
    """The bearer access token's login (v1), or, from the page without one, the refresh cookie's.
    Either way the refresh cookie goes (once the request passed the CSRF guard)."""
    if request.headers.get("Authorization") is not None:
        verify_jwt_in_request()
        user, login_id = current_user, get_jwt()["lid"]
        if request.cookies.get(REFRESH_COOKIE):
            clear_refresh_cookie_afterwards()
    else:
        token = refresh_cookie()
        if token is None:
            raise AppError("unauthorized", "Log in first: this needs a bearer token.")
        clear_refresh_cookie_afterwards()
        user, claims = user_from_refresh_token(token)
        login_id = claims["lid"]
    end_login(login_id)
    record("logout", username=user.username)
    return "", 204


@bp.get("/me")
@jwt_required()
def me():
    can = {"create_local_workspace": may_create_local(current_user),
           "create_ssh_workspace": may_create_ssh(current_user)}
    # totp_required: this server wants TOTP of this user (REQUIRE_TOTP_FOR_ADMINS); without it on,
    # only enrolling is allowed.
    return {**current_user.to_dict(), "can": can, "totp_required": totp_required_of(current_user)}
