"""The Engine.IO handshake's CORS headers name only origins this server accepts.

Flask-SocketIO is given cors_allowed_origins="*" so that engineio never refuses a connection on its
own: the Origin is checked at connect (aict/realtime/connect.py), where a refusal is the
contract's `forbidden_origin` error, not a bare 400. But "*" also made every long-polling response
answer `Access-Control-Allow-Origin: <whatever Origin came>` with credentials allowed. Now those two
headers go only to an Origin that `allowed(origin, environ)` accepts; the rest of engineio's CORS
handling stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable

REFUSED_HEADERS = frozenset({"access-control-allow-origin", "access-control-allow-credentials"})


def limit_to(eio_server, allowed: Callable[[str, dict], bool]) -> None:
    """Wrap `eio_server`'s CORS headers (engineio's Server._cors_headers(environ))."""
    original = eio_server._cors_headers

    def cors_headers(environ: dict) -> list[tuple[str, str]]:
        headers = original(environ)
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not allowed(origin, environ):
            headers = [header for header in headers if header[0].lower() not in REFUSED_HEADERS]
        return headers

    eio_server._cors_headers = cors_headers
