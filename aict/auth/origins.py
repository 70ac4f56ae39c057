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
    return origin_allowed_at(origin, request.scheme, request.host, current_app.config["AICT"].ALLOWED_ORIGINS)


def origin_allowed_at(origin: str | None, scheme: str, host: str, configured) -> bool:
    """origin_allowed() for a request that reached `scheme`://`host`, outside a Flask request (the
    Engine.IO handshake's CORS headers are made by the Socket.IO middleware, before Flask)."""
    if origin is None:
        return True
    try:
        allowed = {_normalise(f"{scheme}://{host}"), *(_normalise(o) for o in configured)}
        return _normalise(origin) in allowed
    except ValueError:
        return False
