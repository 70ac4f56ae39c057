"""The one place that maps exceptions to the contract's error bodies."""

import time

from flask import Flask, current_app, jsonify, render_template, request
from flask_jwt_extended import get_current_user
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from aict.api.limits import throttle_audits
from aict.audit.denials import record_denial
from aict.audit.events import record
from aict.db_pool import database_busy
from aict.errors import AppError, code_for_status
from aict.extensions import db, limiter


def error_response(error: AppError, headers: dict | None = None):
    response = jsonify({"error": error.body()})
    response.status_code = error.status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(error: AppError):
        headers = {"Retry-After": str(error.extra.pop("retry_after"))} if "retry_after" in error.extra else None
        if error.status == 403:
            _audit_denial(error.code)
        return error_response(error, headers)

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(error: RateLimitExceeded):
        response = error_response(AppError("throttled", "Too many requests; slow down and try again."))
        current = limiter.current_limit
        retry = max(1, int(current.reset_at - time.time())) if current is not None else 60
        response.headers["Retry-After"] = str(retry)
        key = current.key if current is not None else request.remote_addr or "unknown"
        if throttle_audits.due(key):  # one event per limit and key a minute, however hard it is hit
            record("throttled", detail={"what": "http", "path": request.path[:200], "limit": str(error.limit.limit),
                                        "retry_after": retry})
        return response

    @app.errorhandler(PoolTimeout)
    def _database_busy(_error: PoolTimeout):
        return error_response(database_busy(), {"Retry-After": "1"})

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code == 404 and _wants_page():
            return render_template("not_found.html", message=None), 404
        code = code_for_status(error.code or 500)
        if error.code == 403:
            _audit_denial(code)
        message = {404: "There is nothing at this address.", 413: "The request body is too large.",
                   405: "This method is not allowed here."}.get(error.code, error.description)
        return error_response(AppError(code, message, status=error.code))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error")
        return error_response(AppError("internal_error", "Something went wrong on the server.", status=500))


def _audit_denial(code: str) -> None:
    """Every 403 is a `denied` event (rate-limited): what was refused to whom. Nothing the refused
    request changed is kept (it was refused), so the transaction is rolled back first."""
    db.session.rollback()
    try:
        user = get_current_user()
    except Exception:  # no token, or one that did not load: the IP says who
        user = None
    rule = request.url_rule.rule if request.url_rule is not None else request.path[:200]
    ids = {name: value for name, value in (request.view_args or {}).items()
           if name in ("workspace_id", "session_id") and isinstance(value, str) and len(value) <= 32}
    record_denial("http", username=getattr(user, "username", None), **ids, rule=f"{request.method} {rule}", code=code)


def _wants_page() -> bool:
    """A browser navigating outside the API gets an HTML page, everyone else JSON."""
    if request.path.startswith(("/api/", "/socket.io", "/static/")) or "web" not in current_app.blueprints:
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"
