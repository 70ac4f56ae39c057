"""Long-polling POST bodies past the transport's limits: refused with the connection closed.

engineio refuses a body over `max_http_buffer_size` with a 400 without reading it; gevent then kept
the connection with the rest of the body unread, and the client, still sending into a full socket,
never read the answer (it hung until its own timeout). A body of more packets than engineio decodes
was answered 200 with every packet in it dropped. Both now end the engine.io session, as a
WebSocket that sends too much is closed (1009), and are answered 413 or 400 with `Connection:
close`, the body unread past the limit.
"""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs

RECORD_SEPARATOR = b"\x1e"  # between the packets of an Engine.IO v4 polling body


class PollingLimits:
    """WSGI middleware in front of the Socket.IO app: checks long-polling POSTs before engineio."""

    def __init__(self, app, eio_server, max_bytes: int, max_packets: int):
        self.app, self.eio = app, eio_server
        self.max_bytes, self.max_packets = max_bytes, max_packets

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST" or not environ.get("PATH_INFO", "").startswith("/socket.io"):
            return self.app(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if query.get("transport") != ["polling"]:
            return self.app(environ, start_response)
        sid = (query.get("sid") or [None])[0]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > self.max_bytes:
            return self._refuse(sid, start_response, "413 Request Entity Too Large", "too_large",
                                f"A long-polling request may carry at most {self.max_bytes} bytes.")
        body = environ["wsgi.input"].read(length) if length else b""
        if body.count(RECORD_SEPARATOR) >= self.max_packets:
            return self._refuse(sid, start_response, "400 Bad Request", "bad_request",
                                f"A long-polling request may carry at most {self.max_packets} packets.")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _refuse(self, sid, start_response, status: str, code: str, message: str):
        socket = self.eio.sockets.pop(sid, None) if sid else None
        if socket is not None:  # closed without waiting for a poll to take its CLOSE (none may come)
            socket.close(wait=False, reason=self.eio.reason.SERVER_DISCONNECT)
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                ("Connection", "close")])
        return [body]
