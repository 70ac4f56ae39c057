"""The cookies of the auth endpoints, out of scripts' reach: the page's refresh token and the
trusted-device token. Both HttpOnly, SameSite=Strict, Secure when the request came over TLS (as
the app sees it: through TRUSTED_PROXIES' X-Forwarded-Proto only), and scoped to the paths that
read them. A request that authenticates with the refresh cookie must also pass the CSRF guard."""

from __future__ import annotations

from flask import Response, after_this_request, request

from aict.auth.origins import origin_allowed
from aict.errors import AppError

REFRESH_COOKIE = "aict_refresh"
REFRESH_PATH = "/api/auth"  # refresh and logout (and login, which replaces it)
# Readable by the page, holding nothing secret: whether a refresh cookie was set, so that a page
# opened logged out does not ask for a refresh it knows will fail (a 401 in every console).
LOGIN_HINT_COOKIE = "aict_login"
DEVICE_COOKIE = "aict_device"
DEVICE_PATH = "/api/auth/login"
# A cross-site form cannot send a custom header, and a cross-origin script would need a CORS
# preflight this server never grants; SameSite=Strict keeps the cookie off cross-site requests too.
CSRF_HEADER = "X-Requested-With"


def _attributes(path: str) -> dict:
    return {"path": path, "secure": request.is_secure, "httponly": True, "samesite": "Strict"}


def set_refresh_cookie(response: Response, token: str, max_age: int) -> None:
    response.set_cookie(REFRESH_COOKIE, token, max_age=max_age, **_attributes(REFRESH_PATH))
    response.set_cookie(LOGIN_HINT_COOKIE, "1", max_age=max_age, **_hint_attributes())


def _hint_attributes() -> dict:
    return {"path": "/", "secure": request.is_secure, "httponly": False, "samesite": "Strict"}


def clear_refresh_cookie_afterwards() -> None:
    """Whatever this request answers, error or not, the browser drops its refresh cookie."""

    @after_this_request
    def _clear(response: Response) -> Response:
        response.delete_cookie(REFRESH_COOKIE, **_attributes(REFRESH_PATH))
        response.delete_cookie(LOGIN_HINT_COOKIE, **_hint_attributes())
        return response


def set_device_cookie(response: Response, token: str, max_age: int) -> None:
    response.set_cookie(DEVICE_COOKIE, token, max_age=max_age, **_attributes(DEVICE_PATH))


def refresh_cookie() -> str | None:
    """The refresh cookie's token, once the request has passed the CSRF guard; None without one."""
    token = request.cookies.get(REFRESH_COOKIE)
    if not token:
        return None
    if not request.headers.get(CSRF_HEADER) or not origin_allowed(request.headers.get("Origin")):
        raise AppError("forbidden", f"A request that uses the login cookie must come from this site's "
                                    f"pages (with an {CSRF_HEADER} header).")
    return token


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer` header; None without the header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AppError("unauthorized", "Log in first: this needs a bearer token.")
    return token.strip()
