"""Errors as values at the edges: one exception type carries the contract's code and status."""

from __future__ import annotations

# The status of each code. For a bare HTTP error (werkzeug's 404, 405, ...) the first code listed
# with its status names it.
STATUS_BY_CODE = {
    "bad_request": 400,
    "invalid_otp": 400,
    "unauthorized": 401,
    "invalid_credentials": 401,
    "otp_required": 401,
    "token_expired": 401,
    "token_revoked": 401,
    "invalid_token": 401,
    "forbidden": 403,
    "totp_required": 403,
    "no_shell_account": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "fingerprint_mismatch": 409,
    "last_admin": 409,
    "exists": 409,
    "host_key_unknown": 409,
    "host_key_mismatch": 409,
    "too_large": 413,
    "throttled": 429,
    "database_busy": 503,
    "host_unavailable": 503,
    "host_timeout": 503,
    # An SSH workspace's server failed an HTTP request (its files): the gateway's upstream failed.
    "ssh_unreachable": 502,
    "ssh_dns": 502,
    "ssh_auth_failed": 502,
    "ssh_session_refused": 502,
    "insufficient_storage": 507,
}


def code_for_status(status: int) -> str:
    """The code a bare HTTP error of this status gets (415 and other 4xx without one: bad_request)."""
    for code, known in STATUS_BY_CODE.items():
        if known == status:
            return code
    return "bad_request" if 400 <= status < 500 else "error"


class AppError(Exception):
    """Raised anywhere inside; turned into an HTTP error body or a socket ack by the edge."""

    def __init__(self, code: str, message: str, status: int | None = None, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_BY_CODE.get(code, 400)
        self.extra = extra

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, **self.extra}


def bad_request(message: str) -> AppError:
    return AppError("bad_request", message)


def not_found(what: str = "That") -> AppError:
    return AppError("not_found", f"{what} does not exist or is not visible to you.")


def forbidden(message: str = "You are not allowed to do that.") -> AppError:
    return AppError("forbidden", message)
