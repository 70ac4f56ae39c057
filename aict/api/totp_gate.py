"""REQUIRE_TOTP_FOR_ADMINS over HTTP: an admin without TOTP gets 403 totp_required from every API
endpoint but those needed to enrol, /api/me and logging in and out (sockets: realtime/connect.py)."""

from flask import Flask, request
from flask_jwt_extended import get_current_user, verify_jwt_in_request

from aict.auth.totp import must_enrol, required_for_admins, totp_required_error

OPEN_ENDPOINTS = {"auth.login", "auth.refresh", "auth.logout", "auth.me",
                  "account.enrol_totp", "account.confirm_totp"}


def register(app: Flask) -> None:
    @app.before_request
    def _admins_enrol_first():
        if not required_for_admins() or not request.path.startswith("/api/") or request.endpoint in OPEN_ENDPOINTS:
            return
        try:
            verify_jwt_in_request(optional=True)
            user = get_current_user()
        except Exception:  # a missing, bad or refresh token: the endpoint itself answers as it always does
            return
        if user is not None and must_enrol(user):
            raise totp_required_error()
