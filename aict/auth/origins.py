"""Whose page is asking: a browser's Origin must be this server's own (scheme, host and port the
request reached, as forwarded by a trusted proxy) or one configured in ALLOWED_ORIGINS. Sockets
check it at connect; the cookie-carrying auth endpoints check it too (a guard against CSRF)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _normalise(origin: str) -> str:
    parts = urlsplit(origin.strip().lower())
    port = parts.port and str(parts.port) or _DEFAULT_PORTS.get(parts.scheme, "")
    return f"{parts.scheme}://{parts.hostname}:{port}"


def origin_allowed(origin: str | None) -> bool:
    """No Origin: not a browser, judged by its token. Else it must be this server or configured."""
    if origin is None:
        return True
    try:
        own = _normalise(f"{request.scheme}://{request.host}")
        allowed = {own, *(_normalise(o) for o in current_app.config["AICT"].ALLOWED_ORIGINS)}
        return _normalise(origin) in allowed
    except ValueError:
        return False
